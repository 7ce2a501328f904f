//! Text readers (XDI, plain columns, beamline dialects) on the shared real
//! data, with reference values from `tools/readers_text_reference.py` (an
//! independent numpy reading of the same files with hand-picked columns).

mod common;

use std::time::Instant;

use carto::io::{
    Dataset, EnergyUnit, LoadOptions, MuMode, MuRecipe, ParseError, XasSpectrum, load, load_bytes,
};

/// (path, npts, first energy eV, last energy eV, recipe, row, μ at row)
#[rustfmt::skip]
const XAS_REFERENCE: &[(&str, usize, f64, f64, &str, usize, f64)] = &[
    ("xas/xdi/cu_metal_rt.xdi", 408, 8779.000000000, 10145.860000000, "column:3", 204, 1.173593800000e+00),
    ("xas/xdi/cu_romanglass.xdi", 473, 8928.635500000, 9354.273500000, "column:1", 236, 1.290622400000e+01),
    ("xas/xdi/fe_xanes_8ch.xdi", 100, 7012.000000000, 7108.598755000, "fluor:15-22/4", 50, 9.988117584253e-04),
    ("xas/xdi/feo_rt1.xdi", 412, 6911.767100000, 8084.093800000, "column:1", 206, 1.052559000000e+00),
    ("xas/xdi/se_na2so4_rt.xdi", 469, 12508.000000000, 13404.760000000, "trans:2,3", 234, -1.382716612007e+00),
    ("xas/xdi/v_foil.xdi", 463, 5385.000000000, 6089.816000000, "trans:2,3", 231, 1.899709078495e+00),
    ("xas/columns/EMG003.txt", 1128, 7077.900000000, 7253.400000000, "column:1", 564, 9.053400000000e-01),
    ("xas/columns/cu.xmu", 612, 8786.204000000, 11362.470000000, "column:1", 306, 2.687955000000e+00),
    ("xas/columns/cu2s_xafs.dat", 454, 8759.990000000, 9852.277000000, "column:1", 227, -9.786809000000e-01),
    ("xas/columns/cu_10k.xmu", 612, 8786.204000000, 11362.470000000, "column:1", 306, 2.687955000000e+00),
    ("xas/columns/cu_50k.xmu", 620, 8782.347000000, 11362.540000000, "column:1", 310, 2.713243000000e+00),
    ("xas/columns/cu_rt01.xmu", 408, 8779.000000000, 10145.860000000, "column:1", 204, 1.173593800000e+00),
    ("xas/columns/fe.060", 511, 6911.988620000, 8962.944140000, "trans:1,2", 255, 2.311172061770e+00),
    ("xas/columns/fe2o3_rt1.xmu", 412, 6911.827700000, 8084.233700000, "column:1", 206, 1.748977400000e+00),
    ("xas/columns/feo_exafs_pnccat2001.dat", 412, 6911.767130080, 8084.093846570, "trans:2,3", 206, 1.052559042155e+00),
    ("xas/columns/feo_xafs.dat", 412, 6911.767100000, 8084.093800000, "column:1", 206, 1.118746100000e+00),
    ("xas/columns/incomplete_label.dat", 17, 11767.000000000, 11847.000000000, "trans:3,4", 8, -1.072024694598e+00),
    ("xas/columns/mn_cpmnco3.dat", 409, 6339.980000000, 7196.980000000, "column:1", 204, -1.458889000000e+00),
    ("xas/columns/scorodite_as_xafs.001", 297, 11767.000000000, 12415.640000000, "trans:3,4", 148, -6.326305760424e-01),
    ("xas/columns/sno2_l3.dat", 208, 3868.797200000, 4172.609900000, "column:1", 104, 1.054246466667e-01),
    ("xas/columns/znse_zn_xafs.001", 469, 9509.000000000, 10405.760000000, "trans:2,3", 234, -2.279725239284e-01),
    ("xas/series/fexanes_a.001", 449, 7032.000244000, 7355.788689000, "fluor:7-7/2", 224, 2.823753729725e-01),
    ("xas/series/fexanes_b.001", 449, 7032.001709000, 7355.791135000, "fluor:7-7/2", 224, 1.741287788332e-01),
    ("xas/series/fexanes_c.001", 449, 7032.001709000, 7355.789505000, "fluor:7-7/2", 224, 1.052997489631e-01),
    ("xas/series/fexanes_d.001", 449, 7032.000244000, 7355.788689000, "fluor:7-7/2", 224, 1.729118061163e-01),
    ("xas/series/fexanes_e.001", 449, 7032.002441000, 7355.787874000, "fluor:7-7/2", 224, 3.501849038510e-01),
    ("xas/beamlines/APS10BM_2019.dat", 3464, 6389.997500000, 7601.358700000, "trans:1,2", 1732, 2.658331540342e-01),
    ("xas/beamlines/APS12BM_2019.dat", 492, 6339.000000000, 6984.740000000, "fluor:11-23/3", 246, 6.078054883052e-05),
    ("xas/beamlines/APS13ID_2008.dat", 469, 9509.000000000, 10405.760000000, "trans:2,3", 234, -2.279725239284e-01),
    ("xas/beamlines/APS13ID_2019.dat", 221, 6389.001866000, 6537.007889000, "fluor:5-8/2", 110, 7.737134763939e-03),
    ("xas/beamlines/APS20BM_2001.dat", 412, 6911.767130080, 8084.093846570, "trans:2,3", 206, 1.052559042155e+00),
    ("xas/beamlines/APS20ID_2018.dat", 379, 11716.983610940, 12246.435722480, "fluor:8-8/5", 189, 3.582391794904e+00),
    ("xas/beamlines/APS9BM_2006.dat", 258, 2460.000000000, 2500.000000000, "fluor:23-30/6", 129, 3.765547421909e-02),
    ("xas/beamlines/APS9BM_2019.dat", 442, 6287.671026260, 7391.448752370, "trans:4,5", 221, -4.921384976444e-01),
    ("xas/beamlines/CLSHXMA.dat", 414, 11667.001000000, 12842.362000000, "trans:4,5", 207, 2.761264166838e-01),
    ("xas/beamlines/ESRF_BM08_LISA_2021.dat", 198, 10906.925247166, 11505.616485957, "column:3", 99, 3.164782280937e-02),
    ("xas/beamlines/FDMNES_2022_Mo2C_out.dat", 559, 19975.000000000, 20119.800000000, "column:1", 279, 8.602855400000e-02),
    ("xas/beamlines/NSLS6BM_2019.dat", 352, 5264.987000000, 6120.533000000, "column:3", 176, 7.622354810000e+02),
    ("xas/beamlines/NSLS_XDAC_2011.dat", 422, 6912.001900000, 7757.715150000, "fluor:3-6/1", 211, 3.777980813157e+00),
    ("xas/beamlines/PF9A_2022.dat", 1426, 6606.167377527, 8211.094606841, "fluor:4-4/3", 713, 1.199216147492e-01),
    ("xas/beamlines/PFBL12C_2005.dat", 818, 12049.083202575, 13243.311517891, "trans:3,4", 409, -5.628973635397e-01),
    ("xas/beamlines/SLS_PHOENIX_2023.dat", 301, 1479.998754000, 1840.064883000, "fluor:1-1/3", 150, 6.683940348239e+05),
    ("xas/beamlines/SSRL1_2006.dat", 455, 25284.998000000, 26534.926000000, "trans:3,4", 227, 8.206414283441e-01),
    ("xas/beamlines/generic_columns_no_header.dat", 198, 10906.925247166, 11505.616485957, "trans:1,2", 99, 3.164782280937e-02),
];

