"""Reference timing for `carto bench map`: scikit-learn's PCA (20
components) trained on 10^4 profiles and projecting 10^5, and a numpy
cosine ranking of 10^4 candidates, and (with umap-learn) a UMAP layout of
10^4 rows of 20 PCA scores and a t-SNE layout of the same, on arrays of the
same shape as Carto's (XRD profiles on the common Q grid). Prints one JSON line with --json.

Usage: python bench_sklearn_latent.py DATA_ROOT --features 801 [--repeat N] [--json]
"""
import argparse
import json
import time

import numpy as np
import sklearn
from sklearn.decomposition import PCA


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--features", type=int, default=801)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    f = a.features
    # Non-negative, unit-norm rows like the √-scaled profiles.
    def rows(n):
        x = rng.random((n, f)) ** 4
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    train = rows(10_000)
    t_train = []
    for _ in range(a.repeat):
        t = time.perf_counter()
        pca = PCA(n_components=20).fit(train)
        t_train.append(time.perf_counter() - t)
    chunks = [rows(10_000) for _ in range(10)]
    t_proj = []
    for _ in range(a.repeat):
        t = time.perf_counter()
        for c in chunks:
            pca.transform(c)
        t_proj.append(time.perf_counter() - t)
    cands = rows(10_000)
    q = rows(1)[0]
    t_rank = []
    for _ in range(max(a.repeat, 5)):
        t = time.perf_counter()
        s = cands @ q / (np.linalg.norm(cands, axis=1) * np.linalg.norm(q))
        np.argsort(-s)
        t_rank.append((time.perf_counter() - t) * 1e3)
    out = {
        "version": sklearn.__version__,
        "pca_train_s": float(np.median(t_train)),
        "project_s": float(np.median(t_proj)),
        "rank_ms": float(np.median(t_rank)),
    }
    # UMAP of 10^4 rows of 20 PCA scores, from the first two, umap-learn's
    # defaults (15 neighbours, min_dist 0.1, 500 epochs as Carto runs),
    # when umap-learn is installed. Its numba functions are compiled on a
    # first, small run, outside the timing.
    try:
        import umap

        z = pca.transform(train)
        umap.UMAP(n_epochs=500, init=z[:200, :2], random_state=0).fit(z[:200])
        t = time.perf_counter()
        umap.UMAP(n_epochs=500, init=z[:, :2], random_state=0).fit(z)
        out["umap_s"] = time.perf_counter() - t
        out["umap_version"] = umap.__version__
    except ImportError:
        pass
    # t-SNE of the same 10^4 rows of 20 PCA scores: scikit-learn's
    # Barnes-Hut (perplexity 30, 1000 iterations, angle 0.5, PCA start),
    # all cores, as Carto's.
    from sklearn.manifold import TSNE

    z = pca.transform(train)
    t = time.perf_counter()
    TSNE(perplexity=30.0, max_iter=1000, angle=0.5, init="pca", random_state=0, n_jobs=-1).fit_transform(z)
    out["tsne_s"] = time.perf_counter() - t
    print(json.dumps(out) if a.json else out)


if __name__ == "__main__":
    main()
