use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::*;

const CONSUMERS: u64 = 2000;
const DAYS: u32 = 90;

/// The project's copy of the place list, the one compiled into the crate.
fn places() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/data/adcodes.csv"))
}

fn config(seed: u64) -> GenConfig {
    GenConfig {
        consumers: CONSUMERS,
        days: DAYS,
        seed,
        end: chrono::NaiveDate::from_ymd_opt(2025, 6, 30).unwrap(),
        places: None,
    }
}

/// A scratch directory removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("mj-gen-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn run(name: &str, seed: u64) -> (Scratch, GenSummary) {
    let dir = Scratch::new(name);
    let summary = generate(&config(seed), &dir.0).unwrap();
    (dir, summary)
}

/// Splits CSV text into rows of fields (quotes honoured); the header is the first.
fn csv(path: &Path) -> Vec<Vec<String>> {
    let text = fs::read_to_string(path).unwrap();
    let mut rows = Vec::new();
    for line in text.lines() {
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match (c, quoted) {
                ('"', true) if chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                ('"', _) => quoted = !quoted,
                (',', false) => fields.push(std::mem::take(&mut field)),
                (c, _) => field.push(c),
            }
        }
        fields.push(field);
        rows.push(fields);
    }
    rows
}

fn files_under(dir: &Path, sub: &str, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir.join(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

struct Order {
    id: String,
    member: Option<String>,
    phone: Option<String>,
    store: String,
    channel: String,
    category: String,
    cents: i128,
    qty: i64,
}

fn orders(dir: &Path) -> Vec<Order> {
    let mut out = Vec::new();
    for path in files_under(dir, "data/pos/orders", "parquet") {
        let reader = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for batch in reader {
            let b = batch.unwrap();
            let s = |i: usize| b.column(i).as_string::<i32>().clone();
            let (id, member, phone, store, channel, category) =
                (s(0), s(1), s(2), s(3), s(4), s(5));
            let amount = b
                .column(6)
                .as_primitive::<arrow::datatypes::Decimal128Type>();
            let qty = b.column(7).as_primitive::<arrow::datatypes::Int64Type>();
            let opt = |a: &arrow::array::StringArray, i: usize| {
                a.is_valid(i).then(|| a.value(i).to_string())
            };
            for i in 0..b.num_rows() {
                out.push(Order {
                    id: id.value(i).to_string(),
                    member: opt(&member, i),
                    phone: opt(&phone, i),
                    store: store.value(i).to_string(),
                    channel: channel.value(i).to_string(),
                    category: category.value(i).to_string(),
                    cents: amount.value(i),
                    qty: qty.value(i),
                });
            }
        }
    }
    out
}

fn events(dir: &Path) -> Vec<serde_json::Map<String, serde_json::Value>> {
    let mut out = Vec::new();
    for path in files_under(dir, "data/app", "jsonl") {
        for line in fs::read_to_string(path).unwrap().lines() {
            match serde_json::from_str(line).unwrap() {
                serde_json::Value::Object(map) => out.push(map),
                other => panic!("not an object: {other}"),
            }
        }
    }
    out
}

fn touches(dir: &Path) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for path in files_under(dir, "data/media", "csv") {
        out.extend(csv(&path).into_iter().skip(1));
    }
    out
}

fn text<'a>(event: &'a serde_json::Map<String, serde_json::Value>, key: &str) -> Option<&'a str> {
    event.get(key).and_then(|v| v.as_str())
}

/// `(source, record_id) → person_id` from `truth/records.csv`.
fn truth(dir: &Path) -> BTreeMap<(String, String), String> {
    let rows = csv(&dir.join("truth/records.csv"));
    assert_eq!(rows[0], ["source", "record_id", "person_id"]);
    let mut map = BTreeMap::new();
    for r in &rows[1..] {
        let old = map.insert((r[0].clone(), r[1].clone()), r[2].clone());
        assert!(old.is_none(), "{r:?} twice");
    }
    map
}

fn bad_rows(dir: &Path) -> Vec<Vec<String>> {
    let rows = csv(&dir.join("truth/bad_rows.csv"));
    assert_eq!(
        rows[0],
        ["source", "record_id", "person_id", "column", "value"]
    );
    rows[1..].to_vec()
}

