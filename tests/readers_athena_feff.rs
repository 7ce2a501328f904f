//! Athena project and FEFF path readers against Larch's own readers
//! (fixtures from tools/athena_feff_reference.py), plus malformed input.

mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::Path;

use carto::io::athena::{self, AthenaGroup, AthenaProject};
use carto::io::feff::{self, FeffPath};
use carto::io::{Dataset, FileFormat, LoadOptions, ParseError, detect_format, load, load_bytes};
use serde_json::Value;

fn fixture(rel: &str) -> Value {
    let path = common::fixture(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load_project(path: &Path) -> AthenaProject {
    match load(path, &LoadOptions::default()) {
        Ok(Dataset::Athena(p)) => p,
        Ok(other) => panic!("{}: loaded as {}", path.display(), other.modality()),
        Err(e) => panic!("{e}"),
    }
}

fn load_feff(path: &Path) -> FeffPath {
    match load(path, &LoadOptions::default()) {
        Ok(Dataset::Feff(p)) => p,
        Ok(other) => panic!("{}: loaded as {}", path.display(), other.modality()),
        Err(e) => panic!("{e}"),
    }
}

fn close(a: f64, b: f64, what: &str) {
    let tol = 1e-9 * b.abs().max(1.0);
    assert!((a - b).abs() <= tol, "{what}: {a} != {b}");
}

/// `[[index, value], ...]` from the fixture against `values`.
fn check_points(values: &[f64], points: &Value, what: &str) {
    for p in points.as_array().unwrap() {
        let i = p[0].as_u64().unwrap() as usize;
        close(values[i], p[1].as_f64().unwrap(), &format!("{what}[{i}]"));
    }
}

fn gunzip(bytes: &[u8]) -> String {
    let mut s = String::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_string(&mut s)
        .unwrap();
    s
}

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

fn athena_err(bytes: &[u8]) -> ParseError {
    match athena::read(bytes, "bad.prj") {
        Ok(p) => panic!("read should fail, got {} groups", p.groups.len()),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------- Athena

#[test]
fn every_athena_project_matches_larch() {
    let reference = fixture("athena/larch_reference.json");
    let entries = reference.as_array().unwrap();
    assert_eq!(
        entries.len(),
        common::data_files("athena").len(),
        "fixture covers every .prj"
    );
    for entry in entries {
        let name = entry["file"].as_str().unwrap();
        let path = common::data(&format!("athena/{name}"));
        let prj = load_project(&path);
        assert_eq!(prj.format, entry["format"].as_str().unwrap(), "{name}");
        assert_eq!(prj.gzipped, entry["gzip"].as_bool().unwrap(), "{name}");
        assert!(
            prj.header.iter().any(|h| h.contains("Athena project file")),
            "{name}: header"
        );
        assert_eq!(
            prj.groups.len() as u64,
            entry["n_records"].as_u64().unwrap(),
            "{name}: records"
        );
        if name != "danger.prj" {
            assert!(prj.warnings.is_empty(), "{name}: {:?}", prj.warnings);
        }

        // Larch keys groups by sanitised label, the last record winning.
        let larch = prj.larch_groups();
        assert_eq!(
            larch.len() as u64,
            entry["larch_ngroups"].as_u64().unwrap(),
            "{name}: groups"
        );
        let names: Vec<(&str, &str)> = larch
            .iter()
            .map(|(n, g)| (n.as_str(), g.id.as_str()))
            .collect();
        let want_names: Vec<(&str, &str)> = entry["larch_names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_str().unwrap(), p[1].as_str().unwrap()))
            .collect();
        assert_eq!(names, want_names, "{name}: Larch group names");
        let by_id: HashMap<&str, &AthenaGroup> =
            larch.iter().map(|(_, g)| (g.id.as_str(), *g)).collect();

        for want in entry["groups"].as_array().unwrap() {
            let id = want["id"].as_str().unwrap();
            let g = by_id
                .get(id)
                .unwrap_or_else(|| panic!("{name}: no group {id}"));
            let ctx = format!("{name} / {id}");
            assert_eq!(g.label, want["label"].as_str().unwrap(), "{ctx}: label");
            assert_eq!(g.is_chi(), want["is_chi"].as_bool().unwrap(), "{ctx}");
            assert_eq!(
                g.arrays.contains_key("i0"),
                want["has_i0"].as_bool().unwrap(),
                "{ctx}: i0"
            );
            let (x, y) = if g.is_chi() {
                let c = g.to_chi(name).unwrap();
                (c.k_inv_ang, c.chi)
            } else {
                let s = g.to_spectrum(name).unwrap();
                assert_eq!(s.name, g.label);
                (s.energy_ev, s.mu)
            };
            assert_eq!(
                x.len() as u64,
                want["npts"].as_u64().unwrap(),
                "{ctx}: npts"
            );
            assert_eq!(g.npts(), x.len(), "{ctx}");
            check_points(&x, &want["x"], &format!("{ctx}: x"));
            check_points(&y, &want["y"], &format!("{ctx}: y"));
            for (key, val) in want["params"].as_object().unwrap() {
                match val.as_f64() {
                    Some(v) => close(
                        g.param_f64(key)
                            .unwrap_or_else(|| panic!("{ctx}: no {key}")),
                        v,
                        &format!("{ctx}: {key}"),
                    ),
                    None => assert!(g.param_f64(key).is_none(), "{ctx}: {key}"),
                }
            }
        }
    }
}

#[test]
fn athena_lookup_and_params() {
    let prj = load_project(&common::data("athena/cu.prj"));
    assert_eq!(prj.labels(), ["cu010k.dat", "cu050k.dat", "cu150k.dat"]);
    let g = prj.group("cu050k.dat").unwrap();
    assert_eq!(prj.group("CU050K.DAT").unwrap().id, g.id);
    assert_eq!(prj.group(&g.id).unwrap().label, "cu050k.dat");
    assert!(prj.group("nope").is_none());
    assert_eq!(prj.group("cu050k_dat").unwrap().id, g.id, "Larch's name");
    let cyano = load_project(&common::data("athena/cyanobacteria.prj"));
    assert_eq!(cyano.group("d_0_12").unwrap().label, "0.12");
    assert!(g.is_xmu() && !g.is_chi());
    assert_eq!(g.datatype(), "xmu");
    assert_eq!(g.param_str("bkg_z").as_deref(), Some("Cu"));
    close(g.param_f64("bkg_e0").unwrap(), 8977.58, "bkg_e0");
    // `titles` is a nested list in @args.
    match g.param("titles") {
        Some(athena::AthenaValue::List(t)) => assert!(!t.is_empty()),
        other => panic!("titles: {other:?}"),
    }
    let json = serde_json::to_value(&prj).unwrap();
    assert_eq!(json["groups"][1]["label"], "cu050k.dat");
    assert_eq!(json["groups"][1]["params"]["bkg_z"], "Cu");
    let s = g.to_spectrum("cu.prj").unwrap();
    assert!(
        s.table.header.iter().any(|h| h.contains("Cu foil")),
        "titles become the header"
    );
    assert_eq!(s.table.labels, ["energy", "mu"]);
    assert_eq!(
        s.table.metadata.get("bkg_z").map(String::as_str),
        Some("Cu")
    );
    assert_eq!(s.energy_ev.len(), s.mu.len());
    assert!(s.energy_ev.windows(2).all(|w| w[1] > w[0]));
    assert!(g.to_chi("cu.prj").is_err(), "μ(E) group is not χ(k)");

    // Energy shifts are kept as a parameter, not applied (as in Larch).
    let fe = load_project(&common::data("athena/Fe.prj"));
    let foil = fe.group("Fe foil").unwrap();
    close(foil.energy_shift_ev(), 5.81162000000022, "eshift");
    close(
        foil.to_spectrum("Fe.prj").unwrap().energy_ev[0],
        foil.array("x").unwrap()[0],
        "x0",
    );
}

#[test]
fn athena_json_variants() {
    let plain = load_project(&common::data("athena/json_unzipped.prj"));
    assert_eq!(plain.format, "json");
    assert!(!plain.gzipped);
    assert_eq!(plain.groups[0].id, "qsekm");
    assert!(plain.journal.iter().any(|j| !j.is_empty()));
    let zipped = load_project(&common::data("athena/athena3.prj"));
    assert!(zipped.gzipped && zipped.format == "json");
    assert_eq!(zipped.labels(), ["CeO2"]);
    assert_eq!(
        detect_format(&std::fs::read(common::data("athena/json_unzipped.prj")).unwrap()),
        FileFormat::AthenaJson
    );
}

#[test]
fn danger_prj_is_read_as_data_and_nothing_runs() {
    let path = common::data("athena/danger.prj");
    let text = std::fs::read_to_string(&path).unwrap();
    let journal_line = text
        .lines()
        .position(|l| l.starts_with("@journal"))
        .unwrap()
        + 1;
    let prj = load_project(&path);
    assert_eq!(prj.labels(), ["Fe/Ga alloy scan 1"]);
    assert!(prj.journal.is_empty());
    let w = prj
        .warnings
        .iter()
        .find(|w| w.contains("system"))
        .expect("a warning about system()");
    assert!(w.contains(&format!(":{journal_line}:")), "{w}");
    assert!(w.contains("not plain data"), "{w}");

    // The same call in a data statement is a located error, not a warning.
    let bad = text.replacen(
        "@x = ('6911.98862',",
        "@x = (system(\"touch /tmp/carto_pwned\"),",
        1,
    );
    let e = athena_err(bad.as_bytes());
    let x_line = text.lines().position(|l| l.starts_with("@x")).unwrap() + 1;
    assert_eq!(e.line, Some(x_line), "{e}");
    assert_eq!(e.field.as_deref(), Some("@x[0]"), "{e}");
    assert!(!Path::new("/tmp/carto_pwned").exists());
}

#[test]
fn athena_truncated_gzip_is_located() {
    let bytes = std::fs::read(common::data("athena/cu.prj")).unwrap();
    let e = athena_err(&bytes[..bytes.len() / 2]);
    assert_eq!(e.field.as_deref(), Some("gzip"), "{e}");
    // The line is where decompression stopped: past the header.
    assert!(e.line.unwrap() > 3, "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");

    // Flipped bytes in the deflate stream or CRC: corrupt, never a panic.
    for at in [bytes.len() / 3, bytes.len() - 6] {
        let mut bad = bytes.clone();
        bad[at] ^= 0xff;
        if let Err(e) = athena::read(&bad, "bad.prj") {
            assert!(e.line.is_some(), "{e}");
        }
    }
    let e = athena_err(&[0x1f, 0x8b]);
    assert_eq!(e.field.as_deref(), Some("gzip"));
}

#[test]
fn athena_truncated_perl_dump_is_located() {
    let text = gunzip(&std::fs::read(common::data("athena/cu.prj")).unwrap());
    let lines: Vec<&str> = text.lines().collect();
    let y_line = lines.iter().position(|l| l.starts_with("@y")).unwrap();
    // Cut in the middle of the first @y list.
    let cut: String = lines[..y_line].join("\n") + "\n" + &lines[y_line][..200];
    let e = athena_err(&gzip(&cut));
    assert_eq!(e.line, Some(y_line + 1), "{e}");
    assert!(e.field.as_deref().unwrap().starts_with("@y"), "{e}");

    // Cut cleanly after @y: the group never reaches [record].
    let cut = lines[..=y_line].join("\n") + "\n";
    let e = athena_err(cut.as_bytes());
    let group_line = lines
        .iter()
        .position(|l| l.starts_with("$old_group"))
        .unwrap()
        + 1;
    assert_eq!(e.line, Some(group_line), "{e}");
    assert_eq!(e.field.as_deref(), Some("[record]"), "{e}");

    // Cut after a complete record: readable, with a warning about the trailer.
    let rec = lines
        .iter()
        .position(|l| l.starts_with("[record]"))
        .unwrap();
    let prj = athena::read((lines[..=rec].join("\n") + "\n").as_bytes(), "cut.prj").unwrap();
    assert_eq!(prj.groups.len(), 1);
    assert!(prj.warnings.iter().any(|w| w.contains("truncated")));

    // JSON cut short.
    let json = std::fs::read_to_string(common::data("athena/json_unzipped.prj")).unwrap();
    let e = athena_err(&json.as_bytes()[..json.len() / 2]);
    assert!(e.line.is_some() && e.message.contains("JSON"), "{e}");
}

#[test]
fn athena_garbage_in_array_is_located() {
    let text = gunzip(&std::fs::read(common::data("athena/cu.prj")).unwrap());
    let x_line = text.lines().position(|l| l.starts_with("@x")).unwrap() + 1;
    let bad = text.replacen("'8796.258'", "'87x6.258'", 1);
    let e = athena_err(&gzip(&bad));
    assert_eq!(e.line, Some(x_line), "{e}");
    assert_eq!(e.field.as_deref(), Some("@x[1]"), "{e}");
    assert!(e.message.contains("87x6.258"), "{e}");

    let bad = text.replacen("'8796.258'", "'8796.258' '1'", 1);
    let e = athena_err(bad.as_bytes());
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(x_line), Some("@x[2]")),
        "{e}"
    );

    // JSON: a non-number in an array names the group and index.
    let json = std::fs::read_to_string(common::data("athena/json_unzipped.prj")).unwrap();
    let bad = json.replacen("\"x\": [\"7011.996606\"", "\"x\": [\"oops\"", 1);
    let e = athena_err(bad.as_bytes());
    assert_eq!(e.field.as_deref(), Some("qsekm.x[0]"), "{e}");
    assert!(e.line.is_some());

    // x and y of different lengths: read, but no spectrum.
    let bad = text.replacen("@y = ('", "@y = ('1','", 1);
    let prj = athena::read(bad.as_bytes(), "bad.prj").unwrap();
    let e = prj.groups[0].to_spectrum("bad.prj").unwrap_err();
    assert!(e.message.contains("y values"), "{e}");
}

#[test]
fn athena_chi_group_from_synthetic_project() {
    let text = "# Athena project file -- Athena version 0.8.061\n\
        $old_group = 'abcd';\n\
        @args = ('label','chi one','is_chi',1,'is_xmu',0,'fft_kmin','3.0','peak',undef,'titles',[]);\n\
        @x = ('0.0','0.05',0.1,'1e-1');\n\
        @y = ('0.0','0.01','-0.02','0.03');\n\
        [record] # create\n\
        \n\
        1;\n";
    let prj = athena::read(text.as_bytes(), "chi.prj").unwrap();
    let g = prj.group("chi one").unwrap();
    assert!(g.is_chi() && !g.is_xmu());
    assert_eq!(g.datatype(), "chi");
    assert!(g.param("peak").is_none(), "undef values are left out");
    assert_eq!(g.param_f64("fft_kmin"), Some(3.0));
    let chi = g.to_chi("chi.prj").unwrap();
    // Repeated k (0.1, 1e-1) is nudged up as Larch's remove_dups does.
    assert_eq!(chi.k_inv_ang.len(), 4);
    close(chi.k_inv_ang[3], 0.1005, "dedup");
    assert!(g.to_spectrum("chi.prj").is_err());
}

#[test]
fn athena_rejects_non_projects() {
    let e = athena_err(b"just some text\n1 2 3\n");
    assert_eq!(e.line, Some(1));
    let e = athena_err(
        b"# Athena project file -- Athena version 0.8.061\n$old_group = 'a';\nprint `ls`;\n",
    );
    assert_eq!(e.line, Some(3), "{e}");
    let e =
        athena_err(b"# Athena project file -- Athena version 0.8.061\n$old_group = do { 1 };\n");
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(2), Some("$old_group")),
        "{e}"
    );
}

#[test]
fn athena_read_is_fast() {
    let bytes = std::fs::read(common::data("athena/CuHERFD_samples.prj")).unwrap();
    let t = std::time::Instant::now();
    let text = gunzip(&bytes);
    eprintln!("gunzip alone: {:?}", t.elapsed());
    let best = (0..5)
        .map(|_| {
            let t = std::time::Instant::now();
            athena::read(text.as_bytes(), "plain.prj").unwrap();
            t.elapsed()
        })
        .min()
        .unwrap();
    eprintln!("parse alone ({} kB): {best:?}", text.len() / 1024);
    let small = std::fs::read(common::data("athena/cu.prj")).unwrap();
    let t = std::time::Instant::now();
    athena::read(&small, "cu.prj").unwrap();
    eprintln!("cu.prj: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let prj = athena::read(&bytes, "CuHERFD_samples.prj").unwrap();
    let dt = t.elapsed();
    assert_eq!(prj.groups.len(), 94);
    eprintln!("CuHERFD_samples.prj ({} kB gz): {dt:?}", bytes.len() / 1024);
    // Generous for unoptimised debug builds on a shared machine.
    assert!(dt.as_millis() < 2000, "{dt:?}");
}

// ---------------------------------------------------------------- FEFF

#[test]
fn every_feff_path_matches_larch() {
    let reference = fixture("feff/larch_reference.json");
    let entries = reference.as_array().unwrap();
    assert_eq!(entries.len(), 13 + 8 + 3);
    for want in entries {
        let rel = want["file"].as_str().unwrap();
        let path = common::data(&format!("feff/{rel}"));
        let p = load_feff(&path);
        close(
            p.reff_ang,
            want["reff"].as_f64().unwrap(),
            &format!("{rel}: reff"),
        );
        close(
            p.degen,
            want["degen"].as_f64().unwrap(),
            &format!("{rel}: degen"),
        );
        assert_eq!(p.nleg as u64, want["nleg"].as_u64().unwrap(), "{rel}: nleg");
        assert_eq!(p.npts() as u64, want["nk"].as_u64().unwrap(), "{rel}: nk");
        // Larch splits title and version at column 64, cutting "Feff 6L.02"
        // in two; Carto cuts before "Feff". Together they are the same text.
        let squash = |s: &str| s.split_whitespace().collect::<String>();
        assert_eq!(
            squash(&format!("{}{}", p.title[0], p.version)),
            squash(&format!(
                "{}{}",
                want["title"].as_str().unwrap(),
                want["version"].as_str().unwrap()
            )),
            "{rel}: title line"
        );
        assert!(p.version.starts_with("Feff"), "{rel}: {}", p.version);
        assert_eq!(p.shell, want["shell"].as_str().unwrap(), "{rel}: shell");
        assert_eq!(p.exch, want["exch"].as_str().unwrap(), "{rel}: exch");
        assert_eq!(p.absorber(), want["absorber"].as_str(), "{rel}: absorber");
        for (mine, key) in [
            (p.rnorman_bohr, "rnorman"),
            (p.edge_ev, "edge"),
            (p.gam_ch_ev, "gam_ch"),
            (p.mu_ev, "vmu"),
            (p.vint_ev, "vint"),
            (p.rs_int, "rs_int"),
        ] {
            close(mine, want[key].as_f64().unwrap(), &format!("{rel}: {key}"));
        }
        let pots = want["potentials"].as_array().unwrap();
        assert_eq!(p.potentials.len(), pots.len(), "{rel}: potentials");
        for (mine, w) in p.potentials.iter().zip(pots) {
            assert_eq!(mine.ipot as f64, w[0].as_f64().unwrap());
            assert_eq!(mine.z as f64, w[1].as_f64().unwrap());
            close(mine.r_mt_ang, w[2].as_f64().unwrap(), "rmt");
            close(mine.r_norm_ang, w[3].as_f64().unwrap(), "rnm");
        }
        let geom = want["geom"].as_array().unwrap();
        assert_eq!(p.geometry.len(), geom.len(), "{rel}: geometry");
        for (a, w) in p.geometry.iter().zip(geom) {
            assert_eq!(a.label, w[0].as_str().unwrap(), "{rel}: label");
            assert_eq!(a.iz as u64, w[1].as_u64().unwrap());
            assert_eq!(a.ipot as u64, w[2].as_u64().unwrap());
            // Larch rounds coordinates to 5 decimals.
            for (v, j) in [(a.x_ang, 3), (a.y_ang, 4), (a.z_ang, 5)] {
                assert!((v - w[j].as_f64().unwrap()).abs() < 1e-5, "{rel}: xyz");
            }
        }
        let rows = &want["rows"];
        for (col, key) in [
            (&p.k_inv_ang, "k"),
            (&p.real_phc, "real_phc"),
            (&p.mag_feff, "mag_feff"),
            (&p.pha_feff, "pha_feff"),
            (&p.red_fact, "red_fact"),
            (&p.lam_ang, "lam"),
            (&p.rep_inv_ang, "rep"),
        ] {
            assert_eq!(col.len(), p.npts(), "{rel}: {key} length");
            check_points(col, &rows[key], &format!("{rel}: {key}"));
        }
    }
}

#[test]
fn feff_details() {
    let cu = load_feff(&common::data("feff/cu/feff0001.dat"));
    assert_eq!(cu.path_index, Some(1));
    assert_eq!(cu.potentials[0].element, "Cu");
    assert_eq!(cu.geometry[1].element, "Cu");
    close(cu.kf_inv_ang, 1.806, "kf");
    let amp = cu.amp();
    let pha = cu.pha();
    close(amp[5], cu.mag_feff[5] * cu.red_fact[5], "amp");
    close(pha[5], cu.real_phc[5] + cu.pha_feff[5], "pha");

    let feo = load_feff(&common::data("feff/feo_pb/feff_FeO_215.dat"));
    assert!(feo.version.contains("Feff8L"), "{}", feo.version);
    assert!(feo.title.iter().any(|t| t.contains("Wustite")));
    assert_eq!(feo.potentials.len(), 4);
    assert_eq!(feo.geometry[1].element, "O");

    // Detection is by content, whatever the file name.
    for rel in [
        "feff/znse/feff_znse.dat",
        "feff/feo_pb/feff_FePb_305.dat",
        "feff/cu/feff0013.dat",
    ] {
        let bytes = std::fs::read(common::data(rel)).unwrap();
        assert_eq!(detect_format(&bytes), FileFormat::FeffDat, "{rel}");
    }
}

#[test]
fn feff_inp_gives_a_clear_error() {
    let e = load(&common::data("feff/znse/feff.inp"), &LoadOptions::default()).unwrap_err();
    assert!(e.message.contains("FEFF input"), "{e}");
    assert!(!feff::looks_like_feff(
        &std::fs::read_to_string(common::data("feff/znse/feff.inp")).unwrap()
    ));
}

#[test]
fn feff_cut_table_is_located() {
    let text = std::fs::read_to_string(common::data("feff/cu/feff0001.dat")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let head = lines
        .iter()
        .position(|l| l.contains("real[2*phc]"))
        .unwrap();

    // Cut in the middle of a row.
    let row = head + 10;
    let cut = lines[..row].join("\n") + "\n" + &lines[row][..30];
    let e = feff::read(&cut, "cut.dat").unwrap_err();
    assert_eq!(e.line, Some(row + 1), "{e}");
    assert!(
        matches!(e.field.as_deref(), Some("mag[feff]" | "phase[feff]")),
        "{e}"
    );

    // Cut right after the table header: no rows.
    let cut = lines[..=head].join("\n");
    let e = feff::read(&cut, "cut.dat").unwrap_err();
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(head + 1), Some("k")),
        "{e}"
    );

    // Cut inside the path geometry.
    let cut = lines[..head - 1].join("\n");
    let e = feff::read(&cut, "cut.dat").unwrap_err();
    assert!(e.line.is_some(), "{e}");

    // Garbage in a cell.
    let bad = text.replacen("1.5637E+01", "1.56Q7E+01", 1);
    let e = feff::read(&bad, "bad.dat").unwrap_err();
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(head + 2), Some("lambda")),
        "{e}"
    );

    // Garbage in the path line, via load_bytes.
    let bad = text.replacen("12.000", "12.0x0", 1);
    let e = load_bytes(bad.as_bytes(), "bad.dat", &LoadOptions::default()).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("degen"), "{e}");
}

