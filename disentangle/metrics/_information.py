"""Plug-in mutual information of integer labels, without per-pair validation.

disentanglement_lib calls ``sklearn.metrics.mutual_info_score`` once per (code,
factor) pair; each call validates its inputs, finds the classes and builds a
sparse contingency table, which costs more than the arithmetic on a few
thousand samples. Here each pair's contingency table is one ``np.bincount``
and the sum is scikit-learn's own formula, term for term, so the values are
those of ``mutual_info_score`` (``tests/test_metrics_arrays.py`` compares
them).
"""

import math

import numpy as np


def _dense_codes(labels):
    """Each column's labels as ``0 .. k - 1`` in sorted order, and each column's ``k``."""
    columns = [np.unique(column, return_inverse=True) for column in labels.T]
    dense = np.stack([inverse.reshape(-1) for _, inverse in columns], axis=1)
    return dense, [len(values) for values, _ in columns]


def mutual_info(x, n_x, y, n_y):
    """``mutual_info_score(x, y)`` (nats) of labels ``0 .. n_x - 1`` and ``0 .. n_y - 1``.

    Parameters
    ----------
    x, y : ndarray of shape (n,), int64
    n_x, n_y : int
        The number of distinct values of each (all present).

    Returns
    -------
    mi : float, ``>= 0``
    """
    if n_x == 1 or n_y == 1:
        return 0.0
    n = len(x)
    contingency = np.bincount(x * n_y + y, minlength=n_x * n_y).reshape(n_x, n_y)
    rows, cols = np.nonzero(contingency)
    counts = contingency[rows, cols]
    pi, pj = contingency.sum(axis=1), contingency.sum(axis=0)
    # scikit-learn's mutual_info_score, term for term.
    log_counts = np.log(counts)
    share = counts / n
    outer = pi.take(rows).astype(np.int64) * pj.take(cols).astype(np.int64)
    log_outer = -np.log(outer) + math.log(pi.sum()) + math.log(pj.sum())
    terms = share * (log_counts - math.log(n)) + share * log_outer
    terms = np.where(np.abs(terms) < np.finfo(terms.dtype).eps, 0.0, terms)
    return float(np.clip(terms.sum(), 0.0, None))


def mutual_info_table(code_bins, labels):
    """Mutual information (nats) of every code column with every factor column.

    Returns
    -------
    mi : ndarray of shape (n_codes, n_factors), float64
        Entry ``[c, k]`` is ``mutual_info_score(labels[:, k], code_bins[:, c])``.
    """
    codes, n_codes = _dense_codes(np.asarray(code_bins))
    factors, n_factors = _dense_codes(np.asarray(labels))
    return np.array([[mutual_info(factors[:, k], n_factors[k], codes[:, c], n_codes[c])
                      for k in range(factors.shape[1])]
                     for c in range(codes.shape[1])]).reshape(codes.shape[1], factors.shape[1])


def entropy_of_columns(labels):
    """Plug-in entropy (nats) of every column, ``mutual_info_score(column, column)``."""
    dense, sizes = _dense_codes(np.asarray(labels))
    return np.array([mutual_info(dense[:, k], sizes[k], dense[:, k], sizes[k])
                     for k in range(dense.shape[1])])
