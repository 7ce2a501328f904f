//! Rows → DataFrame, and the CSV/Parquet files (whole or streamed in batches).

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use polars::prelude::*;

use super::{FeatureRow, SCHEMA, fixed_columns};

/// Why a table could not be built, written or read.
#[derive(Debug, thiserror::Error)]
pub enum FeaturesError {
    #[error("{file}: the table format is chosen by the extension: .csv or .parquet")]
    Format { file: String },
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("feature table: {0}")]
    Table(String),
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> FeaturesError {
    FeaturesError::File {
        file: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Table file format, from the file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    pub fn of(path: &Path) -> Result<Format, FeaturesError> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("parquet" | "pq") => Ok(Format::Parquet),
            _ => Err(FeaturesError::Format {
                file: path.display().to_string(),
            }),
        }
    }
}

/// A value type of the table's cells.
pub(super) trait Cell: Sized {
    fn column(name: &str, values: Vec<Option<Self>>) -> Column;
}

impl Cell for f64 {
    fn column(name: &str, values: Vec<Option<f64>>) -> Column {
        // NaN/∞ never reach a file: they are nulls.
        let v: Vec<Option<f64>> = values
            .into_iter()
            .map(|x| x.filter(|x| x.is_finite()))
            .collect();
        Column::new(name.into(), v)
    }
}

impl Cell for i64 {
    fn column(name: &str, values: Vec<Option<i64>>) -> Column {
        Column::new(name.into(), values)
    }
}

impl Cell for String {
    fn column(name: &str, values: Vec<Option<String>>) -> Column {
        // CSV cannot tell "" from null; there is no empty text either.
        let v: Vec<Option<String>> = values
            .into_iter()
            .map(|s| s.filter(|s| !s.is_empty()))
            .collect();
        Column::new(name.into(), v)
    }
}

pub(super) fn column<T: Cell>(name: &str, values: impl Iterator<Item = Option<T>>) -> Column {
    T::column(name, values.collect())
}

/// The DataFrame of `rows`: the fixed columns ([`SCHEMA`]) then the EXAFS
/// fit parameters in the order first met.
pub fn table(rows: &[FeatureRow]) -> Result<DataFrame, FeaturesError> {
    table_with(rows, &[])
}

/// [`table`] with the EXAFS fit columns `extra` present in this order
/// whatever the rows hold (a batch's chunks share one schema, even a
/// chunk where no fit succeeded); columns the rows add beyond them follow.
pub fn table_with(rows: &[FeatureRow], extra: &[String]) -> Result<DataFrame, FeaturesError> {
    let mut columns = fixed_columns(rows);
    let mut extra_names: Vec<&str> = extra.iter().map(String::as_str).collect();
    for r in rows {
        for (name, _) in &r.extra {
            if !extra_names.contains(&name.as_str()) {
                extra_names.push(name);
            }
        }
    }
    for name in extra_names {
        let values = rows.iter().map(|r| {
            r.extra
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, v)| *v)
        });
        columns.push(column(name, values));
    }
    DataFrame::new(rows.len(), columns).map_err(|e| FeaturesError::Table(e.to_string()))
}

/// The numeric (Float64, Int64) columns of `df` that hold a value in some
/// row, as f64 per row (colouring the map by a feature).
pub fn numeric_columns(df: &DataFrame) -> Vec<(String, Vec<Option<f64>>)> {
    df.columns()
        .iter()
        .filter(|c| matches!(c.dtype(), DataType::Float64 | DataType::Int64))
        .filter_map(|c| {
            let f = c.cast(&DataType::Float64).ok()?;
            let v: Vec<Option<f64>> = f.f64().ok()?.iter().collect();
            v.iter()
                .any(Option::is_some)
                .then(|| (c.name().to_string(), v))
        })
        .collect()
}

/// The polars type of a column: the fixed ones by [`SCHEMA`], the EXAFS
/// fit parameters Float64.
fn dtype_of(name: &str) -> DataType {
    match SCHEMA.iter().find(|c| c.name == name).map(|c| c.dtype) {
        Some("i64") => DataType::Int64,
        Some("str") => DataType::String,
        _ => DataType::Float64,
    }
}

/// The schema of the table with the fixed columns only.
pub fn schema_of(df: &DataFrame) -> Schema {
    df.schema().as_ref().clone()
}

/// Write the whole table to `path` (.csv or .parquet).
pub fn write_table(path: &Path, df: &mut DataFrame) -> Result<(), FeaturesError> {
    let mut w = TableWriter::create(path, &schema_of(df))?;
    w.write(df)?;
    w.finish()
}

