#!/usr/bin/env python3
"""DuckDB doing what mj's OneID node does, from the same raw identifier rows.

    python3 bench/oneid_duckdb.py DATA [THREADS]

Run by bench/oneid.py, one fresh process per measurement. Loads (not timed) the raw
identifier columns of the four sources the example's `oneid consumer` links, from the
files `mj gen` wrote under DATA, keeping the rows `mj run` accepts (the planted bad rows
fail the same casts). Then times, in SQL: each identifier normalized as mj normalizes it
(`phone_cn`, `email`, trim; `openid` scoped by `appid`), the guards SQL can express (the
`reject phone (...)` list and `reject frequent above 50`, counted in distinct records as
mj counts them),
dense ids for rows and values, and large-star / small-star rounds to convergence: the
connected components of rows and values. Not expressed: `unique` member ids, weak devices
and `max_per_person`, `max_component`, stable ids. Prints one JSON object.
"""
import json
import os
import sys
import time

import duckdb

data = sys.argv[1]
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
con = duckdb.connect()
con.execute(f"SET threads = {threads}")


def path(*parts):
    return os.path.join(data, *parts).replace("'", "''")


# Loading: the identifier columns of accepted rows, as text.
con.execute(f"""CREATE TABLE crm AS
SELECT member_id, phone, email FROM read_csv('{path('data', 'crm', 'member.csv')}', header = true, all_varchar = true)
WHERE member_id IS NOT NULL
  AND (birthday IS NULL OR try_cast(birthday AS DATE) IS NOT NULL)
  AND (joined_at IS NULL OR try_cast(joined_at AS TIMESTAMP) IS NOT NULL)""")
con.execute(f"""CREATE TABLE pos AS
SELECT order_id, member_id, phone FROM read_parquet('{path('data', 'pos', 'orders', '*.parquet')}')
WHERE order_id IS NOT NULL AND store_id IS NOT NULL AND channel IS NOT NULL""")
con.execute(f"""CREATE TABLE app AS
SELECT event_id, device_id, member_id, openid, appid
FROM read_json('{path('data', 'app', '*.jsonl')}', format = 'newline_delimited',
  columns = {{event_id: 'VARCHAR', device_id: 'VARCHAR', member_id: 'VARCHAR', openid: 'VARCHAR',
             appid: 'VARCHAR', event: 'VARCHAR', ts: 'VARCHAR'}})
WHERE event_id IS NOT NULL AND event IS NOT NULL AND try_cast(ts AS TIMESTAMP) IS NOT NULL""")
con.execute(f"""CREATE TABLE media AS
SELECT touch_id, device_id FROM read_csv('{path('data', 'media', '*.csv')}', header = true, all_varchar = true)
WHERE touch_id IS NOT NULL AND platform IS NOT NULL AND kind IS NOT NULL
  AND try_cast(ts AS TIMESTAMP) IS NOT NULL""")
rows = con.execute("SELECT (SELECT count(*) FROM crm) + (SELECT count(*) FROM pos) "
                   "+ (SELECT count(*) FROM app) + (SELECT count(*) FROM media)").fetchone()[0]

# mj's normalizers (runtime/oneid/src/normalize.rs), as macros.
con.execute(r"""CREATE MACRO phone_digits(raw) AS
  regexp_replace(translate(raw, '０１２３４５６７８９', '0123456789'), '[ \-\.\(\)\+\t　]', '', 'g')""")
con.execute(r"""CREATE MACRO phone_cn(raw) AS CASE
  WHEN raw IS NULL OR NOT regexp_full_match(phone_digits(raw), '[0-9]*') THEN NULL
  WHEN (starts_with(ltrim(raw), '+') OR starts_with(phone_digits(raw), '00'))
       AND NOT (starts_with(phone_digits(raw), '86') OR starts_with(phone_digits(raw), '0086')) THEN NULL
  ELSE (SELECT CASE WHEN regexp_full_match(d, '1[3-9][0-9]{9}') THEN d END FROM (SELECT CASE
      WHEN length(phone_digits(raw)) = 15 AND starts_with(phone_digits(raw), '0086') THEN substr(phone_digits(raw), 5)
      WHEN length(phone_digits(raw)) = 13 AND starts_with(phone_digits(raw), '86') THEN substr(phone_digits(raw), 3)
      ELSE phone_digits(raw) END AS d))
  END""")
con.execute(r"""CREATE MACRO email_norm(raw) AS CASE
  WHEN regexp_full_match(trim(raw), '[^@\s]+@[^@\s.][^@\s]*\.[^@\s]*[^@\s.]') THEN lower(trim(raw)) END""")
con.execute("CREATE MACRO trimmed(raw) AS nullif(trim(raw), '')")

