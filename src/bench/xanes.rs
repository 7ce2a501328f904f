//! `carto bench xanes`: XANES linear-combination fitting beside xraylarch.

use super::*;

/// `carto bench xanes`: `lincombo_fitall` of one spectrum against 6
/// standards, every combination of ≤ 3 (issue 13's LCF speed case, the
/// `lcf_all` fixture case), side by side with tools/bench_larch_lcf.py.
#[derive(Debug, Clone, Serialize)]
pub struct XanesBenchReport {
    pub case: String,
    pub repeat: usize,
    pub n_combinations: usize,
    pub n_ranked: usize,
    /// One whole `lincombo_fitall` (groups already normalized), ms.
    pub ms_per_fitall_median: f64,
    pub ms_per_fitall_min: f64,
    pub larch_ms_per_fitall: Option<f64>,
    pub larch_version: Option<String>,
    /// How many times slower Larch is (median against median).
    pub ratio_vs_carto: Option<f64>,
    pub notes: Vec<String>,
}

impl XanesBenchReport {
    pub fn text(&self) -> String {
        let mut s = format!(
            "carto bench xanes: {} ({} combinations, {} kept)\n\
             single thread: {:.3} ms per lincombo_fitall (median of {}; min {:.3})\n",
            self.case,
            self.n_combinations,
            self.n_ranked,
            self.ms_per_fitall_median,
            self.repeat,
            self.ms_per_fitall_min,
        );
        if let (Some(l), Some(r)) = (self.larch_ms_per_fitall, self.ratio_vs_carto) {
            s += &format!(
                "xraylarch {} lincombo_fitall: {l:.1} ms → Carto is {r:.0}× faster\n",
                self.larch_version.clone().unwrap_or_default()
            );
        }
        for n in &self.notes {
            s += &format!("note: {n}\n");
        }
        s
    }
}

/// Every μ(E) group of an Athena project under `root/athena`, normalized.
fn xanes_project(
    root: &Path,
    name: &str,
) -> Result<std::collections::HashMap<String, crate::xanes::XanesGroup>, String> {
    let path = root.join("athena").join(name);
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let prj = io::athena::read(&bytes, name).map_err(|e| e.to_string())?;
    let mut out = std::collections::HashMap::new();
    for g in prj.groups.iter().filter(|g| !g.is_chi()) {
        let s = g.to_spectrum(name).map_err(|e| e.to_string())?;
        let x = crate::xanes::XanesGroup::from_mu(
            &g.label,
            &s.energy_ev,
            &s.mu,
            &xas::PreEdgeParams::default(),
        )
        .map_err(|e| e.to_string())?;
        out.insert(g.label.clone(), x);
    }
    Ok(out)
}

pub fn bench_xanes(opts: &BenchOptions) -> Result<XanesBenchReport, String> {
    use crate::xanes::{LcfParams, lincombo_fitall};
    let root = data_root(opts.data.as_deref())?;
    let stds = xanes_project(&root, "CuHERFD_standards.prj")?;
    let samples = xanes_project(&root, "CuHERFD_samples.prj")?;
    let names = [
        "CuHERFD_CuFoil.003",
        "CuHERFD_CuS.001",
        "CuHERFD_Cu2S.001",
        "CuHERFD_nanoCuO.001",
        "CuHERFD_Cu(I)O.001",
        "CuHERFD_Chalcopyrite.001",
    ];
    let std_refs = names
        .iter()
        .map(|n| {
            stds.get(*n)
                .ok_or_else(|| format!("CuHERFD_standards.prj has no group '{n}'"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let sample_name = "CuHERFD_BORG01-32_sulfide.001";
    let sample = samples
        .get(sample_name)
        .ok_or_else(|| format!("CuHERFD_samples.prj has no group '{sample_name}'"))?;
    let p = LcfParams {
        xmin_ev: sample.e0_ev - 20.0,
        xmax_ev: sample.e0_ev + 60.0,
        max_ncomps: Some(3),
        max_output: 100,
        ..LcfParams::default()
    };
    let first = lincombo_fitall(sample, &std_refs, &p).map_err(|e| e.to_string())?;
    let repeat = opts.repeat.max(1);
    let mut times = Vec::with_capacity(repeat);
    for _ in 0..repeat {
        let t = Instant::now();
        let r = lincombo_fitall(sample, &std_refs, &p).map_err(|e| e.to_string())?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(r);
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let mut report = XanesBenchReport {
        case: format!("{sample_name} vs 6 CuHERFD standards, all combinations of ≤ 3"),
        repeat,
        // C(6,1) + C(6,2) + C(6,3)
        n_combinations: 6 + 15 + 20,
        n_ranked: first.len(),
        ms_per_fitall_median: median,
        ms_per_fitall_min: times[0],
        larch_ms_per_fitall: None,
        larch_version: None,
        ratio_vs_carto: None,
        notes: Vec::new(),
    };
    if let Some(python) = opts.python_or_env("CARTO_PYTHON") {
        match reference_json(&python, "bench_larch_lcf.py", &root, &["--repeat", "5"]) {
            Ok(v) => {
                if let Some(ms) = v["median_ms"].as_f64() {
                    report.larch_ms_per_fitall = Some(ms);
                    report.larch_version = v["xraylarch"].as_str().map(str::to_owned);
                    report.ratio_vs_carto = Some(ms / median);
                }
            }
            Err(e) => report
                .notes
                .push(format!("{e} (no xraylarch there? see tools/README.md)")),
        }
    }
    Ok(report)
}
