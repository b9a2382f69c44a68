"""Shapes3D (3dshapes): 480,000 colour renderings of an object in a room, six factors.

Burgess & Kim (2018), ``github.com/deepmind/3d-shapes``; introduced in Kim &
Mnih, "Disentangling by Factorising" (ICML 2018). The official ``3dshapes.h5``
holds ``images`` (480000, 64, 64, 3) uint8 and ``labels`` (480000, 6) float64,
every combination of the factors exactly once, the last factor (orientation)
varying fastest.
"""

import numpy as np

from disentangle.datasets._base import ImageGridDataset
from disentangle.datasets._fetch import cache_file, locate
from disentangle.datasets._images import (
    CHUNK_ROWS,
    as_uint8,
    cached_images,
    channels_first,
    source_digest,
)


def _h5py():
    try:
        import h5py
    except ImportError as error:  # pragma: no cover - h5py is a dependency
        raise ImportError("Shapes3D reads HDF5 files with h5py: pip install h5py.") from error
    return h5py


def open_hdf5(path, what):
    """``h5py.File(path, "r")``; a file h5py cannot open raises a ValueError naming it.

    Raises
    ------
    ValueError
        Not an HDF5 file, or truncated (h5py's OSError, e.g. "file signature
        not found" or "truncated file"), with the path, what was expected and
        what to do.
    """
    try:
        return _h5py().File(path, "r")
    except OSError as error:
        raise ValueError(
            f"{what} is not a readable HDF5 file ({error}); expected the official 3dshapes.h5 "
            "(267,573,662 bytes). A truncated or failed download? Delete it; Shapes3D() "
            "downloads it again."
        ) from error


def grid_from_labels(labels, names, what):
    """Factor values of a labelled grid, checked to be every combination once, last fastest.

    Parameters
    ----------
    labels : ndarray of shape (n, n_factors)
    names : tuple of str
    what : str
        The file, for messages.

    Returns
    -------
    values : list of ndarray
        The sorted distinct values of each factor.

    Raises
    ------
    ValueError
        If the rows are not the full grid in mixed-radix order.
    """
    values = [np.unique(labels[:, k]) for k in range(labels.shape[1])]
    sizes = tuple(len(v) for v in values)
    index = np.stack([np.searchsorted(v, labels[:, k]) for k, v in enumerate(values)], axis=1)
    if np.prod(sizes) != len(labels) or not np.array_equal(
            np.ravel_multi_index(index.T, sizes), np.arange(len(labels))):
        raise ValueError(
            f"{what}: the labels are not every combination of the factors {names} (sizes "
            f"{sizes}) exactly once in the official order (last factor fastest)."
        )
    return values


class Shapes3D(ImageGridDataset):
    """Shapes3D from the official ``3dshapes.h5``.

    Factors (``factor_names``), in the file's order, with the official sizes
    ``factor_sizes`` = (10, 10, 10, 8, 4, 15) (deepmind/3d-shapes README;
    disentanglement_lib ``data/ground_truth/shapes3d.py``):

    * ``floor_hue``, ``wall_hue``, ``object_hue``: 10 hues each, in [0, 1];
    * ``scale``: 8 object sizes;
    * ``shape``: 4 shapes (cube, cylinder, sphere, capsule), values 0..3;
    * ``orientation``: 15 angles in [-30, 30] degrees.

    The values of each factor (``factor_values``) are read from the file's
    ``labels``, which are checked to hold every combination once, in order;
    ``factor_sizes`` is read from them too (the official file gives the sizes
    above).

    Parameters
    ----------
    path : str, path-like or None, default=None
        ``3dshapes.h5``, or a folder that holds it. None: ``data_home`` /
        ``shapes3d/3dshapes.h5``, downloaded from
        ``https://storage.googleapis.com/3d-shapes/3dshapes.h5`` if missing.
    data_home : str, path-like or None, default=None
        Downloads and the decoded cache; ``$DISENTANGLE_DATA`` or
        ``~/.cache/disentangle`` when None.
    download_if_missing : bool, default=True

    Attributes
    ----------
    source_path : pathlib.Path
        The file read.
    factor_values : list of 6 float64 ndarrays
    images : ndarray of shape (n_images, 3, 64, 64), uint8
        See :attr:`ImageGridDataset.images`. Built once from the file, in
        chunks of 2,048 images (about 50 MB resident at a time), into a
        ``.npy`` cache under ``data_home/shapes3d`` (5.9 GB for the official
        file), memory-mapped afterwards.

    Raises
    ------
    FileNotFoundError
        No file, and it cannot or may not be downloaded; the message names
        the URL and where to put the file.
    ValueError
        The file lacks ``images`` (n, 64, 64, 3) uint8 or ``labels`` (n, 6),
        or the labels are not the full grid in the official order.
    """

    factor_names = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    factor_sizes = (10, 10, 10, 8, 4, 15)
    observation_shape = (3, 64, 64)

    def __init__(self, path=None, *, data_home=None, download_if_missing=True):
        self.path = path
        self.data_home = data_home
        self.download_if_missing = download_if_missing
        self.source_path = locate("shapes3d", path, data_home, download_if_missing)
        what = f"Shapes3D file {str(self.source_path)!r}"
        with open_hdf5(self.source_path, what) as f:
            if "images" not in f or "labels" not in f:
                raise ValueError(f"{what} lacks 'images' or 'labels' (it has {sorted(f)}).")
            images, labels = f["images"], f["labels"][()]
            if (images.ndim != 4 or images.shape[1:] != (64, 64, 3) or images.dtype != np.uint8
                    or labels.shape != (len(images), 6)):
                raise ValueError(
                    f"{what}: expected 'images' (n, 64, 64, 3) uint8 and 'labels' (n, 6); got "
                    f"{images.shape} {images.dtype} and {labels.shape}."
                )
        self.factor_values = grid_from_labels(labels, self.factor_names, what)
        self.factor_sizes = tuple(len(v) for v in self.factor_values)

    def __len__(self):
        return int(np.prod(self.factor_sizes))

    def _load_images(self):
        path = cache_file("shapes3d", self.data_home, "3dshapes_chw",
                          source_digest(self.source_path))
        return cached_images(path, (len(self), *self.observation_shape), self._chunks)

    def _chunks(self):
        with open_hdf5(self.source_path, f"Shapes3D file {str(self.source_path)!r}") as f:
            images = f["images"]
            for start in range(0, len(images), CHUNK_ROWS):
                yield channels_first(as_uint8(images[start:start + CHUNK_ROWS],
                                              f"'images' of {str(self.source_path)!r}"))
