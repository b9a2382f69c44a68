"""Pictures: latent traversals of a fitted generative estimator, similarity heatmaps.

The functions draw into a :class:`matplotlib.figure.Figure` and never touch
pyplot or the backend: importing this module leaves the user's backend (a
notebook's inline one, ``MPLBACKEND``, ``matplotlib.use``) as it was. By
default each function returns a new figure that pyplot does not manage: it
saves with ``savefig`` (any backend, no display needed) and shows as a
notebook cell's value. To show it in a window or in a gallery that collects
pyplot's figures, pass one made by pyplot, ``fig=plt.figure()``.
"""

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted


def traversal_grid(estimator, n_steps=10, random_state=0):
    """Images of one latent traversal per code.

    Starting from one latent drawn from the prior, code ``k`` is swept over
    ``estimator.traversal_range`` (the prior's support: [-1, 1] for
    InfoGAN-CR's uniform codes) while every other latent stays fixed, as in
    the paper's Fig. 1.

    Parameters
    ----------
    estimator : fitted generative estimator
        With ``sample_latent``, ``generate``, ``n_codes_`` and ``traversal_range``.
    n_steps : int, default=10
        Values per code.
    random_state : int, RandomState instance or None, default=0
        Draws the base latent.

    Returns
    -------
    images : ndarray of shape (n_codes, n_steps, C, H, W), dtype float32, in [0, 1]
    """
    return _traversals(estimator, estimator.sample_latent(1, random_state=random_state), n_steps)[0]


def _traversals(estimator, bases, n_steps):
    """Images of shape (n_bases, n_codes, n_steps, C, H, W): every code swept from each base."""
    n_codes = estimator.n_codes_
    values = np.linspace(*estimator.traversal_range, n_steps, dtype=np.float32)
    latents = np.repeat(bases[:, None, None], n_codes, axis=1).repeat(n_steps, axis=2)
    for k in range(n_codes):
        latents[:, k, :, k] = values
    images = estimator.generate(latents.reshape(-1, bases.shape[1]))
    return images.reshape(len(bases), n_codes, n_steps, *images.shape[1:])


def traversal_effects(estimator, n_steps=10, n_bases=32, random_state=0):
    """How much each code changes the generated images, against unrelated samples.

    For each of ``n_bases`` latents drawn from the prior, code ``k`` is swept
    as in :func:`traversal_grid`; its effect is the per-pixel standard
    deviation of the images along the sweep, averaged over pixels and bases.
    The reference is the same statistic over ``n_bases * n_steps`` independent
    draws from the prior (every code and the noise ``z`` varying). A code
    whose ratio is near 0 changes nothing in the picture (a *dead* code: its
    row of :func:`plot_traversals` repeats one image); one that alone moves
    the images about as much as a fresh sample reaches 1 or more. This
    measures the pictures a traversal shows, not disentanglement: a code may
    be live and still entangled.

    Parameters
    ----------
    estimator : fitted generative estimator
        With ``sample_latent``, ``generate``, ``n_codes_`` and ``traversal_range``.
    n_steps : int, default=10
        Values per code, from ``traversal_range[0]`` to ``traversal_range[1]``.
    n_bases : int, default=32
        Base latents averaged over.
    random_state : int, RandomState instance or None, default=0
        Draws the base latents and the reference sample.

    Returns
    -------
    effects : ndarray of shape (n_codes,), dtype float64, >= 0
        Each code's mean per-pixel standard deviation along its sweep divided by
        that of the reference sample (0 where the reference itself is constant).
    """
    rng = check_random_state(random_state)
    bases = estimator.sample_latent(n_bases, random_state=rng)
    sweeps = _traversals(estimator, bases, n_steps).astype(np.float64)
    spread = sweeps.std(axis=2)  # (n_bases, n_codes, *image shape)
    effect = spread.mean(axis=tuple(axis for axis in range(spread.ndim) if axis != 1))
    reference = estimator.generate(estimator.sample_latent(n_bases * n_steps, random_state=rng))
    scale = reference.astype(np.float64).std(axis=0).mean()
    return effect / scale if scale > 0 else np.zeros_like(effect)


def _figure(fig, size, **kwargs):
    """``fig`` if given (drawn into as it is), else a new Figure of ``size`` inches."""
    return Figure(figsize=size, **kwargs) if fig is None else fig


