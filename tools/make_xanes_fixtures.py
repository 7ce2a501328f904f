#!/usr/bin/env python
"""Reference values for XANES analysis (issue 13): Larch's linear combination
fitting (`lincombo_fit`, `lincombo_fitall`), PCA (`pca_train`, `pca_fit`) and
the pre-edge peak baseline (`pre_edge_baseline`) plus a baseline + peaks fit
as Larch's pre-edge peak tool builds it with lmfit, on the shared Athena
projects. Writes tests/fixtures/xanes/larch_xanes.json.

Every group is read with xraylarch's `read_athena` (no processing) and
normalized with Larch's `pre_edge` at its defaults, so the Rust tests can
run Carto's own pre_edge (which equals Larch's) on the same groups and
compare the analyses; e0 and the edge step of every group used are recorded
so a failure can be told apart from a normalization difference.

Usage (from the repository root; environment as in tools/README.md):
    /work/venv/larch/bin/python tools/make_xanes_fixtures.py [DATA_DIR]
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
import lmfit
import larch
from larch.io import read_athena
from larch.xafs import pre_edge
from larch.xafs.prepeaks import pre_edge_baseline
from larch.math.lincombo_fitting import lincombo_fit, lincombo_fitall
from larch.math.pca import pca_train, pca_fit

ROOT = Path(__file__).resolve().parent.parent


def data_dir():
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    env = os.environ.get('CARTO_TEST_DATA')
    if env:
        return Path(env)
    return ROOT.parent / 'shared' / 'data'


DATA = data_dir()



def project(name):
    """label -> group, normalized with Larch's pre_edge defaults."""
    p = read_athena(str(DATA / 'athena' / name), do_preedge=False, do_bkg=False,
                    do_fft=False)
    out = {}
    for g in p.groups.values():
        pre_edge(g)
        # lincombo/pca label groups by `filename` first: make it the Athena label
        g.filename = g.label
        out[g.label] = g
    return out


def norm_info(groups):
    return {g.label: {'e0': float(g.e0), 'edge_step': float(g.edge_step),
                      'npts': int(len(g.energy))} for g in groups}


def param(p):
    return {'value': float(p.value),
            'stderr': None if p.stderr is None else float(p.stderr)}


def lcf_result(r):
    return {
        'weights': {k: param(p) for k, p in r.params.items()
                    if k not in ('e0_shift', 'total')},
        'e0_shift': param(r.params['e0_shift']),
        'total': param(r.params['total']) if 'total' in r.params else None,
        'chisqr': float(r.chisqr),
        'redchi': float(r.redchi),
        'rfactor': float(r.rfactor),
        'npts': int(len(r.xdata)),
        'nfev': int(r.result.nfev),
    }


def lcf_cases():
    cases = []
    cy = project('cyanobacteria.prj')
    stds = [cy[k] for k in ('Au foil', 'Au1 Cl', 'Au3 Cl aq', 'Au hydroxide')]
    for sample in ('0.12', '9.33', '720'):
        g = cy[sample]
        for sum_to_one in (True, False):
            xmin, xmax = g.e0 - 20.0, g.e0 + 60.0
            r = lincombo_fit(g, stds, minvals=[0.0] * len(stds),
                             maxvals=[1.0 if sum_to_one else np.inf] * len(stds),
                             xmin=xmin, xmax=xmax, sum_to_one=sum_to_one)
            cases.append({
                'project': 'cyanobacteria.prj', 'sample': sample,
                'standards': [s.label for s in stds], 'arrayname': 'norm',
                'xmin': xmin, 'xmax': xmax, 'sum_to_one': sum_to_one,
                'vary_e0': False, 'min': 0.0,
                'result': lcf_result(r),
            })
    # derivative LCF and a varied e0 shift on one sample
    g = cy['720']
    xmin, xmax = g.e0 - 20.0, g.e0 + 60.0
    for arrayname, vary_e0 in (('dmude', False), ('norm', True)):
        r = lincombo_fit(g, stds, minvals=[0.0] * len(stds),
                         maxvals=[1.0] * len(stds), arrayname=arrayname,
                         xmin=xmin, xmax=xmax, sum_to_one=True, vary_e0=vary_e0)
        cases.append({
            'project': 'cyanobacteria.prj', 'sample': '720',
            'standards': [s.label for s in stds], 'arrayname': arrayname,
            'xmin': xmin, 'xmax': xmax, 'sum_to_one': True, 'vary_e0': vary_e0,
            'min': 0.0, 'result': lcf_result(r),
        })
    return cases, norm_info(list(cy.values()))


