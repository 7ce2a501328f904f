#!/usr/bin/env python
"""pymatgen reference values for CIF parsing and crystal structures: for every
CIF in cif/amcsd, cif/amcsd_library and cif/misc of the data root, what
pymatgen's CifParser makes of it (formula, composition, number of sites,
lattice, space group at two tolerances, parser warnings, partial occupancies or
the parse error), and for cif/amcsd and cif/misc the neighbour shells (to 6 A)
around the first site of each element. Writes
tests/fixtures/structure/pymatgen_structures.json.

Usage: /work/venv/pmg/bin/python tools/make_structure_fixtures.py [DATA_ROOT] \
           [-o tests/fixtures/structure/pymatgen_structures.json]

Per file (all floats rounded to 1e-6):
  file               path relative to DATA_ROOT
  formula            Composition.reduced_formula of the parsed structure
  composition        {element: amount in the cell as parsed} (occupancy-weighted,
                     oxidation states dropped)
  natoms             len(structure) (sites of the non-primitive cell as parsed;
                     a disordered site counts once)
  lattice            a, b, c, alpha, beta, gamma, volume
  spacegroup_number, spacegroup_symbol
                     SpacegroupAnalyzer(s, symprec=0.01, angle_tolerance=5)
  spacegroup_number_0p1
                     the same with symprec=0.1
  sg_error           SpacegroupAnalyzer's exception text when it fails
  ordered            Structure.is_ordered
  partial            (only if not ordered) [[site index, {element: occupancy}], ...]
                     for every site whose species are not one element at occupancy 1
  nblocks, nstructures
                     (only if either is > 1) CIF data blocks / structures parsed;
                     everything else describes the first structure
  warnings           CifParser.warnings and the Python warnings raised while
                     parsing, de-duplicated (without parse_structures' summary
                     "Issues encountered while parsing CIF: ..."), each cut to
                     200 characters; the set-ordered " ratios={...}" tail of
                     "Incorrect stoichiometry" warnings is dropped
  error              instead of the above when parse_structures raises
  shells             (cif/amcsd and cif/misc only) {element: [{"r", "count",
                     "element"}, ...]}: s.get_neighbors(s[i], 6.0) with i the
                     first site whose species contain the element, grouped by
                     (round(distance, 2), neighbour element); "r" is the mean
                     distance of the group, sorted by (round(r, 2), element).
                     A disordered neighbour site is labelled by its species
                     string in pymatgen's form, e.g. "Fe:0.500, Mg:0.500"
                     (elements only, oxidation states dropped).
"""
import argparse
import json
import sys
import warnings
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

from pymatgen.io.cif import CifParser
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

REPO = Path(__file__).resolve().parent.parent
FOLDERS = ("cif/amcsd", "cif/amcsd_library", "cif/misc")
SHELL_FOLDERS = ("cif/amcsd", "cif/misc")
SHELL_RMAX = 6.0


def rnd(x):
    return round(float(x), 6)


def el_dict(species):
    """{element symbol: occupancy} of a site's species (oxidation states dropped)."""
    out = defaultdict(float)
    for sp, occ in species.items():
        out[sp.symbol] += occ
    return dict(out)


def site_label(site):
    d = el_dict(site.species)
    if len(d) == 1 and abs(next(iter(d.values())) - 1.0) < 1e-12:
        return next(iter(d))
    return ", ".join(f"{el}:{occ:.3f}" for el, occ in sorted(d.items()))


def spacegroup(s, symprec):
    sga = SpacegroupAnalyzer(s, symprec=symprec, angle_tolerance=5)
    return sga.get_space_group_number(), sga.get_space_group_symbol()


def shells(s):
    out = {}
    seen = []
    for site in s:
        for el in el_dict(site.species):
            if el not in seen:
                seen.append(el)
    for el in sorted(seen):
        i = next(j for j, site in enumerate(s) if el in el_dict(site.species))
        groups = defaultdict(list)
        for nb in s.get_neighbors(s[i], SHELL_RMAX):
            groups[(round(nb.nn_distance, 2), site_label(nb))].append(nb.nn_distance)
        out[el] = [{"r": rnd(sum(ds) / len(ds)), "count": len(ds), "element": lab}
                   for (_, lab), ds in sorted(groups.items())]
    return out


