//! `mj check` on a generated project: 1,000 derived metrics over 50 atomic metrics, 10
//! periods and 20 modifiers. Reports a cold check (new database) and a re-check after
//! editing one file.

use criterion::{Criterion, criterion_group, criterion_main};
use salsa::Setter;

/// The generated project, as (path, text) files.
pub fn project() -> Vec<(String, String)> {
    let facts = ["pay", "refund", "visit", "view", "click"];
    let mut model = String::from("glossary {\n");
    let words = [
        "sofa", "bed", "desk", "lamp", "rug", "chair", "shelf", "table", "light", "mat", "red",
        "blue", "green", "gold", "oak", "pine", "wool", "silk", "vip", "kid",
    ];
    for w in words {
        model.push_str(&format!("  root {w} \"{w}\"\n"));
    }
    for i in 0..10 {
        model.push_str(&format!("  root p{i} \"period {i}\"\n"));
    }
    for i in 0..10 {
        model.push_str(&format!("  root m{i} \"measure {i}\"\n"));
    }
    model.push_str("}\n\n");
    for f in facts {
        model.push_str(&format!(
            "source {f}_src from parquet(\"{f}/*.parquet\") {{\n  id string not null\n  member_id string\n  \
             kind string\n  store_id string\n{}  at timestamp\n}}\n\n",
            (0..10).map(|i| format!("  m{i} decimal(18,2) unit currency(CNY)\n")).collect::<String>()
        ));
        model.push_str(&format!(
            "fact {f}_fact from {f}_src {{\n  grain id\n  time at\n  entity consumer\n  dims {{ kind, store_id }}\n  \
             measures {{ {} }}\n}}\n\n",
            (0..10).map(|i| format!("m{i}")).collect::<Vec<_>>().join(", ")
        ));
    }
    model.push_str("oneid consumer {\n  identifier member_id strong\n");
    for f in facts {
        model.push_str(&format!("  link {f}_src (member_id)\n"));
    }
    model.push_str("}\n\n");
    let mut atomics = Vec::new();
    for f in facts {
        for i in 0..10 {
            let name = format!("{f}_m{i}");
            model.push_str(&format!("atomic {name} = sum({f}_fact.m{i})\n"));
            atomics.push((name, f));
        }
    }
    for i in 0..10 {
        model.push_str(&format!("period p{i} = last {} days\n", i + 40));
    }
    for (i, w) in words.iter().enumerate() {
        let f = facts[i % facts.len()];
        model.push_str(&format!("modifier {w} on {f}_fact = kind == \"{w}\"\n"));
    }
    let mut files = vec![("model.mj".to_string(), model)];
    let mut derived = String::new();
    let mut n = 0;
    'outer: for (a, f) in &atomics {
        for p in 0..10 {
            for m in [None, Some(0), Some(1)] {
                let modifier = m.map(|k| {
                    let fi = facts.iter().position(|x| x == f).expect("known fact");
                    words[fi + 5 * k]
                });
                let (prefix, q) = match modifier {
                    Some(w) => (format!("{w}_"), format!(", {w}")),
                    None => (String::new(), String::new()),
                };
                if m == Some(1) && p >= 4 {
                    continue;
                }
                derived.push_str(&format!(
                    "derived {prefix}{a}_p{p} = {a}[p{p}{q}] by consumer\n"
                ));
                n += 1;
                if n % 100 == 0 {
                    files.push((
                        format!("derived_{}.mj", n / 100),
                        std::mem::take(&mut derived),
                    ));
                }
                if n == 1000 {
                    break 'outer;
                }
            }
        }
    }
    files
}

fn bench(c: &mut Criterion) {
    let files = project();
    {
        let db = mj_compiler::Database::default();
        let p = mj_compiler::load(&db, &files);
        let diags = mj_compiler::all_diagnostics(&db, p);
        assert!(
            diags.is_empty(),
            "the generated project must check clean: {:#?}",
            diags.iter().take(3).map(|d| &d.message).collect::<Vec<_>>()
        );
        let derived: usize = files
            .iter()
            .map(|(_, t)| t.matches("derived ").count())
            .sum();
        assert_eq!(derived, 1000);
    }
    let mut g = c.benchmark_group("check");
    g.sample_size(20);
    g.bench_function("cold_1000_derived", |b| {
        b.iter(|| {
            let db = mj_compiler::Database::default();
            let p = mj_compiler::load(&db, &files);
            mj_compiler::all_diagnostics(&db, p).len()
        })
    });
    let mut db = mj_compiler::Database::default();
    let p = mj_compiler::load(&db, &files);
    let _ = mj_compiler::all_diagnostics(&db, p);
    let file = p.files(&db)[2];
    let text = file.text(&db).clone();
    let mut flip = false;
    g.bench_function("recheck_after_editing_one_file", |b| {
        b.iter(|| {
            flip = !flip;
            let t = if flip {
                format!("{text}\n// edited\n")
            } else {
                text.clone()
            };
            file.set_text(&mut db).to(t);
            mj_compiler::all_diagnostics(&db, p).len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