TIMED = [
    # Every identifier value of every row, normalized; unusable values dropped.
    """CREATE OR REPLACE TABLE links AS
    WITH raw AS (
      SELECT 'crm_member:' || member_id AS rec, 'member_id' AS ident, trimmed(member_id) AS value FROM crm
      UNION ALL SELECT 'crm_member:' || member_id, 'phone', phone_cn(phone) FROM crm
      UNION ALL SELECT 'crm_member:' || member_id, 'email', email_norm(email) FROM crm
      UNION ALL SELECT 'pos_order:' || order_id, 'member_id', trimmed(member_id) FROM pos
      UNION ALL SELECT 'pos_order:' || order_id, 'phone', phone_cn(phone) FROM pos
      UNION ALL SELECT 'app_event:' || event_id, 'device_id', trimmed(device_id) FROM app
      UNION ALL SELECT 'app_event:' || event_id, 'member_id', trimmed(member_id) FROM app
      UNION ALL SELECT 'app_event:' || event_id, 'openid', trimmed(appid) || '/' || trimmed(openid) FROM app
      UNION ALL SELECT 'media_touch:' || touch_id, 'device_id', trimmed(device_id) FROM media)
    SELECT rec, ident || ':' || value AS val FROM raw WHERE value IS NOT NULL""",
    # The guards: the reject list, and values shared by more than 50 records. A record
    # is what mj counts: a source's rows with the same normalized values are one (a
    # device's anonymous touches are one record however many rows they are).
    """CREATE OR REPLACE TABLE usable AS
    WITH recs AS (
      SELECT rec, split_part(rec, ':', 1) || '|' || string_agg(val, '|' ORDER BY val) AS record
      FROM links GROUP BY rec),
    frequent AS (
      SELECT val FROM links JOIN recs USING (rec) GROUP BY val HAVING count(DISTINCT record) > 50)
    SELECT rec, val FROM links
    WHERE val NOT IN ('phone:13800000000', 'phone:00000000000')
      AND val NOT IN (SELECT val FROM frequent)""",
    # Dense ids for rows and values, and the edges between them.
    """CREATE OR REPLACE TABLE nodes AS
    SELECT name, (row_number() OVER ()) - 1 AS id FROM (
      SELECT DISTINCT 'v|' || val AS name FROM usable)""",
    """CREATE OR REPLACE TABLE rownodes AS
    SELECT name, (SELECT count(*) FROM nodes) + (row_number() OVER ()) - 1 AS id FROM (
      SELECT DISTINCT rec AS name FROM usable)""",
    """CREATE OR REPLACE TABLE cur AS
    SELECT r.id::UBIGINT AS u, n.id::UBIGINT AS v FROM usable
    JOIN rownodes r ON r.name = usable.rec JOIN nodes n ON n.name = 'v|' || usable.val""",
]
LARGE = """CREATE OR REPLACE TABLE e AS
WITH d AS (SELECT u, v FROM cur UNION SELECT v AS u, u AS v FROM cur),
     m AS (SELECT u, LEAST(u, MIN(v)) AS m FROM d GROUP BY u)
SELECT DISTINCT d.v AS u, m.m AS v FROM d JOIN m ON d.u = m.u WHERE d.v > d.u"""
SMALL = """CREATE OR REPLACE TABLE e AS
WITH d AS (SELECT GREATEST(u, v) AS u, LEAST(u, v) AS v FROM cur WHERE u <> v),
     m AS (SELECT u, LEAST(u, MIN(v)) AS m FROM d GROUP BY u)
SELECT DISTINCT d.v AS u, m.m AS v FROM d JOIN m ON d.u = m.u WHERE d.v <> m.m
UNION SELECT u, m AS v FROM m WHERE u <> m"""

started = time.perf_counter()
for q in TIMED:
    con.execute(q)
rounds = 0
while True:
    rounds += 1
    before = con.execute("SELECT count(*), sum(hash(u, v)) FROM cur").fetchone()
    con.execute(LARGE)
    con.execute("CREATE OR REPLACE TABLE cur AS SELECT * FROM e")
    con.execute(SMALL)
    con.execute("CREATE OR REPLACE TABLE cur AS SELECT * FROM e")
    after = con.execute("SELECT count(*), sum(hash(u, v)) FROM cur").fetchone()
    if before == after or rounds > 64:
        break
linked = con.execute("""SELECT count(DISTINCT l) FROM (
    SELECT LEAST(u, MIN(v)) AS l FROM (SELECT u, v FROM cur UNION SELECT v, u FROM cur) GROUP BY u)""").fetchone()[0]
seconds = time.perf_counter() - started
# Rows with no usable value are components of their own.
unlinked = rows - con.execute("SELECT count(*) FROM rownodes").fetchone()[0]
print(json.dumps({
    "seconds": seconds,
    "rows": rows,
    "links": con.execute("SELECT count(*) FROM links").fetchone()[0],
    "usable_links": con.execute("SELECT count(*) FROM usable").fetchone()[0],
    "rounds": rounds,
    "components": linked + unlinked,
    "threads": threads,
    "duckdb": duckdb.__version__,
}))
