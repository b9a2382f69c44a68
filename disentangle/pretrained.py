"""Pretrained models: fitted estimators shipped inside the package, loaded by name offline.

disentanglement_lib's pretrained models can no longer be downloaded (its bucket
answers AccessDenied since March 2026), so the models here are the project's own: an
InfoGAN-CR that finished the paper's schedule (322,560 iterations on dSprites,
Lin et al., ICML 2020, section 5) on a GPU, run by ``benchmarks/gpu_run.sh``.
Each is one file in ``disentangle/pretrained_models/`` (an xz-compressed pickle of
the fitted estimator, its per-iteration history and optimiser moments dropped) whose
SHA-256 is recorded in :data:`MODELS`: :func:`load_pretrained` refuses a file that
does not match it, so only the bytes this package was released with are unpickled.

A model enters :data:`MODELS` when it finishes: ``benchmarks/reproduce.py`` writes
``<model>.pretrained.xz`` beside its compact checkpoint and prints the entry to add
(checksum, iterations, scores beside the paper's). None has finished yet, so
:data:`MODELS` is empty; ``disentangle demo`` shows one beside its own model once
there is one (``--pretrained``).
"""

import hashlib
import io
import lzma
import pickle
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from skorch.exceptions import DeviceWarning

#: Where the pretrained files are (package data).
FOLDER = Path(__file__).parent / "pretrained_models"


@dataclass(frozen=True)
class PretrainedModel:
    """One registered pretrained model.

    Attributes
    ----------
    file : str
        File name in :data:`FOLDER`.
    sha256 : str
        Hex SHA-256 of the file.
    dataset : str
        What it was trained on (``"dsprites"``: ``disentangle demo``'s ``--dataset``).
    iterations : int
        Training iterations done.
    scores : dict of str to float
        Its scores with the paper's protocol (FactorVAE score, DCI, SAP, MIG, β-VAE score).
    paper : dict of str to float
        The paper's numbers for the same row (Table 1).
    description : str
        How it was trained.
    """

    file: str
    sha256: str
    dataset: str
    iterations: int
    scores: dict = field(default_factory=dict)
    paper: dict = field(default_factory=dict)
    description: str = ""


#: The registered models, by name.
MODELS: dict[str, PretrainedModel] = {}


def list_pretrained(dataset=None):
    """Names of the registered pretrained models (of ``dataset`` only, if given), sorted."""
    return sorted(name for name, entry in MODELS.items()
                  if dataset is None or entry.dataset == dataset)


def load_pretrained(name):
    """The fitted estimator registered as ``name``, from the package's own files (no network).

    Parameters
    ----------
    name : str
        One of :func:`list_pretrained`.

    Returns
    -------
    estimator : InfoGANCR or VAE
        Fitted; on its training device where torch sees one, else on the CPU.

    Raises
    ------
    KeyError
        No model is registered under ``name`` (the message lists those that are).
    FileNotFoundError
        Its file is missing from :data:`FOLDER`.
    ValueError
        The file does not match its registered SHA-256 (corrupted or replaced): it is not
        unpickled.
    """
    if name not in MODELS:
        raise KeyError(f"no pretrained model {name!r}; registered: "
                       f"{', '.join(list_pretrained()) or 'none yet'}.")
    entry = MODELS[name]
    path = FOLDER / entry.file
    if not path.exists():
        raise FileNotFoundError(f"{path}: the file of pretrained model {name!r} is missing "
                                "(reinstall the package).")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != entry.sha256:
        raise ValueError(f"{path} has SHA-256 {digest}, not the registered {entry.sha256}: "
                         "corrupted or replaced, not loaded.")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeviceWarning)  # a GPU model on a CPU-only machine
        return pickle.loads(lzma.decompress(data))


def pack_pretrained(model, path):
    """Write a fitted estimator as a pretrained file; returns its hex SHA-256.

    The file is the pickled estimator without the per-iteration history (the last
    iteration of each pass stays), without its optimisers' moments (a ``warm_start``
    continuation of it restarts Adam's) and without checkpointing
    (``checkpoint_dir=None``, ``warm_start=False``), xz-compressed: about a third of the
    size of a pickle of ``model``, which itself is unchanged.

    Parameters
    ----------
    model : fitted InfoGANCR or VAE
    path : path-like
        The file to write (``<name>.pretrained.xz``).
    """
    buffer = io.BytesIO()
    pickle.dump(model, buffer, protocol=pickle.HIGHEST_PROTOCOL)
    copy = pickle.loads(buffer.getvalue())
    for row in copy.net_.history:
        row["batches"] = row["batches"][-1:]
    for name in copy.net_._optimizers:  # Adam's moments: training state, not the model
        getattr(copy.net_, name + "_").state.clear()
    copy.set_params(checkpoint_dir=None, warm_start=False)
    data = lzma.compress(pickle.dumps(copy, protocol=pickle.HIGHEST_PROTOCOL), preset=6)
    Path(path).write_bytes(data)
    return hashlib.sha256(data).hexdigest()
