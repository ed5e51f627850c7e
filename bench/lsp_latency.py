#!/usr/bin/env python3
"""Language-server latency: didChange → publishDiagnostics for one-character edits.

    python3 bench/lsp_latency.py [LINES] [EDITS]     (defaults 10,000 and 100)

Generates a project of about LINES lines (a glossary of category roots, sources, facts,
atomic metrics, one modifier per category, and derived metrics for every category,
atomic metric and period, spread over ten files, plus tags that use them from another
file), starts the release `mj lsp` over stdio, opens one model file and makes EDITS
one-character edits, cycling through three kinds: inside a comment, inside a display
name, and in a derived metric's name (which breaks the naming rule, so the next edit
repairs it). Each edit is timed from writing didChange to reading the
publishDiagnostics for that file. Prints p50 / p90 / max per kind and overall, and
writes bench/results/lsp_latency.json.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
lines_wanted = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
edits = int(sys.argv[2]) if len(sys.argv) > 2 else 100

ATOMICS = ["pay_amt", "pay_ord_cnt", "pay_qty"]
PERIODS = ["1d", "7d", "15d", "30d", "90d", "180d", "365d", "td", "mtd", "ytd"]
per_category = len(ATOMICS) * len(PERIODS) + 2
categories = max(1, lines_wanted // per_category)

work = tempfile.mkdtemp(prefix="mj-lsp-bench-")
def write(name, text):
    with open(os.path.join(work, name), "w") as f:
        f.write(text)

write("mj.toml", "[project]\nname = \"bench\"\n")
cats = [f"c{i}" for i in range(categories)]
write("glossary.mj", "glossary {\n" + "".join(f"  root {c} \"类目{c}\"\n" for c in cats) + "}\n")
write("sources.mj", """source pos_order "门店订单" from parquet("data/pos/*.parquet") {
  order_id  string not null
  member_id string?
  phone     string? pii
  store_id  string not null
  channel   string not null
  category  string
  amount    decimal(18,2) unit currency(CNY)
  qty       int unit count
  status    string
  paid_at   timestamp
}

oneid consumer "消费者" {
  identifier phone normalize phone_cn strong
  identifier member_id strong unique
  link pos_order (member_id, phone)
}

fact pay_order "支付订单" from pos_order where status == "paid" {
  grain order_id
  time paid_at
  entity consumer
  dims { channel, category }
  measures { amount, qty }
}

