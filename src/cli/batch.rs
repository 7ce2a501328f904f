//! `carto batch INPUT... --out FILE.csv|FILE.parquet`: the feature table
//! ([`carto::features`]) of many files, over all cores, streamed to the
//! output in chunks; `--shard I/N` for cluster array jobs and `carto batch
//! merge` to join their parts.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use carto::features::batch::{BatchConfig, BatchCounts, write_batch};
use carto::features::{TableWriter, read_table, schema_of};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::{emit, print_json};

/// Exit status when some rows carry an error (the table is still written).
pub const EXIT_SOME_FAILED: i32 = 2;

/// `--shard I/N`: the I-th (1-based) of N contiguous blocks of the sorted inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("'{s}': expected I/N with 1 ≤ I ≤ N (e.g. 2/4)");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The block of `n` inputs this shard takes: contiguous, so merging
    /// the parts in shard order is the single-process order.
    pub fn range(self, n: usize) -> std::ops::Range<usize> {
        (self.index - 1) * n / self.count..self.index * n / self.count
    }
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct BatchArgs {
    #[command(subcommand)]
    pub cmd: Option<BatchCmd>,
    /// Files, folders (searched recursively; hidden files skipped) and globs ('data/**/*.xdi').
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The table: .csv or .parquet.
    #[arg(long, required = true)]
    pub out: Option<PathBuf>,
    /// Processing parameters (TOML; names as `carto xas`'s options, see README).
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Process only the I-th of N blocks of the sorted inputs (a cluster array job's part).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print a JSON summary (files, rows, failed, seconds, rows_per_s).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum BatchCmd {
    /// Join the parts of a sharded batch into one table in the single-process order.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Tables written by `carto batch --shard` (.csv or .parquet), in any order.
    #[arg(required = true)]
    pub parts: Vec<PathBuf>,
    /// The merged table: .csv or .parquet.
    #[arg(long)]
    pub out: PathBuf,
    /// Print a JSON summary.
    #[arg(long)]
    pub json: bool,
}

/// `carto batch --json`.
#[derive(Debug, Serialize)]
pub struct BatchOut {
    pub out: String,
    /// Files of this run (this shard's when sharded).
    pub files: usize,
    /// Files found in all inputs.
    pub files_total: usize,
    pub shard: Option<String>,
    pub rows: usize,
    pub failed: usize,
    pub seconds: f64,
    pub rows_per_s: f64,
}

/// `carto batch merge --json`.
#[derive(Debug, Serialize)]
pub struct MergeOut {
    pub out: String,
    pub parts: usize,
    pub rows: usize,
    pub failed: usize,
}

fn is_hidden(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

/// Every file under `dir`, recursively (hidden entries skipped).
fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("cannot read folder {}", dir.display()))?;
    for e in entries {
        let path = e
            .with_context(|| format!("cannot read folder {}", dir.display()))?
            .path();
        if is_hidden(&path) {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The inputs as a sorted, de-duplicated list of files. A folder or a
/// glob that gives no file is an error (a typo would otherwise give an
/// empty table); a named file that cannot be read becomes an error row.
pub fn expand_inputs(inputs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for input in inputs {
        let before = files.len();
        let text = input.to_string_lossy();
        if input.is_dir() {
            walk(input, &mut files)?;
        } else if input.exists() || !text.contains(['*', '?', '[']) {
            files.push(input.clone());
        } else {
            let paths = glob::glob(&text).with_context(|| format!("invalid glob '{text}'"))?;
            for p in paths {
                let p = p.with_context(|| format!("glob '{text}'"))?;
                if p.is_dir() {
                    walk(&p, &mut files)?;
                } else {
                    files.push(p);
                }
            }
        }
        if files.len() == before {
            bail!("{text}: no files found");
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn progress_bar(n: usize) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::new(n as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{bar:40} {pos}/{len} files, {per_sec}, eta {eta} {msg}",
    ) {
        pb.set_style(style);
    }
    pb
}

pub fn run(a: &BatchArgs) -> Result<()> {
    if let Some(BatchCmd::Merge(m)) = &a.cmd {
        return merge(m);
    }
    let Some(out) = &a.out else {
        bail!("--out FILE.csv|FILE.parquet is required");
    };
    carto::features::Format::of(out)?;
    let config = match &a.config {
        Some(p) => BatchConfig::load(p)?,
        None => BatchConfig::default(),
    };
    let all = expand_inputs(&a.inputs)?;
    let range = a.shard.map_or(0..all.len(), |s| s.range(all.len()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads.unwrap_or(0))
        .build()
        .context("cannot start worker threads")?;
    let t = Instant::now();
    let pb = progress_bar(range.len());
    let counts = pool.install(|| write_batch(&all, range.clone(), &config, out, &|| pb.inc(1)));
    pb.finish_and_clear();
    let BatchCounts { rows, failed } = counts?;
    let seconds = t.elapsed().as_secs_f64();
    let summary = BatchOut {
        out: out.display().to_string(),
        files: range.len(),
        files_total: all.len(),
        shard: a.shard.map(|s| format!("{}/{}", s.index, s.count)),
        rows,
        failed,
        seconds,
        rows_per_s: rows as f64 / seconds.max(1e-9),
    };
    if a.json {
        print_json(&summary)?;
    } else {
        emit(&format!(
            "{}: {} rows from {} files ({} failed) in {:.2} s, {:.0} rows/s",
            summary.out, rows, summary.files, failed, seconds, summary.rows_per_s
        ))?;
    }
    if failed > 0 {
        eprintln!("carto batch: {failed} of {rows} rows failed (their error column says why)");
        std::process::exit(EXIT_SOME_FAILED);
    }
    Ok(())
}

/// `carto batch merge`: the parts in the order of their first file_index,
/// each read and written in turn (one part in memory at a time).
fn merge(m: &MergeArgs) -> Result<()> {
    carto::features::Format::of(&m.out)?;
    let mut parts = Vec::new();
    for p in &m.parts {
        let df = read_table(p)?;
        let idx = df
            .column("file_index")
            .and_then(|c| c.i64().cloned())
            .map_err(|e| anyhow::anyhow!("{}: not a carto batch table: {e}", p.display()))?;
        let (lo, hi) = (idx.iter().flatten().min(), idx.iter().flatten().max());
        parts.push((lo, hi, p.clone(), df.height()));
    }
    // Empty parts (a shard with no files) sort first and add nothing.
    parts.sort_by_key(|(lo, ..)| *lo);
    for w in parts.windows(2) {
        if let ((_, Some(hi), a, _), (Some(lo), _, b, _)) = (&w[0], &w[1])
            && lo <= hi
        {
            bail!(
                "{} and {} overlap (file_index {lo} ≤ {hi}): parts of different batches, or one part given twice?",
                a.display(),
                b.display()
            );
        }
    }
    let mut writer: Option<TableWriter> = None;
    let mut failed = 0;
    for (_, _, p, _) in &parts {
        let mut df = read_table(p)?;
        failed += df
            .column("error")
            .map(|c| c.len() - c.null_count())
            .unwrap_or(0);
        if writer.is_none() {
            writer = Some(TableWriter::create(&m.out, &schema_of(&df))?);
        }
        if let Some(w) = writer.as_mut() {
            w.write(&mut df)
                .with_context(|| format!("{}: columns differ from the other parts", p.display()))?;
        }
    }
    let Some(w) = writer else {
        bail!("no parts");
    };
    let rows = w.rows();
    w.finish()?;
    let summary = MergeOut {
        out: m.out.display().to_string(),
        parts: parts.len(),
        rows,
        failed,
    };
    if m.json {
        print_json(&summary)
    } else {
        emit(&format!(
            "{}: {} rows from {} parts ({} failed)",
            summary.out, rows, summary.parts, failed
        ))
    }
}