/// Read a table written by [`write_table`] or [`TableWriter`], with the
/// column types of the schema (CSV carries none). Regular files of at most
/// [`crate::io::MAX_INPUT_BYTES`] only.
pub fn read_table(path: &Path) -> Result<DataFrame, FeaturesError> {
    // A FIFO or device would never end; a part over the cap is not one.
    crate::io::check_input(path).map_err(|e| file_error(path, e))?;
    match Format::of(path)? {
        Format::Parquet => {
            let f = File::open(path).map_err(|e| file_error(path, e))?;
            ParquetReader::new(f)
                .finish()
                .map_err(|e| file_error(path, e))
        }
        Format::Csv => {
            let f = File::open(path).map_err(|e| file_error(path, e))?;
            let mut header = String::new();
            BufReader::new(f)
                .read_line(&mut header)
                .map_err(|e| file_error(path, e))?;
            let header = header.trim_start_matches('\u{feff}').trim_end();
            if header.is_empty() {
                return Err(file_error(path, "empty file: no header line"));
            }
            let schema: Schema = header
                .split(',')
                .map(|n| {
                    let n = n.trim_matches('"');
                    Field::new(n.into(), dtype_of(n))
                })
                .collect();
            CsvReadOptions::default()
                .with_has_header(true)
                .with_schema(Some(Arc::new(schema)))
                .try_into_reader_with_file_path(Some(path.to_path_buf()))
                .and_then(|r| r.finish())
                .map_err(|e| file_error(path, e))
        }
    }
}

enum Batched {
    Csv(polars::io::csv::write::BatchedWriter<BufWriter<File>>),
    Parquet(Box<polars::io::parquet::write::BatchedWriter<BufWriter<File>>>),
}

/// A table written in batches, so memory stays flat however many rows
/// come. It writes to a temporary file beside `path` and renames it on
/// [`TableWriter::finish`], so an interrupted run leaves no truncated
/// table under the final name.
pub struct TableWriter {
    path: PathBuf,
    tmp: PathBuf,
    inner: Batched,
    rows: usize,
    /// Parquet rows not yet written as a row group.
    pending: Option<DataFrame>,
}

/// Rows per Parquet row group. The writer keeps every row group's page
/// metadata until the footer (about 0.35 KiB per row in groups of a
/// 512-file chunk: a 10⁵-file batch peaked at 112 MiB against 39 MiB for
/// 10⁴); 8 chunks a group cut that growth 8× for a ~5 MiB buffer.
pub const PARQUET_GROUP_ROWS: usize = 4096;

impl TableWriter {
    pub fn create(path: &Path, schema: &Schema) -> Result<TableWriter, FeaturesError> {
        let format = Format::of(path)?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(format!(".tmp{}", std::process::id()));
        let tmp = PathBuf::from(tmp);
        let f = BufWriter::new(File::create(&tmp).map_err(|e| file_error(path, e))?);
        let inner = match format {
            Format::Csv => Batched::Csv(
                CsvWriter::new(f)
                    .include_header(true)
                    .batched(schema)
                    .map_err(|e| file_error(path, e))?,
            ),
            Format::Parquet => Batched::Parquet(Box::new(
                ParquetWriter::new(f)
                    .batched(schema)
                    .map_err(|e| file_error(path, e))?,
            )),
        };
        Ok(TableWriter {
            path: path.to_path_buf(),
            tmp,
            inner,
            rows: 0,
            pending: None,
        })
    }

    /// Append `df` (same columns as the schema given to [`TableWriter::create`]).
    pub fn write(&mut self, df: &mut DataFrame) -> Result<(), FeaturesError> {
        if df.height() == 0 {
            return Ok(());
        }
        self.rows += df.height();
        if let Batched::Parquet(_) = self.inner {
            // Parquet: rows gather into row groups of PARQUET_GROUP_ROWS.
            match &mut self.pending {
                Some(p) => {
                    p.vstack_mut(df).map_err(|e| file_error(&self.path, e))?;
                }
                None => self.pending = Some(df.clone()),
            }
            if self
                .pending
                .as_ref()
                .is_some_and(|p| p.height() >= PARQUET_GROUP_ROWS)
            {
                self.flush()?;
            }
            return Ok(());
        }
        self.write_now(df)
    }

    fn write_now(&mut self, df: &mut DataFrame) -> Result<(), FeaturesError> {
        // Batched writers need one chunk per column.
        df.rechunk_mut_par();
        let r = match &mut self.inner {
            Batched::Csv(w) => w.write_batch(df),
            Batched::Parquet(w) => w.write_batch(df),
        };
        r.map_err(|e| file_error(&self.path, e))
    }

