"""Centralities of a pool, their standard errors, and which candidates the medoid leads.

The centrality of ModelCentrality (Lin et al., ICML 2020, Sec. 5; official
code ``fjxmlzn/InfoGAN-CR`` ``InfoGAN-CR_dSprites/main_mc.py``) and UDR's
score (disentanglement_lib ``disentanglement_lib/evaluation/udr/metrics/udr.py``,
``model_scores``), computed once on the similarity matrix and once on each
bootstrap replicate of it (:mod:`disentangle.metrics._vote_bootstrap`): the
spread of the replicates is each centrality's standard error, and the spread
of the replicates' differences from the medoid's is the standard error of
the medoid's lead, with the correlations between entries that share votes
kept.
"""

import numpy as np


def centrality(pairwise, alive, similarity):
    """Centrality of every candidate; NaN for failed ones and for a lone survivor.

    ModelCentrality (``main_mc.py``): mean over ``j != i`` of the symmetrised
    ``(P + P.T) / 2``. UDR (disentanglement_lib ``model_scores``): median over
    ``j != i`` of ``P[j, i]``.

    Parameters
    ----------
    pairwise : ndarray of shape (n, n)
    alive : ndarray of bool, shape (n,)
    similarity : str

    Returns
    -------
    centrality : ndarray of shape (n,), float64
    """
    n = len(pairwise)
    values = np.full(n, np.nan)
    symmetric = (pairwise + pairwise.T) / 2
    for i in np.flatnonzero(alive):
        others = np.flatnonzero(alive & (np.arange(n) != i))
        if others.size == 0:
            continue
        if similarity == "factor_vae":
            values[i] = symmetric[i, others].mean()
        else:
            values[i] = np.median(pairwise[others, i])
    return values


def medoid(values, eligible):
    """Index of the highest centrality among the eligible candidates (ties: first)."""
    index = np.flatnonzero(eligible)
    scores = np.where(np.isnan(values[index]), -np.inf, values[index])
    return int(index[np.argmax(scores)])


def centrality_errors(replicates, alive, best):
    """Standard errors of the centralities and of the medoid's lead, from replicates.

    Parameters
    ----------
    replicates : ndarray of shape (n_bootstrap, n, n) or None
        Bootstrap replicates of the ``"factor_vae"`` pairwise scores; None
        where the similarity has no standard errors (UDR): the results are NaN.
    alive : ndarray of bool, shape (n,)
    best : int
        The medoid.

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
    values = np.array([centrality(r, alive, "factor_vae") for r in replicates])
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
