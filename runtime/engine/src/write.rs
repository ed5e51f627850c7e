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
    let dir = dir.join(relative);
    fs::create_dir_all(&dir).map_err(|e| RunError::io(&dir, e))?;
    write_parquet(&dir.join("part-00000.parquet"), schema, batches)
}

/// Rows per row group, as the Parquet writer's default.
const ROW_GROUP_ROWS: usize = 1024 * 1024;

/// Writes batches as one Parquet file. The writer's output depends only on the data,
/// so the same rows give the same bytes. The columns of each row group are encoded on
/// two threads (Parquet encodes each column chunk on its own): the bytes are the same
/// as one thread's.
pub fn write_parquet(
    path: &Path,
    schema: SchemaRef,
    batches: &[RecordBatch],
) -> Result<(), RunError> {
    let io = |e: parquet::errors::ParquetError| RunError::io(path, std::io::Error::other(e));
    let file = fs::File::create(path).map_err(|e| RunError::io(path, e))?;
    let mut props = WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    parquet::arrow::add_encoded_arrow_schema_to_metadata(&schema, &mut props);
    let props = Arc::new(props);
    let parquet_schema = parquet::arrow::ArrowSchemaConverter::new()
        .with_coerce_types(props.coerce_types())
        .convert(&schema)
        .map_err(io)?;
    let flat = parquet_schema.num_columns() == schema.fields().len();
    if !flat {
        // Nested columns have several leaves each: the plain writer handles them.
        let mut writer = ArrowWriter::try_new(file, schema, Some((*props).clone())).map_err(io)?;
        for b in batches {
            writer.write(b).map_err(io)?;
        }
        writer.close().map_err(io)?;
        return Ok(());
    }
    let mut writer =
        SerializedFileWriter::new(file, parquet_schema.root_schema_ptr(), props.clone())
            .map_err(io)?;
    let factory = ArrowRowGroupWriterFactory::new(&writer, schema.clone());
    let groups = row_groups(batches, ROW_GROUP_ROWS);
    for (index, group) in groups.iter().enumerate() {
        let writers = factory.create_column_writers(index).map_err(io)?;
        let fields = schema.fields();
        // Columns alternate between the two threads; chunks come back in order.
        let mut chunks: Vec<Option<ArrowColumnChunk>> = (0..writers.len()).map(|_| None).collect();
        let mut mine: [Vec<(usize, ArrowColumnWriter)>; 2] = [Vec::new(), Vec::new()];
        for (i, w) in writers.into_iter().enumerate() {
            mine[i % 2].push((i, w));
        }
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
    }
    writer.close().map_err(io)?;
    Ok(())
}

/// Batches cut into row groups of at most `rows` rows (slices, no copies).
fn row_groups(batches: &[RecordBatch], rows: usize) -> Vec<Vec<RecordBatch>> {
    let mut groups: Vec<Vec<RecordBatch>> = Vec::new();
    let mut current: Vec<RecordBatch> = Vec::new();
    let mut filled = 0;
    for b in batches {
        let mut offset = 0;
        while offset < b.num_rows() {
            let take = (rows - filled).min(b.num_rows() - offset);
            current.push(b.slice(offset, take));
            offset += take;
            filled += take;
            if filled == rows {
                groups.push(std::mem::take(&mut current));
                filled = 0;
            }
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    groups
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