/// The 11 national digits of a mainland mobile however written, like OneID's
/// `phone_cn`.
fn national(raw: &str) -> Option<String> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let n = if digits.len() == 15 && digits.starts_with("0086") {
        &digits[4..]
    } else if digits.len() == 13 && digits.starts_with("86") {
        &digits[2..]
    } else {
        &digits[..]
    };
    (n.len() == 11
        && n.starts_with('1')
        && !n.starts_with("10")
        && !n.starts_with("11")
        && !n.starts_with("12"))
    .then(|| n.to_string())
}

#[test]
fn the_same_config_gives_the_same_bytes() {
    let (a, sa) = run("same-a", 11);
    let (b, sb) = run("same-b", 11);
    assert_eq!(sa, sb);
    for (file, _) in &sa.files {
        let x = fs::read(a.0.join(file)).unwrap();
        let y = fs::read(b.0.join(file)).unwrap();
        assert!(x == y, "{file} differs");
    }
    let (c, _) = run("same-c", 12);
    assert_ne!(
        fs::read(a.0.join("data/crm/member.csv")).unwrap(),
        fs::read(c.0.join("data/crm/member.csv")).unwrap()
    );
}

#[test]
fn counts_match_the_files_and_truth_points_at_real_rows() {
    let (dir, summary) = run("counts", 5);
    let dir = &dir.0;
    assert_eq!(summary.persons, CONSUMERS);
    for (file, rows) in &summary.files {
        let path = dir.join(file);
        let counted = if file.ends_with(".parquet") {
            let meta = ParquetRecordBatchReaderBuilder::try_new(fs::File::open(&path).unwrap())
                .unwrap()
                .metadata()
                .clone();
            meta.file_metadata().num_rows() as u64
        } else if file.ends_with(".jsonl") {
            fs::read_to_string(&path).unwrap().lines().count() as u64
        } else {
            csv(&path).len() as u64 - 1
        };
        assert_eq!(counted, *rows, "{file}");
    }
    let listed: BTreeSet<&str> = summary.files.iter().map(|(f, _)| f.as_str()).collect();
    for f in [
        "data/crm/member.csv",
        "data/pos/orders/part-00000.parquet",
        "data/app/part-00000.jsonl",
        "data/media/douyin.csv",
        "data/media/wechat.csv",
        "data/media/weibo.csv",
        "data/media/toutiao.csv",
        "data/erp/store.csv",
        "data/erp/category.csv",
        "truth/records.csv",
        "truth/bad_rows.csv",
    ] {
        assert!(listed.contains(f), "{f} missing");
    }

    let mut ids: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let members = csv(&dir.join("data/crm/member.csv"));
    ids.insert(
        "crm_member",
        members[1..].iter().map(|r| r[0].clone()).collect(),
    );
    ids.insert("pos_order", orders(dir).into_iter().map(|o| o.id).collect());
    ids.insert(
        "app_event",
        events(dir)
            .iter()
            .map(|e| text(e, "event_id").unwrap().to_string())
            .collect(),
    );
    ids.insert(
        "media_touch",
        touches(dir).into_iter().map(|r| r[0].clone()).collect(),
    );
    let rows_of = |source: &str| -> u64 {
        summary
            .files
            .iter()
            .filter(|(f, _)| match source {
                "crm_member" => f.starts_with("data/crm/"),
                "pos_order" => f.starts_with("data/pos/"),
                "app_event" => f.starts_with("data/app/"),
                _ => f.starts_with("data/media/"),
            })
            .map(|(_, n)| n)
            .sum()
    };
    for (source, set) in &ids {
        assert_eq!(
            set.len() as u64,
            rows_of(source),
            "{source} ids are not unique"
        );
    }

    let truth = truth(dir);
    let bad = bad_rows(dir);
    let bad_ids: BTreeSet<(String, String)> =
        bad.iter().map(|r| (r[0].clone(), r[1].clone())).collect();
    for ((source, record), person) in &truth {
        assert!(
            ids[source.as_str()].contains(record),
            "{source} {record} not in the data"
        );
        assert!(!bad_ids.contains(&(source.clone(), record.clone())));
        let n: u64 = person.strip_prefix('P').unwrap().parse().unwrap();
        assert!(
            person.len() == 9 && (1..=CONSUMERS).contains(&n),
            "{person}"
        );
    }
    for (source, record) in &bad_ids {
        assert!(
            ids[source.as_str()].contains(record),
            "{source} {record} not in the data"
        );
    }
    // Every row of the person-only sources is in the truth or a bad row; only media
    // touches may be nobody's.
    for source in ["crm_member", "pos_order", "app_event"] {
        for id in &ids[source] {
            let key = (source.to_string(), id.clone());
            assert!(
                truth.contains_key(&key) || bad_ids.contains(&key),
                "{key:?}"
            );
        }
    }
    let anonymous = ids["media_touch"]
        .iter()
        .filter(|id| {
            let key = ("media_touch".to_string(), (*id).clone());
            !truth.contains_key(&key) && !bad_ids.contains(&key)
        })
        .count() as f64;
    let share = anonymous / ids["media_touch"].len() as f64;
    assert!((0.2..0.4).contains(&share), "anonymous media share {share}");
}

