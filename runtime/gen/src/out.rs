//! The files: text files written a megabyte at a time, Parquet in batches, parts
//! rolled over at [`PART_ROWS`] rows.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    ArrayRef, Decimal128Builder, Int64Builder, RecordBatch, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::ids::{JUNK_PHONES, push_phone};
use crate::people::{Phone, Rows, resolve_typo};
use crate::text::{push_clock, push_csv, push_fixed, push_json_str, push_padded};
use crate::world::{
    APPIDS, CATEGORIES, CHANNEL_PREFIX, CHANNELS, EVENTS, GENDERS, LEVELS, PLATFORM_PREFIX,
    PLATFORMS, STYLES, World,
};
use crate::{BAD_ROW_EVERY, GenError, PART_ROWS, layout};

/// Rows per Parquet record batch.
const BATCH_ROWS: usize = 65_536;
const FLUSH_BYTES: usize = 1 << 20;

fn io_error(path: &Path, e: impl std::fmt::Display) -> GenError {
    GenError::new(format!("{}: {e}", path.display()))
}

/// A text file filled through `buf`; a row ends with [`TextFile::end_row`].
struct TextFile {
    rel: String,
    path: PathBuf,
    file: File,
    buf: String,
    rows: u64,
}

impl TextFile {
    fn create(out: &Path, rel: &str, header: Option<&[&str]>) -> Result<TextFile, GenError> {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        }
        let file = File::create(&path).map_err(|e| io_error(&path, e))?;
        let mut buf = String::with_capacity(FLUSH_BYTES + 4096);
        if let Some(header) = header {
            buf.push_str(&header.join(","));
            buf.push('\n');
        }
        Ok(TextFile {
            rel: rel.to_string(),
            path,
            file,
            buf,
            rows: 0,
        })
    }

    fn end_row(&mut self) -> Result<(), GenError> {
        self.buf.push('\n');
        self.rows += 1;
        if self.buf.len() >= FLUSH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), GenError> {
        self.file
            .write_all(self.buf.as_bytes())
            .map_err(|e| io_error(&self.path, e))?;
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<(String, u64), GenError> {
        self.flush()?;
        self.file.flush().map_err(|e| io_error(&self.path, e))?;
        Ok((self.rel, self.rows))
    }
}

/// `part-00000.<ext>`, `part-00001.<ext>`, … under one directory.
fn part_name(dir: &str, part: u32, ext: &str) -> String {
    format!("{dir}/part-{part:05}.{ext}")
}

/// Removes `part-NNNNN.<ext>` files numbered `from` or more, left by an earlier,
/// larger run, so that the directory's glob matches this run's files only.
fn remove_stale_parts(out: &Path, dir: &str, ext: &str, from: u32) -> Result<(), GenError> {
    let dir = out.join(dir);
    let entries = fs::read_dir(&dir).map_err(|e| io_error(&dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error(&dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(n) = name
            .strip_prefix("part-")
            .and_then(|rest| rest.strip_suffix(ext))
            .and_then(|rest| rest.strip_suffix('.'))
        else {
            continue;
        };
        if n.len() == 5
            && n.bytes().all(|b| b.is_ascii_digit())
            && n.parse::<u32>().is_ok_and(|n| n >= from)
        {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| io_error(&path, e))?;
        }
    }
    Ok(())
}

/// NDJSON in parts.
struct PartedText {
    dir: &'static str,
    ext: &'static str,
    current: Option<TextFile>,
    done: Vec<(String, u64)>,
}

impl PartedText {
    fn buf(&mut self, out: &Path) -> Result<&mut String, GenError> {
        if self.current.is_none() {
            let rel = part_name(self.dir, self.done.len() as u32, self.ext);
            self.current = Some(TextFile::create(out, &rel, None)?);
        }
        Ok(&mut self.current.as_mut().expect("opened above").buf)
    }

    fn end_row(&mut self) -> Result<(), GenError> {
        let Some(file) = self.current.as_mut() else {
            return Ok(());
        };
        file.end_row()?;
        if file.rows >= PART_ROWS {
            let file = self.current.take().expect("present");
            self.done.push(file.finish()?);
        }
        Ok(())
    }

    fn finish(mut self, out: &Path) -> Result<Vec<(String, u64)>, GenError> {
        if self.current.is_none() && self.done.is_empty() {
            self.buf(out)?;
        }
        if let Some(file) = self.current.take() {
            self.done.push(file.finish()?);
        }
        remove_stale_parts(out, self.dir, self.ext, self.done.len() as u32)?;
        Ok(self.done)
    }
}

/// The Arrow schema of `pos_order` files.
pub fn order_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("order_id", DataType::Utf8, false),
        Field::new("member_id", DataType::Utf8, true),
        Field::new("phone", DataType::Utf8, true),
        Field::new("store_id", DataType::Utf8, false),
        Field::new("channel", DataType::Utf8, false),
        Field::new("category", DataType::Utf8, true),
        Field::new("amount", DataType::Decimal128(18, 2), true),
        Field::new("qty", DataType::Int64, true),
        Field::new("status", DataType::Utf8, true),
        Field::new(
            "paid_at",
            DataType::Timestamp(TimeUnit::Microsecond, None),
            true,
        ),
    ]))
}

