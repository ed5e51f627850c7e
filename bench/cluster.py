#!/usr/bin/env python3
"""The example on one machine against a Ballista cluster on the same machine, in one run.

    python3 bench/cluster.py [CONSUMERS] [RUNS]     (default 1,000,000 and 3)

1. Builds `mj` in release (CARGO_TARGET_DIR, or target/).
2. `mj gen` CONSUMERS consumers over 30 days (cached under bench/data/cluster-<consumers>).
3. Starts `mj scheduler` and two `mj executor`s on free loopback ports (each executor
   takes one task at a time: two cores, two tasks, as the local run's two partitions).
4. RUNS rounds, each one `mj run` of examples/meijia locally, one with `--cluster`, and
   one with `--cluster` and `[oneid] engine = "cluster"` (OneID's linking as Ballista
   jobs; the order rotates), every run from scratch into its own folder.
5. From the manifests: the median wall time of each planned table (`ran_on` cluster) on
   both, the total, and the per-job overhead (the cluster's median extra time on the
   tables of fewer than 1,000 rows, where there is no work to spread); writes
   bench/results/cluster.json. Also OneID's time with each engine, and what the SQL
   engine did (statements, rounds, records resolved in the client).
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
consumers = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
date = "2025-06-30"
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
env = dict(os.environ, CARGO_TARGET_DIR=target)
subprocess.run(["cargo", "build", "-q", "--release", "-p", "mj-cli"], cwd=ROOT, env=env, check=True)
mj = os.path.join(target, "release", "mj")
project = os.path.join(ROOT, "examples", "meijia")

data = os.path.join(ROOT, "bench", "data", f"cluster-{consumers}")
if not os.path.exists(os.path.join(data, ".done")):
    t = time.time()
    subprocess.run([mj, "gen", project, "--consumers", str(consumers), "--days", "30",
                    "--seed", "7", "--end", date, "--out", data], check=True)
    print(f"generated {consumers} consumers in {time.time() - t:.1f} s", file=sys.stderr)
    open(os.path.join(data, ".done"), "w").close()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{proc.args} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{proc.args} does not listen on {port}")


servers = []
logs = os.path.join(data, "logs")
os.makedirs(logs, exist_ok=True)


def start(name, args, port):
    p = subprocess.Popen([mj, *args], stdout=subprocess.DEVNULL,
                         stderr=open(os.path.join(logs, f"{name}.log"), "w"))
    servers.append(p)
    wait_listening(port, p)


sport = free_port()
start("scheduler", ["scheduler", "--bind", "127.0.0.1", "--port", str(sport)], sport)
for i in (1, 2):
    flight, grpc = free_port(), free_port()
    start(f"executor-{i}", ["executor", "--scheduler", f"127.0.0.1:{sport}", "--bind", "127.0.0.1",
                            "--port", str(flight), "--grpc-port", str(grpc), "--concurrency", "1",
                            "--work-dir", os.path.join(data, f"work-{i}")], flight)
url = f"df://127.0.0.1:{sport}"


# The example with OneID on the cluster.
sql_project = os.path.join(data, "project-sql")
shutil.rmtree(sql_project, ignore_errors=True)
os.makedirs(sql_project)
for f in os.listdir(project):
    if f.endswith(".mj"):
        shutil.copy(os.path.join(project, f), sql_project)
with open(os.path.join(sql_project, "mj.toml"), "w") as f:
    f.write(open(os.path.join(project, "mj.toml")).read() + '\n[oneid]\nengine = "cluster"\n')


def run(where):
    out = os.path.join(data, f"out-{where}")
    shutil.rmtree(out, ignore_errors=True)
    cmd = [mj, "run", sql_project if where == "cluster-oneid" else project,
           "--date", date, "--data", data, "--out", out]
    if where != "local":
        cmd += ["--cluster", url]
    t = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seconds = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"{where} run failed:\n{p.stderr.decode()}")
    (manifest,) = [f for f in os.listdir(os.path.join(out, "_runs")) if f.endswith(".json")]
    m = json.load(open(os.path.join(out, "_runs", manifest)))
    return seconds, m


kinds = ["local", "cluster", "cluster-oneid"]
times = {k: [] for k in kinds}
tables = {k: {} for k in kinds}
sql_reports = []
rows = {}
node_of = {}
planned = set()
try:
    for r in range(runs):
        for where in kinds[r % 3:] + kinds[:r % 3]:
            seconds, m = run(where)
            times[where].append(seconds)
            if where == "cluster-oneid":
                sql_reports.append(m["oneid"]["consumer"]["sql"])
            for t in m["tables"]:
                tables[where].setdefault(t["table"], []).append(t["seconds"])
                rows[t["table"]] = t["rows"]
                node_of[t["table"]] = t["node"]
                if t.get("ran_on") == "cluster" and where == "cluster":
                    planned.add(t["table"])
            print(f"round {r + 1}: {where} {seconds:.1f} s", file=sys.stderr)
finally:
    for p in servers:
        p.send_signal(signal.SIGTERM)
    for p in servers:
        p.wait()

med = statistics.median
result = {"consumers": consumers, "runs": runs, "executors": 2, "tasks_per_executor": 1,
          "total_seconds": {w: med(v) for w, v in times.items()}, "tables": []}
print(f"{'table':40} {'rows':>10} {'local s':>9} {'cluster s':>10} {'ratio':>6}")
small = []
for name in sorted(planned):
    a, b = med(tables["local"][name]), med(tables["cluster"][name])
    result["tables"].append({"table": name, "rows": rows[name], "local": a, "cluster": b})
    if rows[name] < 1000:
        small.append(b - a)
    print(f"{name:40} {rows[name]:>10} {a:>9.2f} {b:>10.2f} {b / a if a else 0:>6.2f}")
# A node that writes two tables (an AIPL model and its channel table) is timed once.
nodes = {node_of[n]: n for n in sorted(planned)}.values()
sums = {w: sum(med(tables[w][n]) for n in nodes) for w in tables}
result["planned_seconds"] = sums
result["per_job_overhead_seconds"] = med(small) if small else None
print(f"{'planned nodes':40} {'':>10} {sums['local']:>9.2f} {sums['cluster']:>10.2f} "
      f"{sums['cluster'] / sums['local']:>6.2f}")
print(f"{'whole run':40} {'':>10} {result['total_seconds']['local']:>9.2f} "
      f"{result['total_seconds']['cluster']:>10.2f} "
      f"{result['total_seconds']['cluster'] / result['total_seconds']['local']:>6.2f}")
oneid = {w: med(tables[w]["oneid.consumer"]) for w in kinds}
result["oneid_seconds"] = oneid
result["oneid_sql"] = sql_reports[-1] if sql_reports else None
result["total_seconds"]["cluster-oneid"] = med(times["cluster-oneid"])
print(f"{'oneid.consumer':40} {rows['oneid.consumer']:>10} {oneid['local']:>9.2f} "
      f"{oneid['cluster-oneid']:>10.2f} {oneid['cluster-oneid'] / oneid['local']:>6.2f}"
      "  (cluster: OneID as Ballista jobs)")
print(f"{'whole run, OneID on the cluster':40} {'':>10} {'':>9} "
      f"{result['total_seconds']['cluster-oneid']:>10.2f}")
if sql_reports:
    print(f"SQL engine: {sql_reports[-1]}")
if small:
    print(f"per-job overhead (median over {len(small)} tables < 1,000 rows): {med(small):.2f} s")
os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
json.dump(result, open(os.path.join(ROOT, "bench", "results", "cluster.json"), "w"), indent=2)
