"""Checkpoints: snapshot, save, load, check, and the state a warm start resumes from.

A checkpoint is the fit's record (package version, estimator, training
parameters, a signature of the data, the seeds) and the net's whole training
state (:meth:`~disentangle._engine.TrainingNet.training_state`): modules,
optimisers, random generators, batch position, counters and history. A fit
with ``warm_start=True`` continues from the previous fit or from the
checkpoint bit for bit (:func:`resume_snapshot`).
"""

import copy
import os
import re
import warnings
from pathlib import Path

import torch
from skorch.callbacks import Callback

from disentangle import __version__
from disentangle._engine import TrainingWarning
from disentangle._validation import data_signature
from disentangle._warnings import user_frame
from disentangle.exceptions import InconsistentVersionWarning

#: File name of the training checkpoint inside ``checkpoint_dir``.
CHECKPOINT_FILE = "checkpoint.pt"
#: Version of the checkpoint layout (bumped when it changes).
CHECKPOINT_FORMAT = 1


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

    Parameters
    ----------
    path : str or path-like
        The checkpoint file, ``<checkpoint_dir>/checkpoint.pt``.
    device : str or torch.device
        Where its tensors are loaded (``"cpu"`` to read it anywhere).

    Returns
    -------
    checkpoint : dict
        The saved training state; ``checkpoint["net"]["counters"]["n_iter"]``
        is the iterations trained.

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


def param_fingerprint(value):
    """A parameter as a string that is the same in every session.

    Lists read as tuples; a class or function by its qualified name (its
    ``repr`` holds a memory address); memory addresses inside other
    ``repr`` (a ``functools.partial`` of a function) are left out, so that a
    checkpoint resumes in another session.
    """
    if isinstance(value, list):
        value = tuple(value)
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{value.__module__}.{value.__qualname__}"
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def check_snapshot(snapshot, record, source):
    """Check that a snapshot continues the fit described by ``record``.

    Raises
    ------
    ValueError
        Another checkpoint format, estimator, parameters or data.

    Warns
    -----
    InconsistentVersionWarning
        Another package version with the same checkpoint format: it resumes.
    """
    if snapshot.get("format") != record["format"]:
        raise ValueError(
            f"{source} was written by disentangle {snapshot.get('version')} in checkpoint format "
            f"{snapshot.get('format')}; this is disentangle {record['version']}, which reads "
            f"format {record['format']}: it cannot resume."
        )
    if snapshot.get("version") != record["version"]:
        warnings.warn(InconsistentVersionWarning(record["estimator"], snapshot.get("version"),
                                                 record["version"], "training state"),
                      **user_frame())
    if snapshot["estimator"] != record["estimator"]:
        raise ValueError(
            f"{source} belongs to a {snapshot['estimator']}, not to this {record['estimator']}."
        )
    changed = [f"{name}={saved} (now {record['params'][name]})"
               for name, saved in snapshot["params"].items()
               if name in record["params"] and record["params"][name] != saved]
    if changed:
        raise ValueError(
            f"{source} was fitted with other parameters: {', '.join(changed)}. warm_start "
            "continues that fit: set them back, or fit afresh (warm_start=False)."
        )
    if snapshot["data"] != record["data"]:
        raise ValueError(
            f"{source} was fitted on other data: "
            f"{_data_difference(snapshot['data'], record['data'])}. warm_start continues a fit "
            "on the same data: pass it, or fit afresh (warm_start=False)."
        )


def _data_difference(saved, given):
    """How two data signatures (:func:`~disentangle._validation.data_signature`) differ."""
    described = [f"shape {tuple(s['shape'])}, dtype {s['dtype']}" for s in (saved, given)]
    if described[0] != described[1]:
        return f"{described[0]} then, {described[1]} now"
    return (f"the same shape {tuple(given['shape'])} and dtype {given['dtype']}, but other "
            "values (the digest of 64 evenly spaced samples differs)")


def fit_record(estimator, X):
    """What identifies a fit: package version, estimator, training parameters, data.

    Parameters
    ----------
    estimator : GenerativeEstimator
        Its ``_resumable_params`` are left out: they may change between a
        fit and its continuation.
    X : ndarray
    """
    params = {name: param_fingerprint(value)
              for name, value in estimator.get_params(deep=False).items()
              if name not in estimator._resumable_params}
    return {"format": CHECKPOINT_FORMAT, "version": __version__,
            "estimator": type(estimator).__name__, "params": params, "data": data_signature(X)}


def checkpoint_path(checkpoint_dir):
    """The checkpoint file in ``checkpoint_dir``; None without one."""
    return None if checkpoint_dir is None else Path(checkpoint_dir) / CHECKPOINT_FILE


def resume_snapshot(estimator, record):
    """The state ``warm_start`` continues: the previous fit's, else the checkpoint's.

    The previous fit's state comes first, unless it was interrupted inside
    an iteration and a checkpoint exists. Returns None for a fresh fit.

    Raises
    ------
    ValueError
        The state belongs to another version, estimator, parameters or data.
    """
    if not estimator.warm_start:
        return None
    path = checkpoint_path(estimator.checkpoint_dir)
    net = estimator.__dict__.get("net_")
    if net is not None and not (net.step_open_ and path is not None and path.exists()):
        snapshot, source = copy.deepcopy(make_snapshot(estimator._record, net)), "The fit"
        if net.step_open_:
            warnings.warn(
                "The previous fit was interrupted inside an iteration: continuing from it "
                "is not bit-for-bit reproducible (a checkpoint_dir would make it so).",
                TrainingWarning, **user_frame(),
            )
    elif path is not None and path.exists():
        source = f"The checkpoint {path}"
        snapshot = load_checkpoint(path, estimator.device_)
    else:
        return None
    check_snapshot(snapshot, record, source)
    return snapshot