/// (path, npts, first k, last k, row, χ at row)
#[rustfmt::skip]
const CHI_REFERENCE: &[(&str, usize, f64, f64, usize, f64)] = &[
    ("xas/chi/cu.chi", 350, 0.0000000000, 17.4500000000, 175, 3.050000000000e-04),
    ("xas/chi/cu10k.chi", 500, 0.0000000000, 24.9500000000, 250, -3.206647000000e-03),
    ("xas/chi/cu_chi.dat", 499, 0.0500000000, 24.9500000000, 249, -3.206647000000e-03),
    ("xas/chi/nonuniform.chi", 476, 1.2864742539, 17.9144992120, 238, -5.378530089400e-02),
];

fn recipe_code(r: &MuRecipe) -> String {
    match r {
        MuRecipe::Column { mu } => format!("column:{mu}"),
        MuRecipe::Transmission { i0, it } => format!("trans:{i0},{it}"),
        MuRecipe::Reference { it, iref } => format!("ref:{it},{iref}"),
        MuRecipe::Fluorescence { i_f, i0 } => {
            let contiguous = i_f.windows(2).all(|w| w[1] == w[0] + 1);
            assert!(contiguous, "fluorescence channels not contiguous: {i_f:?}");
            format!("fluor:{}-{}/{i0}", i_f[0], i_f[i_f.len() - 1])
        }
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * (1.0 + a.abs().max(b.abs()))
}

fn xas(rel: &str, opts: &LoadOptions) -> XasSpectrum {
    match load(&common::data(rel), opts) {
        Ok(Dataset::Xas(x)) => x,
        Ok(other) => panic!("{rel}: loaded as {}, not xas", other.modality()),
        Err(e) => panic!("{rel}: {e}"),
    }
}

fn err(text: &str, opts: &LoadOptions) -> ParseError {
    match load_bytes(text.as_bytes(), "bad.dat", opts) {
        Ok(d) => panic!("malformed input loaded as {}", d.modality()),
        Err(e) => e,
    }
}

/// Files the automatic μ rule refuses (transmission dead, fluorescence
/// dark current); their reference rows are read with the recipe forced.
const REFUSED_AUTO: &[&str] = &["xas/beamlines/APS12BM_2019.dat"];

#[test]
fn every_xas_file_matches_reference() {
    for &(rel, npts, e_first, e_last, recipe, row, mu) in XAS_REFERENCE {
        let opts = if REFUSED_AUTO.contains(&rel) {
            LoadOptions {
                mu_mode: Some(MuMode::Fluorescence),
                ..Default::default()
            }
        } else {
            LoadOptions::default()
        };
        let x = xas(rel, &opts);
        assert_eq!(x.energy_ev.len(), npts, "{rel}: npts");
        assert_eq!(x.mu.len(), npts, "{rel}: μ length");
        assert_eq!(x.table.row_lines.len(), npts, "{rel}: row_lines");
        assert!(
            close(x.energy_ev[0], e_first, 1e-9),
            "{rel}: first energy {}",
            x.energy_ev[0]
        );
        assert!(
            close(x.energy_ev[npts - 1], e_last, 1e-9),
            "{rel}: last energy {}",
            x.energy_ev[npts - 1]
        );
        assert_eq!(recipe_code(&x.recipe), recipe, "{rel}: recipe");
        assert!(
            close(x.mu[row], mu, 1e-9),
            "{rel}: μ[{row}] = {} vs {mu}",
            x.mu[row]
        );
        assert!(
            x.energy_ev.windows(2).all(|w| w[1] > w[0]),
            "{rel}: energy not strictly increasing"
        );
        assert!(x.mu.iter().all(|v| v.is_finite()), "{rel}: non-finite μ");
        assert!(
            (1000.0..150_000.0).contains(&x.energy_ev[0]),
            "{rel}: implausible energy"
        );
    }
}

#[test]
fn reference_table_covers_every_data_file() {
    let mut listed: Vec<&str> = XAS_REFERENCE.iter().map(|r| r.0).collect();
    listed.extend(CHI_REFERENCE.iter().map(|r| r.0));
    for dir in [
        "xas/xdi",
        "xas/columns",
        "xas/chi",
        "xas/series",
        "xas/beamlines",
    ] {
        for p in common::data_files(dir) {
            let rel = format!("{dir}/{}", p.file_name().unwrap().to_string_lossy());
            assert!(listed.contains(&rel.as_str()), "{rel} has no reference row");
        }
    }
    assert_eq!(common::data_files("xas/beamlines").len(), 18);
}

/// APS 12BM: `i1` reads ≤ 0 behind the thick Mn sample above the edge
/// and the 13-element detector counts ~12 dark counts throughout. Before,
/// the reader switched silently to ΣIf/I0 (μ ≈ 6·10⁻⁵ of noise); now the
/// automatic rule refuses it at i1's first dead line, naming both reasons.
#[test]
fn dead_transmission_and_dark_fluorescence_are_refused() {
    let rel = "xas/beamlines/APS12BM_2019.dat";
    let e = match load(&common::data(rel), &LoadOptions::default()) {
        Ok(d) => panic!("{rel} loaded as {}", d.modality()),
        Err(e) => e,
    };
    assert_eq!((e.line, e.field.as_deref()), (Some(143), Some("i1")), "{e}");
    assert!(e.message.contains("shows no absorption edge"), "{e}");
    assert!(e.message.contains("dark current"), "{e}");
    assert!(e.message.contains("--mu"), "{e}");
}

#[test]
fn chi_files_load_as_chi() {
    for &(rel, npts, k_first, k_last, row, chi) in CHI_REFERENCE {
        let c = match load(&common::data(rel), &LoadOptions::default()) {
            Ok(Dataset::Chi(c)) => c,
            Ok(other) => panic!("{rel}: loaded as {}", other.modality()),
            Err(e) => panic!("{rel}: {e}"),
        };
        assert_eq!(c.k_inv_ang.len(), npts, "{rel}");
        assert!(close(c.k_inv_ang[0], k_first, 1e-9), "{rel}");
        assert!(close(c.k_inv_ang[npts - 1], k_last, 1e-9), "{rel}");
        assert!(
            close(c.chi[row], chi, 1e-9),
            "{rel}: χ[{row}] = {}",
            c.chi[row]
        );
    }
}

#[test]
fn energy_units_and_columns_per_dialect() {
    let cases: &[(&str, usize, EnergyUnit, &str)] = &[
        (
            "xas/beamlines/APS12BM_2019.dat",
            0,
            EnergyUnit::Kev,
            "Energy",
        ),
        (
            "xas/beamlines/PF9A_2022.dat",
            1,
            EnergyUnit::MonoDeg,
            "angle_read",
        ),
        (
            "xas/beamlines/PFBL12C_2005.dat",
            1,
            EnergyUnit::MonoDeg,
            "angle_read",
        ),
        (
            "xas/beamlines/SSRL1_2006.dat",
            2,
            EnergyUnit::Ev,
            "Achieved_Energy",
        ),
        (
            "xas/beamlines/CLSHXMA.dat",
            3,
            EnergyUnit::Ev,
            "EnergyAchieved",
        ),
        (
            "xas/beamlines/APS20ID_2018.dat",
            0,
            EnergyUnit::Ev,
            "Mono_Energy_(alt)",
        ),
        (
            "xas/beamlines/FDMNES_2022_Mo2C_out.dat",
            0,
            EnergyUnit::Ev,
            "Energy",
        ),
        ("xas/xdi/cu_metal_rt.xdi", 0, EnergyUnit::Ev, "energy"),
    ];
    for &(rel, col, unit, label) in cases {
        let x = xas(
            rel,
            &LoadOptions {
                mu_mode: REFUSED_AUTO.contains(&rel).then_some(MuMode::Fluorescence),
                ..Default::default()
            },
        );
        assert_eq!(x.energy_column, col, "{rel}");
        assert_eq!(x.energy_unit, unit, "{rel}");
        assert_eq!(x.table.labels[col], label, "{rel}");
    }
}

#[test]
fn beamline_labels_from_legends() {
    // APS XSD two-column legend: Larch's parser drops TiKa_Sum here.
    let x = xas("xas/beamlines/APS20ID_2018.dat", &LoadOptions::default());
    assert_eq!(x.table.labels.len(), 17);
    assert_eq!(x.table.labels[8], "XMAP4:AsKa_Sum");
    assert_eq!(x.table.labels[10], "XMAP4:TiKa_Sum");
    assert_eq!(x.table.labels[16], "XMAP4:Total_Sum");
    // GSE EpicsScan legend, duplicates made unique.
    let x = xas("xas/columns/scorodite_as_xafs.001", &LoadOptions::default());
    assert_eq!(
        &x.table.labels[..6],
        [
            "Energy",
            "Scaler_Count_Time",
            "MCA_Count_Time",
            "I0",
            "I1",
            "Cr_Ka"
        ]
    );
    assert_eq!(x.table.labels[6], "Cr_Ka_col7");
    // SPEC #L with a two-word label.
    let x = xas("xas/beamlines/APS9BM_2006.dat", &LoadOptions::default());
    assert_eq!(x.table.labels.len(), 36);
    assert_eq!(x.table.labels[31], "Counter_27");
    // KEK-PF: detector roles from the Mode row.
    let x = xas("xas/beamlines/PF9A_2022.dat", &LoadOptions::default());
    assert_eq!(
        x.table.labels,
        ["angle_drive", "angle_read", "time", "i0", "if"]
    );
    // Uncommented MRCAT header: label line after the dashes.
    let x = xas("xas/beamlines/APS10BM_2019.dat", &LoadOptions::default());
    assert_eq!(x.table.labels, ["energy", "Io", "It", "Iref", "If"]);
    assert_eq!(
        x.table.metadata.get("E0").map(String::as_str),
        Some("6540.00")
    );
    // Label line shorter than the data: padded like Larch.
    let x = xas("xas/columns/incomplete_label.dat", &LoadOptions::default());
    assert_eq!(x.table.labels.len(), 57);
    assert_eq!(&x.table.labels[3..6], ["i0", "i1", "col6"]);
}

#[test]
fn xdi_structure() {
    let text = std::fs::read_to_string(common::data("xas/xdi/cu_romanglass.xdi")).unwrap();
    let x = carto::io::xdi::parse(&text, "cu_romanglass.xdi", &LoadOptions::default()).unwrap();
    assert_eq!(x.version, "1.0");
    assert_eq!(x.table.labels[1], "mufluor");
    assert_eq!(x.column_units[0], "eV");
    assert!(
        x.comments
            .iter()
            .any(|c| c.contains("Dead-time correction applied"))
    );
    assert!(x.fields.iter().any(|(k, _)| k == "Beamline.name"));
    // GSE StepScan XDI: `|| PV` is not part of label or units.
    let text = std::fs::read_to_string(common::data("xas/beamlines/APS13ID_2019.dat")).unwrap();
    let x = carto::io::xdi::parse(&text, "APS13ID_2019.dat", &LoadOptions::default()).unwrap();
    assert_eq!(x.version, "1.1");
    assert_eq!(x.table.labels[2], "I0");
    assert_eq!(x.column_units[2], "counts");
}

#[test]
fn repeated_energies_are_nudged_not_rejected() {
    // MRCAT starts with three rows at 6389.9975 eV.
    let x = xas("xas/beamlines/APS10BM_2019.dat", &LoadOptions::default());
    assert_eq!(x.energy_ev[0], 6389.9975);
    assert!(close(x.energy_ev[1], 6389.9975 + 1e-6, 1e-12));
    assert!(close(x.energy_ev[2], 6389.9975 + 2e-6, 1e-12));
}

#[test]
fn mu_mode_overrides() {
    let rel = "xas/xdi/cu_romanglass.xdi";
    let row = 236;
    let with = |m| LoadOptions {
        mu_mode: Some(m),
        ..Default::default()
    };
    let x = xas(rel, &with(MuMode::Transmission));
    assert_eq!(x.recipe, MuRecipe::Transmission { i0: 5, it: 6 });
    assert!(close(x.mu[row], 4.117143847342244, 1e-9));
    let x = xas(rel, &with(MuMode::Fluorescence));
    assert_eq!(
        x.recipe,
        MuRecipe::Fluorescence {
            i_f: vec![3],
            i0: 5
        }
    );
    assert!(close(x.mu[row], 12.90622094049791, 1e-9));
    let x = xas(rel, &with(MuMode::Reference));
    assert_eq!(x.recipe, MuRecipe::Reference { it: 6, iref: 7 });
    assert!(close(x.mu[row], -5.399312878092074, 1e-9));
    let x = xas(rel, &with(MuMode::Column));
    assert_eq!(x.recipe, MuRecipe::Column { mu: 1 });

    // Fluorescence on a 57-column GSE file picks the absorber's (As Ka) ROIs.
    let x = xas(
        "xas/columns/scorodite_as_xafs.001",
        &with(MuMode::Fluorescence),
    );
    assert_eq!(recipe_code(&x.recipe), "fluor:44-56/3");
    assert!(close(x.mu[148], 7.371246135442075, 1e-9));

    // Missing counters are named.
    let e = load(
        &common::data("xas/xdi/v_foil.xdi"),
        &with(MuMode::Fluorescence),
    )
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("if"), "{e}");
    let e = load(&common::data("xas/columns/fe.060"), &with(MuMode::Column)).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("mu"), "{e}");
    let e = load(
        &common::data("xas/columns/fe.060"),
        &with(MuMode::Reference),
    )
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("iref"), "{e}");
}

