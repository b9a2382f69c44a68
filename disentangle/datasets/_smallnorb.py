"""SmallNORB: toys photographed under varying pose and lighting.

LeCun, Huang & Bottou (CVPR 2004), ``cs.nyu.edu/~ylclab/data/norb-v1.0-small/``.
The official files are binary matrices (``.mat`` in NORB's own format, not
MATLAB's): an int32 magic number giving the type (``0x1E3D4C55`` uint8,
``0x1E3D4C54`` int32), an int32 number of dimensions, ``max(3, ndim)`` int32
sizes, then the data, little-endian. Each of the two splits (training
instances 4, 6, 7, 8, 9; testing 0, 1, 2, 3, 5) has ``-dat`` (24300, 2, 96, 96)
uint8 stereo pairs, ``-cat`` (24300,) categories and ``-info`` (24300, 4):
instance, elevation, azimuth (0, 2, ..., 34) and lighting.
"""

from pathlib import Path

import numpy as np

from disentangle.datasets._base import ImageGridDataset
from disentangle.datasets._fetch import cache_file, locate
from disentangle.datasets._images import CHUNK_ROWS, cached_images, resize_square, source_digest

SPLITS = ("5x46789x9x18x6x2x96x96-training", "5x01235x9x18x6x2x96x96-testing")
_DTYPES = {0x1E3D4C55: np.uint8, 0x1E3D4C54: np.int32}


def file_name(split, part):
    """Official name of one SmallNORB file (``part`` in dat, cat, info)."""
    return f"smallnorb-{split}-{part}.mat"


def read_norb(path):
    """A NORB binary matrix, memory-mapped.

    Returns
    -------
    data : numpy.memmap

    Raises
    ------
    ValueError
        An unknown magic number, or a size that does not match the file.
    """
    header = np.fromfile(path, dtype="<i4", count=5)
    if len(header) < 5 or int(header[0]) not in _DTYPES:
        raise ValueError(f"{str(path)!r} is not a NORB uint8 or int32 binary matrix.")
    ndim = int(header[1])
    dims = tuple(int(d) for d in np.fromfile(path, dtype="<i4", count=max(3, ndim) + 2)[2:])
    offset = 4 * (2 + max(3, ndim))
    dtype = np.dtype(_DTYPES[int(header[0])]).newbyteorder("<")
    shape = dims[:ndim]
    if Path(path).stat().st_size != offset + int(np.prod(shape)) * dtype.itemsize:
        raise ValueError(f"{str(path)!r}: size does not match its header's shape {shape}.")
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)


class SmallNORB(ImageGridDataset):
    """SmallNORB from the six official files, as disentanglement_lib uses it.

    Following ``data/ground_truth/norb.py`` of disentanglement_lib: both
    splits together (48,600 images), the first camera of each stereo pair,
    resized from 96x96 to 64x64 (Lanczos), azimuth indices halved to 0..17.
    Factors (``factor_names``), ``factor_sizes`` = (5, 9, 18, 6):
    ``category`` (animal, human, airplane, truck, car), ``elevation`` (9),
    ``azimuth`` (18) and ``lighting`` (6). The toy ``instance`` (10 per
    category) is not a factor: each observation shows an instance drawn
    uniformly, so observations are random given the factors.

    Parameters
    ----------
    path : str, path-like or None, default=None
        The folder with the six files (``smallnorb-5x46789x9x18x6x2x96x96-
        training-dat.mat`` ...). None: ``data_home/smallnorb``, each file
        downloaded and decompressed from the official ``.gz`` if missing.
    data_home : str, path-like or None, default=None
    download_if_missing : bool, default=True

    Attributes
    ----------
    features : ndarray of shape (48600, 5), int64
        Category, instance, elevation, azimuth / 2 and lighting of each row
        of ``images``.
    images : ndarray of shape (48600, 1, 64, 64), uint8
        Resized once into a ``.npy`` cache under ``data_home/smallnorb``.

    Raises
    ------
    FileNotFoundError
        A file is missing and may not be downloaded.
    ValueError
        A file is not a NORB matrix of the expected shape, or the labels do
        not cover every (category, instance, elevation, azimuth, lighting)
        exactly once.
    """

    factor_names = ("category", "elevation", "azimuth", "lighting")
    factor_sizes = (5, 9, 18, 6)
    observation_shape = (1, 64, 64)

    def __init__(self, path=None, *, data_home=None, download_if_missing=True):
        self.path = path
        self.data_home = data_home
        self.download_if_missing = download_if_missing
        self.source_paths = {
            (split, part): locate(file_name(split, part), path, data_home, download_if_missing)
            for split in SPLITS for part in ("dat", "cat", "info")}
        features = np.concatenate([self._features(split) for split in SPLITS])
        features[:, 3] //= 2
        sizes = tuple(int(s) for s in features.max(axis=0) + 1)
        if np.prod(sizes) != len(features) or len(np.unique(
                np.ravel_multi_index(features.T, sizes))) != len(features):
            raise ValueError(
                "SmallNORB labels do not hold every (category, instance, elevation, azimuth, "
                f"lighting) of sizes {sizes} exactly once."
            )
        self.features = features
        self.factor_sizes = tuple(sizes[k] for k in (0, 2, 3, 4))
        self.n_instances = sizes[1]

    def _features(self, split):
        images = read_norb(self.source_paths[split, "dat"])
        category = read_norb(self.source_paths[split, "cat"])
        info = read_norb(self.source_paths[split, "info"])
        n = len(images)
        if images.shape[1:] != (2, 96, 96) or category.shape != (n,) or info.shape != (n, 4):
            raise ValueError(
                f"SmallNORB {split}: expected dat (n, 2, 96, 96), cat (n,) and info (n, 4); got "
                f"{images.shape}, {category.shape} and {info.shape}."
            )
        return np.column_stack([category, info]).astype(np.int64)

    def _lookup(self):
        """Row of every (category, instance, elevation, azimuth, lighting)."""
        sizes = (self.factor_sizes[0], self.n_instances, *self.factor_sizes[1:])
        lookup = np.empty(sizes, dtype=np.int64)
        lookup[tuple(self.features.T)] = np.arange(len(self.features))
        return lookup

    def _rows(self, factors, random_state):
        instance = random_state.randint(self.n_instances, size=len(factors))
        lookup = self._cached("lookup", self._lookup)
        return lookup[factors[:, 0], instance, factors[:, 1], factors[:, 2], factors[:, 3]]

    def _load_images(self):
        files = [self.source_paths[split, "dat"] for split in SPLITS]
        path = cache_file("smallnorb", self.data_home, "smallnorb_64", source_digest(*files))
        return cached_images(path, (len(self.features), *self.observation_shape), self._chunks)

    def _chunks(self):
        for split in SPLITS:
            pairs = read_norb(self.source_paths[split, "dat"])
            for start in range(0, len(pairs), CHUNK_ROWS):
                left = pairs[start:start + CHUNK_ROWS, 0]
                yield np.stack([resize_square(image, 64) for image in left])[:, None]
