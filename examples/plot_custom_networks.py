"""
Your own networks: a VAE on 1-D signals
=======================================

The built-in networks are the paper's: convolutional stacks for 64x64 and
32x32 images, and fully-connected ones for tables. For any other input, or
a stronger backbone, give the estimator your own networks. Each is a class
(or any factory) called with the latent size and the shape of one input:

* :class:`~disentangle.VAE`: ``encoder(n_latent, input_shape)``, a module
  returning the posterior ``(mean, logvar)``, and
  ``decoder(n_latent, input_shape)``, a module returning Bernoulli logits of
  shape ``(batch, *input_shape)``;
* :class:`~disentangle.InfoGANCR`: ``generator``, ``discriminator`` (returning
  the real/fake logit and Q's codes) and ``cr_discriminator``, in the same way.

Everything else (batches from uint8 arrays, seeds, checkpoints, ``transform``,
``sample``, the metrics and :class:`~disentangle.ModelCentralitySelector`)
works as with the built-in networks. Here a VAE with 1-D convolutions learns
signals of 512 samples, a shape the built-in networks do not support.
"""

import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from torch import nn

from disentangle import VAE
from disentangle.datasets import GroundTruthDataset
from disentangle.metrics import mig_score

torch.set_num_threads(1)  # the gallery runs on a shared machine
LENGTH = 512


class Bumps(GroundTruthDataset):
    """A Gaussian bump with values in [0, 1]: 16 positions and 4 widths along 512 samples."""

    factor_names = ("position", "width")
    factor_sizes = (16, 4)
    observation_shape = (1, 1, LENGTH)

    def sample_observations_from_factors(self, factors, random_state=None):
        factors = np.asarray(factors, dtype=np.float32)
        centre = 64 + 24 * factors[:, 0, None]  # samples 64 to 424
        width = 8 + 6 * factors[:, 1, None]
        t = np.arange(LENGTH, dtype=np.float32)[None]
        return np.exp(-0.5 * ((t - centre) / width) ** 2)[:, None, None]  # (n, 1, 1, 512)


# %%
# The networks. An array of signals of shape ``(n, 1, 512)`` reads as images
# of one row, so one input has the shape ``(C, H, W) = (1, 1, 512)``: the
# networks drop and restore the row axis around 1-D convolutions. They are
# defined at module level, so that fitted models pickle.


class Encoder(nn.Module):
    """q(z|x): signals (batch, C, 1, L) -> (mean, logvar), each (batch, n_latent)."""

    def __init__(self, n_latent, input_shape):
        super().__init__()
        channels, _, length = input_shape
        self.trunk = nn.Sequential(
            nn.Conv1d(channels, 16, 8, stride=4, padding=2), nn.ReLU(),
            nn.Conv1d(16, 32, 8, stride=4, padding=2), nn.ReLU(),
            nn.Flatten(), nn.Linear(32 * (length // 16), 64), nn.ReLU())
        self.mean = nn.Linear(64, n_latent)
        self.logvar = nn.Linear(64, n_latent)

    def forward(self, signals):
        features = self.trunk(signals.squeeze(2))
        return self.mean(features), self.logvar(features)


class Decoder(nn.Module):
    """p(x|z): latents (batch, n_latent) -> Bernoulli logits (batch, C, 1, L)."""

    def __init__(self, n_latent, input_shape):
        super().__init__()
        channels, _, length = input_shape
        self.fc = nn.Sequential(nn.Linear(n_latent, 64), nn.ReLU(),
                                nn.Linear(64, 32 * (length // 16)), nn.ReLU())
        self.deconv = nn.Sequential(nn.ConvTranspose1d(32, 16, 4, stride=4), nn.ReLU(),
                                    nn.ConvTranspose1d(16, channels, 4, stride=4))

    def forward(self, latents):
        features = self.fc(latents).view(len(latents), 32, -1)
        return self.deconv(features).unsqueeze(2)


# %%
# Training data: 2,048 signals stored as uint8, 0..255 (the estimator turns
# each batch into floats in [0, 1]). The VAE sees only the signals; the
# factors are kept for the metric.
data = Bumps()
factors, signals = data.sample(2048, random_state=0)
signals = np.round(signals[:, 0] * 255).astype(np.uint8)  # (2048, 1, 512)

start = time.perf_counter()
vae = VAE(n_latent=4, lr=1e-3, batch_size=32, max_iter=1000, device="cpu",
          encoder=Encoder, decoder=Decoder, random_state=0).fit(signals)
print(f"trained {vae.n_iter_} iterations on signals of shape {vae.input_shape_} in "
      f"{time.perf_counter() - start:.0f} s")

# %%
# The model reconstructs the bumps from 4 latents (``transform`` then
# ``generate``: the posterior means, decoded to pixel probabilities).
reconstructions = vae.generate(vae.transform(signals[:4]))
fig, axes = plt.subplots(1, 4, figsize=(10, 2), sharey=True)
for ax, signal, reconstruction in zip(axes, signals[:4], reconstructions, strict=True):
    ax.plot(signal[0] / 255, label="signal")
    ax.plot(reconstruction[0, 0], label="reconstruction")
axes[0].legend(fontsize=7)
fig.tight_layout()

# %%
# The representation is scored like any other, here with MIG against the
# position and the width, on freshly rendered signals. A VAE trained for
# 1,000 iterations is far from the thousands the paper's settings use: raise
# ``max_iter`` for a real run.
print(f"MIG: {mig_score(vae, data, random_state=0, n_train=2000):.2f}")
