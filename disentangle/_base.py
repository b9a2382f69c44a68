"""What every generative estimator shares.

Input validation and image shapes, per-batch conversion of uint8 images to
float, the device, seeding, the skorch training engine set-up (batches drawn
for a fixed number of iterations, progress, history) and the generative
interface: ``sample_latent``, ``generate``, ``sample`` and ``transform``.
"""

import contextlib
import math

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch import NeuralNet
from skorch.callbacks import PassthroughScoring, ProgressBar

from disentangle.networks import SUPPORTED_IMAGE_SIZES

#: Batch size used by ``transform`` and ``generate`` (inference only).
INFERENCE_BATCH_SIZE = 512


def resolve_device(device):
    """Map ``'auto'`` to ``'cuda'`` when available, else ``'cpu'``; return a torch.device."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def seed_from(random_state):
    """Draw a 31-bit integer seed from an int, RandomState or None (scikit-learn semantics)."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def validate_images(X, image_shape=None):
    """Check an image array without copying it to float.

    Parameters
    ----------
    X : array-like of shape (n, H, W) or (n, C, H, W)
        dtype bool, uint8 (values 0..1 or 0..255) or floating with values in [0, 1].
    image_shape : tuple of int (C, H, W), optional
        The shape seen at fit; when given, ``X`` must match it.

    Returns
    -------
    X : ndarray of shape (n, C, H, W)
        A view of the input (bool is viewed as uint8); never a float copy.

    Raises
    ------
    ValueError
        Wrong number of dimensions, unsupported image size, shape other than
        at fit, empty input, unsupported dtype, NaN/inf, or values outside [0, 1].
    """
    X = np.asarray(X)
    if X.ndim == 3:
        X = X[:, None]
    if X.ndim != 4:
        raise ValueError(
            f"Expected images of shape (n, H, W) or (n, C, H, W); got an array of shape {X.shape}."
        )
    if X.shape[0] == 0:
        raise ValueError("Expected at least one image; got an empty array.")
    size = X.shape[2]
    if image_shape is None and (X.shape[3] != size or size not in SUPPORTED_IMAGE_SIZES):
        raise ValueError(
            f"Images of size {X.shape[2]}x{X.shape[3]} are not supported; supported sizes: "
            + ", ".join(f"{s}x{s}" for s in SUPPORTED_IMAGE_SIZES)
            + "."
        )
    if image_shape is not None and X.shape[1:] != tuple(image_shape):
        raise ValueError(
            f"Expected images of shape (n, {', '.join(map(str, image_shape))}) as seen at fit; "
            f"got {X.shape}."
        )
    return _check_pixel_values(X)


def _check_pixel_values(X):
    if X.dtype == bool:
        return X.view(np.uint8)
    if X.dtype == np.uint8:
        return X
    if not np.issubdtype(X.dtype, np.floating):
        raise ValueError(
            f"Expected images of dtype bool, uint8 or float with values in [0, 1]; got {X.dtype}."
        )
    low, high = X.min(), X.max()
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError("Images contain NaN or infinite values.")
    if low < 0 or high > 1:
        raise ValueError(
            f"Float images must have values in [0, 1]; got values in [{low:g}, {high:g}]."
        )
    return X


def uint8_scale(X):
    """Factor that maps stored pixel values to [0, 1]: 1/255 for 0..255 uint8, else 1."""
    if X.dtype == np.uint8 and X.max() > 1:
        return 1.0 / 255.0
    return 1.0


def to_float(batch, device, scale):
    """Move one uint8 or float batch to ``device`` as float32 in [0, 1] (uint8 times ``scale``)."""
    batch = batch.to(device, non_blocking=True)
    if batch.dtype == torch.uint8:
        return batch.float().mul_(scale)
    return batch.float()


