#!/usr/bin/env python
"""Time xraylarch's XAS chain (read -> pre_edge -> autobk -> xftf) on the EXAFS
cases of tools/xas_cases.py, and optionally the rexafs package on the same arrays.

Usage:
    python tools/bench_larch.py [DATA_ROOT] [--repeat N] [--rexafs] [--no-athena]

Prints one JSON line per tool:
  {"tool": "xraylarch", "version": ..., "ms_per_spectrum": ..., "n_spectra": ..., "files": [...]}
  {"tool": "rexafs", ...}                        (with --rexafs)

ms_per_spectrum is the median over all (case, repeat) timings of one spectrum.
For xraylarch it includes reading the file (read_ascii + building mu, or
read_athena of the whole project); "ms_per_spectrum_no_read" times
pre_edge + autobk + xftf alone, which is what the rexafs line is compared with.

The rexafs line also reports agreement with Larch: e0 differences and, per
spectrum, rms(k^2 chi_rexafs - k^2 chi_larch) / rms(k^2 chi_larch) over
2 <= k <= 12 (or the last common k), once with rexafs' own e0 ("auto") and
once with E0 forced to Larch's value ("larch_e0").
"""
import argparse
import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")

import larch  # noqa: E402
from larch import Group  # noqa: E402
from larch.io import read_ascii, read_athena  # noqa: E402
from larch.xafs import pre_edge, autobk, xftf  # noqa: E402
from larch.xafs.xafsutils import TINY_ENERGY  # noqa: E402
from larch.math import remove_dups  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from xas_cases import CASES  # noqa: E402
from make_larch_fixtures import AUTOBK_PARAMS, XFTF_BASE, PRE_EDGE_PARAMS, build_mu  # noqa: E402


def read_case(root, case):
    path = str(Path(root, case["file"]))
    if case["mu"]["kind"] == "athena":
        prj = read_athena(path, do_preedge=False)
        g = [g for g in prj.groups.values() if getattr(g, "label", None) == case["group"]][0]
        return np.asarray(g.energy, float), np.asarray(g.mu, float)
    data = np.asarray(read_ascii(path).data, float)
    return data[case["energy_col"]] * case["energy_scale"], build_mu(data, case["mu"])


def larch_chain(energy, mu):
    g = Group(energy=energy, mu=mu)
    pre_edge(g, **PRE_EDGE_PARAMS)
    autobk(g, **AUTOBK_PARAMS)
    xp = dict(XFTF_BASE)
    xp["kmax"] = min(XFTF_BASE["kmax"], float(g.k[-1]))
    xftf(g, **xp)
    return g


def rexafs_chain(rx, energy, mu, kmax, e0=None):
    s = rx.Spectrum(energy, mu)
    if e0 is not None:
        s.set_e0(e0)
    s.set_background_method(rx.AUTOBK(rbkg=AUTOBK_PARAMS["rbkg"], kweight=AUTOBK_PARAMS["kweight"],
                                      kmin=AUTOBK_PARAMS["kmin"], kmax=AUTOBK_PARAMS["kmax"],
                                      dk=AUTOBK_PARAMS["dk"], window="Hanning",
                                      nclamp=AUTOBK_PARAMS["nclamp"], clamp_lo=int(AUTOBK_PARAMS["clamp_lo"]),
                                      clamp_hi=int(AUTOBK_PARAMS["clamp_hi"]), nfft=AUTOBK_PARAMS["nfft"],
                                      kstep=AUTOBK_PARAMS["kstep"]))
    s.set_fft(rx.XrayFFTF(kmin=XFTF_BASE["kmin"], kmax=kmax, dk=XFTF_BASE["dk"], window="Hanning",
                          kweight=XFTF_BASE["kweight"], grid="Larch"))
    s.fft()
    return s


