"""The skorch training engine shared by the generative estimators.

:class:`TrainingNet` (one iteration is :meth:`TrainingNet.train_iteration`,
with skorch's ``on_grad_computed`` before each optimiser step), batches drawn
for a fixed number of iterations (:class:`BatchIterator`: a uint8 memmap in,
float batches on the device out), device and seeds, the history and progress
callbacks, the generic monitors and a Ctrl-C that stops cleanly at the end of
an iteration. Checkpoints and resumption are in :mod:`disentangle._checkpoint`;
the GAN monitors beside InfoGAN-CR (:mod:`disentangle.infogan_cr`).
"""

import contextlib
import contextvars
import json
import math
import signal
import threading
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from skorch import NeuralNet
from skorch.callbacks import Callback, PassthroughScoring, ProgressBar
from skorch.history import History
from tqdm import tqdm

from disentangle._fast_paths import FastPath
from disentangle._progress import renders_progress_bar
from disentangle._validation import check_batch
from disentangle._warnings import user_frame


class TrainingWarning(ConvergenceWarning):
    """Training went wrong in a way that does not stop it, or it was interrupted."""


# --- Device and seeds -------------------------------------------------------------------------


def resolve_device(device):
    """Map ``'auto'`` to ``'cuda'`` when available, else ``'cpu'``; return a torch.device.

    Raises
    ------
    ValueError
        Not a torch device name, or a CUDA device on a machine where torch sees none.
    """
    if isinstance(device, str) and device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"device={device!r} is not a torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device={str(device)!r} but torch finds no CUDA GPU here (torch "
            f"{torch.__version__}); use device='cpu' or 'auto'."
        )
    return device


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


# --- Batches ----------------------------------------------------------------------------------


def to_float(batch, device, scale):
    """Move one batch to ``device`` as float32 (uint8 pixels times ``scale``).

    The batch is checked first, on the CPU (:func:`~disentangle._validation.check_batch`):
    memory-mapped images are validated on a sample up front and batch by batch here.

    Raises
    ------
    ValueError
        Pixels outside the range their dtype and ``scale`` allow.
    """
    check_batch(batch, scale)
    batch = batch.to(device, non_blocking=True)
    if batch.dtype == torch.uint8 and scale != 1.0:
        return batch.float().mul_(scale)
    return batch.float()  # 0/1 pixels (scale 1) as they are: no pass to multiply by 1


def to_tensor(array):
    """A writable, contiguous CPU tensor copy of a (small) array: uint8 kept, tables as float32."""
    dtype = array.dtype if array.dtype in (np.uint8, np.float32) else np.float32
    return torch.from_numpy(np.array(array, dtype=dtype, copy=True, order="C"))


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
    pin_memory : bool, default=False
        Yield batches in page-locked memory, so that their copy to a CUDA
        device (``non_blocking``) runs asynchronously.
    """

    def __init__(self, X, batch_size, n_iter, seed, dtype=None, pin_memory=False):
        self.X = X
        self.pin_memory = pin_memory
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
            batch = torch.from_numpy(np.ascontiguousarray(batch))
            yield batch.pin_memory() if self.pin_memory else batch

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
        0 silences everything; 1 prints an :class:`IterationLog` (a row every
        :func:`log_interval` iterations) and, on a terminal or in a notebook,
        a progress bar.
    batches_per_pass : int
    loss_names : list of str
        Batch-level history keys to average per pass and to log (besides ``train_loss``).
    n_iter : int, optional
        Total iterations: the log's interval, and the progress bar's length
        when fewer than one pass.
    """
    callbacks = [(name, PassthroughScoring(name=name, on_train=True)) for name in loss_names]
    if verbose:
        total = batches_per_pass if n_iter is None else min(batches_per_pass, n_iter)
        callbacks.append(("print_log", IterationLog(["train_loss", *loss_names],
                                                    log_interval(n_iter or total))))
        if renders_progress_bar():
            callbacks.append(("progress_bar", ProgressBar(batches_per_epoch=total)))
    return callbacks


def log_interval(n_iter):
    """Iterations between two rows of the training log: about 1/20 of ``n_iter``, rounded up
    to 1, 2 or 5 times a power of ten (500 for 7,000 iterations, 20,000 for 322,560)."""
    target = max(n_iter / 20, 1)
    power = 10 ** math.floor(math.log10(target))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= target)


