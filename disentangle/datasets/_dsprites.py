"""dSprites: 2D sprites on a 64x64 binary canvas, rendered or loaded from the official file.

dSprites (Matthey, Higgins, Hassabis & Lerchner 2017,
``github.com/deepmind/dsprites-dataset``) holds one binary 64x64 image for every
combination of 5 factors: shape (square, ellipse, heart), scale (6 values in
[0.5, 1]), orientation (40 values in [0, 2 pi]), position x and position y (32
values each in [0, 1]). The official file stores the images in mixed-radix order
over (color, shape, scale, orientation, posX, posY) with posY varying fastest
(official README and reloading notebook); ``disentanglement_lib``
(``data/ground_truth/dsprites.py``) indexes it the same way.

Two sources share one API:

* ``DSprites(path=...)`` reads the official
  ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``; so does ``DSprites()``
  when that file is in the data home or can be downloaded.
* Otherwise ``DSprites()`` renders the same factor grid procedurally (and says
  so in a warning when a download failed); ``source="rendered"`` asks for it.
  The renderer follows what is known about the official images (see
  :class:`DSprites`); it is a close stand-in, not a pixel-exact copy.
"""

import warnings
import zipfile
from pathlib import Path

import numpy as np

from disentangle._warnings import user_frame
from disentangle.datasets._base import GroundTruthDataset
from disentangle.datasets._fetch import default_data_home, locate, remote_file
from disentangle.datasets._images import cached_images, npz_headers

OFFICIAL_FILE_NAME = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
SHAPE_NAMES = ("square", "ellipse", "heart")

_IMAGE_SIZE = 64
# Sprites are drawn on a PATCH x PATCH canvas centred on a pixel centre, then
# pasted at an integer offset of 0..PATCH-1 pixels: position steps are 1 pixel.
_PATCH = 32
_CENTRE = _PATCH // 2 + 0.5
# Side of the square at scale 1, in pixels. Chosen so that the mean pixel value of
# the whole rendered set (0.04245) matches the official images' (0.04249).
_SQUARE_SIDE = 18.75
# Ellipse semi-axes and heart width, in units of the square's side (estimates).
_ELLIPSE_SEMI_AXES = (0.7, 0.35)
_HEART_WIDTH = 1.1
# Tolerance that makes pixel centres lying exactly on an outline count as inside,
# so that orientation 0 and 2 pi (identical in the official file) render alike.
_EPS = 1e-6
# Bump when the renderer changes, so stale caches are not reused.
_RENDER_VERSION = 1
_CHUNK = 8192


def grid_values(factor_sizes):
    """Official latent values of a dSprites-like grid.

    Parameters
    ----------
    factor_sizes : sequence of 5 int
        Sizes of (shape, scale, orientation, pos_x, pos_y).

    Returns
    -------
    values : list of 5 float64 ndarrays
        shape: 1, 2, 3 (square, ellipse, heart, as in the official
        ``latents_values``); scale: ``linspace(0.5, 1, n)``; orientation:
        ``linspace(0, 2 pi, n)`` (radians; the official file includes 2 pi, so the
        first and last orientations coincide); positions: ``linspace(0, 1, n)``.
    """
    n_shape, n_scale, n_orient, n_x, n_y = factor_sizes
    return [
        np.arange(1, n_shape + 1, dtype=np.float64),
        np.linspace(0.5, 1.0, n_scale),
        np.linspace(0.0, 2 * np.pi, n_orient),
        np.linspace(0.0, 1.0, n_x),
        np.linspace(0.0, 1.0, n_y),
    ]


def _inside_heart(x, y, width):
    """Whether points lie in an upright heart (lobes up, point down, y down).

    The heart is a square of side ``a`` standing on a corner, with two discs of
    diameter ``a`` on its two upper sides; ``a`` is set so that the heart is
    ``width`` wide (its height is 0.915 ``width``), and the heart is centred on
    its bounding box.

    Parameters
    ----------
    x, y : ndarray of the same shape
        Coordinates relative to the centre.
    width : float

    Returns
    -------
    inside : ndarray of bool
    """
    a = width / (np.sqrt(0.5) + 1.0)
    y = y + a * (np.sqrt(0.5) - 0.5 - np.sqrt(0.125)) / 2  # from the bounding-box centre
    diamond = np.abs(x) + np.abs(y) <= a * np.sqrt(0.5) + _EPS
    c = a * np.sqrt(0.125)
    lobes = np.minimum((x - c) ** 2, (x + c) ** 2) + (y + c) ** 2 <= (a / 2) ** 2 + _EPS
    return diamond | lobes


