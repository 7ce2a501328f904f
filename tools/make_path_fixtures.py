#!/usr/bin/env python
"""Larch path2chi reference values: chi(k) of single FEFF paths for several
sets of path parameters (FEFF6 Cu paths, FEFF8L Fe-O / Fe-Pb paths, ZnSe).

Usage: python tools/make_path_fixtures.py [DATA_ROOT] [-o tests/fixtures/larch/paths.json]
"""
import argparse
import json
from pathlib import Path

import numpy as np
from larch.xafs import feffpath, path2chi

REPO = Path(__file__).resolve().parent.parent

PATHS = ["feff/cu/feff0001.dat", "feff/cu/feff0002.dat", "feff/cu/feff0005.dat",
         "feff/feo_pb/feff_FeO_215.dat", "feff/feo_pb/feff_FePb_305.dat", "feff/znse/feff_znse.dat"]
PARAMS = [
    {},
    {"s02": 0.85, "e0": 3.5, "sigma2": 0.0045, "deltar": 0.012},
    {"s02": 0.9, "e0": -6.0, "sigma2": 0.008, "deltar": -0.03, "third": 0.0004, "fourth": 0.0001, "ei": 1.5,
     "degen": 4.0},
]


def sig(x):
    return [float("%.12g" % v) for v in np.asarray(x, float)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_root", nargs="?", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("-o", "--output", default=str(REPO / "tests" / "fixtures" / "larch" / "paths.json"))
    args = ap.parse_args()
    cases = []
    for rel in PATHS:
        for par in PARAMS:
            p = feffpath(str(Path(args.data_root, rel)), **par)
            path2chi(p, kmax=20, kstep=0.05)
            cases.append({"file": rel, "params": par, "reff": float(p._feffdat.reff),
                          "k": sig(p.k), "chi": sig(p.chi), "chi_imag": sig(p.chi_imag)})
    Path(args.output).write_text(json.dumps({"generated_by": "tools/make_path_fixtures.py",
                                             "cases": cases}, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