#[test]
fn columns_override() {
    let opts = LoadOptions {
        columns: Some("energy i0 itrans".into()),
        ..Default::default()
    };
    let x = xas("xas/beamlines/generic_columns_no_header.dat", &opts);
    assert_eq!(&x.table.labels[..4], ["energy", "i0", "itrans", "col4"]);
    assert_eq!(x.recipe, MuRecipe::Transmission { i0: 1, it: 2 });
    assert!(close(x.mu[99], 3.164782280937e-02, 1e-9));

    // Renaming the columns of a labelled file changes the recipe.
    let opts = LoadOptions {
        columns: Some("energy junk xmu i0".into()),
        ..Default::default()
    };
    let x = xas("xas/columns/cu_rt01.xmu", &opts);
    assert_eq!(x.table.labels, ["energy", "junk", "xmu"]);
    assert_eq!(x.recipe, MuRecipe::Column { mu: 2 });
    assert!(close(x.mu[0], 149013.70, 1e-12));

    // XDI too.
    let opts = LoadOptions {
        columns: Some("e a b mu".into()),
        ..Default::default()
    };
    let x = xas("xas/xdi/cu_metal_rt.xdi", &opts);
    assert_eq!(x.table.labels, ["e", "a", "b", "mu"]);
    assert_eq!(x.recipe, MuRecipe::Column { mu: 3 });
    // Labels that name nothing useful: the error says what is missing.
    let opts = LoadOptions {
        columns: Some("e a b c".into()),
        ..Default::default()
    };
    let e = load(&common::data("xas/xdi/cu_metal_rt.xdi"), &opts).unwrap_err();
    assert_eq!(e.field.as_deref(), Some("i0"), "{e}");
}