class IterationLog(Callback):
    """Print a table of the training values: one row every ``every`` iterations.

    Each row shows the iteration reached, the mean of every key over the
    iterations since the previous row (blank where a key was not recorded,
    such as ``cr_accuracy`` before H trains), and ``dur``, the seconds those
    iterations took; a last row when training ends between two. Plain text
    (no colour codes), written with ``tqdm.write`` so that a progress bar
    stays intact. It replaces skorch's ``PrintLog``, whose one row per pass
    over the data can take hours on dSprites (11,520 iterations).

    Parameters
    ----------
    keys : list of str
        Batch-level history keys, in column order.
    every : int
    """

    def __init__(self, keys, every):
        self.keys = keys
        self.every = every

    def initialize(self):
        self.header_printed_ = False
        self._sums, self._counts = {}, {}  # of each key since the last row
        return self

    def on_train_begin(self, net, **kwargs):
        self._last_row, self._start = net.n_iter_, time.perf_counter()

    def on_batch_end(self, net, **kwargs):
        row = _last_batch(net)
        for key in self.keys:
            if isinstance(row.get(key), (int, float)):
                self._sums[key] = self._sums.get(key, 0.0) + row[key]
                self._counts[key] = self._counts.get(key, 0) + 1
        if net.n_iter_ % self.every == 0:
            self._print_row(net.n_iter_)

    def on_train_end(self, net, **kwargs):
        if net.n_iter_ > self._last_row:
            self._print_row(net.n_iter_)

    def _print_row(self, iteration):
        widths = [max(len(key), 10) for key in ("iteration", *self.keys, "dur")]
        if not self.header_printed_:
            tqdm.write(_columns(("iteration", *self.keys, "dur"), widths))
            tqdm.write(_columns(["-" * width for width in widths], widths))
            self.header_printed_ = True
        means = [f"{self._sums[key] / self._counts[key]:.4f}" if self._counts.get(key) else ""
                 for key in self.keys]
        seconds = time.perf_counter() - self._start
        tqdm.write(_columns((str(iteration), *means, f"{seconds:.1f}"), widths))
        self._sums, self._counts = {}, {}
        self._last_row, self._start = iteration, time.perf_counter()


def _columns(cells, widths):
    return "  ".join(cell.rjust(width) for cell, width in zip(cells, widths, strict=True))


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
                TrainingWarning, **user_frame(),
            )


#: True inside :func:`interrupts_propagate`: a fit stopped by Ctrl-C then raises.
_PROPAGATE_INTERRUPTS = contextvars.ContextVar("propagate_interrupts", default=False)


@contextlib.contextmanager
def interrupts_propagate():
    """Inside the block, a fit stopped by Ctrl-C raises ``KeyboardInterrupt`` to its caller.

    Alone, a fit stopped by Ctrl-C returns the estimator trained so far (as
    skorch does: fit again with ``warm_start=True`` to continue). A search
    (:class:`~disentangle.ModelCentralitySelector`) fits its candidates inside
    this block, so that one Ctrl-C stops the whole search, as in
    scikit-learn's searches, after the candidate's last checkpoint is written.
    """
    token = _PROPAGATE_INTERRUPTS.set(True)
    try:
        yield
    finally:
        _PROPAGATE_INTERRUPTS.reset(token)


class GracefulInterrupt(Callback):
    """Ctrl-C during training stops at the end of the current iteration.

    Used as a context manager around the training loop, it replaces the
    SIGINT handler (in the main thread only): the first Ctrl-C is recorded
    and raised as ``KeyboardInterrupt`` at the end of the iteration, where
    skorch catches it and ends training (``on_train_end``: a last checkpoint);
    a second Ctrl-C interrupts at once. Leaving the block after a Ctrl-C
    raises ``KeyboardInterrupt`` again when ``reraise`` is True or inside
    :func:`interrupts_propagate`; otherwise the fit returns.

    Parameters
    ----------
    reraise : bool, default=False
        A throwaway fit (the ``max_time`` probe), which has nothing worth
        keeping: Ctrl-C ends it at once, through skorch's ``partial_fit``
        (which would catch a ``KeyboardInterrupt``), and the block raises
        ``KeyboardInterrupt``.
    """

    def __init__(self, reraise=False):
        self.reraise = reraise
        self.requested_ = False
        self._previous = None

    def __enter__(self):
        self.requested_ = False
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._request)
        return self

    def __exit__(self, exc_type, *exc_info):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
        if exc_type is _Interrupted or (exc_type is None and self.requested_
                                        and _PROPAGATE_INTERRUPTS.get()):
            raise KeyboardInterrupt from None
        return False

    def _stop(self):
        raise _Interrupted if self.reraise else KeyboardInterrupt

    def _request(self, signum, frame):
        if self.requested_:
            self._stop()
        self.requested_ = True

    def on_batch_end(self, net, **kwargs):
        if self.requested_:
            self._stop()


