"""Discrete views of codes and factors shared by the information-based metrics.

disentanglement_lib (``evaluation/metrics/utils.py``) discretises each code
dimension into ``num_bins = 20`` equal-width bins spanning its sample range
(``histogram_discretizer`` in the ``unsupervised_study_v1`` configs) and
measures mutual information in nats with ``sklearn.metrics.mutual_info_score``;
the InfoGAN-CR code (``*/gan/metric.py``) does the same against factor indices.
"""

import numpy as np

from disentangle.metrics._information import entropy_of_columns, mutual_info_table
from disentangle.metrics._sampling import is_discrete_size, samples_needed


def histogram_discretize(values, n_bins, edges=None):
    """Equal-width bin index of every column, shape as ``values``, int64.

    Column ``j`` is cut into ``n_bins`` bins spanning ``[min, max]`` of the
    column (numpy's ``histogram_bin_edges``); values go to bins ``1 ..
    n_bins`` by ``np.digitize`` against the left edges, the maximum into the
    last bin, as disentanglement_lib's ``_histogram_discretize``. A constant
    column falls into a single bin.

    Parameters
    ----------
    values : ndarray of shape (n, n_columns)
    n_bins : int
    edges : list of ndarray or None, default=None
        Left edges per column from an earlier call (to bin a test sample like
        its training sample); computed from ``values`` when None.

    Returns
    -------
    bins : ndarray of shape (n, n_columns), dtype int64
    edges : list of ndarray
        The left edges used, one array of ``n_bins`` floats per column.
    """
    values = np.asarray(values, dtype=np.float64)
    if edges is None:
        edges = [np.histogram_bin_edges(column, n_bins)[:-1] for column in values.T]
    bins = np.stack([np.digitize(column, left)
                     for column, left in zip(values.T, edges, strict=True)], axis=1)
    return bins.reshape(values.shape).astype(np.int64), edges


def factor_labels(factors, sizes, n_bins, edges=None):
    """Integer class labels of the given factor columns.

    Discrete factors (an integer size) keep their values. Continuous factors
    (size ``None`` or ``inf``, e.g. the codes of a generative model) are
    histogram-discretised like the codes, into ``n_bins`` bins; this is an
    extension, the references only handle discrete factors.

    Parameters
    ----------
    factors : ndarray of shape (n, n_selected)
    sizes : sequence of n_selected sizes
    n_bins : int
    edges : dict or None, default=None
        Edges of the continuous columns from an earlier call (``{column:
        left_edges}``), so a test sample is binned like its training sample.

    Returns
    -------
    labels : ndarray of shape (n, n_selected), dtype int64
    edges : dict of int to ndarray
    """
    labels = np.empty(factors.shape, dtype=np.int64)
    edges = {} if edges is None else edges
    for j, size in enumerate(sizes):
        column = factors[:, j]
        if is_discrete_size(size):  # indices, checked by check_indices
            labels[:, j] = np.asarray(column).astype(np.int64)
            continue
        given = [edges[j]] if j in edges else None
        binned, used = histogram_discretize(column[:, None], n_bins, given)
        labels[:, j], edges[j] = binned[:, 0], used[0]
    return labels, edges


def factor_names(dataset, factors):
    """Names of the given factor indices (``factor_names``, else ``"factor k"``)."""
    names = tuple(getattr(dataset, "factor_names", ()) or ())
    return [names[k] if k < len(names) else f"factor {k}" for k in factors]


def eligible_labels(dataset, factors, eligible, n_bins, *, need_all, what, parameter,
                    edges=None):
    """Class labels of the eligible factor columns, checked for indices and coverage.

    Parameters
    ----------
    dataset : GroundTruthDataset
    factors : ndarray of shape (n, n_factors)
    eligible : ndarray of int
    n_bins : int
        Bins of continuous factors (see :func:`factor_labels`).
    need_all, what, parameter
        See :func:`check_coverage`; ``need_all=None`` skips the coverage check
        (test samples, which may miss values) but not :func:`check_indices`.
    edges : dict or None
        See :func:`factor_labels`.

    Returns
    -------
    labels : ndarray of shape (n, n_eligible), dtype int64
    edges : dict
    """
    sizes = [dataset.factor_sizes[k] for k in eligible]
    values, names = factors[:, eligible], factor_names(dataset, eligible)
    if need_all is None:
        check_indices(values, sizes, names)
    else:
        check_coverage(values, sizes, names, need_all=need_all, what=what, parameter=parameter)
    return factor_labels(values, sizes, n_bins, edges)


def check_indices(values, sizes, names):
    """Raise unless every discrete factor holds indices: integers in ``[0, size)``.

    A dataset whose ``sample_factors`` returns the factors' *values* (a
    scale of 0.5, 0.6, ...) under an integer size would otherwise be read
    as truncated indices, scoring a wrong value without a word.
    Integer-valued floats (``2.0``) are indices.

    Parameters
    ----------
    values : ndarray of shape (n, n_selected)
    sizes, names : sequences of n_selected entries

    Raises
    ------
    ValueError
        Naming the factor, its size and some of the values that are not
        indices, and saying how to pass them.
    """
    for j, (size, name) in enumerate(zip(sizes, names, strict=True)):
        if not is_discrete_size(size):
            continue
        column = np.asarray(values[:, j], dtype=np.float64)
        bad = np.unique(column[~((column == np.floor(column)) & (column >= 0) & (column < size))])
        if bad.size:
            shown = ", ".join(f"{value:.6g}" for value in bad[:4]) + (", ..." if bad.size > 4
                                                                      else "")
            raise ValueError(
                f"factor {name!r} is discrete with {size} values (its factor_sizes entry), so "
                f"it must hold their indices, integers 0..{size - 1}; got {shown}. Return "
                "indices from sample_factors (e.g. np.searchsorted(sorted_values, values)), "
                "or give the factor the size None to have it binned as continuous."
            )


