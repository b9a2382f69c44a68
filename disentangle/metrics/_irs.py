"""The Interventional Robustness Score (Suter et al. 2019).

A code dimension is robust to a nuisance when fixing the factor it encodes
leaves it unmoved however the other factors change. For factor ``k`` and code
``c``, the deviation is the ``diff_quantile`` quantile of ``|z_c - E[z_c |
g_k = v]|`` over the observations with ``g_k = v``, averaged over the values
``v`` of the factor, and divided by the code's largest deviation from its mean
``max |z_c - E[z_c]|``. ``IRS[c, k] = 1 - deviation``; a code's score is its
best factor's, and the score is the mean over the codes that vary, weighted by
their largest deviation.

``"community"``
    ``google-research/disentanglement_lib``,
    ``disentanglement_lib/evaluation/metrics/irs.py`` (adapted there from the
    authors' implementation) with ``irs.gin`` (``unsupervised_study_v1``
    metric configs; the same settings in ``config/sample/irs/irs.gin`` of
    release 1.5): 10,000 samples, ``diff_quantile = 0.99``, every factor cut
    into 20 equal-width bins by ``histogram_discretizer``, codes with zero
    variance dropped. The InfoGAN-CR code has no IRS, so there is no
    ``"paper"`` protocol; ``diff_quantile=1.0`` is the version of Suter et
    al.'s paper (the largest deviation, per the reference's docstring).
"""

import numpy as np
from sklearn.utils import check_random_state

from disentangle.metrics._arrays import check_factors_codes, sample_eligible, scored_columns
from disentangle.metrics._discrete import histogram_discretize
from disentangle.metrics._sampling import (
    check_count,
    encoding_progress,
    finish,
    resolve_protocol,
    validate_return_details,
    varying_factors,
)

_PROTOCOLS = {
    # disentanglement_lib irs.gin: irs.num_train, discretizer.num_bins.
    "community": {"n_train": 10_000, "n_bins": 20},
}
_MINIMUMS = {"n_train": 2, "n_bins": 2}
_DIFF_QUANTILE = 0.99  # compute_irs's default, kept by irs.gin


@validate_return_details
def irs_score(
    representation,
    dataset,
    *,
    protocol="community",
    random_state=None,
    n_train=None,
    n_bins=None,
    diff_quantile=_DIFF_QUANTILE,
    verbose=0,
    return_details=False,
):
    """Interventional Robustness Score of a representation on a ground-truth dataset.

    Parameters
    ----------
    {representation}
    {dataset}
    protocol : {"community"}, default="community"
        disentanglement_lib's settings (see the module docstring); the
        InfoGAN-CR code has no IRS.
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the sample.
    n_train : int, default=None
        Observations drawn, ``>= 2``; default 10,000.
    n_bins : int, default=None
        Equal-width bins every factor is cut into, ``>= 2``; default 20.
    diff_quantile : float, default=0.99
        See :func:`irs`.
    {verbose}
    {return_details}

    Returns
    -------
    score : float
        At most 1, in practice in ``[0, 1]`` (see :func:`irs`).
    details : dict, only if ``return_details``
        ``"protocol"``, ``"eligible_factors"`` and the details of :func:`irs`.

    Raises
    ------
    ValueError
        As :func:`~disentangle.metrics.mig_score`, and a ``diff_quantile``
        outside ``[0, 1]``.
    TypeError
        As :func:`~disentangle.metrics.mig_score`.

    References
    ----------
    R. Suter, D. Miladinović, B. Schölkopf and S. Bauer, "Robustly
    Disentangled Causal Mechanisms: Validating Deep Representations for
    Interventional Robustness", ICML 2019, Sec. 4.
    """
    params = resolve_protocol(_PROTOCOLS, protocol, {"n_train": n_train, "n_bins": n_bins},
                              _MINIMUMS)
    eligible = varying_factors(dataset, "IRS")
    rng = check_random_state(random_state)
    with encoding_progress(representation, params["n_train"], "IRS", verbose) as encode:
        factors, codes, _ = sample_eligible(
            encode, dataset, eligible, params["n_train"], rng, n_bins=params["n_bins"],
            need_all=False, what=f"the {params['n_train']} samples of IRS", parameter="n_train")
    score, details = irs(factors, codes, n_bins=params["n_bins"], diff_quantile=diff_quantile,
                         return_details=True)
    del details["factor_columns"]  # every eligible factor: coverage was checked
    details.update(protocol=protocol, eligible_factors=eligible)
    return finish(score, details, return_details)


