"""
The benchmark datasets and their factors
========================================

The field compares methods on a shared set of ground-truth datasets.
:mod:`disentangle.datasets` has a loader for each official file and the
offline variants of dSprites. Each row below starts from one factor vector
and sweeps one factor while the others stay fixed.

The official files are large downloads, so the file-based loaders here read
*synthetic* files written in the exact official layouts by
:mod:`disentangle.datasets.synthetic` (same keys, dtypes, factor order), with
smaller grids and a simple drawn scene instead of the real pictures: the
loaders, the factor order and the sampling are the real ones, the pictures
are not. The dSprites variants and CdSprites are procedural and exact.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import hsv_to_rgb

from disentangle.datasets import (
    MPI3D,
    Cars3D,
    CdSprites,
    ColorDSprites,
    NoisyDSprites,
    ScreamDSprites,
    Shapes3D,
    SmallNORB,
    Teapots,
    synthetic,
)


def show(data, title, n_steps=6, random_state=0):
    """One row per factor: ``n_steps`` values of it, the other factors fixed."""
    fig, axes = plt.subplots(data.n_factors, n_steps, squeeze=False,
                             figsize=(n_steps * 0.9, data.n_factors * 0.95))
    base = data.sample_factors(1, random_state=random_state)
    for k, (name, size) in enumerate(zip(data.factor_names, data.factor_sizes, strict=True)):
        factors = np.repeat(base, n_steps, axis=0)
        factors[:, k] = np.linspace(0, size - 1, n_steps).round().astype(int)
        images = data.sample_observations_from_factors(factors, random_state=random_state)
        for j, image in enumerate(images):
            axes[k, j].imshow(image.transpose(1, 2, 0).squeeze(), cmap="gray", vmin=0, vmax=1)
            axes[k, j].set_xticks([])
            axes[k, j].set_yticks([])
        axes[k, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(f"{title}: factor sizes {data.factor_sizes}", fontsize=9)
    fig.tight_layout()


# %%
# dSprites variants
# -----------------
# They wrap any dSprites source (here the procedural one) and draw their
# colours at random for each observation, as in disentanglement_lib.
show(ColorDSprites(), "Color dSprites (sprite colour in U(0.5, 1)^3)")
show(NoisyDSprites(), "Noisy dSprites (white sprite on U(0, 1) noise)")
show(ScreamDSprites(), "Scream dSprites (procedural texture; pass background= for a picture)")

# %%
# CdSprites
# ---------
# The InfoGAN-CR authors' circular dSprites: a disc at 40 angles and 27 radii.
show(CdSprites(), "CdSprites", n_steps=8)

# %%
# A drawn scene for the synthetic files
# -------------------------------------
# Each synthetic file maps its factors to the properties of this scene: wall
# and floor colours, the object's colour, size, shape, rotation and position.
SIZE = 64
GRID = (np.mgrid[0:SIZE, 0:SIZE] + 0.5) / SIZE - 0.5  # rows, columns in [-0.5, 0.5]


def scene(n, wall=0.6, floor=0.1, colour=0.0, scale=0.5, shape=0, angle=0.0, x=0.0, y=0.0):
    """(n, 64, 64, 3) uint8 images; every property a scalar or an array of n values."""
    p = {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)) for k, v in dict(
        wall=wall, floor=floor, colour=colour, scale=scale, shape=shape, angle=angle, x=x,
        y=y).items()}
    rows = GRID[0][None] - 0.2 * p["y"][:, None, None]
    cols = GRID[1][None] - 0.3 * p["x"][:, None, None]
    cos, sin = np.cos(p["angle"])[:, None, None], np.sin(p["angle"])[:, None, None]
    u, v = (cos * cols + sin * rows) / (0.15 + 0.2 * p["scale"][:, None, None]), (
        -sin * cols + cos * rows) / (0.15 + 0.2 * p["scale"][:, None, None])
    inside = np.select(
        [p["shape"][:, None, None] % 4 == s for s in range(4)],
        [np.maximum(abs(u), abs(v)) < 1, u**2 + v**2 < 1, abs(u) + abs(v) < 1,
         (u / 1.4) ** 2 + (v / 0.6) ** 2 < 1])
    hue = np.where(GRID[0][None] < 0.1, p["wall"][:, None, None], p["floor"][:, None, None])
    hue = np.where(inside, p["colour"][:, None, None], hue)
    value = np.where(inside, 1.0, 0.75)
    hsv = np.stack([hue % 1, np.full_like(hue, 0.8), value], axis=-1)
    return (hsv_to_rgb(hsv) * 255).astype(np.uint8)


folder = Path(tempfile.mkdtemp())


def shapes3d_scene(index):
    f = index.astype(float)
    return scene(len(index), wall=f[:, 1] / 3, floor=f[:, 0] / 3, colour=f[:, 2] / 3,
                 scale=f[:, 3] / 3, shape=f[:, 4], angle=(f[:, 5] - 2) * 0.25)


# %%
# Shapes3D
# --------
# ``3dshapes.h5``: floor, wall and object hue, scale, shape and orientation
# (official sizes 10, 10, 10, 8, 4, 15; here 3, 3, 3, 4, 4, 5).
synthetic.write_shapes3d(folder / "3dshapes.h5", (3, 3, 3, 4, 4, 5), render=shapes3d_scene)
show(Shapes3D(folder, data_home=folder), "Shapes3D (synthetic file)")


def mpi3d_scene(index):
    f = index.astype(float)
    return scene(len(index), colour=f[:, 0] / 6, shape=f[:, 1], scale=0.3 + 0.5 * f[:, 2],
                 y=f[:, 3] - 1, wall=0.5 + f[:, 4] / 6, x=f[:, 5] / 1.5 - 1, angle=f[:, 6] * 0.4)


# %%
# MPI3D
# -----
# ``mpi3d_toy.npz`` (also realistic and real): object colour, shape and size,
# camera height, background colour, and the arm's two axes (official sizes
# 6, 6, 2, 3, 3, 40, 40; here 4 colours, 4 shapes and 4 positions per axis).
sizes = (4, 4, 2, 3, 3, 4, 4)
synthetic.write_mpi3d(folder / "mpi3d_toy.npz", sizes, render=mpi3d_scene)
show(MPI3D("toy", folder, factor_sizes=sizes, data_home=folder), "MPI3D toy (synthetic file)")


def norb_scene(features):
    f = features.astype(float)
    rgb = scene(len(f), shape=f[:, 0], colour=0.1 * f[:, 1], y=f[:, 2] - 1,
                angle=f[:, 3] * 0.35, wall=0, floor=0)
    grey = rgb.mean(axis=-1) * (0.5 + 0.25 * f[:, 4, None, None])
    return np.stack([enlarge(g, 96) for g in grey.astype(np.uint8)])


def enlarge(image, size):
    """A 64 x 64 image resized to ``size`` x ``size`` (the official files' sizes)."""
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size, size)))


