#!/usr/bin/env python
"""Reference fixtures for Carto's feffit port, computed with xraylarch's feffit.

Usage:
    make_feffit_fixtures.py [DATA_ROOT] [--only NAME] [--models DIR]

Reads every tests/fixtures/feffit/*.toml (Carto's model format), replaces
``@DATA@`` with DATA_ROOT (default ../shared/data relative to the repository
root), builds the fit with Larch exactly as a Larch user would (read_ascii /
read_xdi, pre_edge, autobk, feffit_transform, param/guess, feffpath,
feffit_dataset, feffit with its defaults) and writes NAME.larch.json next to
each model.  Output is deterministic: every float is written with repr()
(full double precision) and the data root never appears in the output.

The TOML -> Larch building code (load_model, build_data, build_fit) is shared
with bench_larch_fit.py, which imports it from here.
"""
import argparse
import json
import math
import sys
import tomllib
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")

import larch  # noqa: E402
from larch import Group  # noqa: E402
from larch.io import read_ascii, read_xdi  # noqa: E402
from larch.fitting import param, param_group  # noqa: E402
from larch.xafs import pre_edge, autobk, feffpath, feffit_transform, feffit_dataset, feffit  # noqa: E402
from larch.xafs import feffit_report  # noqa: E402
# the module (larch.xafs re-exports the function feffit under the same name)
larch_feffit_mod = sys.modules["larch.xafs.feffit"]

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
MODELS_DIR = REPO / "tests" / "fixtures" / "feffit"
DEFAULT_ROOT = (REPO / ".." / "shared" / "data")

PATH_PARS = ("s02", "e0", "deltar", "sigma2", "third", "fourth", "ei")
TRANSFORM_KEYS = ("kmin", "kmax", "kweight", "dk", "dk2", "window", "rmin", "rmax",
                  "dr", "dr2", "rwindow", "fitspace", "nfft", "kstep")
PRE_EDGE_KEYS = ("e0", "pre1", "pre2", "norm1", "norm2", "nnorm", "nvict", "step")
AUTOBK_KEYS = ("rbkg", "kweight", "kmin", "kmax", "dk", "win", "nknots", "nclamp",
               "clamp_lo", "clamp_hi")

I0_NAMES = ("i0", "io", "izero", "mon", "monitor")
IT_NAMES = ("it", "i1", "itrans", "itr", "trans", "itransmission")
IF_NAMES = ("if", "ifluor", "fluor", "fluo", "fl")
MU_NAMES = ("mu", "xmu", "mutrans", "mu_trans", "mufluor")


# ---------------------------------------------------------------- model file

def _subst(obj, root, base):
    """replace @DATA@ in every string; make relative 'file' paths absolute"""
    if isinstance(obj, dict):
        out = {}
        for key, val in obj.items():
            val = _subst(val, root, base)
            if key == "file" and isinstance(val, str) and not Path(val).is_absolute():
                val = str((base / val).resolve())
            out[key] = val
        return out
    if isinstance(obj, list):
        return [_subst(v, root, base) for v in obj]
    if isinstance(obj, str):
        return obj.replace("@DATA@", str(root))
    return obj


def load_model(toml_path, data_root):
    """the model as a dict, with a normalised list under 'datasets'"""
    toml_path = Path(toml_path).resolve()
    with open(toml_path, "rb") as fh:
        raw = tomllib.load(fh)
    model = _subst(raw, Path(data_root).resolve(), toml_path.parent)
    if "datasets" in model:
        dsets = model["datasets"]
    else:
        dsets = [{"data": model["data"], "transform": model.get("transform", {}),
                  "paths": model.get("paths", [])}]
    return {"name": toml_path.name, "params": model.get("params", {}), "datasets": dsets}


# ---------------------------------------------------------------- data

def read_columns(dspec):
    """returns (Larch group from read_ascii/read_xdi, list of column names)"""
    fname = dspec["file"]
    labels = dspec.get("columns")
    if fname.lower().endswith(".xdi"):
        grp = read_xdi(fname, labels=labels)
    else:
        grp = read_ascii(fname, labels=labels)
    names = list(grp.array_labels)
    return grp, names


