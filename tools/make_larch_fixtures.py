#!/usr/bin/env python
"""Generate Larch reference values for Carto's XAS chain (pre_edge -> autobk -> xftf).

Usage:
    python tools/make_larch_fixtures.py [DATA_ROOT] [-o tests/fixtures/larch/xas_chain.json]

DATA_ROOT defaults to ../shared/data relative to the repository root.
The case table lives in tools/xas_cases.py.  See tools/README.md.
"""
import argparse
import json
import math
import re
import sys
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

# autobk: rbkg=1, kweight=2, every other argument at Larch 2026.3's default
AUTOBK_PARAMS = dict(rbkg=1.0, kweight=2, kmin=0.0, kmax=None, dk=0.1, win="hanning",
                     nclamp=3, clamp_lo=0.0, clamp_hi=1.0, nfft=2048, kstep=0.05)
XFTF_BASE = dict(kmin=2.0, kmax=12.0, dk=1.0, window="hanning", kweight=2)
PRE_EDGE_PARAMS = {}   # Larch defaults everywhere
RPEAK_MIN = 1.0


def sig(x, n=10):
    """round to n significant digits (returns float / None)"""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    if x == 0.0:
        return 0.0
    return float("%.*g" % (n, x))


def arr(a):
    return [sig(v) for v in np.asarray(a, dtype=float).ravel()]


# ---------------------------------------------------------------- input

def independent_rows(path):
    """A parser independent of Larch: every line whose tokens are all numbers
    (comment lines starting with # ; % skipped), keeping the modal column count."""
    rows = []
    for line in Path(path).read_text(errors="replace").splitlines():
        s = line.strip()
        if not s or s[0] in "#;%":
            continue
        toks = re.split(r"[\s,]+", s)
        try:
            vals = [float(t) for t in toks if t]
        except ValueError:
            continue
        rows.append(vals)
    lens = [len(r) for r in rows]
    modal = max(set(lens), key=lens.count)
    return np.array([r for r in rows if len(r) == modal])


def build_mu(data, recipe):
    """data: array (ncols, npts) -- numeric columns in file order"""
    k = recipe["kind"]
    with np.errstate(all="ignore"):
        if k == "column":
            return data[recipe["mu"]].copy()
        if k == "transmission":
            return np.log(data[recipe["i0"]] / data[recipe["it"]])
        if k == "fluorescence":
            return np.sum([data[i] for i in recipe["i_f"]], axis=0) / data[recipe["i0"]]
        if k == "reference":
            return np.log(data[recipe["it"]] / data[recipe["iref"]])
    raise ValueError(k)


def load_case(root, case):
    """returns energy, mu (the arrays handed to pre_edge) and a note"""
    path = Path(root, case["file"])
    if case["mu"]["kind"] == "athena":
        prj = read_athena(str(path), do_preedge=False)
        found = [g for g in prj.groups.values() if getattr(g, "label", None) == case["group"]]
        if len(found) != 1:
            raise ValueError(f"{case['id']}: Athena group {case['group']!r} found {len(found)} times")
        g = found[0]
        eshift = float(getattr(g.athena_params.bkg, "eshift", 0.0))
        note = ("energy = group.energy exactly as returned by larch.io.read_athena(do_preedge=False) "
                "(sorted, duplicates removed), mu = group.mu; the project's bkg_eshift="
                f"{sig(eshift)} is NOT applied (read_athena only stores it as group.energy_shift)")
        return np.asarray(g.energy, float).copy(), np.asarray(g.mu, float).copy(), note

    grp = read_ascii(str(path))
    data = np.asarray(grp.data, float)
    energy = data[case["energy_col"]] * case["energy_scale"]
    mu = build_mu(data, case["mu"])

    # verification with an independent parser + recomputed mu
    rows = independent_rows(path).T
    extra = rows.shape[1] - data.shape[1]
    if rows.shape[0] != data.shape[0] or extra < 0:
        raise ValueError(f"{case['id']}: independent parse {rows.shape} vs larch {data.shape}")
    rows = rows[:, extra:]   # e.g. SSRL headers carry numeric 'weights'/'offsets' lines
    if not np.allclose(rows, data, rtol=1e-12, atol=0):
        raise ValueError(f"{case['id']}: numeric columns differ from larch read_ascii")
    mu2 = build_mu(rows, case["mu"])
    if not np.allclose(mu, mu2, rtol=1e-12, atol=0):
        raise ValueError(f"{case['id']}: recomputed mu differs")
    labels = list(grp.array_labels)
    note = f"read_ascii labels: {labels[:12]}{' ...' if len(labels) > 12 else ''}"
    if extra:
        note += f"; {extra} numeric header line(s) precede the data block and are not data"
    if not (np.all(np.isfinite(energy)) and np.all(np.isfinite(mu))):
        raise ValueError(f"{case['id']}: non-finite energy/mu")
    if np.any(np.diff(energy) < 0):
        raise ValueError(f"{case['id']}: energy not non-decreasing")
    return energy, mu, note


