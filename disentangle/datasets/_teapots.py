"""3D Teapots: a teapot under varying pose and colour, with continuous ground truth.

The dataset of Eastwood & Williams (ICLR 2018) as the InfoGAN-CR authors
rendered it (``fjxmlzn/InfoGAN-CR``, ``3D_teapot/generate_teapots_*.py``, and
``InfoGAN-CR_3D_teapot/gan/load_data.py``, which reads it): ``train_data/
data.npz`` holds ``imgs`` (200000, 64, 64, 3), floats in [0, 1], and
``latents`` (200000, 5) drawn uniformly: azimuth in [0, 2 pi), elevation in
[0, pi / 2), and the red, green and blue of the teapot in [0, 1).
"""

import functools
from pathlib import Path

import numpy as np

from disentangle.datasets._base import ImageGridDataset
from disentangle.datasets._fetch import cache_file, locate
from disentangle.datasets._images import (
    cached_images,
    iter_npz_rows,
    npz_headers,
    npz_image_chunks,
    source_digest,
)

#: The range of each latent, as drawn by the authors' generate_random_latents.
LATENT_RANGES = ((0.0, 2 * np.pi), (0.0, np.pi / 2), (0.0, 1.0), (0.0, 1.0), (0.0, 1.0))
#: The generator whose data this loader reads, and the InfoGAN-CR README's download folder.
GENERATOR = "generate_teapots_all_color_incomplete_rotation_up_light.py"
DOWNLOAD_PAGE = "https://drive.google.com/drive/folders/1tyTgGZ4Yb2hXCLoXxvUZPJ-y3pFd4I_E"


def check_latent_layout(latents, what):
    """Raise unless every latent lies in its range of :data:`LATENT_RANGES`.

    The authors' other generators (``generate_teapots_fixed_color_complete_
    rotation_*.py``) also write ``latents`` (n, 5), but of rotation angles and
    a light direction, up to 2 pi where colours stay below 1: such a file
    would otherwise load under the wrong factor names.

    Raises
    ------
    ValueError
        Naming the first latent out of range, its range found, and the
        generator expected.
    """
    names = ("azimuth", "elevation", "red", "green", "blue")
    for k, (low, high) in enumerate(LATENT_RANGES):
        found = float(latents[:, k].min()), float(latents[:, k].max())
        if found[0] < low or found[1] > high:
            raise ValueError(
                f"{what}: latent {k} ({names[k]}) takes values in [{found[0]:.3g}, "
                f"{found[1]:.3g}], outside [{low:.3g}, {high:.3g}] where {GENERATOR} draws it. "
                "This looks like another generator's data (fixed colour, complete rotation: "
                "rotation angles and light direction instead of colour); use the "
                f"all_color_incomplete_rotation_up_light data ({DOWNLOAD_PAGE})."
            )


