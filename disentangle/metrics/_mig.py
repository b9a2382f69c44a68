"""The Mutual Information Gap (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs").

For each ground-truth factor, MIG is the gap between the largest and the
second-largest mutual information of a code dimension with that factor,
divided by the factor's entropy; the score is its mean over the factors.

Both protocols use the same estimator: every code dimension is cut into 20
equal-width histogram bins over its sample range, and the mutual information
with the factor *indices* is the plug-in estimate (``sklearn``'s
``mutual_info_score``, nats), normalised by the plug-in entropy of the factor.

``"community"``
    ``google-research/disentanglement_lib``,
    ``disentanglement_lib/evaluation/metrics/mig.py`` with
    ``config/unsupervised_study_v1/metric_configs/mig.gin``: 10,000 samples,
    ``histogram_discretizer`` with ``num_bins = 20``.
``"paper"``
    The InfoGAN-CR authors' ``MIGMetric`` (``fjxmlzn/InfoGAN-CR``,
    ``*/gan/metric.py``, data from ``InfoGAN-CR_dSprites/gan/load_data.py``):
    the same estimator on 73,728 random observations (a tenth of dSprites)
    against the factor indices (``latent_id``).
"""

import numpy as np
from sklearn.utils import check_random_state

from disentangle.metrics._arrays import prepare, sample_eligible
from disentangle.metrics._discrete import discretized_mutual_info, entropies
from disentangle.metrics._sampling import (
    check_count,
    encoding_progress,
    finish,
    resolve_protocol,
    validate_return_details,
    varying_factors,
)

_PROTOCOLS = {
    # disentanglement_lib unsupervised_study_v1 mig.gin: mig.num_train, discretizer.num_bins.
    "community": {"n_train": 10_000, "n_bins": 20},
    # fjxmlzn/InfoGAN-CR load_data.py: imgs.shape[0] / 10 random images; MIGMetric num_bins=20.
    "paper": {"n_train": 73_728, "n_bins": 20},
}
_MINIMUMS = {"n_train": 2, "n_bins": 2}


@validate_return_details
def mig_score(
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
    """Mutual Information Gap of a representation on a ground-truth dataset.

    Parameters
    ----------
    {representation}
    {dataset}
    {protocol}
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the sample.
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
        Mean normalised gap over the factors with more than one value, in
        ``[0, 1]``; 1 only when each factor is determined by one code
        dimension and independent of all others (finite samples give
        independent codes a small positive mutual information, so a perfect
        representation scores slightly below 1). Never NaN.
    details : dict, only if ``return_details``
        ``"protocol"`` (str); ``"eligible_factors"`` (ndarray of int, the
        factors scored: those with more than one value); ``"mutual_info"``
        (ndarray (n_codes, n_eligible), float64, nats); ``"factor_entropy"``
        (ndarray (n_eligible,), nats); ``"per_factor"`` (ndarray
        (n_eligible,), the normalised gaps).

    Raises
    ------
    ValueError
        On an unknown protocol, a count below its minimum, a dataset without
        a factor of more than one value, a factor showing a single value in
        the sample (the message says how many samples are needed), or a
        representation returning NaN, infinite or mis-shaped codes.
    TypeError
        If ``representation`` is neither callable nor has ``transform`` or
        returns codes that are not numbers, or ``return_details`` is not a bool.

    Notes
    -----
    Edge cases where the references fail: a factor with a single value is
    left out (its entropy is 0; disentanglement_lib divides by it); with a
    single code dimension the second-largest mutual information is that of a
    collapsed dimension, 0 (disentanglement_lib indexes past the end).
    Continuous factors (size ``None``) are binned like the codes (an
    extension).

    References
    ----------
    R. T. Q. Chen, X. Li, R. Grosse and D. Duvenaud, "Isolating Sources of
    Disentanglement in Variational Autoencoders", NeurIPS 2018, Sec. 4.1.
    F. Locatello et al., "Challenging Common Assumptions in the Unsupervised
    Learning of Disentangled Representations", ICML 2019 (disentanglement_lib).
    """
    params = resolve_protocol(_PROTOCOLS, protocol, {"n_train": n_train, "n_bins": n_bins},
                              _MINIMUMS)
    eligible = varying_factors(dataset, "MIG")
    rng = check_random_state(random_state)
    with encoding_progress(representation, params["n_train"], "MIG", verbose) as encode:
        factors, codes, continuous = sample_eligible(
            encode, dataset, eligible, params["n_train"], rng, n_bins=params["n_bins"],
            need_all=False, what=f"the {params['n_train']} samples of MIG", parameter="n_train")
    score, details = mig(factors, codes, n_bins=params["n_bins"], continuous_factors=continuous,
                         return_details=True)
    del details["factor_columns"]  # every eligible factor: coverage was checked
    details.update(protocol=protocol, eligible_factors=eligible)
    return finish(score, details, return_details)


@validate_return_details
def mig(factors, codes, *, n_bins=20, continuous_factors=False, return_details=False):
    """Mutual Information Gap of codes against ground-truth factors (array form).

    The estimator of :func:`mig_score` (disentanglement_lib's ``mig.py``) on
    a sample you already hold, e.g. the codes of your own model.

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
        Mean normalised gap over the factor columns that vary, in ``[0, 1]``.
    details : dict, only if ``return_details``
        ``"factor_columns"`` (ndarray of int, the columns scored);
        ``"mutual_info"`` (ndarray (n_codes, n_scored), nats);
        ``"factor_entropy"`` (ndarray (n_scored,), nats); ``"per_factor"``.

    Raises
    ------
    ValueError
        Arrays with different numbers of rows, NaN or infinite values, fewer
        than 2 rows, ``n_bins < 2``, or no factor column that varies.

    Examples
    --------
    >>> import numpy as np
    >>> from disentangle.metrics import mig
    >>> factors = np.random.RandomState(0).randint(4, size=(1000, 2))
    >>> codes = factors[:, ::-1] + 0.5  # each factor in one code, swapped
    >>> round(mig(factors, codes), 3)  # below 1: plug-in bias of the other code's information
    0.996
    """
    check_count("n_bins", n_bins, 2)
    sample = prepare(factors, codes, "mig", continuous_factors=continuous_factors,
                     n_bins=n_bins)
    score, details = mig_from_codes(sample["codes"], sample["labels"], n_bins)
    details["factor_columns"] = sample["columns"]
    return finish(score, details, return_details)


def mig_from_codes(codes, labels, n_bins):
    """MIG of codes against factor labels.

    Parameters
    ----------
    codes : ndarray of shape (n, n_codes)
    labels : ndarray of shape (n, n_factors), int
        Every column takes at least two values.
    n_bins : int

    Returns
    -------
    score : float
    details : dict
        ``"mutual_info"``, ``"factor_entropy"``, ``"per_factor"``.
    """
    mi = discretized_mutual_info(codes, labels, n_bins)
    entropy = entropies(labels)
    ranked = np.sort(mi, axis=0)[::-1]
    # A single code is compared with a collapsed one, whose mutual information is 0.
    second = ranked[1] if len(ranked) > 1 else np.zeros(mi.shape[1])
    per_factor = (ranked[0] - second) / entropy
    details = {"mutual_info": mi, "factor_entropy": entropy, "per_factor": per_factor}
    return float(np.mean(per_factor)), details
