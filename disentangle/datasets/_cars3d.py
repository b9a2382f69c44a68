"""Cars3D: 183 car models rendered at 4 elevations and 24 azimuths.

Reed, Zhang, Zhang & Lee, "Deep Visual Analogy-Making" (NeurIPS 2015),
``www.scottreed.info``: ``nips2015-analogy-data.tar.gz`` holds ``data/cars/``,
one MATLAB file per car (``car_*_mesh.mat``) whose ``im`` is (128, 128, 3,
24, 4) uint8: height, width, colour, azimuth, elevation (the axis order
disentanglement_lib's ``cars3d.py`` reads), and ``list.txt``, the cars in their
documented order.
"""

import zlib
from pathlib import Path

import numpy as np

from disentangle.datasets._base import ImageGridDataset
from disentangle.datasets._fetch import cache_file, locate
from disentangle.datasets._images import cached_images, resize_square, source_digest


def load_car(path):
    """One car's 96 renderings, (4 elevations, 24 azimuths, 128, 128, 3) uint8.

    Raises
    ------
    ValueError
        No ``im`` of shape (128, 128, 3, 24, 4).
    """
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        im = loadmat(path).get("im")
    except (MatReadError, OSError, ValueError, EOFError, zlib.error) as error:
        raise ValueError(f"Cars3D file {str(path)!r} is not a readable MATLAB file ({error}); "
                         "expected a car_*_mesh.mat of the official archive. Truncated? Delete "
                         "the data/cars folder; Cars3D() downloads the archive again.") from error
    if im is None or im.shape != (128, 128, 3, 24, 4):
        raise ValueError(f"Cars3D file {str(path)!r}: expected 'im' of shape (128, 128, 3, 24, 4)"
                         f"; got {None if im is None else im.shape}.")
    return np.transpose(im, (4, 3, 0, 1, 2))


#: The car files of the official archive; other ``.mat`` files in the folder are ignored.
CAR_FILES = "car_*_mesh.mat"


def car_files(folder):
    """The car files of ``folder``, in ``list.txt``'s order when it is there, else sorted by name.

    ``list.txt`` has one car a line, with or without ``.mat``. Without it,
    the files named ``car_*_mesh.mat`` are taken in sorted order; other files
    are ignored.

    Raises
    ------
    FileNotFoundError
        No car file, or ``list.txt`` names files that are not in the folder.
    """
    folder = Path(folder)
    listing = folder / "list.txt"
    if listing.is_file():
        names = [Path(line.strip()).name for line in listing.read_text().splitlines()
                 if line.strip()]
        files = [folder / (name if name.endswith(".mat") else f"{name}.mat") for name in names]
        missing = [file.name for file in files if not file.is_file()]
        if missing:
            raise FileNotFoundError(
                f"{str(listing)!r} lists {len(missing)} car file(s) missing from "
                f"{str(folder)!r}, e.g. {missing[:3]}; extract the whole Cars3D archive there."
            )
    else:
        files = sorted(folder.glob(CAR_FILES))
    if not files:
        raise FileNotFoundError(f"no {CAR_FILES} file in {str(folder)!r}; expected the car "
                                "files of the Cars3D archive's data/cars.")
    return files


class Cars3D(ImageGridDataset):
    """Cars3D from the official ``.mat`` files, as disentanglement_lib uses it.

    Factors (``factor_names``), ``factor_sizes`` = (4, 24, 183):
    ``elevation`` (4), ``azimuth`` (24) and ``object_type`` (183 cars, in the
    order of the archive's ``list.txt``, the documented order; without it,
    the ``car_*_mesh.mat`` files sorted by name. disentanglement_lib takes
    the directory-listing order, which the file system decides). Other files
    in the folder are ignored. Each 128x128 image is
    resized to 64x64 with Lanczos filtering (disentanglement_lib's
    ``thumbnail(..., ANTIALIAS)``).

    Parameters
    ----------
    path : str, path-like or None, default=None
        The folder of ``*.mat`` files (``data/cars`` of the archive). None:
        ``data_home/cars3d/data/cars``, the archive downloaded and extracted
        if missing.
    data_home : str, path-like or None, default=None
    download_if_missing : bool, default=True

    Attributes
    ----------
    source_paths : list of pathlib.Path
        The car files in order; ``object_type`` ``k`` is file ``k``.
    images : ndarray of shape (n_cars * 96, 3, 64, 64), uint8
        Resized once into a ``.npy`` cache under ``data_home/cars3d``; rows in
        (object_type, elevation, azimuth) order.

    Raises
    ------
    FileNotFoundError
        No folder, no car file in it, or car files named by ``list.txt``
        missing.
    ValueError
        A file that is not a readable MATLAB file or has no ``im`` of shape
        (128, 128, 3, 24, 4) (when the images are decoded); the message names
        it.
    """

    factor_names = ("elevation", "azimuth", "object_type")
    factor_sizes = (4, 24, 183)
    observation_shape = (3, 64, 64)

    def __init__(self, path=None, *, data_home=None, download_if_missing=True):
        self.path = path
        self.data_home = data_home
        self.download_if_missing = download_if_missing
        self.source_paths = car_files(locate("cars3d", path, data_home, download_if_missing))
        self.factor_sizes = (4, 24, len(self.source_paths))

    def _rows(self, factors, random_state):
        order = (factors[:, 2], factors[:, 0], factors[:, 1])
        return np.ravel_multi_index(order, (self.factor_sizes[2], *self.factor_sizes[:2]))

    def _load_images(self):
        path = cache_file("cars3d", self.data_home, "cars3d_64", source_digest(*self.source_paths))
        shape = (int(np.prod(self.factor_sizes)), *self.observation_shape)
        return cached_images(path, shape, self._chunks)

    def _chunks(self):
        for car in self.source_paths:
            views = load_car(car).reshape(-1, 128, 128, 3)
            yield np.stack([resize_square(view, 64) for view in views]).transpose(0, 3, 1, 2)