# %%
# SmallNORB
# ---------
# The six binary ``.mat`` files: category, elevation, azimuth and lighting,
# each observation showing a random toy instance (official sizes 5, 9, 18, 6).
synthetic.write_smallnorb(folder, n_instances=2, sizes=(4, 3, 6, 3), render=norb_scene)
show(SmallNORB(folder, data_home=folder), "SmallNORB (synthetic files)")


def car_scene(car):
    index = np.stack(np.meshgrid(np.arange(24), np.arange(4), indexing="ij"), -1).reshape(-1, 2)
    rgb = scene(96, colour=car / 4, shape=2 * (car % 2), angle=index[:, 0] * 2 * np.pi / 24,
                y=index[:, 1] - 1.5)
    big = np.stack([enlarge(image, 128) for image in rgb])  # (96, 128, 128, 3)
    return big.reshape(24, 4, 128, 128, 3).transpose(2, 3, 4, 0, 1)


# %%
# Cars3D
# ------
# One MATLAB file per car: elevation, azimuth and the car (official sizes 4,
# 24, 183; here 4 cars).
cars = folder / "cars"
cars.mkdir()
synthetic.write_cars3d(cars, n_cars=4, render=car_scene)
show(Cars3D(cars, data_home=folder), "Cars3D (synthetic files)")


def teapot_scene(latents):
    hue = np.arctan2(latents[:, 3] - 0.5, latents[:, 2] - 0.5) / (2 * np.pi)
    return scene(len(latents), colour=hue + latents[:, 4] * 0.2, angle=latents[:, 0],
                 y=latents[:, 1] * 1.2 - 1, shape=3).astype(np.float32) / 255


# %%
# 3D Teapots
# ----------
# The InfoGAN-CR authors' ``data.npz`` with continuous azimuth, elevation and
# RGB colour; the metrics see each latent cut into ``n_bins`` bins, and an
# observation is a random image from its cell.
synthetic.write_teapots(folder / "data.npz", n=4000, render=teapot_scene)
teapots = Teapots(folder, n_bins=3, data_home=folder)
show(teapots, "3D Teapots (synthetic file, 3 bins per latent)", n_steps=3)
plt.show()
