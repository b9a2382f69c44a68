"""What every generative estimator shares.

* Input validation with scikit-learn's helpers: tables (n, d) and images
  (n, H, W), (n, C, H, W) or flattened with ``image_shape``; uint8 images are
  never copied to float (they become float one batch at a time).
* The skorch training engine: batches drawn for a fixed number of iterations
  (:class:`BatchIterator`), progress and history, monitors that stop or warn
  when training goes wrong, checkpoints and resumption bit for bit, Ctrl-C
  that stops cleanly at the end of an iteration.
* The generative interface: ``transform``, ``sample_latent``, ``generate``,
  ``sample``, ``get_feature_names_out``; persistence with a version check
  and a checksum, and loading of CUDA-fitted models on CPU-only machines.
"""

import contextlib
import copy
import hashlib
import json
import math
import os
import pickle
import signal
import threading
import warnings
from numbers import Integral
from pathlib import Path

import numpy as np
import scipy.sparse
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch import NeuralNet
from skorch.callbacks import Callback, PassthroughScoring, ProgressBar
from skorch.exceptions import DeviceWarning
from skorch.history import History

from disentangle import __version__
from disentangle.networks import check_image_size, is_table

#: Batch size used by ``transform`` and ``generate`` (inference only).
INFERENCE_BATCH_SIZE = 512
#: File name of the training checkpoint inside ``checkpoint_dir``.
CHECKPOINT_FILE = "checkpoint.pt"
#: Version of the checkpoint layout (bumped when it changes).
CHECKPOINT_FORMAT = 1


class TrainingWarning(ConvergenceWarning):
    """Training went wrong in a way that does not stop it, or it was interrupted."""


class InputDtypeError(ValueError, TypeError):
    """Input that cannot be read as numbers (a ValueError, and a TypeError as NumPy raises)."""


# --- Device and seeds -------------------------------------------------------------------------


def resolve_device(device):
    """Map ``'auto'`` to ``'cuda'`` when available, else ``'cpu'``; return a torch.device."""
    if isinstance(device, str) and device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def seed_from(random_state):
    """Draw a 31-bit integer seed from an int, RandomState or None (scikit-learn semantics)."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextlib.contextmanager
def torch_seed(seed):
    """Seed torch's global CPU generator inside the block only (``fork_rng`` restores it after).

    For building modules reproducibly without touching the caller's random state.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def generator_state(generator):
    """A torch.Generator as plain data: ``device``, ``seed`` and ``state`` (a CPU uint8 tensor)."""
    return {"device": str(generator.device), "seed": generator.initial_seed(),
            "state": generator.get_state()}


def restore_generator(saved, device):
    """A generator on ``device`` from :func:`generator_state` output.

    Returns
    -------
    generator : torch.Generator
    exact : bool
        False when the saved generator lived on another device type (CUDA and
        CPU streams differ): the new one is then seeded from the saved seed
        and the stream restarts.
    """
    device = torch.device(device)
    generator = torch.Generator(device=device)
    if torch.device(saved["device"]).type == device.type:
        generator.set_state(saved["state"])
        return generator, True
    generator.manual_seed(saved["seed"])
    return generator, False


# --- Input validation -------------------------------------------------------------------------


def _reject_sparse(X):
    if scipy.sparse.issparse(X):
        raise ValueError(
            "Sparse input is not supported: the networks need dense arrays. "
            "Convert it with X.toarray()."
        )


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


def sample_shape_at_fit(shape, image_shape=None):
    """The shape of one sample as the networks see it, from the training array's shape.

    Parameters
    ----------
    shape : tuple of int
        Shape of the training array.
    image_shape : tuple of int, optional
        The estimator's ``image_shape`` parameter.

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
        Images of another shape, or images given to a model fitted on a table.
    """
    ndim = len(shape)
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


def check_pixel_values(X):
    """Check an image array's dtype and values without copying it.

    Parameters
    ----------
    X : ndarray of shape (n, C, H, W)
        dtype bool, uint8 (values 0..1 or 0..255) or floating with values in [0, 1].

    Returns
    -------
    X : ndarray of shape (n, C, H, W)
        The input (bool viewed as uint8).

    Raises
    ------
    ValueError
        Another dtype, or float values outside [0, 1].
    """
    if X.dtype == bool:
        return X.view(np.uint8)
    if X.dtype == np.uint8:
        return X
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(
            f"Expected images of dtype bool, uint8 or float with values in [0, 1]; got {X.dtype}."
        )
    low, high = X.min(), X.max()
    if low < 0 or high > 1:
        raise ValueError(
            f"Float images must have values in [0, 1]; got values in [{low:g}, {high:g}]."
        )
    return X


