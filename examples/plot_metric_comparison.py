"""
Comparing the disentanglement metrics
=====================================

Every metric in :mod:`disentangle.metrics` takes a *representation* (a fitted
estimator with ``transform``, or any function from observations to codes) and
a ground-truth dataset. This example scores four representations of dSprites
with seven metrics:

* **moments**: hand-made features of the sprite (its centroid, its area and
  the angle of its principal axis): a near-ideal code for the position
  factors, by construction;
* **PCA**: five whitened principal components of the pixels, a scikit-learn
  pipeline;
* **VAE**: a β-VAE (:class:`~disentangle.VAE`) trained for 300 iterations;
* **random**: a random projection of the pixels.

All scores use the InfoGAN-CR authors' protocol (``protocol="paper"``) on
smaller samples than its defaults (3,000 observations instead of 73,728, 100
votes of 50 images instead of 500 of 100), to run in seconds: the numbers are
noisier than with the defaults and are not comparable with the paper's tables.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from disentangle import VAE
from disentangle.datasets import DSprites
from disentangle.metrics import (
    beta_vae_score,
    dci_score,
    explicitness_score,
    factor_vae_score,
    mig_score,
    modularity_score,
    sap_score,
)

torch.set_num_threads(1)  # the gallery runs on a shared machine

data = DSprites()
_, images = data.sample(4096, random_state=0)


def flatten(observations):
    return observations.reshape(len(observations), -1)


def moments(observations):
    """Centroid, area and principal-axis angle (doubled, as cos and sin) of each sprite."""
    pixels = observations.reshape(len(observations), 64, 64).astype(np.float64)
    rows, cols = np.mgrid[:64, :64]
    mass = pixels.sum((1, 2))
    x = (pixels * cols).sum((1, 2)) / mass
    y = (pixels * rows).sum((1, 2)) / mass
    dx, dy = cols - x[:, None, None], rows - y[:, None, None]
    cxx, cyy, cxy = ((pixels * d).sum((1, 2)) for d in (dx * dx, dy * dy, dx * dy))
    angle = np.arctan2(2 * cxy, cxx - cyy)
    # Scaled to about [0, 1], as the linear classifiers of some metrics like.
    return np.stack([x / 64, y / 64, mass / 500, np.cos(angle), np.sin(angle)], axis=1)


rng = np.random.RandomState(0)
projection = rng.standard_normal((64 * 64, 5)) / 64
start = time.perf_counter()
representations = {
    "moments": moments,
    "PCA": make_pipeline(FunctionTransformer(flatten), PCA(5, whiten=True, random_state=0))
    .fit(images),
    "VAE": VAE(objective="beta", beta=4.0, max_iter=300, batch_size=32, random_state=0)
    .fit(images),
    "random": lambda observations: flatten(observations) @ projection,
}
print(f"fitted in {time.perf_counter() - start:.1f} s")

# %%
# Seven metrics, each with a reduced sample: FactorVAE 100 votes of 50 images,
# β-VAE 100 points of 25 pairs, the others 3,000 observations.
small = {"n_train": 3000}
metrics = {
    "FactorVAE": (factor_vae_score, {"n_train": 100, "batch_size": 50, "n_variance": 3000}),
    "β-VAE": (beta_vae_score, {"n_train": 100, "batch_size": 25}),
    "MIG": (mig_score, small),
    "DCI": (dci_score, small),
    "SAP": (sap_score, small),
    "modularity": (modularity_score, small),
    "explicitness": (explicitness_score, small),
}
scores = np.zeros((len(representations), len(metrics)))
start = time.perf_counter()
for i, representation in enumerate(representations.values()):
    for j, (metric, params) in enumerate(metrics.values()):
        scores[i, j] = metric(representation, data, protocol="paper", random_state=0, **params)
print(f"scored in {time.perf_counter() - start:.1f} s")

# %%
# Grouped bars: one group per metric, one bar per representation.
fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
width = 0.8 / len(representations)
for i, name in enumerate(representations):
    ax.bar(np.arange(len(metrics)) + (i - 1.5) * width, scores[i], width, label=name)
ax.set_xticks(np.arange(len(metrics)), list(metrics))
ax.set_ylim(0, 1)
ax.set_ylabel("score (paper protocol, reduced samples)")
ax.legend(ncols=4, loc="upper center", bbox_to_anchor=(0.5, 1.13), frameon=False)
ax.grid(axis="y", alpha=0.3)

# %%
# The same numbers as a table.
print(f"{'':>10}" + "".join(f"{m:>13}" for m in metrics))
for name, row in zip(representations, scores, strict=True):
    print(f"{name:>10}" + "".join(f"{value:>13.2f}" for value in row))
