//! Deterministic synthetic data for the example project (`examples/meijia`): the
//! six sources it declares, realistic where identity resolution (OneID) is tested,
//! and the ground truth of which records are the same person.
//!
//! # Files
//!
//! Written under the output directory (directories are created):
//!
//! | file | source | columns |
//! |---|---|---|
//! | `data/crm/member.csv` | `crm_member` | `member_id,phone,email,gender,birthday,city,level,joined_at` |
//! | `data/pos/orders/part-NNNNN.parquet` | `pos_order` | see [`order_schema`] |
//! | `data/app/part-NNNNN.jsonl` | `app_event` | `event_id,device_id,member_id,openid,appid,event,style,item_id,lat,lon,ts` |
//! | `data/media/{douyin,wechat,weibo,toutiao}.csv` | `media_touch` | `touch_id,device_id,platform,kind,campaign,ts` |
//! | `data/erp/store.csv` | `erp_store` | `store_id,name,city,adcode,lat,lon,service_radius_km` |
//! | `data/erp/category.csv` | `erp_category` | `category,name,line` |
//! | `truth/records.csv` | | `source,record_id,person_id` |
//! | `truth/bad_rows.csv` | | `source,record_id,person_id,column,value` |
//!
//! CSV files have a header row; timestamps are `YYYY-MM-DD HH:MM:SS`, dates
//! `YYYY-MM-DD`. Orders and app events are split into parts of at most
//! [`PART_ROWS`] rows (`part-00000` always exists, possibly empty); part files of
//! an earlier, larger run in those two directories are removed. Order parts are
//! Parquet (Snappy), written in record batches of 65,536 rows:
//! `order_id` Utf8 not null, `member_id` Utf8, `phone` Utf8, `store_id` Utf8 not
//! null, `channel` Utf8 not null, `category` Utf8, `amount` Decimal128(18, 2),
//! `qty` Int64, `status` Utf8, `paid_at` Timestamp(Microsecond, no time zone).
//! App events are NDJSON, one object per line, keys in the column order above;
//! optional keys (`member_id`, `openid`, `appid`, `style`, `item_id`, `lat`,
//! `lon`) are left out when absent; `lat` and `lon` are numbers, the rest strings.
//!
//! # The people
//!
//! Household `k` holds persons `2k` and `2k + 1` (counted from 0 here, from 1 in
//! `person_id`); 35% are couples sharing a home,
//! and 14% of couples (about 3% of all households) share a family iPad: its
//! device id appears in the app events of both. Every person has a unique mainland
//! mobile phone (its last digit is a checksum of the others, so a number with one
//! digit mistyped is nobody's), one or two own devices (UUID-shaped ids, upper case
//! for Apple devices), an openid per mini-program, and a home place; 60% are CRM
//! members (`M` and 8 digits) and half have an e-mail address (written to the CRM
//! only). Homes are at a store's place 85% of the time, otherwise anywhere, weighted
//! toward districts of large cities. Per year (volumes scale with `days / 365`) a
//! person averages about 2 orders (most have none), 8 app events and 10 media
//! touches; devices that are nobody's make up about 30% of the media rows.
//!
//! The identifiers are written as real systems write them: phones as
//! `13812345678`, `+86 138 1234 5678`, `+86-138-1234-5678`, `138-1234-5678`,
//! `0086 13812345678`, `138 1234 5678`, `+8613812345678` or with spaces around;
//! e-mails sometimes with capitals or surrounding spaces. Orders carry the member
//! id on 70% of a member's orders and a phone on 85% of store orders and 98% of
//! online ones; 0.5% of those phones are junk (`13800000000`, `00000000000`) and 1%
//! have one digit mistyped (each such number appears on that one order only). App
//! events always carry a device id, a member id when logged in (30% of a member's
//! events) and, for mini-program events (40%), the person's openid and the appid.
//!
//! # Bad rows
//!
//! Exactly these rows are malformed, so that loaders have something to reject.
//! Positions count data rows from 1 in the order written; `BAD_ROW_EVERY` is 500.
//!
//! * `crm_member`: the row at each position `500·k` — for odd `k` the `birthday` is
//!   `YYYY-13-45` (`YYYY` the member's birth year); for even `k` the `joined_at` is
//!   `yesterday`. There are `⌊rows / 500⌋` of them.
//! * `app_event`: the event at each position `500·k` over all parts (its `event_id`
//!   is `E` and the position in 10 digits) — for odd `k` the `ts` is
//!   `0000-00-00 00:00:00`; for even `k` it is February 30 of the event's year
//!   (`YYYY-02-30 HH:MM:SS`). There are `⌊rows / 500⌋` of them.
//! * `media_touch`: in each platform's file, the row at each position `500·k` has an
//!   empty `platform` (declared not null). There are `⌊rows / 500⌋` per file.
//!
//! # Truth
//!
//! `truth/records.csv` has one row per source record that belongs to a person and
//! is not a bad row, for the sources OneID links: `crm_member`, `pos_order`,
//! `app_event` and `media_touch`. `record_id` is the row's first column and
//! `person_id` is `P` and 8 digits (persons counted from 1). Every order belongs to
//! the person who placed it, also when its phone is junk, mistyped or missing.
//! Media touches of anonymous devices are nobody's and are left out, so a
//! `media_touch` row whose id is neither in `records.csv` nor in `bad_rows.csv`
//! is anonymous. Bad rows are listed in `truth/bad_rows.csv` instead, with the
//! person they belong to (empty for anonymous touches), the malformed column and
//! its value.
//!
//! # Determinism
//!
//! The same [`GenConfig`] gives byte-identical files. Every household draws from its
//! own ChaCha8 stream of the seed; rows are shuffled within runs of households so
//! that one person's rows are not neighbours; identifiers come from bijections of
//! the person's number, so they are unique without being remembered. Nothing reads
//! the clock. Rows stream to the files; memory does not grow with the number of
//! consumers.