    fn flush(&mut self) -> Result<(), FeaturesError> {
        match self.pending.take() {
            Some(mut p) => self.write_now(&mut p),
            None => Ok(()),
        }
    }

    /// Rows written so far.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Close the file and give it its final name.
    pub fn finish(mut self) -> Result<(), FeaturesError> {
        if let Err(e) = self.flush() {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(e);
        }
        let r = match self.inner {
            Batched::Csv(mut w) => w.finish(),
            Batched::Parquet(w) => w.finish().map(|_| ()),
        };
        if let Err(e) = r {
            let _ = std::fs::remove_file(&self.tmp);
            return Err(file_error(&self.path, e));
        }
        std::fs::rename(&self.tmp, &self.path).map_err(|e| file_error(&self.path, e))
    }
}

/// Columns of [`map_table`] besides the nearest candidates.
pub const MAP_COLUMNS: [&str; 6] = ["id", "kind", "modality", "absorber", "map_x", "map_y"];

/// Nearest candidates [`map_table`] keeps per measurement.
pub const MAP_NEAREST: usize = 3;

/// The map as a table, one row per point (measurements, then candidates):
/// [`MAP_COLUMNS`], `cluster` (k-means of the measurements, when asked
/// for; numbered from 1), then `nearest_N_cif` / `nearest_N_score` for N = 1..=3
/// (null for candidates and beyond a measurement's list). Measurements are
/// named by file (and `:group`), so the rows join the feature table on it.
pub fn map_table(map: &crate::latent::LatentMap) -> Result<DataFrame, FeaturesError> {
    let p = &map.points;
    let s = |f: &dyn Fn(&crate::latent::MapPoint) -> Option<String>| -> Vec<Option<String>> {
        p.iter().map(f).collect()
    };
    let mut columns = vec![
        String::column("id", s(&|q| Some(q.id.clone()))),
        String::column(
            "kind",
            s(&|q| Some(format!("{:?}", q.kind).to_ascii_lowercase())),
        ),
        String::column("modality", s(&|q| Some(q.modality.clone()))),
        String::column("absorber", s(&|q| q.absorber.map(str::to_string))),
        column("map_x", p.iter().map(|q| Some(q.x))),
        column("map_y", p.iter().map(|q| Some(q.y))),
        column("cluster", p.iter().map(|q| q.cluster.map(|c| c as i64 + 1))),
    ];
    for n in 0..MAP_NEAREST {
        columns.push(String::column(
            &format!("nearest_{}_cif", n + 1),
            s(&|q| q.nearest.get(n).map(|x| x.cif.clone())),
        ));
        columns.push(column(
            &format!("nearest_{}_score", n + 1),
            p.iter().map(|q| q.nearest.get(n).map(|x| x.score)),
        ));
    }
    DataFrame::new(p.len(), columns).map_err(|e| FeaturesError::Table(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parquet batches gather into row groups of PARQUET_GROUP_ROWS (few
    /// groups, flat memory), rows kept in order; the caller's frame is kept.
    #[test]
    fn parquet_batches_gather_into_row_groups() {
        let dir = std::env::temp_dir().join(format!("carto-rowgroups-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("t.parquet");
        let chunk = 1000;
        let frame = |k: usize| {
            let v: Vec<i64> = (0..chunk).map(|i| (k * chunk + i) as i64).collect();
            DataFrame::new_infer_height(vec![Column::new("x".into(), v)]).expect("frame")
        };
        let mut w = TableWriter::create(&path, frame(0).schema()).expect("create");
        for k in 0..10 {
            let mut df = frame(k);
            w.write(&mut df).expect("write");
            assert_eq!(df.height(), chunk);
        }
        assert_eq!(w.rows(), 10 * chunk);
        w.finish().expect("finish");
        let f = File::open(&path).expect("open");
        let mut r = ParquetReader::new(f);
        let groups = r.get_metadata().expect("metadata").row_groups.len();
        // A group is written once it holds ≥ 4096 rows: 5 batches of 1000.
        assert_eq!(PARQUET_GROUP_ROWS, 4096);
        assert_eq!(groups, 2);
        let back = r.finish().expect("read");
        let x: Vec<i64> = back
            .column("x")
            .expect("x")
            .i64()
            .expect("i64")
            .into_no_null_iter()
            .collect();
        assert_eq!(x, (0..10 * chunk as i64).collect::<Vec<_>>());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