const GOOD: &str =
    "# energy i0 it\n7000 100 50\n7001 100 51\n7002 100 52\n7003 100 53\n7004 100 54\n";

#[test]
fn small_synthetic_file_loads() {
    let d = load_bytes(GOOD.as_bytes(), "good.dat", &LoadOptions::default()).unwrap();
    let Dataset::Xas(x) = d else {
        panic!("not xas")
    };
    assert_eq!(x.recipe, MuRecipe::Transmission { i0: 1, it: 2 });
    assert_eq!(x.table.row_lines, [2, 3, 4, 5, 6]);
    assert!(close(x.mu[1], (100.0f64 / 51.0).ln(), 1e-12));
}

#[test]
fn descending_scan_is_reversed() {
    let text = "# energy i0 it\n7004 100 54\n7003 100 53\n7002 100 52\n7001 100 51\n";
    let Dataset::Xas(x) = load_bytes(text.as_bytes(), "down.dat", &LoadOptions::default()).unwrap()
    else {
        panic!()
    };
    assert_eq!(x.energy_ev, [7001.0, 7002.0, 7003.0, 7004.0]);
    assert!(close(x.mu[0], (100.0f64 / 51.0).ln(), 1e-12));
    assert_eq!(x.table.row_lines, [5, 4, 3, 2]);
}