def is_chi_data(dspec, names):
    return names[0].lower() == "k" or dspec["file"].lower().endswith(".chi")


def build_mu(grp, names, how):
    low = [n.lower() for n in names]
    lookup = dict(zip(low, names))

    def get(cands):
        for c in cands:
            if c in lookup:
                return np.asarray(getattr(grp, lookup[c]), dtype=float)
        return None

    if how is None or how == "auto":
        mu = get(MU_NAMES)
        if mu is not None:
            return mu, "column " + next(c for c in MU_NAMES if c in lookup)
        how = "transmission" if (get(I0_NAMES) is not None and get(IT_NAMES) is not None) \
            else names[1]
    if how == "transmission":
        i0, it = get(I0_NAMES), get(IT_NAMES)
        return np.log(i0 / it), "transmission ln(i0/it)"
    if how == "fluorescence":
        i0, i_f = get(I0_NAMES), get(IF_NAMES)
        return i_f / i0, "fluorescence if/i0"
    return np.asarray(getattr(grp, lookup[how.lower()]), dtype=float), "column " + how


def build_data(dspec):
    """Larch data group with k, chi (and, for mu(E) data, the pre_edge/autobk
    outputs incl. autobk_details), plus a small info dict."""
    grp, names = read_columns(dspec)
    info = {"file": Path(dspec["file"]).name, "columns": names}
    if is_chi_data(dspec, names):
        k = np.asarray(getattr(grp, names[0]), dtype=float)
        cname = "chi" if "chi" in names else names[1]
        chi = np.asarray(getattr(grp, cname), dtype=float)
        g = Group(k=k, chi=chi)
        info.update(kind="chi", autobk=None)
        return g, info

    energy = np.asarray(getattr(grp, names[0]), dtype=float)
    mu, mu_note = build_mu(grp, names, dspec.get("mu"))
    pre_kws = {k: v for k, v in dspec.get("pre_edge", {}).items() if k in PRE_EDGE_KEYS}
    abk_kws = {k: v for k, v in dspec.get("autobk", {}).items() if k in AUTOBK_KEYS}
    g = Group(energy=energy, mu=mu)
    pre_edge(g, **pre_kws)
    autobk(g, **abk_kws)
    d = g.autobk_details
    info.update(kind="mu", mu=mu_note, pre_edge_kws=pre_kws, autobk_kws=abk_kws,
                autobk={"e0": g.e0, "ek0": g.ek0, "edge_step": g.edge_step,
                        "rbkg": g.rbkg, "nknots": int(d.nspl), "kmax": d.kmax,
                        "irbkg": int(d.irbkg), "nk": len(g.k)})
    return g, info


# ---------------------------------------------------------------- params, paths

def build_params(pspec):
    """a Larch ParameterGroup (param()/guess() style) from the [params] table"""
    kws = {}
    for name, spec in pspec.items():
        if isinstance(spec, (int, float)):
            kws[name] = param(float(spec), vary=False)
            continue
        opts = {}
        if "min" in spec:
            opts["min"] = float(spec["min"])
        if "max" in spec:
            opts["max"] = float(spec["max"])
        if "expr" in spec:
            kws[name] = param(expr=spec["expr"], **opts)
        else:
            kws[name] = param(float(spec["value"]), vary=bool(spec.get("vary", False)), **opts)
    return param_group(**kws)


def build_path(pspec):
    kws = {}
    for p in PATH_PARS + ("degen",):
        if p in pspec:
            v = pspec[p]
            kws[p] = v if isinstance(v, str) else float(v)
    # default label: file stem (Larch's own default is a hash of the absolute
    # file name, which would make the output depend on the data root)
    label = pspec.get("label", Path(pspec["file"]).stem)
    return feffpath(pspec["file"], label=label, **kws)


def build_transform(tspec):
    kws = {k: (list(v) if isinstance(v, list) else v)
           for k, v in tspec.items() if k in TRANSFORM_KEYS}
    return feffit_transform(**kws)


