//! The labels of undo steps: what changed from one state to the next, in
//! words ("rbkg 1 → 1.2 (feo.xdi)", "lattice ×1 → 1.02 (quartz)").

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{DocState, FitState, ItemState, StateData};
use crate::xas::ChainParams;
use crate::xas::edit::Edit;

/// What changed from `a` to `b`, in words ("rbkg 1 → 1.2 (feo.xdi)").
pub fn describe(a: &DocState, b: &DocState) -> String {
    let items_same = a.items.len() == b.items.len()
        && a.items.iter().zip(&b.items).all(|(x, y)| Arc::ptr_eq(x, y));
    if items_same
        && let Some(d) = (phase_change(a, b))
            .or_else(|| fit_change(a, b))
            .or_else(|| xrd_data_change(a, b))
    {
        return d;
    }
    let ids = |s: &DocState| s.items.iter().map(|i| i.id).collect::<BTreeSet<u64>>();
    let (ia, ib) = (ids(a), ids(b));
    let added: Vec<&ItemState> = b
        .items
        .iter()
        .filter(|i| !ia.contains(&i.id))
        .map(|i| i.as_ref())
        .collect();
    let removed: Vec<&ItemState> = a
        .items
        .iter()
        .filter(|i| !ib.contains(&i.id))
        .map(|i| i.as_ref())
        .collect();
    let names = |v: &[&ItemState]| match v {
        [one] => one.name.clone(),
        v => format!("{} items", v.len()),
    };
    if !added.is_empty() && removed.is_empty() {
        return format!("add {}", names(&added));
    }
    if !removed.is_empty() && added.is_empty() {
        return format!("remove {}", names(&removed));
    }
    if !removed.is_empty() {
        return format!("replace {} by {}", names(&removed), names(&added));
    }
    let mut changes = Vec::new();
    let old_by_id: std::collections::HashMap<u64, &Arc<ItemState>> =
        a.items.iter().map(|s| (s.id, s)).collect();
    for x in &b.items {
        let Some(old) = old_by_id.get(&x.id) else {
            continue;
        };
        if Arc::ptr_eq(old, x) {
            continue;
        }
        if let Some(c) = item_change(old, x) {
            changes.push((x.name.clone(), c));
        }
    }
    match changes.as_slice() {
        [] => "reorder".into(),
        [(name, c)] => format!("{c} ({name})"),
        [(_, c), rest @ ..] if rest.iter().all(|(_, d)| d == c) => {
            format!("{c} ({} spectra)", changes.len())
        }
        _ => format!("edit {} items", changes.len()),
    }
}

/// What changed in the XRD view's phases ("lattice ×1 → 1.01 (quartz)").
fn phase_change(a: &DocState, b: &DocState) -> Option<String> {
    let (pa, pb) = (a.phases.as_ref()?, b.phases.as_ref()?);
    if pa.len() < pb.len() {
        return Some(format!("add phase {}", pb.last()?.name));
    }
    if pa.len() > pb.len() {
        let gone = pa.iter().find(|x| !pb.iter().any(|y| y.path == x.path));
        return Some(format!("remove phase {}", gone.unwrap_or(pa.last()?).name));
    }
    let (x, y) = pa.iter().zip(pb).find(|(x, y)| !Arc::ptr_eq(x, y))?;
    let what = if x.lattice != y.lattice {
        format!("lattice ×{} → {}", x.lattice, y.lattice)
    } else if x.shift_deg != y.shift_deg {
        format!("2θ shift {}° → {}°", x.shift_deg, y.shift_deg)
    } else if x.intensity != y.intensity {
        "phase intensity".to_string()
    } else {
        "phase display".to_string()
    };
    Some(format!("{what} ({})", y.name))
}

fn fit_change(a: &DocState, b: &DocState) -> Option<String> {
    let (fa, fb) = (a.fit.as_ref()?, b.fit.as_ref()?);
    if fa.rev != fb.rev {
        return Some(match (&fa.model, &fb.model) {
            (None, Some(_)) => "open fit model".to_string(),
            (Some(_), None) => "close fit model".to_string(),
            _ => "edit fit model".to_string(),
        });
    }
    let rev = |f: &FitState| f.result.as_ref().map(|r| r.rev);
    (rev(fa) != rev(fb)).then(|| "fit result".to_string())
}

fn xrd_data_change(a: &DocState, b: &DocState) -> Option<String> {
    if let (Some(x), Some(y)) = (&a.library, &b.library)
        && x.rev != y.rev
    {
        return Some(if Arc::ptr_eq(&x.candidates, &y.candidates) {
            "candidate ranking".to_string()
        } else {
            "candidate library".to_string()
        });
    }
    let (x, y) = (a.quant.as_ref()?, b.quant.as_ref()?);
    (x.rev != y.rev).then(|| "quantification".to_string())
}

fn item_change(a: &ItemState, b: &ItemState) -> Option<String> {
    if a.name != b.name {
        return Some(format!("rename {} → {}", a.name, b.name));
    }
    if a.color != b.color {
        return Some("colour".into());
    }
    if a.mu != b.mu {
        return Some("μ(E) recipe".into());
    }
    match (&a.data, &b.data) {
        (
            StateData::Spectrum {
                edits: ea,
                params: pa,
                raw: ra,
                ..
            },
            StateData::Spectrum {
                edits: eb,
                params: pb,
                raw: rb,
                ..
            },
        ) => {
            if ea != eb {
                return Some(if eb.len() > ea.len() && eb.starts_with(ea) {
                    eb[ea.len()..]
                        .iter()
                        .map(Edit::describe)
                        .collect::<Vec<_>>()
                        .join(", ")
                } else if eb.is_empty() {
                    "clear edits".into()
                } else {
                    "edits".into()
                });
            }
            if !Arc::ptr_eq(ra, rb) {
                return Some("data".into());
            }
            (pa != pb).then(|| param_change(pa, pb))
        }
        _ => None,
    }
}

/// The first parameter that differs, as "name old → new".
fn param_change(a: &ChainParams, b: &ChainParams) -> String {
    let (Ok(va), Ok(vb)) = (serde_json::to_value(a), serde_json::to_value(b)) else {
        return "parameters".into();
    };
    let mut diffs = Vec::new();
    leaf_diffs("", &va, &vb, &mut diffs);
    match diffs.as_slice() {
        [(name, x, y)] => format!("{name} {x} → {y}"),
        [] => "parameters".into(),
        d => format!("{} parameters", d.len()),
    }
}

fn leaf_diffs(
    path: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    out: &mut Vec<(String, String, String)>,
) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            for (k, x) in ma {
                let y = mb.get(k).unwrap_or(&Value::Null);
                leaf_diffs(k, x, y, out);
            }
        }
        _ if a != b => {
            let show = |v: &Value| match v {
                Value::Null => "auto".to_string(),
                Value::Number(n) => n
                    .as_f64()
                    .map_or_else(|| n.to_string(), |x| format!("{}", (x * 1e6).round() / 1e6)),
                v => v.to_string(),
            };
            out.push((path.to_string(), show(a), show(b)));
        }
        _ => {}
    }
}
