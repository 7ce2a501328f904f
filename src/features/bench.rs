//! `carto bench batch`: `carto batch` throughput on whole files (reading,
//! processing, building and writing the table), on a fixed number of threads.

use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::batch::{BatchConfig, rows_of_file, write_batch};
use crate::bench::{BenchOptions, case_files, data_root, peak_rss_mib};

#[derive(Debug, Clone, Serialize)]
pub struct BatchBenchReport {
    /// Distinct files (the EXAFS cases of `carto bench xas`), each pass.
    pub n_files: usize,
    /// Rows (spectra) of one pass over them.
    pub n_spectra: usize,
    /// Rows with an error in one pass (XANES-only groups too short for AUTOBK).
    pub n_failed: usize,
    pub repeat: usize,
    pub threads: usize,
    /// Whole batch to a Parquet table: read, process, edge descriptors, write.
    pub spectra_per_s: f64,
    /// The same without building or writing the table.
    pub spectra_per_s_no_write: f64,
    /// The same without the edge descriptors (their pre-edge baseline fit).
    pub spectra_per_s_no_descriptors: f64,
    /// The same with `xanes = true` (pre_edge only).
    pub spectra_per_s_xanes_only: f64,
    pub peak_rss_mib: Option<f64>,
}

impl BatchBenchReport {
    pub fn text(&self) -> String {
        format!(
            "carto bench batch: {} files ({} spectra, {} failing) × {} passes on {} threads, whole files\n\
             read → process → edge descriptors → Parquet table: {:.0} spectra/s\n\
             without writing the table:                       {:.0} spectra/s\n\
             without the edge descriptors (written):          {:.0} spectra/s\n\
             XANES only (pre_edge; written):                  {:.0} spectra/s\n{}",
            self.n_files,
            self.n_spectra,
            self.n_failed,
            self.repeat,
            self.threads,
            self.spectra_per_s,
            self.spectra_per_s_no_write,
            self.spectra_per_s_no_descriptors,
            self.spectra_per_s_xanes_only,
            self.peak_rss_mib
                .map(|m| format!("peak memory: {m:.1} MiB\n"))
                .unwrap_or_default()
        )
    }
}

/// Time `carto batch` over the case files repeated `opts.repeat` times.
pub fn bench_batch(opts: &BenchOptions, threads: usize) -> Result<BatchBenchReport, String> {
    let root = data_root(opts.data.as_deref())?;
    let distinct = case_files(&root)?;
    let repeat = opts.repeat.max(1);
    let files: Vec<PathBuf> = (0..repeat).flat_map(|_| distinct.iter().cloned()).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("carto-bench-batch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let out = dir.join("features.parquet");
    let full = BatchConfig::default();
    let no_desc = BatchConfig {
        edge_descriptors: false,
        ..BatchConfig::default()
    };
    let xanes = BatchConfig {
        xanes: true,
        ..BatchConfig::default()
    };
    let run = |c: &BatchConfig| -> Result<(f64, usize, usize), String> {
        let t = Instant::now();
        let n = pool
            .install(|| write_batch(&files, 0..files.len(), c, &out, &|| ()))
            .map_err(|e| e.to_string())?;
        Ok((t.elapsed().as_secs_f64(), n.rows, n.failed))
    };
    // Warm up (FFT plans, page cache).
    run(&full)?;
    let (t_full, rows, failed) = run(&full)?;
    let (t_no_desc, ..) = run(&no_desc)?;
    let (t_xanes, rows_xanes, _) = run(&xanes)?;
    let params = full.chain_params();
    let t = Instant::now();
    let rows_no_write: usize = pool.install(|| {
        files
            .par_iter()
            .enumerate()
            .map(|(i, f)| rows_of_file(i, f, &full, &params).len())
            .sum()
    });
    let t_no_write = t.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(BatchBenchReport {
        n_files: distinct.len(),
        n_spectra: rows / repeat,
        n_failed: failed / repeat,
        repeat,
        threads: threads.max(1),
        spectra_per_s: rows as f64 / t_full,
        spectra_per_s_no_write: rows_no_write as f64 / t_no_write,
        spectra_per_s_no_descriptors: rows as f64 / t_no_desc,
        spectra_per_s_xanes_only: rows_xanes as f64 / t_xanes,
        peak_rss_mib: peak_rss_mib(),
    })
}