#[test]
fn malformed_truncated_row() {
    let text = "# energy i0 it\n7000 100 50\n7001 100 51\n7002 100\n7003 100 53\n7004 100 54\n7005 100 55\n";
    let e = err(text, &LoadOptions::default());
    assert_eq!(
        (e.file.as_str(), e.line, e.field.as_deref()),
        ("bad.dat", Some(4), Some("it")),
        "{e}"
    );
    // Truncated last line (file cut short).
    let text = "# energy i0 it\n7000 100 50\n7001 100 51\n7002 100 52\n7003 10";
    let e = err(text, &LoadOptions::default());
    assert_eq!((e.line, e.field.as_deref()), (Some(5), Some("it")), "{e}");
}

#[test]
fn malformed_non_numeric_token() {
    let text = "# energy i0 it\n7000 100 50\n7001 100 51\n7002 1O0 52\n7003 100 53\n7004 100 54\n7005 100 55\n";
    let e = err(text, &LoadOptions::default());
    assert_eq!((e.line, e.field.as_deref()), (Some(4), Some("i0")), "{e}");
    assert!(e.message.contains("1O0"), "{e}");
    // Near the end of the block.
    let text = "# energy i0 it\n7000 100 50\n7001 100 51\n7002 100 52\n7003 100 5x3\n7004 100 54\n";
    let e = err(text, &LoadOptions::default());
    assert_eq!((e.line, e.field.as_deref()), (Some(5), Some("it")), "{e}");
}

