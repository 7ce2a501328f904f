#!/usr/bin/env python
"""lmfit `leastsq` reference fits for src/exafs/lm.rs (tests/lm_lmfit.rs).

Each case stores its data, starting parameters (value, min, max, vary) and
lmfit's results with scale_covar=True and scale_covar=False: values, stderr,
correlations, chisqr, redchi, ier. Misra1a also carries NIST's certified values.

Usage: /work/venv/larch/bin/python tools/make_lm_fixtures.py [-o tests/fixtures/lm/lmfit_cases.json]
"""
import argparse
import json
from pathlib import Path

import numpy as np
import lmfit

REPO = Path(__file__).resolve().parent.parent
INF = float("inf")


def model(name, p, x):
    if name == "decay":  # amp * exp(-x/tau) + offset
        return p[0] * np.exp(-x / p[1]) + p[2]
    if name == "misra1a":  # NIST StRD Misra1a: b1*(1-exp(-b2*x))
        return p[0] * (1 - np.exp(-p[1] * x))
    if name == "damped_sine":  # amp * exp(-2 s2 k^2) * sin(2 k r + phase)
        return p[0] * np.exp(-2 * p[2] * x * x) * np.sin(2 * x * p[3] + p[1])
    raise ValueError(name)


def fit(name, x, y, params, scale_covar, kws=None):
    pars = lmfit.Parameters()
    for i, (v, lo, hi, vary) in enumerate(params):
        pars.add(f"p{i}", value=v, min=lo, max=hi, vary=vary)

    def resid(ps):
        return model(name, [ps[f"p{i}"].value for i in range(len(params))], x) - y

    out = lmfit.minimize(resid, pars, method="leastsq", scale_covar=scale_covar, **(kws or {}))
    names = [f"p{i}" for i in range(len(params))]
    var = [n for n in names if out.params[n].vary]
    res = {
        "values": [out.params[n].value for n in names],
        "stderr": [out.params[n].stderr if out.params[n].stderr is not None else None for n in names],
        "correl": [[1.0 if a == b else out.params[a].correl[b] for b in var] for a in var]
        if out.errorbars else None,
        "chisqr": out.chisqr,
        "redchi": out.redchi,
        "ier": int(out.ier),
        "nfev": int(out.nfev),
        "success": bool(out.success),
    }
    return res


def case(cid, name, x, y, params, extra=None, kws=None):
    c = {"id": cid, "model": name, "x": list(map(float, x)), "y": list(map(float, y)),
         "params": [[v, lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None, vary]
                    for v, lo, hi, vary in params],
         "lmfit": fit(name, x, y, params, True, kws),
         "lmfit_unscaled": fit(name, x, y, params, False, kws)}
    if kws:
        c["options"] = kws
    if extra:
        c.update(extra)
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-o", default=str(REPO / "tests/fixtures/lm/lmfit_cases.json"))
    args = ap.parse_args()
    rng = np.random.RandomState(20261125)
    cases = []

    t = np.linspace(0, 10, 61)
    yd = model("decay", [3.0, 2.5, 0.4], t) + rng.normal(scale=0.02, size=t.size)
    yd = np.round(yd, 10)
    cases.append(case("decay_unbounded", "decay", t, yd,
                      [(1.0, -INF, INF, True), (1.0, -INF, INF, True), (0.0, -INF, INF, True)]))
    # amp pinned near its upper bound (best unbounded value ~3), tau two-sided,
    # offset one-sided below, a one-sided upper bound too.
    cases.append(case("decay_bounded", "decay", t, yd,
                      [(2.0, 0.0, 2.9, True), (1.0, 0.5, 10.0, True), (0.1, 0.0, INF, True)]))
    cases.append(case("decay_one_sided", "decay", t, yd,
                      [(2.0, -INF, 5.0, True), (1.0, 0.2, INF, True), (0.1, -1.0, INF, True)]))
    cases.append(case("decay_fixed_offset", "decay", t, yd,
                      [(1.0, -INF, INF, True), (1.0, -INF, INF, True), (0.4, -INF, INF, False)]))

    # NIST StRD Misra1a (lower difficulty), start 1 and start 2.
    mx = np.array([77.6, 114.9, 141.1, 190.8, 239.9, 289.0, 332.8, 378.4, 434.8, 477.3, 536.8, 593.1, 689.1, 760.0])
    my = np.array([10.07, 14.73, 17.94, 23.93, 29.61, 35.18, 40.02, 44.82, 50.76, 55.05, 61.01, 66.40, 75.47, 81.78])
    cert = {"certified": {"values": [2.3894212918e02, 5.5015643181e-04],
                          "stderr": [2.7070075241e00, 7.2668688436e-06],
                          "rss": 1.2455138894e-01}}
    cases.append(case("misra1a_start1", "misra1a", mx, my,
                      [(500.0, -INF, INF, True), (1e-4, -INF, INF, True)], cert))
    cases.append(case("misra1a_start2", "misra1a", mx, my,
                      [(250.0, -INF, INF, True), (5e-4, -INF, INF, True)], cert))

    # EXAFS-like damped sine: amp, phase, sigma2, distance (frequency 2R).
    k = np.arange(2.0, 14.0001, 0.05)
    ys = model("damped_sine", [0.9, -0.6, 0.006, 2.54], k) + rng.normal(scale=0.01, size=k.size)
    ys = np.round(ys, 10)
    cases.append(case("damped_sine", "damped_sine", k, ys,
                      [(0.7, -INF, INF, True), (0.0, -INF, INF, True),
                       (0.003, -INF, INF, True), (2.5, -INF, INF, True)]))
    cases.append(case("damped_sine_bounded", "damped_sine", k, ys,
                      [(0.7, 0.0, 1.5, True), (0.0, -np.pi, np.pi, True),
                       (0.003, 0.0, INF, True), (2.5, 2.3, 2.7, True)]))

    # Larch feffit's leastsq options (xafs/feffit.py: fit_kws).
    cases.append(case("damped_sine_feffit_opts", "damped_sine", k, ys,
                      [(0.7, 0.0, 1.5, True), (0.0, -np.pi, np.pi, True),
                       (0.003, 0.0, INF, True), (2.5, 2.3, 2.7, True)],
                      kws=dict(gtol=1.e-6, ftol=1.e-6, xtol=1.e-6, epsfcn=1.e-10)))

    Path(args.o).write_text(json.dumps({"lmfit": lmfit.__version__, "cases": cases}, indent=1) + "\n")
    for c in cases:
        print(c["id"], c["lmfit"]["ier"], c["lmfit"]["values"], c["lmfit"]["stderr"])


if __name__ == "__main__":
    main()
