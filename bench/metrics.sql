-- The DWD, DWS and check tables of examples/meijia, written by hand: the peer of the
-- plans mj generates (bench/metrics.py runs it on DuckDB and on DataFusion).
-- {D} is the business date, {NEXT} the day after; {FROM_*} the first day of each period.
-- Each statement ends with `;` at the end of a line.

CREATE TABLE dim_store AS
SELECT store_id, name, city, lat, lon, service_radius_km FROM ods_erp_store ORDER BY store_id;

CREATE TABLE dim_category AS
SELECT category, name, line FROM ods_erp_category ORDER BY category;

CREATE TABLE dwd_pay_order AS
SELECT o.order_id, o.paid_at, i.oneid AS consumer, o.store_id AS store, o.category,
       o.channel, o.amount, o.qty
FROM ods_pos_order o
LEFT JOIN (SELECT record_id, oneid FROM oneid_consumer
           WHERE source = 'pos_order' AND key_first) i ON o.order_id = i.record_id
WHERE o.status = 'paid' AND o.paid_at < TIMESTAMP '{NEXT} 00:00:00'
ORDER BY o.order_id;

CREATE TABLE dwd_app_visit AS
SELECT e.event_id, e.ts, i.oneid AS consumer, e.event, e.style, 1 AS visits
FROM ods_app_event e
LEFT JOIN (SELECT record_id, oneid FROM oneid_consumer
           WHERE source = 'app_event' AND key_first) i ON e.event_id = i.record_id
WHERE e.ts < TIMESTAMP '{NEXT} 00:00:00'
ORDER BY e.event_id;

CREATE TABLE check_unique AS
SELECT order_id, count(*) AS n FROM dwd_pay_order GROUP BY order_id HAVING count(*) > 1;

CREATE TABLE check_amount AS
SELECT * FROM dwd_pay_order WHERE NOT (amount >= 0);

CREATE TABLE check_qty AS
SELECT * FROM dwd_pay_order WHERE NOT (qty > 0);

CREATE TABLE dws_category_store AS
SELECT category, store,
       sum(amount) FILTER (WHERE paid_at >= TIMESTAMP '{D} 00:00:00') AS pay_amt_1d
FROM dwd_pay_order GROUP BY category, store ORDER BY category, store;

CREATE TABLE dws_store AS
SELECT store, sum(amount) FILTER (WHERE paid_at >= TIMESTAMP '{FROM_MTD} 00:00:00') AS pay_amt_mtd
FROM dwd_pay_order GROUP BY store ORDER BY store;

CREATE TABLE dws_consumer AS
WITH p AS (
  SELECT consumer,
    sum(amount) FILTER (WHERE paid_at >= TIMESTAMP '{FROM_30} 00:00:00') AS pay_amt_30d,
    count(DISTINCT order_id) FILTER (WHERE paid_at >= TIMESTAMP '{FROM_30} 00:00:00') AS pay_ord_cnt_30d,
    sum(amount) FILTER (WHERE paid_at >= TIMESTAMP '{FROM_30} 00:00:00'
                          AND channel IN ('tmall', 'jd', 'wechat_mall', 'douyin_shop')) AS online_pay_amt_30d,
    sum(amount) FILTER (WHERE paid_at >= TIMESTAMP '{FROM_30} 00:00:00' AND channel = 'store') AS offline_pay_amt_30d,
    sum(amount) FILTER (WHERE paid_at >= TIMESTAMP '{FROM_90} 00:00:00' AND o.category = 'sofa') AS sofa_pay_amt_90d,
    sum(amount) FILTER (WHERE paid_at >= TIMESTAMP '{FROM_90} 00:00:00' AND c.line = '卧室') AS bedroom_pay_amt_90d,
    sum(amount) FILTER (WHERE paid_at >= TIMESTAMP '{FROM_365} 00:00:00') AS pay_amt_365d,
    count(DISTINCT order_id) FILTER (WHERE paid_at >= TIMESTAMP '{FROM_365} 00:00:00') AS pay_ord_cnt_365d,
    sum(qty) AS pay_qty_td
  FROM dwd_pay_order o LEFT JOIN dim_category c ON o.category = c.category GROUP BY consumer),
v AS (
  SELECT consumer,
    sum(visits) FILTER (WHERE ts >= TIMESTAMP '{FROM_15} 00:00:00' AND event = 'consult') AS consult_visit_cnt_15d,
    sum(visits) FILTER (WHERE ts >= TIMESTAMP '{FROM_3} 00:00:00') AS visit_cnt_3d
  FROM dwd_app_visit GROUP BY consumer)
SELECT coalesce(p.consumer, v.consumer) AS consumer,
       pay_amt_30d, pay_ord_cnt_30d, online_pay_amt_30d, offline_pay_amt_30d, sofa_pay_amt_90d,
       bedroom_pay_amt_90d, pay_amt_365d, pay_ord_cnt_365d, pay_qty_td, consult_visit_cnt_15d, visit_cnt_3d,
       CAST(pay_amt_30d AS DOUBLE) / nullif(CAST(pay_ord_cnt_30d AS DOUBLE), 0.0) AS aov_30d,
       CAST(online_pay_amt_30d AS DOUBLE) / nullif(CAST(pay_amt_30d AS DOUBLE), 0.0) AS online_rate_30d
FROM p FULL JOIN v ON p.consumer = v.consumer
ORDER BY consumer;