#[test]
fn malformed_rows_anywhere_in_the_block() {
    // Two damaged rows in a row, the longer good part below them.
    let mut text =
        String::from("# energy i0 it\n7000 100 50\n7001 100 51\n7002 100 -\n7003 100 x\n");
    for i in 4..20 {
        text.push_str(&format!("{} 100 {}\n", 7000 + i, 50 + i));
    }
    let e = err(&text, &LoadOptions::default());
    assert_eq!((e.line, e.field.as_deref()), (Some(4), Some("it")), "{e}");
    // Second row damaged: one good row above it still marks the data start.
    let text = "# energy i0 it\n7000 100 50\n7001 abc 51\n7002 100 52\n7003 100 53\n7004 100 54\n";
    let e = err(text, &LoadOptions::default());
    assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("i0")), "{e}");
    // An extra field.
    let text =
        "# energy i0 it\n7000 100 50\n7001 100 51\n7002 100 52 9\n7003 100 53\n7004 100 54\n";
    let e = err(text, &LoadOptions::default());
    assert_eq!((e.line, e.field.as_deref()), (Some(4), Some("col4")), "{e}");
}

#[test]
fn malformed_nan_and_inf() {
    let text = "# energy i0 it\n7000 100 50\n7001 NaN 51\n7002 100 52\n";
    let e = err(text, &LoadOptions::default());
    assert_eq!((e.line, e.field.as_deref()), (Some(3), Some("i0")), "{e}");
    let text = "# energy i0 it\n7000 100 50\n7001 100 51\n7002 100 inf\n";
    let e = err(text, &LoadOptions::default());
    assert_eq!((e.line, e.field.as_deref()), (Some(4), Some("it")), "{e}");
}