struct OrderBuilders {
    order_id: StringBuilder,
    member_id: StringBuilder,
    phone: StringBuilder,
    store_id: StringBuilder,
    channel: StringBuilder,
    category: StringBuilder,
    amount: Decimal128Builder,
    qty: Int64Builder,
    status: StringBuilder,
    paid_at: TimestampMicrosecondBuilder,
    len: usize,
}

impl OrderBuilders {
    fn new() -> OrderBuilders {
        let s = || StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 12);
        OrderBuilders {
            order_id: s(),
            member_id: s(),
            phone: s(),
            store_id: s(),
            channel: s(),
            category: s(),
            amount: Decimal128Builder::with_capacity(BATCH_ROWS)
                .with_data_type(DataType::Decimal128(18, 2)),
            qty: Int64Builder::with_capacity(BATCH_ROWS),
            status: s(),
            paid_at: TimestampMicrosecondBuilder::with_capacity(BATCH_ROWS),
            len: 0,
        }
    }

    fn batch(&mut self, schema: &SchemaRef) -> Result<RecordBatch, GenError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.order_id.finish()),
            Arc::new(self.member_id.finish()),
            Arc::new(self.phone.finish()),
            Arc::new(self.store_id.finish()),
            Arc::new(self.channel.finish()),
            Arc::new(self.category.finish()),
            Arc::new(self.amount.finish()),
            Arc::new(self.qty.finish()),
            Arc::new(self.status.finish()),
            Arc::new(self.paid_at.finish()),
        ];
        self.len = 0;
        RecordBatch::try_new(schema.clone(), columns)
            .map_err(|e| GenError::new(format!("order batch: {e}")))
    }
}

/// `pos_order` Parquet parts.
struct OrderFiles {
    schema: SchemaRef,
    builders: OrderBuilders,
    current: Option<(String, PathBuf, ArrowWriter<BufWriter<File>>, u64)>,
    done: Vec<(String, u64)>,
}

const ORDER_DIR: &str = "data/pos/orders";
const APP_DIR: &str = "data/app";

impl OrderFiles {
    fn new() -> OrderFiles {
        OrderFiles {
            schema: order_schema(),
            builders: OrderBuilders::new(),
            current: None,
            done: Vec::new(),
        }
    }

    fn open(&mut self, out: &Path) -> Result<(), GenError> {
        if self.current.is_some() {
            return Ok(());
        }
        let rel = part_name(ORDER_DIR, self.done.len() as u32, "parquet");
        let path = out.join(&rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        }
        let file = File::create(&path).map_err(|e| io_error(&path, e))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(FLUSH_BYTES, file),
            self.schema.clone(),
            Some(props),
        )
        .map_err(|e| io_error(&path, e))?;
        self.current = Some((rel, path, writer, 0));
        Ok(())
    }

    fn flush_batch(&mut self) -> Result<(), GenError> {
        if self.builders.len == 0 {
            return Ok(());
        }
        let batch = self.builders.batch(&self.schema)?;
        if let Some((_, path, writer, _)) = self.current.as_mut() {
            writer.write(&batch).map_err(|e| io_error(path, e))?;
        }
        Ok(())
    }

    /// Call after a row has been appended to the builders.
    fn end_row(&mut self) -> Result<(), GenError> {
        self.builders.len += 1;
        let rows = match self.current.as_mut() {
            Some((_, _, _, rows)) => {
                *rows += 1;
                *rows
            }
            None => 0,
        };
        if self.builders.len >= BATCH_ROWS || rows >= PART_ROWS {
            self.flush_batch()?;
        }
        if rows >= PART_ROWS {
            self.close_part()?;
        }
        Ok(())
    }

    fn close_part(&mut self) -> Result<(), GenError> {
        if let Some((rel, path, writer, rows)) = self.current.take() {
            // Writes the footer.
            let mut inner = writer.into_inner().map_err(|e| io_error(&path, e))?;
            inner.flush().map_err(|e| io_error(&path, e))?;
            self.done.push((rel, rows));
        }
        Ok(())
    }

    fn finish(mut self, out: &Path) -> Result<Vec<(String, u64)>, GenError> {
        self.flush_batch()?;
        if self.current.is_none() && self.done.is_empty() {
            self.open(out)?;
        }
        self.close_part()?;
        remove_stale_parts(out, ORDER_DIR, "parquet", self.done.len() as u32)?;
        Ok(self.done)
    }
}

