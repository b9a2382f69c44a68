"""
Your own ground-truth dataset
=============================

The metrics only need three things from a dataset: the number of values of
each factor (``factor_sizes``), a way to draw factors (``sample_factors``,
inherited) and a renderer from factors to observations
(``sample_observations_from_factors``). Subclass
:class:`~disentangle.datasets.GroundTruthDataset`, and every metric and
scorer works on your data.

Here the dataset is a white square on a 64x64 canvas with three factors: its
side (4 values), its column (16 values) and its row (16 values). We render
it, train a small :class:`~disentangle.VAE` on it and score the VAE and a
hand-made representation.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from disentangle import VAE
from disentangle.datasets import GroundTruthDataset
from disentangle.metrics import factor_vae_score, mig_score

torch.set_num_threads(1)  # the gallery runs on a shared machine


class Squares(GroundTruthDataset):
    """A square of side 8, 12, 16 or 20 pixels at one of 16 x 16 positions."""

    factor_names = ("side", "column", "row")
    factor_sizes = (4, 16, 16)
    observation_shape = (1, 64, 64)

    def sample_observations_from_factors(self, factors, random_state=None):
        factors = np.asarray(factors)
        side = 8 + 4 * factors[:, 0, None]
        left, top = 2 + 2 * factors[:, 1, None], 2 + 2 * factors[:, 2, None]
        pixels = np.arange(64)
        in_columns = (pixels >= left) & (pixels < left + side)  # (n, 64)
        in_rows = (pixels >= top) & (pixels < top + side)
        images = in_rows[:, :, None] & in_columns[:, None, :]
        return images[:, None].astype(np.float32)  # (n, 1, 64, 64)


data = Squares()
factors, images = data.sample(16, random_state=0)
fig, axes = plt.subplots(2, 8, figsize=(8, 2.3))
for ax, image, f in zip(axes.flat, images, factors, strict=True):
    ax.imshow(image[0], cmap="gray", vmin=0, vmax=1)
    ax.set_title(f"{f[0]},{f[1]},{f[2]}", fontsize=7)
    ax.axis("off")
fig.suptitle("Squares (side, column, row)")
fig.tight_layout()

# %%
# Training needs only the images: an array of shape (n, 64, 64) or
# (n, C, 64, 64), uint8 or float in [0, 1]. Labels are never used in training.
_, train = data.sample(2048, random_state=1)
start = time.perf_counter()
vae = VAE(objective="beta", beta=4.0, max_iter=200, batch_size=32, random_state=0).fit(train)
print(f"VAE: {vae.n_iter_} iterations in {time.perf_counter() - start:.1f} s")


# %%
# A representation can also be a plain function from observations to codes:
# here the square's area and the row and column of its top-left corner, an
# ideal code by construction (one code per factor).
def corner_and_area(observations):
    pixels = observations[:, 0] > 0.5
    area = pixels.sum((1, 2)) / 400
    left = pixels.any(axis=1).argmax(axis=1) / 64
    top = pixels.any(axis=2).argmax(axis=1) / 64
    return np.stack([area, left, top], axis=1)


# The community protocol (disentanglement_lib's), with 200 training and 100
# evaluation votes of 32 observations instead of 10,000 and 5,000 of 64.
# ``return_details=True`` also returns the intermediate results.
fvae_params = {"n_train": 200, "n_eval": 100, "batch_size": 32, "n_variance": 2000}
details = {}
for name, representation in (("hand-made", corner_and_area), ("VAE", vae)):
    fvae, details[name] = factor_vae_score(representation, data, random_state=0,
                                           return_details=True, **fvae_params)
    mig = mig_score(representation, data, n_train=2000, random_state=0)
    print(f"{name:>9}: FactorVAE score {fvae:.2f}, MIG {mig:.2f}")

# %%
# Which code follows which factor? Entry (code, factor) of the vote matrix
# counts the votes won by that code when that factor was held fixed.
fig, ax = plt.subplots(figsize=(7, 2.8), layout="constrained")
votes = details["VAE"]["train_votes"].T  # (factor, code)
ax.imshow(votes, cmap="Blues")
for (k, c), count in np.ndenumerate(votes):
    if count:
        ax.text(c, k, count, ha="center", va="center", fontsize=8,
                color="white" if count > votes.max() / 2 else "black")
ax.set_xticks(range(vae.n_codes_), vae.get_feature_names_out(), rotation=45)
ax.set_yticks(range(data.n_factors), data.factor_names)
ax.set_ylabel("fixed factor")
ax.set_title("FactorVAE votes won by each code of the VAE", fontsize=10)
