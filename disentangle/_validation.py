"""Input validation with scikit-learn's helpers.

Tables (n, d) and images (n, H, W), (n, C, H, W), or flattened with
``image_shape``; uint8 images are never copied to float (they become float one
batch at a time during training and inference).
"""

import hashlib
import math
import os
import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import scipy.sparse
import torch
from sklearn.utils.validation import validate_data
from skorch.callbacks import Callback

from disentangle._compat import HasMethods, Interval
from disentangle._warnings import user_frame
from disentangle.networks import check_image_size, is_table


class InputDtypeError(ValueError, TypeError):
    """Input that cannot be read as numbers (a ValueError, and a TypeError as NumPy raises)."""


# --- Input validation -------------------------------------------------------------------------


def _reject_sparse(X):
    if scipy.sparse.issparse(X):
        raise ValueError(
            "Sparse input is not supported: the networks need dense arrays. "
            "Convert it with X.toarray()."
        )


def open_npy(X):
    """A path to a ``.npy`` file opened memory-mapped, read-only; any other ``X`` as it is.

    A path travels to worker processes (joblib, Dask) as a few bytes, where a
    memory-mapped array is pickled with all its data under Dask; every worker
    opens the file itself (on a filesystem they share).

    Raises
    ------
    ValueError
        A path that is not a readable ``.npy`` file of a plain array.
    """
    if not isinstance(X, (str, os.PathLike)):
        return X
    try:
        return np.load(X, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as error:
        raise ValueError(
            f"X={os.fspath(X)!r} is a path, but not a readable .npy file of an array (as "
            f"np.save writes): {error}"
        ) from error


def _unwrap_dataset(X):
    """A torch ``TensorDataset``'s first tensor (the samples; labels are ignored, as ``y``).

    Raises
    ------
    ValueError
        Another torch ``Dataset``, naming what to pass instead.
    """
    if not isinstance(X, torch.utils.data.Dataset):
        return X
    if isinstance(X, torch.utils.data.TensorDataset):
        return X.tensors[0]
    raise ValueError(
        f"X is a torch {type(X).__name__}; pass its samples as one array or tensor of shape "
        "(n, d), (n, H, W) or (n, C, H, W), e.g. torch.stack([dataset[i] for i in "
        "range(len(dataset))]) for a dataset of single tensors."
    )


def as_samples(X):
    """``X`` as something indexable by rows: a ``.npy`` path opened memory-mapped
    (:func:`open_npy`), a torch ``TensorDataset``'s first tensor (:func:`_unwrap_dataset`),
    anything else as it is."""
    return _unwrap_dataset(open_npy(X))


def _as_array(X):
    """``X`` as an array without copying arrays; ragged input raises a ValueError naming it.

    See :func:`as_samples` for paths and torch datasets.
    """
    X = as_samples(X)
    try:
        X = X if hasattr(X, "shape") else np.asarray(X)
    except ValueError as error:  # NumPy: "setting an array element with a sequence"
        raise ValueError(
            f"X is ragged (samples of different shapes) and cannot be one array: {error}"
        ) from error
    if isinstance(X, np.ndarray) and X.dtype == object and any(np.ndim(x) for x in X.flat):
        shapes = sorted({np.shape(x) for x in X.flat}, key=str)
        raise ValueError(
            f"X is an object array of shape {X.shape} holding arrays of shapes {shapes}; "
            "expected one numeric array: stack samples of one shape with np.stack."
        )
    return X


def image_shape_chw(image_shape):
    """``image_shape`` given as (H, W) or (C, H, W), as a (C, H, W) tuple of int.

    Raises
    ------
    ValueError
        Not 2 or 3 positive integers.
    """
    shape = tuple(int(s) for s in image_shape)
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise ValueError(f"image_shape must be (H, W) or (C, H, W); got {image_shape!r}.")
    return shape if len(shape) == 3 else (1, *shape)


def sample_shape_at_fit(shape, image_shape=None, any_image_size=False):
    """The shape of one sample as the networks see it, from the training array's shape.

    Parameters
    ----------
    shape : tuple of int
        Shape of the training array.
    image_shape : tuple of int, optional
        The estimator's ``image_shape`` parameter.
    any_image_size : bool, default=False
        Accept images of any size (the user gave every network); otherwise
        only the sizes of the built-in networks.

    Returns
    -------
    sample_shape : tuple of int or None
        (d,) for a table (2-D array, no ``image_shape``), (C, H, W) for
        images; None for arrays of fewer than 2 dimensions (scikit-learn's
        ``validate_data`` then says what it expected).

    Raises
    ------
    ValueError
        More than 4 dimensions, an unsupported image size, or images that do
        not match ``image_shape``.
    """
    ndim = len(shape)
    if ndim < 2:
        return None
    if ndim > 4:
        raise ValueError(
            "Expected a table (n, d) or images (n, H, W) or (n, C, H, W); "
            f"got an array of shape {shape}."
        )
    if ndim == 2 and image_shape is None:
        return (shape[1],)
    sample = (1, *shape[1:]) if ndim == 3 else tuple(shape[1:])
    if image_shape is not None:
        expected = image_shape_chw(image_shape)
        if ndim == 2 and shape[1] != math.prod(expected):
            raise ValueError(
                f"image_shape={tuple(image_shape)} needs rows of {math.prod(expected)} "
                f"pixels; got an array of shape {shape}."
            )
        if ndim > 2 and sample != expected:
            raise ValueError(
                f"Images of shape {shape[1:]} do not match image_shape={tuple(image_shape)}."
            )
        sample = expected
    if not any_image_size:
        check_image_size(*sample[1:])
    return sample


def sample_shape_at_transform(shape, input_shape, name):
    """Check an array's shape against the sample shape seen at fit; return that shape.

    A model fitted on images also reads them flattened to (n, C*H*W).

    Returns
    -------
    sample_shape : tuple of int or None
        ``input_shape``; None for arrays of fewer than 2 dimensions.

    Raises
    ------
    ValueError
        Images of another shape, images given to a model fitted on a table,
        or one image without the batch axis.
    """
    ndim = len(shape)
    one_image = tuple(input_shape[1:] if input_shape[0] == 1 else input_shape)
    if not is_table(input_shape) and tuple(shape) == one_image:
        raise ValueError(
            f"Expected a batch of images (n, {', '.join(map(str, input_shape))}); got one image "
            f"of shape {tuple(shape)}: pass X[None] for a batch of one."
        )
    if ndim < 2 or ndim == 2:
        return input_shape if ndim == 2 else None
    if is_table(input_shape):
        raise ValueError(
            f"{name} was fitted on a table of {input_shape[0]} features; expected an array "
            f"of shape (n, {input_shape[0]}), got {shape}."
        )
    sample = (1, *shape[1:]) if ndim == 3 else tuple(shape[1:])
    if sample != tuple(input_shape):
        raise ValueError(
            f"Expected images of shape (n, {', '.join(map(str, input_shape))}) as seen at fit; "
            f"got {shape}."
        )
    return input_shape


def check_pixel_values(X, sample_only=False):
    """Check an image array's dtype and values without copying it.

    Parameters
    ----------
    X : ndarray of shape (n, C, H, W)
        dtype bool, uint8 (values 0..1 or 0..255) or floating with values in [0, 1].
    sample_only : bool, default=False
        Check float values on :data:`SAMPLE_ROWS` evenly spaced images only (a
        memory-mapped array, which every worker would otherwise read whole);
        :func:`check_batch` checks every batch as it is read.

    Returns
    -------
    X : ndarray of shape (n, C, H, W)
        The input (bool viewed as uint8).

    Raises
    ------
    ValueError
        Another dtype, or float values outside [0, 1] (NaN and infinite ones included).
    """
    if X.dtype == bool:
        return X.view(np.uint8)
    if X.dtype == np.uint8:
        return X
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(
            f"Expected images of dtype bool, uint8 or float with values in [0, 1]; got {X.dtype}."
        )
    check_float_pixels(spread_rows(X, SAMPLE_ROWS) if sample_only else X)
    return X


def check_float_pixels(values):
    """Raise unless float pixel values are finite and in [0, 1].

    Raises
    ------
    ValueError
        Printing the extreme values with the shortest digits that tell them
        apart from every other value of their dtype (``1.0000001`` for
        float32, where ``:g`` would print 1), and what to pass instead.
    """
    low, high = values.min(), values.max()  # NaN propagates to both
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError("Float images must be finite; got NaN or infinite pixel values.")
    if low < 0 or high > 1:
        raise ValueError(
            f"Float images must have values in [0, 1]; got values from {low!s} to {high!s}. Pass "
            "np.clip(X, 0, 1) if they leave [0, 1] only by rounding, or X / 255 for pixels on "
            "the 0..255 scale."
        )


def check_batch(batch, scale):
    """Check one batch of images (a 4-D CPU tensor; 2-D table batches pass) as it is read.

    What :func:`validate_input` checks of a memory-mapped array on a sample
    only: uint8 pixels read on the 0..1 scale (``scale`` 1, decided by
    :func:`uint8_scale` from a sample) must not exceed 1, float ones must be
    finite and in [0, 1] (:func:`check_float_pixels`).

    Raises
    ------
    ValueError
    """
    if batch.dim() != 4 or not batch.numel():
        return
    if batch.is_floating_point():
        check_float_pixels(batch.cpu().numpy())
    elif batch.dtype == torch.uint8 and scale == 1.0 and int(batch.max()) > 1:
        raise ValueError(
            f"uint8 images read on the 0..1 scale (decided from evenly spaced images of the "
            f"data, all 0 or 1) hold a pixel value of {int(batch.max())} in this batch; pass "
            "all the images on one scale: 0/1 (or bool), or 0..255 throughout."
        )


#: Evenly spaced rows read to tell datasets apart (:func:`data_signature`) and to decide the
#: scale of uint8 images (:func:`uint8_scale`): the same rows, read once. Each read of a
#: memory-mapped row maps its neighbours too (the kernel's read-around: about 1.3 MB a row
#: of dSprites), so 1,024 rows would make 1.3 GB of the file resident in every worker.
SAMPLE_ROWS = 64


def spread_rows(X, n_rows):
    """Up to ``n_rows`` evenly spaced rows of ``X`` (first and last included), as an array.

    Reads only those rows of a memory-mapped array, where a reduction over ``X``
    would page in all of it (in every worker process that fits on it).
    """
    rows = np.unique(np.linspace(0, len(X) - 1, min(len(X), n_rows)).astype(np.int64))
    return np.asarray(X[rows])


def uint8_scale(X):
    """Factor that maps stored pixel values to [0, 1]: 1/255 for 0..255 uint8, else 1.

    Decided from :data:`SAMPLE_ROWS` evenly spaced images (:func:`spread_rows`):
    uint8 images whose sampled pixels are all 0 or 1 are read as 0..1, and
    :func:`~disentangle._engine.to_float` refuses a later batch that holds a
    larger value.
    """
    if X.dtype == np.uint8 and X.size and spread_rows(X, SAMPLE_ROWS).max() > 1:
        return 1.0 / 255.0
    return 1.0


def transform_scale(X, fitted_scale, name):
    """The factor for uint8 pixels at ``transform``, checked against the scale seen at fit.

    Parameters
    ----------
    X : ndarray
        Validated images (not bool: bool images are read in [0, 1]).
    fitted_scale : float
        ``input_scale_``.
    name : str

    Returns
    -------
    scale : float

    Raises
    ------
    ValueError
        uint8 values above 1 for a model fitted on images in [0, 1], among
        :data:`SAMPLE_ROWS` evenly spaced images (the other images are checked
        batch by batch, :func:`~disentangle._engine.to_float`).

    Warns
    -----
    UserWarning
        uint8 values in 0..1 only for a model fitted on 0..255 images: they
        are read as 0..255 (nearly black).
    """
    if X.dtype != np.uint8 or not X.size:
        return 1.0
    high = int(spread_rows(X, SAMPLE_ROWS).max())  # every batch is checked by to_float
    if fitted_scale == 1.0 and high > 1:
        raise ValueError(
            f"{name} was fitted on images with values in [0, 1]; got uint8 values up to {high}. "
            "Pass images on the scale seen at fit."
        )
    if fitted_scale != 1.0 and high <= 1:
        warnings.warn(
            f"{name} was fitted on uint8 images with values 0..255; these have values 0..1 "
            "only and are read as 0..255 (nearly black). Pass bool or float images for 0..1.",
            UserWarning, **user_frame(),
        )
    return fitted_scale


def validate_input(estimator, X, *, reset, min_samples=1):
    """Validate a table or images for ``fit`` (``reset=True``) or ``transform``.

    scikit-learn's ``validate_data`` checks the values (numeric, finite, not
    complex, enough samples and features) and sets or checks
    ``n_features_in_`` (pixels per image for images) and
    ``feature_names_in_``. Images are validated as a flattened *view*: a
    uint8 array is never copied to float.

    Parameters
    ----------
    estimator : GenerativeEstimator
    X : array-like, DataFrame, torch TensorDataset, or path of a ``.npy`` file
        A table (n, d), images (n, H, W) or (n, C, H, W), or images flattened
        to (n, C*H*W) (with the ``image_shape`` parameter at fit); a path is
        opened memory-mapped (:func:`open_npy`); a ``TensorDataset`` gives its
        first tensor, another torch ``Dataset`` raises a ValueError.
    reset : bool
        True at fit: the sample shape is set (``input_shape_``); False: it is checked.
    min_samples : int, default=1

    Returns
    -------
    X : ndarray of shape (n, *input_shape_)
        Tables keep their numeric dtype; images are bool (viewed as uint8),
        uint8 or float, as given.

    Raises
    ------
    ValueError
        Sparse, ragged, empty, 1-D, >4-D, complex, non-numeric (strings; objects
        that are not numbers, also a TypeError), NaN or infinite input; fewer
        than ``min_samples`` samples; a shape, image size or channel count
        other than supported or seen at fit; images of another dtype than
        bool, uint8 or float, or float images outside [0, 1]. The values of
        memory-mapped images are checked on :data:`SAMPLE_ROWS` evenly spaced
        images here and in every batch as it is read (:func:`check_batch`).
    """
    _reject_sparse(X)
    X = _as_array(X)
    name = type(estimator).__name__
    if reset:
        any_size = getattr(estimator, "_user_networks", lambda: False)()
        sample_shape = sample_shape_at_fit(X.shape, estimator.image_shape, any_size)
    else:
        sample_shape = sample_shape_at_transform(X.shape, estimator.input_shape_, name)
    images = sample_shape is not None and not is_table(sample_shape)
    if sample_shape is not None and X.shape[0] == 0:
        raise ValueError(
            f"Expected at least one {'image' if images else 'sample'}; "
            f"got an empty array of shape {X.shape}."
        )
    # Images of a memory-mapped file are checked on a sample, then batch by batch (check_batch):
    # a scan of every value would make the whole file resident in every worker process.
    mapped = images and isinstance(X, np.memmap)
    flat = np.asarray(X).reshape(len(X), -1) if len(X.shape) > 2 else X
    try:
        flat = validate_data(estimator, flat, reset=reset, dtype="numeric",
                             ensure_min_samples=min_samples, ensure_all_finite=not mapped)
    except TypeError as error:
        raise InputDtypeError(f"X could not be read as numbers: {error}") from error
    if not images:
        return flat
    return check_pixel_values(flat.reshape(len(flat), *sample_shape), sample_only=mapped)


# --- Parameter constraints (scikit-learn's _parameter_constraints) --------------------------


class Number(Interval):
    """An :class:`Interval` that rejects bools (``True`` is an int in Python) and, with
    ``finite=True``, infinite values; its message says so."""

    def __init__(self, type, left, right, *, closed, finite=False):
        super().__init__(type, left, right, closed=closed)
        self.finite = finite

    def is_satisfied_by(self, val):
        return (not isinstance(val, bool) and super().is_satisfied_by(val)
                and (not self.finite or math.isfinite(val)))

    def __str__(self):
        finite = ", finite" if self.finite else ""
        return f"{super().__str__()}{finite} (True and False are not accepted)"


class Predicate(HasMethods):
    """A constraint given by a predicate and what it expects, for scikit-learn's validation.

    The error reads ``The 'name' parameter of Estimator must be <description>.
    Got <value> instead.``, so ``description`` carries the helpful part of
    the message. (A :class:`HasMethods` because scikit-learn's
    ``make_constraint`` accepts only its own constraint types.)

    Parameters
    ----------
    predicate : callable
        True for a valid value; it must return False, not raise, on any object.
    description : str
    """

    def __init__(self, predicate, description):
        super().__init__([])
        self.predicate = predicate
        self.description = description

    def is_satisfied_by(self, val):
        return bool(self.predicate(val))

    def __str__(self):
        return self.description


def _is_adam_betas(value):
    return (isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(b, Real) and not isinstance(b, bool) and 0 <= b < 1
                    for b in value))


