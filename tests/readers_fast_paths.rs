//! The fast read paths give exactly what the full paths give: reading one
//! group of an Athena project (`athena::read_group`, `read_selected`,
//! `load_bytes_group`) against a full read, for every group of every
//! project in the shared data, and the same errors on damaged projects.

mod common;

use std::io::Write;

use carto::io::athena::{self, AthenaGroup, AthenaProject};
use carto::io::{Dataset, LoadOptions, load_bytes, load_bytes_group};

/// Bit-faithful comparison: `Debug` prints every f64 in its shortest
/// round-trip form, so equal text means equal bits (and `-0.0` ≠ `0.0`).
fn same_group(a: &AthenaGroup, b: &AthenaGroup) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

fn without_arrays(g: &AthenaGroup) -> AthenaGroup {
    AthenaGroup {
        arrays: Default::default(),
        ..g.clone()
    }
}

fn check_project(bytes: &[u8], file: &str, full: &AthenaProject) {
    let mut names: Vec<String> = vec!["no such group, surely".into()];
    if let Some(g) = full.groups.first() {
        names.push(g.larch_name(full.format == "perl"));
        names.push(g.label.to_ascii_uppercase());
    }
    for g in &full.groups {
        names.push(g.label.clone());
        if g.id != g.label {
            names.push(g.id.clone());
        }
    }
    for (k, name) in names.iter().enumerate() {
        let want = full.group(name);
        let sel = athena::read_selected(bytes, file, name).unwrap();
        // read_group is read_selected plus the pick: checked on a few names.
        let got = if k < 4 {
            athena::read_group(bytes, file, name).unwrap()
        } else {
            let i = want.and_then(|w| full.groups.iter().position(|o| std::ptr::eq(o, w)));
            i.and_then(|i| sel.groups.get(i).cloned())
        };
        match (want, &got) {
            (None, None) => {}
            (Some(w), Some(g)) => {
                assert!(same_group(w, g), "{file}: group '{name}' differs");
                if !w.is_chi()
                    && let Ok(ws) = w.to_spectrum(file)
                {
                    let gs = g.to_spectrum(file).unwrap();
                    assert_eq!(format!("{ws:?}"), format!("{gs:?}"), "{file}: '{name}'");
                }
            }
            _ => panic!(
                "{file}: group '{name}': {} vs {}",
                want.is_some(),
                got.is_some()
            ),
        }
        assert_eq!(sel.header, full.header, "{file}");
        assert_eq!(sel.journal, full.journal, "{file}");
        assert_eq!(sel.warnings, full.warnings, "{file}");
        assert_eq!(sel.format, full.format, "{file}");
        assert_eq!(sel.gzipped, full.gzipped, "{file}");
        assert_eq!(sel.groups.len(), full.groups.len(), "{file}");
        let chosen = want.map(|w| full.groups.iter().position(|o| std::ptr::eq(o, w)));
        for (i, (s, f)) in sel.groups.iter().zip(&full.groups).enumerate() {
            if chosen == Some(Some(i)) {
                assert!(same_group(s, f), "{file}: '{name}' selected group differs");
            } else {
                assert!(s.arrays.is_empty(), "{file}: group {i} kept arrays");
                assert!(
                    same_group(s, &without_arrays(f)),
                    "{file}: group {i} differs"
                );
            }
        }
        // The Dataset-level entry point the CLI and the bench use.
        if k >= 2 {
            continue;
        }
        match load_bytes_group(bytes, file, &LoadOptions::default(), Some(name)) {
            Ok(Dataset::Athena(p)) => {
                assert_eq!(format!("{:?}", p.groups), format!("{:?}", sel.groups));
            }
            other => panic!("{file}: {other:?}"),
        }
    }
}

#[test]
fn read_group_matches_full_read_for_every_group() {
    let files = common::data_files("athena");
    assert!(!files.is_empty());
    for path in files {
        let file = path.display().to_string();
        let bytes = std::fs::read(&path).unwrap();
        let Ok(full) = athena::read(&bytes, &file) else {
            // A project Carto refuses must be refused the same way.
            let e = athena::read(&bytes, &file).err();
            assert_eq!(athena::read_group(&bytes, &file, "x").err(), e, "{file}");
            continue;
        };
        check_project(&bytes, &file, &full);
    }
}

fn gzip(text: &str) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap()
}

const TWO_GROUPS: &str = "# Athena project file -- Demeter version 0.9.26
# This file created at 2020-01-01
$old_group = 'aaaa';
@args = ('label','first','bkg_e0','8979','is_xmu','1');
@x = ('8970.0','8980.5','8990.25');
@y = ('0.1','0.5','1.0');
[record] # create object and set arrays
$old_group = 'bbbb';
@args = ('label','second','bkg_e0','8980');
@x = ('8970.0','8980.5','8990.25');
@y = ('0.2','0.6',BAD);
[record] # create object and set arrays
1;
";

#[test]
fn read_group_fails_like_the_full_read() {
    // A damaged array in a group that is not asked for is still an error,
    // with the same message, line and field.
    for bytes in [TWO_GROUPS.as_bytes().to_vec(), gzip(TWO_GROUPS)] {
        let full = load_bytes(&bytes, "t.prj", &LoadOptions::default()).err();
        assert!(full.is_some());
        for name in ["first", "second", "nothing"] {
            let e = athena::read_group(&bytes, "t.prj", name).err();
            assert_eq!(e, full, "{name}");
            let e = load_bytes_group(&bytes, "t.prj", &LoadOptions::default(), Some(name)).err();
            assert_eq!(e, full, "{name}");
        }
    }
    // Arrays of unusual but valid forms, and numbers that do not parse
    // (infinite, bare words) in the group not asked for.
    for (y, ok) in [
        ("'0.2' , '1.' ,'-3e+02',\n'+4E-7',", true),
        ("'.5','5e0','0012','1e99','1e-99'", true),
        ("'1.5', ' 2 ', '3D2', 4, \"5\"", true),
        ("", true),
        ("'1e999','2'", false),
        ("'1e-9999','2'", true),
        ("'1'  '2'", false),
        ("'1',,'2'", false),
        ("'1', '2x'", false),
    ] {
        let text = TWO_GROUPS.replace("'0.2','0.6',BAD", y);
        let full = athena::read(text.as_bytes(), "t.prj");
        assert_eq!(full.is_ok(), ok, "{y}: {full:?}");
        for name in ["first", "second"] {
            let got = athena::read_group(text.as_bytes(), "t.prj", name);
            match &full {
                Ok(p) => {
                    let g = got.unwrap().unwrap();
                    assert!(same_group(p.group(name).unwrap(), &g), "{y}: {name}");
                }
                Err(e) => assert_eq!(got.err().as_ref(), Some(e), "{y}: {name}"),
            }
        }
    }
    // Truncated gzip: same error.
    let gz = gzip(&TWO_GROUPS.replace("BAD", "'1.5'"));
    let cut = &gz[..gz.len() / 2];
    let full = athena::read(cut, "t.prj").err();
    assert!(full.is_some());
    assert_eq!(athena::read_group(cut, "t.prj", "first").err(), full);
    // And the repaired project reads the same both ways.
    let good = TWO_GROUPS.replace("BAD", "'-0.0'");
    let full = athena::read(good.as_bytes(), "t.prj").unwrap();
    check_project(good.as_bytes(), "t.prj", &full);
    let g = athena::read_group(good.as_bytes(), "t.prj", "second")
        .unwrap()
        .unwrap();
    assert_eq!(
        g.array("y").map(|y| y[2].to_bits()),
        Some((-0.0f64).to_bits())
    );
}
