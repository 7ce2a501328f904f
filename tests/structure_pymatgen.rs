//! Structures from every CIF in ../shared/data/cif against pymatgen 2026.10
//! (CifParser + SpacegroupAnalyzer; fixture by tools/make_structure_fixtures.py).

mod common;

use std::collections::BTreeMap;

use carto::structure::{self as st, Structure};
use common::{data, json_fixture};
use serde_json::Value;

fn load(file: &str) -> Result<Structure, st::StructureError> {
    st::read_cif(&data(file)).map(|mut v| v.remove(0))
}

#[test]
fn every_cif_loads_like_pymatgen() {
    let fx = json_fixture("structure/pymatgen_structures.json");
    let cases = fx["cases"].as_array().expect("cases");
    assert!(cases.len() >= 645);
    let (mut parsed, mut sg_total, mut sg_same) = (0, 0, 0);
    let mut sg_diff = Vec::new();
    let mut our_errors = Vec::new();
    for c in cases {
        let file = c["file"].as_str().expect("file");
        let ours = load(file);
        if c.get("error").is_some() {
            // pymatgen refuses these (a site's occupancy sums above 1, a
            // malformed number). We load the first kind, warning when a
            // site is really over-full (pymatgen also counts e.g. the
            // hydroxyl label O-H as H), and give a located error otherwise.
            match &ours {
                Ok(s) => {
                    for site in &s.sites {
                        let occ: f64 = site.species.iter().map(|x| x.occupancy).sum();
                        assert!(
                            occ <= 1.001 || !s.warnings.is_empty(),
                            "{file}: silent over-full site"
                        );
                    }
                }
                Err(e) => {
                    assert!(e.line.is_some(), "{file}: error without a line: {e}");
                    our_errors.push(e.to_string());
                }
            }
            continue;
        }
        let s = match ours {
            Ok(s) => s,
            Err(e) => panic!("{file}: pymatgen reads it, we fail: {e}"),
        };
        parsed += 1;
        if c.get("sg_error").is_some() {
            // pymatgen's own expansion is off here (e.g. Al_Mo_O9_P2: P16
            // for AlMoP2O9, "Incorrect stoichiometry", no space group):
            // ours must at least give a space group.
            assert!(st::spacegroup(&s, 0.01).is_ok(), "{file}: no space group");
            continue;
        }
        let l = &c["lattice"];
        for (name, v) in [
            ("a", s.lattice.a_ang),
            ("b", s.lattice.b_ang),
            ("c", s.lattice.c_ang),
            ("alpha", s.lattice.alpha_deg),
            ("beta", s.lattice.beta_deg),
            ("gamma", s.lattice.gamma_deg),
            ("volume", s.lattice.volume_ang3()),
        ] {
            let want = l[name].as_f64().expect("lattice");
            assert!(
                (v - want).abs() <= 1e-5 * want.max(1.0),
                "{file}: {name} {v} vs {want}"
            );
        }
        assert_eq!(
            s.sites.len() as u64,
            c["natoms"].as_u64().expect("natoms"),
            "{file}: sites"
        );
        let comp: BTreeMap<&str, f64> = st::composition(&s).into_iter().collect();
        let want: BTreeMap<&str, f64> = c["composition"]
            .as_object()
            .expect("composition")
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_f64().unwrap_or(f64::NAN)))
            .collect();
        assert_eq!(
            comp.len(),
            want.len(),
            "{file}: elements {comp:?} vs {want:?}"
        );
        for (el, n) in &want {
            let got = comp.get(el).copied().unwrap_or(0.0);
            assert!(
                (got - n).abs() < 1e-3 * n.max(1.0),
                "{file}: {el} {got} vs {n}"
            );
        }
        if let Some(n) = c["spacegroup_number"].as_i64() {
            sg_total += 1;
            match st::spacegroup(&s, 0.01) {
                Ok(g) if g.number as i64 == n => sg_same += 1,
                Ok(g) => sg_diff.push(format!("{file}: {} vs pymatgen {n}", g.number)),
                Err(e) => sg_diff.push(format!("{file}: {e} vs pymatgen {n}")),
            }
        }
    }
    eprintln!(
        "{parsed} parsed as pymatgen; space group equal on {sg_same}/{sg_total}; differ: {sg_diff:#?}; our errors: {our_errors:#?}"
    );
    assert!(parsed >= 627, "{parsed}");
    assert!(
        sg_same as f64 >= 0.98 * sg_total as f64,
        "space group equal on only {sg_same}/{sg_total}: {sg_diff:#?}"
    );
    assert!(sg_total >= 620);
}

