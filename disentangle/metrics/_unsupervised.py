"""Gaussian total correlation of the codes, an unsupervised score.

The total correlation of a Gaussian with covariance ``S`` (the KL divergence
from the product of its marginals) is ``(sum_i log S_ii - log det S) / 2``;
fitting ``S`` to the codes of random observations measures how far the codes
are from independent, without using the factors.

``"community"``
    ``google-research/disentanglement_lib``,
    ``disentanglement_lib/evaluation/metrics/unsupervised_metrics.py``
    (``gaussian_total_correlation``) with
    ``config/unsupervised_study_v1/metric_configs/unsupervised.gin``: 10,000
    samples, ``np.cov`` (ddof 1). The InfoGAN-CR paper has no such score.
"""

import numpy as np
from sklearn.utils import check_random_state

from disentangle.metrics._sampling import (
    encoding_progress,
    finish,
    resolve_protocol,
    sample_codes,
    validate_return_details,
)

_PROTOCOLS = {
    # disentanglement_lib unsupervised_study_v1 unsupervised.gin: unsupervised_metrics.num_train.
    "community": {"n_train": 10_000},
}
_MINIMUMS = {"n_train": 2}


@validate_return_details
def gaussian_total_correlation(
    representation,
    dataset,
    *,
    protocol="community",
    random_state=None,
    n_train=None,
    verbose=0,
    return_details=False,
):
    """Total correlation of a Gaussian fit to the codes of random observations.

    Lower is better (0 for uncorrelated codes); the scorer of
    :func:`~disentangle.metrics.make_disentanglement_scorer` negates it.

    Parameters
    ----------
    {representation}
    dataset : GroundTruthDataset
        Only used to draw observations; the factors are not used.
    protocol : {"community"}, default="community"
        disentanglement_lib's settings; the paper has no such score.
    random_state : int, RandomState instance or None, default=None
    n_train : int, default=None
        Observations drawn, ``>= 2`` and more than the number of codes (fewer
        make the covariance singular). Default 10,000.
    {verbose}
    {return_details}

    Returns
    -------
    score : float
        Total correlation in nats, ``>= 0``; ``inf`` when the active codes
        are linearly dependent (the covariance is singular). Never NaN.
    details : dict, only if ``return_details``
        ``"protocol"``; ``"covariance"`` (ndarray (n_codes, n_codes),
        float64, ddof 1); ``"active_dims"`` (ndarray of int, the dimensions
        with non-zero variance, over which the total correlation is taken).

    Raises
    ------
    ValueError
        On an unknown protocol, ``n_train`` below 2 or not above the number
        of codes, a representation returning NaN, infinite or mis-shaped
        codes, or codes so large that their covariance overflows.
    TypeError
        If ``representation`` is neither callable nor has ``transform`` or
        returns codes that are not numbers, or ``return_details`` is not a bool.

    Notes
    -----
    A collapsed (constant) dimension is independent of every other one and
    adds nothing; it is left out (disentanglement_lib takes ``log 0`` and
    returns NaN).

    References
    ----------
    F. Locatello et al., "Challenging Common Assumptions in the Unsupervised
    Learning of Disentangled Representations", ICML 2019, Sec. 4.
    S. Watanabe, "Information Theoretical Analysis of Multivariate
    Correlation", IBM J. Res. Dev. 4(1), 1960.
    """
    params = resolve_protocol(_PROTOCOLS, protocol, {"n_train": n_train}, _MINIMUMS)
    rng = check_random_state(random_state)
    with encoding_progress(representation, params["n_train"], "total correlation",
                           verbose) as encode:
        _, codes = sample_codes(encode, dataset, params["n_train"], rng)
    if params["n_train"] <= codes.shape[1]:
        raise ValueError(
            f"n_train={params['n_train']} observations give a singular covariance of "
            f"{codes.shape[1]} codes; n_train must be greater than the number of codes."
        )
    covariance = np.cov(codes, rowvar=False, ddof=1).reshape(codes.shape[1], codes.shape[1])
    if not np.all(np.isfinite(covariance)):
        raise ValueError("the code covariance overflows; rescale the representation's codes.")
    score, active = total_correlation_from_covariance(covariance)
    details = {"protocol": protocol, "covariance": covariance, "active_dims": active}
    return finish(score, details, return_details)


def total_correlation_from_covariance(covariance):
    """Gaussian total correlation over the dimensions with non-zero variance.

    Parameters
    ----------
    covariance : ndarray of shape (n_codes, n_codes)

    Returns
    -------
    total_correlation : float
        ``>= 0``; ``inf`` for a singular covariance of the active dimensions,
        0.0 when fewer than two are active.
    active : ndarray of int
    """
    active = np.flatnonzero(np.diag(covariance) > 0)
    if active.size < 2:
        return 0.0, active
    sub = covariance[np.ix_(active, active)]
    sign, logdet = np.linalg.slogdet(sub)
    if sign <= 0 or not np.isfinite(logdet):
        return float("inf"), active
    value = 0.5 * (np.sum(np.log(np.diag(sub))) - logdet)
    return float(max(value, 0.0)), active
