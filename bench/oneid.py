#!/usr/bin/env python3
"""OneID beside DuckDB doing the same work from the same raw rows, measured in one run.

    python3 bench/oneid.py [CONSUMERS] [RUNS]   (default 400,000 and 3; needs `pip install duckdb`)

1. `mj gen examples/meijia --consumers CONSUMERS --days 365 --seed 1` (kept in the temp
   folder for the next run): about 10 million rows for 400,000 consumers over the four
   sources the example's `oneid consumer` links (CRM members, POS orders, app events,
   media touches), their identifiers written as real systems write them.
2. mj: the `bench_oneid` example of mj-runtime (release), RUNS fresh processes. Each reads
   those sources as `mj run` does (not timed), then times what the OneID node computes from
   the rows: normalization, fingerprint -> dense id mapping, union-find with every guard,
   stable ids. Each process also times a second resolution (reported beside it).
3. DuckDB: `bench/oneid_duckdb.py`, RUNS fresh processes, 2 threads. Each loads the same
   raw identifier columns of the same accepted rows (not timed), then times in SQL the
   normalization as mj normalizes (phone_cn, email, trim, openid scoped by appid), the
   guards SQL can express (the reject list, `reject frequent above 50`), dense ids, and
   large-star / small-star rounds to convergence.
4. Both figures are medians. Prints what each side computed (rows, links, people or
   components) and the ratio, and writes bench/results/oneid.json. DuckDB's components
   are more merged than mj's people: SQL here has no `unique` member id, no weak-device
   rule, no `max_per_person` or `max_component`.
"""
import json
import os
import subprocess
import sys
import tempfile


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
consumers = int(sys.argv[1]) if len(sys.argv) > 1 else 400_000
n_runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
tmp = tempfile.gettempdir()
data = os.path.join(tmp, f"mj-oneid-gen-{consumers}")

subprocess.run(["cargo", "build", "-q", "--release", "-p", "mj-cli", "-p", "mj-runtime", "--bin", "mj",
                "--example", "bench_oneid"], cwd=ROOT, check=True)
mj_exe = os.path.join(ROOT, "target", "release", "mj")
exe = os.path.join(ROOT, "target", "release", "examples", "bench_oneid")
project = os.path.join(ROOT, "examples", "meijia")
if not os.path.exists(os.path.join(data, "truth", "records.csv")):
    subprocess.run([mj_exe, "gen", project, "--consumers", str(consumers), "--days", "365",
                    "--seed", "1", "--out", data], check=True, capture_output=True)


def median(runs):
    return sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]


runs, warm_runs, sql_runs = [], [], []
for i in range(n_runs):
    # Alternate the engines, each in a fresh process, so that neither always runs on a
    # machine the other has just warmed or loaded.
    out = subprocess.run([exe, project, data, "--runs", "2"], check=True, capture_output=True,
                         text=True).stdout
    first, second = (json.loads(line) for line in out.splitlines())
    runs.append(first)
    warm_runs.append(second)
    out = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "oneid_duckdb.py"), data, "2"],
                         check=True, capture_output=True, text=True).stdout
    sql_runs.append(json.loads(out))
mj, warm, sql = median(runs), median(warm_runs), median(sql_runs)

result = {
    "consumers": consumers,
    "runs": n_runs,
    "rows": mj["rows"],
    "links": mj["links"],
    "records": mj["records"],
    "persons": mj["persons"],
    "mj_seconds": mj["seconds"],
    "mj_links_per_second": mj["links_per_second"],
    "mj_peak_rss_mb": mj["peak_rss_mb"],
    "mj_page_faults": mj["page_faults"],
    "mj_seconds_all": sorted(r["seconds"] for r in runs),
    "mj_phases": mj["phases"],
    "mj_second_run_seconds": warm["seconds"],
    "mj_second_run_seconds_all": sorted(r["seconds"] for r in warm_runs),
    "sql_rows": sql["rows"],
    "sql_links": sql["links"],
    "sql_usable_links": sql["usable_links"],
    "sql_components": sql["components"],
    "sql_rounds": sql["rounds"],
    "sql_seconds": sql["seconds"],
    "sql_seconds_all": sorted(r["seconds"] for r in sql_runs),
    "sql_threads": sql["threads"],
    "ratio": sql["seconds"] / mj["seconds"],
    "duckdb": sql["duckdb"],
}
os.makedirs(os.path.join(ROOT, "bench", "results"), exist_ok=True)
with open(os.path.join(ROOT, "bench", "results", "oneid.json"), "w") as f:
    json.dump(result, f, indent=2)
print(f"{'':30}{'mj OneID':>14}{'DuckDB SQL':>16}")
print(f"{'rows':30}{mj['rows']:>14,}{sql['rows']:>16,}")
print(f"{'identifier links':30}{mj['links']:>14,}{sql['links']:>16,}")
print(f"{'people / components':30}{mj['persons']:>14,}{sql['components']:>16,}")
print(f"{f'seconds (median of {n_runs})':30}{mj['seconds']:>14.2f}{sql['seconds']:>16.2f}")
print(f"{'links per second':30}{mj['links_per_second']:>14,.0f}{mj['links'] / sql['seconds']:>16,.0f}")
print(f"{'second run in a process':30}{warm['seconds']:>14.2f}{'':>16}")
print(f"{'peak memory (MB)':30}{mj['peak_rss_mb']:>14,.0f}{'':>16}")
print(f"ratio (DuckDB time / mj time): {result['ratio']:.1f}x; SQL rounds: {sql['rounds']}")
print("DuckDB: normalization, reject list, frequency cut, components; no unique / weak / "
      "max_per_person / max_component guards, no stable ids")
