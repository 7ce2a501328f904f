#!/usr/bin/env python
"""pymatgen reference powder patterns (stick patterns) for Carto's XRD
calculator: XRDCalculator(wavelength="CuKa").get_pattern(s, scaled=True,
two_theta_range=(0, 90)) on the 35 cif/amcsd structures and on the first 100
cif/amcsd_library CIFs (sorted by file name) that pymatgen parses and computes
without error, plus two small extra sections (other wavelengths, Debye-Waller
factors) on five simple amcsd structures. Writes tests/fixtures/xrd/pymatgen_xrd.json.

Usage: /work/venv/pmg/bin/python tools/make_xrd_fixtures.py [DATA_ROOT] \
           [-o tests/fixtures/xrd/pymatgen_xrd.json]

Structures: CifParser(path).parse_structures(primitive=False)[0] (as in
tools/make_structure_fixtures.py). Files that fail to parse or whose pattern
raises are listed in "skipped" with the reason (only the first 100 successes of
amcsd_library are used, so the skipped list stops at the 100th success).

Per pattern: {"file", "wavelength", "hexagonal" (Lattice.is_hexagonal(), i.e.
4-index hkls), "n_peaks_all" (number of peaks pymatgen returns, before our cut),
"peaks": [{"two_theta", "intensity", "d", "hkls", "multiplicity"}]} where
"hkls" are pymatgen's family representatives (3 or 4 indices) and
"multiplicity" the matching multiplicities, in pymatgen's order.

CUT: only peaks with scaled intensity >= 0.5 (max = 100) are written
(pymatgen itself drops only peaks below 1e-3 of 100); "n_peaks_all" counts
them all. Floats are rounded to 1e-6.

Extra sections (the five files in EXTRA):
  other_wavelengths  the same call with wavelength="MoKa" and with wavelength=0.7
                     (a float: angstrom)
  debye_waller       XRDCalculator("CuKa", debye_waller_factors={el: 0.5 for every
                     element of the structure}) (B = 0.5 A^2, f -> f*exp(-B s^2))
"""
import argparse
import json
import sys
import warnings
from importlib.metadata import version
from pathlib import Path

from pymatgen.analysis.diffraction.xrd import WAVELENGTHS, XRDCalculator
from pymatgen.io.cif import CifParser

REPO = Path(__file__).resolve().parent.parent
N_LIBRARY = 100
MIN_INTENSITY = 0.5
TWO_THETA_RANGE = (0, 90)
EXTRA = ("copper_amcsd13088.cif", "halite_amcsd641.cif", "quartz_amcsd11008.cif",
         "hematite_amcsd17731.cif", "magnetite_amcsd9994.cif")
B_ALL = 0.5


def rnd(x):
    return round(float(x), 6)


def parse(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parser = CifParser(str(path))
        try:
            return parser.parse_structures(primitive=False)[0]
        except Exception as exc:
            why = [w for w in parser.warnings if w.startswith("No structure parsed")]
            raise type(exc)(" ".join(" ".join([str(exc)] + why).split())) from exc


def pattern(s, rel, wavelength="CuKa", dw=None):
    calc = XRDCalculator(wavelength=wavelength, debye_waller_factors=dw)
    p = calc.get_pattern(s, scaled=True, two_theta_range=TWO_THETA_RANGE)
    peaks = []
    for tt, inten, fam, d in zip(p.x, p.y, p.hkls, p.d_hkls, strict=True):
        if inten >= MIN_INTENSITY:
            peaks.append({"two_theta": rnd(tt), "intensity": rnd(inten), "d": rnd(d),
                          "hkls": [[int(i) for i in f["hkl"]] for f in fam],
                          "multiplicity": [int(f["multiplicity"]) for f in fam]})
    return {"file": rel, "wavelength": wavelength, "hexagonal": bool(s.lattice.is_hexagonal()),
            "n_peaks_all": len(p.x), "peaks": peaks}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_root", nargs="?", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("-o", "--output", default=str(REPO / "tests" / "fixtures" / "xrd" / "pymatgen_xrd.json"))
    args = ap.parse_args()
    root = Path(args.data_root)

    patterns, skipped = [], []
    for folder, limit in (("cif/amcsd", None), ("cif/amcsd_library", N_LIBRARY)):
        done = 0
        for name in sorted(p.name for p in (root / folder).glob("*.cif")):
            if limit is not None and done >= limit:
                break
            rel = f"{folder}/{name}"
            try:
                s = parse(root / rel)
            except Exception as exc:  # noqa: BLE001
                skipped.append({"file": rel, "reason": f"parse: {type(exc).__name__}: {exc}"})
                continue
            try:
                patterns.append(pattern(s, rel))
            except Exception as exc:  # noqa: BLE001
                skipped.append({"file": rel, "reason": f"get_pattern: {type(exc).__name__}: {exc}"})
                continue
            done += 1
            print(f"{rel}: {len(patterns[-1]['peaks'])}/{patterns[-1]['n_peaks_all']} peaks", file=sys.stderr)

    other, dwp = [], []
    for name in EXTRA:
        rel = f"cif/amcsd/{name}"
        s = parse(root / rel)
        other.append(pattern(s, rel, "MoKa"))
        other.append(pattern(s, rel, 0.7))
        dw = {el.symbol: B_ALL for el in s.composition.element_composition}
        rec = pattern(s, rel, "CuKa", dw)
        rec["debye_waller_factors"] = dict(sorted(dw.items()))
        dwp.append(rec)

    out = {
        "generated_by": "tools/make_xrd_fixtures.py",
        "pymatgen": version("pymatgen"),
        "pymatgen_core": version("pymatgen-core"),
        "call": "XRDCalculator(wavelength).get_pattern(s, scaled=True, two_theta_range=(0, 90))",
        "wavelengths": {"CuKa": WAVELENGTHS["CuKa"], "MoKa": WAVELENGTHS["MoKa"]},
        "min_intensity": MIN_INTENSITY,
        "note": "only peaks with scaled intensity >= min_intensity are listed; n_peaks_all counts "
                "every peak pymatgen returned (pymatgen drops those <= 1e-3 of max*100 itself)",
        "patterns": patterns,
        "skipped": skipped,
        "other_wavelengths": other,
        "debye_waller": dwp,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(out, separators=(",", ":"))
    text = text.replace('{"file":', '\n{"file":').replace('{"two_theta":', '\n{"two_theta":')
    Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
