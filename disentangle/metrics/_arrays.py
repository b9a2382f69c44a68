"""Checking and labelling the ``(factors, codes)`` arrays of the array-form metrics.

Every metric defined on i.i.d. samples has an array form ``metric(factors,
codes, ...)``: ``factors`` of shape (n, n_factors), ``codes`` of shape (n,
n_codes), row ``i`` of both from the same observation. The dataset forms draw
such a sample (training rows first, test rows last, as disentanglement_lib draws
them) and call the array form, so each metric has one implementation.
"""

import functools
import numbers

import numpy as np
from sklearn import config_context
from sklearn.utils import check_array, check_consistent_length

from disentangle.metrics._discrete import eligible_labels, histogram_discretize
from disentangle.metrics._sampling import is_discrete_size, sample_codes


def check_factors_codes(factors, codes, metric):
    """``factors`` and ``codes`` as 2-D float64 arrays with the same number of rows.

    A 1-D array is one column. Codes must be finite; factors must be finite
    numbers.

    Returns
    -------
    factors : ndarray of shape (n, n_factors), float64
    codes : ndarray of shape (n, n_codes), float64

    Raises
    ------
    ValueError
        Different numbers of rows, fewer than 2 rows, no column, NaN or
        infinite values (scikit-learn's ``check_array`` message, naming the
        metric's argument).
    """
    checked = []
    for name, values in (("factors", factors), ("codes", codes)):
        values = np.asarray(values)
        if values.ndim == 1:
            values = values[:, None]
        checked.append(check_array(values, dtype=np.float64, ensure_min_samples=2,
                                   input_name=f"{metric}: {name}"))
    check_consistent_length(*checked)
    return checked[0], checked[1]


def continuous_mask(continuous_factors, n_factors):
    """``continuous_factors`` (a bool, or one bool per factor) as a bool array (n_factors,).

    Raises
    ------
    ValueError
        If it is neither a bool nor ``n_factors`` bools.
    """
    mask = np.asarray(continuous_factors)
    if mask.ndim == 0:
        mask = np.full(n_factors, mask)
    if mask.shape != (n_factors,) or mask.dtype != bool:
        raise ValueError(
            f"continuous_factors must be a bool or {n_factors} bools (one per factor column); "
            f"got {continuous_factors!r}."
        )
    return mask


def n_test_rows(test_size, n, metric):
    """Number of test rows (the last ones) for ``test_size``; ``None`` stays ``None``.

    ``test_size`` is a count (int ``>= 1``) or a fraction in ``(0, 1)`` of the
    ``n`` rows, rounded to the nearest count; at least 2 rows stay for training.

    Raises
    ------
    ValueError
        If it leaves fewer than 2 training rows or no test row.
    """
    if test_size is None:
        return None
    if isinstance(test_size, numbers.Integral) and not isinstance(test_size, bool):
        count = int(test_size)
    elif isinstance(test_size, numbers.Real) and 0 < test_size < 1:
        count = round(test_size * n)
    else:
        raise ValueError(f"{metric}: test_size must be an int >= 1, a float in (0, 1) or "
                         f"None; got {test_size!r}.")
    if not 1 <= count <= n - 2:
        raise ValueError(f"{metric}: test_size={test_size!r} leaves {n - count} training and "
                         f"{count} test rows of {n}; both need rows (training at least 2).")
    return count


def label_columns(factors, continuous, n_bins, n_train, n_varying=None):
    """Integer labels of every factor column, and which columns vary.

    Discrete columns are labelled by the rank of their value among the
    column's distinct values (any numbers, not only indices: the label order
    is the value order, so classifiers behave as on the values). Continuous
    columns are cut into ``n_bins`` equal-width bins spanning the training
    rows' range (:func:`~disentangle.metrics._discrete.histogram_discretize`);
    test rows use the training edges.

    Parameters
    ----------
    factors : ndarray of shape (n, n_factors), float64
    continuous : ndarray of shape (n_factors,), bool
    n_bins : int
    n_train : int
        The first ``n_train`` rows are the training rows.
    n_varying : int or None, default=None
        A column varies when it shows two values among the first
        ``n_varying`` rows; None: the training rows.

    Returns
    -------
    labels : ndarray of shape (n, n_factors), int64
    varying : ndarray of int
        Columns showing more than one value among those rows.
    """
    labels = np.empty(factors.shape, dtype=np.int64)
    for j, column in enumerate(factors.T):
        if continuous[j]:
            _, edges = histogram_discretize(column[:n_train, None], n_bins)
            labels[:, j] = histogram_discretize(column[:, None], n_bins, edges)[0][:, 0]
        else:
            labels[:, j] = np.unique(column, return_inverse=True)[1].reshape(-1)
    rows = n_train if n_varying is None else n_varying
    varying = np.array([j for j in range(factors.shape[1])
                        if np.unique(labels[:rows, j]).size > 1], dtype=np.int64)
    return labels, varying