atomic pay_amt     "支付金额"   = sum(pay_order.amount)
atomic pay_ord_cnt "支付订单数" = count_distinct(pay_order.order_id)
atomic pay_qty     "支付件数"   = sum(pay_order.qty)
""")
files = 10
per_file = (categories + files - 1) // files
model_files = []
for k in range(files):
    chunk = cats[k * per_file:(k + 1) * per_file]
    if not chunk:
        break
    out = [f"// Categories {chunk[0]} to {chunk[-1]}.\n"]
    for c in chunk:
        out.append(f"modifier {c} \"{c}类\" on pay_order = category == \"{c}\"\n")
        for a in ATOMICS:
            for p in PERIODS:
                out.append(f"derived {c}_{a}_{p} \"{c}最近{p}{a}\" = {a}[{p}, {c}] by consumer\n")
        out.append("\n")
    name = f"model_{k}.mj"
    write(name, "".join(out))
    model_files.append(name)
# Tags in another file that use metrics of the first model file.
tag_cats = cats[:min(20, len(cats))]
write("tags.mj", "".join(
    f"tag {c}_level \"{c}档次\" on consumer = case {{\n  {c}_pay_amt_365d >= 10000 => \"高\"\n  else => \"低\"\n}}\n"
    for c in tag_cats))
total_lines = 0
for name in os.listdir(work):
    if name.endswith(".mj"):
        with open(os.path.join(work, name)) as f:
            total_lines += sum(1 for _ in f)

subprocess.run(["cargo", "build", "-q", "--release", "-p", "mj-cli", "--bin", "mj"], cwd=ROOT, check=True)
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
exe = os.path.join(target, "release", "mj")
proc = subprocess.Popen([exe, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)

def send(msg):
    body = json.dumps(msg).encode()
    proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    proc.stdin.flush()

def read():
    length = None
    while True:
        line = proc.stdout.readline()
        if line in (b"\r\n", b"\n"):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(proc.stdout.read(length))

def wait_diagnostics(uri):
    while True:
        m = read()
        if m.get("method") == "textDocument/publishDiagnostics" and m["params"]["uri"] == uri:
            return m["params"]["diagnostics"]

uri_of = lambda name: "file://" + os.path.join(work, name)
send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
      "params": {"processId": None, "rootUri": "file://" + work, "capabilities": {}}})
while "id" not in read():
    pass
send({"jsonrpc": "2.0", "method": "initialized", "params": {}})
target_file = model_files[0]
uri = uri_of(target_file)
with open(os.path.join(work, target_file)) as f:
    text = f.read()
started = time.perf_counter()
send({"jsonrpc": "2.0", "method": "textDocument/didOpen",
      "params": {"textDocument": {"uri": uri, "languageId": "mj", "version": 1, "text": text}}})
first = wait_diagnostics(uri)
open_ms = (time.perf_counter() - started) * 1000
assert first == [], first[:3]

def position(offset):
    line = text.count("\n", 0, offset)
    col = offset - (text.rfind("\n", 0, offset) + 1)
    return {"line": line, "character": len(text[offset - col:offset].encode("utf-16-le")) // 2}

# Edit sites, in the middle of the file.
mid_cat = cats[per_file // 2]
comment_at = text.index("// Categories") + 3
display_at = text.index(f"\"{mid_cat}最近30d") + 1
name_at = text.index(f"derived {mid_cat}_pay_amt_30d ") + len(f"derived {mid_cat}_pay_amt_")
kinds = {"comment": [], "display": [], "name": []}
version = 1
broken = False
for i in range(edits):
    kind = ["comment", "display", "name"][i % 3]
    version += 1
    if kind == "comment":
        change = {"range": {"start": position(comment_at), "end": position(comment_at + 1)},
                  "text": "C" if text[comment_at] != "C" else "a"}
    elif kind == "display":
        ch = text[display_at]
        change = {"range": {"start": position(display_at), "end": position(display_at + 1)},
                  "text": "x" if ch != "x" else ch.upper()}
    else:
        # `…_30d` ↔ `…_31d`: a name the naming rule rejects, then the right one again.
        change = {"range": {"start": position(name_at), "end": position(name_at + 1)},
                  "text": "3" if broken else "4"}
    start, end = change["range"]["start"], change["range"]["end"]
    # Keep our copy of the text in step (offsets are ASCII here except display names).
    s = {"comment": comment_at, "display": display_at, "name": name_at}[kind]
    text = text[:s] + change["text"] + text[s + 1:]
    t0 = time.perf_counter()
    send({"jsonrpc": "2.0", "method": "textDocument/didChange",
          "params": {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]}})
    diags = wait_diagnostics(uri)
    kinds[kind].append((time.perf_counter() - t0) * 1000)
    if kind == "name":
        broken = not broken
        assert (len(diags) > 0) == broken, (broken, diags[:2])
send({"jsonrpc": "2.0", "id": 99, "method": "shutdown"})
send({"jsonrpc": "2.0", "method": "exit"})
proc.wait(timeout=30)

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

every = [x for v in kinds.values() for x in v]
result = {"lines": total_lines, "files": len(model_files) + 3, "derived_metrics": categories * len(ATOMICS) * len(PERIODS),
          "edits": edits, "open_ms": round(open_ms, 1),
          "p50_ms": round(statistics.median(every), 2), "p90_ms": round(pct(every, 90), 2), "max_ms": round(max(every), 2)}
for k, v in kinds.items():
    result[k] = {"p50_ms": round(statistics.median(v), 2), "p90_ms": round(pct(v, 90), 2)}
print(f"{total_lines} lines in {result['files']} files; first diagnostics after didOpen {open_ms:.0f} ms")
print(f"{'edit':<10}{'p50 ms':>10}{'p90 ms':>10}")
for k, v in kinds.items():
    print(f"{k:<10}{result[k]['p50_ms']:>10}{result[k]['p90_ms']:>10}")
print(f"{'all':<10}{result['p50_ms']:>10}{result['p90_ms']:>10}   (max {result['max_ms']})")
os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
with open(os.path.join(ROOT, "bench", "results", "lsp_latency.json"), "w") as f:
    json.dump(result, f, indent=2)
