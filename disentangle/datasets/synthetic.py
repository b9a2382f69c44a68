"""Synthetic files in the exact layouts of the official dataset files.

Keys, dtypes, shapes, factor order and value grids as in the official files,
with any (smaller) grid and made-up pictures: for tests, for the gallery, and
for checking a pipeline (memory, speed) without the downloads. Each writer
takes a ``render`` function from factor indices ``(n, n_factors)`` to
channel-last uint8 images ``(n, 64, 64, 3)``; the default,
:func:`coded_images`, writes each factor's index into the pixels so that a
test can read back which image it got.
"""

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


def write_shapes3d(path, sizes=(10, 10, 10, 8, 4, 15), render=coded_images, chunk=6000):
    """``3dshapes.h5``: ``images`` (n, 64, 64, 3) uint8 and ``labels`` (n, 6) float64.

    The first ``sizes[k]`` official values of each factor, written ``chunk``
    images at a time (the full 480,000-image grid takes 5.9 GB on disk).

    Returns
    -------
    index : ndarray of shape (n, 6), int64
        The factor indices of each row.
    """
    index = grid_index(sizes)
    labels = np.stack([v[index[:, k]] for k, v in enumerate(SHAPES3D_VALUES)], axis=1)
    with h5py.File(path, "w") as f:
        f["labels"] = labels
        images = f.create_dataset("images", shape=(len(index), 64, 64, 3), dtype=np.uint8)
        for start in range(0, len(index), chunk):
            images[start:start + chunk] = render(index[start:start + chunk])
    return index


def write_mpi3d(path, sizes, render=None):
    """``mpi3d_<variant>.npz`` with ``images`` (n, 64, 64, 3) uint8 (``np.savez``).

    ``render`` defaults to :func:`coded_images` with 6 grey levels per index.
    Returns the factor indices of each row, shape (n, 7).
    """
    index = grid_index(sizes)
    np.savez(path, images=coded_images(index, scale=6) if render is None else render(index))
    return index


def _write_norb(path, array, magic):
    dims = list(array.shape) + [1] * max(0, 3 - array.ndim)
    with open(path, "wb") as f:
        np.array([magic, array.ndim, *dims], dtype="<i4").tofile(f)
        f.write(np.ascontiguousarray(array).tobytes())


def norb_code(features):
    """96 x 96 grey images filled with ``40 category + 10 elevation + 3 azimuth + lighting``."""
    value = 40 * features[:, 0] + 10 * features[:, 2] + 3 * features[:, 3] + features[:, 4]
    return np.broadcast_to(value.astype(np.uint8)[:, None, None], (len(features), 96, 96))


def write_smallnorb(folder, n_instances=4, sizes=(2, 2, 3, 2), render=norb_code):
    """The six SmallNORB binary files; instances split between training and testing.

    ``sizes``: categories, elevations, azimuths, lightings. Azimuths are
    stored as 0, 2, 4, ... as in the official ``info``; rows are shuffled, as
    the official files are not in grid order. ``render`` maps features
    (category, instance, elevation, azimuth index, lighting) to the left
    camera's 96 x 96 uint8 images; the right camera gets 255 minus them.

    Returns
    -------
    features : ndarray of shape (n, 5)
        Training rows, then testing rows.
    """
    n_cat, n_elev, n_azim, n_light = sizes
    rows = grid_index((n_cat, n_instances, n_elev, n_azim, n_light))
    rng = np.random.RandomState(0)
    rows = rows[rng.permutation(len(rows))]
    training = rows[:, 1] % 2 == 0
    for split, mask in zip(SPLITS, (training, ~training), strict=True):
        part = rows[mask]
        left = render(part)
        dat = np.stack([left, 255 - left], axis=1).astype(np.uint8)
        info = np.column_stack([part[:, 1], part[:, 2], 2 * part[:, 3], part[:, 4]])
        _write_norb(folder / file_name(split, "dat"), dat, 0x1E3D4C55)
        _write_norb(folder / file_name(split, "cat"), part[:, 0].astype("<i4"), 0x1E3D4C54)
        _write_norb(folder / file_name(split, "info"), info.astype("<i4"), 0x1E3D4C54)
    return np.concatenate([rows[training], rows[~training]])


def car_code(car):
    """``im`` (128, 128, 3, 24, 4) of one car: red ``10 car + elevation``, green azimuth."""
    im = np.zeros((128, 128, 3, 24, 4), dtype=np.uint8)
    im[:, :, 0] = (10 * car + np.arange(4))[None, None, None, :]
    im[:, :, 1] = np.arange(24)[None, None, :, None]
    return im


def write_cars3d(folder, n_cars=3, render=car_code):
    """``car_NNN_mesh.mat`` files (MATLAB) with ``im`` (128, 128, 3, 24, 4) uint8.

    ``render(car)`` gives one car's ``im``: height, width, colour, azimuth,
    elevation.
    """
    from scipy.io import savemat

    for car in range(n_cars):
        savemat(folder / f"car_{car:03d}_mesh.mat", {"im": render(car)})


def teapot_colour(latents):
    """Images filled with their RGB latents, (n, 64, 64, 3) float64."""
    return np.broadcast_to(latents[:, None, None, 2:], (len(latents), 64, 64, 3)).copy()


def write_teapots(path, n=400, seed=0, render=teapot_colour):
    """The InfoGAN-CR authors' ``data.npz``: ``imgs`` (n, 64, 64, 3) floats, ``latents`` (n, 5).

    Latents drawn as the authors' ``generate_random_latents`` (azimuth
    U(0, 2 pi), elevation U(0, pi / 2), RGB U(0, 1)); ``render`` maps them
    to float images in [0, 1].

    Returns
    -------
    latents : ndarray of shape (n, 5)
    """
    rng = np.random.RandomState(seed)
    latents = np.column_stack([rng.uniform(0, 2 * np.pi, n), rng.uniform(0, np.pi / 2, n),
                               rng.uniform(0, 1, (n, 3))])
    np.savez(path, imgs=render(latents), latents=latents)
    return latents
