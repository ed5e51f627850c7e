//! Partitions appear whole or not at all.
//!
//! A run writes every partition under `OUT/.staging/<run_id>/` first. Only when every
//! node has succeeded are the partitions moved into place, one rename each (the old
//! partition is moved aside first and removed after). A failed or killed run leaves
//! the earlier partitions as they were; its staging folder is removed or, if the
//! process was killed, swept by the next run.

use std::fs;
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use std::sync::Arc;

use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

use crate::RunError;

/// The partitions of one run, staged until [`Staging::commit`].
pub struct Staging {
    out: PathBuf,
    dir: PathBuf,
    /// Partition paths relative to OUT, in the order written.
    partitions: Vec<PathBuf>,
}

impl Staging {
    pub fn new(out: &Path, run_id: &str) -> Result<Staging, RunError> {
        let root = out.join(".staging");
        // Leftovers of runs that were killed.
        if let Ok(entries) = fs::read_dir(&root) {
            for e in entries.flatten() {
                let _ = fs::remove_dir_all(e.path());
            }
        }
        let dir = root.join(run_id);
        fs::create_dir_all(&dir).map_err(|e| RunError::io(&dir, e))?;
        Ok(Staging {
            out: out.to_path_buf(),
            dir,
            partitions: Vec::new(),
        })
    }

    /// Writes one partition (`relative` = `<layer>/<table>/dt=D`) as one Parquet file.
    pub fn write(
        &mut self,
        relative: &Path,
        schema: SchemaRef,
        batches: &[RecordBatch],
    ) -> Result<PathBuf, RunError> {
        stage(&self.dir, relative, schema, batches)?;
        Ok(self.record(relative))
    }

    /// The folder partitions are staged in; [`stage`] writes there.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Takes a partition written by [`stage`] into the commit; where it will be.
    pub fn record(&mut self, relative: &Path) -> PathBuf {
        self.partitions.push(relative.to_path_buf());
        self.out.join(relative)
    }

    /// Writes one file into a partition folder of its own (an export).
    pub fn write_file(
        &mut self,
        relative: &Path,
        file: &str,
        bytes: &[u8],
    ) -> Result<PathBuf, RunError> {
        let dir = self.dir.join(relative);
        fs::create_dir_all(&dir).map_err(|e| RunError::io(&dir, e))?;
        let path = dir.join(file);
        fs::write(&path, bytes).map_err(|e| RunError::io(&path, e))?;
        self.partitions.push(relative.to_path_buf());
        Ok(self.out.join(relative).join(file))
    }