def uint8_scale(X):
    """Factor that maps stored pixel values to [0, 1]: 1/255 for 0..255 uint8, else 1."""
    if X.dtype == np.uint8 and X.size and X.max() > 1:
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
        uint8 values above 1 for a model fitted on images in [0, 1].

    Warns
    -----
    UserWarning
        uint8 values in 0..1 only for a model fitted on 0..255 images: they
        are read as 0..255 (nearly black).
    """
    if X.dtype != np.uint8:
        return 1.0
    high = int(X.max())
    if fitted_scale == 1.0 and high > 1:
        raise ValueError(
            f"{name} was fitted on images with values in [0, 1]; got uint8 values up to {high}. "
            "Pass images on the scale seen at fit."
        )
    if fitted_scale != 1.0 and high <= 1:
        warnings.warn(
            f"{name} was fitted on uint8 images with values 0..255; these have values 0..1 "
            "only and are read as 0..255 (nearly black). Pass bool or float images for 0..1.",
            UserWarning, stacklevel=4,
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
    X : array-like or DataFrame
        A table (n, d), images (n, H, W) or (n, C, H, W), or images flattened
        to (n, C*H*W) (with the ``image_shape`` parameter at fit).
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
        Sparse, empty, 1-D, >4-D, complex, non-numeric (strings; objects
        that are not numbers, also a TypeError), NaN or infinite input; fewer
        than ``min_samples`` samples; a shape, image size or channel count
        other than supported or seen at fit; images of another dtype than
        bool, uint8 or float, or float images outside [0, 1].
    """
    _reject_sparse(X)
    if not hasattr(X, "shape"):
        X = np.asarray(X)
    name = type(estimator).__name__
    if reset:
        sample_shape = sample_shape_at_fit(X.shape, estimator.image_shape)
    else:
        sample_shape = sample_shape_at_transform(X.shape, estimator.input_shape_, name)
    images = sample_shape is not None and not is_table(sample_shape)
    if sample_shape is not None and X.shape[0] == 0:
        raise ValueError(
            f"Expected at least one {'image' if images else 'sample'}; "
            f"got an empty array of shape {X.shape}."
        )
    flat = np.asarray(X).reshape(len(X), -1) if len(X.shape) > 2 else X
    try:
        flat = validate_data(estimator, flat, reset=reset, dtype="numeric",
                             ensure_min_samples=min_samples)
    except TypeError as error:
        raise InputDtypeError(f"X could not be read as numbers: {error}") from error
    if not images:
        return flat
    return check_pixel_values(flat.reshape(len(flat), *sample_shape))


def data_signature(X):
    """Shape, dtype and a digest of up to 64 evenly spaced samples: enough to tell datasets apart.

    Parameters
    ----------
    X : ndarray of shape (n, ...)

    Returns
    -------
    signature : dict with keys "shape" (list), "dtype" (str), "digest" (hex str)
    """
    rows = np.unique(np.linspace(0, len(X) - 1, min(len(X), 64)).astype(np.int64))
    digest = hashlib.sha256(np.ascontiguousarray(X[rows]).tobytes()).hexdigest()
    return {"shape": list(X.shape), "dtype": X.dtype.str, "digest": digest}


# --- Batches ----------------------------------------------------------------------------------


def to_float(batch, device, scale):
    """Move one batch to ``device`` as float32 (uint8 pixels times ``scale``)."""
    batch = batch.to(device, non_blocking=True)
    if batch.dtype == torch.uint8:
        return batch.float().mul_(scale)
    return batch.float()


def to_tensor(array):
    """A writable, contiguous CPU tensor copy of a (small) array: uint8 kept, tables as float32."""
    dtype = array.dtype if array.dtype in (np.uint8, np.float32) else np.float32
    return torch.from_numpy(np.array(array, dtype=dtype, copy=True, order="C"))


def sample_diversity(generated, data):
    """Spread of generated samples relative to the data's, over a batch.

    The mean over features of the standard deviation across the batch, of
    ``generated`` divided by that of ``data``: about 1 for a healthy
    generator, near 0 when all samples collapse to one. 1 when the data
    batch has no spread.

    Parameters
    ----------
    generated, data : Tensor of shape (M, ...)

    Returns
    -------
    diversity : Tensor, scalar
    """
    spread = generated.detach().flatten(1).std(0, unbiased=False).mean()
    reference = data.flatten(1).std(0, unbiased=False).mean()
    return torch.where(reference > 0, spread / reference.clamp_min(1e-12), torch.ones_like(spread))