class BatchIterator:
    """Random mini-batches for a fixed total number of iterations (the skorch ``iterator_train``).

    Each pass ("epoch") shuffles the data and yields ``len(X) // batch_size``
    full batches (the last, short batch is dropped, as in the official code;
    data smaller than one batch gives one batch of all of it), until
    ``n_iter`` batches have been yielded over all passes. Batches are uint8
    (or the input dtype) tensors: conversion to float happens per batch on the
    device.

    Parameters
    ----------
    X : ndarray of shape (n, C, H, W)
    batch_size : int
    n_iter : int
        Total number of batches over all passes.
    seed : int
        Seed of the CPU generator that draws the permutations.
    """

    def __init__(self, X, batch_size, n_iter, seed):
        self.X = X
        self.batch_size = min(batch_size, len(X))
        self.n_iter = n_iter
        self.generator = torch.Generator().manual_seed(seed)
        self.n_yielded = 0

    @staticmethod
    def batches_per_pass(n_samples, batch_size):
        """Batches in one pass over ``n_samples`` samples."""
        return n_samples // min(batch_size, n_samples)

    @classmethod
    def n_passes(cls, n_samples, batch_size, n_iter):
        """Passes over the data needed to yield ``n_iter`` batches."""
        return math.ceil(n_iter / cls.batches_per_pass(n_samples, batch_size))

    def __iter__(self):
        order = torch.randperm(len(self.X), generator=self.generator).numpy()
        n_batches = self.batches_per_pass(len(self.X), self.batch_size)
        for start in range(0, n_batches * self.batch_size, self.batch_size):
            if self.n_yielded >= self.n_iter:
                return
            self.n_yielded += 1
            index = np.sort(order[start : start + self.batch_size])
            yield torch.from_numpy(np.ascontiguousarray(self.X[index]))


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


