"""Modularity (Ridgeway & Mozer 2018, "... Embeddings With the F-Statistic Loss").

A code dimension is modular when it carries information about one factor
only. With ``m[c, k]`` the mutual information of code ``c`` with factor ``k``
and ``theta_c = max_k m[c, k]``, the deviation from an ideal modular code is
``delta_c = sum_{k != argmax} m[c, k]**2 / (theta_c**2 * (K - 1))`` and the
score is the mean over codes of ``1 - delta_c``.

Both protocols estimate ``m`` as MIG does: 20-bin histograms of the codes
against the factor indices, ``sklearn``'s ``mutual_info_score``.

``"community"``
    ``google-research/disentanglement_lib``,
    ``disentanglement_lib/evaluation/metrics/modularity_explicitness.py``
    (``modularity``) with
    ``config/unsupervised_study_v1/metric_configs/modularity_explicitness.gin``:
    10,000 training samples (the 5,000 test samples it also draws are only
    used by explicitness), ``num_bins = 20``.
``"paper"``
    The InfoGAN-CR authors' ``FStatMetric`` (``fjxmlzn/InfoGAN-CR``,
    ``*/gan/metric.py``): the same formula on 73,728 random observations.
"""

import numpy as np
from sklearn.utils import check_random_state

from disentangle.metrics._arrays import prepare, sample_eligible
from disentangle.metrics._discrete import discretized_mutual_info
from disentangle.metrics._sampling import (
    check_count,
    encoding_progress,
    finish,
    resolve_protocol,
    validate_return_details,
    varying_factors,
)

_PROTOCOLS = {
    # disentanglement_lib unsupervised_study_v1 modularity_explicitness.gin.
    "community": {"n_train": 10_000, "n_bins": 20},
    # fjxmlzn/InfoGAN-CR load_data.py img_with_latent (imgs.shape[0] / 10), FStatMetric bins.
    "paper": {"n_train": 73_728, "n_bins": 20},
}
_MINIMUMS = {"n_train": 2, "n_bins": 2}


@validate_return_details
def modularity_score(
    representation,
    dataset,
    *,
    protocol="community",
    random_state=None,
    n_train=None,
    n_bins=None,
    verbose=0,
    return_details=False,
):
    """Modularity of a representation on a ground-truth dataset.

    Parameters
    ----------
    {representation}
    dataset : GroundTruthDataset
    {protocol}
    random_state : int, RandomState instance or None, default=None
    n_train : int, default=None
        Observations drawn, ``>= 2``. Default 10,000 (community) or 73,728
        (paper).
    n_bins : int, default=None
        Equal-width histogram bins per code dimension, ``>= 2``. Default 20.
    {verbose}
    {return_details}

    Returns
    -------
    score : float
        Mean over code dimensions of ``1 - delta_c``, in ``[0, 1]``; 1 when
        every code carries information about one factor at most. A code with
        no information about any factor (e.g. a collapsed one) scores 0, as
        in disentanglement_lib, so such codes lower the mean. Never NaN.
    details : dict, only if ``return_details``
        ``"protocol"``; ``"eligible_factors"`` (ndarray of int);
        ``"mutual_info"`` (ndarray (n_codes, n_eligible), float64, nats);
        ``"per_code"`` (ndarray (n_codes,), float64, ``1 - delta_c``).

    Raises
    ------
    ValueError
        As :func:`~disentangle.metrics.mig_score`.
    TypeError
        If ``representation`` is neither callable nor has ``transform`` or
        returns codes that are not numbers, or ``return_details`` is not a bool.

    Notes
    -----
    A factor with a single value is left out. With a single eligible factor
    (``K = 1``) ``delta_c`` is 0 for every informative code, which scores 1
    (the references divide by ``K - 1 = 0``). The InfoGAN-CR code returns NaN
    for an uninformative code; both protocols score it 0 here.

    References
    ----------
    K. Ridgeway and M. C. Mozer, "Learning Deep Disentangled Embeddings With
    the F-Statistic Loss", NeurIPS 2018, Sec. 3.
    """
    params = resolve_protocol(_PROTOCOLS, protocol, {"n_train": n_train, "n_bins": n_bins},
                              _MINIMUMS)
    eligible = varying_factors(dataset, "modularity")
    rng = check_random_state(random_state)
    with encoding_progress(representation, params["n_train"], "modularity", verbose) as encode:
        factors, codes, continuous = sample_eligible(
            encode, dataset, eligible, params["n_train"], rng, n_bins=params["n_bins"],
            need_all=False, what=f"the {params['n_train']} samples of modularity",
            parameter="n_train")
    score, details = modularity(factors, codes, n_bins=params["n_bins"],
                                continuous_factors=continuous, return_details=True)
    del details["factor_columns"]  # every eligible factor: coverage was checked
    details.update(protocol=protocol, eligible_factors=eligible)
    return finish(score, details, return_details)


@validate_return_details
def modularity(factors, codes, *, n_bins=20, continuous_factors=False, return_details=False):
    """Modularity of codes against ground-truth factors (array form).

    The estimator of :func:`modularity_score` (disentanglement_lib's
    ``modularity_explicitness.py``) on a sample you already hold.

    Parameters
    ----------
    {factors}
    {codes}
    n_bins : int, default=20
        Equal-width histogram bins per code dimension (and per continuous
        factor), ``>= 2``.
    {continuous_factors}
    {return_details}

    Returns
    -------
    score : float
        Mean over code dimensions of ``1 - delta_c``, in ``[0, 1]``.
    details : dict, only if ``return_details``
        ``"factor_columns"`` (ndarray of int, the columns scored);
        ``"mutual_info"`` (ndarray (n_codes, n_scored), nats); ``"per_code"``.

    Raises
    ------
    ValueError
        As :func:`mig`.
    """
    check_count("n_bins", n_bins, 2)
    sample = prepare(factors, codes, "modularity", continuous_factors=continuous_factors,
                     n_bins=n_bins)
    score, details = modularity_from_codes(sample["codes"], sample["labels"], n_bins)
    details["factor_columns"] = sample["columns"]
    return finish(score, details, return_details)


def modularity_from_codes(codes, labels, n_bins):
    """Modularity of codes against factor labels.

    Returns
    -------
    score : float
    details : dict
        ``"mutual_info"``, ``"per_code"``.
    """
    mi = discretized_mutual_info(codes, labels, n_bins)
    per_code = modularity_per_code(mi)
    return float(np.mean(per_code)), {"mutual_info": mi, "per_code": per_code}


def modularity_per_code(mi):
    """``1 - delta_c`` for every code, shape (n_codes,), in ``[0, 1]``.

    Parameters
    ----------
    mi : ndarray of shape (n_codes, n_factors), ``>= 0``

    Returns
    -------
    per_code : ndarray of shape (n_codes,)
        0 for a code whose mutual information is 0 with every factor.
    """
    squared = np.square(mi)
    theta = squared.max(axis=1)
    n_factors = mi.shape[1]
    informative = theta > 0
    delta = np.zeros(len(mi))
    if n_factors > 1:
        rest = squared.sum(axis=1) - theta
        delta[informative] = rest[informative] / (theta[informative] * (n_factors - 1))
    return np.where(informative, 1.0 - delta, 0.0)