class BatchIterator:
    """Random mini-batches for a fixed total number of iterations (the skorch ``iterator_train``).

    Each pass ("epoch") shuffles the data and yields ``len(X) // batch_size``
    full batches (the last, short batch is dropped, as in the official code;
    data smaller than one batch gives one batch of all of it), until
    ``n_iter`` batches have been yielded over all passes. Image batches keep
    the input dtype (uint8 in memory, converted to float per batch on the
    device); ``dtype`` converts table batches.

    Its state (:meth:`state_dict`) is the generator state at the start of the
    current pass, the position in that pass and the batches yielded: enough
    to continue mid-pass exactly after :meth:`load_state_dict`.

    Parameters
    ----------
    X : ndarray of shape (n, ...)
    batch_size : int
    n_iter : int
        Total number of batches over all passes.
    seed : int
        Seed of the CPU generator that draws the permutations.
    dtype : numpy dtype, optional
        Cast each batch to it (None keeps the input dtype).
    """

    def __init__(self, X, batch_size, n_iter, seed, dtype=None):
        self.X = X
        self.batch_size = min(batch_size, len(X))
        self.n_iter = n_iter
        self.dtype = dtype
        self.generator = torch.Generator().manual_seed(seed)
        self.n_yielded = 0
        self._pass_start = None  # generator state before the current pass's permutation
        self._order = None
        self._position = 0

    @staticmethod
    def batches_per_pass(n_samples, batch_size):
        """Batches in one pass over ``n_samples`` samples."""
        return n_samples // min(batch_size, n_samples)

    @classmethod
    def n_passes(cls, n_samples, batch_size, n_iter, state=None):
        """Passes (skorch epochs) still needed to yield ``n_iter`` batches in all.

        Parameters
        ----------
        n_samples, batch_size, n_iter : int
        state : dict, optional
            A :meth:`state_dict`, to count from; None for a fresh iterator.
        """
        per_pass = cls.batches_per_pass(n_samples, batch_size)
        if state is None:
            return math.ceil(n_iter / per_pass)
        left = max(n_iter - state["n_yielded"], 0)
        in_pass = 0
        if state["pass_started"]:
            in_pass = min(left, per_pass - state["position"] // min(batch_size, n_samples))
        return int(in_pass > 0) + math.ceil((left - in_pass) / per_pass)

    def _pass_length(self):
        return self.batches_per_pass(len(self.X), self.batch_size) * self.batch_size

    def _start_pass(self):
        self._pass_start = self.generator.get_state()
        self._order = torch.randperm(len(self.X), generator=self.generator).numpy()
        self._position = 0

    def __iter__(self):
        if self._order is None or self._position >= self._pass_length():
            self._start_pass()
        while self._position < self._pass_length() and self.n_yielded < self.n_iter:
            start = self._position
            index = np.sort(self._order[start : start + self.batch_size])
            self._position += self.batch_size
            self.n_yielded += 1
            batch = self.X[index]
            if self.dtype is not None:
                batch = batch.astype(self.dtype, copy=False)
            yield torch.from_numpy(np.ascontiguousarray(batch))

    def state_dict(self, n_done=None):
        """The iterator's position as plain data (the generator state as a uint8 tensor).

        Parameters
        ----------
        n_done : int, optional
            Batches whose iteration completed (``net.n_iter_``): a batch
            yielded to an iteration that did not complete (interrupted before
            its end) is given again after :meth:`load_state_dict`.
        """
        started = self._order is not None
        pending = 0 if n_done is None else self.n_yielded - n_done
        return {
            "generator": self._pass_start if started else self.generator.get_state(),
            "pass_started": started, "position": self._position - pending * self.batch_size,
            "n_yielded": self.n_yielded - pending,
        }

    def load_state_dict(self, state):
        """Continue where the iterator that gave ``state`` stopped (same data and batch size)."""
        self.generator.set_state(state["generator"])
        if state["pass_started"]:
            self._start_pass()
            self._position = state["position"]
        self.n_yielded = state["n_yielded"]


# --- Callbacks --------------------------------------------------------------------------------


def training_callbacks(verbose, batches_per_pass, loss_names, n_iter=None):
    """skorch callbacks: per-pass averages of the batch losses, a log and a progress bar.

    Parameters
    ----------
    verbose : int
        0 silences everything; 1 prints a table row per pass and a progress bar.
    batches_per_pass : int
    loss_names : list of str
        Batch-level history keys to average per pass (besides ``train_loss``).
    n_iter : int, optional
        Total iterations, when fewer than one pass: the progress bar's length.
    """
    callbacks = [(name, PassthroughScoring(name=name, on_train=True)) for name in loss_names]
    if verbose:
        total = batches_per_pass if n_iter is None else min(batches_per_pass, n_iter)
        callbacks.append(("progress_bar", ProgressBar(batches_per_epoch=total)))
    return callbacks


def _last_batch(net):
    return net.history[-1]["batches"][-1]


class FiniteLosses(Callback):
    """Stop training with a ``FloatingPointError`` as soon as a recorded value is NaN or infinite.

    Checks every value of the iteration's history row (``train_loss`` and
    the estimator's loss terms). The estimator keeps its state from before
    ``fit``; a ``checkpoint_dir`` keeps the last checkpoint before the divergence.
    """

    def on_batch_end(self, net, **kwargs):
        bad = {name: value for name, value in _last_batch(net).items()
               if isinstance(value, float) and not math.isfinite(value)}
        if bad:
            terms = ", ".join(f"{name} = {value}" for name, value in bad.items())
            raise FloatingPointError(
                f"Training diverged at iteration {net.n_iter_}: {terms}. "
                "Try lower learning rates."
            )


class StretchMonitor(Callback):
    """Warn once when a recorded value stays below ``threshold`` for ``patience`` iterations.

    Subclasses set ``key`` (the history key) and ``problem`` (what it means).

    Parameters
    ----------
    threshold : float
    patience : int
    """

    key = None
    problem = None

    def __init__(self, threshold, patience):
        self.threshold = threshold
        self.patience = patience

    def initialize(self):
        self.stretch_ = 0
        return self

    def on_batch_end(self, net, **kwargs):
        value = _last_batch(net).get(self.key)
        if value is None:
            return
        self.stretch_ = self.stretch_ + 1 if value < self.threshold else 0
        if self.stretch_ == self.patience:
            warnings.warn(
                f"At iteration {net.n_iter_}: {self.problem} for the last {self.patience} "
                f"iterations ({self.key} < {self.threshold:g}).",
                TrainingWarning, stacklevel=2,
            )


class DiscriminatorDominance(StretchMonitor):
    """Warn when the GAN discriminator wins completely for a long stretch.

    Its real/fake loss (``adversarial_loss``: the two cross-entropies,
    ``2 log 2`` at the balance point) below ``threshold`` means it tells every
    real and generated sample apart with near certainty: the generator then
    gets no useful gradient.

    Parameters
    ----------
    threshold : float, default=0.01
    patience : int, default=500
    """

    key = "adversarial_loss"
    problem = ("the discriminator has won completely (the generator gets no useful gradient; "
               "try a lower lr_discriminator or a higher lr_generator)")

    def __init__(self, threshold=0.01, patience=500):
        super().__init__(threshold, patience)


class SampleCollapse(StretchMonitor):
    """Warn when the generated samples collapse to (nearly) one sample.

    ``sample_diversity`` (see :func:`sample_diversity`) below ``threshold``:
    the generated batch spreads less than ``threshold`` times the data batch.

    Parameters
    ----------
    threshold : float, default=0.02
    patience : int, default=500
    """

    key = "sample_diversity"
    problem = "the generated samples have collapsed to nearly one sample"

    def __init__(self, threshold=0.02, patience=500):
        super().__init__(threshold, patience)


class GracefulInterrupt(Callback):
    """Ctrl-C during training stops at the end of the current iteration.

    Used as a context manager around the training loop, it replaces the
    SIGINT handler (in the main thread only): the first Ctrl-C is recorded
    and raised as ``KeyboardInterrupt`` at the end of the iteration, where
    skorch catches it and ends training (``on_train_end``: a last checkpoint);
    a second Ctrl-C interrupts at once.
    """

    def __init__(self):
        self.requested_ = False
        self._previous = None

    def __enter__(self):
        self.requested_ = False
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._request)
        return self

    def __exit__(self, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        return False

    def _request(self, signum, frame):
        if self.requested_:
            raise KeyboardInterrupt
        self.requested_ = True

    def on_batch_end(self, net, **kwargs):
        if self.requested_:
            raise KeyboardInterrupt


def make_snapshot(record, net):
    """A checkpoint: the fit's ``record`` (version, params, data, seeds) and the net's state."""
    return {**record, "net": net.training_state()}


def save_checkpoint(path, snapshot):
    """Write ``snapshot`` with ``torch.save`` atomically (a temporary file, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    torch.save(snapshot, temporary)
    os.replace(temporary, path)


def load_checkpoint(path, device):
    """Read a checkpoint written by :class:`TrainingCheckpoint` (``weights_only``: no code runs).

    Raises
    ------
    ValueError
        The file cannot be read (truncated, corrupted, not a checkpoint).
    """
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as error:
        raise ValueError(
            f"Could not read the checkpoint {path} (truncated, corrupted or not a "
            f"checkpoint): {error}"
        ) from error


class TrainingCheckpoint(Callback):
    """Save the whole training state every ``every`` iterations and when training ends.

    The checkpoint holds the modules, optimiser states, random generators,
    batch position, schedule counters and history: ``fit`` with
    ``warm_start=True`` continues from it exactly. A training that ends
    inside an iteration (a second Ctrl-C) keeps the previous checkpoint.

    Parameters
    ----------
    path : str or path-like
    every : int
    record : dict
        The fit's record (see ``GenerativeEstimator._fit_record``).
    """

    def __init__(self, path, every, record):
        self.path = path
        self.every = every
        self.record = record

    def initialize(self):
        self.saved_at_ = None
        return self

    def on_batch_end(self, net, **kwargs):
        if net.n_iter_ % self.every == 0:
            self.save(net)

    def on_train_end(self, net, **kwargs):
        if not net.step_open_ and net.n_iter_ != self.saved_at_:
            self.save(net)

    def save(self, net):
        """Write the checkpoint now."""
        save_checkpoint(self.path, make_snapshot(self.record, net))
        self.saved_at_ = net.n_iter_


# --- Training engine --------------------------------------------------------------------------


def _json_default(value):
    return value.item() if hasattr(value, "item") else str(value)


class TrainingNet(NeuralNet):
    """skorch engine with a ``config`` dict, extra modules and optimisers, a resumable state.

    Subclasses build their modules in ``initialize_module`` and optimisers in
    ``initialize_optimizer`` and implement :meth:`train_iteration`.
    ``get_dataset`` passes the array through untouched: :class:`BatchIterator`
    indexes it itself. :meth:`training_state` / :meth:`load_training_state`
    capture everything that the next iteration depends on.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    config : dict
        Everything the training step needs (sizes, weights, learning rates, seed).

    Attributes
    ----------
    rng_ : torch.Generator
        On the device: latents, posterior noise and permutations.
    n_iter_ : int
    step_open_ : bool
        True from the start of an iteration (``on_batch_begin``) to the end of
        its step, and after an iteration was interrupted half-way.
    """

    def __init__(self, *args, config, **kwargs):
        super().__init__(*args, **kwargs)
        self.config = config

    def initialize(self):
        self.rng_ = torch.Generator(device=self.device).manual_seed(self.config["seed"] + 1)
        self.n_iter_ = 0
        self.step_open_ = False
        self.iterator_state_ = None
        self._batch_iterator = None
        return super().initialize()

    def get_dataset(self, X, y=None):
        return X

    def get_iterator(self, dataset, training=False):
        iterator = super().get_iterator(dataset, training)
        if training:
            if self.iterator_state_ is not None:
                iterator.load_state_dict(self.iterator_state_)
            self._batch_iterator = iterator
        return iterator

    def release_data(self):
        """Keep the batch iterator's state and drop the iterator (and the data it holds)."""
        if self._batch_iterator is not None:
            self.iterator_state_ = self._batch_iterator.state_dict(self.n_iter_)
            self._batch_iterator = None

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        super().on_batch_begin(net, batch=batch, training=training, **kwargs)
        self.step_open_ = True  # before the callbacks: the CR schedule may reset H

    def train_step(self, batch, **fit_params):
        loss, terms = self.train_iteration(batch)
        self.n_iter_ += 1
        self.record(**terms)
        self.step_open_ = False
        return {"loss": loss, "y_pred": None}

    def train_iteration(self, batch):
        """One training iteration; returns ``(loss, terms)``: a scalar tensor and named scalars."""
        raise NotImplementedError

    def record(self, **values):
        """Store scalar tensors in the current batch's history row."""
        for name, value in values.items():
            self.history.record_batch(name, value.item())

    @staticmethod
    def optimizer_step(optimizer, loss, parameters):
        """Backward into ``parameters`` only (no other leaf gets a gradient), then one step.

        Parameters
        ----------
        optimizer : torch.optim.Optimizer
        loss : Tensor, scalar
        parameters : iterable of Parameter
            The parameters ``optimizer`` updates.
        """
        optimizer.zero_grad(set_to_none=True)
        loss.backward(inputs=list(parameters))
        optimizer.step()

    def counters(self):
        """Integer state besides tensors (subclasses add their schedule counters)."""
        return {"n_iter": self.n_iter_}

    def set_counters(self, counters):
        """Restore :meth:`counters` output."""
        self.n_iter_ = counters["n_iter"]

    def training_state(self):
        """Everything the next iteration depends on, as plain data and tensors.

        Returns
        -------
        state : dict
            ``modules`` and ``optimizers`` (state dicts by skorch name), ``rng``
            (:func:`generator_state`), ``iterator`` (:meth:`BatchIterator.state_dict`),
            ``counters`` and ``history`` (JSON). Tensors are the live ones: copy
            the dict before training further.
        """
        batch_iterator = self._batch_iterator
        return {
            "modules": {name: getattr(self, name + "_").state_dict() for name in self._modules},
            "optimizers": {name: getattr(self, name + "_").state_dict()
                           for name in self._optimizers},
            "rng": generator_state(self.rng_),
            "iterator": (batch_iterator.state_dict(self.n_iter_) if batch_iterator is not None
                         else self.iterator_state_),
            "counters": self.counters(),
            "history": json.dumps(list(self.history), default=_json_default),
        }

    def load_training_state(self, state):
        """Continue from :meth:`training_state` output (after ``initialize``)."""
        self.set_counters(state["counters"])
        for name, module_state in state["modules"].items():
            getattr(self, name + "_").load_state_dict(module_state)
        for name, optimizer_state in state["optimizers"].items():
            getattr(self, name + "_").load_state_dict(optimizer_state)
        self.rng_, exact = restore_generator(state["rng"], self.device)
        if not exact:
            warnings.warn(
                f"Resuming on {self.device} a fit that ran on {state['rng']['device']}: their "
                "random streams differ, so the result will differ from an uninterrupted run.",
                TrainingWarning, stacklevel=2,
            )
        self.iterator_state_ = state["iterator"]
        self.history_ = History(json.loads(state["history"]))

    def __getstate__(self):
        state = super().__getstate__()
        if "rng_" in state:
            state["rng_"] = generator_state(state["rng_"])
        state["_batch_iterator"] = None
        return state

    def __setstate__(self, state):
        saved_rng = state.pop("rng_", None)
        super().__setstate__(state)
        if saved_rng is not None:
            self.rng_, _ = restore_generator(saved_rng, self.device)


def _to_batches(fn, array):
    """Apply a torch function to ``array`` in chunks of INFERENCE_BATCH_SIZE, without gradients."""
    with torch.inference_mode():
        out = [fn(to_tensor(array[i : i + INFERENCE_BATCH_SIZE])).cpu()
               for i in range(0, len(array), INFERENCE_BATCH_SIZE)]
    return torch.cat(out).numpy()


def _param_fingerprint(value):
    return repr(tuple(value) if isinstance(value, list) else value)


def check_snapshot(snapshot, record, source):
    """Check that a snapshot continues the fit described by ``record``.

    Raises
    ------
    ValueError
        Another package version, checkpoint format, estimator, parameters or data.
    """
    if snapshot.get("version") != record["version"] or snapshot.get("format") != record["format"]:
        raise ValueError(
            f"{source} was written by disentangle {snapshot.get('version')} (checkpoint format "
            f"{snapshot.get('format')}); this is disentangle {record['version']}: it cannot resume."
        )
    if snapshot["estimator"] != record["estimator"]:
        raise ValueError(
            f"{source} belongs to a {snapshot['estimator']}, not to this {record['estimator']}."
        )
    changed = [f"{name}={saved} (now {record['params'][name]})"
               for name, saved in snapshot["params"].items() if record["params"][name] != saved]
    if changed:
        raise ValueError(
            f"{source} was fitted with other parameters: {', '.join(changed)}. warm_start "
            "continues that fit: set them back, or fit afresh (warm_start=False)."
        )
    if snapshot["data"] != record["data"]:
        raise ValueError(
            f"{source} was fitted on other data (shape {tuple(snapshot['data']['shape'])}, "
            f"dtype {snapshot['data']['dtype']}); got shape {tuple(record['data']['shape'])}, "
            f"dtype {record['data']['dtype']}. warm_start continues a fit on the same data."
        )


class GenerativeEstimator(TransformerMixin, BaseEstimator):
    """Base class of the generative estimators (``InfoGANCR``, ``VAE``).

    Subclasses provide the prior (:meth:`_draw_prior`), the latent sizes
    (:meth:`_latent_sizes`), the engine (:meth:`_make_net`, with its extra
    callbacks and loss names), and ``_encode_batch`` / ``_decode_batch``.
    ``fit`` validates the input, resumes or starts the engine, trains it for
    ``max_iter`` iterations in all and sets ``net_`` (a fitted skorch net
    whose ``module_`` is the generator/decoder).
    """

    _parameter_constraints = {
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [list, None],
        "image_shape": [tuple, list, None],
        "checkpoint_dir": [str, os.PathLike, None],
        "checkpoint_every": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
    }

    #: Parameters that may change between an interrupted fit and its resumption.
    _resumable_params = ("max_iter", "device", "random_state", "verbose", "callbacks",
                         "checkpoint_dir", "checkpoint_every", "warm_start")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # Seeded fits are bit-identical on CPU; CUDA kernels are not deterministic.
        try:
            tags.non_deterministic = resolve_device(self.device).type != "cpu"
        except (RuntimeError, TypeError):  # an invalid device: fit will say so
            tags.non_deterministic = True
        tags.input_tags.three_d_array = True  # images (n, H, W); (n, C, H, W) too
        tags.transformer_tags.preserves_dtype = ["float32"]  # codes are always float32
        return tags

    @property
    def history_(self):
        """skorch History: losses per iteration (batch) and per pass."""
        return self.net_.history

    # --- fit ---

    def _check_params(self):
        """Checks beyond ``_parameter_constraints`` (subclasses)."""

    def _min_samples(self):
        """Fewest training samples the networks can train on."""
        return 1

    def _fit(self, X):
        """Validate, resume or start, train; return self. See the subclasses' ``fit``.

        If it raises, the estimator is left as it was before the call.
        """
        previous = self.__dict__.copy()
        try:
            return self._fit_or_raise(X)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise

    def _fit_or_raise(self, X):
        self._validate_params()
        self._check_params()
        X = self._validate_training_data(X)
        record = self._fit_record(X)
        snapshot = self._resume_snapshot(record)
        record["seeds"] = snapshot["seeds"] if snapshot else list(self._fit_seeds())
        interrupt = GracefulInterrupt()
        iterator_state = snapshot["net"]["iterator"] if snapshot else None
        engine = self._engine_params(len(X), record, iterator_state, interrupt)
        net = self._make_net(len(X), record["seeds"][0], engine).initialize()
        if snapshot:
            net.load_training_state(snapshot["net"])
        try:
            with interrupt:
                net.partial_fit(X)
        finally:
            net.release_data()
        self._set_fitted(net, record)
        return self

    def _validate_training_data(self, X):
        """Validate ``X`` and set the input-dependent fitted attributes; return the array."""
        X = validate_input(self, X, reset=True, min_samples=self._min_samples())
        self.input_shape_ = tuple(int(s) for s in X.shape[1:])
        self.image_shape_ = None if is_table(self.input_shape_) else self.input_shape_
        self.input_scale_ = 1.0 if self.image_shape_ is None else uint8_scale(X)
        self.device_ = resolve_device(self.device)
        return X

    def _fit_seeds(self):
        """Two 31-bit seeds from ``random_state``: the net's (weights, noise) and the batches'."""
        rng = np.random.RandomState(seed_from(self.random_state))
        return seed_from(rng), seed_from(rng)

    def _fit_record(self, X):
        """What identifies a fit: package version, estimator, training parameters, data."""
        params = {name: _param_fingerprint(value)
                  for name, value in self.get_params(deep=False).items()
                  if name not in self._resumable_params}
        return {"format": CHECKPOINT_FORMAT, "version": __version__,
                "estimator": type(self).__name__, "params": params, "data": data_signature(X)}

    def _checkpoint_path(self):
        return None if self.checkpoint_dir is None else Path(self.checkpoint_dir) / CHECKPOINT_FILE

    def _resume_snapshot(self, record):
        """The state ``warm_start`` continues: the previous fit's, else the checkpoint's.

        The previous fit's state comes first, unless it was interrupted inside
        an iteration and a checkpoint exists. Returns None for a fresh fit.

        Raises
        ------
        ValueError
            The state belongs to another version, estimator, parameters or data.
        """
        if not self.warm_start:
            return None
        path = self._checkpoint_path()
        in_memory = hasattr(self, "net_")
        if in_memory and not (self.net_.step_open_ and path is not None and path.exists()):
            snapshot, source = copy.deepcopy(make_snapshot(self._record, self.net_)), "The fit"
            if self.net_.step_open_:
                warnings.warn(
                    "The previous fit was interrupted inside an iteration: continuing from it "
                    "is not bit-for-bit reproducible (a checkpoint_dir would make it so).",
                    TrainingWarning, stacklevel=5,
                )
        elif path is not None and path.exists():
            source = f"The checkpoint {path}"
            snapshot = load_checkpoint(path, self.device_)
        else:
            return None
        check_snapshot(snapshot, record, source)
        return snapshot

    def _engine_params(self, n_samples, record, iterator_state, interrupt):
        """Keyword arguments of the skorch engine shared by all estimators.

        ``max_iter`` batches in all drawn by :class:`BatchIterator` (no
        validation split), the estimator's ``batch_size``, ``device_`` and
        ``verbose``. Callbacks: the subclass's (:meth:`_extra_callbacks`),
        :class:`FiniteLosses`, :func:`training_callbacks`, a :class:`TrainingCheckpoint` when
        ``checkpoint_dir`` is set, the user's ``callbacks`` (a user callback
        named like a default one replaces it; ``(name, None)`` removes it),
        and ``interrupt`` last.

        Parameters
        ----------
        n_samples : int
        record : dict
            The fit's record, with its seeds.
        iterator_state : dict or None
            Where the batches resume.
        interrupt : GracefulInterrupt
        """
        defaults = [
            *self._extra_callbacks(),
            ("finite_losses", FiniteLosses()),
            *training_callbacks(self.verbose,
                                BatchIterator.batches_per_pass(n_samples, self.batch_size),
                                self._loss_names(), self.max_iter),
        ]
        if self.checkpoint_dir is not None:
            checkpoint = TrainingCheckpoint(self._checkpoint_path(), self.checkpoint_every, record)
            defaults.append(("checkpoint", checkpoint))
        user = list(self.callbacks or [])
        named = {item[0] for item in user if isinstance(item, tuple)}
        callbacks = [item for item in defaults if item[0] not in named]
        return {
            "batch_size": self.batch_size,
            "max_epochs": BatchIterator.n_passes(n_samples, self.batch_size, self.max_iter,
                                                 iterator_state),
            "train_split": None,
            "iterator_train": BatchIterator,
            "iterator_train__n_iter": self.max_iter,
            "iterator_train__seed": record["seeds"][1],
            "iterator_train__dtype": np.float32 if self.image_shape_ is None else None,
            "callbacks": [*callbacks, *user, ("graceful_interrupt", interrupt)],
            "device": self.device_,
            "verbose": self.verbose,
        }

    def _extra_callbacks(self):
        """The subclass's own callbacks, as (name, callback) pairs."""
        return []

    def _set_fitted(self, net, record):
        self.net_ = net
        self._record = record
        self.n_codes_, self.n_latent_ = self._latent_sizes()
        self.n_iter_ = net.n_iter_
        if net.n_iter_ < self.max_iter:
            where = "" if self.checkpoint_dir is None else f" (or from {self._checkpoint_path()})"
            inside = (f" inside iteration {net.n_iter_ + 1}, whose changes stay" if net.step_open_
                      else "")
            warnings.warn(
                f"Training stopped at iteration {net.n_iter_} of {self.max_iter} (interrupted"
                f"{inside}). The estimator is usable; fit again with warm_start=True to "
                f"continue{where}.",
                TrainingWarning, stacklevel=5,
            )

    # --- inference ---

    def _validate(self, X):
        """Validate ``X`` for ``transform``; return the array and its uint8 pixel scale."""
        check_is_fitted(self, "net_")
        was_bool = getattr(X, "dtype", None) == np.bool_
        X = validate_input(self, X, reset=False)
        if self.image_shape_ is None or was_bool:
            return X, 1.0
        return X, transform_scale(X, self.input_scale_, type(self).__name__)

    def transform(self, X):
        """Encode samples to their latent codes.

        Parameters
        ----------
        X : array-like of shape (n, d), (n, H, W), (n, C, H, W) or (n, C*H*W)
            The kind of input seen at fit: a table with as many features, or
            images of the same shape (bool, uint8 on the scale seen at fit,
            or float in [0, 1]; also flattened).

        Returns
        -------
        codes : ndarray of shape (n, n_codes_), dtype float32
            Deterministic code estimates (InfoGAN-CR: Q's means; VAE: posterior means).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            Input of another shape, number of features, channel count or
            pixel scale than at fit, or invalid values (see :func:`validate_input`).
        """
        X, scale = self._validate(X)
        codes = _to_batches(lambda batch: self._encode_batch(to_float(batch, self.device_, scale)),
                            X)
        return codes.astype(np.float32, copy=False)

    def sample_latent(self, n_samples, random_state=None):
        """Draw latent vectors from the prior.

        Parameters
        ----------
        n_samples : int
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        latents : ndarray of shape (n_samples, n_latent_), dtype float32
            The first ``n_codes_`` columns are the codes ``c``, the rest the noise ``z``.
        """
        check_is_fitted(self, "net_")
        return self._draw_prior(check_random_state(random_state), n_samples).astype(np.float32)

    def generate(self, latents):
        """Render latent vectors with the generator (decoder), in batches.

        Parameters
        ----------
        latents : array-like of shape (n, n_latent_)

        Returns
        -------
        samples : ndarray of shape (n, *input_shape_), dtype float32
            Images (n, C, H, W) with values in [0, 1] for a model fitted on
            images (also when fitted on flattened images); rows (n, d) of
            unbounded features for a model fitted on a table.

        Raises
        ------
        ValueError
            If ``latents`` is not 2-D with ``n_latent_`` columns or is not finite.
        """
        check_is_fitted(self, "net_")
        latents = np.asarray(latents, dtype=np.float32)
        if latents.ndim != 2 or latents.shape[1] != self.n_latent_:
            raise ValueError(
                f"Expected latents of shape (n, {self.n_latent_}); got {latents.shape}."
            )
        if not np.all(np.isfinite(latents)):
            raise ValueError("Latents contain NaN or infinite values.")
        if len(latents) == 0:
            return np.empty((0, *self.input_shape_), np.float32)
        return _to_batches(lambda batch: self._decode_batch(batch.to(self.device_)), latents)

    def _decode_batch(self, latents):
        return self.net_.module_.eval()(latents)

    def sample(self, n_samples, random_state=None):
        """Generate samples from latents drawn from the prior.

        Parameters
        ----------
        n_samples : int
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        samples : ndarray of shape (n_samples, *input_shape_), dtype float32
            As :meth:`generate`.
        """
        return self.generate(self.sample_latent(n_samples, random_state))

    def get_feature_names_out(self, input_features=None):
        """Names of the code columns: ``code0``, ``code1``, ...

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked against the input seen at fit (``feature_names_in_`` or
            ``n_features_in_``); the output names do not depend on it.

        Returns
        -------
        names : ndarray of str objects, shape (n_codes_,)

        Raises
        ------
        ValueError
            ``input_features`` that differ from the features seen at fit.
        """
        check_is_fitted(self, "net_")
        if input_features is not None:
            input_features = np.asarray(input_features, dtype=object)
            seen = getattr(self, "feature_names_in_", None)
            if seen is not None and not np.array_equal(seen, input_features):
                raise ValueError("input_features is not equal to feature_names_in_")
            if len(input_features) != self.n_features_in_:
                raise ValueError(
                    f"input_features should have length equal to number of features "
                    f"({self.n_features_in_}), got {len(input_features)}"
                )
        return np.asarray([f"code{k}" for k in range(self.n_codes_)], dtype=object)

    # --- persistence ---

    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ gives the live __dict__
        state["_disentangle_version"] = __version__
        if "net_" in state:
            payload = pickle.dumps(state.pop("net_"), protocol=pickle.HIGHEST_PROTOCOL)
            state["_net_payload"] = payload
            state["_net_sha256"] = hashlib.sha256(payload).hexdigest()
        return state

    def __setstate__(self, state):
        name = type(self).__name__
        version = state.pop("_disentangle_version", None)
        if version != __version__:
            raise ValueError(
                f"This {name} was saved with disentangle {version or '(unknown version)'}; "
                f"this is disentangle {__version__}. Load it with that version, or fit it again."
            )
        payload = state.pop("_net_payload", None)
        if payload is not None:
            if hashlib.sha256(payload).hexdigest() != state.pop("_net_sha256", None):
                raise ValueError(
                    f"This {name} file is corrupted: its network checksum does not match."
                )
            state["net_"], state["device_"] = _load_net(payload, state["device_"], name)
        super().__setstate__(state)


def _load_net(payload, device, name):
    """Unpickle a net, on CPU when the device it was fitted on is missing (with a warning)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeviceWarning)
        net = pickle.loads(payload)
    loaded_on = torch.device(net.device)
    if loaded_on != torch.device(device):
        warnings.warn(
            f"This {name} was fitted on {device}, which is not available here; it is loaded on "
            f"{loaded_on} (device_ updated). Continuing its training (warm_start) will not "
            "reproduce a run on the original device.",
            DeviceWarning, stacklevel=3,
        )
    return net, loaded_on
