#!/usr/bin/env python
"""Larch xftf/xftr reference values for several windows and weights, on the
chi(k) of cu_10k.xmu as Larch's autobk makes it (rbkg=1, kweight=2).

Usage: python tools/make_ft_fixtures.py [DATA_ROOT] [-o tests/fixtures/larch/ft.json]
"""
import argparse
import json
from pathlib import Path

import numpy as np
from larch import Group
from larch.xafs import pre_edge, autobk, xftf, xftr

REPO = Path(__file__).resolve().parent.parent


def sig(x):
    return [float("%.12g" % v) for v in np.asarray(x, float)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_root", nargs="?", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("-o", "--output", default=str(REPO / "tests" / "fixtures" / "larch" / "ft.json"))
    args = ap.parse_args()
    d = np.loadtxt(Path(args.data_root, "xas/columns/cu_10k.xmu"))
    g = Group(energy=d[:, 0], mu=d[:, 1])
    pre_edge(g)
    autobk(g, rbkg=1.0, kweight=2)
    cases = []
    forward = [
        dict(kmin=2, kmax=12, dk=1, window="hanning", kweight=2),
        dict(kmin=3, kmax=16, dk=4, window="kaiser", kweight=3),
        dict(kmin=2.5, kmax=14, dk=1.5, dk2=3, window="sine", kweight=1),
        dict(kmin=2, kmax=15, dk=0.5, window="welch", kweight=2),
        dict(kmin=2, kmax=15, dk=2, window="parzen", kweight=2),
        dict(kmin=2, kmax=15, dk=2, window="gaussian", kweight=2),
    ]
    for fp in forward:
        xftf(g, with_phase=True, **fp)
        back = dict(rmin=1.0, rmax=3.0, dr=0.5, window="hanning")
        xftr(g, **back)
        cases.append({
            "xftf": fp, "xftr": back,
            "r": sig(g.r), "chir_mag": sig(g.chir_mag), "chir_re": sig(g.chir_re),
            "chir_im": sig(g.chir_im), "chir_pha": sig(g.chir_pha),
            "q": sig(g.q), "chiq_mag": sig(g.chiq_mag), "chiq_re": sig(g.chiq_re),
            "chiq_im": sig(g.chiq_im),
        })
    doc = {"generated_by": "tools/make_ft_fixtures.py", "file": "xas/columns/cu_10k.xmu",
           "k": sig(g.k), "chi": sig(g.chi), "cases": cases}
    Path(args.output).write_text(json.dumps(doc, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
