"""Progress bars of long computations (tqdm, as skorch's ``ProgressBar``).

One rule for every bar of the package (training, the selector's fits and
similarities, the FactorVAE score): it shows with ``verbose >= 1`` on a
terminal or in a notebook, on stderr, with an ETA, and it disappears when
done (``leave=False``). On a log file or a pipe it stays silent, where its
carriage returns would only be noise; the text lines of ``verbose=1`` remain.
"""

import sys

from tqdm import tqdm


def renders_progress_bar():
    """Whether a progress bar shows as one (stderr is a terminal, or a Jupyter notebook
    runs the code), not as a stream of carriage returns in a log file."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty()) or _in_notebook()


def _in_notebook():
    """skorch's ``ProgressBar.in_ipynb`` test: IPython's kernel shell is the notebook's."""
    try:
        return get_ipython().__class__.__name__ == "ZMQInteractiveShell"  # noqa: F821
    except NameError:
        return False


def progress_bar(total, desc, verbose, unit="it"):
    """A tqdm bar on stderr, disabled unless ``verbose >= 1`` and :func:`renders_progress_bar`.

    Parameters
    ----------
    total : int
        Steps to completion (the ETA is extrapolated from the steps done).
    desc : str
        Label at the bar's left.
    verbose : int
    unit : str, default="it"

    Returns
    -------
    bar : tqdm
        Use as a context manager; ``update(n)`` advances it. A disabled bar
        writes nothing.
    """
    return tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr,
                dynamic_ncols=True, disable=not (verbose and renders_progress_bar()))