def _inside_shape(shape, x, y, size):
    """Whether points ``(x, y)`` (sprite frame, unrotated) lie in a shape.

    Parameters
    ----------
    shape : int
        0 square, 1 ellipse, 2 heart.
    x, y : ndarray
        Coordinates in pixels relative to the sprite centre, y pointing down.
    size : float
        Side of the square at this scale, in pixels.

    Returns
    -------
    inside : ndarray of bool
    """
    if shape == 0:
        half = size / 2 + _EPS
        return (np.abs(x) <= half) & (np.abs(y) <= half)
    if shape == 1:
        a, b = (size * k for k in _ELLIPSE_SEMI_AXES)
        return (x / a) ** 2 + (y / b) ** 2 <= 1 + _EPS
    return _inside_heart(x, y, size * _HEART_WIDTH)


def render_sprites(n_shapes, scales, orientations):
    """Rasterise every (shape, scale, orientation) sprite on a 32x32 patch.

    A pixel is on when its centre lies inside the shape, with no anti-aliasing:
    the official images are binary and were rasterised without it (dataset
    author, deepmind/dsprites-dataset issues 2 and 3). The sprite is centred on
    the centre of pixel (16, 16) of the patch and rotated about that point,
    clockwise on screen for increasing angle (the y-down convention of Love2D, the
    engine that drew the official set).

    Parameters
    ----------
    n_shapes : int
        Number of shapes, at most 3 (square, ellipse, heart).
    scales : ndarray of shape (n_scales,)
        Scale factors; 1 gives a square of side 18.75 pixels.
    orientations : ndarray of shape (n_orientations,)
        Angles in radians.

    Returns
    -------
    sprites : ndarray of shape (n_shapes, n_scales, n_orientations, 32, 32), uint8
        Values in {0, 1}.
    """
    coords = np.arange(_PATCH) + 0.5 - _CENTRE
    py, px = np.meshgrid(coords, coords, indexing="ij")
    sprites = np.zeros((n_shapes, len(scales), len(orientations), _PATCH, _PATCH), dtype=np.uint8)
    for j, angle in enumerate(orientations):
        cos, sin = np.cos(angle), np.sin(angle)
        x, y = cos * px + sin * py, -sin * px + cos * py  # rotate points by -angle
        for shape in range(n_shapes):
            for i, scale in enumerate(scales):
                sprites[shape, i, j] = _inside_shape(shape, x, y, _SQUARE_SIDE * scale)
    return sprites


def _placement_windows(sprites):
    """Every placement of every sprite on the 64x64 canvas, as a strided view.

    Parameters
    ----------
    sprites : ndarray of shape (n_sprites, 32, 32), uint8

    Returns
    -------
    windows : ndarray of shape (n_sprites, 33, 33, 64, 64), uint8, read-only view
        ``windows[k, 32 - row, 32 - col]`` is the canvas with sprite ``k``'s
        patch pasted with its top-left corner at ``(row, col)``; only offsets
        0..31 are used.
    """
    size = _IMAGE_SIZE + _PATCH
    padded = np.zeros((len(sprites), size, size), dtype=np.uint8)
    padded[:, _PATCH : 2 * _PATCH, _PATCH : 2 * _PATCH] = sprites
    window = (_IMAGE_SIZE, _IMAGE_SIZE)
    return np.lib.stride_tricks.sliding_window_view(padded, window, axis=(1, 2))


def _expected_npz(factor_sizes):
    """Expected (shape, dtype kinds) of each array of the official file."""
    n = int(np.prod(factor_sizes))
    n_latents = len(factor_sizes) + 1
    return {
        "imgs": ((n, _IMAGE_SIZE, _IMAGE_SIZE), "ub"),
        "latents_classes": ((n, n_latents), "ui"),
        "latents_values": ((n, n_latents), "f"),
    }


def _describe(expected):
    return ", ".join(f"'{k}' of shape {shape}" for k, (shape, _) in expected.items())


def _npz_headers(path, keys, what):
    """Headers (shape, dtype) of the arrays ``keys`` that the npz at ``path`` holds."""
    try:
        headers = npz_headers(path)
    except ValueError as exc:
        raise ValueError(f"dSprites file {exc} {what}.") from exc
    return {key: headers[key] for key in keys if key in headers}