#[test]
fn identities_are_noisy_the_way_real_ones_are() {
    let (dir, _) = run("noise", 3);
    let dir = &dir.0;
    let truth = truth(dir);
    let person = |source: &str, id: &str| truth.get(&(source.to_string(), id.to_string())).cloned();

    // Phones: every person's written phones name one number, in several formats.
    let mut phones: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let members = csv(&dir.join("data/crm/member.csv"));
    let mut member_of: BTreeMap<String, String> = BTreeMap::new();
    let mut emails = Vec::new();
    for r in &members[1..] {
        if let Some(p) = person("crm_member", &r[0]) {
            if !r[1].is_empty() {
                phones.entry(p.clone()).or_default().insert(r[1].clone());
            }
            assert!(
                member_of.insert(p, r[0].clone()).is_none(),
                "two member ids"
            );
        }
        assert!(r[0].len() == 9 && r[0].starts_with('M'), "{}", r[0]);
        if !r[2].is_empty() {
            emails.push(r[2].clone());
        }
    }
    let orders = orders(dir);
    let mut junk = 0;
    let mut typos = Vec::new();
    for o in &orders {
        let p = person("pos_order", &o.id).expect("every order is somebody's");
        if let Some(m) = &o.member {
            assert_eq!(member_of.get(&p).unwrap_or(m), m, "a member's card");
        }
        let Some(raw) = &o.phone else { continue };
        if raw == "13800000000" || raw == "00000000000" {
            junk += 1;
        } else {
            phones.entry(p).or_default().insert(raw.clone());
        }
    }
    let mut holders: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut several_formats = 0;
    for (p, raws) in &phones {
        let mut numbers: BTreeMap<String, usize> = BTreeMap::new();
        for raw in raws {
            *numbers.entry(national(raw).expect(raw)).or_default() += 1;
        }
        // The person's own number passes the check digit; any other is a typo.
        let mine: Vec<&String> = numbers
            .keys()
            .filter(|n| crate::ids::phone_is_canonical(n.parse().unwrap()))
            .collect();
        assert_eq!(mine.len(), 1, "{p}: {raws:?}");
        let main = mine[0];
        holders.entry(main.clone()).or_default().insert(p.clone());
        typos.extend(numbers.keys().filter(|n| *n != main).cloned());
        let formats = raws
            .iter()
            .filter(|r| national(r).as_ref() == Some(main))
            .count();
        if formats >= 2 {
            several_formats += 1;
        }
    }
    assert!(
        several_formats > 50,
        "{several_formats} persons with phones in two formats"
    );
    assert!(
        holders.values().all(|h| h.len() == 1),
        "a phone shared by two persons"
    );
    assert!(junk >= 1, "no junk phones");
    assert!(!typos.is_empty(), "no mistyped phones");
    for t in &typos {
        assert!(!holders.contains_key(t), "typo {t} is somebody's phone");
    }
    assert!(
        emails.iter().any(|e| e != e.trim()),
        "no e-mail with spaces"
    );
    assert!(
        emails
            .iter()
            .any(|e| e.chars().any(|c| c.is_ascii_uppercase())),
        "no e-mail with capitals"
    );
    let normalized: Vec<String> = emails.iter().map(|e| e.trim().to_lowercase()).collect();
    assert_eq!(
        normalized.iter().collect::<BTreeSet<_>>().len(),
        normalized.len(),
        "e-mails are unique"
    );

    // Devices: a family iPad shows up in two persons' events; openids are stable.
    let mut device_persons: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut person_devices: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut openids: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut openid_owner: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for e in events(dir) {
        let Some(p) = person("app_event", text(&e, "event_id").unwrap()) else {
            continue;
        };
        let device = text(&e, "device_id")
            .expect("every event has a device")
            .to_string();
        device_persons
            .entry(device.clone())
            .or_default()
            .insert(p.clone());
        person_devices.entry(p.clone()).or_default().insert(device);
        if let Some(m) = text(&e, "member_id") {
            assert_eq!(member_of.get(&p).map(String::as_str).unwrap_or(m), m);
        }
        match (text(&e, "openid"), text(&e, "appid")) {
            (Some(o), Some(a)) => {
                assert!(a.starts_with("wx") && a.len() == 18);
                openids
                    .entry((p.clone(), a.to_string()))
                    .or_default()
                    .insert(o.to_string());
                openid_owner
                    .entry((a.to_string(), o.to_string()))
                    .or_default()
                    .insert(p);
            }
            (None, None) => {}
            other => panic!("openid without appid: {other:?}"),
        }
    }
    let shared = device_persons.values().filter(|p| p.len() == 2).count();
    assert!(shared >= 1, "no shared device");
    assert!(device_persons.values().all(|p| p.len() <= 2));
    assert!(person_devices.values().all(|d| d.len() <= 3));
    assert!(openids.values().all(|o| o.len() == 1), "openid not stable");
    assert!(openid_owner.values().all(|p| p.len() == 1), "openid shared");
    let apps: BTreeSet<&String> = openids.keys().map(|(_, a)| a).collect();
    assert_eq!(apps.len(), 2);

    // Media touches of persons use their own devices.
    for r in touches(dir) {
        if let Some(p) = person("media_touch", &r[0]) {
            assert!(["impression", "click"].contains(&r[3].as_str()));
            assert!(device_persons.get(&r[1]).is_none_or(|ps| ps.contains(&p)));
        }
    }
}

