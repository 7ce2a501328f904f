#!/usr/bin/env python3
"""PCA and NMF references (scikit-learn) for tests/latent.rs.

The input is the Fe XANES series (../shared/data/xas/series) as Carto puts
it on the XANES grid (normalized mu on E - e0 = -20..60 eV, 0.5 eV steps);
the test writes it:

    CARTO_WRITE_LATENT_INPUT=/tmp/fe_series.csv cargo test --test latent pca
    python -m venv /tmp/sk && /tmp/sk/bin/pip install numpy scikit-learn
    /tmp/sk/bin/python tools/make_latent_fixtures.py /tmp/fe_series.csv

and writes tests/fixtures/latent/fe_series_sklearn.json (the input is kept
in it; the test checks Carto still computes the same matrix).
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.decomposition import NMF, PCA

x = np.loadtxt(sys.argv[1], delimiter=",")
pca = PCA(n_components=3, svd_solver="full").fit(x)
scores = pca.transform(x)
xn = np.clip(x, 0, None)
nmf = NMF(n_components=2, init="nndsvda", solver="mu", beta_loss="frobenius",
          max_iter=200, tol=0.0)
w = nmf.fit_transform(xn)
out = {
    "source": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}",
    "x": x.ravel().tolist(),
    "pca_explained_variance_ratio": pca.explained_variance_ratio_.tolist(),
    "pca_components": pca.components_.tolist(),
    "pca_scores": scores.ravel().tolist(),
    "nmf_components": nmf.components_.tolist(),
    "nmf_w": w.ravel().tolist(),
    "nmf_reconstruction_err": float(nmf.reconstruction_err_),
    "nmf_n_iter": int(nmf.n_iter_),
}
with open("tests/fixtures/latent/fe_series_sklearn.json", "w") as f:
    json.dump(out, f)
print({k: out[k] for k in ("source", "pca_explained_variance_ratio", "nmf_reconstruction_err", "nmf_n_iter")})