@contextlib.contextmanager
def torch_seed(seed):
    """Seed torch's global CPU generator inside the block only (``fork_rng`` restores it after).

    For building modules reproducibly without touching the caller's random state.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


class TrainingNet(NeuralNet):
    """skorch engine with a ``config`` dict, extra modules and optimisers, batch-level records.

    Subclasses build their modules in ``initialize_module`` and optimisers in
    ``initialize_optimizer`` and implement ``train_step``. ``get_dataset``
    passes the (uint8) array through untouched: :class:`BatchIterator`
    indexes it itself.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    config : dict
        Everything the training step needs (sizes, weights, learning rates, seed).
    """

    def __init__(self, *args, config, **kwargs):
        super().__init__(*args, **kwargs)
        self.config = config

    def get_dataset(self, X, y=None):
        return X

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


def _map_batches(fn, array):
    """Apply a torch function to ``array`` in chunks of INFERENCE_BATCH_SIZE, without gradients."""
    with torch.inference_mode():
        out = [
            fn(torch.from_numpy(array[i : i + INFERENCE_BATCH_SIZE])).cpu()
            for i in range(0, len(array), INFERENCE_BATCH_SIZE)
        ]
    return torch.cat(out).numpy()


class GenerativeEstimator(TransformerMixin, BaseEstimator):
    """Base class of the generative estimators (``InfoGANCR``, ``VAE``).

    Subclasses provide ``fit``, the prior (:meth:`_draw_prior`), the number of
    latents and codes, and set ``net_`` (a fitted skorch net whose ``module_``
    is the generator/decoder) and ``_encode_batch``.
    """

    def _fit_context(self, X):
        """Validate training images and set the input-dependent fitted attributes."""
        X = validate_images(X)
        self.image_shape_ = X.shape[1:]
        self.n_features_in_ = int(np.prod(self.image_shape_))
        self.input_scale_ = uint8_scale(X)
        self.device_ = resolve_device(self.device)
        return X

    def _to_float(self, batch):
        return to_float(batch, self.device_, self.input_scale_)

    def transform(self, X):
        """Encode images to their latent codes.

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            bool, uint8 or float in [0, 1], with the image shape seen at fit.

        Returns
        -------
        codes : ndarray of shape (n, n_codes), dtype float32
            Deterministic code estimates (InfoGAN-CR: Q's means; VAE: posterior means).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            Images of another shape than at fit, or invalid pixel values.
        """
        check_is_fitted(self, "net_")
        X = validate_images(X, self.image_shape_)
        codes = _map_batches(lambda batch: self._encode_batch(self._to_float(batch)), X)
        return codes.astype(np.float32, copy=False)

    def sample_latent(self, n_samples, random_state=None):
        """Draw latent vectors from the prior.

        Parameters
        ----------
        n_samples : int
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        latents : ndarray of shape (n_samples, n_latent), dtype float32
            The first ``n_codes`` columns are the codes ``c``, the rest the noise ``z``.
        """
        check_is_fitted(self, "net_")
        return self._draw_prior(check_random_state(random_state), n_samples).astype(np.float32)

    def generate(self, latents):
        """Render latent vectors with the generator (decoder), in batches.

        Parameters
        ----------
        latents : array-like of shape (n, n_latent)

        Returns
        -------
        images : ndarray of shape (n, C, H, W), dtype float32, values in [0, 1]

        Raises
        ------
        ValueError
            If ``latents`` is not 2-D with ``n_latent`` columns or is not finite.
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
            return np.empty((0, *self.image_shape_), np.float32)
        return _map_batches(lambda batch: self._decode_batch(batch.to(self.device_)), latents)

    def _decode_batch(self, latents):
        return self.net_.module_.eval()(latents)

    def sample(self, n_samples, random_state=None):
        """Generate images from latents drawn from the prior.

        Parameters
        ----------
        n_samples : int
        random_state : int, RandomState instance or None, default=None

        Returns
        -------
        images : ndarray of shape (n_samples, C, H, W), dtype float32, values in [0, 1]
        """
        return self.generate(self.sample_latent(n_samples, random_state))

    def get_feature_names_out(self, input_features=None):
        """Names of the code columns: ``code0``, ``code1``, ...

        Returns
        -------
        names : ndarray of str, shape (n_codes,)
        """
        check_is_fitted(self, "net_")
        return np.asarray([f"code{k}" for k in range(self.n_codes_)], dtype=object)

    def _train(self, net, X, n_codes, n_latent):
        """Fit the skorch engine ``net`` on ``X`` and set the fitted attributes; return self."""
        self.net_ = net.fit(X)
        self.n_codes_, self.n_latent_ = n_codes, n_latent
        self.history_ = net.history
        self.n_iter_ = net.n_iter_
        return self

    def _fit_seeds(self):
        """Two 31-bit seeds from ``random_state``: the net's (weights, noise) and the batches'."""
        rng = np.random.RandomState(seed_from(self.random_state))
        return seed_from(rng), seed_from(rng)

    def _engine_params(self, n_samples, batch_seed, loss_names, callbacks=()):
        """Keyword arguments of the skorch engine shared by all estimators.

        ``max_iter`` batches drawn by :class:`BatchIterator` (no validation
        split), the estimator's ``batch_size``, ``device_`` and ``verbose``;
        callbacks: the given ones, then :func:`training_callbacks`, then the
        user's ``callbacks`` parameter when the estimator has one.

        Parameters
        ----------
        n_samples : int
            Number of training images.
        batch_seed : int
            Seed of the batch order.
        loss_names : list of str
            Batch-level history keys averaged per pass.
        callbacks : sequence of (name, Callback), default=()
        """
        return {
            "batch_size": self.batch_size,
            "max_epochs": BatchIterator.n_passes(n_samples, self.batch_size, self.max_iter),
            "train_split": None,
            "iterator_train": BatchIterator,
            "iterator_train__n_iter": self.max_iter,
            "iterator_train__seed": batch_seed,
            "callbacks": [
                *callbacks,
                *training_callbacks(
                    self.verbose, BatchIterator.batches_per_pass(n_samples, self.batch_size),
                    loss_names, self.max_iter,
                ),
                *(getattr(self, "callbacks", None) or []),
            ],
            "device": self.device_,
            "verbose": self.verbose,
        }
