#!/usr/bin/env python
"""Regenerate tests/fixtures/ops/larch_ops.json: Larch's merge_groups,
energy_align, rebin_xafs and deglitch results on the shared real data.

Run from the repository root with xraylarch installed:
    python tools/make_ops_fixtures.py [DATA_ROOT]
DATA_ROOT defaults to ../shared/data. Only outputs (and the few scalar inputs
such as e0) are stored; the tests read the spectra from the shared data.
"""
import json
import math
import os
import sys

import numpy as np
import larch
from larch import Group
from larch.io import merge_groups
from larch.math import index_nearest
from larch.math.deglitch import (remove_spikes_medfilt1d, remove_spikes_numpy,
                                 remove_spikes_scipy)
from larch.xafs import energy_align, find_e0, rebin_xafs

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.join('..', 'shared', 'data')
OUT = os.path.join('tests', 'fixtures', 'ops', 'larch_ops.json')


def cols(rel):
    return np.loadtxt(os.path.join(ROOT, rel), comments='#')


def arr(a):
    """list of floats, NaN/Inf as null (JSON has no NaN)"""
    return [None if not math.isfinite(v) else float(v) for v in np.asarray(a, dtype=float)]


def cu(name):
    d = cols(f'xas/columns/{name}.xmu')
    return Group(energy=d[:, 0].copy(), mu=d[:, 1].copy())


def fexanes(tag):
    # mu = Sum_Fe_Ka / I0 (columns 8 and 3 of the XDI file)
    d = cols(f'xas/series/fexanes_{tag}.001')
    return Group(energy=d[:, 0].copy(), mu=d[:, 7] / d[:, 2])


def with_dmude(g):
    # Larch 2026.3 energy_align builds dmude with an unimported `gradient`
    # (NameError); this is the array it means to build.
    g.dmude = np.gradient(g.mu) / np.gradient(g.energy)
    return g


out = {'larch_version': larch.__version__}

# ---- merge ------------------------------------------------------------
merges = {}
for name, master, groups in (
        ('fexanes_abcde', 0, [fexanes(t) for t in 'abcde']),
        ('fexanes_abcde_master_c', 2, [fexanes(t) for t in 'abcde']),
        ('cu_10k_50k', 0, [cu('cu_10k'), cu('cu_50k')]),
        ('cu_50k_10k', 0, [cu('cu_50k'), cu('cu_10k')])):
    m = merge_groups(groups, master=groups[master])
    merges[name] = dict(master=master, energy=arr(m.energy), mu=arr(m.mu),
                        mu_std=arr(m.mu_std))
# a repeated energy makes the cubic merge ring: Larch falls back to linear
dup = cu('cu_50k')
dup.energy[300] = dup.energy[299]
m = merge_groups([cu('cu_10k'), dup], master=None)
merges['cu_10k_50k_dup300'] = dict(master=0, energy=arr(m.energy), mu=arr(m.mu),
                                   mu_std=arr(m.mu_std))
out['merge'] = merges

# ---- align ------------------------------------------------------------
ref = cu('cu_10k')
ref.e0 = float(find_e0(ref.energy, ref.mu))
with_dmude(ref)
aligns = {}
for name, g in (('cu_50k_to_cu_10k', cu('cu_50k')),
                ('cu_10k_plus_1.7_to_cu_10k', cu('cu_10k')),
                ('cu_50k_minus_2.3_to_cu_10k', cu('cu_50k'))):
    if 'plus_1.7' in name:
        g.energy = g.energy + 1.7
    if 'minus_2.3' in name:
        g.energy = g.energy - 2.3
    with_dmude(g)
    aligns[name] = dict(ref_e0=ref.e0, eshift=float(energy_align(g, ref)))
out['align'] = aligns

# ---- rebin ------------------------------------------------------------
rebins = {}
for name in ('cu_10k', 'cu_50k'):
    g = cu(name)
    e0 = float(find_e0(g.energy, g.mu))
    res = dict(e0=e0)
    for method in ('boxcar', 'centroid', 'spline'):
        rebin_xafs(g, e0=e0, method=method)
        r = g.rebinned
        res['energy'] = arr(r.energy)
        res['delta_mu'] = arr(r.delta_mu)
        res['mu_' + method] = arr(r.mu)
    rebins[name] = res
# non-default grid parameters
g = cu('cu_10k')
e0 = rebins['cu_10k']['e0']
kws = dict(pre1=-150, pre2=-20, pre_step=5, xanes_step=0.5, exafs1=25,
           exafs2=700, exafs_kstep=0.1)
rebin_xafs(g, e0=e0, method='centroid', **kws)
rebins['cu_10k_custom'] = dict(e0=e0, params=kws, energy=arr(g.rebinned.energy),
                               mu_centroid=arr(g.rebinned.mu),
                               delta_mu=arr(g.rebinned.delta_mu))
out['rebin'] = rebins

# ---- deglitch ---------------------------------------------------------
spikes = {100: 1.3, 250: 0.7, 400: 1.5, 401: 1.02}


def spiky_cu10k():
    mu = cu('cu_10k').mu
    for i, f in spikes.items():
        mu[i] *= f
    return mu


def changed(before, after):
    idx = np.where(before != after)[0]
    return dict(indices=[int(i) for i in idx], values=arr(after[idx]))


deg = {'spikes': {str(k): v for k, v in spikes.items()}}
mu = spiky_cu10k()
deg['silx_cu_10k_spiky'] = changed(mu, remove_spikes_medfilt1d(mu.copy()))
deg['silx_cu_10k_spiky_k5_t0.02'] = changed(
    mu, remove_spikes_medfilt1d(mu.copy(), kernel_size=5, threshold=0.02))
fx = fexanes('a').mu
deg['silx_fexanes_a'] = changed(fx, remove_spikes_medfilt1d(fx.copy()))
deg['scipy_cu_10k_spiky'] = changed(mu, remove_spikes_scipy(mu.copy()))
deg['scipy_cu_10k_spiky_w5_t0.05'] = changed(
    mu, remove_spikes_scipy(mu.copy(), window=5, threshold=0.05))
deg['numpy_cu_10k_spiky_w5_t0.05'] = changed(
    mu, remove_spikes_numpy(mu.copy(), window=5, threshold=0.05))

# Point removal as Larch's DeglitchFrame.on_remove does it (wxxas/datatasks.py):
# masks accumulate on the original arrays.
energy = cu('cu_10k').energy
mask = np.ones(len(energy), dtype=bool)
ops = [['energy', 9000.3], ['above', 11300.0], ['below', 8800.0],
       ['between', 9500.0, 9480.0]]
for op in ops:
    x1 = index_nearest(energy, op[1])
    x2 = None
    if op[0] == 'energy':
        mask[x1] = False
        continue
    if op[0] == 'below':
        x2, x1 = x1, x2
    elif op[0] == 'between':
        x2 = index_nearest(energy, op[2])
        if x1 > x2:
            x1, x2 = x2, x1
    mask[x1:x2] = False
deg['remove_cu_10k'] = dict(ops=ops, kept=[int(i) for i in np.where(mask)[0]])
out['deglitch'] = deg

os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as fh:
    json.dump(out, fh, separators=(',', ':'))
    fh.write('\n')
print('wrote', OUT, os.path.getsize(OUT), 'bytes')