def build_fit(model, data_groups=None):
    """returns (params_factory, datasets, infos).  data_groups may be passed
    in to reuse already-processed data (bench)."""
    infos = []
    if data_groups is None:
        data_groups = []
        for ds in model["datasets"]:
            g, info = build_data(ds["data"])
            data_groups.append(g)
            infos.append(info)
    datasets = []
    for ds, g in zip(model["datasets"], data_groups):
        trans = build_transform(ds.get("transform", {}))
        paths = [build_path(p) for p in ds.get("paths", [])]
        eps = ds.get("transform", {}).get("epsilon_k")
        datasets.append(feffit_dataset(data=g, pathlist=paths, transform=trans,
                                       epsilon_k=eps))

    def params_factory():
        return build_params(model["params"])
    return params_factory, datasets, infos, data_groups


# ---------------------------------------------------------------- output helpers

def fl(x):
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def farr(a):
    return [fl(v) for v in np.asarray(a, dtype=float).ravel()]


def eps_summary(eps):
    if isinstance(eps, np.ndarray):
        return {"mean": fl(eps.mean()), "std": fl(eps.std()), "first": farr(eps[:5]),
                "values": farr(eps)}
    return fl(eps)


def run_model(toml_path, data_root):
    model = load_model(toml_path, data_root)
    params_factory, datasets, infos, _ = build_fit(model)
    pgroup = params_factory()
    user_names = list(model["params"].keys())
    init_vals = {n: fl(pgroup._params[n].value) if pgroup._params[n].expr is None else None
                 for n in user_names}

    # capture the first residual evaluation: scipy's leastsq calls the
    # function once at the initial values (x0) before iterating
    captured = {}
    orig = larch_feffit_mod._feffit_resid

    def wrapped(params, datasets=None, **kws):
        out = orig(params, datasets=datasets, **kws)
        if "resid" not in captured:
            captured["resid"] = np.array(out, dtype=float)
            captured["vals"] = {n: float(params[n].value) for n in user_names}
        return out
    larch_feffit_mod._feffit_resid = wrapped
    try:
        result = feffit(pgroup, datasets)
    finally:
        larch_feffit_mod._feffit_resid = orig

    for n in user_names:   # sanity: the captured call was at the initial values
        if init_vals[n] is not None and not np.isclose(captured["vals"][n], init_vals[n],
                                                       rtol=1e-12, atol=1e-15):
            raise RuntimeError(f"first residual call not at initial value for {n}")
    r0 = captured["resid"]

    rp = result.params
    rp.update_constraints()   # undo stale symtable values left by eval_stderr
    out = {"larch_version": larch.__version__, "model": model["name"]}
    out["initial"] = {"sumsq": fl((r0 ** 2).sum()), "n": int(len(r0)), "head": farr(r0[:8])}

    pars = {}
    for n in user_names:
        p = rp[n]
        pars[n] = {"value": fl(p.value), "stderr": fl(p.stderr), "vary": bool(p.vary),
                   "expr": p.expr if p.expr else None,
                   "init": fl(p.init_value) if p.expr is None else None}
    out["params"] = pars

    ppars = []
    for ds in result.datasets:
        plist = []
        for path in ds.paths.values():
            path.params = rp
            vals = path.path_paramvals()
            row = {"label": path.label, "file": Path(path.filename).name,
                   "reff": fl(path.reff), "degen": fl(path.degen)}
            for pn in PATH_PARS:
                row[pn] = fl(vals[pn])
                se = getattr(rp[path.pathpar_name(pn)], "stderr", None)
                if se is not None:
                    row[pn + "_stderr"] = fl(se)
            plist.append(row)
        ppars.append(plist)
    out["path_params"] = ppars

    out["stats"] = {"chi_square": fl(result.chi_square), "chi2_reduced": fl(result.chi2_reduced),
                    "rfactor": fl(result.rfactor), "n_idp": fl(result.n_independent),
                    "nvarys": int(result.nvarys), "nfree": int(result.nfree),
                    "ndata": int(result.ndata), "nfev": int(result.nfev),
                    "aic": fl(result.aic), "bic": fl(result.bic)}

    corr = {}
    vnames = list(result.var_names)
    for i, a in enumerate(vnames):
        for b in vnames[i + 1:]:
            c = (rp[a].correl or {}).get(b)
            corr[f"{a},{b}"] = fl(c)
    out["correlations"] = corr

    dsout = []
    for ds, info in zip(result.datasets, infos):
        d = {"data": info, "n_idp": fl(ds.n_idp),
             "kweight": ds.transform.kweight, "fitspace": ds.transform.fitspace}
        eps_k = ds.epsilon_k
        if isinstance(eps_k, list):
            d["epsilon_k"] = [eps_summary(e) for e in eps_k]
            d["epsilon_k_is_array"] = any(isinstance(e, np.ndarray) for e in eps_k)
            d["epsilon_r"] = [fl(e) for e in ds.epsilon_r]
        else:
            d["epsilon_k"] = eps_summary(eps_k)
            d["epsilon_k_is_array"] = isinstance(eps_k, np.ndarray)
            d["epsilon_r"] = fl(ds.epsilon_r)
        dchi = getattr(ds.data, "delta_chi", None)
        d["delta_chi_branch"] = dchi is not None
        d["delta_chi"] = farr(dchi) if dchi is not None else None
        d["data_k_len"] = int(len(ds.data.k))
        d["k"] = farr(ds.model.k)
        d["chi_data"] = farr(ds._chi)
        d["chi_fit"] = farr(ds.model.chi)
        d["r"] = farr(ds.model.r)
        d["chir_mag_data"] = farr(ds.data.chir_mag)
        d["chir_mag_fit"] = farr(ds.model.chir_mag)
        dsout.append(d)

    # the report must be made before estimate_noise() below changes epsilon_k
    report = feffit_report(result).replace(str(Path(data_root).resolve()), "@DATA@")

    # the high-R noise estimate alone (what epsilon_k is before delta_chi is
    # added in quadrature): recomputed on each dataset after everything above
    # has been read, as it overwrites ds.epsilon_k / ds.epsilon_r
    for ds, d in zip(result.datasets, dsout):
        ds.estimate_noise(chi=ds._chi, rmin=15.0, rmax=30.0)
        ek, er = ds.epsilon_k, ds.epsilon_r
        d["noise_epsilon_k"] = [fl(e) for e in ek] if isinstance(ek, list) else fl(ek)
        d["noise_epsilon_r"] = [fl(e) for e in er] if isinstance(er, list) else fl(er)
    out["datasets"] = dsout

    out["report"] = report
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("data_root", nargs="?", default=str(DEFAULT_ROOT))
    ap.add_argument("--models", default=str(MODELS_DIR))
    ap.add_argument("--only", default=None, help="model file stem, e.g. cu_1shell")
    args = ap.parse_args()

    for toml_path in sorted(Path(args.models).glob("*.toml")):
        if args.only and toml_path.stem != args.only:
            continue
        out = run_model(toml_path, args.data_root)
        text = json.dumps(out, indent=1, allow_nan=False) + "\n"
        dest = toml_path.with_name(toml_path.stem + ".larch.json")
        dest.write_text(text)
        st = out["stats"]
        vals = ", ".join(f"{n}={p['value']:.6g}" + (f"±{p['stderr']:.2g}" if p['stderr'] else "")
                         for n, p in out["params"].items() if p["vary"])
        eps = ["array" if d["epsilon_k_is_array"] else "scalar" for d in out["datasets"]]
        print(f"{toml_path.stem}: {len(text)/1024:.0f} KiB  nfev={st['nfev']} "
              f"redchi={st['chi2_reduced']:.6g} rfactor={st['rfactor']:.6g} eps_k={eps}  {vals}",
              file=sys.stderr)
        if len(text) > 1_000_000:
            raise SystemExit(f"{dest} is larger than 1 MB")


if __name__ == "__main__":
    main()
