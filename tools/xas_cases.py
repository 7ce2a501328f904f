"""Case table shared by make_larch_fixtures.py and bench_larch.py.

Each case names a real measured file under the data root (see
../shared/data/SOURCES.md) and the recipe used to build mu(E) from it.

Column indices are 0-based into the file's numeric columns in file order
(what larch.io.read_ascii puts in group.data, row by row).

mu recipes:
  {"kind": "column", "mu": j}                     mu = col[j]
  {"kind": "transmission", "i0": a, "it": b}      mu = ln(col[a] / col[b])
  {"kind": "fluorescence", "i_f": [..], "i0": a}  mu = sum(col[i] for i in i_f) / col[a]
  {"kind": "reference", "it": a, "iref": b}       mu = ln(col[a] / col[b])
  {"kind": "athena"}                              group.energy, group.mu from read_athena
"""


def col(file, mu, why, energy_col=0, energy_scale=1.0, exafs=True, id=None):
    return dict(id=id, file=file, group=None, energy_col=energy_col,
                energy_scale=energy_scale, mu=mu, exafs=exafs, why=why)


def ath(id, file, label, why, exafs=True):
    return dict(id=id, file=file, group=label, energy_col=None,
                energy_scale=1.0, mu={"kind": "athena"}, exafs=exafs, why=why)


T = lambda i0, it: {"kind": "transmission", "i0": i0, "it": it}
F = lambda i_f, i0: {"kind": "fluorescence", "i_f": list(i_f), "i0": i0}
R = lambda it, iref: {"kind": "reference", "it": it, "iref": iref}
M = lambda j: {"kind": "column", "mu": j}