def _is_callback(value):
    return isinstance(value, Callback) or (isinstance(value, type) and issubclass(value, Callback))


def _is_callback_list(value):
    if not isinstance(value, list):
        return False
    for entry in value:
        named = isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)
        callback = entry[1] if named else entry
        if not (callback is None and named or _is_callback(callback)):
            return False
    return True


def _is_directory_path(value):
    """A path whose nearest existing part is a directory (it may not exist yet)."""
    if not isinstance(value, (str, os.PathLike)):
        return False
    path = Path(value)
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    return existing is None or existing.is_dir()


#: Two Adam betas.
ADAM_BETAS = Predicate(_is_adam_betas, "two numbers in [0, 1) (Adam's beta1, beta2)")
#: A list of skorch callbacks.
CALLBACKS = Predicate(
    _is_callback_list, "a list of skorch callbacks or (name, callback) pairs (callback None "
    "removes a default one)")
#: A folder that exists or can be created.
DIRECTORY = Predicate(
    _is_directory_path, "a directory path, existing or to create (not a file, nor inside one)")
#: An integer, not a bool.
INTEGER = Predicate(lambda v: isinstance(v, Integral) and not isinstance(v, bool),
                    "an instance of 'Integral', not a bool")
#: A real number (NaN included), not a bool.
REAL = Predicate(lambda v: isinstance(v, Real) and not isinstance(v, bool),
                 "an instance of 'Real', not a bool")