mod ids;
mod out;
mod people;
mod places;
mod rng;
mod text;
mod world;

#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

pub use out::order_schema;
pub use places::{BUNDLED as BUNDLED_PLACES, store_count};

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenConfig {
    pub consumers: u64,
    /// Data covers the `days` days ending at `end` (inclusive).
    pub days: u32,
    pub seed: u64,
    pub end: chrono::NaiveDate,
    /// An `adcodes.csv` to read places from (`adcode,name,longitude,latitude`; rows
    /// without coordinates are skipped); `None` takes the list compiled into the crate.
    pub places: Option<PathBuf>,
}

/// What was generated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenSummary {
    /// Each file written (path relative to the output directory, `/`-separated)
    /// and its rows (header lines not counted).
    pub files: Vec<(String, u64)>,
    pub persons: u64,
}

#[derive(Debug)]
pub struct GenError {
    pub message: String,
}

impl GenError {
    pub(crate) fn new(message: impl Into<String>) -> GenError {
        GenError {
            message: message.into(),
        }
    }
}

impl std::fmt::Display for GenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for GenError {}

/// Rows per part file of orders and of app events.
pub const PART_ROWS: u64 = 1_000_000;

/// Every this many rows one is malformed (see the crate documentation).
pub const BAD_ROW_EVERY: u64 = 500;

/// The most consumers one run can keep apart.
pub const MAX_CONSUMERS: u64 = ids::MAX_PERSONS;

/// Households generated, shuffled and written together.
const CHUNK_HOUSEHOLDS: u64 = 8192;

/// For each source: its name, its location as the spec declares it, and its
/// columns in order.
pub fn layout() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    vec![
        (
            "pos_order",
            "data/pos/orders/*.parquet",
            vec![
                "order_id",
                "member_id",
                "phone",
                "store_id",
                "channel",
                "category",
                "amount",
                "qty",
                "status",
                "paid_at",
            ],
        ),
        (
            "app_event",
            "data/app/*.jsonl",
            vec![
                "event_id",
                "device_id",
                "member_id",
                "openid",
                "appid",
                "event",
                "style",
                "item_id",
                "lat",
                "lon",
                "ts",
            ],
        ),
        (
            "crm_member",
            "data/crm/member.csv",
            vec![
                "member_id",
                "phone",
                "email",
                "gender",
                "birthday",
                "city",
                "level",
                "joined_at",
            ],
        ),
        (
            "media_touch",
            "data/media/*.csv",
            vec![
                "touch_id",
                "device_id",
                "platform",
                "kind",
                "campaign",
                "ts",
            ],
        ),
        (
            "erp_store",
            "data/erp/store.csv",
            vec![
                "store_id",
                "name",
                "city",
                "adcode",
                "lat",
                "lon",
                "service_radius_km",
            ],
        ),
        (
            "erp_category",
            "data/erp/category.csv",
            vec!["category", "name", "line"],
        ),
    ]
}

/// Writes the data of `cfg` under `out`.
///
/// Households are generated on a second thread while the previous run of them is
/// written; the output does not depend on the timing.
pub fn generate(cfg: &GenConfig, out: &Path) -> Result<GenSummary, GenError> {
    let world = world::World::new(cfg)?;
    let mut sinks = out::Sinks::create(out, &world)?;
    let households = cfg.consumers.div_ceil(2);
    let chunks = households.div_ceil(CHUNK_HOUSEHOLDS);
    let world = &world;
    std::thread::scope(|scope| -> Result<(), GenError> {
        let (send, receive) = std::sync::mpsc::sync_channel(1);
        let producer = scope.spawn(move || {
            for c in 0..chunks {
                let first = c * CHUNK_HOUSEHOLDS;
                let last = (first + CHUNK_HOUSEHOLDS).min(households);
                if send.send(people::chunk(world, first..last, c)).is_err() {
                    break;
                }
            }
        });
        let mut result = Ok(());
        for rows in receive.iter() {
            result = sinks.write(world, rows);
            if result.is_err() {
                break;
            }
        }
        drop(receive);
        producer
            .join()
            .map_err(|_| GenError::new("generating households failed"))?;
        result
    })?;
    Ok(GenSummary {
        files: sinks.finish()?,
        persons: cfg.consumers,
    })
}