def scored_columns(varying, n_factors, metric):
    """``varying``, or a ValueError when no factor column varies."""
    if varying.size == 0:
        raise ValueError(
            f"{metric}: none of the {n_factors} factor column(s) takes more than one value in "
            "the (training) rows; the metric needs a factor that varies."
        )
    return varying


def prepare(factors, codes, metric, *, continuous_factors=False, n_bins=20, test_size=None,
            vary_in_training=True):
    """Checked arrays, factor labels, the scored columns and the train/test rows.

    A factor column is scored when it shows two values among the training
    rows, or, with ``vary_in_training=False``, among all rows.

    Returns
    -------
    sample : dict
        ``"factors"`` (float64, only the scored columns), ``"labels"`` (int64,
        the scored columns), ``"codes"``, ``"continuous"`` (bool, scored
        columns), ``"columns"`` (indices of the scored columns), ``"train"``
        and ``"test"`` (row slices; the same slice when ``test_size`` is None).
    """
    factors, codes = check_factors_codes(factors, codes, metric)
    n = len(factors)
    n_test = n_test_rows(test_size, n, metric)
    n_train = n if n_test is None else n - n_test
    continuous = continuous_mask(continuous_factors, factors.shape[1])
    labels, varying = label_columns(factors, continuous, n_bins, n_train,
                                    None if vary_in_training else n)
    columns = scored_columns(varying, factors.shape[1], metric)
    train = slice(0, n_train)
    return {"factors": factors[:, columns], "labels": labels[:, columns], "codes": codes,
            "continuous": continuous[columns], "columns": columns, "train": train,
            "test": train if n_test is None else slice(n_train, n)}


def sample_eligible(encode, dataset, eligible, n_train, rng, *, n_bins, need_all, what,
                    parameter, n_test=None):
    """Draw a training sample (and a test sample), check it, return the array-form inputs.

    The training sample is checked for coverage as
    :func:`~disentangle.metrics._discrete.eligible_labels` does (``need_all``,
    ``what`` and ``parameter`` are for its message); the test rows follow the
    training rows, as the array forms' ``test_size`` expects.

    Returns
    -------
    factors : ndarray of shape (n_train [+ n_test], n_eligible)
        The eligible factor columns.
    codes : ndarray of shape (n_train [+ n_test], n_codes), float64
    continuous : ndarray of shape (n_eligible,), bool
        The eligible factors without a finite size.
    """
    factors, codes = sample_codes(encode, dataset, n_train, rng)
    eligible_labels(dataset, factors, eligible, n_bins, need_all=need_all, what=what,
                    parameter=parameter)
    if n_test is not None:
        test_factors, test_codes = sample_codes(encode, dataset, n_test, rng)
        factors, codes = np.vstack([factors, test_factors]), np.vstack([codes, test_codes])
    continuous = np.array([not is_discrete_size(dataset.factor_sizes[k]) for k in eligible])
    return factors[:, eligible], codes, continuous


#: The split of the array forms' community protocol: 5,000 test rows after 10,000 training
#: rows in disentanglement_lib's unsupervised_study_v1 configs.
COMMUNITY_TEST_FRACTION = 1 / 3


def protocol_split(protocol, test_size, metric):
    """``test_size`` of an array form with a ``protocol``: the given one or the protocol's.

    Community: a third of the rows unless given. Paper (the InfoGAN-CR code
    fits and scores one sample): None.

    Raises
    ------
    ValueError
        An unknown protocol, or a ``test_size`` with ``protocol="paper"``.
    """
    if protocol not in ("community", "paper"):
        raise ValueError(f"{metric}: protocol must be 'community' or 'paper'; got {protocol!r}.")
    if protocol == "paper":
        if test_size is not None:
            raise ValueError(f"{metric}: test_size is not used by protocol='paper' (it fits "
                             "and scores all rows); leave it None.")
        return None
    return COMMUNITY_TEST_FRACTION if test_size is None else test_size


def checked_once(function):
    """Run ``function`` with scikit-learn's input and parameter validation off.

    The array forms check ``factors`` and ``codes`` once (finite float64
    arrays, labels as int64); the tens of estimator fits and scores of one
    metric (SAP fits one classifier per code and factor) would otherwise
    re-validate the same arrays and parameters on every call, which costs more
    than the fits on a few thousand samples. The values do not change.
    """
    @functools.wraps(function)
    def run(*args, **kwargs):
        with config_context(assume_finite=True, skip_parameter_validation=True):
            return function(*args, **kwargs)

    return run
