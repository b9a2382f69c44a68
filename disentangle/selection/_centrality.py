"""Centralities of a pool, their standard errors, and which candidates the medoid leads.

The centrality of ModelCentrality (Lin et al., ICML 2020, Sec. 5; official
code ``fjxmlzn/InfoGAN-CR`` ``InfoGAN-CR_dSprites/main_mc.py``) and UDR's
score (disentanglement_lib ``disentanglement_lib/evaluation/udr/metrics/udr.py``,
``model_scores``), computed once on the similarity matrix and once on each
bootstrap replicate of it (:mod:`disentangle.selection._vote_bootstrap`): the
spread of the replicates is each centrality's standard error, and the spread
of the replicates' differences from the medoid's is the standard error of
the medoid's lead, with the correlations between entries that share votes
kept.
"""

import numpy as np


def symmetrised(pairwise):
    """``(P + P.T) / 2``: the similarity matrix of ModelCentrality (``main_mc.py``)."""
    return (pairwise + pairwise.T) / 2


def mean_symmetrised(pairwise, alive):
    """ModelCentrality's centrality (``main_mc.py``): the mean over ``j != i`` of the
    symmetrised matrix, ``(P + P.T) / 2``.

    Parameters
    ----------
    pairwise : ndarray of shape (n, n)
    alive : ndarray of bool, shape (n,)

    Returns
    -------
    centrality : ndarray of shape (n,), float64
        NaN for the models not alive and for a lone survivor.
    """
    return _over_others(symmetrised(pairwise), alive, lambda matrix, i, others:
                        matrix[i, others].mean())


def median_received(pairwise, alive):
    """UDR's score (disentanglement_lib ``model_scores``): the median over ``j != i`` of
    ``P[j, i]``, what the other models give model ``i``. Parameters and returns as
    :func:`mean_symmetrised`'s."""
    return _over_others(pairwise, alive, lambda matrix, i, others:
                        np.median(matrix[others, i]))


def _over_others(matrix, alive, rule):
    """``rule(matrix, i, others)`` for every alive ``i``, ``others`` the other alive models."""
    n = len(matrix)
    values = np.full(n, np.nan)
    for i in np.flatnonzero(alive):
        others = np.flatnonzero(alive & (np.arange(n) != i))
        if others.size:
            values[i] = rule(matrix, i, others)
    return values


def medoid(values, eligible):
    """Index of the highest centrality among the eligible candidates (ties: first)."""
    index = np.flatnonzero(eligible)
    scores = np.where(np.isnan(values[index]), -np.inf, values[index])
    return int(index[np.argmax(scores)])


def centrality_errors(replicates, alive, best, rule):
    """Standard errors of the centralities and of the medoid's lead, from replicates.

    Parameters
    ----------
    replicates : ndarray of shape (n_bootstrap, n, n) or None
        Bootstrap replicates of the ``"factor_vae"`` pairwise scores; None
        where the similarity has no standard errors (UDR): the results are NaN.
    alive : ndarray of bool, shape (n,)
    best : int
        The medoid.
    rule : callable
        The kind's centrality, ``rule(pairwise, alive)`` (:func:`mean_symmetrised`).

    Returns
    -------
    std_centrality : ndarray of shape (n,), float64
        Standard deviation (ddof=1) of each centrality over the replicates;
        NaN for failed candidates.
    std_lead : ndarray of shape (n,), float64
        Of ``centrality[best] - centrality[k]`` over the replicates (0.0 for
        the medoid itself): no independence between the two is assumed.
    """
    n = len(alive)
    if replicates is None:
        return np.full(n, np.nan), np.full(n, np.nan)
    values = np.array([rule(r, alive) for r in replicates])
    lead = values[:, [best]] - values
    return tuple(rounded_std(v) for v in (values, lead))


#: Spreads below this are float rounding of identical replicates (a vote accuracy moves in
#: steps of 1 / n_votes, at least 1e-7 for any feasible count): reported as 0.
_RESOLUTION = 1e-12


def rounded_std(values):
    """Standard deviation (ddof=1) over axis 0, with spreads below ``_RESOLUTION`` set to 0."""
    std = np.std(values, axis=0, ddof=1)
    return np.where(std < _RESOLUTION, 0.0, std)


def contenders(values, std_lead, eligible, best, z):
    """The eligible candidates that the medoid does not lead by ``z`` standard errors.

    Candidate ``k`` is in contention when ``values[best] - values[k] < z *
    std_lead[k]``; a candidate whose lead is 0 with a standard error of 0
    (the metric sees it as the medoid's equal on every vote, e.g. a copy of
    it up to a permutation and signs of the codes) is not: picking either is
    the same.

    Returns
    -------
    indices : ndarray of int
        Candidates other than the medoid, by index.
    """
    lead = values[best] - values
    close = eligible & (lead < z * std_lead)
    close[best] = False
    return np.flatnonzero(close)