#[test]
fn bad_rows_are_exactly_the_documented_ones() {
    let (dir, summary) = run("bad", 9);
    let dir = &dir.0;
    let rows = |prefix: &str| -> Vec<u64> {
        summary
            .files
            .iter()
            .filter(|(f, _)| f.starts_with(prefix))
            .map(|(_, n)| *n)
            .collect()
    };
    let bad = bad_rows(dir);
    let count = |source: &str| bad.iter().filter(|r| r[0] == source).count() as u64;

    let members = csv(&dir.join("data/crm/member.csv"));
    let crm_rows = rows("data/crm/")[0];
    assert_eq!(count("crm_member"), crm_rows / BAD_ROW_EVERY);
    assert!(count("crm_member") >= 2);
    let date = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok();
    let time = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").is_ok();
    for (i, r) in members[1..].iter().enumerate() {
        let position = i as u64 + 1;
        let k = position / BAD_ROW_EVERY;
        if position.is_multiple_of(BAD_ROW_EVERY) && k % 2 == 1 {
            assert!(!date(&r[4]) && r[4].ends_with("-13-45"), "{r:?}");
            assert!(time(&r[7]));
        } else if position.is_multiple_of(BAD_ROW_EVERY) {
            assert_eq!(r[7], "yesterday");
            assert!(date(&r[4]));
        } else {
            assert!(date(&r[4]) && time(&r[7]), "{r:?}");
        }
    }

    let events = events(dir);
    assert_eq!(count("app_event"), events.len() as u64 / BAD_ROW_EVERY);
    let unparsable: Vec<&str> = events
        .iter()
        .map(|e| text(e, "ts").unwrap())
        .filter(|ts| !time(ts))
        .collect();
    assert_eq!(unparsable.len() as u64, count("app_event"));
    assert!(unparsable.contains(&"0000-00-00 00:00:00"));
    assert!(unparsable.iter().any(|t| t.contains("-02-30 ")));

    let mut empty = 0;
    for (file, n) in summary
        .files
        .iter()
        .filter(|(f, _)| f.starts_with("data/media/"))
    {
        let rows = csv(&dir.join(file));
        let here = rows[1..].iter().filter(|r| r[2].is_empty()).count() as u64;
        assert_eq!(here, n / BAD_ROW_EVERY, "{file}");
        for (i, r) in rows[1..].iter().enumerate() {
            assert_eq!(
                r[2].is_empty(),
                (i as u64 + 1).is_multiple_of(BAD_ROW_EVERY)
            );
            assert!(time(&r[5]));
        }
        empty += here;
    }
    assert_eq!(count("media_touch"), empty);
    assert!(empty >= 1);
    assert_eq!(bad.len() as u64, rows("truth/bad_rows")[0]);
}

