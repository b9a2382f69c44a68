"""Variants of dSprites: colour, noise and Scream backgrounds, and the paper's CdSprites.

Color, noisy and scream dSprites follow disentanglement_lib
(``data/ground_truth/dsprites.py``: ``ColorDSprites``, ``NoisyDSprites``,
``ScreamDSprites``); they wrap any :class:`~disentangle.datasets.DSprites`
source (procedural or the official file), keep its factors, and draw their
colours at random for every observation, so observations are random given
the factors. CdSprites is the circular dSprites of the InfoGAN-CR
authors (``fjxmlzn/InfoGAN-CR``, ``CdSprites/generate_cdsprites.py``).
"""

import numpy as np
from sklearn.utils import check_random_state

from disentangle.datasets._base import GroundTruthDataset
from disentangle.datasets._dsprites import DSprites

_SIZE = 64
#: The Scream background is shrunk to fit in this (width, height), as disentanglement_lib does.
SCREAM_FIT = (350, 274)


class _DSpritesVariant(GroundTruthDataset):
    """A dSprites variant: the wrapped source's factors, 3-channel observations."""

    observation_shape = (3, _SIZE, _SIZE)

    def __init__(self, dsprites=None):
        self.dsprites = dsprites

    def _source(self):
        if self.dsprites is not None:
            return self.dsprites
        return self._cached("source", DSprites)

    @property
    def factor_names(self):
        """tuple of str: the wrapped dSprites' factor names."""
        return self._source().factor_names

    @property
    def factor_sizes(self):
        """tuple of int: the wrapped dSprites' factor sizes."""
        return self._source().factor_sizes

    def sample_observations_from_factors(self, factors, random_state=None):
        """Coloured images of the given factors.

        Parameters
        ----------
        factors : array-like of int, shape (n, 5)
        random_state : int, RandomState instance or None, default=None
            Draws the colours.

        Returns
        -------
        observations : ndarray of shape (n, 3, 64, 64), float32, values in [0, 1]

        Raises
        ------
        ValueError
            If ``factors`` is not an (n, 5) integer array within ``factor_sizes``.
        """
        masks = self._source().sample_observations_from_factors(factors)
        return self._paint(masks, check_random_state(random_state)).astype(np.float32)


class ColorDSprites(_DSpritesVariant):
    """dSprites with the sprite in a random colour on black.

    Each observation's sprite gets one colour, each RGB channel drawn from
    U(0.5, 1) (disentanglement_lib's ``ColorDSprites``); the background stays
    black, so the shape mask is the dSprites image's.

    Parameters
    ----------
    dsprites : DSprites or None, default=None
        The source of the masks; None uses ``DSprites()`` (the official file when
        it is in the data home or downloadable, else rendered).
    """

    def _paint(self, masks, rng):
        return masks * rng.uniform(0.5, 1.0, size=(len(masks), 3, 1, 1))


class NoisyDSprites(_DSpritesVariant):
    """dSprites in white on uniform noise.

    Every channel of every pixel gets noise from U(0, 1), and the sprite's
    pixels are white: ``min(mask + noise, 1)`` (disentanglement_lib's
    ``NoisyDSprites``).

    Parameters
    ----------
    dsprites : DSprites or None, default=None
    """

    def _paint(self, masks, rng):
        return np.minimum(masks + rng.uniform(0.0, 1.0, size=(len(masks), 3, _SIZE, _SIZE)), 1.0)


def procedural_background(seed=0):
    """The default Scream background: a smooth random colour texture of 274 x 350 pixels.

    Each channel is the sum of 12 plane waves of random direction, frequency
    (1 to 6 periods across the picture) and phase, rescaled to [0, 1]: a
    colourful texture with structure at several scales, like a painting's,
    that needs no file (the Scream image is not redistributable here).

    Returns
    -------
    background : ndarray of shape (274, 350, 3), float64, values in [0, 1]
    """
    rng = np.random.RandomState(seed)
    width, height = SCREAM_FIT
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    channels = []
    for _ in range(3):
        angle = rng.uniform(0, 2 * np.pi, 12)
        frequency = rng.uniform(1, 6, 12) * 2 * np.pi
        phase = rng.uniform(0, 2 * np.pi, 12)
        waves = np.cos(frequency * (np.cos(angle) * x[..., None] + np.sin(angle) * y[..., None])
                       + phase)
        channel = waves.sum(axis=-1)
        channels.append((channel - channel.min()) / (channel.max() - channel.min()))
    return np.stack(channels, axis=-1)