#[test]
fn malformed_empty_and_header_only() {
    let e = err("", &LoadOptions::default());
    assert_eq!(e.file, "bad.dat");
    let e = err(
        "# energy i0 it\n# nothing measured\n\n",
        &LoadOptions::default(),
    );
    assert!(e.message.contains("no numeric data"), "{e}");
    let e = err(
        "# XDI/1.0\n# Column.1: energy eV\n#----\n# energy\n",
        &LoadOptions::default(),
    );
    assert!(e.message.contains("no data"), "{e}");
}

#[test]
fn malformed_decreasing_energy() {
    let text = "# energy i0 it\n7000 100 50\n7001 100 51\n7002 100 52\n6990 100 53\n7004 100 54\n7005 100 55\n";
    let e = err(text, &LoadOptions::default());
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(5), Some("energy")),
        "{e}"
    );
}

#[test]
fn malformed_binary_junk() {
    let mut bytes = b"# energy i0 it\n7000 100 50\n".to_vec();
    bytes.extend([0u8, 0xff, 0x13, 0x00, b'\n', 0x9c]);
    let e = load_bytes(&bytes, "junk.bin", &LoadOptions::default()).unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("junk.bin", Some(3)), "{e}");
    // Junk without NUL bytes: no numbers to find.
    let junk: Vec<u8> = (0..400u32).map(|i| (0x80 + (i * 37) % 120) as u8).collect();
    let e = load_bytes(&junk, "junk.bin", &LoadOptions::default()).unwrap_err();
    assert_eq!(e.file, "junk.bin");
}

#[test]
fn non_positive_counter_is_located() {
    let text = "# energy i0 it\n7000 100 50\n7001 100 51\n7002 100 0\n7003 100 53\n";
    let opts = LoadOptions {
        mu_mode: Some(MuMode::Transmission),
        ..Default::default()
    };
    let e = err(text, &opts);
    assert_eq!((e.line, e.field.as_deref()), (Some(4), Some("it")), "{e}");
    // Auto mode has no other recipe to fall back on: same error.
    let e = err(text, &LoadOptions::default());
    assert_eq!((e.line, e.field.as_deref()), (Some(4), Some("it")), "{e}");
}

#[test]
fn malformed_xdi_row() {
    let text = "# XDI/1.0\n# Column.1: energy eV\n# Column.2: i0\n# Column.3: itrans\n#----\n# energy i0 itrans\n\
                7000 100 50\n7001 100 51\n7002 100 x\n7003 100 53\n";
    let e = err(text, &LoadOptions::default());
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(9), Some("itrans")),
        "{e}"
    );
    let e = err(
        "# XDI/1.0\n# Column.x: energy\n#---\n1 2\n3 4\n",
        &LoadOptions::default(),
    );
    assert_eq!(
        (e.line, e.field.as_deref()),
        (Some(2), Some("Column.x")),
        "{e}"
    );
}

#[test]
fn parsing_is_fast() {
    let mut text = String::from("# energy i0 it if\n");
    for i in 0..1000 {
        let e = 7000.0 + i as f64 * 0.5;
        text.push_str(&format!(
            "{e:.4} {:.1} {:.1} {:.3}\n",
            1.0e5 + i as f64,
            5.0e4 - i as f64,
            12.5 + i as f64
        ));
    }
    let opts = LoadOptions::default();
    let start = Instant::now();
    let n = 50;
    for _ in 0..n {
        load_bytes(text.as_bytes(), "fast.dat", &opts).unwrap();
    }
    let per_file = start.elapsed() / n;
    println!("1000-row file: {per_file:?} per load");
    assert!(per_file.as_millis() < 5, "too slow: {per_file:?}");
}

