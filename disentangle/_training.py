"""Deprecated: the training engine moved to :mod:`disentangle._engine` and
:mod:`disentangle._checkpoint`, the GAN monitors to :mod:`disentangle.infogan_cr`.

Every name this module defined is still found here, with a ``FutureWarning``
naming its new home; this alias goes in a later release.
"""

import importlib
import warnings

_MOVED = {
    **dict.fromkeys(
        ["TrainingWarning", "resolve_device", "seed_from", "torch_seed", "generator_state",
         "restore_generator", "to_float", "to_tensor", "BatchIterator", "training_callbacks",
         "log_interval", "IterationLog",
         "FiniteLosses", "StretchMonitor", "GracefulInterrupt", "TrainingNet"],
        "disentangle._engine"),
    **dict.fromkeys(
        ["CHECKPOINT_FILE", "CHECKPOINT_FORMAT", "make_snapshot", "save_checkpoint",
         "load_checkpoint", "TrainingCheckpoint", "param_fingerprint", "check_snapshot"],
        "disentangle._checkpoint"),
    **dict.fromkeys(["sample_diversity", "DiscriminatorDominance", "SampleCollapse"],
                    "disentangle.infogan_cr"),
}


def __getattr__(name):
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(f"disentangle._training.{name} moved to {_MOVED[name]}.{name}; "
                  "disentangle._training goes in a later release.", FutureWarning, stacklevel=2)
    return getattr(importlib.import_module(_MOVED[name]), name)


def __dir__():
    return sorted(_MOVED)
