#!/usr/bin/env python3
"""PLS references (scikit-learn PLSRegression) for tests/latent.rs.

Input: the Fe XANES series on Carto's XANES grid, as kept in
tests/fixtures/latent/fe_series_sklearn.json (make_latent_fixtures.py).
Two cases:
  - "series": the five scans against their order in the series (0..4, a
    time proxy), 2 components;
  - "mixtures": eleven linear mixtures f·a + (1 − f)·e of the first and last
    scans, f = 0, 0.1, …, 1, against f, 1 component (they span one direction;
    PLS must predict f).

    /work/venv/larch/bin/python tools/make_pls_fixtures.py

writes tests/fixtures/latent/fe_series_pls_sklearn.json.
"""
import json

import numpy as np
import sklearn
from sklearn.cross_decomposition import PLSRegression

src = json.load(open("tests/fixtures/latent/fe_series_sklearn.json"))
x = np.array(src["x"]).reshape(5, -1)


def case(xm, y, k):
    pls = PLSRegression(n_components=k, scale=True).fit(xm, y)
    return {
        "y": y.tolist(),
        "n_components": k,
        "x_weights": pls.x_weights_.T.tolist(),
        "x_loadings": pls.x_loadings_.T.tolist(),
        "x_rotations": pls.x_rotations_.T.tolist(),
        "y_loadings": pls.y_loadings_.ravel().tolist(),
        "coef": pls.coef_.ravel().tolist(),
        "intercept": float(np.ravel(pls.intercept_)[0]),
        "scores": pls.transform(xm).ravel().tolist(),
        "predict": pls.predict(xm).ravel().tolist(),
    }


f = np.linspace(0.0, 1.0, 11)
mix = np.outer(f, x[0]) + np.outer(1.0 - f, x[4])
out = {
    "source": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}",
    "series": case(x, np.arange(5.0), 2),
    "mixtures": case(mix, f, 1),
}
with open("tests/fixtures/latent/fe_series_pls_sklearn.json", "w") as fh:
    json.dump(out, fh)
print(out["source"], out["series"]["predict"], out["mixtures"]["predict"][:3])
