"""
The dSprites ground truth
=========================

:class:`~disentangle.datasets.DSprites` is a *ground-truth dataset*: every
image is rendered from five known factors (shape, scale, orientation,
position x and position y). The metrics draw factors, render them and check
which code of a representation follows which factor.

Here each row starts from one factor vector and sweeps one factor over its
values while the four others stay fixed: the picture a perfectly disentangled
model's latent traversals would reproduce.

``DSprites()`` renders the images procedurally, only those that are asked
for; ``DSprites(path="dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz")``
reads the official file instead, with the same API.
"""

import matplotlib.pyplot as plt
import numpy as np

from disentangle.datasets import DSprites

data = DSprites()
print(f"{data.source} dSprites: {len(data):,} images, factors {data.factor_names}, "
      f"sizes {data.factor_sizes}")

# %%
# One row per factor, eight evenly spaced values of it.
n_steps = 8
base = np.array([[2, 5, 0, 16, 16]])  # a heart, largest scale, upright, centred
fig, axes = plt.subplots(data.n_factors, n_steps, figsize=(n_steps * 0.9, data.n_factors * 1.0))
for k, (name, size) in enumerate(zip(data.factor_names, data.factor_sizes, strict=True)):
    indices = np.unique(np.linspace(0, size - 1, n_steps).round().astype(int))
    factors = np.repeat(base, n_steps, axis=0)
    factors[: len(indices), k] = indices
    images = data.sample_observations_from_factors(factors)
    values = data.factor_values[k]
    for j in range(n_steps):
        ax = axes[k, j]
        ax.set_xticks([])
        ax.set_yticks([])
        if j < len(indices):
            ax.imshow(images[j, 0], cmap="gray", vmin=0, vmax=1)
            label = (data.shape_names[indices[j]] if name == "shape"
                     else f"{values[indices[j]]:.2g}")
            ax.set_title(label, fontsize=7)
        else:
            ax.axis("off")
    axes[k, 0].set_ylabel(name, rotation=0, ha="right", va="center")
fig.suptitle("dSprites: one factor varies per row")
fig.tight_layout()

# %%
# Metrics sample factor vectors uniformly and render them in batches:
factors, observations = data.sample(6, random_state=0)
print(factors)
print(observations.shape, observations.dtype)
