#!/usr/bin/env python3
"""The DWD + DWS part of `mj run` beside the same tables written by hand, in one run.

    python3 bench/metrics.py [CONSUMERS] [RUNS]     (default 1,000,000 and 5; needs duckdb)

1. Builds `mj` and the `sql_script` example in release (target dir bench/target-release
   unless CARGO_TARGET_DIR is set). The project is examples/meijia's model without its
   asset layer (bench/data/meijia-model).
2. `mj gen` CONSUMERS consumers (cached under bench/data/<consumers>), then one full
   `mj run` (not timed) so that the sources (ods/) and the OneID mapping (oneid/) of
   the business date exist as Parquet.
3. Timed, RUNS times each, in turn (each round starting with the next engine), every
   engine in its own process, each reading the same ods/ and oneid/ Parquet and writing
   its tables as Parquet:
   - mj:          `mj run --reuse` (dimensions, facts, checks and summaries from mj's plans);
   - duckdb:      bench/metrics.sql on DuckDB (Python package);
   - datafusion:  bench/metrics.sql on DataFusion, configured as mj configures it.
   Wall time and peak resident memory (wait4) per process; medians are reported.
4. Checks that the three dws_consumer tables hold the same rows, prints a table and
   writes bench/results/metrics.json.
"""
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
consumers = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
date = "2025-06-30"
target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "bench", "target-release"))
env = dict(os.environ, CARGO_TARGET_DIR=target)

# One build of both, so that they share one feature set (and one build of DataFusion).
subprocess.run(["cargo", "build", "-q", "--release", "-p", "mj-cli", "-p", "mj-runtime",
                "--bin", "mj", "--example", "sql_script"], cwd=ROOT, env=env, check=True)
mj = os.path.join(target, "release", "mj")
sql_script = os.path.join(target, "release", "examples", "sql_script")
# The example's model without its asset layer (tags, audiences, scans, dashboards): the
# benchmark times dimensions, facts, checks and summary tables.
project = os.path.join(ROOT, "bench", "data", "meijia-model")
os.makedirs(project, exist_ok=True)
for f in ("mj.toml", "glossary.mj", "model.mj", "oneid.mj", "sources.mj"):
    with open(os.path.join(ROOT, "examples", "meijia", f)) as src, open(os.path.join(project, f), "w") as dst:
        dst.write(src.read())

data = os.path.join(ROOT, "bench", "data", str(consumers))
out = os.path.join(data, "out")
if not os.path.exists(os.path.join(data, ".done")):
    t = time.time()
    subprocess.run([mj, "gen", os.path.join(ROOT, "examples", "meijia"), "--consumers", str(consumers), "--days", "400",
                    "--seed", "7", "--end", date, "--out", data], check=True)
    print(f"generated {consumers} consumers in {time.time() - t:.1f} s", file=sys.stderr)
    open(os.path.join(data, ".done"), "w").close()
if not os.path.isdir(os.path.join(out, "oneid", "consumer", f"dt={date}")):
    t = time.time()
    subprocess.run([mj, "run", project, "--date", date, "--data", data, "--out", out], check=True)
    print(f"full run in {time.time() - t:.1f} s", file=sys.stderr)

d = dt.date.fromisoformat(date)
day = lambda n: (d - dt.timedelta(days=n - 1)).isoformat()
body = open(os.path.join(ROOT, "bench", "metrics.sql")).read()
for k, v in {"{D}": date, "{NEXT}": (d + dt.timedelta(days=1)).isoformat(),
             "{FROM_MTD}": d.replace(day=1).isoformat(), "{FROM_3}": day(3),
             "{FROM_15}": day(15), "{FROM_30}": day(30), "{FROM_90}": day(90),
             "{FROM_365}": day(365)}.items():
    body = body.replace(k, v)
body = "\n".join(l for l in body.splitlines() if not l.startswith("--"))
tables = [s.split()[2] for s in body.split(";\n") if s.strip().startswith("CREATE TABLE")]
sources = {"ods_pos_order": "ods/pos_order", "ods_app_event": "ods/app_event",
           "ods_erp_store": "ods/erp_store", "ods_erp_category": "ods/erp_category",
           "oneid_consumer": "oneid/consumer"}