def check_coverage(values, sizes, names, *, need_all, what, parameter):
    """Raise unless every factor holds indices (:func:`check_indices`) showing enough values.

    Parameters
    ----------
    values : ndarray of shape (n, n_selected)
        Factor indices (discrete factors) or values (continuous ones).
    sizes, names : sequences of n_selected entries
        The factors' sizes and names, for the message.
    need_all : bool
        True: every value of a discrete factor must appear (a classifier must
        see every class it is scored on). False: two distinct values suffice
        (mutual information and entropy are defined).
    what : str
        The sample, for the message (e.g. "the 300 training samples of the
        SAP score").
    parameter : str
        The parameter that sets its size.

    Raises
    ------
    ValueError
        A discrete factor that does not hold indices; or naming the factor and
        how many values appeared: with fewer samples than make every value (or
        two values) appear with probability 0.999 under uniform sampling, how
        many are needed; with more, the values the dataset never produced (a
        subset of the factor's values, or sampling far from uniform).
    """
    check_indices(values, sizes, names)
    for j, (size, name) in enumerate(zip(sizes, names, strict=True)):
        seen = np.unique(values[:, j])
        discrete = is_discrete_size(size)
        wanted = size if (need_all and discrete) else 2
        if seen.size >= wanted:
            continue
        count = f"takes {size} values" if discrete else "is continuous"
        raise ValueError(
            f"factor {name!r} {count} but only {seen.size} distinct value(s) appear among "
            f"{what}; {'every value' if wanted == size else 'at least two values'} must "
            f"appear. {_coverage_advice(seen, size, len(values), need_all, parameter)}"
        )


def _coverage_advice(seen, size, n, need_all, parameter):
    """What to do about a factor showing too few values among ``n`` samples."""
    needed = samples_needed(size, need_all) if is_discrete_size(size) else 2
    if n < needed:
        return (f"Use {parameter} >= {needed} (enough for that with probability 0.999 under "
                "uniform sampling).")
    missing = np.setdiff1d(np.arange(size), seen) if is_discrete_size(size) else []
    absent = (f"index {', '.join(map(str, missing[:8]))}{', ...' if len(missing) > 8 else ''} "
              "never appeared" if len(missing) else "its values never differed")
    return (f"With {n} samples that happens with probability below 0.001 under uniform "
            f"sampling, so more samples will not help: the dataset does not produce them "
            f"({absent}; a subset of the factor's values, or sampling far from uniform). Give "
            "factor_sizes that match the values it holds, relabelled 0..k-1 (size 1 leaves "
            "the factor out).")


def mutual_info_matrix(code_bins, labels):
    """Mutual information (nats) of every code with every factor.

    Parameters
    ----------
    code_bins : ndarray of shape (n, n_codes), int
    labels : ndarray of shape (n, n_factors), int

    Returns
    -------
    mi : ndarray of shape (n_codes, n_factors), dtype float64, ``>= 0``
        ``mutual_info_score(labels[:, k], code_bins[:, c])``, as
        disentanglement_lib's ``discrete_mutual_info``.
    """
    return mutual_info_table(code_bins, labels)


def entropies(labels):
    """Entropy (nats) of every column, shape (n_columns,), as ``discrete_entropy``."""
    return entropy_of_columns(labels)


def one_minus_entropy(weights, axis):
    """``1 - H(p) / log(m)`` of the distributions along ``axis``.

    ``p`` is ``weights + 1e-11`` normalised along ``axis`` and ``m`` its
    length, as disentanglement_lib's DCI (``scipy.stats.entropy(... + 1e-11,
    base=m)``): an all-zero slice is uniform and scores 0. A slice of length 1
    scores 1 (the references divide by ``log 1 = 0``).

    Parameters
    ----------
    weights : ndarray of shape (n_codes, n_factors), ``>= 0``
    axis : int
        1: one value per code (distribution over factors); 0: one per factor.

    Returns
    -------
    scores : ndarray, dtype float64, in ``[0, 1]``
    """
    length = weights.shape[axis]
    if length == 1:
        return np.ones(weights.shape[1 - axis])
    p = weights + 1e-11
    p = p / p.sum(axis=axis, keepdims=True)
    entropy = -np.sum(p * np.log(p), axis=axis) / np.log(length)
    return np.clip(1.0 - entropy, 0.0, 1.0)


def discretized_mutual_info(codes, labels, n_bins):
    """Mutual information of the histogram-discretised codes with the labels.

    Parameters
    ----------
    codes : ndarray of shape (n, n_codes)
    labels : ndarray of shape (n, n_factors), int
    n_bins : int

    Returns
    -------
    mi : ndarray of shape (n_codes, n_factors), dtype float64, nats
    """
    bins, _ = histogram_discretize(codes, n_bins)
    return mutual_info_matrix(bins, labels)