def lcf_all_cases():
    """All combinations of up to 3 of 6 Cu standards (the speed target's case)."""
    std = project('CuHERFD_standards.prj')
    smp = project('CuHERFD_samples.prj')
    names = ['CuHERFD_CuFoil.003', 'CuHERFD_CuS.001', 'CuHERFD_Cu2S.001',
             'CuHERFD_nanoCuO.001', 'CuHERFD_Cu(I)O.001', 'CuHERFD_Chalcopyrite.001']
    stds = [std[k] for k in names]
    cases = []
    for sample in ('CuHERFD_BORG01-32_sulfide.001',):
        g = smp[sample]
        xmin, xmax = g.e0 - 20.0, g.e0 + 60.0
        out = lincombo_fitall(g, stds, minvals=[0.0] * 6, maxvals=[1.0] * 6,
                              xmin=xmin, xmax=xmax, max_ncomps=3, sum_to_one=True,
                              max_output=100)
        cases.append({
            'project': 'CuHERFD_samples.prj', 'sample': sample,
            'standards_project': 'CuHERFD_standards.prj', 'standards': names,
            'arrayname': 'norm', 'xmin': xmin, 'xmax': xmax, 'max_ncomps': 3,
            'sum_to_one': True, 'min': 0.0, 'min_weight': 0.0005,
            'ranked': [lcf_result(r) for r in out],
        })
    info = norm_info(stds)
    info.update(norm_info([smp[c['sample']] for c in cases]))
    return cases, info


def malinowski_target_test(ydat, target, n):
    """Malinowski's target test (Anal. Chim. Acta 103, 339 (1978); Factor
    Analysis in Chemistry, 3rd ed., 2002, ch. 5), which Larch does not compute:
    abstract factor analysis of the raw (uncentered) data matrix D (energies x
    spectra) by SVD; RE = sqrt(sum of the c - n error eigenvalues / (r (c - n))),
    the target's least-squares prediction from the first n factors, AET its rms
    misfit, REP = RE |t| with t the transformation vector on the row factors
    U S, RET = sqrt(AET^2 - REP^2) (0 when AET < REP), SPOIL = RET / REP."""
    d = np.asarray(ydat).T
    r, c = d.shape
    u, s, _ = np.linalg.svd(d, full_matrices=False)
    lam = s ** 2
    re = np.sqrt(lam[n:].sum() / (r * (c - n)))
    t = (u[:, :n].T @ target) / s[:n]
    pred = (u[:, :n] * s[:n]) @ t
    aet = np.sqrt(((pred - target) ** 2).sum() / r)
    rep = re * np.sqrt((t ** 2).sum())
    ret = np.sqrt(max(aet ** 2 - rep ** 2, 0.0))
    return {'re': float(re), 'aet': float(aet), 'rep': float(rep),
            'ret': float(ret), 'spoil': float(ret / rep)}


