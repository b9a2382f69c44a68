"""UDR pair scores (Duan et al., "Unsupervised Model Selection for Variational Disentangled
Representation Learning", ICLR 2020).

Every model encodes the same observations; the score of a pair of models is
how one-to-one the map between their codes is: the Lasso coefficients, or
the absolute Spearman correlations, of one model's codes against the
other's, scored by :func:`relative_strength` (Eq. 3). As
``google-research/disentanglement_lib``,
``disentanglement_lib/evaluation/udr/metrics/udr.py``: codes standardised over
the sample, latents whose mean KL to the prior is at most a threshold ignored.
:func:`~disentangle.selection.pairwise_similarity` runs them for a pool of models.
"""

import inspect

import numpy as np
from scipy.stats import rankdata
from sklearn.linear_model import Lasso

from disentangle._validation import as_samples


def sample_rows(X, n_samples, rng):
    """``n_samples`` rows of ``X`` without replacement (all of them if fewer), in order.

    A DataFrame stays one, so that models fitted on it see their column names.
    """
    X = X if hasattr(X, "iloc") else np.asarray(as_samples(X))  # a DataFrame keeps its names
    if len(X) <= n_samples:
        return X
    rows = np.sort(rng.choice(len(X), size=n_samples, replace=False))
    return X.iloc[rows] if hasattr(X, "iloc") else X[rows]


def _encode_with_kl(model, observations):
    """Codes and, when the model exposes its posterior, the mean KL of each latent to N(0, 1).

    A ``transform`` that accepts ``return_std=True`` (returning posterior
    means and standard deviations) gives the KL that disentanglement_lib
    filters uninformative latents with; otherwise the KL is None.
    """
    if "return_std" in inspect.signature(model.transform).parameters:
        mean, std = (np.asarray(a, dtype=np.float64)
                     for a in model.transform(observations, return_std=True))
        kl = np.mean(0.5 * (mean**2 + std**2 - 2 * np.log(std) - 1), axis=0)
        return mean, kl
    return np.asarray(model.transform(observations), dtype=np.float64), None


def udr_representation(model, observations, kl_threshold):
    """Standardised codes with uninformative latents zeroed, and the informative mask.

    As disentanglement_lib: each code is standardised over the sample and
    latents whose mean KL is at most ``kl_threshold`` are zeroed and ignored.
    Without a KL (a GAN's encoder), every code is kept.

    Returns
    -------
    rep : ndarray of shape (n_samples, n_codes), float64
    informative : ndarray of shape (n_codes,), bool
    """
    codes, kl = _encode_with_kl(model, observations)
    if codes.ndim != 2 or not np.all(np.isfinite(codes)):
        raise ValueError("diverged model: transform returned NaN, infinite or mis-shaped codes.")
    informative = np.ones(codes.shape[1], bool) if kl is None else kl > kl_threshold
    std = codes.std(axis=0)
    rep = (codes - codes.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return rep * informative, informative


def udr_row(i, strength, *arrays):
    """UDR pair scores of model ``i`` against every model ``j`` (``j == i`` included).

    ``arrays`` are each model's representation and informative mask in turn
    (:func:`udr_representation`); ``strength(rep_i, rep_j)`` is the matrix of
    association strengths, shape (d_i, d_j) (:func:`lasso_strength`,
    :func:`spearman_strength`).

    Returns
    -------
    row : ndarray of shape (len(reps),), values in [0, 1]
    """
    reps = list(zip(arrays[::2], arrays[1::2], strict=True))
    rep_i, mask_i = reps[i]
    row = np.empty(len(reps))
    for j, (rep_j, mask_j) in enumerate(reps):
        row[j] = relative_strength(strength(rep_i, rep_j)[np.ix_(mask_i, mask_j)])
    return row


def lasso_strength(rep_i, rep_j, alpha):
    """|Lasso coefficients| predicting ``rep_j`` from ``rep_i``, shape (d_i, d_j)."""
    coef = Lasso(alpha=alpha).fit(rep_i, rep_j).coef_
    return np.abs(coef.reshape(rep_j.shape[1], rep_i.shape[1])).T


def spearman_strength(rep_i, rep_j):
    """|Spearman correlation| of every code of ``rep_i`` with every code of ``rep_j``.

    Shape (d_i, d_j); a constant code correlates 0 with everything.
    """
    ranks = [rankdata(rep, axis=0) for rep in (rep_i, rep_j)]
    ranks = [(r - r.mean(0)) / np.where(r.std(0) > 0, r.std(0), np.inf) for r in ranks]
    return np.abs(ranks[0].T @ ranks[1] / len(rep_i))


def relative_strength(strength):
    """UDR's disentanglement of a non-negative correspondence matrix (Duan et al. 2020, Eq. 3).

    The mean over columns of ``max(column)^2 / sum(column)`` and over rows of
    the same, averaged: 1 for a permutation-like (one-to-one) matrix with unit
    entries, smaller when a code spreads over several codes.

    Parameters
    ----------
    strength : ndarray of shape (d_i, d_j), non-negative

    Returns
    -------
    score : float
        In ``[0, max(strength)]``; 0.0 for an empty matrix. All-zero rows and
        columns count as 0.
    """
    if strength.size == 0:
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        cols = np.nan_to_num(strength.max(axis=0) ** 2 / strength.sum(axis=0))
        rows = np.nan_to_num(strength.max(axis=1) ** 2 / strength.sum(axis=1))
    return float((cols.mean() + rows.mean()) / 2)
