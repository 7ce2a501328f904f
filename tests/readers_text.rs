//! Text readers (XDI, plain columns, beamline dialects) on the shared real data.

mod common;

use carto::io::{Dataset, LoadOptions, load};

fn summary(d: &Dataset) -> String {
    match d {
        Dataset::Xas(x) => format!(
            "xas n={} e=[{:.3},{:.3}] ecol={}({}) unit={:?} recipe={:?} mu0={:.6} labels={:?}",
            x.energy_ev.len(),
            x.energy_ev.first().copied().unwrap_or(f64::NAN),
            x.energy_ev.last().copied().unwrap_or(f64::NAN),
            x.energy_column,
            x.table.labels[x.energy_column],
            x.energy_unit,
            x.recipe,
            x.mu[0],
            x.table.labels.iter().take(30).collect::<Vec<_>>()
        ),
        Dataset::Chi(c) => format!(
            "chi n={} k=[{},{}] labels={:?}",
            c.k_inv_ang.len(),
            c.k_inv_ang[0],
            c.k_inv_ang.last().unwrap(),
            c.table.labels
        ),
        _ => "other".into(),
    }
}

#[test]
fn inventory() {
    for dir in [
        "xas/xdi",
        "xas/columns",
        "xas/chi",
        "xas/series",
        "xas/beamlines",
    ] {
        for p in common::data_files(dir) {
            let r = load(&p, &LoadOptions::default());
            match r {
                Ok(d) => println!(
                    "{}: {}",
                    p.file_name().unwrap().to_string_lossy(),
                    summary(&d)
                ),
                Err(e) => println!("ERR {e}"),
            }
        }
    }
}
