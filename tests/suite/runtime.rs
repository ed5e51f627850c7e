//! `mj run` end to end: sources and rejects, atomic partitions, manifests, and OneID
//! against ground truth (Febrl and generated data).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, AsArray, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};

use crate::common::{graph, pairwise, partition, repo, rows_text, run, scratch};

/// The batches of one Parquet file.
fn partition_file(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).expect("file");
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .expect("parquet")
        .build()
        .expect("reader")
        .map(|b| b.expect("batch"))
        .collect()
}

/// (source:record_id, oneid) for every row of an entity's mapping.
fn mapping(out: &Path, entity: &str, date: &str) -> Vec<(String, String)> {
    let mut rows = Vec::new();
    for b in partition(&out.join(format!("oneid/{entity}/dt={date}"))) {
        let source = b.column(0).as_string::<i32>();
        let id = b.column(1).as_string::<i32>();
        let oneid = b.column(3).as_string::<i32>();
        for i in 0..b.num_rows() {
            rows.push((
                format!("{}:{}", source.value(i), id.value(i)),
                oneid.value(i).to_string(),
            ));
        }
    }
    rows
}

#[test]
fn febrl_pairwise_f1_beats_exact_rules_on_every_dataset() {
    let dir = repo().join("examples/febrl");
    let g = graph(&dir);
    let out = scratch("febrl");
    let data = repo().join("examples/febrl/data");
    let (manifest, result) = run(&g, &data, &out, "2025-01-01");
    result.expect("the Febrl project runs");
    for n in 1..=3 {
        let pred = mapping(&out, &format!("person{n}"), "2025-01-01");
        // Ground truth, from the data set itself (not from mj's output): rec-<k>-org
        // and rec-<k>-dup-<i> are one person.
        let text = std::fs::read_to_string(data.join(format!("dataset{n}.csv"))).expect("Febrl");
        let truth: Vec<(String, String)> = text
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let rec = l.split(',').next().expect("rec_id").trim();
                (
                    format!("febrl{n}:{rec}"),
                    rec.split('-').nth(1).expect("rec-<k>-…").to_string(),
                )
            })
            .collect();
        let mut sizes = std::collections::HashMap::new();
        for (_, person) in &truth {
            *sizes.entry(person.as_str()).or_insert(0u64) += 1;
        }
        let true_pairs: u64 = sizes.values().map(|n| n * (n - 1) / 2).sum();
        assert_eq!(
            true_pairs,
            [500, 1934, 6538][n - 1],
            "the published duplicate pairs"
        );
        let (p, r, f1) = pairwise(&pred, &truth);
        eprintln!("febrl dataset{n}: precision {p:.4} recall {r:.4} F1 {f1:.4}");
        assert!(
            f1 >= 0.99,
            "dataset{n}: F1 {f1:.4} (precision {p:.4}, recall {r:.4})"
        );
        assert!(manifest.oneid.contains_key(&format!("person{n}")));
    }
}

const BAD_SPEC: &str = r#"
source member from csv("member.csv", header = true) {
  member_id string not null
  phone     string?
  joined_at timestamp
  points    int
}

source event from ndjson("events/*.jsonl") {
  event_id string not null
  member_id string?
  ts        timestamp not null
}

source orders from parquet("orders.parquet") {
  order_id  string not null
  member_id string?
  phone     string?
  amount    decimal(18,2)
}

oneid person {
  identifier member_id strong unique
  identifier phone     normalize phone_cn

  link member (member_id, phone)
  link event  (member_id)
  link orders (member_id, phone)
}
"#;

