#!/usr/bin/env python
"""Time xraylarch's feffit() on a Carto model file.

Usage:
    bench_larch_fit.py [DATA_ROOT] --model tests/fixtures/feffit/feo_2path.toml --repeat N [--json]

Everything is built once (reading the data, pre_edge, autobk, FEFF paths,
transform, datasets: not timed); then only feffit(...) is timed, N times, each
with a freshly built parameter group so that every fit starts from the
model's initial values.  The TOML -> Larch code is imported from
make_feffit_fixtures.py.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_feffit_fixtures import DEFAULT_ROOT, REPO, load_model, build_fit  # noqa: E402
from larch.xafs import feffit  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("data_root", nargs="?", default=str(DEFAULT_ROOT))
    ap.add_argument("--model", default=str(REPO / "tests/fixtures/feffit/feo_2path.toml"))
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    model = load_model(args.model, args.data_root)
    params_factory, datasets, _infos, _groups = build_fit(model)

    feffit(params_factory(), datasets)          # warm-up (imports, caches), not timed
    times, nfevs = [], set()
    for _ in range(args.repeat):
        pars = params_factory()                 # fresh Parameters at initial values
        t0 = time.perf_counter()
        out = feffit(pars, datasets)
        times.append(1000.0 * (time.perf_counter() - t0))
        nfevs.add(out.nfev)
    if len(nfevs) != 1:
        raise SystemExit(f"fits differ between repeats: nfev {sorted(nfevs)}")

    res = {"model": Path(args.model).name, "repeat": args.repeat,
           "median_ms": round(statistics.median(times), 3), "min_ms": round(min(times), 3),
           "nfev": nfevs.pop()}
    if args.json:
        print(json.dumps(res))
    else:
        print(f"{res['model']}: feffit median {res['median_ms']:.1f} ms, "
              f"min {res['min_ms']:.1f} ms over {res['repeat']} fits, nfev={res['nfev']} "
              f"({res['median_ms'] / res['nfev']:.2f} ms per function evaluation)")


if __name__ == "__main__":
    main()