// ---------------------------------------------------------------- robustness

/// Tiny deterministic generator so the mutation tests need no extra crate.
fn lcg(seed: &mut u64) -> usize {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (*seed >> 33) as usize
}

#[test]
fn cut_or_mutated_inputs_never_panic() {
    let files = [
        "athena/cu.prj",
        "athena/danger.prj",
        "athena/json_unzipped.prj",
    ];
    let mut seed = 7;
    for rel in files {
        let raw = std::fs::read(common::data(rel)).unwrap();
        let text = if raw.starts_with(&[0x1f, 0x8b]) {
            gunzip(&raw).into_bytes()
        } else {
            raw.clone()
        };
        for input in [&raw, &text] {
            for _ in 0..150 {
                let cut = lcg(&mut seed) % input.len();
                if let Err(e) = athena::read(&input[..cut], rel) {
                    assert!(e.line.is_some(), "{rel} cut at {cut}: {e}");
                }
                let mut bad = input.clone();
                for _ in 0..3 {
                    let at = lcg(&mut seed) % bad.len();
                    bad[at] = b"'\"(),;[]{}=>#\n\\x0-"[lcg(&mut seed) % 18];
                }
                if let Err(e) = athena::read(&bad, rel) {
                    assert!(e.line.is_some(), "{rel} mutated: {e}");
                }
            }
        }
    }
    for rel in [
        "feff/cu/feff0001.dat",
        "feff/znse/feff_znse.dat",
        "feff/feo_pb/feff_FeO_215.dat",
    ] {
        let text = std::fs::read_to_string(common::data(rel)).unwrap();
        let bytes = text.as_bytes();
        for _ in 0..200 {
            let cut = lcg(&mut seed) % bytes.len();
            let cut_text = String::from_utf8_lossy(&bytes[..cut]);
            if let Err(e) = feff::read(&cut_text, rel) {
                assert!(e.line.is_some(), "{rel} cut at {cut}: {e}");
            }
            let mut bad = bytes.to_vec();
            let at = lcg(&mut seed) % bad.len();
            bad[at] = b"x-.E \n#="[lcg(&mut seed) % 8];
            if let Err(e) = feff::read(&String::from_utf8_lossy(&bad), rel) {
                assert!(e.line.is_some(), "{rel} mutated: {e}");
            }
        }
    }
}