CASES = [
    # ---- plain column files: mu(E) already computed by the author
    col("xas/columns/cu_10k.xmu", M(1), "columns: energy, mu", id="cu_10k_xmu"),
    col("xas/columns/cu_50k.xmu", M(1), "columns: energy, mu", id="cu_50k_xmu"),
    col("xas/columns/cu_rt01.xmu", M(1), "columns: energy, mu, i0", id="cu_rt01_xmu"),
    col("xas/columns/fe2o3_rt1.xmu", M(1), "columns: energy, mu, i0", id="fe2o3_rt1_xmu"),
    col("xas/columns/feo_xafs.dat", M(1), "columns: energy, mu", id="feo_xafs_dat"),
    col("xas/columns/mn_cpmnco3.dat", M(1), "columns: E, xmu(trans)", id="mn_cpmnco3_dat"),
    col("xas/columns/cu2s_xafs.dat", M(1), "columns: energy, log(i0/it), log(it/ir), i0; sample mu = log(i0/it)", id="cu2s_xafs_dat"),
    col("xas/columns/sno2_l3.dat", M(1), "columns: energy, mu; Sn L3, only ~240 eV above the edge (kmax ~8)", id="sno2_l3_dat"),
    col("xas/columns/EMG003.txt", M(1), "columns: energy, mu; Fe K XANES only (175 eV) -> pre_edge only",
        exafs=False, id="emg003_txt"),
    # ---- raw counters in column files
    col("xas/columns/znse_zn_xafs.001", T(2, 3), "raw: energy, time, i0, i1 -> transmission ln(i0/i1)", id="znse_zn_xafs_001"),
    col("xas/columns/scorodite_as_xafs.001", T(3, 4),
        "raw: energy, times, i0, i1, 52 MCA ROIs -> transmission ln(i0/i1) (edge step ~0.42)", id="scorodite_as_xafs_001"),
    col("xas/columns/fe.060", T(1, 2), "raw NSLS X-11A (XDAC): energy, i0, it -> transmission", id="fe_060"),
    # ---- XDI
    col("xas/xdi/cu_metal_rt.xdi", T(1, 2),
        "XDI: energy, i0, itrans, mutrans -> transmission ln(i0/itrans) (equals mutrans to 4e-12)", id="cu_metal_rt_xdi"),
    col("xas/xdi/feo_rt1.xdi", M(1), "XDI: energy, mutrans, i0 -> mutrans column", id="feo_rt1_xdi"),
    col("xas/xdi/se_na2so4_rt.xdi", T(2, 3), "XDI: energy, time, i0, itrans -> transmission", id="se_na2so4_rt_xdi"),
    col("xas/xdi/v_foil.xdi", T(2, 3), "XDI: energy, time, i0, i1 -> transmission", id="v_foil_xdi"),
    col("xas/xdi/cu_romanglass.xdi", F([3], 5),
        "XDI: dilute Cu in glass; fluorescence ifluor/i0 (transmission step only 0.08); k to ~9.8",
        id="cu_romanglass_xdi"),
    # ---- beamline dialects (raw counters)
    col("xas/beamlines/APS20BM_2001.dat", T(2, 3), "APS 20-BM: Mono Energy, preset time, I0, I1, If -> transmission ln(I0/I1)",
        id="aps20bm_2001"),
    col("xas/beamlines/APS9BM_2019.dat", T(4, 5), "APS 9-BM: I0-32, It-32, Iref-32, If-32 -> transmission ln(I0/It) (Mn K)",
        id="aps9bm_2019"),
    col("xas/beamlines/APS10BM_2019.dat", T(1, 2),
        "APS 10-BM (MRCAT) quick scan, 3464 points, first 3 energies identical (Larch remove_dups nudges them) -> transmission ln(Io/It)",
        id="aps10bm_2019"),
    col("xas/beamlines/APS20ID_2018.dat", F([8], 5),
        "APS 20-ID: IT is negative in many rows (no transmission); fluorescence XMAP4:AsKa_Sum / PreKB-I0; k to ~10",
        id="aps20id_2018"),
    col("xas/beamlines/NSLS6BM_2019.dat", F([7, 8, 9, 10], 4),
        "NSLS-II 6-BM: It/Ir carry ~0 currents; fluorescence (DTC1+DTC2+DTC3+DTC4)/I0, which equals the file's xmu column. "
        "V K edge, but a second edge (Cr K, ~5990 eV) sits at k~12 and wrecks chi(k) -> pre_edge only",
        exafs=False, id="nsls6bm_2019"),
    col("xas/beamlines/CLSHXMA.dat", T(4, 5),
        "CLS HXMA, comma-separated: Event-ID, AbsEnergyName, EnergyFeedback, EnergyAchieved, Detector1..4, ...; "
        "energy = AbsEnergyName (col 1), transmission ln(Detector1/Detector2) (As K)",
        energy_col=1, id="clshxma"),
    col("xas/beamlines/NSLS_XDAC_2011.dat", F([3, 4, 5, 6], 1),
        "NSLS XDAC: transmission step only 0.012 (dilute); fluorescence (IFCH1..4)/I0", id="nsls_xdac_2011"),
    col("xas/beamlines/ESRF_BM08_LISA_2021.dat", R(4, 5),
        "ESRF BM08: sample mu (ln(I0/I1)) has step 7e-4 (too small); reference ln(I1_EH2/IR_EH2) = file's mu_ref column (Ge K foil)",
        id="esrf_bm08_2021_ref"),
    col("xas/beamlines/SSRL1_2006.dat", T(3, 4),
        "SSRL: columns real time clock, requested E, achieved E, I0, I1, I2; energy = achieved energy (col 2); transmission ln(I0/I1), Ag K",
        energy_col=2, id="ssrl1_2006"),
    col("xas/series/fexanes_a.001", F([7], 2), "Fe K XANES series scan a: Sum_Fe_Ka / I0 -> pre_edge only",
        exafs=False, id="fexanes_a_001"),
    # ---- Athena projects
    ath("athena_copper_cu012", "athena/Copper.prj", "cu.012", "Cu foil EXAFS"),
    ath("athena_fe_foil", "athena/Fe.prj", "Fe foil", "Fe foil EXAFS; project has bkg_eshift=5.81 (NOT applied by read_athena)"),
    ath("athena_au_foil", "athena/Au.prj", "Au foil", "Au L3 foil; bkg_eshift=-0.924 (not applied)"),
    ath("athena_nio_000", "athena/NiO.prj", "NiO.000", "NiO Ni K; bkg_eshift=1.252 (not applied)"),
    ath("athena_se_znse", "athena/Se_Standards.prj", "Se ZnSe (merge6)", "Se K merged standard"),
    ath("athena_arsenopyrite", "athena/AsKa_standards.prj", "Arsenopyrite.001", "As K standard"),
    ath("athena_fes2", "athena/FeS2.prj", "fes2_rt01_mar02.xmu", "FeS2 Fe K"),
    ath("athena_mno", "athena/MnO_bv.prj", "mno.xmu", "MnO Mn K"),
    ath("athena_kmno4_102", "athena/Mn_all.prj", "KMnO4.102", "KMnO4 Mn K quick-scan, ~3400 points"),
    ath("athena_eu2o3_l3", "athena/Eu_standards_athena.prj", "Eu2O3_eu_l3.001", "Eu L3 standard (stops before the L2 edge)"),
    ath("athena_json_fe_merge", "athena/json_unzipped.prj", "merge",
        "JSON-format Athena project (not the Perl dump); merged Fe K scans to ~630 eV above the edge"),
    ath("athena_ceo2_l3", "athena/athena3.prj", "CeO2", "Ce L3 (stops before the L2 edge); bkg_eshift=-0.408 (not applied)"),
    ath("athena_cyano_012", "athena/cyanobacteria.prj", "0.12", "Au L3 in cyanobacteria (dilute, fluorescence); bkg_eshift=-0.23 (not applied)"),
    ath("athena_fe3c", "athena/fe_athena.prj", "fe3c_rt.xdi", "Fe3C Fe K"),
    ath("athena_vglass_all45", "athena/Vglasses.prj", "ALL_45 NNO+3.8", "V K XANES of a glass (150 eV above edge) -> pre_edge only",
        exafs=False),
    ath("athena_cuherfd_cufoil", "athena/CuHERFD_standards.prj", "CuHERFD_CuFoil.003", "Cu HERFD XANES -> pre_edge only",
        exafs=False),
]
