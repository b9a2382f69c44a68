"""A folder of the user's own images, and CelebA, decoded once into a uint8 cache.

Images are read with Pillow, converted to RGB (or grey), centre-cropped to a
square and resized to ``image_size`` x ``image_size`` with Lanczos filtering,
then written to a ``(n, C, S, S)`` uint8 ``.npy`` cache and memory-mapped:
decoding happens once, however many epochs read the images.
"""

from pathlib import Path

import numpy as np

from disentangle.datasets._base import CachingMixin
from disentangle.datasets._fetch import cache_file, locate
from disentangle.datasets._images import cached_images, resize_square, source_digest
from disentangle.networks import check_image_size

#: File suffixes read, in any case.
SUFFIXES = (".png", ".jpg", ".jpeg")
_CHUNK = 1024


class ImageFolder(CachingMixin):
    """Every PNG and JPEG file under a folder, as one uint8 array for ``fit``.

    Files are found recursively and sorted by path. Each image is cut to the
    largest centred square (or to a centred ``crop`` x ``crop`` square), then
    resized to ``image_size`` (Pillow, Lanczos). Observations only: there are
    no factors, so this is for training and for the unsupervised scores.

    Parameters
    ----------
    path : str or path-like
        The folder.
    image_size : {64, 32}, default=64
        Side of the stored images.
    crop : int or None, default=None
        Side of the centred square cut out before resizing; None: the
        largest centred square.
    color : bool, default=True
        Three RGB channels; False stores one grey channel (Pillow's "L").
    data_home : str, path-like or None, default=None
        For the cache (``data_home/folders``); its name holds a digest of the
        files' paths, sizes and modification times and of the options.

    Attributes
    ----------
    files : list of pathlib.Path
    images : ndarray of shape (n_files, 3 or 1, image_size, image_size), uint8
        Decoded on first use, memory-mapped afterwards.

    Raises
    ------
    FileNotFoundError
        No folder, or no PNG or JPEG file in it.
    ValueError
        An unsupported ``image_size``.

    Examples
    --------
    >>> from disentangle import VAE  # doctest: +SKIP
    >>> VAE().fit(ImageFolder("photos/").images)  # doctest: +SKIP
    """

    cache_folder = "folders"

    def __init__(self, path, *, image_size=64, crop=None, color=True, data_home=None):
        check_image_size(image_size, image_size)
        self.path = path
        self.image_size = image_size
        self.crop = crop
        self.color = color
        self.data_home = data_home
        self.files = self._find(Path(path).expanduser())

    @staticmethod
    def _find(folder):
        if not folder.is_dir():
            raise FileNotFoundError(f"{str(folder)!r} is not a folder of images.")
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES)
        if not files:
            raise FileNotFoundError(f"no {'/'.join(SUFFIXES)} file in {str(folder)!r}.")
        return files

    def __len__(self):
        return len(self.files)

    @property
    def images(self):
        """ndarray of shape (n, C, image_size, image_size), uint8, memory-mapped."""
        return self._cached("images", self._load_images)

    def _load_images(self):
        channels = 3 if self.color else 1
        digest = source_digest(*self.files, extra=(self.image_size, self.crop, channels))
        path = cache_file(self.cache_folder, self.data_home, "images", digest)
        shape = (len(self.files), channels, self.image_size, self.image_size)
        return cached_images(path, shape, self._chunks)

    def _chunks(self):
        from PIL import Image

        for start in range(0, len(self.files), _CHUNK):
            chunk = np.stack([self._read(Image, file) for file in self.files[start:start + _CHUNK]])
            yield chunk.transpose(0, 3, 1, 2) if self.color else chunk[:, None]


    def _read(self, image_module, file):
        """One image, converted, cropped and resized; a file Pillow cannot decode is named."""
        try:
            with image_module.open(file) as image:
                image = image.convert("RGB" if self.color else "L")
                return resize_square(image, self.image_size, self.crop)
        except (OSError, SyntaxError, ValueError) as error:  # PIL's decoding errors
            raise ValueError(f"image file {str(file)!r} cannot be decoded ({error}): truncated "
                             "or not an image; replace or remove it.") from error


class CelebA(ImageFolder):
    """CelebA's aligned faces (``img_align_celeba``), as the InfoGAN-CR authors prepared them.

    Liu, Luo, Wang & Tang, "Deep Learning Face Attributes in the Wild" (ICCV
    2015). As in ``CelebA/process_celeba.py`` of ``fjxmlzn/InfoGAN-CR``: a
    centred 128 x 128 crop of each 178 x 218 image, resized to 32 x 32 (the
    paper's size; 64 also works). The authors resize with OpenCV's bilinear
    filter, here Pillow's Lanczos. Observations only, no factors: for
    training and the unsupervised scores.

    Parameters
    ----------
    path : str, path-like or None, default=None
        The ``img_align_celeba`` folder of JPEG files. None:
        ``data_home/celeba/img_align_celeba``. There is no scripted download
        (the official copies are on Google Drive and Baidu behind a form):
        get ``img_align_celeba.zip`` from the CelebA page and extract it
        there.
    image_size : {32, 64}, default=32
    data_home : str, path-like or None, default=None

    Raises
    ------
    FileNotFoundError
        No folder; the message names the CelebA page and where to put it.
    """

    cache_folder = "celeba"

    def __init__(self, path=None, *, image_size=32, data_home=None):
        folder = locate("celeba", path, data_home, download_if_missing=False)
        super().__init__(folder, image_size=image_size, crop=128, data_home=data_home)
        self.path = path