/// Every file of a run, open while the rows stream through.
pub(crate) struct Sinks {
    out: PathBuf,
    members: TextFile,
    orders: OrderFiles,
    events: PartedText,
    touches: Vec<TextFile>,
    stores: (String, u64),
    categories: (String, u64),
    truth: TextFile,
    bad: TextFile,
    /// Mistyped phones already written: each belongs to one order only.
    typos: HashSet<u64>,
    order_seq: u64,
    event_seq: u64,
    line: String,
}

pub(crate) const TRUTH: &str = "truth/records.csv";
pub(crate) const BAD_ROWS: &str = "truth/bad_rows.csv";

fn columns(source: &str) -> Vec<&'static str> {
    layout()
        .into_iter()
        .find(|(name, _, _)| *name == source)
        .map(|(_, _, cols)| cols)
        .unwrap_or_default()
}

impl Sinks {
    pub(crate) fn create(out: &Path, world: &World) -> Result<Sinks, GenError> {
        let members = TextFile::create(out, "data/crm/member.csv", Some(&columns("crm_member")))?;
        let touch_cols = columns("media_touch");
        let touches = PLATFORMS
            .iter()
            .map(|p| TextFile::create(out, &format!("data/media/{p}.csv"), Some(&touch_cols)))
            .collect::<Result<Vec<_>, _>>()?;
        let truth = TextFile::create(out, TRUTH, Some(&["source", "record_id", "person_id"]))?;
        let bad = TextFile::create(
            out,
            BAD_ROWS,
            Some(&["source", "record_id", "person_id", "column", "value"]),
        )?;
        let stores = write_stores(out, world)?;
        let categories = write_categories(out)?;
        Ok(Sinks {
            out: out.to_path_buf(),
            members,
            orders: OrderFiles::new(),
            events: PartedText {
                dir: APP_DIR,
                ext: "jsonl",
                current: None,
                done: Vec::new(),
            },
            touches,
            stores,
            categories,
            truth,
            bad,
            typos: HashSet::new(),
            order_seq: 0,
            event_seq: 0,
            line: String::with_capacity(256),
        })
    }

    fn truth(&mut self, source: &str, record: &str, person: u64) -> Result<(), GenError> {
        let b = &mut self.truth.buf;
        b.push_str(source);
        b.push(',');
        b.push_str(record);
        b.push(',');
        push_person(b, person);
        self.truth.end_row()
    }

    fn bad_row(
        &mut self,
        source: &str,
        record: &str,
        person: Option<u64>,
        column: &str,
        value: &str,
    ) -> Result<(), GenError> {
        let b = &mut self.bad.buf;
        b.push_str(source);
        b.push(',');
        b.push_str(record);
        b.push(',');
        if let Some(p) = person {
            push_person(b, p);
        }
        b.push(',');
        b.push_str(column);
        b.push(',');
        push_csv(b, value);
        self.bad.end_row()
    }

    pub(crate) fn write(&mut self, world: &World, rows: Rows) -> Result<(), GenError> {
        self.write_members(world, &rows)?;
        self.write_orders(world, &rows)?;
        self.write_events(world, &rows)?;
        self.write_touches(world, &rows)
    }

