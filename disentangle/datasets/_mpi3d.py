"""MPI3D: a robot arm moving an object, in toy, realistic, real and real-complex versions.

Gondal et al., "On the Transfer of Inductive Bias from Simulation to the Real
World: a New Disentanglement Dataset" (NeurIPS 2019),
``github.com/rr-learning/disentanglement_dataset``. Each official
``mpi3d_<variant>.npz`` holds ``images`` (1036800, 64, 64, 3) uint8, every
combination of seven factors once, the last factor fastest (the README:
``images.reshape([6, 6, 2, 3, 3, 40, 40, 64, 64, 3])``).
"""

import functools

import numpy as np

from disentangle.datasets._base import ImageGridDataset
from disentangle.datasets._fetch import cache_file, locate
from disentangle.datasets._images import (
    cached_images,
    npz_headers,
    npz_image_chunks,
    source_digest,
)

#: Factor sizes by number of images: the current release, and files of 4 colours and 4
#: shapes: ``mpi3d_real_complex`` (other objects) and the NeurIPS 2019 challenge release
#: that disentanglement_lib's ``mpi3d.py`` reads.
KNOWN_SIZES = {1036800: (6, 6, 2, 3, 3, 40, 40), 460800: (4, 4, 2, 3, 3, 40, 40)}
VARIANTS = ("toy", "realistic", "real", "complex")


class MPI3D(ImageGridDataset):
    """MPI3D toy, realistic, real or real-complex, from the official ``.npz``.

    Factors (``factor_names``; values from the official README), official
    sizes ``factor_sizes`` = (6, 6, 2, 3, 3, 40, 40):

    * ``object_color``: white, green, red, blue, brown, olive;
    * ``object_shape``: cone, cube, cylinder, hexagonal, pyramid, sphere;
    * ``object_size``: small, large;
    * ``camera_height``: top, center, bottom;
    * ``background_color``: purple, sea green, salmon;
    * ``horizontal_axis``, ``vertical_axis``: 40 positions of the arm's two
      degrees of freedom.

    Parameters
    ----------
    variant : {"toy", "realistic", "real", "complex"}, default="toy"
        ``"complex"`` is ``mpi3d_real_complex.npz``: real images of other
        objects, 4 colours and 4 shapes (460,800 images), published only in a
        Google Drive folder linked from the README, so it is not downloaded.
    path : str, path-like or None, default=None
        ``mpi3d_<variant>.npz`` (``mpi3d_real_complex.npz``) or a folder that
        holds it. None: ``data_home/mpi3d/``, downloaded if missing from
        where the README points since April 2025,
        ``huggingface.co/datasets/waleedgondal/mpi3d/resolve/main/`` (no
        checksum is published: the download is format-checked).
    factor_sizes : tuple of 7 int or None, default=None
        None: from the number of images, the current release (1,036,800
        images) or a 4-colour, 4-shape file (460,800 images: the complex
        variant, or the NeurIPS 2019 challenge release that
        disentanglement_lib reads). Give it for another subset stored in the
        same order.
    data_home : str, path-like or None, default=None
    download_if_missing : bool, default=True

    Attributes
    ----------
    source_path : pathlib.Path
    images : ndarray of shape (n_images, 3, 64, 64), uint8
        Decoded once from the npz, 2,048 images at a time, into a ``.npy``
        cache under ``data_home/mpi3d`` (12.7 GB for an official file),
        memory-mapped afterwards.

    Raises
    ------
    FileNotFoundError
        No file and none may be downloaded; the message says where to get it.
    ValueError
        An unknown variant, a file without ``images`` (n, 64, 64, 3) uint8, or
        ``factor_sizes`` that do not multiply to the number of images.
    """

    factor_names = ("object_color", "object_shape", "object_size", "camera_height",
                    "background_color", "horizontal_axis", "vertical_axis")
    factor_sizes = KNOWN_SIZES[1036800]
    observation_shape = (3, 64, 64)

    def __init__(self, variant="toy", path=None, *, factor_sizes=None, data_home=None,
                 download_if_missing=True):
        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}; got {variant!r}.")
        self.variant = variant
        self.path = path
        self.data_home = data_home
        self.download_if_missing = download_if_missing
        self.source_path = locate(f"mpi3d_{variant}", path, data_home, download_if_missing)
        what = f"MPI3D file {str(self.source_path)!r}"
        shape, dtype = npz_headers(self.source_path, what).get("images", ((), None))
        if len(shape) != 4 or shape[1:] != (64, 64, 3) or dtype != np.uint8:
            raise ValueError(f"{what}: expected 'images' (n, 64, 64, 3) uint8; got {shape} "
                             f"{dtype}.")
        sizes = KNOWN_SIZES.get(shape[0]) if factor_sizes is None else tuple(factor_sizes)
        if sizes is None or len(sizes) != 7 or np.prod(sizes) != shape[0]:
            raise ValueError(
                f"{what} holds {shape[0]} images; factor_sizes must be 7 sizes whose product is "
                f"that number (known releases: {KNOWN_SIZES}); got {factor_sizes}."
            )
        self.factor_sizes = tuple(int(s) for s in sizes)

    def __len__(self):
        return int(np.prod(self.factor_sizes))

    def _load_images(self):
        path = cache_file("mpi3d", self.data_home, f"mpi3d_{self.variant}_chw",
                          source_digest(self.source_path))
        chunks = functools.partial(npz_image_chunks, self.source_path, "images")
        return cached_images(path, (len(self), *self.observation_shape), chunks)
