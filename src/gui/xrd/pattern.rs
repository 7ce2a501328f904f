//! One measured pattern in the XRD view: the data as read, its wavelength
//! (prefilled from the file, editable), the SNIP background and the peaks
//! found above it, and the pseudo-Voigt fits of those peaks.

use std::path::Path;

use egui::Color32;

use crate::io::xrd::{XrdPattern, read_pattern_bytes};
use crate::session::sha256_hex;
use crate::xrd::parse_wavelength;
use crate::xrd::peaks::{BackgroundMethod, FoundPeak, PeakFit, search};

/// A pattern as read from a file (on a worker thread or at start-up).
#[derive(Debug, Clone)]
pub struct LoadedPattern {
    /// The file as opened (a session stores it).
    pub file: String,
    pub sha256: String,
    pub pattern: XrdPattern,
}

/// Read a pattern file.
pub fn load_pattern(path: &Path) -> Result<LoadedPattern, String> {
    let bytes =
        crate::io::read_input(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_pattern(&bytes, path)
}

/// A pattern from bytes already read from `path`.
pub fn parse_pattern(bytes: &[u8], path: &Path) -> Result<LoadedPattern, String> {
    let file = path.display().to_string();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    let mut pattern =
        read_pattern_bytes(bytes, &file, ext.as_deref()).map_err(|e| e.to_string())?;
    if let Some(stem) = path.file_stem() {
        pattern.name = stem.to_string_lossy().into_owned();
    }
    // The readers' rule (2θ range, order, wavelength) already held; this
    // is the CLI's too.
    pattern.analysable(&file).map_err(|e| e.to_string())?;
    Ok(LoadedPattern {
        file,
        sha256: sha256_hex(bytes),
        pattern,
    })
}

/// A measured pattern and what the view derives from it.
#[derive(Debug, Clone)]
pub struct XrdEntry {
    pub id: u64,
    pub name: String,
    pub file: String,
    pub sha256: String,
    pub pattern: XrdPattern,
    pub color: Color32,
    /// The wavelength as typed: a name (CuKa) or Å; empty: none.
    pub wavelength_text: String,
    /// SNIP half-window (°2θ).
    pub bkg_window_deg: f64,
    /// SNIP or Sonneveld–Visser.
    pub bkg_method: BackgroundMethod,
    /// Peak search threshold in noise levels.
    pub min_snr: f64,
    /// Half-window of each peak fit (°2θ).
    pub fit_window_deg: f64,
    /// SNIP background on the pattern's points.
    pub background: Vec<f64>,
    pub peaks: Vec<FoundPeak>,
    /// One fit per peak once "Fit peaks" ran (empty before, and after a
    /// change of the settings).
    pub fits: Vec<Result<PeakFit, String>>,
    analysed: Option<u64>,
}

impl XrdEntry {
    pub fn new(id: u64, p: LoadedPattern, color: Color32) -> Self {
        let wavelength_text = p
            .pattern
            .wavelength_ang
            .map(|l| format!("{l}"))
            .unwrap_or_default();
        let mut e = XrdEntry {
            id,
            name: p.pattern.name.clone(),
            file: p.file,
            sha256: p.sha256,
            pattern: p.pattern,
            color,
            wavelength_text,
            bkg_window_deg: 1.0,
            bkg_method: BackgroundMethod::default(),
            min_snr: 6.0,
            fit_window_deg: 0.5,
            background: Vec::new(),
            peaks: Vec::new(),
            fits: Vec::new(),
            analysed: None,
        };
        e.analyse();
        e
    }

    /// The wavelength in Å (None: not given).
    pub fn wavelength(&self) -> Result<Option<f64>, String> {
        let t = self.wavelength_text.trim();
        if t.is_empty() {
            Ok(None)
        } else {
            parse_wavelength(t).map(Some).map_err(|e| e.to_string())
        }
    }

    /// The Kα1/Kα2 doublet when the wavelength is a Kα name (CuKa).
    pub fn doublet(&self) -> Option<(f64, f64, f64)> {
        crate::xrd::k_alpha_doublet(self.wavelength_text.trim())
    }

    /// Mean 2θ step (°).
    pub fn step(&self) -> f64 {
        let x = &self.pattern.two_theta_deg;
        let n = x.len();
        if n < 2 {
            return 0.01;
        }
        (x[n - 1] - x[0]) / (n - 1) as f64
    }

    /// The 2θ range (°).
    pub fn range(&self) -> (f64, f64) {
        let x = &self.pattern.two_theta_deg;
        (
            x.first().copied().unwrap_or(0.0),
            x.last().copied().unwrap_or(0.0),
        )
    }

    /// Identifies the settings the background and peaks were computed with.
    pub fn key(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        self.bkg_window_deg.to_bits().hash(&mut h);
        (self.bkg_method as u8).hash(&mut h);
        self.min_snr.to_bits().hash(&mut h);
        self.fit_window_deg.to_bits().hash(&mut h);
        h.finish()
    }

    /// Recompute the background and the peaks when the settings changed.
    pub fn analyse(&mut self) {
        let key = self.key();
        if self.analysed == Some(key) {
            return;
        }
        self.analysed = Some(key);
        self.fits.clear();
        let (x, y) = (&self.pattern.two_theta_deg, &self.pattern.intensity);
        (self.background, self.peaks) =
            search(x, y, self.bkg_method, self.bkg_window_deg, self.min_snr);
    }

    /// The largest height above the background (scales phase overlays).
    pub fn max_net(&self) -> f64 {
        let m = self
            .pattern
            .intensity
            .iter()
            .zip(&self.background)
            .map(|(a, b)| a - b)
            .fold(0.0, f64::max);
        if m > 0.0 { m } else { 1.0 }
    }

    /// The background at 2θ (linear between points; 0 without one).
    pub fn background_at(&self, t: f64) -> f64 {
        interp(&self.pattern.two_theta_deg, &self.background, t)
    }
}

/// Linear interpolation of (x, y) at t, clamped to the ends (0 when empty).
pub fn interp(x: &[f64], y: &[f64], t: f64) -> f64 {
    let n = x.len().min(y.len());
    if n == 0 {
        return 0.0;
    }
    if t <= x[0] {
        return y[0];
    }
    if t >= x[n - 1] {
        return y[n - 1];
    }
    let j = x[..n].partition_point(|&v| v <= t).clamp(1, n - 1);
    let (x0, x1) = (x[j - 1], x[j]);
    let f = if x1 > x0 { (t - x0) / (x1 - x0) } else { 0.0 };
    y[j - 1] * (1.0 - f) + y[j] * f
}