@validate_return_details
def irs(factors, codes, *, n_bins=20, diff_quantile=_DIFF_QUANTILE, return_details=False):
    """Interventional Robustness Score of codes against ground-truth factors (array form).

    As disentanglement_lib's ``compute_irs``: every factor column is cut into
    ``n_bins`` equal-width bins (a factor of at most ``n_bins`` evenly spaced
    values keeps one bin per value; dSprites' 40 orientations share 20 bins),
    code dimensions with zero variance are dropped, and the score is

    ``sum_c w_c max_k (1 - D[c, k] / w_c) / sum_c w_c``, with ``w_c = max_i
    |z_ic - mean(z_c)|`` and ``D[c, k]`` the mean over the bins ``v`` of
    factor ``k`` of the ``diff_quantile`` quantile of ``|z_ic - mean(z_c |
    bin v)|`` over the rows ``i`` in bin ``v``.

    Parameters
    ----------
    {factors}
    {codes}
    n_bins : int or None, default=20
        Equal-width bins per factor column, ``>= 2``; None groups rows by the
        factor's exact values (Suter et al.'s discrete factors).
    diff_quantile : float, default=0.99
        Quantile of the within-bin deviations, in ``[0, 1]``; 1.0 takes their
        maximum, as in Suter et al.'s paper.
    {return_details}

    Returns
    -------
    score : float
        At most 1, reached when every code is unmoved within each bin of
        its best factor; in practice in ``[0, 1]`` (it is ``>= -1``, as a
        deviation from a bin mean is at most ``2 w_c``). 0 when no code
        varies.
    details : dict, only if ``return_details``
        ``"factor_columns"`` (ndarray of int, the columns scored);
        ``"active_codes"`` (ndarray of int, codes with non-zero variance);
        ``"irs_matrix"`` (ndarray (n_active, n_scored), ``1 - D / w``);
        ``"per_code"`` (ndarray (n_active,), each code's best factor's
        score); ``"parents"`` (ndarray (n_active,) of int, that factor's
        position among the scored columns); ``"max_deviations"`` (``w``, the
        weights).

    Raises
    ------
    ValueError
        As :func:`~disentangle.metrics.mig`, and a ``diff_quantile`` outside
        ``[0, 1]``.

    References
    ----------
    R. Suter, D. Miladinović, B. Schölkopf and S. Bauer, "Robustly
    Disentangled Causal Mechanisms: Validating Deep Representations for
    Interventional Robustness", ICML 2019, Sec. 4.
    """
    if n_bins is not None:
        check_count("n_bins", n_bins, 2)
    if not 0.0 <= diff_quantile <= 1.0:
        raise ValueError(f"irs: diff_quantile must be in [0, 1]; got {diff_quantile!r}.")
    factors, codes = check_factors_codes(factors, codes, "irs")
    labels = (np.stack([np.unique(column, return_inverse=True)[1].reshape(-1)
                        for column in factors.T], axis=1)
              if n_bins is None else histogram_discretize(factors, n_bins)[0])
    columns = scored_columns(np.flatnonzero([np.unique(column).size > 1 for column in labels.T]),
                             factors.shape[1], "irs")
    active = np.flatnonzero(codes.var(axis=0) > 0)
    details = {"factor_columns": columns, "active_codes": active}
    if active.size == 0:
        empty = np.zeros((0, columns.size))
        details.update(irs_matrix=empty, per_code=np.zeros(0), parents=np.zeros(0, dtype=int),
                       max_deviations=np.zeros(0))
        return finish(0.0, details, return_details)
    latents = codes[:, active]
    weights = np.max(np.abs(latents - latents.mean(axis=0)), axis=0)
    deviation = np.stack([_mean_group_deviation(latents, labels[:, k], diff_quantile)
                          for k in columns], axis=1)
    matrix = 1.0 - deviation / weights[:, None]
    per_code = matrix.max(axis=1)
    details.update(irs_matrix=matrix, per_code=per_code, parents=matrix.argmax(axis=1),
                   max_deviations=weights)
    return finish(np.average(per_code, weights=weights), details, return_details)


def _mean_group_deviation(latents, groups, quantile):
    """Mean over the groups of the ``quantile`` of each code's deviation from its group mean.

    Returns
    -------
    deviation : ndarray of shape (n_codes,)
    """
    totals = np.zeros(latents.shape[1])
    values = np.unique(groups)
    for value in values:
        group = latents[groups == value]
        totals += np.quantile(np.abs(group - group.mean(axis=0)), quantile, axis=0)
    return totals / values.size
