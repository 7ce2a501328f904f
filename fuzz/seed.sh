#!/bin/sh
# Build the fuzz seed corpora from the shared real data (../shared/data, or
# $CARTO_TEST_DATA). The corpora live in fuzz/corpus/, which is git-ignored:
# no data file is ever committed. Large files are cut to their first 16 KiB
# (a cut file is a good seed in itself and keeps executions fast).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${CARTO_TEST_DATA:-$here/../../shared/data}
[ -d "$data" ] || { echo "no data at $data (set CARTO_TEST_DATA)" >&2; exit 1; }
corpus=$here/corpus
max=16384

# seed TARGET DIR...: every file under DIR, cut to $max bytes when larger
# (unless the target needs whole files, see athena below).
seed() {
    target=$1; shift
    mkdir -p "$corpus/$target"
    for dir in "$@"; do
        [ -d "$data/$dir" ] || continue
        find "$data/$dir" -type f | while read -r f; do
            name=$(echo "${f#$data/}" | tr '/ ' '__')
            head -c "$max" "$f" > "$corpus/$target/$name"
        done
    done
}

seed xdi xas/xdi
seed columns xas/columns xas/beamlines xas/chi xas/series
seed feff feff
seed load_bytes xas/xdi xas/columns xas/beamlines xas/chi feff
# xrd: binary RAW and zipped brml must stay whole to be useful seeds; the
# test fixtures add the formats the shared data lacks (brml, xrdml, GSAS).
mkdir -p "$corpus/xrd"
for f in "$data"/xrd/*.xy "$data"/xrd/*.chi "$data"/xrd/bruker_raw/* "$data"/xrd/jcpds/* \
         "$data"/xrd/fe3o4_map/*_1_* "$here"/../tests/fixtures/xrd/*.xrdml \
         "$here"/../tests/fixtures/xrd/*.fxye "$here"/../tests/fixtures/xrd/*.brml; do
    [ -f "$f" ] || continue
    cp "$f" "$corpus/xrd/$(echo "${f#$data/}" | tr '/ ' '__')"
done

# Athena: gzip streams cannot be cut usefully, so whole projects up to
# 256 KiB, plus the decompressed text of small ones cut to $max.
mkdir -p "$corpus/athena"
find "$data/athena" -type f -size -256k | while read -r f; do
    name=$(basename "$f" | tr ' ' '_')
    cp "$f" "$corpus/athena/$name"
    cp "$f" "$corpus/load_bytes/athena_$name"
    if gzip -t "$f" 2>/dev/null; then
        gzip -dc "$f" | head -c "$max" > "$corpus/athena/plain_$name" || true
    fi
done

# xas_chain: mode byte 0 then little-endian f64 energy/μ halves taken from
# the first two columns of real column files; mode byte 1 then random bytes
# for the synthetic-edge path.
mkdir -p "$corpus/xas_chain"
if command -v python3 >/dev/null; then
    python3 - "$data" "$corpus/xas_chain" <<'PY'
import os, struct, sys
data, out = sys.argv[1], sys.argv[2]
n = 0
for sub in ("xas/columns", "xas/xdi"):
    d = os.path.join(data, sub)
    for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        e, m = [], []
        try:
            for line in open(os.path.join(d, name), errors="replace"):
                t = line.split()
                try:
                    v = [float(x) for x in t[:2]]
                except ValueError:
                    continue
                if len(v) == 2:
                    e.append(v[0]); m.append(v[1])
        except OSError:
            continue
        if len(e) >= 16:
            e, m = e[::max(1, len(e) // 300)], m[::max(1, len(m) // 300)]
            k = min(len(e), len(m))
            with open(os.path.join(out, f"real_{n}"), "wb") as f:
                f.write(b"\x00" + struct.pack(f"<{k}d", *e[:k]) + struct.pack(f"<{k}d", *m[:k]))
            n += 1
PY
fi
for i in 1 2 3 4; do
    { printf '\001'; head -c 800 /dev/urandom; } > "$corpus/xas_chain/synthetic_$i"
done
# cif: the shared structures (cut to $max) and the hostile test CIFs.
seed cif cif/amcsd cif/misc
for f in "$here"/../tests/malformed/*.cif "$here"/../sample_data/*.cif; do
    [ -f "$f" ] && cp "$f" "$corpus/cif/local_$(basename "$f")"
done

# expr: expressions as fit models write them (the target's variables are
# amp del_e0 sig2 n1 t theta x_1).
mkdir -p "$corpus/expr"
i=0
for e in "amp" "2*sig2" "sqrt(n1)*amp" "sigma2_eins(t, theta)" "sigma2_debye(t, theta)" \
         "-del_e0 + 1.5e-3" "max(min(sig2, 0.01), -1)" "atan2(x_1, reff) / degen" \
         "log10(abs(n1))**2 - exp(-t/theta)" "((amp))*(1+(2*(3-(4/(5^2)))))" "1e308*1e308"; do
    printf '%s' "$e" > "$corpus/expr/seed_$i"; i=$((i + 1))
done

# fit_model: the test models (relative paths resolve in tests/malformed)
# and the Larch-comparison fixtures with their @DATA@ placeholder filled.
mkdir -p "$corpus/fit_model"
for f in "$here"/../tests/malformed/fit_*.toml "$here"/../sample_data/*.toml; do
    [ -f "$f" ] && cp "$f" "$corpus/fit_model/$(basename "$f")"
done
for f in "$here"/../tests/fixtures/feffit/*.toml; do
    [ -f "$f" ] && sed "s|@DATA@|$data|g" "$f" > "$corpus/fit_model/fixture_$(basename "$f")"
done

# session: the hostile test sessions and a small valid one with a μ recipe,
# chain parameters and every kind of edit.
mkdir -p "$corpus/session"
for f in "$here"/../tests/malformed/*.carto; do
    [ -f "$f" ] && cp "$f" "$corpus/session/$(basename "$f")"
done
cat > "$corpus/session/valid.carto" <<'JSON'
{"carto_session": 5, "items": [{"name": "a", "path": "/nowhere/a.xdi", "sha256": "00",
 "color": [200, 30, 30, 255], "mu": "transmission",
 "mu_recipe": {"kind": "fluorescence", "i_f": [3], "i0": 1},
 "params": {"pre_edge": {"pre1": -150.0, "nnorm": 2}, "autobk": {"rbkg": 1.1}, "ft": {"kmin": 2.0, "kmax": 8.0}},
 "edits": [{"op": "shift", "eshift_ev": 1.5},
           {"op": "deglitch", "remove": [{"kind": "energy", "energy_ev": 8950.0}, {"kind": "between", "energy1_ev": 9000, "energy2_ev": 9010}], "replace": true},
           {"op": "rebin", "e0": 8980.0}]},
 {"name": "b", "path": "builtin:cu", "sha256": "11", "color": [0, 0, 0, 255]}],
 "selected": [0, 1], "active": 1}
JSON

echo "seeded $(find "$corpus" -type f | wc -l) files under $corpus"