#[test]
fn the_bundled_places_are_the_file_and_a_given_file_overrides_them() {
    let bundled = places::load(None).expect("bundled places");
    assert_eq!(bundled.len(), 3218, "places with coordinates");
    let file = places::load(Some(&places())).expect("the file");
    let key = |p: &places::Place| (p.adcode.clone(), p.name.clone(), p.lon_text.clone());
    assert_eq!(
        bundled.iter().map(key).collect::<Vec<_>>(),
        file.iter().map(key).collect::<Vec<_>>()
    );
    let scratch = Scratch::new("places");
    fs::create_dir_all(&scratch.0).unwrap();
    let two = scratch.0.join("two.csv");
    fs::write(
        &two,
        "adcode,name,longitude,latitude\n1,甲区,120.5,30.25\n2,乙县,,\n",
    )
    .unwrap();
    let given = places::load(Some(&two)).expect("a small list");
    assert_eq!(given.len(), 1);
    assert_eq!((given[0].name.as_str(), given[0].lat), ("甲区", 30.25));
    let bad = scratch.0.join("bad.csv");
    fs::write(&bad, "adcode,name,longitude,latitude\n1;甲区;120.5;30.25\n").unwrap();
    let err = places::load(Some(&bad)).unwrap_err().to_string();
    assert!(
        err.ends_with("bad.csv:2: expected adcode,name,longitude,latitude"),
        "{err}"
    );
    let missing = places::load(Some(&scratch.0.join("none.csv")))
        .unwrap_err()
        .to_string();
    assert!(missing.starts_with("cannot read places"), "{missing}");
}

#[test]
fn stores_are_at_real_places() {
    let (dir, _) = run("stores", 4);
    let adcodes = csv(&places());
    let known: BTreeSet<(String, String, String, String)> = adcodes[1..]
        .iter()
        .filter(|r| !r[2].is_empty())
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone(), r[3].clone()))
        .collect();
    let stores = csv(&dir.0.join("data/erp/store.csv"));
    assert_eq!(stores[0], layout()[4].2);
    assert_eq!(stores.len() as u64 - 1, store_count(CONSUMERS));
    let mut ids = BTreeSet::new();
    for s in &stores[1..] {
        assert!(ids.insert(s[0].clone()));
        let place = (s[3].clone(), s[2].clone(), s[5].clone(), s[4].clone());
        assert!(known.contains(&place), "{s:?}");
        let radius: f64 = s[6].parse().unwrap();
        assert!((3.0..=15.0).contains(&radius));
        assert!(s[1].contains(&s[2]));
    }
    // Orders name these stores and these categories.
    let categories = csv(&dir.0.join("data/erp/category.csv"));
    let codes: BTreeSet<&String> = categories[1..].iter().map(|r| &r[0]).collect();
    assert!(codes.len() >= 12);
    assert!(
        categories[1..]
            .iter()
            .any(|r| r[0] == "sofa" && r[1] == "沙发")
    );
    for o in orders(&dir.0) {
        assert!(ids.contains(&o.store), "{}", o.store);
        assert!(codes.contains(&o.category));
        assert!(
            ["store", "tmall", "jd", "wechat_mall", "douyin_shop"].contains(&o.channel.as_str())
        );
        assert!((5_000..=5_000_000).contains(&o.cents), "{}", o.cents);
        assert!((1..=5).contains(&o.qty));
    }
}

#[test]
fn volumes_follow_the_brief() {
    let (dir, summary) = run("volumes", 8);
    let scale = f64::from(DAYS) / 365.0;
    let rows = |prefix: &str| -> f64 {
        summary
            .files
            .iter()
            .filter(|(f, _)| f.starts_with(prefix))
            .map(|(_, n)| *n as f64)
            .sum()
    };
    let per_person = |prefix| rows(prefix) / CONSUMERS as f64 / scale;
    let orders = per_person("data/pos/");
    let events = per_person("data/app/");
    let media = per_person("data/media/");
    assert!(
        (1.6..2.4).contains(&orders),
        "orders per person-year {orders}"
    );
    assert!(
        (7.0..9.0).contains(&events),
        "events per person-year {events}"
    );
    assert!(
        (12.0..16.5).contains(&media),
        "touches per person-year {media}"
    );
    let members = rows("data/crm/") / CONSUMERS as f64;
    assert!((0.55..0.65).contains(&members), "member share {members}");
    // Most people buy nothing in a quarter.
    let truth = truth(&dir.0);
    let buyers: BTreeSet<&String> = truth
        .iter()
        .filter(|((s, _), _)| s == "pos_order")
        .map(|(_, p)| p)
        .collect();
    assert!((buyers.len() as f64) < CONSUMERS as f64 * 0.5);
}

