#!/usr/bin/env python3
"""Make the demo session's powder pattern (sample_data/feo_fe2o3_cuka_simulated.xy).

It is computed by Carto itself, not measured: the Cu Kα profiles (pseudo-
Voigt, Caglioti defaults, Kα1/Kα2 doublet) of wüstite (FeO, AMCSD 18048)
and hematite (Fe2O3, AMCSD 17731), each scaled so its strongest line is
100, summed as 1 : 0.6, on a flat background of 4 counts. The demo thus
shows the same two iron oxides in XAS (measured, sample_data/) and XRD.

Usage: python3 tools/make_demo_xrd.py [path/to/carto]   (from the checkout)
Needs only the Python standard library and a built carto binary.
"""

import json
import subprocess
import sys

CARTO = sys.argv[1] if len(sys.argv) > 1 else "target/release/carto"
PHASES = [
    ("sample_data/wustite_amcsd18048.cif", 1.0),
    ("sample_data/hematite_amcsd17731.cif", 0.6),
]
BACKGROUND = 4.0
OUT = "sample_data/feo_fe2o3_cuka_simulated.xy"


def profile(cif):
    out = subprocess.run(
        [CARTO, "xrd", "simulate", cif, "--profile", "--two-theta", "15", "85", "--json"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    p = json.loads(out)["profile"]
    return p["two_theta"], p["intensity"]


grid = None
total = None
for cif, scale in PHASES:
    x, y = profile(cif)
    if grid is None:
        grid, total = x, [BACKGROUND] * len(x)
    assert x == grid, "profiles on different grids"
    total = [t + scale * v for t, v in zip(total, y)]

with open(OUT, "w") as f:
    f.write("# Simulated by Carto (tools/make_demo_xrd.py), not measured:\n")
    f.write("# wustite FeO (AMCSD 18048) + 0.6 x hematite Fe2O3 (AMCSD 17731), Cu Ka,\n")
    f.write("# pseudo-Voigt with Caglioti defaults and the Ka1/Ka2 doublet, background 4.\n")
    f.write("# Wavelength: 1.54184e-10\n")
    f.write("# 2theta_deg intensity\n")
    for t, v in zip(grid, total):
        f.write(f"{t:.2f} {v:.4f}\n")
print(f"wrote {OUT}: {len(grid)} points")
