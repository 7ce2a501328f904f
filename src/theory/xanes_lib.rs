//! A structure's simulated XANES as a landmark of the map: the runs of
//! [`super::xanes`] for each inequivalent absorber site (at most
//! [`SiteXanesOptions::max_sites`], the most populous first), averaged on
//! FEFF's absolute energy scale with the sites' multiplicities as weights
//! (FEFF's own site average, e.g. Ankudinov & Rehr's FEFF8 papers: μ of a
//! crystal is the multiplicity-weighted mean of its sites'), each run
//! cached on disk under the SHA-256 of its `feff.inp`, so a candidate
//! library is simulated once (20–60 s a site on this machine) and read
//! back in milliseconds afterwards.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::TheoryError;
use super::cluster::Absorber;
use super::xanes::{
    CancellationToken, XanesOptions, XanesRun, max_derivative_energy, prepare_xanes,
};
use crate::numeric::interp::interp_clamped;
use crate::structure::Structure;

/// The cache's version key (a change of the file format or of how refeff
/// is driven bumps it).
pub const CACHE_VERSION: &str = "xanes-v1";

/// How a structure's XANES landmark is made.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteXanesOptions {
    pub xanes: XanesOptions,
    /// Inequivalent absorber sites simulated, the most populous first (each
    /// is a full refeff run); the rest are left out and reported.
    pub max_sites: usize,
}

impl Default for SiteXanesOptions {
    fn default() -> Self {
        SiteXanesOptions {
            xanes: XanesOptions::default(),
            max_sites: 3,
        }
    }
}

/// A structure's site-averaged XANES.
#[derive(Debug, Clone, PartialEq)]
pub struct AveragedXanes {
    /// FEFF's absolute photon energy (eV), increasing: the most populous
    /// site's grid over the range every site covers.
    pub energy_ev: Vec<f64>,
    /// Normalized μ (FEFF's normalization), the weighted mean of the sites'.
    pub mu_norm: Vec<f64>,
    /// The steepest rise of the average (eV).
    pub e0_ev: f64,
    /// Inequivalent absorber sites simulated, and there are.
    pub sites_used: usize,
    pub sites_total: usize,
    /// The share of the absorbers (by multiplicity) the simulated sites hold.
    pub share: f64,
    /// refeff runs made (sites not found in the cache).
    pub computed: usize,
    /// Wall time of those runs (s).
    pub seconds: f64,
    /// What was done differently from the options (a larger SCF sphere).
    pub notes: Vec<String>,
}

/// Runs refeff on `feff.inp` text ([`super::xanes::run_xanes_inp`]; tests
/// pass their own).
pub type XanesRunner<'a> =
    dyn FnMut(&str, Option<&CancellationToken>) -> Result<XanesRun, TheoryError> + 'a;

/// `$XDG_CACHE_HOME/carto/xanes-v1`, else `$HOME/.cache/carto/xanes-v1`.
pub fn default_cache_dir() -> Option<PathBuf> {
    super::closed::default_cache_dir().and_then(|d| d.parent().map(|p| p.join(CACHE_VERSION)))
}

/// The cache file of a run: the SHA-256 of its input (the input decides
/// refeff's output completely).
fn cache_file(dir: &Path, inp: &str) -> (PathBuf, String) {
    let hex: String = Sha256::digest(inp.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (dir.join(format!("{hex}.dat")), hex)
}

/// Energies (eV) and normalized μ.
type Spectrum = (Vec<f64>, Vec<f64>);

/// A cached run: `# sha256 HEX` then `energy mu` rows, or `# failed:
/// MESSAGE` for an input refeff could not run (it fails the same way
/// every time, after up to a minute); `None` when the file is missing,
/// for another input, or does not read back (then the run is made again
/// and the file overwritten).
fn read_cached(file: &Path, hex: &str) -> Option<Result<Spectrum, String>> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut lines = text.lines();
    if lines.next()?.trim() != format!("# sha256 {hex}") {
        return None;
    }
    if let Some(msg) = text
        .lines()
        .nth(1)
        .and_then(|l| l.strip_prefix("# failed: "))
    {
        return Some(Err(msg.to_string()));
    }
    let (mut e, mut m) = (Vec::new(), Vec::new());
    for l in lines.filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty()) {
        let mut it = l.split_whitespace().map(str::parse::<f64>);
        match (it.next(), it.next()) {
            (Some(Ok(a)), Some(Ok(b))) if a.is_finite() && b.is_finite() => {
                e.push(a);
                m.push(b);
            }
            _ => return None,
        }
    }
    let increasing = e.windows(2).all(|w| w[1] > w[0]);
    (e.len() >= 8 && increasing).then_some(Ok((e, m)))
}

