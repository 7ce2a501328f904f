#!/usr/bin/env python
"""Time xraylarch's lincombo_fitall: one spectrum against 6 standards, all
combinations of up to 3 (the LCF speed case of issue 13; the very case
make_xanes_fixtures.py records as `lcf_all`).

Usage:
    bench_larch_lcf.py [DATA_ROOT] --repeat N [--json]

Reading and pre_edge of the projects are done once and not timed; only
lincombo_fitall(...) is timed, N times (after one untimed warm-up).
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_ROOT = HERE.parent.parent / 'shared' / 'data'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("data_root", nargs="?", default=str(DEFAULT_ROOT))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()
    sys.argv = [sys.argv[0], args.data_root]
    sys.path.insert(0, str(HERE))
    import larch  # noqa: E402
    from make_xanes_fixtures import project  # noqa: E402  (reads DATA from argv)
    from larch.math.lincombo_fitting import lincombo_fitall  # noqa: E402

    std = project('CuHERFD_standards.prj')
    smp = project('CuHERFD_samples.prj')
    names = ['CuHERFD_CuFoil.003', 'CuHERFD_CuS.001', 'CuHERFD_Cu2S.001',
             'CuHERFD_nanoCuO.001', 'CuHERFD_Cu(I)O.001', 'CuHERFD_Chalcopyrite.001']
    stds = [std[k] for k in names]
    g = smp['CuHERFD_BORG01-32_sulfide.001']
    kws = dict(minvals=[0.0] * 6, maxvals=[1.0] * 6, xmin=g.e0 - 20.0,
               xmax=g.e0 + 60.0, max_ncomps=3, sum_to_one=True, max_output=100)
    lincombo_fitall(g, stds, **kws)  # warm-up, not timed
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        out = lincombo_fitall(g, stds, **kws)
        times.append(1000.0 * (time.perf_counter() - t0))
    res = {"case": "CuHERFD_BORG01-32_sulfide vs 6 standards, <= 3",
           "xraylarch": larch.__version__, "repeat": args.repeat,
           "median_ms": round(statistics.median(times), 3),
           "min_ms": round(min(times), 3), "n_ranked": len(out)}
    if args.json:
        print(json.dumps(res))
    else:
        print(f"lincombo_fitall: median {res['median_ms']:.1f} ms, min {res['min_ms']:.1f} ms "
              f"over {args.repeat} runs ({res['n_ranked']} combinations kept)")


if __name__ == "__main__":
    main()
