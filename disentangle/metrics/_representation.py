"""Turning a "representation" into codes, in batches.

A representation is either a fitted estimator with ``transform`` or any
callable mapping a batch of observations (float32 ndarray of shape
``(batch, *observation_shape)``) to codes of shape ``(batch, n_codes)``.
"""

import contextlib
import warnings

import numpy as np


@contextlib.contextmanager
def rows_without_names(estimator):
    """Inside the block, ``estimator`` reads arrays without the "X does not have valid feature
    names" warning it gives when it was fitted on a DataFrame.

    Observations rendered by a dataset or a generator are arrays: such an
    estimator would warn on every batch that they lack its column names.
    (The filter is process-wide while the block runs, as ``warnings.catch_warnings``.)
    """
    if getattr(estimator, "feature_names_in_", None) is None:
        yield
        return
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="X does not have valid feature names",
                                category=UserWarning)
        yield


def as_encoder(representation):
    """Return a function ``observations -> codes`` for ``representation``.

    Parameters
    ----------
    representation : estimator with ``transform`` or callable

    Returns
    -------
    encode : callable
        Maps a float32 array of shape (batch, ...) to a float64 array of
        shape (batch, n_codes).

    Raises
    ------
    TypeError
        If ``representation`` has no ``transform`` and is not callable; the
        returned ``encode`` raises it when the codes are not numbers (strings,
        objects).
    """
    fn = getattr(representation, "transform", None)
    if fn is None:
        if not callable(representation):
            raise TypeError(
                "representation must be a fitted estimator with a `transform` method or a "
                f"callable from observations to codes; got {type(representation).__name__}."
            )
        fn = representation
    name = (f"{type(representation).__name__}.transform" if fn is not representation
            else getattr(representation, "__name__", repr(representation)))

    def encode(observations):
        with rows_without_names(representation):
            codes = np.asarray(fn(observations))
        if codes.dtype.kind not in "biuf":
            example = f" (e.g. {codes.flat[0]!r})" if codes.size else ""
            raise TypeError(
                f"the representation {name} must return numeric codes; got an array of dtype "
                f"{codes.dtype}{example}."
            )
        codes = codes.astype(np.float64, copy=False)
        if codes.ndim == 1:
            codes = codes[:, None]
        if codes.ndim != 2 or codes.shape[0] != len(observations):
            raise ValueError(
                f"the representation must return codes of shape (n_observations, n_codes) = "
                f"({len(observations)}, n_codes); got shape {codes.shape}."
            )
        if not np.all(np.isfinite(codes)):
            raise ValueError(
                "the representation returned NaN or infinite codes; a diverged model cannot "
                "be scored."
            )
        return codes

    return encode


def encode_factors(encode, dataset, factors, random_state, batch_size=64):
    """Render ``factors`` with ``dataset`` and encode them, ``batch_size`` at a time.

    Parameters
    ----------
    encode : callable
        As returned by :func:`as_encoder`.
    dataset : GroundTruthDataset
    factors : ndarray of shape (n, n_factors)
    random_state : RandomState
    batch_size : int, default=64

    Returns
    -------
    codes : ndarray of shape (n, n_codes), dtype float64
    """
    chunks = [
        encode(dataset.checked_observations(factors[i : i + batch_size], random_state))
        for i in range(0, len(factors), batch_size)
    ]
    return np.concatenate(chunks, axis=0)