#[test]
fn xdi_energy_units_and_mono_angle() {
    let kev = "# XDI/1.0\n# Column.1: energy keV\n# Column.2: i0\n# Column.3: itrans\n#----\n# energy i0 itrans\n\
               7.000 100 50\n7.001 100 51\n7.002 100 52\n";
    let Dataset::Xas(x) = load_bytes(kev.as_bytes(), "kev.xdi", &LoadOptions::default()).unwrap()
    else {
        panic!()
    };
    assert_eq!(x.energy_unit, EnergyUnit::Kev);
    assert!(close(x.energy_ev[1], 7001.0, 1e-12));

    // Angle in degrees with the recorded d-spacing (Si(311)).
    let deg = "# XDI/1.0\n# Mono.d_spacing: 1.637418\n# Column.1: angle degrees\n# Column.2: i0\n# Column.3: itrans\n\
               #----\n# angle i0 itrans\n36.0 100 50\n35.9 100 51\n35.8 100 52\n";
    let Dataset::Xas(x) = load_bytes(deg.as_bytes(), "deg.xdi", &LoadOptions::default()).unwrap()
    else {
        panic!()
    };
    assert_eq!(x.energy_unit, EnergyUnit::MonoDeg);
    let want = 12_398.419_843_320_026 / (2.0 * 1.637418 * 36.0f64.to_radians().sin());
    assert!(
        close(x.energy_ev[0], want, 1e-12),
        "{} vs {want}",
        x.energy_ev[0]
    );
    // The angle went down, so energy rises in file order.
    assert_eq!(x.table.row_lines, [8, 9, 10]);
    assert!(x.energy_ev[2] > x.energy_ev[0]);
}

#[test]
fn odd_encodings_load() {
    // BOM + CRLF.
    let text = "\u{feff}# XDI/1.0\r\n# Column.1: energy eV\r\n# Column.2: mutrans\r\n#----\r\n# energy mutrans\r\n7000 0.1\r\n7001 0.2\r\n";
    let Dataset::Xas(x) = load_bytes(text.as_bytes(), "bom.xdi", &LoadOptions::default()).unwrap()
    else {
        panic!()
    };
    assert_eq!(x.mu, [0.1, 0.2]);
    // Bare CR line ends, Fortran D exponents, Latin-1 header.
    let mut bytes = b"# sample at 25 \xb0C\r# energy mu\r.7000D+04 .1D+00\r.7001D+04 .2D+00\r.7002D+04 .3D+00\r".to_vec();
    bytes.push(b'\r');
    let Dataset::Xas(x) = load_bytes(&bytes, "mac.dat", &LoadOptions::default()).unwrap() else {
        panic!()
    };
    assert_eq!(x.energy_ev, [7000.0, 7001.0, 7002.0]);
    assert_eq!(x.recipe, MuRecipe::Column { mu: 1 });
}

#[test]
fn chi_detection_needs_a_k_grid() {
    // A goniometer `chi` motor column does not make a μ(E) file χ(k).
    let text = "# energy chi i0 it\n7000 12 100 50\n7001 12 100 51\n7002 12 100 52\n";
    let d = load_bytes(text.as_bytes(), "motor.dat", &LoadOptions::default()).unwrap();
    assert_eq!(d.modality(), "xas");
    // Unlabelled k grid with χ.
    let text: String = (0..100)
        .map(|i| format!("{:.2} {:.5}\n", i as f64 * 0.05, (i as f64).sin() * 0.1))
        .collect();
    let Dataset::Chi(c) =
        load_bytes(text.as_bytes(), "plain.chi", &LoadOptions::default()).unwrap()
    else {
        panic!("not chi")
    };
    assert_eq!(c.k_inv_ang.len(), 100);
    assert!(close(c.chi[10], 10f64.sin() * 0.1, 1e-5));
    // Decreasing k is an error at the row.
    let text = "# k chi\n0.0 0.1\n0.05 0.2\n0.04 0.3\n";
    let e = err(text, &LoadOptions::default());
    assert_eq!((e.line, e.field.as_deref()), (Some(4), Some("k")), "{e}");
}

#[test]
fn xdi_chi_file_loads_as_chi() {
    let mut text = String::from(
        "# XDI/1.0\n# Column.1: k inverse Angstrom\n# Column.2: chi\n#----\n# k chi\n",
    );
    for i in 0..40 {
        text.push_str(&format!("{:.2} {:.4}\n", i as f64 * 0.05, 0.01 * i as f64));
    }
    let Dataset::Chi(c) = load_bytes(text.as_bytes(), "chi.xdi", &LoadOptions::default()).unwrap()
    else {
        panic!("not chi")
    };
    assert_eq!(c.k_inv_ang.len(), 40);
    assert!(close(c.chi[39], 0.39, 1e-12));
}
