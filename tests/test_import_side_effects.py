"""Importing the package leaves the user's environment alone: the matplotlib backend, pyplot,
warnings filters, torch and NumPy settings, environment variables, logging (issue 14, item 3)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from disentangle.plotting import plot_traversals

MODULES = ["disentangle", "disentangle.plotting", "disentangle.cli", "disentangle.datasets",
           "disentangle.devices", "disentangle.checkpoints",
           "disentangle.metrics", "disentangle.selection", "disentangle.vae",
           "disentangle.infogan_cr", "disentangle.networks"]

#: Prints the global state that a library could change at import, before and after importing
#: every module of the package (its dependencies are imported first: their own side effects,
#: such as scikit-learn's KMP_* variables, are not the package's).
PROBE = """
import json, logging, os, signal, sys, warnings
import matplotlib, numpy as np, scipy.stats, skorch, sklearn, torch

def state():
    return {
        "backend": matplotlib.rcParams._get_backend_or_none(),
        # dict's own lookup: rcParams["backend"] would resolve the backend itself
        "rcParams": {k: repr(dict.__getitem__(matplotlib.rcParams, k))
                     for k in matplotlib.rcParams},
        "pyplot imported": "matplotlib.pyplot" in sys.modules,
        "warnings filters": [repr(f) for f in warnings.filters],
        "environment": dict(os.environ),
        "root logger": [logging.root.level, [repr(h) for h in logging.root.handlers]],
        "numpy errors": np.geterr(), "numpy print": repr(np.get_printoptions()),
        "numpy random": np.random.get_state()[1].tolist(),
        "torch random": torch.get_rng_state().tolist(),
        "torch": [torch.get_num_threads(), str(torch.get_default_dtype()),
                  torch.are_deterministic_algorithms_enabled(), torch.is_grad_enabled(),
                  torch.get_float32_matmul_precision(), torch.backends.cudnn.benchmark],
        "SIGINT handler": repr(signal.getsignal(signal.SIGINT)),
    }

before = state()
for name in sys.argv[1:]:
    __import__(name)
after = state()
print(json.dumps({"changed": {k: [before[k], after[k]] for k in before if before[k] != after[k]},
                  "backend": matplotlib.get_backend()}))
"""


def _import_in_subprocess(env=None):
    result = subprocess.run([sys.executable, "-c", PROBE, *MODULES], capture_output=True,
                            text=True, check=True, env={**os.environ, **(env or {})})
    return json.loads(result.stdout)


@pytest.mark.parametrize("backend", ["svg", "pdf"])
def test_importing_the_package_keeps_the_backend_chosen_with_MPLBACKEND(backend):
    assert _import_in_subprocess({"MPLBACKEND": backend})["backend"] == backend


def test_importing_the_package_changes_no_global_state():
    changed = _import_in_subprocess()["changed"]
    assert changed == {}, f"importing disentangle changed: {sorted(changed)}"


def test_plots_are_figures_that_pyplot_does_not_manage(tmp_path):
    plt = pytest.importorskip("matplotlib.pyplot")

    class Fitted:  # a fitted generative estimator with 2 codes over 8x8 images
        n_codes_, traversal_range = 2, (-1.0, 1.0)

        def sample_latent(self, n, random_state=None):
            return np.zeros((n, 3), np.float32)

        def generate(self, latents):
            return np.broadcast_to((latents[:, :1, None, None] + 1) / 2, (len(latents), 1, 8, 8))

    open_before = plt.get_fignums()
    fig = plot_traversals(Fitted(), n_steps=3, path=tmp_path / "t.png")
    assert fig.canvas.manager is None and plt.get_fignums() == open_before
    assert len(fig.axes) == 6 and fig.get_size_inches().tolist() == pytest.approx([2.4, 2.0])
    assert (tmp_path / "t.png").read_bytes()[:4] == b"\x89PNG"
    # Given a pyplot figure, the picture goes there (to be shown).
    shown = plt.figure()
    try:
        assert plot_traversals(Fitted(), n_steps=3, fig=shown) is shown and len(shown.axes) == 6
    finally:
        plt.close(shown)
