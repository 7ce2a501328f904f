//! [`FitModel`] → model-file TOML, the format [`super::parse_model`] reads:
//! `[data]` (with its pre_edge / autobk overrides), `[transform]`, `[params]`
//! in order and `[[paths]]`, or `[[datasets]]` for several datasets.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use super::DataSpec;
use crate::exafs::feffit::{
    DatasetDef, FitError, FitModel, PATH_PARS, ParamDef, PathValue, Transform,
};
use crate::xas::autobk::AutobkParams;
use crate::xas::pre_edge::PreEdgeParams;

/// The model as TOML for a file in the folder `to`. Relative path file
/// names in `model` are relative to `from` (the folder of the file it was
/// read from); every file name is written relative to `to` when the two
/// share a folder below the root (see [`relative_path`]), else absolute.
pub fn to_toml(model: &FitModel, from: &Path, to: &Path) -> Result<String, FitError> {
    let err = |m: String| FitError::Model(m);
    let mut o = String::from(
        "# Carto fit model (format: README.md, \"EXAFS fitting\").\n\
         # File names are relative to this file.\n",
    );
    let several = model.datasets.len() > 1;
    if model.datasets.is_empty() {
        return Err(err("the model has no dataset to write".into()));
    }
    if several {
        write_params(&mut o, &model.params);
    }
    for (i, ds) in model.datasets.iter().enumerate() {
        let at = if several {
            o.push_str("\n[[datasets]]\n");
            "datasets."
        } else {
            ""
        };
        let where_ = if several {
            format!("dataset {}: ", i + 1)
        } else {
            String::new()
        };
        write_dataset(&mut o, ds, at, to).map_err(|m| err(format!("{where_}{m}")))?;
        if !several {
            write_params(&mut o, &model.params);
        }
        write_paths(&mut o, ds, at, from, to).map_err(|m| err(format!("{where_}{m}")))?;
    }
    Ok(o)
}

/// Rewrite the path file names of `model`, relative to `from`, as
/// [`to_toml`] writes them for a file in `to` (after a "save as").
pub fn rebase_paths(model: &mut FitModel, from: &Path, to: &Path) {
    for ds in &mut model.datasets {
        for p in &mut ds.paths {
            let abs = from.join(&p.file);
            if let Some(s) = relative_path(&abs, to).to_str() {
                p.file = s.to_string();
            }
        }
    }
}