def script(engine, dest):
    os.makedirs(dest, exist_ok=True)
    lines = []
    for name, rel in sources.items():
        part = f"{out}/{rel}/dt={date}"
        if engine == "duckdb":
            lines.append(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{part}/*.parquet');")
        else:
            lines.append(f"CREATE EXTERNAL TABLE {name} STORED AS PARQUET LOCATION '{part}/';")
    lines.append(body.strip().rstrip(";") + ";")
    for t in tables:
        f = f"{dest}/{t}.parquet"
        lines.append(f"COPY {t} TO '{f}' (FORMAT parquet);" if engine == "duckdb"
                     else f"COPY {t} TO '{f}' STORED AS PARQUET;")
    path = os.path.join(data, f"{engine}.sql")
    open(path, "w").write("\n".join(lines) + "\n")
    return path


DUCKDB = """
import duckdb, sys
con = duckdb.connect()
con.execute("SET threads = 2")
for s in open(sys.argv[1]).read().split(";\\n"):
    if s.strip():
        con.execute(s)
"""
commands = {
    "mj": [mj, "run", project, "--date", date, "--data", data, "--out", out, "--reuse"],
    "duckdb": [sys.executable, "-c", DUCKDB, script("duckdb", os.path.join(data, "duckdb"))],
    "datafusion": [sql_script, script("datafusion", os.path.join(data, "datafusion"))],
}


def measure(cmd):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - t
    err = p.stderr.read().decode()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{err}")
    return seconds, usage.ru_maxrss / 1024  # KiB -> MiB


results = {k: [] for k in commands}
# Each round starts with another engine, so that none always runs right after the
# same neighbour (whose memory use and file cache it would inherit).
names = list(commands)
for i in range(runs):
    for name in names[i % len(names):] + names[:i % len(names)]:
        results[name].append(measure(commands[name]))
os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
with open(os.path.join(ROOT, "bench", "results", "metrics-raw.json"), "w") as f:
    json.dump(results, f)

import duckdb
con = duckdb.connect()
mine = f"read_parquet('{out}/dws/dws_consumer/dt={date}/*.parquet', hive_partitioning = false)"
same = {}
for engine in ("duckdb", "datafusion"):
    theirs = f"read_parquet('{data}/{engine}/dws_consumer.parquet')"
    q = (f"SELECT (SELECT count(*) FROM (SELECT * FROM {mine} EXCEPT ALL SELECT * FROM {theirs})) + "
         f"(SELECT count(*) FROM (SELECT * FROM {theirs} EXCEPT ALL SELECT * FROM {mine}))")
    same[engine] = con.execute(q).fetchone()[0] == 0
rows = con.execute(f"SELECT count(*) FROM {mine}").fetchone()[0]
facts = {t: con.execute(f"SELECT count(*) FROM read_parquet('{out}/dwd/{t}/dt={date}/*.parquet', hive_partitioning = false)").fetchone()[0]
         for t in ("pay_order", "app_visit")}

summary = {"consumers": consumers, "runs": runs, "dws_consumer_rows": rows, "dwd_rows": facts,
           "same_rows_as_mj": same, "machine_cores": os.cpu_count()}
for name, rs in results.items():
    summary[name] = {"median_seconds": statistics.median(s for s, _ in rs),
                     "median_peak_mib": statistics.median(m for _, m in rs),
                     "seconds": [round(s, 3) for s, _ in rs]}
for peer in ("duckdb", "datafusion"):
    summary[f"mj_over_{peer}"] = summary["mj"]["median_seconds"] / summary[peer]["median_seconds"]
    summary[f"mj_memory_over_{peer}"] = summary["mj"]["median_peak_mib"] / summary[peer]["median_peak_mib"]
os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
with open(os.path.join(ROOT, "bench", "results", "metrics.json"), "w") as f:
    json.dump(summary, f, indent=2)
print(f"{consumers} consumers; dwd rows {facts}; dws_consumer {rows} rows; same rows as mj: {same}")
print(f"{'engine':<12}{'median s':>10}{'peak MiB':>10}")
for name in commands:
    print(f"{name:<12}{summary[name]['median_seconds']:>10.2f}{summary[name]['median_peak_mib']:>10.0f}")
for peer in ("duckdb", "datafusion"):
    print(f"mj / {peer}: time {summary[f'mj_over_{peer}']:.2f}x, memory {summary[f'mj_memory_over_{peer}']:.2f}x")