def warn_far_from_prior(latents, prior_draws, name="latents"):
    """Warn about latents farther from 0 than twice the largest magnitude of the prior draws.

    Parameters
    ----------
    latents : ndarray of shape (n, n_latent)
    prior_draws : ndarray of shape (n_draws, n_latent)
        Draws from the prior (centred at 0), e.g. 1,000 of them.
    name : str, default="latents"

    Warns
    -----
    UserWarning
        Naming the columns concerned: the generator never saw such values.
    """
    bound = 2 * np.abs(prior_draws).max(axis=0)
    far = np.flatnonzero((np.abs(latents) > bound).any(axis=0))
    if far.size:
        warnings.warn(
            f"{name} far outside the prior: columns {far.tolist()} hold values up to "
            f"{np.abs(latents[:, far]).max():g}, more than twice the largest magnitude among "
            f"{len(prior_draws)} prior draws ({bound[far].max() / 2:.3g}); the generator was not "
            "trained on such values.", UserWarning, **user_frame(),
        )


def data_signature(X):
    """Shape, dtype and a digest of up to 64 evenly spaced samples: enough to tell datasets apart.

    Parameters
    ----------
    X : ndarray of shape (n, ...)

    Returns
    -------
    signature : dict with keys "shape" (list), "dtype" (str), "digest" (hex str)
    """
    sample = np.ascontiguousarray(spread_rows(X, SAMPLE_ROWS))
    digest = hashlib.sha256(sample.tobytes()).hexdigest()
    return {"shape": list(X.shape), "dtype": X.dtype.str, "digest": digest}


def check_latent_matrix(values, n_columns, name):
    """A finite float32 matrix of ``n_columns`` columns (latents, or a model's codes as factors).

    Parameters
    ----------
    values : array-like of shape (n, n_columns)
    n_columns : int
    name : str
        What the values are, for the messages ("latents", "factors").

    Returns
    -------
    values : ndarray of shape (n, n_columns), dtype float32

    Raises
    ------
    ValueError
        Not 2-D with ``n_columns`` columns, or NaN / infinite entries.
    """
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2 or values.shape[1] != n_columns:
        raise ValueError(f"Expected {name} of shape (n, {n_columns}); got {values.shape}.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{name.capitalize()} contain NaN or infinite values.")
    return values