def check_npz(path, factor_sizes):
    """Validate an official-format dSprites npz from its headers only.

    Parameters
    ----------
    path : pathlib.Path
    factor_sizes : sequence of 5 int
        Grid the file must hold (the official one: (3, 6, 40, 32, 32)).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If it is not a readable npz (e.g. truncated), lacks a key, or an array
        has the wrong shape or dtype. The message names the file and what was
        expected.
    """
    expected = _expected_npz(factor_sizes)
    what = f"expected an npz with {_describe(expected)}"
    if not path.is_file():
        raise FileNotFoundError(f"dSprites file {str(path)!r} does not exist; {what}.")
    headers = _npz_headers(path, expected, what)
    missing = sorted(set(expected) - set(headers))
    if missing:
        raise ValueError(f"dSprites file {str(path)!r} lacks the arrays {missing}; {what}.")
    for key, (shape, kinds) in expected.items():
        got_shape, got_dtype = headers[key]
        if tuple(got_shape) != shape or got_dtype.kind not in kinds:
            raise ValueError(
                f"dSprites file {str(path)!r}: '{key}' has shape {tuple(got_shape)} and dtype "
                f"{got_dtype}; {what}."
            )


def load_npz_images(path, latents_classes):
    """Load ``imgs`` of an official-format npz as a uint8 array.

    Parameters
    ----------
    path : pathlib.Path
        A file that passed :func:`check_npz`.
    latents_classes : ndarray of shape (n_images, 5), int64
        The factor classes the rows must follow (official order).

    Returns
    -------
    imgs : ndarray of shape (n_images, 64, 64), uint8, read-only
        Values in {0, 1}.

    Raises
    ------
    ValueError
        If the data cannot be read (e.g. truncated), the rows are not in the
        official order, or the images are not binary.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            classes = data["latents_classes"]
            imgs = np.asarray(data["imgs"], dtype=np.uint8)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise ValueError(f"dSprites file {str(path)!r} could not be read ({exc}).") from exc
    if not np.array_equal(classes[:, 1:], latents_classes):
        raise ValueError(
            f"dSprites file {str(path)!r}: 'latents_classes' is not in the official order "
            "(color, shape, scale, orientation, posX, posY with posY fastest)."
        )
    if imgs.max(initial=0) > 1:
        raise ValueError(f"dSprites file {str(path)!r}: 'imgs' must hold values in {{0, 1}}.")
    imgs.flags.writeable = False
    return imgs


#: The ``source`` values of :class:`DSprites`.
SOURCES = ("auto", "official", "rendered")


class DSprites(GroundTruthDataset):
    """dSprites, rendered procedurally or read from the official npz.

    Factors, in order (``factor_names``), with sizes ``factor_sizes`` =
    (3, 6, 40, 32, 32) and values ``factor_values`` (official ``latents_values``,
    checked against the metadata printed in the official reloading notebook):

    * ``shape``: 0 square, 1 ellipse, 2 heart (values 1, 2, 3);
    * ``scale``: ``linspace(0.5, 1, 6)``;
    * ``orientation``: ``linspace(0, 2 pi, 40)`` radians; the first and last
      values are the same angle (deepmind/dsprites-dataset issue 7);
    * ``pos_x``, ``pos_y``: ``linspace(0, 1, 32)``; ``pos_x`` moves the sprite
      along columns, ``pos_y`` along rows (down).

    The color latent of the official file has a single value and is dropped.
    Observations are float32 arrays of shape (1, 64, 64) with values in {0, 1}.

    Parameters
    ----------
    path : str, path-like or None, default=None
        The official ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``, or a
        directory holding it. None: see ``source``.
    data_home : str, path-like or None, default=None
        Where the official file is looked for (``dsprites/`` under it) and
        downloaded, and where the rendered :attr:`images` are cached; None
        uses ``$DISENTANGLE_DATA`` or else ``~/.cache/disentangle``.
    source : {"auto", "official", "rendered"}, default="auto"
        Without ``path``: ``"auto"`` reads the official file from the data
        home, downloading it if missing and allowed, and renders when it
        cannot be had (a warning gives the reason when a download failed);
        ``"official"`` raises instead of rendering; ``"rendered"`` always
        renders. The :attr:`source` attribute says which was used.
    download_if_missing : bool, default=True
        Whether ``"auto"`` and ``"official"`` may download the official file
        (26 MB, format-checked).

    Attributes
    ----------
    source : {"npz", "procedural"}
        The images' origin: the official file (:attr:`source_path`) or the
        renderer.
    source_path : pathlib.Path or None
        The official file read, if any.

    Raises
    ------
    FileNotFoundError
        If ``path`` is given and no file is there, or ``source="official"``
        and the file is neither in the data home nor downloadable.
    ValueError
        If the file is not an npz with ``imgs`` (737280, 64, 64),
        ``latents_classes`` (737280, 6) and ``latents_values`` (737280, 6), or,
        without ``path``, if the data home is an existing regular file.

    Notes
    -----
    The procedural renderer keeps these documented properties of the official
    images: binary pixels without anti-aliasing, one image per grid point in the
    official order, orientation as a rotation about the sprite's centre, size
    proportional to the scale value, and position steps of about one pixel (the
    official README says the latent steps were picked as small as possible while
    keeping every image distinct). Its estimated parameters: the sprite's centre
    is the centre of pixel ``16 + round(31 * pos)`` along each axis (pixels 16 to
    47, in 1-pixel steps); at scale 1 the square's side is 18.75 pixels, the
    ellipse's axes 26.25 x 13.1 pixels (long axis horizontal at orientation 0)
    and the heart (upright, lobes up: a square on its corner with two
    half-discs) 20.6 pixels wide. The overall size is
    calibrated so that the mean pixel value of the whole rendered set, 0.04245,
    matches the official set's 0.04249 (as measured on the official file and
    quoted by public dSprites loaders); the shapes' relative sizes, the
    ellipse's aspect ratio and the heart's outline are approximations.
    Increasing orientation turns a sprite clockwise on screen.

    Examples
    --------
    >>> data = DSprites(source="rendered")
    >>> factors = data.sample_factors(8, random_state=0)
    >>> data.sample_observations_from_factors(factors).shape
    (8, 1, 64, 64)
    """

    factor_names = ("shape", "scale", "orientation", "pos_x", "pos_y")
    factor_sizes = (3, 6, 40, 32, 32)
    observation_shape = (1, _IMAGE_SIZE, _IMAGE_SIZE)
    shape_names = SHAPE_NAMES

    def __init__(self, path=None, data_home=None, *, source="auto", download_if_missing=True):
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}; got {source!r}.")
        self.path = path
        self.data_home = data_home
        if (home := default_data_home(data_home)).is_file():
            raise ValueError(
                "data_home (or $DISENTANGLE_DATA) must be a directory for the official file and "
                f"the cache of the rendered images; got {str(home)!r}, which is a file."
            )
        self._npz_path = (self._resolve_path(path) if path is not None
                          else self._official_file(source, download_if_missing))
        if self._npz_path is not None:
            check_npz(self._npz_path, self.factor_sizes)

    @staticmethod
    def _resolve_path(path):
        path = Path(path).expanduser()
        return path / OFFICIAL_FILE_NAME if path.is_dir() else path

    def _official_file(self, source, download_if_missing):
        """The official file for ``source``, or None to render."""
        if source == "rendered":
            return None
        if source == "official":
            return locate("dsprites", None, self.data_home, download_if_missing)
        if not remote_file("dsprites").urls and not (
                default_data_home(self.data_home) / "dsprites" / OFFICIAL_FILE_NAME).is_file():
            return None
        try:
            return locate("dsprites", None, self.data_home, download_if_missing)
        except (FileNotFoundError, ValueError) as error:
            if download_if_missing:
                warnings.warn(f"DSprites: the official file is not available: {error} "
                              "Rendering the procedural stand-in instead (source='rendered' "
                              "asks for it without this warning).", **user_frame())
            return None

    @property
    def source(self):
        """str: ``"npz"`` (official file) or ``"procedural"``."""
        return "procedural" if self._npz_path is None else "npz"

    @property
    def source_path(self):
        """pathlib.Path or None: the official file read, if any."""
        return self._npz_path

    @property
    def factor_values(self):
        """list of 5 float64 ndarrays: the value of each index of each factor."""
        return grid_values(self.factor_sizes)

    def __len__(self):
        """Number of images, ``prod(factor_sizes)`` (737280)."""
        return int(np.prod(self.factor_sizes))

    @property
    def latents_classes(self):
        """ndarray of shape (737280, 5), int64: factor indices of every image.

        Rows follow the official order (pos_y fastest), so row ``i`` holds the
        factors of ``images[i]``.
        """
        return self.factors_from_index(np.arange(len(self)))

    @property
    def latents_values(self):
        """ndarray of shape (737280, 5), float64: factor values of every image."""
        classes = self.latents_classes
        columns = [v[classes[:, k]] for k, v in enumerate(self.factor_values)]
        return np.stack(columns, axis=1)

    def factors_from_index(self, index):
        """Factor indices of images given their position in the official order.

        Parameters
        ----------
        index : array-like of int, shape (n,)
            Values in ``[0, len(self))``.

        Returns
        -------
        factors : ndarray of shape (n, 5), int64

        Raises
        ------
        ValueError
            If an index is out of range or not an integer.
        """
        index = np.asarray(index)
        if index.dtype.kind not in "ui" or np.any((index < 0) | (index >= len(self))):
            raise ValueError(f"index must hold integers in [0, {len(self)}).")
        columns = np.unravel_index(index.astype(np.int64), self.factor_sizes)
        return np.stack(columns, axis=-1).astype(np.int64)

    def index_from_factors(self, factors):
        """Position in the official order of the images with the given factors.

        Parameters
        ----------
        factors : array-like of int, shape (n, 5)

        Returns
        -------
        index : ndarray of shape (n,), int64
            The mixed-radix number of the factor indices, pos_y fastest.

        Raises
        ------
        ValueError
            If ``factors`` is not an (n, 5) integer array within
            ``factor_sizes``.
        """
        factors = self.check_factors(factors)
        return np.ravel_multi_index(factors.T, self.factor_sizes).astype(np.int64)

    def sample_observations_from_factors(self, factors, random_state=None):
        """Images of the given factors.

        Renders (procedural source) or looks up (npz source) only the requested
        images; the dataset is deterministic given the factors.

        Parameters
        ----------
        factors : array-like of int, shape (n, 5)
            Factor indices, column ``k`` in ``[0, factor_sizes[k])``.
        random_state : ignored
            Accepted for the protocol.

        Returns
        -------
        observations : ndarray of shape (n, 1, 64, 64), float32
            Values in {0, 1}.

        Raises
        ------
        ValueError
            If ``factors`` is not an (n, 5) integer array within
            ``factor_sizes``.
        """
        factors = self.check_factors(factors)
        return self._images_uint8(factors)[:, None].astype(np.float32)

    def _images_uint8(self, factors):
        """uint8 images (n, 64, 64) of already validated factors."""
        if self._npz_path is not None:
            return self.images[np.ravel_multi_index(factors.T, self.factor_sizes)]
        windows = self._placement_windows()
        n_scales, n_orient = self.factor_sizes[1:3]
        sprite = (factors[:, 0] * n_scales + factors[:, 1]) * n_orient + factors[:, 2]
        _, _, _, x_values, y_values = self.factor_values
        col = np.rint(x_values[factors[:, 3]] * (_PATCH - 1)).astype(np.int64)
        row = np.rint(y_values[factors[:, 4]] * (_PATCH - 1)).astype(np.int64)
        return windows[sprite, _PATCH - row, _PATCH - col]

    def _placement_windows(self):
        return self._cached("windows", self._render_windows)

    def _render_windows(self):
        n_shapes, n_scales, n_orient = self.factor_sizes[:3]
        _, scales, orientations, _, _ = self.factor_values
        sprites = render_sprites(n_shapes, scales, orientations)
        return _placement_windows(sprites.reshape(-1, _PATCH, _PATCH))

    @property
    def images(self):
        """ndarray of shape (737280, 64, 64), uint8: every image, official order.

        Values in {0, 1}. For the npz source, ``imgs`` of the file, loaded once.
        For the procedural source, rendered once into a ``.npy`` file under
        ``data_home/dsprites`` (about 3 GB, written in chunks) and memory-mapped
        read-only on every later access, from this or any other instance.

        Raises
        ------
        ValueError
            If the npz's data cannot be read, is not in the official order or
            is not binary.
        """
        return self._cached("images", self._load_images)

    def _load_images(self):
        if self._npz_path is not None:
            return load_npz_images(self._npz_path, self.latents_classes)
        shape = (len(self), _IMAGE_SIZE, _IMAGE_SIZE)
        return cached_images(self.cache_path, shape, self._render_chunks)

    @property
    def cache_path(self):
        """pathlib.Path: the ``.npy`` cache of the procedurally rendered images."""
        sizes = "x".join(str(s) for s in self.factor_sizes)
        name = f"dsprites_procedural_v{_RENDER_VERSION}_{sizes}.npy"
        return default_data_home(self.data_home) / "dsprites" / name

    def _render_chunks(self):
        for start in range(0, len(self), _CHUNK):
            index = np.arange(start, min(start + _CHUNK, len(self)))
            yield self._images_uint8(self.factors_from_index(index))
