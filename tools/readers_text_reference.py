#!/usr/bin/env python
"""Independent reference values for tests/readers_text.rs.

Reads each shared-data file with a minimal numpy parser (the last block of
numeric lines, as Larch's read_ascii does), applies the column roles chosen
by hand from the file headers, and prints one Rust tuple per file:
(path, npts, first_energy_ev, last_energy_ev, recipe, row, mu_at_row).

Run: /work/venv/larch/bin/python tools/readers_text_reference.py [DATA_DIR]
"""
import sys
import numpy as np

DATA = sys.argv[1] if len(sys.argv) > 1 else '../shared/data'
HC = 12398.419843320026  # eV·Å, CODATA 2018 (as carto::units)


def numeric_block(path):
    """Bottom-up: the last contiguous run of all-numeric lines."""
    rows = []
    text = open(path, encoding='latin-1').read()
    for line in reversed(text.splitlines()):
        line = line.strip().strip('\x1a')
        if not line:
            continue
        try:
            rows.append([float(t.replace('D', 'E')) for t in line.replace(',', ' ').split()])
        except ValueError:
            if rows:
                break
    rows.reverse()
    return np.array(rows).T


def trans(i0, it):
    return lambda d: np.log(d[i0] / d[it]), f'trans:{i0},{it}'


def fluor(chans, i0):
    return lambda d: d[chans].sum(axis=0) / d[i0], f'fluor:{chans[0]}-{chans[-1]}/{i0}'


def col(c):
    return lambda d: d[c], f'column:{c}'


# file -> (energy column, energy transform, mu recipe)
EV = lambda x: x
FILES = {
    'xas/xdi/cu_metal_rt.xdi': (0, EV, col(3)),
    'xas/xdi/cu_romanglass.xdi': (0, EV, col(1)),
    'xas/xdi/fe_xanes_8ch.xdi': (0, EV, fluor(list(range(15, 23)), 4)),
    'xas/xdi/feo_rt1.xdi': (0, EV, col(1)),
    'xas/xdi/se_na2so4_rt.xdi': (0, EV, trans(2, 3)),
    'xas/xdi/v_foil.xdi': (0, EV, trans(2, 3)),
    'xas/columns/EMG003.txt': (0, EV, col(1)),
    'xas/columns/cu.xmu': (0, EV, col(1)),
    'xas/columns/cu2s_xafs.dat': (0, EV, col(1)),
    'xas/columns/cu_10k.xmu': (0, EV, col(1)),
    'xas/columns/cu_50k.xmu': (0, EV, col(1)),
    'xas/columns/cu_rt01.xmu': (0, EV, col(1)),
    'xas/columns/fe.060': (0, EV, trans(1, 2)),
    'xas/columns/fe2o3_rt1.xmu': (0, EV, col(1)),
    'xas/columns/feo_exafs_pnccat2001.dat': (0, EV, trans(2, 3)),
    'xas/columns/feo_xafs.dat': (0, EV, col(1)),
    'xas/columns/incomplete_label.dat': (0, EV, trans(3, 4)),
    'xas/columns/mn_cpmnco3.dat': (0, EV, col(1)),
    'xas/columns/scorodite_as_xafs.001': (0, EV, trans(3, 4)),
    'xas/columns/sno2_l3.dat': (0, EV, col(1)),
    'xas/columns/znse_zn_xafs.001': (0, EV, trans(2, 3)),
    'xas/series/fexanes_a.001': (0, EV, fluor([7], 2)),
    'xas/series/fexanes_b.001': (0, EV, fluor([7], 2)),
    'xas/series/fexanes_c.001': (0, EV, fluor([7], 2)),
    'xas/series/fexanes_d.001': (0, EV, fluor([7], 2)),
    'xas/series/fexanes_e.001': (0, EV, fluor([7], 2)),
    'xas/beamlines/APS10BM_2019.dat': (0, EV, trans(1, 2)),
    'xas/beamlines/APS12BM_2019.dat': (0, lambda x: 1000 * x, fluor(list(range(11, 24)), 3)),
    'xas/beamlines/APS13ID_2008.dat': (0, EV, trans(2, 3)),
    'xas/beamlines/APS13ID_2019.dat': (0, EV, fluor([5, 6, 7, 8], 2)),
    'xas/beamlines/APS20BM_2001.dat': (0, EV, trans(2, 3)),
    'xas/beamlines/APS20ID_2018.dat': (0, EV, fluor([8], 5)),
    'xas/beamlines/APS9BM_2006.dat': (0, EV, fluor(list(range(23, 31)), 6)),
    'xas/beamlines/APS9BM_2019.dat': (0, EV, trans(4, 5)),
    'xas/beamlines/CLSHXMA.dat': (3, EV, trans(4, 5)),
    'xas/beamlines/ESRF_BM08_LISA_2021.dat': (0, EV, col(3)),
    'xas/beamlines/FDMNES_2022_Mo2C_out.dat': (0, lambda x: x + 20000.0, col(1)),
    'xas/beamlines/NSLS6BM_2019.dat': (0, EV, col(3)),
    'xas/beamlines/NSLS_XDAC_2011.dat': (0, EV, fluor([3, 4, 5, 6], 1)),
    'xas/beamlines/PF9A_2022.dat': (1, lambda t: HC / (2 * 3.13551 * np.sin(np.radians(t))), fluor([4], 3)),
    'xas/beamlines/PFBL12C_2005.dat': (1, lambda t: HC / (2 * 3.13551 * np.sin(np.radians(t))), trans(3, 4)),
    'xas/beamlines/SLS_PHOENIX_2023.dat': (0, EV, fluor([1], 3)),
    'xas/beamlines/SSRL1_2006.dat': (2, EV, trans(3, 4)),
    'xas/beamlines/generic_columns_no_header.dat': (0, EV, trans(1, 2)),
}

for rel, (ie, conv, (mu_fn, recipe)) in FILES.items():
    d = numeric_block(f'{DATA}/{rel}')
    e = conv(d[ie])
    mu = mu_fn(d)
    order = np.argsort(e, kind='stable')
    e, mu = e[order], mu[order]
    row = len(e) // 2
    print(f'    ("{rel}", {len(e)}, {e[0]:.9f}, {e[-1]:.9f}, "{recipe}", {row}, {mu[row]:.12e}),')

print('// chi files: (path, npts, k_first, k_last, row, chi_at_row)')
for rel in ['xas/chi/cu.chi', 'xas/chi/cu10k.chi', 'xas/chi/cu_chi.dat', 'xas/chi/nonuniform.chi']:
    d = numeric_block(f'{DATA}/{rel}')
    row = len(d[0]) // 2
    print(f'    ("{rel}", {len(d[0])}, {d[0][0]:.10f}, {d[0][-1]:.10f}, {row}, {d[1][row]:.12e}),')

print('// overrides on cu_romanglass.xdi at row 236: trans ln(i0/itrans), fluor ifluor/i0, ref ln(itrans/irefer)')
d = numeric_block(f'{DATA}/xas/xdi/cu_romanglass.xdi')
r = 236
print(np.log(d[5][r] / d[6][r]), d[3][r] / d[5][r], np.log(d[6][r] / d[7][r]))
print('// scorodite fluorescence: As Ka channels 44..56 / I0 at row 148')
d = numeric_block(f'{DATA}/xas/columns/scorodite_as_xafs.001')
print(d[44:57].sum(axis=0)[148] / d[3][148])