class _Interrupted(BaseException):
    """Ctrl-C in a throwaway fit: not a ``KeyboardInterrupt``, which skorch would catch."""


# --- Training engine --------------------------------------------------------------------------


def _json_default(value):
    return value.item() if hasattr(value, "item") else str(value)


class TrainingNet(NeuralNet):
    """skorch engine with a ``config`` dict, extra modules and optimisers, a resumable state.

    Subclasses build their modules in ``initialize_module`` (``module`` is
    the factory of the main one: the generator or the decoder) and
    optimisers in ``initialize_optimizer``, and implement
    :meth:`train_iteration`; there is no skorch criterion (``criterion=None``).
    ``get_dataset`` passes the array through untouched: :class:`BatchIterator`
    indexes it itself. :meth:`training_state` / :meth:`load_training_state`
    capture everything that the next iteration depends on.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`.
    config : dict
        Everything the training step needs: the estimator's validated
        parameters (its ``get_params()``, read as they are, with no second
        dict of the same names) and the facts of the fit (``input_shape``,
        ``input_scale``, ``seed``, ...).

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
        self._batch = None
        self.fast_path_ = FastPath((), self.device)
        return super().initialize()

    def get_default_callbacks(self):
        # The log is an IterationLog (training_callbacks), not skorch's PrintLog with its one
        # row per pass over the data.
        return [item for item in super().get_default_callbacks() if item[0] != "print_log"]

    def initialize_criterion(self):
        """No criterion: the losses are computed in :meth:`train_iteration`."""
        self.criterion_ = None
        return self

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

    def set_length(self, n_iter, config):
        """Train to ``n_iter`` iterations in all from now on, with the ``config`` entries that
        depend on the length (a ``max_time`` re-plan during the fit)."""
        self.config.update(config)
        self._batch_iterator.n_iter = n_iter

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        super().on_batch_begin(net, batch=batch, training=training, **kwargs)
        self.step_open_ = True  # the iteration changes state (e.g. resets H) from here on

    def train_step(self, batch, **fit_params):
        self._batch = batch  # for on_grad_computed
        try:
            with self.fast_path_.iteration():
                loss, terms = self.train_iteration(batch)
        finally:
            self._batch = None
        self.n_iter_ += 1
        # One device-to-host copy for all the iteration's scalars (one sync on CUDA).
        values = torch.stack([loss.detach(), *terms.values()]).float().tolist()
        for name, value in zip(terms, values[1:], strict=True):
            self.history.record_batch(name, value)
        self.step_open_ = False
        return {"loss": torch.tensor(values[0]), "y_pred": None}

    def train_iteration(self, batch):
        """One training iteration; returns ``(loss, terms)``: scalar tensors, terms by name."""
        raise NotImplementedError

    def optimizer_step(self, optimizer, loss, modules):
        """Backward into the parameters of ``modules`` only, then skorch's
        ``on_grad_computed``, then one step of ``optimizer``.

        No other leaf gets a gradient. Callbacks that act on gradients
        (``GradientNormClipping``, gradient logging) see the named parameters
        of the modules being stepped, as skorch's own ``train_step`` gives them
        (the names prefixed with the module's attribute, e.g. ``"module_.fc.0.weight"``).

        Parameters
        ----------
        optimizer : torch.optim.Optimizer
        loss : Tensor, scalar
        modules : sequence of str
            skorch names of the modules whose parameters ``optimizer`` updates
            (``"module"``, ``"discriminator"``, ...), in the optimiser's order.
        """
        named = [(f"{name}_.{key}", parameter) for name in modules
                 for key, parameter in getattr(self, name + "_").named_parameters()]
        optimizer.zero_grad(set_to_none=True)
        loss.backward(inputs=[parameter for _, parameter in named])
        self.notify("on_grad_computed", named_parameters=named, batch=self._batch,
                    training=True)
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
                TrainingWarning, **user_frame(),
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