def pca_cases():
    cy = project('cyanobacteria.prj')
    train = [cy[k] for k in ('0.12', '2.42', '4.73', '7.03', '9.33', '20', '33', '720')]
    e0 = train[0].e0
    xmin, xmax = e0 - 20.0, e0 + 60.0
    model = pca_train(train, arrayname='norm', xmin=xmin, xmax=xmax)
    targets = []
    for name in ('Au foil', 'Au1 Cl', 'Au3 Cl aq', 'Au hydroxide', 'Au sulphide'):
        g = cy[name]
        for ncomps in (2, 3):
            pca_fit(g, model, ncomps=ncomps, rescale=True)
            r = g.pca_result
            spoil = malinowski_target_test(model.ydat, r.ydat / r.data_scale, ncomps)
            targets.append({'target': name, 'ncomps': ncomps,
                            'weights': [float(w) for w in r.weights],
                            'chi_square': float(r.chi_square),
                            'data_scale': float(r.data_scale),
                            'malinowski': spoil})
    return {
        'project': 'cyanobacteria.prj', 'train': [g.label for g in train],
        'arrayname': 'norm', 'xmin': xmin, 'xmax': xmax,
        'npts': int(len(model.x)),
        'eigenvalues': [float(v) for v in model.eigenvalues],
        'variances': [float(v) for v in model.variances],
        'ind': [float(v) for v in model.ind], 'nsig': int(model.nsig),
        'mean_first_mid_last': [float(model.mean[i]) for i in
                                (0, len(model.mean) // 2, len(model.mean) - 1)],
        'targets': targets,
    }, norm_info(train + [cy[t['target']] for t in targets])


def peak_cases():
    cases = []
    info = {}
    # Explicit ranges: Larch's defaults hang on e0, and for the oxidized V
    # glasses pre_edge puts e0 on the pre-edge peak itself (5467.9 eV).
    # V K pre-edge peak 5465-5471 eV, edge above 5472; Fe 7110-7118 eV.
    # Peak starts are given (as a user clicks them in Larch's tool): one V
    # pre-edge peak; hematite shows two (t2g/eg), goethite's fit takes one.
    for prj, labels, (emin, elo, ehi, emax), starts in (
            ('Vglasses.prj', ('ALL_45 NNO+3.8', 'ALL_0 NNO-0.71', 'ALL_-25 NNO-3.3'),
             (5445.0, 5463.0, 5471.5, 5473.0), [5468.5]),
            ('Fe.prj', ('Hematite',), (7100.0, 7110.0, 7118.0, 7121.0), [7114.2, 7115.8]),
            ('Fe.prj', ('Goerthite',), (7100.0, 7110.0, 7118.0, 7121.0), [7114.7])):
        groups = project(prj)
        for label in labels:
            g = groups[label]
            pre_edge_baseline(g, form='linear+lorentzian', emin=emin, elo=elo,
                              ehi=ehi, emax=emax)
            pp = g.prepeaks
            case = {
                'project': prj, 'label': label, 'form': 'linear+lorentzian',
                'emin': float(pp.emin), 'emax': float(pp.emax),
                'elo': float(pp.elo), 'ehi': float(pp.ehi),
                'centroid': float(pp.centroid),
                'delta_centroid': float(pp.delta_centroid),
                'peak_energies': [float(e) for e in pp.peak_energies],
                'baseline_params': {k: param(p) for k, p in pp.fit_details.params.items()},
            }
            # Larch's pre-edge peak tool: the baseline model (Lorentzian + line)
            # plus Gaussian peaks started at the given energies,
            # fitted together over [emin, emax].
            x, y = pp.energy, pp.norm
            model = lmfit.models.LorentzianModel(prefix='bl_') + lmfit.models.LinearModel(prefix='ln_')
            pars = model.make_params()
            for k, p in pp.fit_details.params.items():
                key = ('bl_' if k in ('amplitude', 'center', 'sigma', 'fwhm', 'height') else 'ln_') + k
                if key in pars and not pars[key].expr:
                    pars[key].set(value=p.value)
            pars['bl_amplitude'].set(min=0)
            pars['bl_sigma'].set(min=0.05, max=500)
            for i, e in enumerate(sorted(starts)):
                pk = lmfit.models.GaussianModel(prefix=f'p{i + 1}_')
                model = model + pk
                pars.update(pk.make_params())
                height = float(np.interp(e, x, pp.peaks))
                pars[f'p{i + 1}_center'].set(value=e, min=e - 2.0, max=e + 2.0)
                pars[f'p{i + 1}_sigma'].set(value=1.0, min=0.1, max=5.0)
                pars[f'p{i + 1}_amplitude'].set(value=max(height, 1e-3) * 2.5, min=0.0)
            res = model.fit(y, pars, x=x)
            case['peak_fit'] = {
                'peak_starts': [float(e) for e in sorted(starts)],
                'params': {k: param(p) for k, p in res.params.items()},
                'chisqr': float(res.chisqr), 'redchi': float(res.redchi),
                'nfev': int(res.nfev),
            }
            cases.append(case)
            info.update(norm_info([g]))
    return cases, info


# lmfit models of the baseline parts, as `pre_edge_baseline` picks them
# (first matching prefix of Larch's MODELDAT keys)
BASELINE_PARTS = (('gauss', 'peak', lmfit.models.GaussianModel, {}),
                  ('loren', 'peak', lmfit.models.LorentzianModel, {}),
                  ('voigt', 'peak', lmfit.models.VoigtModel, {}),
                  ('line', 'poly', lmfit.models.LinearModel, {}),
                  ('quad', 'poly', lmfit.models.QuadraticModel, {}),
                  ('const', 'poly', lmfit.models.ConstantModel, {}),
                  ('atan_step', 'step', lmfit.models.StepModel, {'form': 'arctan'}),
                  ('erf_step', 'step', lmfit.models.StepModel, {'form': 'erf'}),
                  ('lin_step', 'step', lmfit.models.StepModel, {'form': 'linear'}))
PEAK_MODELS = {'gaussian': lmfit.models.GaussianModel,
               'lorentzian': lmfit.models.LorentzianModel,
               'voigt': lmfit.models.VoigtModel}


def tool_fit(pp, form, shape, starts):
    """Larch's pre-edge peak tool: the baseline model of `form` (Larch's
    order: last part first), started at the baseline fit's values (tail or
    step area >= 0, width in [0.05, 500] eV), plus one `shape` peak per start
    energy (center +/- 2 eV, sigma in [0.1, 5] eV from 1, area >= 0 from 2.5 x
    the baseline-subtracted height there; Voigt gamma = sigma), fitted to norm
    over [emin, emax]; fit_centroid as the tool adds it (an lmfit expression)."""
    parts = []
    for f in form.lower().split('+'):
        for key, kind, cls, opts in BASELINE_PARTS:
            if f.startswith(key):
                parts.append((kind, cls, opts))
    model, pars, tail = None, None, None
    for kind, cls, opts in reversed(parts):
        prefix = 'ln_' if kind == 'poly' else 'bl_'
        if kind != 'poly':
            tail = prefix
        m = cls(prefix=prefix, **opts)
        model = m if model is None else model + m
    pars = model.make_params()
    for k, p in pp.fit_details.params.items():
        for prefix in ('bl_', 'ln_'):
            if prefix + k in pars and not pars[prefix + k].expr:
                pars[prefix + k].set(value=p.value)
    if tail is not None:
        pars[tail + 'amplitude'].set(min=0)
        pars[tail + 'sigma'].set(min=0.05, max=500)
    x, y = pp.energy, pp.norm
    for i, e in enumerate(sorted(starts)):
        pk = PEAK_MODELS[shape](prefix=f'p{i + 1}_')
        model = model + pk
        pars.update(pk.make_params())
        height = float(np.interp(e, x, pp.peaks))
        pars[f'p{i + 1}_center'].set(value=e, min=e - 2.0, max=e + 2.0)
        pars[f'p{i + 1}_sigma'].set(value=1.0, min=0.1, max=5.0)
        pars[f'p{i + 1}_amplitude'].set(value=max(height, 1e-3) * 2.5, min=0.0)
    n = len(starts)
    amps = '+'.join(f'p{i + 1}_amplitude' for i in range(n))
    pars.add('fit_centroid', expr='(%s)/(%s)' % (
        '+'.join(f'p{i + 1}_amplitude*p{i + 1}_center' for i in range(n)), amps))
    pars.add('fit_area', expr=amps)
    res = model.fit(y, pars, x=x)
    return {
        'peak_starts': [float(e) for e in sorted(starts)], 'shape': shape,
        'params': {k: param(p) for k, p in res.params.items()},
        'chisqr': float(res.chisqr), 'redchi': float(res.redchi),
        'nfev': int(res.nfev),
    }


def peak_form_cases():
    """Voigt peaks and the step baselines (lmfit StepModel, arctan and erf)."""
    cases = []
    info = {}
    v = (5445.0, 5463.0, 5471.5, 5476.0)
    fe = (7100.0, 7110.0, 7118.0, 7125.0)
    for prj, label, rng, starts, form, shape in (
            ('Vglasses.prj', 'ALL_0 NNO-0.71', (5445.0, 5463.0, 5471.5, 5473.0),
             [5468.5], 'linear+lorentzian', 'voigt'),
            ('Vglasses.prj', 'ALL_45 NNO+3.8', v, [5468.5], 'linear+atan_step', 'voigt'),
            ('Vglasses.prj', 'ALL_45 NNO+3.8', v, [5468.5], 'linear+erf_step', 'gaussian'),
            ('Fe.prj', 'Hematite', fe, [7114.2, 7115.8], 'linear+atan_step', 'gaussian'),
            ('Fe.prj', 'Hematite', fe, [7114.2, 7115.8], 'linear+atan_step', 'voigt'),
            ('Fe.prj', 'Goerthite', fe, [7114.7], 'erf_step+linear', 'voigt'),
            ('Fe.prj', 'Goerthite', (7100.0, 7110.0, 7118.0, 7121.0), [7114.7],
             'linear+voigt', 'gaussian')):
        g = project(prj)[label]
        emin, elo, ehi, emax = rng
        pre_edge_baseline(g, form=form, emin=emin, elo=elo, ehi=ehi, emax=emax)
        pp = g.prepeaks
        cases.append({
            'project': prj, 'label': label, 'form': form,
            'emin': float(pp.emin), 'emax': float(pp.emax),
            'elo': float(pp.elo), 'ehi': float(pp.ehi),
            'centroid': float(pp.centroid),
            'delta_centroid': float(pp.delta_centroid),
            'baseline_params': {k: param(p) for k, p in pp.fit_details.params.items()},
            'baseline_redchi': float(pp.fit_details.redchi),
            'peak_fit': tool_fit(pp, form, shape, starts),
        })
        info.update(norm_info([g]))
    return cases, info


def main():
    lcf, info1 = lcf_cases()
    lcf_all, info2 = lcf_all_cases()
    pca, info3 = pca_cases()
    peaks, info4 = peak_cases()
    peak_forms, info5 = peak_form_cases()
    normalization = {}
    for d in (info1, info2, info3, info4, info5):
        normalization.update(d)
    out = {
        'generator': 'tools/make_xanes_fixtures.py',
        'versions': {'xraylarch': larch.__version__, 'numpy': np.__version__,
                     'lmfit': lmfit.__version__},
        'normalization': normalization,
        'lcf': lcf, 'lcf_all': lcf_all, 'pca': pca, 'prepeaks': peaks,
        'prepeaks_forms': peak_forms,
    }
    dest = ROOT / 'tests' / 'fixtures' / 'xanes' / 'larch_xanes.json'
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=1) + '\n')
    print(f'wrote {dest}')


if __name__ == '__main__':
    main()
