#!/usr/bin/env python
"""Larch reference values for the path sigma2 models: sigma2_debye (correlated
Debye model, FEFF6 sigms.f through Larch's libfeff6) and sigma2_eins (Einstein
model) for FEFF6 Cu paths (single and multiple scattering), ZnSe and the FEFF8L
Fe-O / Fe-Fe / Fe-Pb paths.

Usage: python tools/make_sigma2_fixtures.py [DATA_ROOT] [-o tests/fixtures/sigma2/sigma2.json]
"""
import argparse
import json
from pathlib import Path

from larch.xafs import feffpath
from larch.xafs.sigma2_models import sigma2_debye, sigma2_eins

REPO = Path(__file__).resolve().parent.parent

TEMPS = (10.0, 50.0, 300.0)
THETAS = (200.0, 315.0, 500.0)


def paths(root):
    rels = [f"feff/cu/feff{i:04d}.dat" for i in range(1, 14)]
    rels.append("feff/znse/feff_znse.dat")
    rels += sorted(p.relative_to(root).as_posix() for p in Path(root, "feff", "feo_pb").glob("*.dat"))
    return rels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_root", nargs="?", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("-o", "--output", default=str(REPO / "tests" / "fixtures" / "sigma2" / "sigma2.json"))
    args = ap.parse_args()
    root = Path(args.data_root)
    cases = []
    for rel in paths(root):
        p = feffpath(str(root / rel))
        fd = p._feffdat
        values = []
        for t in TEMPS:
            for theta in THETAS:
                values.append({"T": t, "theta": theta,
                               "debye": float(sigma2_debye(t, theta, p)),
                               "eins": float(sigma2_eins(t, theta, p))})
        cases.append({"file": rel, "nleg": int(fd.nleg), "rnorman": float(fd.rnorman),
                      "masses": [float(g[3]) for g in fd.geom], "values": values})
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({"generated_by": "tools/make_sigma2_fixtures.py",
                                             "cases": cases}, indent=1) + "\n")


if __name__ == "__main__":
    main()
