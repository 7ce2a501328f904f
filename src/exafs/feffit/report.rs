//! The text report in the layout of Larch's `feffit_report`.

use super::result::{EpsilonK, FitResult};

/// A number the way Larch's report prints it (`gformat`, 10 characters).
fn gfmt(x: f64) -> String {
    let a = x.abs();
    if x == 0.0 {
        return format!("{:>10.7}", 0.0);
    }
    if !(1e-4..1e7).contains(&a) {
        return format!("{x:>10.4e}");
    }
    let int_digits = if a >= 1.0 {
        a.log10().floor() as i32 + 1
    } else {
        1
    };
    let dec = (8 - int_digits).max(0) as usize;
    format!("{x:>10.dec$}")
}

/// A fit report in the layout of Larch's `feffit_report` (correlations
/// above `min_correl`).
pub fn report(res: &FitResult, min_correl: f64) -> String {
    use std::fmt::Write;
    let top = "=================== FEFFIT RESULTS ====================";
    let mut o = String::new();
    let line = |o: &mut String, label: &str, value: &str| {
        let _ = writeln!(o, "  {label:<20} = {value}");
    };
    let _ = writeln!(o, "{top}\n[[Statistics]]");
    let st = &res.stats;
    line(&mut o, "n_function_calls", &st.nfev.to_string());
    line(&mut o, "n_variables", &st.n_varys.to_string());
    line(&mut o, "n_data_points", &st.ndata.to_string());
    line(&mut o, "n_independent", gfmt(st.n_idp).trim());
    line(&mut o, "chi_square", gfmt(st.chi_square).trim());
    line(&mut o, "reduced chi_square", gfmt(st.chi2_reduced).trim());
    line(&mut o, "r-factor", gfmt(st.r_factor).trim());
    line(&mut o, "Akaike info crit", gfmt(st.aic).trim());
    line(&mut o, "Bayesian info crit", gfmt(st.bic).trim());
    if !st.success {
        line(&mut o, "warning", &st.message);
    }
    let _ = writeln!(o, " \n[[Parameters]]");
    for p in &res.params {
        let err = p
            .stderr
            .map_or_else(|| "unknown".to_string(), |e| gfmt(e).trim().to_string());
        let v = if p.vary {
            format!(
                "{} +/- {err}  (init= {})",
                gfmt(p.value),
                gfmt(p.init).trim()
            )
        } else if let Some(e) = &p.expr {
            format!("{} +/- {err}  = '{e}'", gfmt(p.value))
        } else {
            format!("{} (fixed)", gfmt(p.value))
        };
        line(&mut o, &p.name, &v);
    }
    if !res.correlations.is_empty() {
        let _ = writeln!(
            o,
            " \n[[Correlations]] (unreported correlations are < {min_correl:6.3})"
        );
        let mut c: Vec<_> = res.correlations.iter().collect();
        c.sort_by(|a, b| b.2.abs().total_cmp(&a.2.abs()));
        for (a, b, v) in c.into_iter().filter(|c| c.2.abs() > min_correl) {
            line(&mut o, &format!("{a}, {b}"), &format!("{v:6.3}"));
        }
    }
    let nds = res.datasets.len();
    for (i, d) in res.datasets.iter().enumerate() {
        let tr = &d.transform;
        let extra = if nds > 1 {
            format!(" {} of {nds}", i + 1)
        } else {
            String::new()
        };
        let _ = writeln!(o, " \n[[Dataset{extra}]]");
        line(&mut o, "data", &format!("'{}'", d.name));
        line(&mut o, "fit space", &format!("'{}'", tr.fitspace.name()));
        line(
            &mut o,
            "r-range",
            &format!("{:.3}, {:.3}", tr.rmin, tr.rmax),
        );
        line(
            &mut o,
            "k-range",
            &format!("{:.3}, {:.3}", tr.kmin, tr.kmax),
        );
        let mut kwin = format!("'{}', {:.3}", tr.window.name(), tr.dk);
        if let Some(d2) = tr.dk2 {
            let _ = write!(kwin, ", {d2:.3}");
        }
        line(&mut o, "k window, dk", &kwin);
        let kw: Vec<String> = tr.kweight.iter().map(|w| format!("{w}")).collect();
        line(&mut o, "k-weight", &kw.join(", "));
        let eps_k = match &d.epsilon_k {
            EpsilonK::Scalar(v) => v
                .iter()
                .map(|e| gfmt(*e).trim().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            EpsilonK::Array(a) => {
                let n = a.len() as f64;
                let m = a.iter().sum::<f64>() / n;
                let sd = (a.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt();
                let one = format!("Array(mean={}, std={})", gfmt(m).trim(), gfmt(sd).trim());
                vec![one; tr.kweight.len()].join(", ")
            }
        };
        line(&mut o, "epsilon_k", &eps_k);
        let eps_r: Vec<String> = d
            .epsilon_r
            .iter()
            .map(|e| gfmt(*e).trim().to_string())
            .collect();
        line(&mut o, "epsilon_r", &eps_r.join(", "));
        line(&mut o, "n_independent", &format!("{:.3}", d.n_idp));
        for (j, p) in d.paths.iter().enumerate() {
            line(
                &mut o,
                if j == 0 { "paths used in fit" } else { " " },
                &format!("'{}'", p.file),
            );
        }
        let _ = writeln!(o, " \n[[Paths]]");
        for p in &d.paths {
            let _ = writeln!(o, " = Path '{}'\n    feffdat file = {}", p.label, p.file);
            let _ = writeln!(o, "     reff   = {}", gfmt(p.reff));
            let row = |o: &mut String, name: &str, j: usize, v: f64| {
                let err = p.stderr[j].map_or(String::new(), |e| format!(" +/- {}", gfmt(e).trim()));
                let ex = p.exprs[j]
                    .as_ref()
                    .map_or(String::new(), |e| format!("  := '{e}'"));
                let _ = writeln!(o, "     {name:<6} = {}{err}{ex}", gfmt(v));
            };
            row(&mut o, "degen", 0, p.values[0]);
            row(&mut o, "n*s02", 1, p.values[1]);
            row(&mut o, "e0", 2, p.values[2]);
            let r = p.reff + p.values[4];
            let _ = writeln!(
                o,
                "     r      = {}{}",
                gfmt(r),
                p.stderr[4].map_or(String::new(), |e| format!(" +/- {}", gfmt(e).trim()))
            );
            row(&mut o, "deltar", 4, p.values[4]);
            row(&mut o, "sigma2", 5, p.values[5]);
            for (name, j) in [("third", 6), ("fourth", 7), ("ei", 3)] {
                if p.values[j] != 0.0 || p.exprs[j].is_some() {
                    row(&mut o, name, j, p.values[j]);
                }
            }
            o.push('\n');
        }
    }
    o.push_str(&"=".repeat(top.len()));
    o.push('\n');
    o
}