    fn write_members(&mut self, world: &World, rows: &Rows) -> Result<(), GenError> {
        let mut id = String::new();
        let mut bad_value = String::new();
        for m in &rows.members {
            let position = self.members.rows + 1;
            let bad = position.is_multiple_of(BAD_ROW_EVERY);
            let bad_birthday = bad && (position / BAD_ROW_EVERY) % 2 == 1;
            let bad_joined = bad && !bad_birthday;
            id.clear();
            id.push('M');
            push_padded(&mut id, m.member, 8);
            let b = &mut self.members.buf;
            b.push_str(&id);
            b.push(',');
            if let Some((phone, style)) = m.phone {
                push_phone(b, phone, style);
            }
            b.push(',');
            if let Some(email) = &m.email {
                push_csv(b, email);
            }
            b.push(',');
            b.push_str(GENDERS[m.gender as usize]);
            b.push(',');
            bad_value.clear();
            if bad_birthday {
                bad_value.push_str(&format!("{}-13-45", m.birthday.format("%Y")));
                b.push_str(&bad_value);
            } else {
                b.push_str(&m.birthday.format("%Y-%m-%d").to_string());
            }
            b.push(',');
            push_csv(b, &world.places[m.place as usize].name);
            b.push(',');
            b.push_str(LEVELS[m.level as usize]);
            b.push(',');
            if bad_joined {
                bad_value.push_str("yesterday");
                b.push_str(&bad_value);
            } else {
                b.push_str(&m.joined.format("%Y-%m-%d").to_string());
                b.push(' ');
                push_clock(b, m.joined_second);
            }
            self.members.end_row()?;
            if bad {
                let column = if bad_birthday {
                    "birthday"
                } else {
                    "joined_at"
                };
                self.bad_row("crm_member", &id, Some(m.person), column, &bad_value)?;
            } else {
                self.truth("crm_member", &id, m.person)?;
            }
        }
        Ok(())
    }

    fn write_orders(&mut self, world: &World, rows: &Rows) -> Result<(), GenError> {
        let mut id = String::new();
        let line = &mut self.line;
        for o in &rows.orders {
            self.orders.open(&self.out)?;
            self.order_seq += 1;
            let day = (o.ts / 86_400) as usize;
            id.clear();
            id.push_str(CHANNEL_PREFIX[o.channel as usize]);
            id.push_str(&world.day_compact[day]);
            push_padded(&mut id, self.order_seq, 8);
            let b = &mut self.orders.builders;
            b.order_id.append_value(&id);
            match o.member {
                Some(m) => {
                    line.clear();
                    line.push('M');
                    push_padded(line, m, 8);
                    b.member_id.append_value(&*line);
                }
                None => b.member_id.append_null(),
            }
            line.clear();
            let phone = match o.phone {
                None => false,
                Some(Phone::Own(phone, style)) => {
                    push_phone(line, phone, style);
                    true
                }
                Some(Phone::Junk(j)) => {
                    line.push_str(JUNK_PHONES[j]);
                    true
                }
                Some(Phone::Typo {
                    phone,
                    pos,
                    by,
                    style,
                }) => match resolve_typo(phone, pos, by, &mut self.typos) {
                    Some(typo) => {
                        push_phone(line, typo, style);
                        true
                    }
                    None => false,
                },
            };
            if phone {
                b.phone.append_value(&*line);
            } else {
                b.phone.append_null();
            }
            b.store_id
                .append_value(&world.stores.stores[o.store as usize].id);
            b.channel.append_value(CHANNELS[o.channel as usize]);
            b.category
                .append_value(CATEGORIES[o.category as usize].code);
            b.amount.append_value(i128::from(o.cents));
            b.qty.append_value(i64::from(o.qty));
            b.status
                .append_value(if o.refunded { "refunded" } else { "paid" });
            b.paid_at
                .append_value((world.start_epoch + i64::from(o.ts)) * 1_000_000);
            self.orders.end_row()?;
            let b = &mut self.truth.buf;
            b.push_str("pos_order,");
            b.push_str(&id);
            b.push(',');
            push_person(b, o.person);
            self.truth.end_row()?;
        }
        Ok(())
    }

    fn write_events(&mut self, world: &World, rows: &Rows) -> Result<(), GenError> {
        let mut id = String::new();
        let mut device = String::new();
        let mut value = String::new();
        for e in &rows.events {
            self.event_seq += 1;
            let position = self.event_seq;
            let bad = position.is_multiple_of(BAD_ROW_EVERY);
            id.clear();
            id.push('E');
            push_padded(&mut id, position, 10);
            device.clear();
            world
                .keys
                .device(e.device, world.keys.device_is_apple(e.device), &mut device);
            let day = (e.ts / 86_400) as usize;
            value.clear();
            if bad {
                if (position / BAD_ROW_EVERY) % 2 == 1 {
                    value.push_str("0000-00-00 00:00:00");
                } else {
                    value.push_str(&world.day_year[day].to_string());
                    value.push_str("-02-30 ");
                    push_clock(&mut value, e.ts % 86_400);
                }
            } else {
                value.push_str(&world.day_text[day]);
                value.push(' ');
                push_clock(&mut value, e.ts % 86_400);
            }
            let b = self.events.buf(&self.out)?;
            b.push_str("{\"event_id\":");
            push_json_str(b, &id);
            b.push_str(",\"device_id\":");
            push_json_str(b, &device);
            if let Some(m) = e.member {
                b.push_str(",\"member_id\":\"M");
                push_padded(b, m, 8);
                b.push('"');
            }
            if let Some(app) = e.app {
                b.push_str(",\"openid\":\"");
                world.keys.openid(e.person, app as usize, b);
                b.push_str("\",\"appid\":");
                push_json_str(b, APPIDS[app as usize]);
            }
            b.push_str(",\"event\":");
            push_json_str(b, EVENTS[e.event as usize]);
            if let Some(style) = e.style {
                b.push_str(",\"style\":");
                push_json_str(b, STYLES[style as usize]);
            }
            if let Some(item) = e.item {
                b.push_str(",\"item_id\":\"SKU");
                push_padded(b, u64::from(item), 6);
                b.push('"');
            }
            if let Some((lat, lon)) = e.at {
                b.push_str(",\"lat\":");
                push_fixed(b, lat, 6);
                b.push_str(",\"lon\":");
                push_fixed(b, lon, 6);
            }
            b.push_str(",\"ts\":");
            push_json_str(b, &value);
            b.push('}');
            self.events.end_row()?;
            if bad {
                self.bad_row("app_event", &id, Some(e.person), "ts", &value.clone())?;
            } else {
                self.truth("app_event", &id, e.person)?;
            }
        }
        Ok(())
    }