# ---------------------------------------------------------------- chain

def run_chain(energy, mu, exafs=True, xftf_kmax=None):
    g = Group(energy=energy.copy(), mu=mu.copy())
    pre_edge(g, **PRE_EDGE_PARAMS)
    if exafs:
        autobk(g, **AUTOBK_PARAMS)
        xp = dict(XFTF_BASE)
        xp["kmax"] = min(XFTF_BASE["kmax"], float(g.k[-1])) if xftf_kmax is None else xftf_kmax
        xftf(g, **xp)
        return g, xp
    return g, None


def case_results(g, energy, exafs):
    d = g.pre_edge_details
    nc = sorted(int(a[6:]) for a in dir(d) if re.fullmatch(r"norm_c\d+", a))
    e_used = remove_dups(np.asarray(energy, float), tiny=TINY_ENERGY)
    res = {
        "e0": sig(g.e0), "edge_step": sig(g.edge_step),
        "pre_slope": sig(d.pre_slope), "pre_intercept": sig(d.pre_offset),
        "pre1": sig(d.pre1), "pre2": sig(d.pre2), "norm1": sig(d.norm1), "norm2": sig(d.norm2),
        "nnorm": int(d.nnorm), "norm_c": [sig(getattr(d, f"norm_c{i}")) for i in nc],
        "energy": arr(e_used), "norm": arr(g.norm), "flat": arr(g.flat),
        "bkg": None, "k": None, "chi": None, "r": None, "chir_mag": None, "chir_re": None,
        "chir_im": None, "chir_mag_peak_r": None,
        "autobk_nknots": None, "autobk_kmax": None, "autobk_kmin": None,
    }
    if exafs:
        det = g.autobk_details
        m = g.r > RPEAK_MIN
        res.update({
            "bkg": arr(g.bkg), "k": arr(g.k), "chi": arr(g.chi),
            "r": arr(g.r), "chir_mag": arr(g.chir_mag), "chir_re": arr(g.chir_re),
            "chir_im": arr(g.chir_im),
            "chir_mag_peak_r": sig(g.r[m][np.argmax(g.chir_mag[m])]),
            "autobk_nknots": int(det.nspl), "autobk_kmax": sig(det.kmax),
            "autobk_kmin": sig(det.kmin),
        })
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_root", nargs="?", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("-o", "--output", default=str(REPO / "tests" / "fixtures" / "larch" / "xas_chain.json"))
    ap.add_argument("--only", help="comma-separated case ids (for debugging)")
    args = ap.parse_args()
    root = Path(args.data_root).resolve()

    only = set(args.only.split(",")) if args.only else None
    cases = []
    for case in CASES:
        if only and case["id"] not in only:
            continue
        energy, mu, note = load_case(root, case)
        g, xp = run_chain(energy, mu, case["exafs"])
        res = case_results(g, energy, case["exafs"])
        out = {
            "id": case["id"], "file": case["file"], "group": case["group"],
            "energy_col": case["energy_col"], "energy_scale": case["energy_scale"],
            "mu": case["mu"],
            "input": {"npts": int(len(energy)), "energy_first": sig(energy[0]),
                      "energy_last": sig(energy[-1]), "mu_sum": sig(np.sum(mu))},
            "exafs": case["exafs"],
            "note": f"{case['why']}. {note}",
            "pre_edge_params": dict(PRE_EDGE_PARAMS),
            "autobk_params": dict(AUTOBK_PARAMS) if case["exafs"] else None,
            "xftf_params": xp,
            "results": res,
        }
        cases.append(out)
        msg = f"{case['id']:24s} n={len(energy):5d} e0={g.e0:10.3f} step={g.edge_step:10.4g}"
        if case["exafs"]:
            msg += (f" kmax_xftf={xp['kmax']:6.2f} nknots={res['autobk_nknots']:3d}"
                    f" Rpeak={res['chir_mag_peak_r']:.3f}")
        print(msg, file=sys.stderr)

    doc = {"larch_version": larch.__version__, "numpy_version": np.__version__,
           "generated_by": "tools/make_larch_fixtures.py", "cases": cases}
    outp = Path(args.output)
    outp.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, separators=(",", ":"))
    outp.write_text(text + "\n")
    print(f"wrote {outp} ({len(text)/1e6:.2f} MB, {len(cases)} cases)", file=sys.stderr)
    # The case table alone (no results), compiled into `carto bench xas` so it
    # times exactly the spectra tools/bench_larch.py times.
    keys = ("id", "file", "group", "energy_col", "energy_scale", "mu", "exafs")
    table = [{k: c[k] for k in keys} for c in cases]
    tpath = outp.with_name("xas_cases.json")
    tpath.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {tpath}", file=sys.stderr)


if __name__ == "__main__":
    main()
