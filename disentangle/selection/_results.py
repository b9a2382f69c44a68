"""A search's results: ``cv_results_`` as ``GridSearchCV`` lays it out, ranks by tier, the
standard errors of the pairwise scores and the warning that names tied candidates.
"""

import bisect
import warnings

import numpy as np

from disentangle._warnings import user_frame
from disentangle.exceptions import TiedCandidatesWarning
from disentangle.selection._centrality import contenders, rounded_std


def pairwise_std(replicates, n):
    """Standard error of each pairwise score (ddof=1 over the replicates; NaN without)."""
    if replicates is None:
        return np.full((n, n), np.nan)
    return rounded_std(replicates)


#: Standard errors of the medoid's lead within which a candidate is named as tied with it.
TIE_Z = 2.0


def warn_about_ties(candidates, centrality, std_centrality, std_lead, eligible, best):
    """One :class:`~disentangle.exceptions.TiedCandidatesWarning` naming the eligible
    candidates that the medoid leads by less than ``TIE_Z`` standard errors of the lead."""
    tied = contenders(centrality, std_lead, eligible, best, TIE_Z)
    if tied.size == 0:
        return

    def line(i, role):
        lead = ("" if i == best else f", behind by {centrality[best] - centrality[i]:.4f} "
                f"\u00b1 {std_lead[i]:.4f}")
        return (f"  {role} {i} {candidates[i]}: centrality {centrality[i]:.4f} \u00b1 "
                f"{std_centrality[i]:.4f}{lead}")

    listing = "\n".join([line(best, "medoid"), *(line(i, "candidate") for i in tied)])
    warnings.warn(TiedCandidatesWarning(
        f"{tied.size} candidate(s) tied with the medoid: their centralities are within "
        f"{TIE_Z:g} standard errors of the medoid's lead (a bootstrap over the votes), so "
        f"best_index_={best} is the highest centrality but the votes do not separate it from "
        f"them:\n{listing}\nMore votes separate candidates whose difference is the votes' "
        "noise: similarity_params={'protocol': 'paper'} (the default), larger votes_per_code "
        "and n_variance, or {'protocol': 'adaptive'} to spend them on these candidates only. "
        "Candidates still tied at the paper's counts are equally central: more training of "
        "the pool, or more candidates, tells them apart."), **user_frame())


def rank(scores, tiers):
    """Rank 1 for the highest score of the first tier, ties share the lowest rank.

    ``tiers``: 0 for candidates eligible as medoid, 1 for incomplete ones that
    are not, 2 for failed ones; each tier ranks after the one before, whatever
    the scores (a failed candidate's ``error_score`` included, all failed ones
    tie), and NaN last within its tier.
    """
    tiers = np.asarray(tiers)
    keys = -np.where((tiers == 2) | np.isnan(scores), -np.inf, scores)
    pairs = list(zip(tiers.tolist(), keys.tolist(), strict=True))
    ordered = sorted(pairs)
    return np.array([bisect.bisect_left(ordered, pair) + 1 for pair in pairs], dtype=np.int32)


def _masked_params(candidates):
    """``param_<name>`` masked arrays, masked where a candidate lacks the parameter."""
    names = sorted({name for params in candidates for name in params})
    columns = {}
    for name in names:
        values = np.empty(len(candidates), dtype=object)
        mask = np.ones(len(candidates), dtype=bool)
        for i, params in enumerate(candidates):
            if name in params:
                values[i], mask[i] = params[name], False
        columns[f"param_{name}"] = np.ma.MaskedArray(values, mask=mask)
    return columns


def cv_results(candidates, centrality, fit_time, sim_time, errors, tiers):
    """The ``cv_results_`` dict (``tiers`` as :func:`rank`'s)."""
    return {
        "params": candidates,
        **_masked_params(candidates),
        "centrality": centrality,
        "rank_centrality": rank(centrality, tiers),
        "fit_time": fit_time,
        "similarity_time": sim_time,
        "error": np.array(errors, dtype=object),
    }
