#!/usr/bin/env python
"""Times pymatgen's powder pattern: XRDCalculator("CuKa").get_pattern(s,
two_theta_range=(0, 90)) per CIF over the first N cif/amcsd_library CIFs
(sorted by file name; files pymatgen cannot parse are skipped and do not count
towards N). Structure parsing (CifParser(path).parse_structures(primitive=False))
is timed separately and not included in the pattern time. One untimed warm-up
pattern is computed first. Prints the median ms per CIF; with --json the last
line is {"median_ms", "parse_median_ms", "n", "pymatgen"}.

Usage: /work/venv/pmg/bin/python tools/bench_pymatgen_xrd.py [DATA_ROOT] [--n 50] [--repeat 1] [--json]
       [--files NAME.cif ...]   (exactly these amcsd_library files instead of the first N)

With --repeat R each pattern is computed R times and the CIF's time is the
fastest of them (the median is then taken over CIFs).
"""
import argparse
import json
import statistics
import sys
import time
import warnings
from importlib.metadata import version
from pathlib import Path

from pymatgen.analysis.diffraction.xrd import XRDCalculator
from pymatgen.io.cif import CifParser

REPO = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_root", nargs="?", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--files", nargs="+", help="exact file names in cif/amcsd_library "
                    "(as `carto bench xrd` passes the ones it timed); overrides --n")
    args = ap.parse_args()
    files = sorted(Path(args.data_root, "cif", "amcsd_library").glob("*.cif"))
    if args.files:
        files = [Path(args.data_root, "cif", "amcsd_library", f) for f in args.files]
        args.n = len(files)

    structures, parse_ms, skipped = [], [], []
    warnings.simplefilter("ignore")
    for f in files:
        if len(structures) >= args.n:
            break
        t0 = time.perf_counter()
        try:
            s = CifParser(str(f)).parse_structures(primitive=False)[0]
        except Exception as exc:  # noqa: BLE001
            skipped.append((f.name, str(exc)))
            continue
        parse_ms.append((time.perf_counter() - t0) * 1e3)
        structures.append((f.name, s))

    calc = XRDCalculator(wavelength="CuKa")
    calc.get_pattern(structures[0][1], two_theta_range=(0, 90))  # warm-up
    times = []
    for name, s in structures:
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            p = calc.get_pattern(s, two_theta_range=(0, 90))
            best = min(best, (time.perf_counter() - t0) * 1e3)
        times.append(best)
        if args.verbose:
            print(f"{name}: {len(s)} sites, {len(p.x)} peaks, {best:.2f} ms", file=sys.stderr)

    med, pmed = statistics.median(times), statistics.median(parse_ms)
    for name, why in skipped:
        print(f"skipped {name}: {why}", file=sys.stderr)
    print(f"pymatgen {version('pymatgen')}: get_pattern CuKa 0-90 deg, n={len(times)}: "
          f"median {med:.2f} ms/CIF (mean {statistics.mean(times):.2f}, max {max(times):.2f}); "
          f"parse median {pmed:.2f} ms/CIF")
    if args.json:
        print(json.dumps({"median_ms": round(med, 3), "parse_median_ms": round(pmed, 3),
                          "n": len(times), "pymatgen": version("pymatgen")}))


if __name__ == "__main__":
    main()
