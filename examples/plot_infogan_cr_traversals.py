"""
Latent traversals of a tiny InfoGAN-CR
======================================

Fit :class:`~disentangle.InfoGANCR` on a few thousand dSprites images for 150
iterations, then sweep each of its five codes from -1 to 1 while the other
latents stay fixed (:func:`~disentangle.plotting.plot_traversals`, the paper's
Fig. 1).

The schedule is the paper's in miniature: the contrastive regulariser's weight
alpha is 0 for the first half (``cr_start=0.5``; the paper waits until 89.3% of
training) and ``cr_weight=2`` afterwards. The CR discriminator H trains from the
start and is re-initialised when alpha switches on.

150 iterations is 0.05% of the paper's 322,560: the codes already move the
sprite, but they are far from disentangled.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch

from disentangle import InfoGANCR
from disentangle.datasets import DSprites
from disentangle.metrics import factor_vae_score
from disentangle.plotting import plot_traversals

torch.set_num_threads(1)  # the gallery runs on a shared machine

# %%
# Training data: 4,096 random dSprites images. ``DSprites().images`` would
# render (and cache) all 737,280; a sample is enough here.
data = DSprites()
_, images = data.sample(4096, random_state=0)
images = images.astype(np.uint8)  # binary images; the estimator never copies them to float
print(images.shape, images.dtype)

# %%
# Fit for 150 iterations of 32 images. ``random_state`` makes the run
# reproducible on the CPU.
model = InfoGANCR(max_iter=150, batch_size=32, cr_start=0.5, cr_weight=2.0, random_state=0)
start = time.perf_counter()
model.fit(images)
print(f"{model.n_iter_} iterations in {time.perf_counter() - start:.1f} s")

# %%
# One row per code: the generator's images as that code goes from -1 to 1.
# Given a pyplot figure, the picture shows here (and with ``plt.show()`` in a
# script); without one, ``plot_traversals`` returns a figure to save.
fig = plot_traversals(model, n_steps=10, random_state=1, fig=plt.figure(figsize=(8, 4.4)))

# %%
# The training history holds every iteration's losses. ``cr_accuracy`` is H's
# accuracy at telling which code a pair of generated images shares (chance is
# 1/5), recorded from the dashed line on, where alpha switches on and H starts
# training (the official code trains H before too, but starts it afresh there).
# The curves are averaged over 10 iterations.
history = model.history_
batches = [row for epoch in history for row in epoch["batches"]]


def smooth(values, width=10):
    return np.convolve(values, np.ones(width) / width, mode="valid")


fig, axes = plt.subplots(1, 3, figsize=(10, 3), layout="constrained")
for ax, key in zip(axes, ("cr_accuracy", "info_loss", "discriminator_loss"),
                    strict=True):
    iterations = [i for i, row in enumerate(batches) if key in row]
    values = smooth([batches[i][key] for i in iterations])
    ax.plot(iterations[9:], values, lw=1.5)
    ax.axvline(0.5 * model.max_iter, color="k", ls="--", lw=1)
    ax.set_xlabel("iteration")
    ax.set_title(key, fontsize=10)
axes[0].axhline(1 / model.n_codes, color="grey", ls=":", label="chance")
axes[0].legend(loc="lower right")

# %%
# Scores need the ground truth. The paper's FactorVAE-score protocol, here on
# 100 votes of 50 images instead of 500 of 100, and standard deviations over
# 2,000 images instead of 73,728:
score = factor_vae_score(model, data, protocol="paper", n_train=100, batch_size=50,
                         n_variance=2000, random_state=0)
print(f"FactorVAE score: {score:.2f} (chance is 0.2; the paper reaches 0.88)")
