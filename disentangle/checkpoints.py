"""Reading the training checkpoints that the estimators write.

An estimator with a ``checkpoint_dir`` saves its whole training state there
in one file, :data:`CHECKPOINT_FILE` (the modules, optimiser states, random
generators, batch position, schedule counters and history), from which
``fit`` with ``warm_start=True`` continues exactly. :func:`load_checkpoint`
reads it without running code (``torch.load(weights_only=True)``), e.g. to
see how many iterations a run has trained
(``load_checkpoint(path, "cpu")["net"]["counters"]["n_iter"]``) or to copy
its weights.
"""

from disentangle._checkpoint import CHECKPOINT_FILE, load_checkpoint

__all__ = ["CHECKPOINT_FILE", "load_checkpoint"]