/// Store a run (or refeff's failure) through a temporary file and a
/// rename (a reader never sees half a file); a cache that cannot be
/// written only costs time.
fn write_cached(file: &Path, hex: &str, run: Result<(&[f64], &[f64]), &str>) -> Result<(), String> {
    let mut t = format!("# sha256 {hex}\n");
    match run {
        Ok((energy_ev, mu)) => {
            t.push_str("# energy mu (refeff XANES, FEFF's normalization)\n");
            for (e, m) in energy_ev.iter().zip(mu) {
                // Shortest round-trip form: read back, the numbers are the same.
                t.push_str(&format!("{e} {m}\n"));
            }
        }
        Err(msg) => t.push_str(&format!("# failed: {}\n", msg.replace(['\n', '\r'], " "))),
    }
    let err = |e: std::io::Error| format!("{}: {e}", file.display());
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let tmp = file.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, t).map_err(err)?;
    std::fs::rename(&tmp, file).map_err(err)
}

/// One site's spectrum: from the cache, or refeff (then cached). refeff's
/// SCF fails on some small spheres (magnetite's tetrahedral Fe); such a
/// site is run once more with the SCF sphere 1 Å larger, and a note says
/// so. (energy, μ, refeff ran, seconds).
#[allow(clippy::too_many_arguments)]
fn site_run(
    s: &Structure,
    site: usize,
    o: &XanesOptions,
    file: &str,
    cache_dir: Option<&Path>,
    cancel: Option<&CancellationToken>,
    run: &mut XanesRunner<'_>,
    notes: &mut Vec<String>,
) -> Result<(Vec<f64>, Vec<f64>, bool, f64), TheoryError> {
    let mut o = o.clone();
    for attempt in 0..2 {
        let p = prepare_xanes(s, &Absorber::Site(site), &o, file)?;
        if attempt == 0 && !p.dropped.is_empty() {
            notes.push(format!(
                "site {site}: {} left out (no atom inside the {:.1} Å FMS sphere)",
                p.dropped.join(", "),
                o.fms_radius_ang
            ));
        }
        let cached = cache_dir.map(|d| cache_file(d, &p.feff_inp));
        let result = match cached.as_ref().and_then(|(f, hex)| read_cached(f, hex)) {
            Some(Ok((e, m))) => return Ok((e, m, false, 0.0)),
            Some(Err(msg)) => Err(TheoryError::Engine(format!("{msg} (cached)"))),
            None => {
                let r = run(&p.feff_inp, cancel);
                // Not fatal when it cannot be written. Only refeff's own
                // failures are kept: a cancelled run is not an answer.
                if let Some((f, hex)) = &cached {
                    let _ = match &r {
                        Ok(x) => write_cached(f, hex, Ok((&x.energy_ev, &x.mu_norm))),
                        Err(TheoryError::Engine(m)) => write_cached(f, hex, Err(m)),
                        Err(_) => Ok(()),
                    };
                }
                r
            }
        };
        match result {
            Ok(r) => return Ok((r.energy_ev, r.mu_norm, true, r.seconds)),
            Err(TheoryError::Engine(m))
                if attempt == 0 && m.contains("pot stage") && o.scf_radius_ang.is_some() =>
            {
                let scf = o.scf_radius_ang.unwrap_or(0.0) + 1.0;
                notes.push(format!(
                    "site {site}: SCF over {:.1} Å failed in refeff's POT stage; run with {scf:.1} Å",
                    scf - 1.0
                ));
                o.scf_radius_ang = Some(scf);
            }
            Err(e) => return Err(e),
        }
    }
    Err(TheoryError::Engine(format!(
        "{file}: site {site}: refeff's POT stage failed with both SCF spheres"
    )))
}