    /// Stages one output that is not a partition (a scan's model, plan or tour): a
    /// single file (one part with an empty name) or a folder of parts, at `relative`
    /// under OUT; the commit moves it into place whole.
    pub fn write_output(
        &mut self,
        relative: &Path,
        parts: &[(String, Vec<u8>)],
    ) -> Result<PathBuf, RunError> {
        let target = self.dir.join(relative);
        let single = parts.len() == 1 && parts[0].0.is_empty();
        if parts.is_empty() {
            fs::create_dir_all(&target).map_err(|e| RunError::io(&target, e))?;
        }
        for (name, bytes) in parts {
            let path = if single {
                target.clone()
            } else {
                target.join(name)
            };
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir).map_err(|e| RunError::io(dir, e))?;
            }
            fs::write(&path, bytes).map_err(|e| RunError::io(&path, e))?;
        }
        Ok(self.record(relative))
    }

    /// Where a partition is staged until the commit.
    pub fn staged(&self, relative: &Path) -> PathBuf {
        self.dir.join(relative)
    }

    /// Moves every staged partition into place.
    pub fn commit(self) -> Result<(), RunError> {
        let aside = self.dir.join(".replaced");
        for (i, rel) in self.partitions.iter().enumerate() {
            let target = self.out.join(rel);
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(|e| RunError::io(parent, e))?;
            }
            if target.exists() {
                let old = aside.join(i.to_string());
                fs::create_dir_all(&aside).map_err(|e| RunError::io(&aside, e))?;
                fs::rename(&target, &old).map_err(|e| RunError::io(&target, e))?;
            }
            let staged = self.dir.join(rel);
            fs::rename(&staged, &target).map_err(|e| RunError::io(&target, e))?;
        }
        fs::remove_dir_all(&self.dir).map_err(|e| RunError::io(&self.dir, e))?;
        Ok(())
    }

    /// Drops everything staged.
    pub fn abandon(self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Writes one partition into a staging folder, as one Parquet file.
pub fn stage(
    dir: &Path,
    relative: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<(), RunError> {
    write_parquet(&part_file(dir, relative)?, schema, batches)
}

/// The one Parquet file of partition `relative` under `dir`, its folder created.
pub fn part_file(dir: &Path, relative: &Path) -> Result<PathBuf, RunError> {
    let dir = dir.join(relative);
    fs::create_dir_all(&dir).map_err(|e| RunError::io(&dir, e))?;
    Ok(dir.join("part-00000.parquet"))
}

/// Rows per row group, as the Parquet writer's default.
pub(crate) const ROW_GROUP_ROWS: usize = 1024 * 1024;

/// Writes batches as one Parquet file. The writer's output depends only on the data,
/// so the same rows give the same bytes.
pub fn write_parquet(
    path: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<(), RunError> {
    let mut w = PartWriter::create(path, schema)?;
    for b in batches {
        w.push(b)?;
    }
    w.finish().map(|_| ())
}

/// One Parquet file written row group by row group as batches arrive, so a plan's
/// rows are encoded while later rows are still being computed. Row groups hold
/// [`ROW_GROUP_ROWS`] rows whatever the batches' sizes, and the columns of each are
/// encoded on two threads (Parquet encodes each column chunk on its own): the bytes
/// are the same as one thread's writing the rows in one go.
pub struct PartWriter {
    path: PathBuf,
    schema: SchemaRef,
    file: FileWriter,
    /// Rows waiting for their row group (slices, no copies).
    pending: Vec<RecordBatch>,
    filled: usize,
    groups: usize,
    rows: u64,
}

enum FileWriter {
    /// Nested columns have several leaves each: the plain writer handles them.
    Plain(ArrowWriter<fs::File>),
    Parallel(SerializedFileWriter<fs::File>, ArrowRowGroupWriterFactory),
}

impl PartWriter {
    pub fn create(path: &Path, schema: SchemaRef) -> Result<PartWriter, RunError> {
        let io = |e: parquet::errors::ParquetError| RunError::io(path, std::io::Error::other(e));
        let file = fs::File::create(path).map_err(|e| RunError::io(path, e))?;
        let mut props = WriterProperties::builder()
            .set_compression(parquet::basic::Compression::SNAPPY)
            .build();
        parquet::arrow::add_encoded_arrow_schema_to_metadata(&schema, &mut props);
        let parquet_schema = parquet::arrow::ArrowSchemaConverter::new()
            .with_coerce_types(props.coerce_types())
            .convert(&schema)
            .map_err(io)?;
        let file = if parquet_schema.num_columns() == schema.fields().len() {
            let writer =
                SerializedFileWriter::new(file, parquet_schema.root_schema_ptr(), Arc::new(props))
                    .map_err(io)?;
            let factory = ArrowRowGroupWriterFactory::new(&writer, schema.clone());
            FileWriter::Parallel(writer, factory)
        } else {
            FileWriter::Plain(ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(io)?)
        };
        Ok(PartWriter {
            path: path.to_path_buf(),
            schema,
            file,
            pending: Vec::new(),
            filled: 0,
            groups: 0,
            rows: 0,
        })
    }

    /// Adds rows; every full row group is encoded and written before this returns.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<(), RunError> {
        self.rows += batch.num_rows() as u64;
        if let FileWriter::Plain(w) = &mut self.file {
            let path = &self.path;
            return w
                .write(batch)
                .map_err(|e| RunError::io(path, std::io::Error::other(e)));
        }
        let mut offset = 0;
        while offset < batch.num_rows() {
            let take = (ROW_GROUP_ROWS - self.filled).min(batch.num_rows() - offset);
            self.pending.push(batch.slice(offset, take));
            offset += take;
            self.filled += take;
            if self.filled == ROW_GROUP_ROWS {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Encodes and writes the pending rows as one row group.
    fn flush(&mut self) -> Result<(), RunError> {
        let group = std::mem::take(&mut self.pending);
        self.filled = 0;
        let FileWriter::Parallel(writer, factory) = &mut self.file else {
            return Ok(());
        };
        let path = &self.path;
        let io = |e: parquet::errors::ParquetError| RunError::io(path, std::io::Error::other(e));
        let writers = factory.create_column_writers(self.groups).map_err(io)?;
        self.groups += 1;
        let fields = self.schema.fields();
        // The two threads get about the same bytes to encode: the largest column
        // first, each to the thread with less so far (strings cost more than numbers).
        // Chunks come back in column order whatever thread encoded them.
        let mut chunks: Vec<Option<ArrowColumnChunk>> = (0..writers.len()).map(|_| None).collect();
        let bytes: Vec<usize> = (0..writers.len())
            .map(|i| {
                group
                    .iter()
                    .map(|b| b.column(i).to_data().get_slice_memory_size().unwrap_or(0))
                    .sum()
            })
            .collect();
        let mut order: Vec<usize> = (0..writers.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(bytes[i]), i));
        let mut thread_of = vec![0usize; writers.len()];
        let mut load = [0usize; 2];
        for i in order {
            let t = usize::from(load[1] < load[0]);
            thread_of[i] = t;
            load[t] += bytes[i];
        }
        let mut mine: [Vec<(usize, ArrowColumnWriter)>; 2] = [Vec::new(), Vec::new()];
        for (i, w) in writers.into_iter().enumerate() {
            mine[thread_of[i]].push((i, w));
        }
        let group = &group;
        let results = std::thread::scope(|scope| {
            let handles: Vec<_> = mine
                .into_iter()
                .map(|columns| {
                    scope.spawn(move || {
                        let mut done = Vec::new();
                        for (i, mut w) in columns {
                            for b in group {
                                for leaf in compute_leaves(&fields[i], b.column(i))? {
                                    w.write(&leaf)?;
                                }
                            }
                            done.push((i, w.close()?));
                        }
                        Ok::<_, parquet::errors::ParquetError>(done)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("an encoding thread does not panic"))
                .collect::<Vec<_>>()
        });
        for r in results {
            for (i, chunk) in r.map_err(io)? {
                chunks[i] = Some(chunk);
            }
        }
        let mut row_group = writer.next_row_group().map_err(io)?;
        for chunk in chunks.into_iter().flatten() {
            chunk.append_to_row_group(&mut row_group).map_err(io)?;
        }
        row_group.close().map_err(io)?;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the rows written.
    pub fn finish(mut self) -> Result<u64, RunError> {
        if self.filled > 0 {
            self.flush()?;
        }
        let path = self.path;
        match self.file {
            FileWriter::Plain(w) => w.close().map(|_| ()),
            FileWriter::Parallel(w, _) => w.close().map(|_| ()),
        }
        .map_err(|e| RunError::io(&path, std::io::Error::other(e)))?;
        Ok(self.rows)
    }
}

/// Reads every Parquet file of a partition folder.
pub fn read_partition(dir: &Path) -> Result<Vec<RecordBatch>, RunError> {
    let mut files: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "parquet"))
            .collect(),
        Err(_) => return Ok(Vec::new()),
    };
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let file = fs::File::open(&f).map_err(|e| RunError::io(&f, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| RunError::io(&f, std::io::Error::other(e)))?;
        for batch in reader {
            out.push(batch.map_err(|e| RunError::io(&f, std::io::Error::other(e)))?);
        }
    }
    Ok(out)
}