def plot_traversals(estimator, n_steps=10, random_state=0, path=None, fig=None):
    """Plot latent traversals: one row per code, ``n_steps`` columns.

    Parameters
    ----------
    estimator : fitted generative estimator
    n_steps : int, default=10
    random_state : int, RandomState instance or None, default=0
    path : str or path-like, optional
        Where to save the figure (PNG by the suffix).
    fig : matplotlib.figure.Figure, optional
        An empty figure to draw into, e.g. ``plt.figure(figsize=(8, 4.4))``
        to show it with pyplot. Default: a new figure of
        ``0.8 * n_steps`` by ``0.8 * n_codes + 0.4`` inches that pyplot does
        not manage (see the module's description).

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    grid = traversal_grid(estimator, n_steps, random_state)
    n_codes = grid.shape[0]
    fig = _figure(fig, (n_steps * 0.8, n_codes * 0.8 + 0.4))
    axes = fig.subplots(n_codes, n_steps, squeeze=False)
    for k in range(n_codes):
        for j in range(n_steps):
            ax = axes[k, j]
            image = grid[k, j]
            ax.imshow(image[0] if image.shape[0] == 1 else image.transpose(1, 2, 0),
                      cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[k, 0].set_ylabel(f"code{k}", rotation=0, ha="right", va="center")
    low, high = estimator.traversal_range
    fig.suptitle(f"Latent traversals: each row sweeps one code from {low:g} to {high:g}")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def candidate_labels(params_list):
    """Short labels of candidates: only the parameters that differ between them.

    Parameters
    ----------
    params_list : list of dict

    Returns
    -------
    labels : list of str
        ``"i: name=value, ..."``; just ``"i"`` when every candidate has the same parameters.
    """
    names = sorted({name for params in params_list for name in params})
    varying = [n for n in names
               if len({repr(params.get(n)) for params in params_list}) > 1]
    return [
        f"{i}: " + ", ".join(f"{n}={_short(params[n])}" for n in varying if n in params)
        if varying else str(i)
        for i, params in enumerate(params_list)
    ]


def _short(value):
    """A parameter value for a label: floats with 3 significant digits."""
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def plot_similarity_matrix(selector, path=None, fig=None):
    """Heatmap of a fitted selector's similarity matrix, with the medoid marked.

    Entry ``(i, j)`` is ``selector.similarity_matrix_[i, j]`` (for
    ModelCentrality the symmetrised FactorVAE score of model ``i``'s encoder
    on model ``j``'s data and the reverse, in [0, 1]); failed candidates (NaN)
    are grey. The medoid's row and column are outlined and its label is bold.

    Parameters
    ----------
    selector : fitted ModelCentralitySelector
        Uses ``similarity_matrix_``, ``best_index_``, ``cv_results_`` and ``similarity``.
    path : str or path-like, optional
        Where to save the figure (format by the suffix).
    fig : matplotlib.figure.Figure, optional
        An empty figure to draw into, e.g. ``plt.figure(layout="constrained")``
        to show it with pyplot. Default: a new figure with constrained layout,
        sized to the number of candidates and the length of their labels,
        that pyplot does not manage (see the module's description).

    Returns
    -------
    fig : matplotlib.figure.Figure

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the selector is not fitted.
    """
    check_is_fitted(selector, "similarity_matrix_")
    matrix = np.ma.masked_invalid(selector.similarity_matrix_)
    n, best = len(matrix), selector.best_index_
    labels = candidate_labels(selector.cv_results_["params"])
    side = 2.5 + 0.5 * n
    width = side + 1.5 + 0.07 * max(len(label) for label in labels)
    fig = _figure(fig, (width, side), layout="constrained")
    ax = fig.subplots()
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad="lightgrey")
    image = ax.imshow(matrix, cmap=cmap, vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, shrink=0.8, label=f"similarity ({selector.similarity})")
    if n <= 12:
        _annotate(ax, matrix)
    for span in (ax.axhspan, ax.axvspan):
        span(best - 0.5, best + 0.5, fill=False, edgecolor="red", linewidth=2)
    ax.set_xticks(range(n), [str(i) for i in range(n)], fontsize=8)
    ax.set_yticks(range(n), labels, fontsize=8)
    for tick in (ax.get_xticklabels()[best], ax.get_yticklabels()[best]):
        tick.set_fontweight("bold")
        tick.set_color("red")
    ax.set_xlabel("candidate")
    ax.set_title(f"Similarity of {n} models\nmedoid (red): candidate {best}", fontsize=10)
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def _annotate(ax, matrix):
    """Write each entry's value in its cell (white on dark cells)."""
    for (i, j), value in np.ndenumerate(matrix.filled(np.nan)):
        if np.isfinite(value):
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if value < 0.5 else "black")