/// `file` as seen from the folder `dir`: relative (with `..` as needed) when
/// both share at least one folder below the root, else `file` made
/// absolute. Purely lexical (`.` and `..` are folded, links not followed).
pub fn relative_path(file: &Path, dir: &Path) -> PathBuf {
    let f = normalize(file);
    let d = normalize(dir);
    let fc: Vec<Component> = f.components().collect();
    let dc: Vec<Component> = d.components().collect();
    let common = fc.iter().zip(&dc).take_while(|(a, b)| a == b).count();
    if !fc[..common]
        .iter()
        .any(|c| matches!(c, Component::Normal(_)))
    {
        return f;
    }
    let mut out = PathBuf::new();
    for _ in common..dc.len() {
        out.push("..");
    }
    for c in &fc[common..] {
        out.push(c.as_os_str());
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// Absolute (from the working directory) with `.` and `..` folded.
pub fn normalize(p: &Path) -> PathBuf {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn file_string(abs: &Path, to: &Path) -> Result<String, String> {
    let rel = relative_path(abs, to);
    rel.to_str()
        .map(str::to_string)
        .ok_or_else(|| format!("{} is not a UTF-8 file name", abs.display()))
}

/// A TOML basic string.
fn quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(o, "\\u{:04X}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// A key, bare when TOML allows it.
fn key(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_string()
    } else {
        quote(s)
    }
}

/// A float that reads back as the same f64.
fn float(x: f64) -> String {
    if x.is_nan() {
        "nan".into()
    } else if x.is_infinite() {
        if x > 0.0 { "inf".into() } else { "-inf".into() }
    } else {
        // Debug is the shortest text that parses back to `x` ("1.0", "1e-7").
        format!("{x:?}")
    }
}

fn write_params(o: &mut String, params: &[ParamDef]) {
    o.push_str("\n[params]\n");
    for p in params {
        let mut fields = Vec::new();
        if let Some(e) = &p.expr {
            fields.push(format!("expr = {}", quote(e)));
            if p.value != 0.0 {
                fields.push(format!("value = {}", float(p.value)));
            }
        } else {
            fields.push(format!("value = {}", float(p.value)));
            if p.vary {
                fields.push("vary = true".into());
            }
        }
        if p.min != f64::NEG_INFINITY {
            fields.push(format!("min = {}", float(p.min)));
        }
        if p.max != f64::INFINITY {
            fields.push(format!("max = {}", float(p.max)));
        }
        let name = key(&p.name);
        if fields.len() == 1 && p.expr.is_none() {
            // `s02 = 0.7`: fixed, no bounds.
            let _ = writeln!(o, "{name} = {}", float(p.value));
        } else if fields.len() == 1 {
            let _ = writeln!(o, "{name} = {}", quote(p.expr.as_deref().unwrap_or("")));
        } else {
            let _ = writeln!(o, "{name} = {{ {} }}", fields.join(", "));
        }
    }
}

fn write_dataset(o: &mut String, ds: &DatasetDef, at: &str, to: &Path) -> Result<(), String> {
    // `spec.file` was already resolved against the model's folder.
    let spec: &DataSpec = ds
        .spec
        .as_ref()
        .ok_or("its data were not read from a file, so there is no [data] to write")?;
    let _ = writeln!(o, "\n[{at}data]");
    let _ = writeln!(o, "file = {}", quote(&file_string(&spec.file, to)?));
    for (k, v) in [
        ("columns", &spec.columns),
        ("mu", &spec.mu),
        ("group", &spec.group),
    ] {
        if let Some(v) = v {
            let _ = writeln!(o, "{k} = {}", quote(v));
        }
    }
    if let Some(e) = ds.data.epsilon_k {
        let _ = writeln!(o, "epsilon_k = {}", float(e));
    }
    write_overrides(
        o,
        &format!("{at}data.pre_edge"),
        &spec.pre_edge,
        &PreEdgeParams::default(),
    );
    write_overrides(
        o,
        &format!("{at}data.autobk"),
        &spec.autobk,
        &AutobkParams::default(),
    );
    write_transform(o, &ds.transform, at);
    Ok(())
}

/// The fields of a parameter struct that differ from its defaults, as a table.
fn write_overrides<T: serde::Serialize>(o: &mut String, table: &str, p: &T, default: &T) {
    let (Ok(serde_json::Value::Object(cur)), Ok(serde_json::Value::Object(def))) =
        (serde_json::to_value(p), serde_json::to_value(default))
    else {
        return;
    };
    let lines: Vec<String> = cur
        .iter()
        .filter(|(k, v)| def.get(*k) != Some(*v))
        .filter_map(|(k, v)| json_value(v).map(|t| format!("{} = {t}", key(k))))
        .collect();
    if !lines.is_empty() {
        let _ = writeln!(o, "[{table}]");
        for l in lines {
            let _ = writeln!(o, "{l}");
        }
    }
}

/// A JSON scalar as TOML (None for null, which TOML cannot say: the
/// default is meant).
fn json_value(v: &serde_json::Value) -> Option<String> {
    use serde_json::Value as J;
    match v {
        J::Null => None,
        J::Bool(b) => Some(b.to_string()),
        J::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) if !n.is_f64() => i.to_string(),
            (_, Some(u), _) if !n.is_f64() => u.to_string(),
            (_, _, Some(f)) => float(f),
            _ => n.to_string(),
        }),
        J::String(s) => Some(quote(s)),
        J::Array(a) => {
            let items: Option<Vec<String>> = a.iter().map(json_value).collect();
            items.map(|v| format!("[{}]", v.join(", ")))
        }
        J::Object(_) => None,
    }
}

