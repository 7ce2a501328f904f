#!/usr/bin/env python
"""Regenerate the reference fixtures for tests/readers_athena_feff.rs.

Runs xraylarch's own readers (read_athena, FeffDatFile) on the shared data
and writes small JSON files under tests/fixtures/{athena,feff}/. The Rust
tests compare against these, so they never need Python.

Usage (from the repository root):
    /work/venv/larch/bin/python tools/athena_feff_reference.py [DATA_DIR]

DATA_DIR defaults to $CARTO_TEST_DATA or ../shared/data.

Two Larch quirks are recorded rather than hidden:
* Larch skips every line of a Perl project that contains the word `undef`,
  so in athena1.prj and zn_solution.prj it drops the whole `@args` line and
  the groups lose their labels and parameters. For those files a second pass
  runs Larch on a copy where `undef` is replaced by `''` (the value Perl's
  Data::Dumper meant: no value); that pass gives the labels/params the Rust
  reader must find. Both are written (`larch_raw` and the group list).
* Larch keys groups by a sanitised label (or by the Athena id), so records
  with duplicate ids/labels collapse (CuHERFD_samples.prj: 94 records, 91
  groups). `n_records` counts the `[record]`s; `larch_ngroups` is Larch's.
"""
import gzip
import io
import json
import os
import sys
import tempfile
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
from larch.io import read_athena
from larch.io.athena_project import _read_raw_athena
from larch.xafs import FeffDatFile

ROOT = Path(__file__).resolve().parent.parent
PARAMS = ('bkg_e0', 'bkg_rbkg', 'bkg_eshift', 'bkg_pre1', 'bkg_nor2',
          'bkg_kw', 'fft_kmin', 'fft_kmax', 'fft_dk')


def data_dir():
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    env = os.environ.get('CARTO_TEST_DATA')
    if env:
        return Path(env)
    return ROOT.parent / 'shared' / 'data'


def pick(arr):
    """First, middle and last value with their indices."""
    n = len(arr)
    idx = sorted({0, n // 2, n - 1}) if n else []
    return [[i, float(arr[i])] for i in idx]


def param(grp, name):
    sub, key = name.split('_', 1)
    val = getattr(getattr(grp.athena_params, sub), key, None)
    try:
        return float(val)
    except (TypeError, ValueError):
        return None


class Capture(io.StringIO):
    """Captured stdout; Larch's bytes2str decodes with sys.stdout.encoding."""
    encoding = 'utf-8'


def read_quiet(path, use_hashkey=True):
    buf = Capture()
    with redirect_stdout(buf):
        out = read_athena(str(path), do_preedge=False, use_hashkey=use_hashkey)
    return out, buf.getvalue()


def athena_reference(path):
    text = _read_raw_athena(str(path))
    is_json = text.lstrip().startswith('{')
    n_records = (len(json.loads(text).get('_____order', [])) if is_json
                 else sum(1 for ln in text.split('\n') if ln.startswith('[record]')))
    prj, log = read_quiet(path)
    entry = {
        'file': path.name,
        'format': 'json' if is_json else 'perl',
        'gzip': path.read_bytes()[:2] == b'\x1f\x8b',
        'n_records': n_records,
        'larch_ngroups': len(prj.groups),
        'larch_log': log.strip(),
    }
    undef_quirk = (not is_json) and any(
        'undef' in ln and ln.startswith('@args') for ln in text.split('\n'))
    tmp = None
    if undef_quirk:
        entry['larch_raw'] = [[k, getattr(g, 'label', None)]
                              for k, g in prj.groups.items()]
        with tempfile.NamedTemporaryFile('w', suffix='.prj', delete=False) as fh:
            fh.write(text.replace(',undef', ",''").replace('(undef', "(''"))
            tmp = fh.name
        prj, _ = read_quiet(tmp)
        entry['undef_replaced'] = True
    # Larch's own group names (sanitised labels), mapped to Athena ids.
    by_name, _ = read_quiet(tmp or path, use_hashkey=False)
    entry['larch_names'] = [[k, g.athena_id] for k, g in by_name.groups.items()]
    if tmp:
        os.unlink(tmp)
    groups = []
    for gid, grp in prj.groups.items():
        is_chi = hasattr(grp, 'k')
        x = grp.k if is_chi else grp.energy
        y = grp.chi if is_chi else grp.mu
        groups.append({
            'id': gid,
            'label': getattr(grp, 'label', None),
            'is_chi': is_chi,
            'npts': len(x),
            'x': pick(x),
            'y': pick(y),
            'has_i0': getattr(grp, 'i0', None) is not None,
            'params': {p: param(grp, p) for p in PARAMS},
        })
    entry['groups'] = groups
    return entry


def feff_reference(path):
    d = FeffDatFile(filename=str(path))
    return {
        'file': f'{path.parent.name}/{path.name}',
        'title': d.title,
        'version': d.version,
        'shell': d.shell,
        'absorber': d.absorber,
        'reff': float(d.reff),
        'degen': float(d.degen),
        'nleg': int(d.nleg),
        'rnorman': float(d.rnorman),
        'edge': float(d.edge),
        'gam_ch': float(d.gam_ch),
        'exch': d.exch,
        'vmu': float(d.vmu),
        'vint': float(d.vint),
        'rs_int': float(d.rs_int),
        'potentials': [list(map(float, p)) for p in d.potentials],
        'geom': [[g[0], int(g[1]), int(g[2]), float(g[4]), float(g[5]), float(g[6])]
                 for g in d.geom],
        'nk': len(d.k),
        'rows': {name: pick(getattr(d, name)) for name in
                 ('k', 'real_phc', 'mag_feff', 'pha_feff', 'red_fact', 'lam', 'rep')},
    }


def dump(entries, path, inner):
    """One line per entry (or per entry's `inner` item): small and diffable."""
    lines = []
    for e in entries:
        items = e.pop(inner, None)
        head = json.dumps(e)
        if items is None:
            lines.append(head)
            continue
        body = ',\n  '.join(json.dumps(i) for i in items)
        lines.append(head[:-1] + f', "{inner}": [\n  {body}]}}')
    with open(path, 'w') as fh:
        fh.write('[\n' + ',\n'.join(lines) + '\n]\n')


def main():
    data = data_dir()
    out_a = ROOT / 'tests' / 'fixtures' / 'athena'
    out_f = ROOT / 'tests' / 'fixtures' / 'feff'
    out_a.mkdir(parents=True, exist_ok=True)
    out_f.mkdir(parents=True, exist_ok=True)

    athena = [athena_reference(p) for p in sorted((data / 'athena').glob('*.prj'))]
    dump(athena, out_a / 'larch_reference.json', 'groups')

    feff = [feff_reference(p) for sub in ('cu', 'znse', 'feo_pb')
            for p in sorted((data / 'feff' / sub).glob('*.dat'))]
    dump(feff, out_f / 'larch_reference.json', None)
    print(f'{len(athena)} athena files, {len(feff)} feff paths')


if __name__ == '__main__':
    main()