/// The XANES of `s` averaged over its absorber `sites` (expanded-cell
/// index of one atom per inequivalent site, and the site's multiplicity),
/// the `max_sites` most populous; `file` names the structure in errors.
/// Runs missing from `cache_dir` are made with `run` (one after another:
/// refeff runs one calculation at a time). `cancel` is checked before each
/// run and passed to it.
pub fn averaged_xanes(
    s: &Structure,
    sites: &[(usize, usize)],
    o: &SiteXanesOptions,
    file: &str,
    cache_dir: Option<&Path>,
    cancel: Option<&CancellationToken>,
    run: &mut XanesRunner<'_>,
) -> Result<AveragedXanes, TheoryError> {
    if o.max_sites == 0 {
        return Err(TheoryError::BadOption(
            "at least one absorber site must be simulated".into(),
        ));
    }
    let total_mult: usize = sites.iter().map(|&(_, m)| m).sum();
    if total_mult == 0 {
        return Err(TheoryError::Output(format!(
            "{file}: no site of the absorber"
        )));
    }
    let mut chosen: Vec<(usize, usize)> = sites.to_vec();
    // Most populous first; equal ones in the structure's order.
    chosen.sort_by_key(|&(i, m)| (std::cmp::Reverse(m), i));
    chosen.truncate(o.max_sites);
    let mut notes = Vec::new();
    let mut spectra = Vec::new();
    let (mut computed, mut seconds) = (0, 0.0);
    for &(site, mult) in &chosen {
        if cancel.is_some_and(|c| c.is_cancelled()) {
            return Err(TheoryError::Cancelled);
        }
        let (e, m, ran, secs) =
            site_run(s, site, &o.xanes, file, cache_dir, cancel, run, &mut notes)?;
        computed += usize::from(ran);
        seconds += secs;
        spectra.push((e, m, mult as f64));
    }
    let lo = spectra
        .iter()
        .map(|(e, _, _)| e[0])
        .fold(f64::MIN, f64::max);
    let hi = (spectra.iter())
        .map(|(e, _, _)| e[e.len() - 1])
        .fold(f64::MAX, f64::min);
    let (e_ref, _, _) = &spectra[0];
    let energy_ev: Vec<f64> = e_ref
        .iter()
        .copied()
        .filter(|&e| e >= lo && e <= hi)
        .collect();
    if energy_ev.len() < 8 {
        return Err(TheoryError::Output(format!(
            "{file}: the sites' spectra share only {} energies ({lo:.1}–{hi:.1} eV)",
            energy_ev.len()
        )));
    }
    let wsum: f64 = spectra.iter().map(|(_, _, w)| w).sum();
    // Every site's energies increase strictly (cache check, refeff's rows
    // sorted and deduplicated), and the grid lies inside each one's range.
    let mut mu_norm = vec![0.0; energy_ev.len()];
    for (e, m, w) in &spectra {
        for (acc, v) in mu_norm.iter_mut().zip(interp_clamped(e, m, &energy_ev)) {
            *acc += w * v / wsum;
        }
    }
    let e0_ev = max_derivative_energy(&energy_ev, &mu_norm);
    let used_mult: usize = chosen.iter().map(|&(_, m)| m).sum();
    Ok(AveragedXanes {
        energy_ev,
        mu_norm,
        e0_ev,
        sites_used: chosen.len(),
        sites_total: sites.len(),
        share: used_mult as f64 / total_mult as f64,
        computed,
        seconds,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structure::parse_cif_structures;

    const NACL: &str = "data_NaCl\n_cell_length_a 5.64\n_cell_length_b 5.64\n_cell_length_c 5.64\n\
        _cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n\
        _symmetry_space_group_name_H-M 'F m -3 m'\nloop_\n_atom_site_label\n_atom_site_type_symbol\n\
        _atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nNa1 Na 0 0 0\nCl1 Cl 0.5 0.5 0.5\n";

    /// A fake refeff: an arctan edge at 1075 eV on a 1 eV grid, 1 eV
    /// higher in its second and later runs (so two sites differ),
    /// counting its calls.
    fn fake(
        calls: &std::cell::Cell<usize>,
    ) -> impl FnMut(&str, Option<&CancellationToken>) -> Result<XanesRun, TheoryError> + '_ {
        let mut mine = 0;
        move |_: &str, _| {
            calls.set(calls.get() + 1);
            mine += 1;
            let shift = if mine == 1 { 0.0 } else { 1.0 };
            let e: Vec<f64> = (0..100).map(|i| 1060.0 + i as f64).collect();
            let m: Vec<f64> = (e.iter())
                .map(|x| 0.5 + (x - 1075.0 - shift).atan() / std::f64::consts::PI)
                .collect();
            Ok(XanesRun {
                e0_ev: 1075.0,
                energy_ev: e,
                mu_norm: m,
                mu0_norm: vec![],
                seconds: 0.5,
                stages: vec![],
            })
        }
    }

    #[test]
    fn cached_runs_are_read_back_not_rerun() {
        let s = parse_cif_structures(NACL, "nacl.cif")
            .expect("cif")
            .remove(0);
        let dir = std::env::temp_dir().join(format!("carto-xanes-lib-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let calls = std::cell::Cell::new(0);
        let avg = |o: &SiteXanesOptions| {
            averaged_xanes(
                &s,
                &[(0, 4)],
                o,
                "nacl",
                Some(&dir),
                None,
                &mut fake(&calls),
            )
            .expect("averaged")
        };
        let o = SiteXanesOptions::default();
        let a = avg(&o);
        assert_eq!((calls.get(), a.computed), (1, 1));
        let b = avg(&o);
        assert_eq!((calls.get(), b.computed), (1, 0));
        // Read back exactly (shortest round-trip decimal form).
        assert_eq!((&a.energy_ev, &a.mu_norm), (&b.energy_ev, &b.mu_norm));
        assert!((a.e0_ev - 1075.0).abs() < 1.0, "{}", a.e0_ev);
        // Other options are another input: run again.
        let o2 = SiteXanesOptions {
            xanes: XanesOptions {
                fms_radius_ang: 4.0,
                ..XanesOptions::default()
            },
            ..o.clone()
        };
        avg(&o2);
        assert_eq!(calls.get(), 2);
        // A damaged cache file is run again.
        for f in std::fs::read_dir(&dir).expect("dir").flatten() {
            std::fs::write(f.path(), "# sha256 0\n1 2\n").expect("write");
        }
        avg(&o);
        assert_eq!(calls.get(), 3);
        // refeff's failure is kept too (it fails the same way every time);
        // a cancelled run is not.
        let failed = std::cell::Cell::new(0);
        let mut failing = |_: &str, _: Option<&CancellationToken>| {
            failed.set(failed.get() + 1);
            Err(TheoryError::Engine("fms stage: boom".into()))
        };
        let o3 = SiteXanesOptions {
            xanes: XanesOptions {
                fms_radius_ang: 4.5,
                ..XanesOptions::default()
            },
            ..o.clone()
        };
        for _ in 0..2 {
            let e = averaged_xanes(&s, &[(0, 4)], &o3, "nacl", Some(&dir), None, &mut failing)
                .expect_err("fails");
            assert!(e.to_string().contains("boom"), "{e}");
        }
        assert_eq!(failed.get(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn sites_are_weighted_by_multiplicity_and_capped() {
        let s = parse_cif_structures(NACL, "nacl.cif")
            .expect("cif")
            .remove(0);
        // Site 0 (Na) and a Cl site, multiplicities 3 and 1 (made up);
        // the Cl site runs second, so the fake shifts its edge by 1 eV.
        let na = (0..s.sites.len()).find(|&i| s.sites[i].main_species().element == "Cl");
        let cl_site = na.expect("a Cl site");
        let calls = std::cell::Cell::new(0);
        let o = SiteXanesOptions::default();
        let a = averaged_xanes(
            &s,
            &[(0, 3), (cl_site, 1)],
            &o,
            "nacl",
            None,
            None,
            &mut fake(&calls),
        )
        .expect("two sites");
        assert_eq!((a.sites_used, a.sites_total, calls.get()), (2, 2, 2));
        assert!((a.share - 1.0).abs() < 1e-12);
        // At E the average is ¾ μ(E) + ¼ μ(E − 1) of the unshifted edge.
        let f = |x: f64| 0.5 + (x - 1075.0).atan() / std::f64::consts::PI;
        let i = a.energy_ev.iter().position(|&e| e >= 1075.0).expect("edge");
        let e = a.energy_ev[i];
        let want = 0.75 * f(e) + 0.25 * f(e - 1.0);
        assert!(
            (a.mu_norm[i] - want).abs() < 1e-9,
            "{} vs {want}",
            a.mu_norm[i]
        );
        // Capped at one site: the more populous one, share ¾.
        let one = SiteXanesOptions { max_sites: 1, ..o };
        let b = averaged_xanes(
            &s,
            &[(cl_site, 1), (0, 3)],
            &one,
            "nacl",
            None,
            None,
            &mut fake(&calls),
        )
        .expect("one site");
        assert_eq!((b.sites_used, b.sites_total), (1, 2));
        assert!((b.share - 0.75).abs() < 1e-12);
        assert!(averaged_xanes(&s, &[], &one, "nacl", None, None, &mut fake(&calls)).is_err());
        let token = CancellationToken::default();
        token.cancel();
        let c = averaged_xanes(
            &s,
            &[(0, 3)],
            &one,
            "nacl",
            None,
            Some(&token),
            &mut fake(&calls),
        );
        assert!(matches!(c, Err(TheoryError::Cancelled)));
    }
}