fn write_bad_project(dir: &Path) {
    std::fs::write(dir.join("project.mj"), BAD_SPEC).expect("spec");
    std::fs::write(
        dir.join("member.csv"),
        "member_id,phone,joined_at,points\n\
         M1,+86 138 1234 5678,2024-01-01 10:00:00,5\n\
         M2,13912345678,yesterday,3\n\
         ,13700000000,2024-02-01 09:00:00,1\n\
         M4,13600000000,2024-03-01 09:00:00,many\n\
         M5,13500000000\n\
         M6,138-1234-5678,2024-04-01 00:00:00,\n",
    )
    .expect("csv");
    std::fs::create_dir_all(dir.join("events")).expect("events");
    std::fs::write(
        dir.join("events/a.jsonl"),
        "{\"event_id\": \"E1\", \"member_id\": \"M1\", \"ts\": \"2024-05-01 10:00:00\"}\n\
         {\"event_id\": \"E2\", \"member_id\": \"M6\", \"ts\": \"2024-05-01T11:00:00\"}\n\
         not json at all\n\
         {\"event_id\": \"E4\", \"ts\": null}\n",
    )
    .expect("jsonl");
    let schema = Arc::new(Schema::new(vec![
        Field::new("order_id", DataType::Utf8, true),
        Field::new("member_id", DataType::Utf8, true),
        Field::new("phone", DataType::Utf8, true),
        Field::new("amount", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(vec![
                Some("O1"),
                None,
                Some("O3"),
                Some("O4"),
            ])),
            Arc::new(StringArray::from(vec![
                Some("M1"),
                Some("M2"),
                Some("M9"),
                None,
            ])),
            Arc::new(StringArray::from(vec![
                None,
                None,
                None,
                Some("+86-138-1234-5678"),
            ])),
            Arc::new(StringArray::from(vec![
                Some("12.50"),
                Some("3"),
                Some("abc"),
                Some("7.00"),
            ])),
        ],
    )
    .expect("batch");
    mj_runtime::write::write_parquet(&dir.join("orders.parquet"), schema, &[batch])
        .expect("parquet");
}

#[test]
fn bad_rows_are_kept_with_their_reason_and_counts_add_up() {
    let dir = scratch("rejects");
    write_bad_project(&dir);
    let out = dir.join("out");
    let (manifest, result) = run(&graph(&dir), &dir, &out, "2025-01-01");
    result.expect("a run with bad rows succeeds");
    for input in &manifest.inputs {
        assert_eq!(
            input.rows_read,
            input.rows_accepted + input.rows_rejected,
            "{input:?}"
        );
    }
    let counts: Vec<(&str, u64, u64)> = manifest
        .inputs
        .iter()
        .map(|i| (i.source.as_str(), i.rows_accepted, i.rows_rejected))
        .collect();
    assert_eq!(
        counts,
        [("event", 2, 2), ("member", 2, 4), ("orders", 2, 2)],
        "{manifest:#?}"
    );
    let rejects = partition(&out.join("rejects/member/dt=2025-01-01"));
    let reasons: Vec<String> = rejects
        .iter()
        .flat_map(|b| {
            let r = b.column(b.num_columns() - 1).as_string::<i32>();
            (0..b.num_rows())
                .map(|i| r.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "joined_at: cannot read \"yesterday\" as timestamp",
            "member_id: null in a `not null` column",
            "points: cannot read \"many\" as int",
            "line 6: 2 field(s), expected 4",
        ]
    );
    let event_reasons = &manifest
        .inputs
        .iter()
        .find(|i| i.source == "event")
        .expect("event")
        .reject_examples;
    assert!(
        event_reasons[0].starts_with("line 3: not a JSON object"),
        "{event_reasons:?}"
    );
    assert_eq!(event_reasons[1], "ts: null in a `not null` column");
    // The phone written two ways joins the walk-in order O4 to M1; M6 shares the
    // phone but is another member (`unique`), so stays apart.
    let ids = mapping(&out, "person", "2025-01-01");
    let of = |k: &str| ids.iter().find(|(i, _)| i == k).map(|(_, o)| o.clone());
    assert_eq!(of("member:M1"), of("orders:O4"));
    assert_eq!(of("member:M1"), of("event:E1"));
    assert_eq!(of("member:M1"), of("orders:O1"));
    assert_ne!(of("member:M1"), of("member:M6"));
    assert_eq!(manifest.oneid["person"].conflicts, 1);
}

#[test]
fn missing_files_and_wrong_headers_name_the_source_and_file() {
    let dir = scratch("errors");
    write_bad_project(&dir);
    std::fs::remove_file(dir.join("orders.parquet")).expect("rm");
    let (_, result) = run(&graph(&dir), &dir, &dir.join("out"), "2025-01-01");
    let e = result.expect_err("a missing file fails the run").message;
    assert!(
        e.contains("source `orders`") && e.contains("orders.parquet"),
        "{e}"
    );
    assert!(e.contains("no file matches"), "{e}");

    let dir = scratch("header");
    write_bad_project(&dir);
    std::fs::write(
        dir.join("member.csv"),
        "id,phone,joined_at,points\nM1,1,2024-01-01,1\n",
    )
    .expect("csv");
    let (_, result) = run(&graph(&dir), &dir, &dir.join("out"), "2025-01-01");
    let e = result.expect_err("a wrong header fails the run").message;
    assert!(
        e.contains("source `member`") && e.contains("member.csv"),
        "{e}"
    );
    assert!(e.contains("lacks declared column(s) member_id"), "{e}");
}

fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let name = p.strip_prefix(dir).expect("inside").display().to_string();
            if name.starts_with("_runs") || name.starts_with(".staging") {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((name, std::fs::read(&p).expect("file")));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn reruns_give_the_same_files_and_failures_leave_them_intact() {
    let dir = scratch("atomic");
    write_bad_project(&dir);
    let out = dir.join("out");
    let g = graph(&dir);
    run(&g, &dir, &out, "2025-01-01").1.expect("first run");
    let first = snapshot(&out);
    assert!(
        first.len() >= 5,
        "{:?}",
        first.iter().map(|f| &f.0).collect::<Vec<_>>()
    );
    run(&g, &dir, &out, "2025-01-01").1.expect("second run");
    assert_eq!(snapshot(&out), first, "same date twice, same bytes");
    // A run that fails half-way (an unreadable source) changes nothing.
    std::fs::write(dir.join("events/b.jsonl"), "{}\n").expect("ok file");
    std::fs::write(dir.join("orders.parquet"), b"not parquet").expect("broken");
    let (manifest, result) = run(&g, &dir, &out, "2025-01-01");
    assert!(result.is_err());
    assert_eq!(manifest.status, "failed");
    assert_eq!(snapshot(&out), first, "earlier partitions intact");
    let runs = std::fs::read_dir(out.join("_runs"))
        .expect("manifests")
        .count();
    assert_eq!(runs, 3, "every run leaves its manifest");
}

#[test]
fn ids_stay_the_same_on_the_next_day() {
    let dir = scratch("stable");
    write_bad_project(&dir);
    let out = dir.join("out");
    let g = graph(&dir);
    run(&g, &dir, &out, "2025-01-01").1.expect("day 1");
    run(&g, &dir, &out, "2025-01-02").1.expect("day 2");
    assert_eq!(
        mapping(&out, "person", "2025-01-01"),
        mapping(&out, "person", "2025-01-02")
    );
    let changes = partition(&out.join("oneid/person_changes/dt=2025-01-02"));
    assert_eq!(changes.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
    // A new record on day 3 is a new person; everyone else keeps their id.
    std::fs::write(
        dir.join("events/c.jsonl"),
        "{\"event_id\": \"E9\", \"member_id\": \"M9\", \"ts\": \"2024-06-01 10:00:00\"}\n",
    )
    .expect("jsonl");
    run(&g, &dir, &out, "2025-01-03").1.expect("day 3");
    let day3 = mapping(&out, "person", "2025-01-03");
    let day1 = mapping(&out, "person", "2025-01-01");
    for (item, id) in &day1 {
        let now = day3.iter().find(|(i, _)| i == item).map(|(_, o)| o);
        assert_eq!(now, Some(id), "{item} keeps its id");
    }
    let changes = partition(&out.join("oneid/person_changes/dt=2025-01-03"));
    let kinds: Vec<String> = changes
        .iter()
        .flat_map(|b| {
            let k = b.column(0).as_string::<i32>();
            (0..b.num_rows())
                .map(|i| k.value(i).to_string())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(kinds, ["new"]);
}

#[test]
fn explain_names_each_hop_of_the_evidence() {
    let dir = scratch("explain");
    write_bad_project(&dir);
    let g = graph(&dir);
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let (_, resolved) = rt
        .block_on(mj_runtime::resolve_entity(&g, Some("person"), &dir))
        .expect("resolves");
    let a = resolved.find("orders:O4").expect("O4");
    let b = resolved.find("event:E1").expect("E1");
    match resolved.explain(a, b, false) {
        mj_oneid::Explanation::Same(hops) => {
            let shown: Vec<String> = hops
                .iter()
                .map(|h| {
                    format!(
                        "{} -{} {}-> {}",
                        resolved.record_name(h.from),
                        h.identifier,
                        h.value,
                        resolved.record_name(h.to)
                    )
                })
                .collect();
            assert_eq!(
                shown,
                [
                    "orders:O4 -phone 13812345678-> member:M1",
                    "member:M1 -member_id M1-> event:E1"
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    let m1 = resolved.find("member:M1").expect("M1");
    let m6 = resolved.find("member:M6").expect("M6");
    match resolved.explain(m1, m6, false) {
        mj_oneid::Explanation::Apart(why) => assert!(
            why.iter()
                .any(|w| w.contains("through phone \"13812345678\" would give one person two values of the unique identifier `member_id`")),
            "{why:?}"
        ),
        other => panic!("{other:?}"),
    }
}

#[test]
fn sql_components_agree_with_union_find() {
    let dir = scratch("star");
    write_bad_project(&dir);
    let g = graph(&dir);
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let (_, resolved) = rt
        .block_on(mj_runtime::resolve_entity(&g, Some("person"), &dir))
        .expect("resolves");
    check_star(&resolved.resolution, &rt);
    // And on Febrl dataset 3: thousands of records, components of many sizes.
    let febrl = graph(&repo().join("examples/febrl"));
    let (_, resolved) = rt
        .block_on(mj_runtime::resolve_entity(
            &febrl,
            Some("person3"),
            &repo().join("examples/febrl/data"),
        ))
        .expect("resolves");
    check_star(&resolved.resolution, &rt);
}

fn check_star(res: &mj_oneid::Resolution, rt: &tokio::runtime::Runtime) {
    let joins = res.joins();
    let ctx = mj_runtime::session();
    let work = scratch("star-work");
    let (labels, rounds) = rt
        .block_on(mj_runtime::components::star_components(&ctx, &work, &joins))
        .expect("components");
    let label: std::collections::HashMap<u64, u64> = labels.into_iter().collect();
    // Records without any join are their own component in both.
    let of = |r: usize| label.get(&(r as u64)).copied().unwrap_or(r as u64);
    let pred: Vec<(String, String)> = (0..res.records())
        .map(|r| (r.to_string(), of(r).to_string()))
        .collect();
    let truth: Vec<(String, String)> = (0..res.records())
        .map(|r| (r.to_string(), res.record_component[r].to_string()))
        .collect();
    let (p, r, _) = pairwise(&pred, &truth);
    assert_eq!((p, r), (1.0, 1.0), "same partition ({rounds} rounds)");
    let sizes = |v: &[(String, String)]| {
        let mut m = std::collections::BTreeMap::new();
        for (_, c) in v {
            *m.entry(c.clone()).or_insert(0) += 1;
        }
        let mut s: Vec<u32> = m.into_values().collect();
        s.sort();
        s
    };
    assert_eq!(sizes(&pred), sizes(&truth));
}

#[test]
fn oneid_in_sql_finds_the_union_finds_people() {
    // The SQL engine (`[oneid] engine = "cluster"`), here on this process's
    // DataFusion, against the union-find, on the example over generated data: the
    // same OneID tables, byte for byte, and so the same tables after them.
    let dir = crate::common::generated("oneid-sql", 3000, 30, 5);
    let g = graph(&repo().join("examples/meijia"));
    let (local, result) = run(&g, &dir, &dir.join("local"), "2025-06-30");
    result.expect("runs with the union-find");
    let (sql, result) = crate::common::run_engine(
        &g,
        &dir,
        &dir.join("sql"),
        "2025-06-30",
        false,
        mj_runtime::OneIdEngine::Cluster,
    );
    result.expect("runs with the SQL engine");
    assert_eq!(local.oneid["consumer"].sql, None);
    let report = sql.oneid["consumer"]
        .sql
        .clone()
        .expect("the SQL engine's report");
    assert_eq!(report.ran_on, "client");
    // Both paths: components taken whole from SQL, and guarded ones resolved here.
    let records = sql.oneid["consumer"].records;
    assert!(
        report.flagged_components > 0 && report.records_resolved_in_client < records / 2,
        "{report:?} of {records} records"
    );
    assert!(report.rounds >= 2, "{report:?}");
    eprintln!("SQL engine: {report:?}; {records} records");
    for (a, b) in [(&local, &sql)] {
        let mut x = a.oneid["consumer"].clone();
        x.sql = None;
        let mut y = b.oneid["consumer"].clone();
        y.sql = None;
        assert_eq!(
            serde_json::to_value(&x).expect("JSON"),
            serde_json::to_value(&y).expect("JSON")
        );
    }
    let mut compared = 0;
    for t in &local.tables {
        let file = |out: &str| dir.join(out).join(&t.path).join("part-00000.parquet");
        let (x, y) = (file("local"), file("sql"));
        if !x.is_file() {
            continue;
        }
        assert!(
            std::fs::read(&x).expect("local") == std::fs::read(&y).expect("sql"),
            "{} differs",
            t.table
        );
        compared += 1;
    }
    assert!(compared > 20, "{compared} tables compared");
}

#[test]
fn oneid_on_generated_data_against_the_generators_truth() {
    // MJ_ONEID_CONSUMERS measures at another size (the figures are printed).
    let consumers = std::env::var("MJ_ONEID_CONSUMERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let dir = crate::common::generated("generated", consumers, 90, 11);
    let out = dir.join("out");
    let g = graph(&repo().join("examples/meijia"));
    let (manifest, result) = run(&g, &dir, &out, "2025-06-30");
    result.expect("the example runs on generated data");
    // The manifest reads back as the types it was written from, unchanged.
    let read = mj_runtime::Manifest::latest_succeeded(&out, "2025-06-30")
        .expect("the run's manifest reads back");
    assert_eq!(read.run_id, manifest.run_id);
    let file = out.join("_runs").join(format!("{}.json", read.run_id));
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("manifest")).expect("JSON");
    let differ: Vec<String> = written
        .as_object()
        .expect("an object")
        .iter()
        .filter(|(k, v)| serde_json::to_value(&read).expect("JSON")[k.as_str()] != **v)
        .map(|(k, _)| k.clone())
        .collect();
    assert!(
        differ.is_empty(),
        "fields that do not read back: {differ:?}"
    );
    // Every bad row the generator planted is a reject, and nothing else is.
    let planted = std::fs::read_to_string(dir.join("truth/bad_rows.csv"))
        .expect("bad rows")
        .lines()
        .count()
        - 1;
    let rejected: u64 = manifest.inputs.iter().map(|i| i.rows_rejected).sum();
    assert_eq!(rejected as usize, planted);
    // The junk phone the generator plants is reported by its normalized text, masked:
    // phones are read from `pii` columns, and no value of one is in the manifest in
    // clear.
    let report = &manifest.oneid["consumer"];
    assert!(
        report
            .rejected_values
            .iter()
            .any(|v| v.starts_with("phone \"138****0000\" (")),
        "{:?}",
        report.rejected_values
    );
    let text = serde_json::to_string(&manifest).expect("JSON");
    let mobiles: Vec<&str> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| run.len() == 11 && run.starts_with('1') && run.as_bytes()[1] >= b'3')
        .collect();
    assert!(
        mobiles.is_empty(),
        "phones in clear in the manifest: {mobiles:?}"
    );
    let truth: Vec<(String, String)> = std::fs::read_to_string(dir.join("truth/records.csv"))
        .expect("truth")
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (format!("{}:{}", f[0], f[1]), f[2].to_string())
        })
        .collect();
    let pred = mapping(&out, "consumer", "2025-06-30");
    let (p, r, f1) = pairwise(&pred, &truth);
    // Recall is bounded by the data: a non-member's app events share no identifier
    // with their orders. The bound: every two records of one person sharing a
    // declared identifier's value joined, nothing fuzzy.
    let bound = crate::identity::exact_bound(&g, "consumer", &out, "2025-06-30", &truth);
    let persons = manifest.oneid["consumer"].persons;
    let true_persons = truth
        .iter()
        .map(|(_, p)| p)
        .collect::<std::collections::HashSet<_>>()
        .len();
    eprintln!(
        "generated data, {consumers} consumers: precision {p:.4} recall {r:.4} F1 {f1:.4}; \
         exact-identifier bound {bound:.4} (recall {:.3} of it); {persons} people found, {true_persons} true",
        r / bound
    );
    assert!(
        p >= 0.99,
        "precision {p:.4}, recall {r:.4}, bound {bound:.4}"
    );
    assert!(
        r >= 0.97 * bound,
        "precision {p:.4}, recall {r:.4}, bound {bound:.4}"
    );

    // The detail table of payments, against an independent reading of the orders:
    // paid orders up to the business date, each with its row's OneID.
    let mut expected: Vec<(String, i128)> = Vec::new();
    for entry in std::fs::read_dir(dir.join("data/pos/orders")).expect("orders") {
        for b in partition_file(&entry.expect("entry").path()) {
            let id = b.column(0).as_string::<i32>();
            let status = b.column(8).as_string::<i32>();
            let amount = b
                .column(6)
                .as_primitive::<arrow::datatypes::Decimal128Type>();
            let paid = b
                .column(9)
                .as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
            let bound = chrono::NaiveDate::from_ymd_opt(2025, 7, 1)
                .expect("date")
                .and_hms_opt(0, 0, 0)
                .expect("midnight")
                .and_utc()
                .timestamp_micros();
            for i in 0..b.num_rows() {
                if status.value(i) == "paid" && !paid.is_null(i) && paid.value(i) < bound {
                    expected.push((id.value(i).to_string(), amount.value(i)));
                }
            }
        }
    }
    expected.sort();
    let of: std::collections::HashMap<String, String> = pred.into_iter().collect();
    let mut actual: Vec<(String, i128)> = Vec::new();
    for b in partition(&out.join("dwd/pay_order/dt=2025-06-30")) {
        let schema = b.schema();
        let column = |name: &str| b.column(schema.index_of(name).expect(name)).clone();
        let id = column("order_id");
        let consumer = column("consumer");
        let amount = column("amount");
        let (id, consumer) = (id.as_string::<i32>(), consumer.as_string::<i32>());
        let amount = amount.as_primitive::<arrow::datatypes::Decimal128Type>();
        for i in 0..b.num_rows() {
            let key = format!("pos_order:{}", id.value(i));
            assert_eq!(
                of.get(&key).map(String::as_str),
                Some(consumer.value(i)),
                "{key}"
            );
            actual.push((id.value(i).to_string(), amount.value(i)));
        }
    }
    assert!(!expected.is_empty());
    assert_eq!(actual, expected, "dwd.pay_order");

    // The consumer summary, against SQL written here over the detail table: the last
    // 30 days are 2025-06-01 to 2025-06-30, online means the four online channels.
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let ctx = datafusion::prelude::SessionContext::new();
    let dwd = out.join("dwd/pay_order/dt=2025-06-30/part-00000.parquet");
    let dws = out.join("dws/dws_consumer/dt=2025-06-30/part-00000.parquet");
    let differing = rt.block_on(async {
        ctx.register_parquet("o", dwd.to_str().expect("path"), Default::default())
            .await
            .expect("dwd");
        ctx.register_parquet("s", dws.to_str().expect("path"), Default::default())
            .await
            .expect("dws");
        let category = out.join("dim/category/dt=2025-06-30/part-00000.parquet");
        ctx.register_parquet("c", category.to_str().expect("path"), Default::default())
            .await
            .expect("dim");
        let sql = "
            WITH hand AS (
              SELECT consumer,
                     sum(amount) FILTER (WHERE paid_at >= TIMESTAMP '2025-06-01 00:00:00'
                                           AND paid_at < TIMESTAMP '2025-07-01 00:00:00') AS amt,
                     count(DISTINCT order_id) FILTER (WHERE paid_at >= TIMESTAMP '2025-06-01 00:00:00'
                                           AND paid_at < TIMESTAMP '2025-07-01 00:00:00') AS cnt,
                     sum(amount) FILTER (WHERE paid_at >= TIMESTAMP '2025-06-01 00:00:00'
                                           AND paid_at < TIMESTAMP '2025-07-01 00:00:00'
                                           AND channel IN ('tmall', 'jd', 'wechat_mall', 'douyin_shop')) AS online,
                     sum(amount) FILTER (WHERE paid_at >= TIMESTAMP '2025-04-02 00:00:00'
                                           AND paid_at < TIMESTAMP '2025-07-01 00:00:00'
                                           AND c.line = '卧室') AS bedroom
              FROM o LEFT JOIN c ON o.category = c.category GROUP BY consumer)
            SELECT count(*) FROM hand FULL JOIN s ON hand.consumer IS NOT DISTINCT FROM s.consumer
            WHERE (hand.amt IS DISTINCT FROM s.pay_amt_30d)
               OR (hand.cnt IS DISTINCT FROM s.pay_ord_cnt_30d)
               OR (hand.online IS DISTINCT FROM s.online_pay_amt_30d)
               OR (hand.bedroom IS DISTINCT FROM s.bedroom_pay_amt_90d)
               OR ((s.pay_ord_cnt_30d > 0)
                   AND (abs(CAST(s.aov_30d AS DOUBLE)
                            - CAST(s.pay_amt_30d AS DOUBLE) / CAST(s.pay_ord_cnt_30d AS DOUBLE))
                        > 0.000001))
               OR ((s.pay_ord_cnt_30d = 0) AND (s.aov_30d IS NOT NULL))";
        let batches = ctx.sql(sql).await.expect("sql").collect().await.expect("rows");
        batches[0]
            .column(0)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .value(0)
    });
    assert_eq!(
        differing, 0,
        "dws_consumer differs from the hand-written query"
    );
}

/// Python with DuckDB, installed for the user when missing.
fn duckdb_python() -> std::process::Command {
    let has = std::process::Command::new("python3")
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        let status = std::process::Command::new("python3")
            .args(["-m", "pip", "install", "--quiet", "--user", "duckdb==2.0.1"])
            .status()
            .expect("python3 runs");
        assert!(
            status.success(),
            "installing duckdb for the SQL comparison failed"
        );
    }
    std::process::Command::new("python3")
}

#[test]
fn generated_sql_run_by_duckdb_gives_the_same_tables() {
    let dir = crate::common::generated("duckdb", 1500, 60, 5);
    let out = dir.join("out");
    let g = graph(&repo().join("examples/meijia"));
    run(&g, &dir, &out, "2025-06-30").1.expect("runs");
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let statements = rt
        .block_on(mj_runtime::sql(
            &g,
            "2025-06-30",
            &out,
            mj_runtime::Dialect::DuckDb,
        ))
        .expect("SQL");
    // Tables DuckDB reads: the same Parquet files mj wrote (sources as accepted, in
    // the ods layer, typed as declared).
    let part = |p: &str| format!("{}/{p}/dt=2025-06-30/*.parquet", out.display());
    let mut script = String::from("import duckdb, sys\ncon = duckdb.connect()\n");
    for n in &g.nodes {
        let (layer, table) = (n.id.layer.as_str(), n.id.name.as_str());
        let view = match layer {
            "ods" | "oneid" | "dwd" | "dim" => format!("{layer}_{table}"),
            _ => continue,
        };
        script += &format!(
            "con.execute(\"CREATE VIEW {view} AS SELECT * FROM read_parquet('{}')\")\n",
            part(&format!("{layer}/{table}"))
        );
    }
    script += "bad = 0\n";
    let mut compared = 0;
    for (node, sql) in &statements {
        // The asset layer is compared with hand-written queries in its own tests; its
        // ordered aggregates are not written as SQL.
        if node.layer == "ads" {
            continue;
        }
        let (layer, table) = (&node.layer, &node.name);
        let mine = part(&format!("{layer}/{table}"));
        script += &format!(
            "q = '''{sql}'''\nmine = \"SELECT * EXCLUDE (dt) FROM read_parquet('{mine}', hive_partitioning = true)\"\n\
             n = con.execute(f'SELECT count(*) FROM (({{q}}) EXCEPT ALL ({{mine}})) UNION ALL SELECT count(*) FROM (({{mine}}) EXCEPT ALL ({{q}}))').fetchall()\n\
             rows = con.execute(f'SELECT count(*) FROM ({{mine}})').fetchone()[0]\n\
             print('{node}', rows, n)\nbad += sum(x[0] for x in n) + (rows == 0)\n"
        );
        compared += 1;
    }
    script += "sys.exit(1 if bad else 0)\n";
    assert!(compared >= 7, "{statements:?}");
    let path = dir.join("compare.py");
    std::fs::write(&path, script).expect("script");
    let output = duckdb_python().arg(&path).output().expect("python3 runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "DuckDB's results differ from mj's:\n{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn data_quality_checks_fail_the_run_or_warn() {
    let dir = scratch("checks");
    std::fs::write(
        dir.join("sales.mj"),
        "source sale from csv(\"sale.csv\", header = true) {\n  sale_id string not null\n  amount  decimal(10,2)\n  qty     int\n  sold_at timestamp\n}\n\n\
         fact sales from sale {\n  grain sale_id\n  time sold_at\n  measures { amount, qty }\n}\n\n\
         check unique sales.sale_id\ncheck sales.amount >= 0\ncheck sales.qty > 0 severity warn\n",
    )
    .expect("spec");
    let rows = "sale_id,amount,qty,sold_at\n\
                s1,10.00,1,2025-01-01 10:00:00\n\
                s1,5.00,2,2025-01-01 11:00:00\n\
                s3,-1.00,0,2025-01-01 12:00:00\n\
                s4,3.00,,2025-01-01 13:00:00\n";
    std::fs::write(dir.join("sale.csv"), rows).expect("csv");
    let out = dir.join("out");
    let g = graph(&dir);
    let (manifest, result) = run(&g, &dir, &out, "2025-01-01");
    let error = result
        .expect_err("failing error checks fail the run")
        .message;
    assert!(error.contains("fails on"), "{error}");
    let status: Vec<(&str, &str, u64)> = manifest
        .checks
        .iter()
        .map(|c| (c.rule.as_str(), c.status.as_str(), c.failing))
        .collect();
    let expect = |rule: &str| status.iter().find(|s| s.0 == rule).map(|s| (s.1, s.2));
    assert_eq!(
        expect("unique sales.sale_id"),
        Some(("failed", 2)),
        "{status:?}"
    );
    assert_eq!(
        expect("sales.amount >= 0"),
        Some(("failed", 1)),
        "{status:?}"
    );
    // A null quantity passes; the zero warns.
    assert_eq!(expect("sales.qty > 0"), Some(("warned", 1)), "{status:?}");
    let amount = manifest
        .checks
        .iter()
        .find(|c| c.rule == "sales.amount >= 0")
        .expect("amount check");
    assert!(
        amount.examples[0].contains("sale_id=s3"),
        "{:?}",
        amount.examples
    );
    assert!(
        !out.join("dwd").exists(),
        "nothing lands when a check fails"
    );
    // Fixed data: the warning stays a warning, and the run succeeds.
    std::fs::write(
        dir.join("sale.csv"),
        rows.replace("s1,5.00", "s2,5.00").replace("-1.00", "1.00"),
    )
    .expect("csv");
    let (manifest, result) = run(&g, &dir, &out, "2025-01-01");
    result.expect("only a warning left");
    assert!(manifest.checks.iter().any(|c| c.status == "warned"));
    assert!(out.join("dq/check_sales_3/dt=2025-01-01").exists());
    assert!(out.join("dwd/sales/dt=2025-01-01").exists());
}

#[test]
fn lineage_reaches_the_source_columns() {
    let g = graph(&repo().join("examples/meijia"));
    let l = mj_compiler::lineage::lineage(&g, "online_rate_30d").expect("a composite");
    let tree = l.render();
    for column in [
        "dws.dws_consumer.online_pay_amt_30d",
        "dws.dws_consumer.pay_amt_30d",
        "dwd.pay_order.amount",
        "ods.pos_order.amount",
        "ods.pos_order.channel",
        "ods.pos_order.paid_at",
        "ods.pos_order.status",
        "ods.pos_order.phone",
    ] {
        assert!(tree.contains(column), "{column} missing from\n{tree}");
    }
    assert!(
        tree.contains("over the last 30 days where channel in"),
        "{tree}"
    );
    // A column of a detail table, and something that is neither.
    let amount = mj_compiler::lineage::lineage(&g, "dwd.pay_order.store").expect("a dim");
    assert_eq!(amount.from[0].column, "ods.pos_order.store_id");
    assert!(mj_compiler::lineage::lineage(&g, "no_such_metric").is_none());
}

#[test]
fn every_asset_column_reaches_the_source_columns() {
    let g = graph(&repo().join("examples/meijia"));
    // Every tag, AIPL stage, RFM value and segment, and audience of the example.
    let mut targets = Vec::new();
    for n in &g.nodes {
        use mj_compiler::lower::NodeKind;
        match &n.kind {
            NodeKind::Tags(t) => {
                targets.extend(t.tags.iter().map(|x| format!("{}.{}", n.id, x.name)))
            }
            NodeKind::Aipl(_) => targets.push(format!("{}.stage", n.id)),
            NodeKind::Rfm(_) => targets.extend(
                ["recency", "frequency", "monetary", "m_score", "segment"]
                    .iter()
                    .map(|c| format!("{}.{c}", n.id)),
            ),
            NodeKind::Audiences(a) => {
                targets.extend(a.audiences.iter().map(|(x, _)| format!("{}.{x}", n.id)));
                targets.extend(a.routes.iter().map(|(x, _)| format!("{}.route_{x}", n.id)));
            }
            NodeKind::Export(x) => targets.extend(
                x.columns
                    .iter()
                    .map(|c| format!("export.{}.{}", x.audience, c.name)),
            ),
            _ => {}
        }
    }
    assert!(targets.len() >= 10, "{targets:?}");
    fn leaves(l: &mj_compiler::lineage::Lineage, out: &mut Vec<String>) {
        if l.from.is_empty() {
            out.push(l.column.clone());
        }
        for f in &l.from {
            leaves(f, out);
        }
    }
    for target in &targets {
        let l = mj_compiler::lineage::lineage(&g, target)
            .unwrap_or_else(|| panic!("no lineage for {target}"));
        let mut found = Vec::new();
        leaves(&l, &mut found);
        assert!(
            !found.is_empty() && found.iter().all(|c| c.starts_with("ods.")),
            "{target} does not reach source columns:\n{}",
            l.render()
        );
    }
    // Distance to the nearest store: the consumer's location and the stores'.
    let tree = mj_compiler::lineage::lineage(&g, "ads.consumer_audiences.sofa_intent")
        .expect("an audience")
        .render();
    assert!(
        tree.contains("ads.consumer_near_store.distance_km"),
        "{tree}"
    );
    assert!(tree.contains("dim.store.lat"), "{tree}");
    // An export's hashed phone: the phone of the members, from the sources that carry it.
    let tree = mj_compiler::lineage::lineage(&g, "export.sofa_intent.phone_sha256")
        .expect("an export column")
        .render();
    assert!(
        tree.contains("sha256 of the lower-cased, trimmed value"),
        "{tree}"
    );
    assert!(tree.contains("normalized by phone_cn"), "{tree}");
    assert!(
        tree.contains("ads.consumer_audiences.sofa_intent"),
        "{tree}"
    );
    let tree = mj_compiler::lineage::lineage(&g, "export.sofa_intent.store_id")
        .expect("an export column")
        .render();
    assert!(tree.contains("dim.store.store_id"), "{tree}");
    // The segment of RFM reads recency, frequency and monetary down to the orders.
    let tree = mj_compiler::lineage::lineage(&g, "ads.rfm_value.segment")
        .expect("a segment")
        .render();
    assert!(tree.contains("ods.pos_order.paid_at"), "{tree}");
    assert!(tree.contains("ods.pos_order.amount"), "{tree}");
}

#[test]
fn a_dimension_with_repeated_keys_fails_naming_them() {
    let dir = scratch("fanout");
    std::fs::write(
        dir.join("m.mj"),
        "source shop from csv(\"shop.csv\", header = true) {\n  shop_id string not null\n  city    string\n}\n\n\
         source sale from csv(\"sale.csv\", header = true) {\n  sale_id string not null\n  shop_id string\n  amount  decimal(10,2)\n  sold_at timestamp\n}\n\n\
         dimension store from shop {\n  key shop_id\n  attributes { city }\n}\n\n\
         fact sales from sale {\n  grain sale_id\n  time sold_at\n  dims { store = shop_id }\n  measures { amount }\n}\n",
    )
    .expect("spec");
    std::fs::write(
        dir.join("shop.csv"),
        "shop_id,city\nS1,上海\nS2,北京\nS1,杭州\n",
    )
    .expect("csv");
    std::fs::write(
        dir.join("sale.csv"),
        "sale_id,shop_id,amount,sold_at\nx1,S1,10.00,2025-01-01 10:00:00\n",
    )
    .expect("csv");
    let (_, result) = run(&graph(&dir), &dir, &dir.join("out"), "2025-01-01");
    let e = result.expect_err("a repeated key fails the run").message;
    assert!(
        e.contains("dim.store") && e.contains("shop_id=S1, rows=2"),
        "{e}"
    );
    std::fs::write(dir.join("shop.csv"), "shop_id,city\nS1,上海\nS2,北京\n").expect("csv");
    let (_, result) = run(&graph(&dir), &dir, &dir.join("out"), "2025-01-01");
    result.expect("unique keys");
    assert!(dir.join("out/dim/store/dt=2025-01-01").exists());
}

#[test]
fn a_summary_over_three_facts_keeps_every_key() {
    let dir = scratch("three");
    let mut spec =
        String::from("glossary {\n  root a \"甲\"\n  root b \"乙\"\n  root c \"丙\"\n}\n\n");
    for (src, fact, atomic) in [
        ("s1", "f1", "a_amt"),
        ("s2", "f2", "b_amt"),
        ("s3", "f3", "c_amt"),
    ] {
        spec += &format!(
            "source {src} from csv(\"{src}.csv\", header = true) {{\n  id   string not null\n  shop string\n  amt  decimal(10,2)\n  ts   timestamp\n}}\n\n\
             fact {fact} from {src} {{\n  grain id\n  time ts\n  dims {{ shop }}\n  measures {{ amt }}\n}}\n\n\
             atomic {atomic} = sum({fact}.amt)\n\nderived {atomic}_td = {atomic}[td] by shop\n\n"
        );
    }
    std::fs::write(dir.join("m.mj"), spec).expect("spec");
    // Each shop appears in some facts only: X in all three, Y only in the second, Z
    // in the first and third, W in the second and third (not in the first, whose keys
    // the join must not rely on).
    for (src, rows) in [
        (
            "s1",
            "id,shop,amt,ts\n1,X,1.00,2025-01-01 00:00:00\n2,Z,2.00,2025-01-01 00:00:00\n",
        ),
        (
            "s2",
            "id,shop,amt,ts\n1,X,10.00,2025-01-01 00:00:00\n2,Y,20.00,2025-01-01 00:00:00\n3,W,30.00,2025-01-01 00:00:00\n",
        ),
        (
            "s3",
            "id,shop,amt,ts\n1,X,100.00,2025-01-01 00:00:00\n2,Z,200.00,2025-01-01 00:00:00\n3,W,300.00,2025-01-01 00:00:00\n",
        ),
    ] {
        std::fs::write(dir.join(format!("{src}.csv")), rows).expect("csv");
    }
    let out = dir.join("out");
    run(&graph(&dir), &dir, &out, "2025-01-01").1.expect("runs");
    let mut got = Vec::new();
    for b in partition(&out.join("dws/dws_shop/dt=2025-01-01")) {
        let shop = b.column(0).as_string::<i32>();
        let cell = |c: usize, i: usize| {
            let a = b
                .column(c)
                .as_primitive::<arrow::datatypes::Decimal128Type>();
            (!a.is_null(i)).then(|| a.value(i))
        };
        for i in 0..b.num_rows() {
            got.push((
                shop.value(i).to_string(),
                cell(1, i),
                cell(2, i),
                cell(3, i),
            ));
        }
    }
    assert_eq!(
        got,
        [
            ("W".to_string(), None, Some(3000), Some(30000)),
            ("X".to_string(), Some(100), Some(1000), Some(10000)),
            ("Y".to_string(), None, Some(2000), None),
            ("Z".to_string(), Some(200), None, Some(20000)),
        ]
    );
}

#[test]
fn checks_on_sources_run_on_the_accepted_rows() {
    let dir = scratch("source_checks");
    std::fs::write(
        dir.join("crm.mj"),
        "source member from csv(\"member.csv\", header = true) {\n  member_id string not null\n  level string\n  points int\n}\n\n\
         check unique member.member_id severity warn\ncheck member.points >= 0\n",
    )
    .expect("spec");
    std::fs::write(
        dir.join("member.csv"),
        "member_id,level,points\nm1,gold,10\nm1,silver,5\nm2,gold,-3\nm3,,x\n",
    )
    .expect("csv");
    let out = dir.join("out");
    let (manifest, result) = run(&graph(&dir), &dir, &out, "2025-01-01");
    let error = result
        .expect_err("a failing error check fails the run")
        .message;
    assert!(error.contains("check_member_2"), "{error}");
    let status: Vec<(&str, &str, u64)> = manifest
        .checks
        .iter()
        .map(|c| (c.rule.as_str(), c.status.as_str(), c.failing))
        .collect();
    // m3's points do not parse: a reject, not a row the checks see.
    assert_eq!(
        status,
        [
            ("unique member.member_id", "warned", 2),
            ("member.points >= 0", "failed", 1)
        ]
    );
    assert!(manifest.checks[1].examples[0].contains("member_id=m2"));
    assert_eq!(manifest.inputs[0].rows_rejected, 1);
}

#[test]
fn median_and_stddev_follow_sql() {
    let dir = scratch("median");
    std::fs::write(
        dir.join("sales.mj"),
        "glossary {\n  root sale \"销售\"\n  root med \"中位\"\n  root sd \"标准差\"\n}\n\n\
         source sale from csv(\"sale.csv\", header = true) {\n  sale_id string not null\n  amount decimal(10,2)\n  sold_at timestamp\n}\n\n\
         fact sales from sale {\n  grain sale_id\n  time sold_at\n  measures { amount }\n}\n\n\
         atomic med_sale_amt = median(sales.amount)\natomic sd_sale_amt = stddev(sales.amount)\n\n\
         derived med_sale_amt_td = med_sale_amt[td]\nderived sd_sale_amt_td = sd_sale_amt[td]\n",
    )
    .expect("spec");
    std::fs::write(
        dir.join("sale.csv"),
        "sale_id,amount,sold_at\ns1,1.00,2025-01-01 10:00:00\ns2,2.00,2025-01-01 11:00:00\n\
         s3,4.00,2025-01-01 12:00:00\ns4,,2025-01-01 13:00:00\ns5,9.00,2025-01-02 13:00:00\n",
    )
    .expect("csv");
    let out = dir.join("out");
    run(&graph(&dir), &dir, &out, "2025-01-01").1.expect("runs");
    let rows = partition_file(&out.join("dws/dws_total/dt=2025-01-01/part-00000.parquet"));
    let b = &rows[0];
    let text =
        |c: usize| arrow::util::display::array_value_to_string(b.column(c), 0).expect("cell");
    let schema = b.schema();
    let med = schema.index_of("med_sale_amt_td").expect("median column");
    let sd = schema.index_of("sd_sale_amt_td").expect("stddev column");
    // The business date bounds the rows: 1, 2, 4 and a null (ignored); s5 is later.
    assert_eq!(text(med), "2.00");
    let sd: f64 = text(sd).parse().expect("number");
    let expected = ((1.0f64 - 7.0 / 3.0).powi(2)
        + (2.0f64 - 7.0 / 3.0).powi(2)
        + (4.0f64 - 7.0 / 3.0).powi(2))
        / 2.0;
    assert!((sd - expected.sqrt()).abs() < 1e-9, "{sd}");
}

#[test]
fn tags_match_a_hand_written_query_with_and_without_the_jit() {
    let dir = crate::common::generated("tags", 1200, 120, 21);
    let out = dir.join("out");
    let g = graph(&repo().join("examples/meijia"));
    let (manifest, result) = run(&g, &dir, &out, "2025-06-30");
    result.expect("runs");
    let tags = &manifest.tags[0];
    assert!(
        tags.rules
            .iter()
            .any(|r| r.rule == "price_level" && r.kernel),
        "{:?}",
        tags.rules
    );
    let style = tags
        .tags
        .iter()
        .find(|t| t.tag == "style_pref")
        .expect("coverage");
    assert!(style.coverage > 0.0 && style.coverage < 1.0, "{style:?}");
    let part = |p: &str| {
        out.join(p)
            .join("dt=2025-06-30")
            .to_string_lossy()
            .to_string()
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let differing = rt.block_on(async {
        let ctx = datafusion::prelude::SessionContext::new();
        for (name, path) in [
            ("m", "oneid/consumer"),
            ("crm", "ods/crm_member"),
            ("app", "ods/app_event"),
            ("d", "dws/dws_consumer"),
            ("t", "ads/consumer_tags"),
        ] {
            ctx.register_parquet(name, part(path), Default::default())
                .await
                .expect("register");
        }
        let sql = "
            WITH ids AS (SELECT source, record_id, min(oneid) AS oneid FROM m GROUP BY source, record_id),
            crm1 AS (SELECT i.oneid, c.member_id, c.gender, c.city, c.joined_at FROM crm c
                     JOIN ids i ON i.source = 'crm_member' AND i.record_id = c.member_id
                     WHERE c.joined_at < TIMESTAMP '2025-07-01 00:00:00'),
            g AS (SELECT oneid, gender FROM (
                    SELECT oneid, gender, row_number() OVER (PARTITION BY oneid
                        ORDER BY joined_at DESC NULLS LAST, member_id DESC) AS rn
                    FROM crm1 WHERE gender IS NOT NULL) x WHERE rn = 1),
            views AS (SELECT i.oneid, e.style, e.ts FROM app e
                      JOIN ids i ON i.source = 'app_event' AND i.record_id = e.event_id
                      WHERE e.event = 'view' AND e.style IS NOT NULL
                        AND e.ts >= TIMESTAMP '2025-04-02 00:00:00'
                        AND e.ts < TIMESTAMP '2025-07-01 00:00:00'),
            counted AS (SELECT oneid, style, count(*) AS n, max(ts) AS last FROM views GROUP BY oneid, style),
            s AS (SELECT oneid, style FROM (
                    SELECT oneid, style, row_number() OVER (PARTITION BY oneid
                        ORDER BY n DESC, last DESC, style ASC) AS rn FROM counted) x WHERE rn = 1),
            spine AS (SELECT DISTINCT oneid FROM m),
            hand AS (
              SELECT spine.oneid, coalesce(g.gender, '未知') AS gender, s.style AS style_pref,
                     CASE WHEN d.pay_amt_365d >= 50000 THEN '高端'
                          WHEN d.pay_amt_365d >= 10000 THEN '中端' ELSE '大众' END AS price_level
              FROM spine LEFT JOIN g ON g.oneid = spine.oneid LEFT JOIN s ON s.oneid = spine.oneid
                         LEFT JOIN d ON d.consumer = spine.oneid)
            SELECT count(*) FROM hand FULL JOIN t ON hand.oneid = t.consumer
            WHERE (hand.oneid IS NULL) OR (t.consumer IS NULL)
               OR (hand.gender IS DISTINCT FROM t.gender)
               OR (hand.style_pref IS DISTINCT FROM t.style_pref)
               OR (hand.price_level IS DISTINCT FROM t.price_level)";
        let batches = ctx.sql(sql).await.expect("sql").collect().await.expect("rows");
        batches[0]
            .column(0)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .value(0)
    });
    assert_eq!(differing, 0, "tags differ from the hand-written query");
    // The same tags with DataFusion's CASE instead of the kernels.
    let plain = dir.join("plain");
    let opts = mj_runtime::RunOptions {
        date: "2025-06-30".to_string(),
        data: dir.to_path_buf(),
        out: plain.clone(),
        project: "test".to_string(),
        reuse: false,
        jit: false,
        show_pii: false,
        oneid_engine: mj_runtime::OneIdEngine::Local,
        database_urls: Default::default(),
        full: false,
    };
    let (manifest, result) = rt.block_on(mj_runtime::run(&g, &opts, &|_| {}));
    result.expect("runs without the JIT");
    assert!(manifest.tags[0].rules.iter().all(|r| !r.kernel));
    let file = "ads/consumer_tags/dt=2025-06-30/part-00000.parquet";
    let kernels = partition_file(&out.join(file));
    let case = partition_file(&plain.join(file));
    let concat =
        |b: &[RecordBatch]| arrow::compute::concat_batches(&b[0].schema(), b).expect("concat");
    let (kernels, case) = (concat(&kernels), concat(&case));
    assert_eq!(kernels.num_rows(), case.num_rows());
    for (i, field) in kernels.schema().fields().iter().enumerate() {
        assert!(
            kernels.column(i).as_ref() == case.column(i).as_ref(),
            "the kernels and CASE give different `{}`",
            field.name()
        );
    }
}

#[test]
fn aipl_stages_match_a_hand_written_query_and_flows_add_up() {
    let dir = crate::common::generated("aipl", 1500, 120, 8);
    let out = dir.join("out");
    let g = graph(&repo().join("examples/meijia"));
    for day in ["2025-06-20", "2025-06-30"] {
        let (manifest, result) = run(&g, &dir, &out, day);
        result.expect("runs");
        assert!(
            manifest.aipl[0].rule.iter().all(|r| r.kernel),
            "{:?}",
            manifest.aipl
        );
    }
    let part = |p: &str| {
        out.join(p)
            .join("dt=2025-06-30")
            .to_string_lossy()
            .to_string()
    };
    let rt = tokio::runtime::Runtime::new().expect("tokio");
    let differing = rt.block_on(async {
        let ctx = datafusion::prelude::SessionContext::new();
        for (name, path) in [
            ("m", "oneid/consumer"),
            ("crm", "ods/crm_member"),
            ("app", "ods/app_event"),
            ("media", "ods/media_touch"),
            ("po", "dwd/pay_order"),
            ("d", "dws/dws_consumer"),
            ("a", "ads/aipl_brand"),
        ] {
            ctx.register_parquet(name, part(path), Default::default())
                .await
                .expect("register");
        }
        let sql = "
            WITH ids AS (SELECT source, record_id, min(oneid) AS oneid FROM m GROUP BY source, record_id),
            touch AS (SELECT i.oneid,
                        bool_or(t.kind = 'impression') AS seen, bool_or(t.kind = 'click') AS clicked
                      FROM media t JOIN ids i ON i.source = 'media_touch' AND i.record_id = t.touch_id
                      WHERE t.ts >= TIMESTAMP '2025-06-16 00:00:00' AND t.ts < TIMESTAMP '2025-07-01 00:00:00'
                      GROUP BY i.oneid),
            visit AS (SELECT DISTINCT i.oneid FROM app e
                      JOIN ids i ON i.source = 'app_event' AND i.record_id = e.event_id
                      WHERE e.event IN ('view_item', 'favorite', 'consult')
                        AND e.ts >= TIMESTAMP '2025-06-16 00:00:00' AND e.ts < TIMESTAMP '2025-07-01 00:00:00'),
            lvl AS (SELECT oneid, level, joined_at FROM (
                      SELECT i.oneid, c.level, c.joined_at, row_number() OVER (PARTITION BY i.oneid
                          ORDER BY c.joined_at DESC NULLS LAST, c.member_id DESC) AS rn
                      FROM crm c JOIN ids i ON i.source = 'crm_member' AND i.record_id = c.member_id
                      WHERE c.level IS NOT NULL AND c.joined_at < TIMESTAMP '2025-07-01 00:00:00') x
                    WHERE rn = 1),
            -- The most recent row behind each condition, and its channel.
            imp AS (SELECT oneid, platform AS ch, ts FROM (
                      SELECT i.oneid, t.platform, t.ts, row_number() OVER (PARTITION BY i.oneid
                          ORDER BY t.ts DESC, t.touch_id DESC) AS rn
                      FROM media t JOIN ids i ON i.source = 'media_touch' AND i.record_id = t.touch_id
                      WHERE t.kind = 'impression'
                        AND t.ts >= TIMESTAMP '2025-06-16 00:00:00' AND t.ts < TIMESTAMP '2025-07-01 00:00:00') x
                    WHERE rn = 1),
            clk AS (SELECT oneid, platform AS ch, ts FROM (
                      SELECT i.oneid, t.platform, t.ts, row_number() OVER (PARTITION BY i.oneid
                          ORDER BY t.ts DESC, t.touch_id DESC) AS rn
                      FROM media t JOIN ids i ON i.source = 'media_touch' AND i.record_id = t.touch_id
                      WHERE t.kind = 'click'
                        AND t.ts >= TIMESTAMP '2025-06-16 00:00:00' AND t.ts < TIMESTAMP '2025-07-01 00:00:00') x
                    WHERE rn = 1),
            vis AS (SELECT oneid, ch, ts FROM (
                      SELECT i.oneid, e.ts,
                        CASE WHEN e.appid IS NOT NULL AND e.appid <> '' THEN 'miniapp' ELSE 'app' END AS ch,
                        row_number() OVER (PARTITION BY i.oneid ORDER BY e.ts DESC, e.event_id DESC) AS rn
                      FROM app e JOIN ids i ON i.source = 'app_event' AND i.record_id = e.event_id
                      WHERE e.event IN ('view_item', 'favorite', 'consult')
                        AND e.ts >= TIMESTAMP '2025-06-16 00:00:00' AND e.ts < TIMESTAMP '2025-07-01 00:00:00') x
                    WHERE rn = 1),
            ord AS (SELECT consumer AS oneid, channel AS ch, paid_at AS ts FROM (
                      SELECT consumer, channel, paid_at, row_number() OVER (PARTITION BY consumer
                          ORDER BY paid_at DESC, order_id DESC) AS rn
                      FROM po WHERE consumer IS NOT NULL AND channel IS NOT NULL
                        AND paid_at >= TIMESTAMP '2024-07-01 00:00:00' AND paid_at < TIMESTAMP '2025-07-01 00:00:00') x
                    WHERE rn = 1),
            spine AS (SELECT DISTINCT oneid FROM m),
            cond AS (
              SELECT spine.oneid,
                coalesce(d.pay_ord_cnt_365d, 0) >= 2 AS l_orders,
                coalesce(lvl.level IN ('gold', 'platinum'), false) AS l_level,
                coalesce(d.pay_ord_cnt_365d, 0) >= 1 AS p_orders,
                coalesce(touch.clicked, false) AS i_click,
                visit.oneid IS NOT NULL AS i_visit,
                coalesce(touch.seen, false) AS a_seen,
                lvl.joined_at AS level_ts,
                ord.ch AS ord_ch, ord.ts AS ord_ts, clk.ch AS clk_ch, clk.ts AS clk_ts,
                vis.ch AS vis_ch, vis.ts AS vis_ts, imp.ch AS imp_ch
              FROM spine LEFT JOIN touch ON touch.oneid = spine.oneid
                         LEFT JOIN visit ON visit.oneid = spine.oneid
                         LEFT JOIN lvl ON lvl.oneid = spine.oneid
                         LEFT JOIN d ON d.consumer = spine.oneid
                         LEFT JOIN imp ON imp.oneid = spine.oneid
                         LEFT JOIN clk ON clk.oneid = spine.oneid
                         LEFT JOIN vis ON vis.oneid = spine.oneid
                         LEFT JOIN ord ON ord.oneid = spine.oneid),
            hand AS (
              SELECT oneid, stage,
                CASE stage
                  WHEN 'L' THEN CASE
                    WHEN l_orders AND l_level THEN CASE
                      WHEN level_ts > ord_ts OR (ord_ts IS NULL AND level_ts IS NOT NULL) THEN 'crm'
                      ELSE ord_ch END
                    WHEN l_orders THEN ord_ch ELSE 'crm' END
                  WHEN 'P' THEN ord_ch
                  WHEN 'I' THEN CASE
                    WHEN i_click AND i_visit THEN CASE
                      WHEN vis_ts > clk_ts OR (clk_ts IS NULL AND vis_ts IS NOT NULL) THEN vis_ch
                      ELSE clk_ch END
                    WHEN i_click THEN clk_ch ELSE vis_ch END
                  WHEN 'A' THEN imp_ch END AS channel
              FROM (SELECT *,
                CASE WHEN l_orders OR l_level THEN 'L' WHEN p_orders THEN 'P'
                     WHEN i_click OR i_visit THEN 'I' WHEN a_seen THEN 'A' END AS stage
                FROM cond) c)
            SELECT count(*) FROM hand FULL JOIN a ON hand.oneid = a.consumer
            WHERE (hand.oneid IS NULL) OR (a.consumer IS NULL) OR (hand.stage IS DISTINCT FROM a.stage)
               OR (hand.channel IS DISTINCT FROM a.channel)";
        let batches = ctx.sql(sql).await.expect("sql").collect().await.expect("rows");
        batches[0]
            .column(0)
            .as_primitive::<arrow::datatypes::Int64Type>()
            .value(0)
    });
    assert_eq!(
        differing, 0,
        "AIPL stages or channels differ from the hand-written query"
    );
    // Every staged consumer has a channel, and the counts per channel add up to the
    // counts per stage, in the manifest and in the dashboard table.
    let (manifest, _) = run(&g, &dir, &out, "2025-06-30");
    let report = &manifest.aipl[0];
    let per = &report.by["channel"];
    for stage in ["A", "I", "P", "L"] {
        let sum: u64 = per.values().filter_map(|m| m.get(stage)).sum();
        assert_eq!(sum, report.stages[stage], "stage {stage}: {per:?}");
    }
    assert!(
        per.contains_key("store") && per.contains_key("douyin"),
        "{per:?}"
    );
    let table = rows_text(
        &out.join("ads/aipl_brand_channel/dt=2025-06-30"),
        &["stage", "channel", "entities"],
    );
    let in_table: u64 = table
        .iter()
        .filter(|r| r[0] == "P")
        .map(|r| r[2].parse::<u64>().expect("count"))
        .sum();
    assert_eq!(in_table, report.stages["P"]);
    let trend = mj_runtime::aipl::trend_by(
        &out,
        "brand",
        "channel",
        chrono::NaiveDate::from_ymd_opt(2025, 6, 30).expect("date"),
        11,
    )
    .expect("trend");
    assert_eq!(
        trend.iter().map(|(d, _)| d.as_str()).collect::<Vec<_>>(),
        ["2025-06-20", "2025-06-30"]
    );
    // N0(X) = stay(X) + Σ conv(X → Y) + churn(X), with N0 counted on its own.
    let before = mj_runtime::aipl::read(&out, "brand", "2025-06-20").expect("d0");
    let after = mj_runtime::aipl::read(&out, "brand", "2025-06-30").expect("d1");
    let m = mj_runtime::aipl::flow(&before, &after);
    let mut moved = 0;
    for x in ["A", "I", "P", "L"] {
        let n0 = before.values().filter(|s| *s == x).count() as u64;
        let stay = m[&(x.to_string(), x.to_string())];
        let conv: u64 = ["A", "I", "P", "L"]
            .iter()
            .filter(|y| **y != x)
            .map(|y| m[&(x.to_string(), y.to_string())])
            .sum();
        let churn = m[&(x.to_string(), "none".to_string())];
        assert_eq!(n0, stay + conv + churn, "stage {x}");
        assert!(n0 > 0, "nobody in {x} on the first date");
        moved += conv + churn;
    }
    assert!(moved > 0, "ten days apart, someone moves");
    // The run of the later date wrote no flow (the day before it did not run)...
    assert!(!out.join("ads/aipl_brand_flow/dt=2025-06-30").exists());
}

#[test]
fn rfm_scores_baselines_and_segments_by_hand() {
    let dir = scratch("rfm");
    std::fs::write(
        dir.join("shop.mj"),
        "source pos_order from csv(\"orders.csv\", header = true) {\n  order_id string not null\n  member_id string\n  amount decimal(10,2)\n  paid_at timestamp\n}\n\n\
         oneid consumer {\n  identifier member_id strong\n  link pos_order (member_id)\n}\n\n\
         fact pay_order from pos_order {\n  grain order_id\n  time paid_at\n  entity consumer\n  measures { amount }\n}\n\n\
         atomic pay_amt = sum(pay_order.amount)\natomic pay_ord_cnt = count_distinct(pay_order.order_id)\n\n\
         derived pay_amt_365d = pay_amt[365d] by consumer\nderived pay_ord_cnt_365d = pay_ord_cnt[365d] by consumer\n\n\
         rfm value on consumer {\n  recency = days_since(max(pay_order.paid_at)) score [30, 90]\n  frequency = pay_ord_cnt_365d score [2, 4]\n  monetary = pay_amt_365d score [100, 1000]\n  baseline mean\n}\n\n\
         rfm value_q on consumer {\n  recency = days_since(max(pay_order.paid_at)) score quantiles 2\n  frequency = pay_ord_cnt_365d score quantiles 2\n  monetary = pay_amt_365d score quantiles 2\n  baseline 2\n}\n",
    )
    .expect("spec");
    // m1: 10 days, 4 orders, 2000; m2: 60 days, 1 order, 50; m3: 200 days, 2 orders, 500;
    // m4: 5 days, 1 order, 5000.
    let rows = "order_id,member_id,amount,paid_at\n\
        o1,m1,500,2025-06-20 10:00:00\no2,m1,500,2025-06-10 10:00:00\no3,m1,500,2025-05-10 10:00:00\no4,m1,500,2025-04-10 10:00:00\n\
        o5,m2,50,2025-05-01 09:00:00\n\
        o6,m3,250,2024-12-12 09:00:00\no7,m3,250,2024-12-01 09:00:00\n\
        o8,m4,5000,2025-06-25 18:00:00\n";
    std::fs::write(dir.join("orders.csv"), rows).expect("csv");
    let out = dir.join("out");
    run(&graph(&dir), &dir, &out, "2025-06-30").1.expect("runs");
    let read = |model: &str| {
        let batches =
            partition_file(&out.join(format!("ads/rfm_{model}/dt=2025-06-30/part-00000.parquet")));
        let b = arrow::compute::concat_batches(&batches[0].schema(), &batches).expect("concat");
        let text = |name: &str| {
            let c = b.column(b.schema().index_of(name).expect("column")).clone();
            (0..b.num_rows())
                .map(|i| arrow::util::display::array_value_to_string(&c, i).expect("cell"))
                .collect::<Vec<_>>()
        };
        let mut rows: Vec<(String, String, String, String)> = text("monetary")
            .into_iter()
            .zip(text("r_score"))
            .zip(text("segment").into_iter().zip(text("label")))
            .map(|((m, r), (s, l))| (m, r, s, l))
            .collect();
        rows.sort();
        rows
    };
    // Thresholds. R: m1 10 → 3, m2 60 → 2, m3 200 → 1, m4 5 → 3 (mean 2.25);
    // F: 4 → 3, 1 → 1, 2 → 2, 1 → 1 (mean 1.75); M: 2000 → 3, 50 → 1, 500 → 2, 5000 → 3
    // (mean 2.25). H when the score reaches the mean.
    assert_eq!(
        read("value"),
        [
            ("2000.0".into(), "3".into(), "HHH".into(), "高价值".into()),
            ("50.0".into(), "2".into(), "LLL".into(), "潜在".into()),
            ("500.0".into(), "1".into(), "LHL".into(), "一般保持".into()),
            ("5000.0".into(), "3".into(), "HLH".into(), "重点发展".into()),
        ]
    );
    // Two quantiles against a fixed baseline of 2: the recent half, the frequent half
    // (ties by OneID), the big spenders.
    let q = read("value_q");
    let seg = |m: &str| {
        q.iter()
            .find(|r| r.0 == m)
            .map(|r| r.2.clone())
            .expect("row")
    };
    assert_eq!(seg("5000.0").chars().next(), Some('H'));
    assert_eq!(seg("500.0").chars().next(), Some('L'));
    assert_eq!(&seg("2000.0")[1..], "HH");
    assert_eq!(&seg("50.0")[2..], "L");
}

#[test]
fn cdnow_rfm_matches_an_independent_computation_over_the_raw_file() {
    use std::collections::HashMap;
    let dir = repo().join("examples/cdnow");
    let data = repo().join("examples/cdnow/data");
    let out = scratch("cdnow");
    let date = "1998-06-30";
    run(&graph(&dir), &data, &out, date)
        .1
        .expect("the CDNOW project runs");

    // The raw file, read here without mj: customer, index, YYYYMMDD, CDs, dollars.
    let text = std::fs::read_to_string(data.join("CDNOW_sample.txt")).expect("CDNOW");
    let end = chrono::NaiveDate::from_ymd_opt(1998, 6, 30).expect("date");
    // customer → (last purchase, purchases, dollars)
    let mut raw: HashMap<String, (chrono::NaiveDate, u64, f64)> = HashMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f.len(), 5, "{line}");
        let day = chrono::NaiveDate::parse_from_str(f[2], "%Y%m%d").expect("YYYYMMDD");
        let dollars: f64 = f[4].parse().expect("dollars");
        let e = raw.entry(f[0].to_string()).or_insert((day, 0, 0.0));
        e.0 = e.0.max(day);
        e.1 += 1;
        e.2 += dollars;
    }
    assert_eq!(raw.len(), 2357);

    // OneID → customer: one customer is one person.
    let ids: HashMap<String, String> = mapping(&out, "customer", date)
        .into_iter()
        .map(|(item, oneid)| (oneid, item.split_once(':').expect("id").1.to_string()))
        .collect();
    assert_eq!(ids.len(), 2357);

    // Threshold model: R [90, 365] days (≤), F [2, 5] purchases, M [50, 200] dollars (≥);
    // H when a score reaches the mean score.
    let rows = rows_text(
        &out.join(format!("ads/rfm_value/dt={date}")),
        &[
            "customer",
            "recency",
            "frequency",
            "monetary",
            "r_score",
            "f_score",
            "m_score",
            "segment",
            "label",
        ],
    );
    assert_eq!(
        rows.len(),
        2357,
        "every customer bought, so every one is scored"
    );
    let up = |x: f64, t: &[f64]| 1 + t.iter().filter(|&&v| x >= v).count() as u64;
    let recent = |x: f64, t: &[f64]| 1 + t.iter().filter(|&&v| x <= v).count() as u64;
    let expected: HashMap<&str, (f64, u64, f64, [u64; 3])> = raw
        .iter()
        .map(|(c, (last, n, m))| {
            let r = (end - *last).num_days() as f64;
            let scores = [
                recent(r, &[90.0, 365.0]),
                up(*n as f64, &[2.0, 5.0]),
                up(*m, &[50.0, 200.0]),
            ];
            (c.as_str(), (r, *n, *m, scores))
        })
        .collect();
    let mean =
        |k: usize| expected.values().map(|e| e.3[k] as f64).sum::<f64>() / expected.len() as f64;
    let means = [mean(0), mean(1), mean(2)];
    let labels: HashMap<&str, &str> = [
        ("HHH", "高价值"),
        ("LHH", "重点保持"),
        ("HLH", "重点发展"),
        ("LLH", "重点挽留"),
        ("HHL", "一般价值"),
        ("LHL", "一般保持"),
        ("HLL", "一般发展"),
        ("LLL", "潜在"),
    ]
    .into_iter()
    .collect();
    let mut segments: HashMap<String, u64> = HashMap::new();
    for row in &rows {
        let customer = ids[&row[0]].as_str();
        let (r, n, m, s) = expected[customer];
        assert_eq!(row[1].parse::<f64>().expect("recency"), r, "{customer}");
        assert_eq!(
            row[2].parse::<f64>().expect("frequency"),
            n as f64,
            "{customer}"
        );
        let monetary: f64 = row[3].parse().expect("monetary");
        assert!((monetary - m).abs() < 1e-6, "{customer}: {monetary} vs {m}");
        let got = [&row[4], &row[5], &row[6]].map(|x| x.parse::<u64>().expect("score"));
        assert_eq!(got, s, "{customer}");
        let code: String = (0..3)
            .map(|k| if s[k] as f64 >= means[k] { 'H' } else { 'L' })
            .collect();
        assert_eq!(row[7], code, "{customer}");
        assert_eq!(row[8], labels[code.as_str()], "{customer}");
        *segments.entry(code).or_default() += 1;
    }
    eprintln!("CDNOW RFM segments (thresholds, mean baseline): {segments:?}");

    // Quintiles: tiles of 472, 472, 471, 471, 471 customers; a better score never has a
    // worse value; H when a score reaches the median score.
    let rows = rows_text(
        &out.join(format!("ads/rfm_value_q/dt={date}")),
        &["customer", "r_score", "f_score", "m_score", "segment"],
    );
    assert_eq!(rows.len(), 2357);
    for k in 0..3 {
        let mut scored: Vec<(f64, u64)> = rows
            .iter()
            .map(|row| {
                let (r, n, m, _) = expected[ids[&row[0]].as_str()];
                // Oriented so that higher is better, as scores are.
                let value = [-r, n as f64, m][k];
                (value, row[1 + k].parse().expect("score"))
            })
            .collect();
        let mut sizes = [0u64; 5];
        for (_, s) in &scored {
            sizes[(*s - 1) as usize] += 1;
        }
        assert_eq!(sizes, [472, 472, 471, 471, 471], "measure {k}");
        scored.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(
            scored.windows(2).all(|w| w[0].1 <= w[1].1),
            "measure {k}: a better value got a lower quintile"
        );
        let mut scores: Vec<u64> = scored.iter().map(|s| s.1).collect();
        scores.sort();
        let median = scores[scores.len() / 2] as f64;
        for row in &rows {
            let s: f64 = row[1 + k].parse().expect("score");
            let letter = if s >= median { 'H' } else { 'L' };
            assert_eq!(row[4].chars().nth(k), Some(letter), "{row:?}");
        }
    }
}

#[test]
fn whitespace_separated_files_read_by_runs_of_blanks() {
    let dir = scratch("blanks");
    std::fs::write(
        dir.join("shop.mj"),
        "source txn from csv(\"txn.txt\", header = true, delimiter = \"whitespace\") {\n  \
         customer string not null\n  day date\n  amount double\n}\n",
    )
    .expect("spec");
    // Columns in another order than declared, tabs and runs of spaces, a blank line, a
    // line with a field missing and a number that is not one.
    std::fs::write(
        dir.join("txn.txt"),
        "  amount   customer day\n 29.33  00004   19970101\n\t14.96\t00004\t19970802  \n\n\
         3.5 00007\n  abc  00009 19970105\n",
    )
    .expect("data");
    let out = dir.join("out");
    let (manifest, result) = run(&graph(&dir), &dir, &out, "1998-06-30");
    result.expect("runs");
    let input = &manifest.inputs[0];
    assert_eq!(
        (input.rows_accepted, input.rows_rejected),
        (2, 2),
        "{input:?}"
    );
    let rows = rows_text(
        &out.join("ods/txn/dt=1998-06-30"),
        &["customer", "day", "amount"],
    );
    assert_eq!(
        rows,
        [
            ["00004", "1997-01-01", "29.33"],
            ["00004", "1997-08-02", "14.96"]
        ]
    );
    let reasons = rows_text(&out.join("rejects/txn/dt=1998-06-30"), &["_reason"]);
    assert_eq!(
        reasons,
        [
            ["line 5: 2 field(s), expected 3"],
            ["amount: cannot read \"abc\" as double"]
        ]
    );
}

#[test]
fn a_distinct_count_of_a_checked_unique_column_is_a_count_after_the_check() {
    let spec = |severity: &str| {
        format!(
            "source pos_order from csv(\"orders.csv\", header = true) {{\n  order_id string not null\n  member_id string\n  amount decimal(10,2)\n  paid_at timestamp\n}}\n\n\
             oneid consumer {{\n  identifier member_id strong\n  link pos_order (member_id)\n}}\n\n\
             fact pay_order from pos_order {{\n  grain order_id\n  time paid_at\n  entity consumer\n  measures {{ amount }}\n}}\n\n\
             atomic pay_ord_cnt = count_distinct(pay_order.order_id)\n\
             derived pay_ord_cnt_30d = pay_ord_cnt[30d] by consumer\n\n\
             check unique pay_order.order_id{severity}\n"
        )
    };
    let lowered = |severity: &str| {
        let dir = scratch(&format!("unique{}", severity.len()));
        std::fs::write(dir.join("shop.mj"), spec(severity)).expect("spec");
        std::fs::write(
            dir.join("orders.csv"),
            "order_id,member_id,amount,paid_at\no1,m1,5,2025-06-20 10:00:00\n\
             o2,m1,5,2025-06-21 10:00:00\no1,m1,5,2025-06-22 10:00:00\n",
        )
        .expect("csv");
        let g = graph(&dir);
        let summary = g
            .nodes
            .iter()
            .find(|n| n.id == mj_ir::Table::new("dws", "dws_consumer"))
            .expect("summary");
        let mj_compiler::lower::NodeKind::Summary(job) = &summary.kind else {
            panic!("not a summary");
        };
        let m = job.parts[0].metrics[0].clone();

        let after_check = summary.deps.iter().any(|&d| g.nodes[d].id.layer == "check");
        (dir, g, m.aggregate, m.unique_by, after_check)
    };
    // An error check: a count, after the check.
    let (dir, g, aggregate, by, after) = lowered("");
    assert_eq!(
        (aggregate.name(), by.as_deref(), after),
        ("count", Some("check_pay_order_1"), true)
    );
    // o1 repeats: the check fails the run, and no summary is committed.
    let out = dir.join("out");
    let (_, result) = run(&g, &dir, &out, "2025-06-30");
    assert!(result.is_err());
    assert!(!out.join("dws/dws_consumer/dt=2025-06-30").exists());
    // A warning proves nothing: the distinct count stays.
    let (dir, g, aggregate, by, after) = lowered(" severity warn");
    assert_eq!(
        (aggregate.name(), by, after),
        ("count_distinct", None, false)
    );
    let out = dir.join("out");
    run(&g, &dir, &out, "2025-06-30")
        .1
        .expect("a warning does not fail");
    let rows = rows_text(
        &out.join("dws/dws_consumer/dt=2025-06-30"),
        &["pay_ord_cnt_30d"],
    );
    assert_eq!(rows, [["2"]]);
}

/// A key that repeats across two people: the fact keeps both rows (the join cannot
/// multiply them), each with the smaller OneID, and the mapping marks exactly one row
/// per key as the one facts join.
#[test]
fn a_repeated_key_joins_one_oneid_and_never_multiplies_rows() {
    let dir = scratch("repeatkey");
    std::fs::write(
        dir.join("shop.mj"),
        "source pos_order from csv(\"orders.csv\", header = true) {\n  order_id string not null\n  member_id string\n  amount decimal(10,2)\n  paid_at timestamp\n}\n\n\
         oneid consumer {\n  identifier member_id strong\n  link pos_order (member_id)\n}\n\n\
         fact pay_order from pos_order {\n  grain order_id\n  time paid_at\n  entity consumer\n  measures { amount }\n}\n",
    )
    .expect("spec");
    std::fs::write(
        dir.join("orders.csv"),
        "order_id,member_id,amount,paid_at\no1,m1,5,2025-06-20 10:00:00\n\
         o2,m2,7,2025-06-21 10:00:00\no1,m2,9,2025-06-22 10:00:00\n",
    )
    .expect("csv");
    let g = graph(&dir);
    let out = dir.join("out");
    run(&g, &dir, &out, "2025-06-30").1.expect("run");
    let ids = mapping(&out, "consumer", "2025-06-30");
    let of = |member_row: usize| ids[member_row].1.clone();
    // Rows sorted by record id: o1 (m1), o1 (m2), o2 (m2).
    assert_eq!(ids.len(), 3, "{ids:?}");
    let smaller = of(0).min(of(1));
    let batches = partition(&out.join("oneid/consumer/dt=2025-06-30"));
    let first: Vec<bool> = batches
        .iter()
        .flat_map(|b| {
            let c = b.column(4).as_boolean().clone();
            (0..b.num_rows())
                .map(move |i| c.value(i))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        first.iter().filter(|&&f| f).count(),
        2,
        "one per key: {first:?}"
    );
    let rows = rows_text(
        &out.join("dwd/pay_order/dt=2025-06-30"),
        &["order_id", "consumer", "amount"],
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    let o1: Vec<&Vec<String>> = rows.iter().filter(|r| r[0] == "o1").collect();
    assert_eq!(o1.len(), 2, "{rows:?}");
    assert!(o1.iter().all(|r| r[1] == smaller), "{rows:?} {smaller}");
}

/// A copy of `examples/showroom` (its specs and captures) in a scratch folder.
fn showroom_copy(name: &str) -> crate::common::Scratch {
    let dir = scratch(name);
    let src = repo().join("examples/showroom");
    let mut stack = vec![std::path::PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in std::fs::read_dir(src.join(&rel))
            .expect("example")
            .flatten()
        {
            let r = rel.join(e.file_name());
            if e.path().is_dir() {
                if e.file_name() != "out" {
                    std::fs::create_dir_all(dir.join(&r)).expect("dir");
                    stack.push(r);
                }
            } else {
                std::fs::copy(e.path(), dir.join(&r)).expect("copy");
            }
        }
    }
    dir
}

#[test]
fn scans_run_in_the_job_graph_with_their_outputs_staged_like_partitions() {
    let dir = showroom_copy("scan-run");
    let out = dir.join("out");
    let g = graph(&dir);
    let (manifest, result) = run(&g, &dir, &out, "2025-06-30");
    result.expect("the showroom runs");
    let sh = manifest
        .scans
        .iter()
        .find(|s| s.scan == "flagship_sh")
        .expect("flagship_sh in the manifest");
    let sh = &sh.report;
    assert_eq!((sh.rooms, sh.panoramas), (4, 4));
    // 108 m² built; 2 px of click noise in the shipped annotations.
    assert!((sh.area_m2 - 108.0).abs() / 108.0 < 0.03, "{}", sh.area_m2);
    let hz = &manifest
        .scans
        .iter()
        .find(|s| s.scan == "store_hz")
        .expect("store_hz")
        .report;
    // The point cloud is the 54 m² living room with its 135° wall.
    assert!((hz.area_m2 - 54.0).abs() / 54.0 < 0.02, "{}", hz.area_m2);
    for f in [
        "scans/flagship_sh.glb",
        "scans/flagship_sh.svg",
        "scans/flagship_sh.json",
        "scans/flagship_sh/model.obj",
        "scans/flagship_sh/model.mtl",
        "scans/flagship_sh/model_textures/0.jpg",
        "scans/flagship_sh_tour/index.html",
        "scans/flagship_sh_tour/viewer.js",
        "scans/flagship_sh_tour/data.js",
        "scans/store_hz.glb",
        "scans/store_hz/model.obj",
        "scans/store_hz/model.mtl",
    ] {
        assert!(out.join(f).is_file(), "{f}");
    }
    assert!(!out.join(".staging").join(&manifest.run_id).exists());
    let files = |out: &Path| {
        snapshot(out)
            .into_iter()
            .filter(|(n, _)| !n.contains("_runs"))
            .collect::<Vec<_>>()
    };
    let first = files(&out);
    run(&g, &dir, &out, "2025-06-30").1.expect("second run");
    assert_eq!(files(&out), first, "the same captures give the same bytes");
    // A capture that cannot be decoded fails the run, names the file and changes nothing.
    std::fs::write(dir.join("scans/sh/kitchen.jpg"), b"not a jpeg").expect("break");
    let (manifest, result) = run(&g, &dir, &out, "2025-06-30");
    let error = result.expect_err("a broken panorama fails the run").message;
    assert!(
        error.contains("scan.flagship_sh") && error.contains("kitchen.jpg"),
        "{error}"
    );
    assert_eq!(manifest.status, "failed");
    assert_eq!(files(&out), first, "earlier outputs intact");
}