fn write_transform(o: &mut String, t: &Transform, at: &str) {
    let d = Transform::default();
    let _ = writeln!(o, "\n[{at}transform]");
    let _ = writeln!(o, "kmin = {}", float(t.kmin));
    let _ = writeln!(o, "kmax = {}", float(t.kmax));
    let kw: Vec<String> = t.kweight.iter().map(|&w| float(w)).collect();
    if t.kweight_list || kw.len() != 1 {
        let _ = writeln!(o, "kweight = [{}]", kw.join(", "));
    } else {
        let _ = writeln!(o, "kweight = {}", kw.join(""));
    }
    let _ = writeln!(o, "dk = {}", float(t.dk));
    if let Some(v) = t.dk2 {
        let _ = writeln!(o, "dk2 = {}", float(v));
    }
    let _ = writeln!(o, "window = {}", quote(t.window.name()));
    let _ = writeln!(o, "rmin = {}", float(t.rmin));
    let _ = writeln!(o, "rmax = {}", float(t.rmax));
    let _ = writeln!(o, "dr = {}", float(t.dr));
    if let Some(v) = t.dr2 {
        let _ = writeln!(o, "dr2 = {}", float(v));
    }
    if t.rwindow != d.rwindow {
        let _ = writeln!(o, "rwindow = {}", quote(t.rwindow.name()));
    }
    let _ = writeln!(o, "fitspace = {}", quote(t.fitspace.name()));
    if t.nfft != d.nfft {
        let _ = writeln!(o, "nfft = {}", t.nfft);
    }
    if t.kstep != d.kstep {
        let _ = writeln!(o, "kstep = {}", float(t.kstep));
    }
    if t.rbkg != d.rbkg {
        let _ = writeln!(o, "rbkg = {}", float(t.rbkg));
    }
}

fn write_paths(
    o: &mut String,
    ds: &DatasetDef,
    at: &str,
    from: &Path,
    to: &Path,
) -> Result<(), String> {
    for p in &ds.paths {
        let _ = writeln!(o, "\n[[{at}paths]]");
        let _ = writeln!(
            o,
            "file = {}",
            quote(&file_string(&from.join(&p.file), to)?)
        );
        let _ = writeln!(o, "label = {}", quote(&p.label));
        for (name, v) in PATH_PARS.iter().zip(&p.values) {
            match v {
                None => {}
                Some(PathValue::Value(x)) => {
                    let _ = writeln!(o, "{name} = {}", float(*x));
                }
                Some(PathValue::Expr(e)) => {
                    let _ = writeln!(o, "{name} = {}", quote(e));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_share_a_folder_or_stay_absolute() {
        let r = |f: &str, d: &str| relative_path(Path::new(f), Path::new(d));
        assert_eq!(r("/a/b/c.dat", "/a/b"), PathBuf::from("c.dat"));
        assert_eq!(r("/a/b/feff/c.dat", "/a/b"), PathBuf::from("feff/c.dat"));
        assert_eq!(r("/a/x/c.dat", "/a/b/m"), PathBuf::from("../../x/c.dat"));
        assert_eq!(r("/x/c.dat", "/a/b"), PathBuf::from("/x/c.dat"));
        assert_eq!(r("/a/b/../x/./c.dat", "/a/b"), PathBuf::from("../x/c.dat"));
    }

    #[test]
    fn strings_keys_and_floats_read_back() {
        let text = format!(
            "{} = {}\nb = {}\nc = {}\nd = {}\n",
            key("a b"),
            quote("q\"\\\n\t\u{1}é"),
            float(1e-7),
            float(f64::NEG_INFINITY),
            float(0.1 + 0.2)
        );
        let t: toml::Table = text.parse().expect("valid TOML");
        assert_eq!(t["a b"].as_str(), Some("q\"\\\n\t\u{1}é"));
        assert_eq!(t["b"].as_float(), Some(1e-7));
        assert_eq!(t["c"].as_float(), Some(f64::NEG_INFINITY));
        assert_eq!(t["d"].as_float(), Some(0.1 + 0.2));
        assert_eq!(key("sig2_1"), "sig2_1");
    }
}
