"""Tiny files in the exact layouts of the official dataset files (keys, dtypes, order)."""

import h5py
import numpy as np

from disentangle.datasets._smallnorb import SPLITS, file_name

SHAPES3D_VALUES = (np.arange(10) / 10, np.arange(10) / 10, np.arange(10) / 10,
                   np.linspace(0.75, 1.25, 8), np.arange(4.0), np.linspace(-30, 30, 15))


def grid_index(sizes):
    """Factor indices of every row of a grid, last factor fastest, shape (n, len(sizes))."""
    return np.stack(np.unravel_index(np.arange(int(np.prod(sizes))), sizes), axis=1)


def coded_images(index, scale=25):
    """(n, 64, 64, 3) uint8 images whose pixel (k, 0, 0) region encodes factor k's index."""
    images = np.zeros((len(index), 64, 64, 3), dtype=np.uint8)
    for k in range(index.shape[1]):
        images[:, k, :, k % 3] = index[:, k, None] * scale + 1
    return images


def write_shapes3d(path, sizes=(10, 10, 10, 8, 4, 15), chunk=6000):
    """``3dshapes.h5``: ``images`` (n, 64, 64, 3) uint8 and ``labels`` (n, 6) float64.

    The first ``sizes[k]`` official values of each factor; image rows carry
    their factor indices (see :func:`coded_images`).
    """
    index = grid_index(sizes)
    labels = np.stack([v[index[:, k]] for k, v in enumerate(SHAPES3D_VALUES)], axis=1)
    with h5py.File(path, "w") as f:
        f["labels"] = labels
        images = f.create_dataset("images", shape=(len(index), 64, 64, 3), dtype=np.uint8)
        for start in range(0, len(index), chunk):
            images[start:start + chunk] = coded_images(index[start:start + chunk])
    return index


def write_mpi3d(path, sizes):
    """``mpi3d_<variant>.npz`` with ``images`` (n, 64, 64, 3) uint8 (``np.savez``)."""
    index = grid_index(sizes)
    np.savez(path, images=coded_images(index, scale=6))
    return index


def _write_norb(path, array, magic):
    dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
    with open(path, "wb") as f:
        np.array([magic, array.ndim, *dims], dtype="<i4").tofile(f)
        f.write(np.ascontiguousarray(array).tobytes())


def write_smallnorb(folder, n_instances=4, sizes=(2, 2, 3, 2)):
    """The six SmallNORB files; instances split between training and testing as officially.

    ``sizes``: categories, elevations, azimuths, lightings. Azimuths are
    stored as 0, 2, 4, ... as in the official ``info``. The left image of a
    row is filled with ``40 * category + 10 * elevation + ...`` so tests can
    check which row they got; the right image is 255 minus it.
    Returns the features (category, instance, elevation, azimuth index, lighting).
    """
    n_cat, n_elev, n_azim, n_light = sizes
    rows = grid_index((n_cat, n_instances, n_elev, n_azim, n_light))
    rng = np.random.RandomState(0)
    rows = rows[rng.permutation(len(rows))]  # the official files are not in grid order
    training = rows[:, 1] % 2 == 0
    for split, mask in zip(SPLITS, (training, ~training), strict=True):
        part = rows[mask]
        value = (40 * part[:, 0] + 10 * part[:, 2] + 3 * part[:, 3] + part[:, 4]).astype(np.uint8)
        left = np.broadcast_to(value[:, None, None], (len(part), 96, 96))
        dat = np.stack([left, 255 - left], axis=1).astype(np.uint8)
        info = np.column_stack([part[:, 1], part[:, 2], 2 * part[:, 3], part[:, 4]])
        _write_norb(folder / file_name(split, "dat"), dat, 0x1E3D4C55)
        _write_norb(folder / file_name(split, "cat"), part[:, 0].astype("<i4"), 0x1E3D4C54)
        _write_norb(folder / file_name(split, "info"), info.astype("<i4"), 0x1E3D4C54)
    return np.concatenate([rows[training], rows[~training]])


def write_cars3d(folder, n_cars=3):
    """``car_NNN_mesh.mat`` files with ``im`` (128, 128, 3, 24, 4) uint8.

    Pixel values encode (car, azimuth, elevation): red = 10 * car + elevation,
    green = azimuth.
    """
    from scipy.io import savemat

    for car in range(n_cars):
        im = np.zeros((128, 128, 3, 24, 4), dtype=np.uint8)
        im[:, :, 0] = (10 * car + np.arange(4))[None, None, None, :]
        im[:, :, 1] = np.arange(24)[None, None, :, None]
        savemat(folder / f"car_{car:03d}_mesh.mat", {"im": im})


def write_teapots(path, n=400, seed=0):
    """The authors' ``data.npz``: ``imgs`` (n, 64, 64, 3) float64 in [0, 1], ``latents`` (n, 5).

    Latents drawn as in ``generate_random_latents``; each image is filled with
    its RGB latents, so colour follows the factors.
    """
    rng = np.random.RandomState(seed)
    latents = np.column_stack([rng.uniform(0, 2 * np.pi, n), rng.uniform(0, np.pi / 2, n),
                               rng.uniform(0, 1, (n, 3))])
    imgs = np.broadcast_to(latents[:, None, None, 2:], (n, 64, 64, 3)).copy()
    np.savez(path, imgs=imgs, latents=latents)
    return latents