def k2chi_rel_rms(k_ref, chi_ref, k, chi, kmin=2.0, kmax=12.0):
    kmax = min(kmax, k_ref[-1], k[-1])
    kk = k_ref[(k_ref >= kmin) & (k_ref <= kmax)]
    a = kk**2 * np.interp(kk, k_ref, chi_ref)
    b = kk**2 * np.interp(kk, k, chi)
    return float(np.sqrt(np.mean((b - a)**2)) / np.sqrt(np.mean(a**2)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_root", nargs="?", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rexafs", action="store_true")
    ap.add_argument("--no-athena", action="store_true", help="skip Athena-project cases")
    ap.add_argument("--verbose", action="store_true", help="per-case details on stderr")
    args = ap.parse_args()
    root = Path(args.data_root).resolve()

    cases = [c for c in CASES if c["exafs"] and not (args.no_athena and c["mu"]["kind"] == "athena")]
    names = [c["file"] + (f"#{c['group']}" if c["group"] else "") for c in cases]

    # warm-up (imports, caches)
    larch_chain(*read_case(root, cases[0]))

    t_full, t_proc, arrays, refs = [], [], [], []
    for case in cases:
        for i in range(args.repeat):
            t0 = time.perf_counter()
            energy, mu = read_case(root, case)
            t1 = time.perf_counter()
            g = larch_chain(energy, mu)
            t2 = time.perf_counter()
            t_full.append(t2 - t0)
            t_proc.append(t2 - t1)
        arrays.append((energy, mu))
        refs.append(g)

    print(json.dumps({
        "tool": "xraylarch", "version": larch.__version__,
        "ms_per_spectrum": round(1e3 * statistics.median(t_full), 3),
        "ms_per_spectrum_no_read": round(1e3 * statistics.median(t_proc), 3),
        "ms_mean_per_spectrum": round(1e3 * statistics.mean(t_full), 3),
        "n_spectra": len(t_full), "repeat": args.repeat, "files": names,
    }), flush=True)

    if not args.rexafs:
        return
    import rexafs as rx

    t_rx, rows = [], []
    for case, (energy, mu), g in zip(cases, arrays, refs):
        # rexafs needs strictly increasing energy: hand it the array Larch itself
        # works on (remove_dups nudges repeated energies by TINY_ENERGY)
        e_in = remove_dups(np.asarray(energy, float), tiny=TINY_ENERGY)
        kmax = min(XFTF_BASE["kmax"], float(g.k[-1]))
        row = {"id": case["id"], "e0_larch": float(g.e0)}
        try:
            rexafs_chain(rx, e_in, mu, kmax)   # warm-up / validity
            for i in range(args.repeat):
                t0 = time.perf_counter()
                s = rexafs_chain(rx, e_in, mu, kmax)
                t_rx.append(time.perf_counter() - t0)
            row["e0_rexafs"] = float(s.e0())
            row["rel_rms_k2chi_auto"] = k2chi_rel_rms(g.k, g.chi, s.k(), s.chi())
            s2 = rexafs_chain(rx, e_in, mu, kmax, e0=float(g.e0))
            row["rel_rms_k2chi_larch_e0"] = k2chi_rel_rms(g.k, g.chi, s2.k(), s2.chi())
        except Exception as exc:  # report, do not hide
            row["error"] = f"{type(exc).__name__}: {exc}"
        rows.append(row)
        if args.verbose:
            print(json.dumps(row), file=sys.stderr)

    ok = [r for r in rows if "error" not in r]
    de0 = [abs(r["e0_rexafs"] - r["e0_larch"]) for r in ok]
    ra = [r["rel_rms_k2chi_auto"] for r in ok]
    rl = [r["rel_rms_k2chi_larch_e0"] for r in ok]
    print(json.dumps({
        "tool": "rexafs", "version": rx.__version__,
        "ms_per_spectrum": round(1e3 * statistics.median(t_rx), 3) if t_rx else None,
        "n_spectra": len(t_rx), "repeat": args.repeat, "files": [n for n, r in zip(names, rows) if "error" not in r],
        "settings": "AUTOBK(rbkg=1, kweight=2, kmin=0, kmax=None, dk=0.1, Hanning, nclamp=3, clamp_lo=0, clamp_hi=1, "
                    "nfft=2048, kstep=0.05; default solver LinearDirect/FixedPenalty), XrayFFTF(kmin=2, kmax=min(12,kmax), "
                    "dk=1, Hanning, kweight=2, grid=Larch), automatic PrePostEdge",
        "agreement_with_larch": {
            "e0_abs_diff_eV": {"median": statistics.median(de0), "max": max(de0),
                               "n_over_1eV": sum(d > 1 for d in de0)} if de0 else None,
            "k2chi_rel_rms_2_12_auto_e0": {"median": statistics.median(ra), "max": max(ra)} if ra else None,
            "k2chi_rel_rms_2_12_larch_e0": {"median": statistics.median(rl), "max": max(rl)} if rl else None,
        },
        "errors": {r["id"]: r["error"] for r in rows if "error" in r},
        "per_case": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows],
    }), flush=True)


if __name__ == "__main__":
    main()