#[test]
fn neighbour_shells_match_pymatgen() {
    let fx = json_fixture("structure/pymatgen_structures.json");
    let mut checked = 0;
    for c in fx["cases"].as_array().expect("cases") {
        let Some(shells) = c.get("shells").and_then(Value::as_object) else {
            continue;
        };
        if c["ordered"].as_bool() != Some(true) {
            continue;
        }
        let file = c["file"].as_str().expect("file");
        let s = load(file).unwrap_or_else(|e| panic!("{e}"));
        for (el, want) in shells {
            let i = st::first_site_of(&s, el).unwrap_or_else(|| panic!("{file}: no {el}"));
            let ours = st::shells(&s, i, 6.0);
            let want = want.as_array().expect("shell list");
            // Cumulative neighbour counts per element agree at radii in the
            // gaps (> 0.04 Å) between pymatgen's shells, below 5.95 Å: robust
            // to how 0.01 Å groups are split.
            let mut rs: Vec<f64> = want.iter().filter_map(|w| w["r"].as_f64()).collect();
            rs.sort_by(f64::total_cmp);
            rs.dedup();
            for pair in rs.windows(2) {
                if pair[1] - pair[0] < 0.04 || pair[1] > 5.95 {
                    continue;
                }
                let cut = 0.5 * (pair[0] + pair[1]);
                let mut elements: Vec<&str> =
                    want.iter().filter_map(|w| w["element"].as_str()).collect();
                elements.sort();
                elements.dedup();
                for e in elements {
                    let theirs: u64 = want
                        .iter()
                        .filter(|w| w["element"] == e && w["r"].as_f64().unwrap_or(f64::NAN) < cut)
                        .filter_map(|w| w["count"].as_u64())
                        .sum();
                    let mine: usize = ours
                        .iter()
                        .filter(|sh| sh.element == e && sh.r_ang < cut)
                        .map(|sh| sh.n)
                        .sum();
                    assert_eq!(
                        mine as u64, theirs,
                        "{file}: {el} neighbours {e} within {cut:.3} Å"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 80, "{checked}");
}

#[test]
fn symbol_only_cif_expands_like_the_operator_list() {
    // Magnetite with its symmetry loop removed: the H-M symbol 'F d 3 m'
    // (origin choice 2) must give the same 56 sites.
    let text = std::fs::read_to_string(data("cif/amcsd/magnetite_amcsd9994.cif")).expect("read");
    let full = st::parse_cif_structures(&text, "magnetite").expect("full")[0].clone();
    let mut stripped = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.trim() == "_space_group_symop_operation_xyz" {
            skipping = true;
            // Drop the preceding loop_ too.
            stripped.truncate(stripped.trim_end().len() - "loop_".len());
            continue;
        }
        if skipping && line.trim_start().starts_with('\'') {
            continue;
        }
        skipping = false;
        stripped.push_str(line);
        stripped.push('\n');
    }
    assert!(!stripped.contains("3/4+z"));
    let sym = st::parse_cif_structures(&stripped, "magnetite-hm").expect("symbol")[0].clone();
    assert_eq!(sym.sites.len(), full.sites.len());
    assert_eq!(st::spacegroup(&sym, 0.01).expect("sg").number, 227);
}

#[test]
fn broken_cifs_name_file_and_line() {
    let e = load("cif/amcsd_library/Pb2(AsO2OH)Cl2_amcsd19001.cif").expect_err("malformed");
    assert_eq!(e.line, Some(25), "{e}");
    assert!(e.to_string().contains("_cell_length_a"), "{e}");
    for (text, line, what) in [
        (
            "data_x\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nFe1 0 0 zero\n",
            13,
            "fract_z",
        ),
        (
            "data_x\n_cell_length_a -4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nFe1 0 0 0\n",
            2,
            "cell_length_a",
        ),
        (
            "data_x\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_symmetry_equiv_pos_as_xyz\n'x,y,z'\n'x,y'\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nFe1 0 0 0\n",
            11,
            "three",
        ),
        (
            "data_x\n_cell_length_a 4\n_cell_length_b 4\n_cell_length_c 4\n_cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\nloop_\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\nXx1 0 0 0\n",
            13,
            "no element",
        ),
    ] {
        let e = st::parse_cif_structures(text, "bad.cif").expect_err(what);
        assert_eq!(e.line, Some(line), "{what}: {e}");
        assert!(e.to_string().starts_with("bad.cif:"), "{e}");
        assert!(e.to_string().contains(what), "{e}");
    }
}

#[test]
fn cut_and_corrupted_cifs_never_panic() {
    // Truncations and byte flips of real CIFs: every result is a structure
    // (then space group, shells and a pattern work) or a located error.
    let files = [
        "cif/amcsd/magnetite_amcsd9994.cif",
        "cif/amcsd/calcite_amcsd9873.cif",
        "cif/misc/Fe2O3_shelx.cif",
        "cif/misc/ICSD_triclinic.cif",
        "cif/misc/magnesiowustite.cif",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let (mut ok, mut err) = (0, 0);
    for f in files {
        let full = std::fs::read(data(f)).expect("read");
        let n = full.len();
        let mut inputs: Vec<Vec<u8>> = (0..n)
            .step_by((n / 60).max(1))
            .map(|c| full[..c].to_vec())
            .collect();
        for _ in 0..80 {
            let mut b = full.clone();
            for _ in 0..1 + rand() % 3 {
                let at = (rand() % n as u64) as usize;
                b[at] = b"0123456789.-_'\";#\n x(),/?"[(rand() % 25) as usize];
            }
            inputs.push(b);
        }
        for b in inputs {
            match st::parse_cif_structures(&String::from_utf8_lossy(&b), "bad.cif") {
                Ok(v) => {
                    ok += 1;
                    let s = &v[0];
                    let _ = st::spacegroup(s, 0.01);
                    let _ = st::shells(s, 0, 4.0);
                    let _ = carto::xrd::simulate(s, &carto::xrd::XrdOptions::default());
                }
                Err(e) => {
                    err += 1;
                    assert!(e.to_string().starts_with("bad.cif"), "{e}");
                }
            }
        }
    }
    assert!(ok > 100 && err > 100, "{ok} {err}");
}

/// A P1 cubic cell of `n³` sites on a jittered 2 Å grid, Fe and O mixed.
fn big_p1_cif(n: usize) -> String {
    let a = 2.0 * n as f64;
    let mut s = format!(
        "data_big\n_cell_length_a {a}\n_cell_length_b {a}\n_cell_length_c {a}\n\
         _cell_angle_alpha 90\n_cell_angle_beta 90\n_cell_angle_gamma 90\n\
         _symmetry_space_group_name_H-M 'P 1'\nloop_\n_atom_site_label\n\
         _atom_site_type_symbol\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n"
    );
    let mut k = 0usize;
    for i in 0..n {
        for j in 0..n {
            for l in 0..n {
                // A deterministic jitter of up to ±0.2 of a grid step.
                let jit = |m: usize| ((k * 7919 + m * 104_729) % 401) as f64 / 1000.0 - 0.2;
                let f = |g: usize, m: usize| (g as f64 + 0.5 + jit(m)) / n as f64;
                let el = if (k * 31) % 7 < 3 { "Fe" } else { "O" };
                s.push_str(&format!(
                    "{el}{k} {el} {:.6} {:.6} {:.6}\n",
                    f(i, 1),
                    f(j, 2),
                    f(l, 3)
                ));
                k += 1;
            }
        }
    }
    s
}

#[test]
fn large_structures_expand_and_search_in_bounded_time() {
    // 22³ = 10 648 sites: the space group is searched (P1).
    let s = st::parse_cif_structures(&big_p1_cif(22), "big.cif").expect("10k sites");
    assert_eq!(s[0].sites.len(), 10_648);
    let sg = st::spacegroup(&s[0], 0.01).expect("P1 found");
    assert_eq!(sg.number, 1);
    // 47³ = 103 823 sites: expansion, shells and the space group (no
    // rotation or translation maps the jittered grid onto itself: P1,
    // found without moyo's quadratic search) all finish.
    let s = st::parse_cif_structures(&big_p1_cif(47), "huge.cif").expect("10⁵ sites");
    let s = &s[0];
    assert_eq!(s.sites.len(), 103_823);
    let sg = st::spacegroup(s, 0.01).expect("P1 found");
    assert_eq!(
        (sg.number, sg.symbol.as_str(), sg.hall_number),
        (1, "P1", 1)
    );
    let sh = st::shells(s, 0, 4.0);
    let n: usize = sh.iter().map(|x| x.n).sum();
    // ~4/3 π 4³ / 2³ ≈ 33 neighbours on a 2 Å grid.
    assert!((20..=50).contains(&n), "{n} neighbours: {sh:?}");
}

/// `s` repeated n×n×n times, as a P1 cell.
fn supercell(s: &Structure, n: usize) -> Structure {
    let mut big = s.clone();
    big.lattice.a_ang *= n as f64;
    big.lattice.b_ang *= n as f64;
    big.lattice.c_ang *= n as f64;
    big.sites.clear();
    for i in 0..n {
        for j in 0..n {
            for k in 0..n {
                for site in &s.sites {
                    let mut t = site.clone();
                    let f = site.frac;
                    t.frac = [
                        (f[0] + i as f64) / n as f64,
                        (f[1] + j as f64) / n as f64,
                        (f[2] + k as f64) / n as f64,
                    ];
                    big.sites.push(t);
                }
            }
        }
    }
    big
}

#[test]
fn supercells_are_searched_on_their_primitive_cell() {
    // Above 2 000 sites the search first finds the pure translations and
    // hands moyo the primitive cell: a supercell has its cell's group.
    for (file, n, sites, number) in [
        ("cif/amcsd/quartz_amcsd11008.cif", 8, 4_608, 152),
        ("cif/amcsd/magnetite_amcsd9994.cif", 4, 3_584, 227),
        ("cif/amcsd/corundum_amcsd15110.cif", 4, 1_920, 167),
        // 30³ conventional fcc cells: 108 000 sites, one per primitive cell.
        ("cif/amcsd/copper_amcsd13088.cif", 30, 108_000, 225),
    ] {
        let s = load(file).expect(file);
        let want = st::spacegroup(&s, 0.01).expect(file);
        assert_eq!(want.number, number, "{file}");
        let big = supercell(&s, n);
        assert_eq!(big.sites.len(), sites, "{file}");
        let got = st::spacegroup(&big, 0.01).expect(file);
        assert_eq!(got, want, "{file} ×{n}");
    }
    // Lattice points of a Cu supercell all but one: no pure translation, so
    // the search says it cannot tell within its budget (bounded), rather
    // than running moyo on 10⁵ sites.
    let s = load("cif/amcsd/copper_amcsd13088.cif").expect("Cu");
    let mut big = supercell(&s, 30);
    big.sites.swap_remove(54_321);
    let e = st::spacegroup(&big, 0.01).expect_err("too big to tell");
    assert_eq!(e, st::SpaceGroupError::TooManySites { sites: 107_999 });
    assert!(e.to_string().contains("107999 sites"), "{e}");
    // Sites denser than one per (4·symprec)³ (10⁵ sites in a 1 Å cell at
    // symprec 0.5 Å): the bin grid would no longer bound a lookup, so the
    // search refuses at once instead of running for hours.
    let mut dense = supercell(&s, 30);
    dense.lattice.a_ang = 1.0;
    dense.lattice.b_ang = 1.0;
    dense.lattice.c_ang = 1.0;
    let e = st::spacegroup(&dense, 0.5).expect_err("too dense to search");
    assert_eq!(e, st::SpaceGroupError::TooManySites { sites: 108_000 });
    // ... and at 7³·4 = 1 372 sites moyo finds the vacancy's group (Pm-3m).
    let mut small = supercell(&s, 7);
    small.sites.swap_remove(0);
    assert_eq!(st::spacegroup(&small, 0.01).expect("moyo").number, 221);
}

#[test]
fn nearly_flat_cell_is_a_located_error() {
    let cif = "data_flat\n_cell_length_a 5\n_cell_length_b 5\n_cell_length_c 5\n\
               _cell_angle_alpha 119.9999\n_cell_angle_beta 119.9999\n_cell_angle_gamma 119.9999\n\
               loop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n\
               _atom_site_fract_y\n_atom_site_fract_z\nFe1 Fe 0 0 0\n";
    let e = st::parse_cif_structures(cif, "flat.cif").expect_err("flat cell");
    assert_eq!((e.file.as_str(), e.line), ("flat.cif", Some(5)), "{e}");
    assert!(e.message.contains("nearly flat"), "{e}");
    assert!(e.message.contains("condition number 4.96"), "{e}");
    // 119.99° is still a (very oblique) crystal.
    let ok = cif.replace("119.9999", "119.99");
    assert!(st::parse_cif_structures(&ok, "oblique.cif").is_ok());
}