def short(msg, n=200):
    msg = " ".join(str(msg).split())
    # the "ratios={...}" part of pymatgen's stoichiometry warning is built from a
    # set, so its order changes from run to run: drop it
    if msg.startswith("Incorrect stoichiometry") and " ratios=" in msg:
        msg = msg[: msg.index(" ratios=")]
    return msg if len(msg) <= n else msg[: n - 3] + "..."


def one(root, rel, with_shells):
    rec = {"file": rel}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            parser = CifParser(str(root / rel))
            structs = parser.parse_structures(primitive=False)
        except Exception as exc:  # noqa: BLE001 - the error text is the fixture
            rec["error"] = short(f"{type(exc).__name__}: {exc}", 300)
            parser = None
            structs = None
    msgs = []
    for m in (parser.warnings if parser is not None else []) + [str(w.message) for w in caught]:
        if str(m).startswith("Issues encountered while parsing CIF:"):
            continue  # parse_structures' summary of parser.warnings, already listed
        m = short(m)
        if m not in msgs:
            msgs.append(m)
    if structs is None:
        rec["warnings"] = msgs
        return rec
    s = structs[0]
    nblocks = len(parser._cif.data)
    if nblocks > 1 or len(structs) > 1:
        rec["nblocks"] = nblocks
        rec["nstructures"] = len(structs)
    comp = s.composition.element_composition
    lat = s.lattice
    rec.update({
        "formula": comp.reduced_formula,
        "composition": {el.symbol: rnd(amt) for el, amt in sorted(comp.items(), key=lambda t: t[0].symbol)},
        "natoms": len(s),
        "lattice": {"a": rnd(lat.a), "b": rnd(lat.b), "c": rnd(lat.c), "alpha": rnd(lat.alpha),
                    "beta": rnd(lat.beta), "gamma": rnd(lat.gamma), "volume": rnd(lat.volume)},
    })
    try:
        rec["spacegroup_number"], rec["spacegroup_symbol"] = spacegroup(s, 0.01)
        rec["spacegroup_number_0p1"] = spacegroup(s, 0.1)[0]
    except Exception as exc:  # noqa: BLE001
        rec["sg_error"] = short(f"{type(exc).__name__}: {exc}", 300)
    rec["ordered"] = bool(s.is_ordered)
    if not s.is_ordered:
        part = []
        for i, site in enumerate(s):
            d = el_dict(site.species)
            if not (len(d) == 1 and abs(next(iter(d.values())) - 1.0) < 1e-12):
                part.append([i, {el: rnd(o) for el, o in sorted(d.items())}])
        rec["partial"] = part
    rec["warnings"] = msgs
    if with_shells:
        rec["shells"] = shells(s)
    return rec


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_root", nargs="?", default=str(REPO.parent / "shared" / "data"))
    ap.add_argument("-o", "--output",
                    default=str(REPO / "tests" / "fixtures" / "structure" / "pymatgen_structures.json"))
    args = ap.parse_args()
    root = Path(args.data_root)
    cases = []
    for folder in FOLDERS:
        files = sorted(p.name for p in (root / folder).glob("*.cif"))
        for name in files:
            rel = f"{folder}/{name}"
            rec = one(root, rel, folder in SHELL_FOLDERS)
            cases.append(rec)
            status = rec.get("error") or rec.get("sg_error") or f"{rec['formula']} sg {rec['spacegroup_number']}"
            print(f"{rel}: {status}", file=sys.stderr)
    out = {
        "generated_by": "tools/make_structure_fixtures.py",
        "pymatgen": version("pymatgen"),
        "pymatgen_core": version("pymatgen-core"),
        "spglib": version("spglib"),
        "parse": "CifParser(path).parse_structures(primitive=False)[0]",
        "spacegroup": "SpacegroupAnalyzer(s, symprec=0.01, angle_tolerance=5); spacegroup_number_0p1: symprec=0.1",
        "shells": "s.get_neighbors(s[first site containing el], 6.0), grouped by (round(d, 2), element)",
        "n_files": len(cases),
        "n_errors": sum("error" in c for c in cases),
        "cases": cases,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(out, separators=(",", ":"), ensure_ascii=False)
    # one case per line: compact but diff-friendly
    text = text.replace(',{"file":', ',\n{"file":').replace('"cases":[{"file":', '"cases":[\n{"file":')
    Path(args.output).write_text(text + "\n")


if __name__ == "__main__":
    main()