def load_background(background):
    """A background image shrunk to fit in 350 x 274, as floats in [0, 1] of shape (H, W, 3).

    Raises
    ------
    ValueError
        An image smaller than 65 x 65 pixels after shrinking.
    """
    from PIL import Image

    if isinstance(background, np.ndarray):
        array = np.asarray(background)
        image = Image.fromarray(array if array.dtype == np.uint8
                                else np.rint(np.clip(array, 0, 1) * 255).astype(np.uint8))
    else:
        image = Image.open(background)
    image = image.convert("RGB")
    image.thumbnail(SCREAM_FIT)
    pixels = np.asarray(image, dtype=np.float64) / 255
    if min(pixels.shape[:2]) <= _SIZE:
        raise ValueError(f"the background must be larger than {_SIZE} x {_SIZE} pixels after "
                         f"shrinking to fit {SCREAM_FIT}; got {pixels.shape[1::-1]}.")
    return pixels


class ScreamDSprites(_DSpritesVariant):
    """dSprites on a random patch of a picture, the sprite drawn by inverting the patch.

    For each observation (disentanglement_lib's ``ScreamDSprites``): a
    random 64 x 64 patch of the background (top-left corner uniform over
    ``[0, H - 64) x [0, W - 64)``) is averaged with a random colour from
    U(0, 1)^3, ``(patch + colour) / 2``, and the sprite's pixels are set to
    ``1 - background``.

    Parameters
    ----------
    dsprites : DSprites or None, default=None
    background : str, path-like, ndarray or None, default=None
        An image file (disentanglement_lib uses Munch's *The Scream*) or an
        (H, W, 3) array (uint8, or floats in [0, 1]), shrunk to fit in
        350 x 274 pixels keeping its aspect ratio. None:
        :func:`procedural_background`.
    """

    def __init__(self, dsprites=None, background=None):
        super().__init__(dsprites)
        self.background = background

    def _background(self):
        return self._cached("background", lambda: procedural_background()
                            if self.background is None else load_background(self.background))

    def _paint(self, masks, rng):
        picture = self._background()
        out = np.empty((len(masks), _SIZE, _SIZE, 3))
        for i, mask in enumerate(masks[:, 0] == 1):
            top = rng.randint(0, picture.shape[0] - _SIZE)
            left = rng.randint(0, picture.shape[1] - _SIZE)
            patch = (picture[top:top + _SIZE, left:left + _SIZE] + rng.uniform(0, 1, size=3)) / 2
            patch[mask] = 1 - patch[mask]
            out[i] = patch
        return out.transpose(0, 3, 1, 2)


class CdSprites(GroundTruthDataset):
    """Circular dSprites (CdSprites) of the InfoGAN-CR authors.

    A white disc of radius 5 pixels on a black 64 x 64 canvas, centred at
    ``(32 + r cos(angle), 32 + r sin(angle))`` (x right, y down), drawn by
    Pillow's ``ImageDraw.ellipse`` on the box ``(x - 5, y - 5, x + 5, y + 5)``
    as in ``CdSprites/generate_cdsprites.py`` of ``fjxmlzn/InfoGAN-CR``.
    Factors: ``angle``, 40 values ``2 pi k / 40``, and ``radius``, 27 values
    0 .. 26 pixels (so every radius-0 image is the same disc). Deterministic
    given the factors.

    Observations: float32 of shape (1, 64, 64), values in {0, 1}.
    """

    factor_names = ("angle", "radius")
    factor_sizes = (40, 27)
    observation_shape = (1, _SIZE, _SIZE)

    @property
    def factor_values(self):
        """list of 2 float64 ndarrays: the angles (radians) and radii (pixels)."""
        return [2 * np.pi * np.arange(40) / 40, np.arange(27, dtype=np.float64)]

    @property
    def images(self):
        """ndarray of shape (1080, 64, 64), uint8: every image, angle slowest, values {0, 1}."""
        return self._cached("images", self._render)

    def _render(self):
        from PIL import Image, ImageDraw

        images = np.empty((*self.factor_sizes, _SIZE, _SIZE), dtype=np.uint8)
        angles, radii = self.factor_values
        for i, angle in enumerate(angles):
            for j, radius in enumerate(radii):
                image = Image.new("L", (_SIZE, _SIZE), 0)
                x = _SIZE // 2 + radius * np.cos(angle)
                y = _SIZE // 2 + radius * np.sin(angle)
                ImageDraw.Draw(image).ellipse((x - 5, y - 5, x + 5, y + 5), fill=255)
                images[i, j] = np.asarray(image) // 255
        return images.reshape(-1, _SIZE, _SIZE)

    def sample_observations_from_factors(self, factors, random_state=None):
        """Images of the given (angle, radius) indices, shape (n, 1, 64, 64), float32."""
        factors = self.check_factors(factors)
        rows = np.ravel_multi_index(factors.T, self.factor_sizes)
        return self.images[rows][:, None].astype(np.float32)