    fn write_touches(&mut self, world: &World, rows: &Rows) -> Result<(), GenError> {
        let mut id = String::new();
        for (platform, touches) in rows.touches.iter().enumerate() {
            for t in touches {
                let file = &mut self.touches[platform];
                let position = file.rows + 1;
                let bad = position.is_multiple_of(BAD_ROW_EVERY);
                id.clear();
                id.push_str(PLATFORM_PREFIX[platform]);
                push_padded(&mut id, position, 10);
                let b = &mut file.buf;
                b.push_str(&id);
                b.push(',');
                world
                    .keys
                    .device(t.device, world.keys.device_is_apple(t.device), b);
                b.push(',');
                if !bad {
                    b.push_str(PLATFORMS[platform]);
                }
                b.push(',');
                b.push_str(if t.click { "click" } else { "impression" });
                b.push(',');
                push_csv(b, &world.campaigns[t.campaign as usize]);
                b.push(',');
                let day = (t.ts / 86_400) as usize;
                b.push_str(&world.day_text[day]);
                b.push(' ');
                push_clock(b, t.ts % 86_400);
                file.end_row()?;
                match (bad, t.person) {
                    (true, person) => self.bad_row("media_touch", &id, person, "platform", "")?,
                    (false, Some(person)) => self.truth("media_touch", &id, person)?,
                    (false, None) => {}
                }
            }
        }
        Ok(())
    }

    /// Closes every file; returns each file's path under `out` and its rows.
    pub(crate) fn finish(self) -> Result<Vec<(String, u64)>, GenError> {
        let mut files = vec![self.members.finish()?];
        files.extend(self.orders.finish(&self.out)?);
        files.extend(self.events.finish(&self.out)?);
        for t in self.touches {
            files.push(t.finish()?);
        }
        files.push(self.stores);
        files.push(self.categories);
        files.push(self.truth.finish()?);
        files.push(self.bad.finish()?);
        Ok(files)
    }
}

/// `P` and 8 digits, counting persons from 1.
fn push_person(out: &mut String, p: u64) {
    out.push('P');
    push_padded(out, p + 1, 8);
}

fn write_stores(out: &Path, world: &World) -> Result<(String, u64), GenError> {
    let mut f = TextFile::create(out, "data/erp/store.csv", Some(&columns("erp_store")))?;
    for s in &world.stores.stores {
        let p = &world.places[s.place as usize];
        let b = &mut f.buf;
        b.push_str(&s.id);
        b.push(',');
        push_csv(b, &s.name);
        b.push(',');
        push_csv(b, &p.name);
        b.push(',');
        b.push_str(&p.adcode);
        b.push(',');
        b.push_str(&p.lat_text);
        b.push(',');
        b.push_str(&p.lon_text);
        b.push(',');
        push_fixed(b, s.radius_km, 1);
        f.end_row()?;
    }
    f.finish()
}

fn write_categories(out: &Path) -> Result<(String, u64), GenError> {
    let mut f = TextFile::create(out, "data/erp/category.csv", Some(&columns("erp_category")))?;
    for c in &CATEGORIES {
        let b = &mut f.buf;
        b.push_str(c.code);
        b.push(',');
        b.push_str(c.name);
        b.push(',');
        b.push_str(c.line);
        f.end_row()?;
    }
    f.finish()
}