#[test]
fn layout_is_the_spec_and_the_files() {
    // The example project's sources, read from its spec.
    let spec = fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/meijia/sources.mj"
    ))
    .unwrap();
    let mut declared = Vec::new();
    let mut current: Option<(String, String, Vec<String>)> = None;
    for line in spec.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("source ") {
            let name = rest.split_whitespace().next().unwrap().to_string();
            let location = rest.split('"').nth(3).unwrap().to_string();
            current = Some((name, location, Vec::new()));
        } else if line == "}" {
            declared.extend(current.take());
        } else if let Some((_, _, cols)) = current.as_mut()
            && let Some(col) = line.split_whitespace().next()
        {
            cols.push(col.to_string());
        }
    }
    let ours: Vec<(String, String, Vec<String>)> = layout()
        .into_iter()
        .map(|(n, l, c)| {
            (
                n.to_string(),
                l.to_string(),
                c.into_iter().map(String::from).collect(),
            )
        })
        .collect();
    assert_eq!(ours, declared);

    let (dir, _) = run("layout", 2);
    let dir = &dir.0;
    let columns = |source: &str| layout().into_iter().find(|l| l.0 == source).unwrap().2;
    assert_eq!(
        csv(&dir.join("data/crm/member.csv"))[0],
        columns("crm_member")
    );
    for f in files_under(dir, "data/media", "csv") {
        assert_eq!(csv(&f)[0], columns("media_touch"));
    }
    assert_eq!(
        csv(&dir.join("data/erp/category.csv"))[0],
        columns("erp_category")
    );
    let file = fs::File::open(dir.join("data/pos/orders/part-00000.parquet")).unwrap();
    let schema = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .schema()
        .clone();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, columns("pos_order"));
    assert_eq!(schema.field(6).data_type(), &DataType::Decimal128(18, 2));
    assert_eq!(
        schema.field(9).data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, None)
    );
    assert!(!schema.field(0).is_nullable() && schema.field(1).is_nullable());
    let keys = columns("app_event");
    for path in files_under(dir, "data/app", "jsonl") {
        for line in fs::read_to_string(path).unwrap().lines() {
            // Keys appear in the column order.
            let at: Vec<usize> = keys
                .iter()
                .filter_map(|k| line.find(&format!("\"{k}\":")))
                .collect();
            assert!(at.windows(2).all(|w| w[0] < w[1]), "{line}");
            for k in ["event_id", "device_id", "event", "ts"] {
                assert!(line.contains(&format!("\"{k}\":")), "{line}");
            }
        }
    }
}

#[test]
fn a_second_run_replaces_the_first() {
    let dir = Scratch::new("rerun");
    let stale = dir.0.join("data/app/part-00007.jsonl");
    fs::create_dir_all(stale.parent().unwrap()).unwrap();
    fs::write(&stale, "{}\n").unwrap();
    let mut cfg = config(1);
    cfg.consumers = 10;
    let summary = generate(&cfg, &dir.0).unwrap();
    assert!(!stale.exists());
    assert!(
        summary
            .files
            .iter()
            .any(|(f, _)| f == "data/app/part-00000.jsonl")
    );
    cfg.consumers = 0;
    let empty = generate(&cfg, &dir.0).unwrap();
    assert!(
        empty
            .files
            .iter()
            .all(|(f, n)| *n == 0 || f.starts_with("data/erp/"))
    );
}

#[test]
fn bad_configs_are_errors() {
    let dir = Scratch::new("errors");
    let mut cfg = config(1);
    cfg.days = 0;
    assert!(generate(&cfg, &dir.0).is_err());
    let mut cfg = config(1);
    cfg.places = Some(dir.0.join("nowhere.csv"));
    let e = generate(&cfg, &dir.0).unwrap_err();
    assert!(e.to_string().contains("nowhere.csv"), "{e}");
}