class Teapots(ImageGridDataset):
    """3D Teapots from the InfoGAN-CR authors' ``data.npz``, with binned factors.

    The ground truth is continuous (``latents``). The metrics need factors
    they can fix and redraw, so each latent is cut into ``n_bins`` bins of
    equal width over its range (:data:`LATENT_RANGES`): factor ``k`` is the
    bin of latent ``k`` (index 0 .. ``n_bins - 1``). An observation of given
    factors is an image drawn uniformly among those whose latents fall in
    these bins, so observations are random given the factors. With the
    official 200,000 images and the default 5 bins, each of the 3,125 cells
    holds about 64 images.

    Parameters
    ----------
    path : str, path-like
        ``data.npz`` or a folder that holds it (``train_data/`` of the
        authors' output). The InfoGAN-CR README links the authors' data in a
        Google Drive folder (:data:`DOWNLOAD_PAGE`; take the
        ``all_color_incomplete_rotation_up_light`` data), which a script
        cannot download; the generator scripts are in the same repository.
    n_bins : int, default=5
        Bins per latent, at least 2.
    data_home : str, path-like or None, default=None
        For the decoded cache.

    Attributes
    ----------
    factor_names : ("azimuth", "elevation", "red", "green", "blue")
    factor_sizes : tuple of 5 int
        ``(n_bins,) * 5``.
    bin_edges : list of 5 ndarrays of shape (n_bins + 1,)
    latents : ndarray of shape (n_images, 5), float64
        The continuous ground truth of each row of ``images``.
    images : ndarray of shape (n_images, 3, 64, 64), uint8
        Converted once (floats times 255, rounded) into a ``.npy`` cache under
        ``data_home/teapots``.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ValueError
        ``n_bins`` below 2, a file without ``imgs`` (n, 64, 64, 3) and
        ``latents`` (n, 5), latents outside :data:`LATENT_RANGES` (another
        generator's file); when sampling, factors whose cell holds no image
        (use fewer bins).
    """

    factor_names = ("azimuth", "elevation", "red", "green", "blue")
    observation_shape = (3, 64, 64)

    def __init__(self, path=None, *, n_bins=5, data_home=None):
        if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 2:
            raise ValueError(f"n_bins must be an integer >= 2; got {n_bins!r}.")
        self.path = path
        self.n_bins = int(n_bins)
        self.data_home = data_home
        if path is not None and (Path(path) / "train_data" / "data.npz").exists():
            path = Path(path) / "train_data"
        self.source_path = locate("teapots", path, data_home, download_if_missing=False)
        what = f"Teapots file {str(self.source_path)!r}"
        headers = npz_headers(self.source_path, what)
        (shape, _), (latent_shape, _) = (headers.get(k, ((), None)) for k in ("imgs", "latents"))
        if len(shape) != 4 or shape[1:] != (64, 64, 3) or latent_shape != (shape[0], 5):
            raise ValueError(
                f"{what}: expected 'imgs' (n, 64, 64, 3) and 'latents' (n, 5); got {shape} and "
                f"{latent_shape}."
            )
        check_latent_layout(self.latents, what)
        self.n_images = shape[0]
        self.factor_sizes = (self.n_bins,) * 5
        self.bin_edges = [np.linspace(low, high, self.n_bins + 1) for low, high in LATENT_RANGES]

    def __len__(self):
        return self.n_images

    @property
    def latents(self):
        """ndarray of shape (n_images, 5), float64: azimuth, elevation, red, green, blue."""
        return self._cached("latents", lambda: np.concatenate(
            list(iter_npz_rows(self.source_path, "latents"))).astype(np.float64))

    def bin_latents(self, latents):
        """Factor indices (bins) of continuous latents, shape (n, 5), int64.

        Values on or beyond the upper edge go to the last bin, below the lower
        edge to the first.
        """
        latents = np.asarray(latents, dtype=np.float64)
        columns = [np.clip(np.searchsorted(edges, latents[:, k], side="right") - 1, 0,
                           self.n_bins - 1) for k, edges in enumerate(self.bin_edges)]
        return np.stack(columns, axis=1).astype(np.int64)

    def _cells(self):
        """Rows of ``images`` sorted by cell, and where each cell starts."""
        cells = np.ravel_multi_index(self.bin_latents(self.latents).T, self.factor_sizes)
        order = np.argsort(cells, kind="stable")
        starts = np.searchsorted(cells[order], np.arange(np.prod(self.factor_sizes) + 1))
        return order, starts

    def _rows(self, factors, random_state):
        order, starts = self._cached("cells", self._cells)
        cells = np.ravel_multi_index(factors.T, self.factor_sizes)
        counts = starts[cells + 1] - starts[cells]
        if np.any(counts == 0):
            empty = factors[np.flatnonzero(counts == 0)[0]].tolist()
            raise ValueError(f"no teapot image has latents in the bins {empty}; use fewer "
                             f"bins than n_bins={self.n_bins}.")
        return order[starts[cells] + (random_state.random_sample(len(cells)) * counts)
                     .astype(np.int64)]

    def _load_images(self):
        path = cache_file("teapots", self.data_home, "teapots_chw", source_digest(self.source_path))
        chunks = functools.partial(npz_image_chunks, self.source_path, "imgs")
        return cached_images(path, (self.n_images, *self.observation_shape), chunks)


