"""Explicitness (Ridgeway & Mozer 2018, "... Embeddings With the F-Statistic Loss").

For each factor a logistic regression predicts its value from all code
dimensions; explicitness of the factor is the one-vs-rest ROC-AUC of the
predicted class probabilities, macro-averaged over the factor's values, and
the score is the mean over factors.

``"community"``
    ``google-research/disentanglement_lib``,
    ``disentanglement_lib/evaluation/metrics/modularity_explicitness.py``
    (``explicitness_per_factor``) with
    ``config/unsupervised_study_v1/metric_configs/modularity_explicitness.gin``:
    10,000 training and 5,000 test samples; codes standardised with the
    training mean and standard deviation (``utils.normalize_data``);
    ``sklearn.linear_model.LogisticRegression()`` with its defaults, fit on the
    training sample; the score is the AUC on the test sample
    (``explicitness_score_test``).
``"paper"``
    The InfoGAN-CR authors' ``FStatMetric`` (``fjxmlzn/InfoGAN-CR``,
    ``*/gan/metric.py``): ``LogisticRegression()`` on the raw codes of 73,728
    random observations, scored on the same observations (no split).
"""

import numpy as np
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state

from disentangle.metrics._arrays import checked_once, prepare, protocol_split, sample_eligible
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
    "community": {"n_train": 10_000, "n_test": 5_000, "n_bins": 20, "standardize": True},
    # fjxmlzn/InfoGAN-CR FStatMetric: raw codes of img_with_latent (73,728), no split.
    "paper": {"n_train": 73_728, "n_test": None, "n_bins": 20, "standardize": False},
}
_MINIMUMS = {"n_train": 2, "n_test": 2, "n_bins": 2}


@validate_return_details
def explicitness_score(
    representation,
    dataset,
    *,
    protocol="community",
    random_state=None,
    n_train=None,
    n_test=None,
    verbose=0,
    return_details=False,
):
    """Explicitness of a representation on a ground-truth dataset.

    Parameters
    ----------
    {representation}
    dataset : GroundTruthDataset
    {protocol}
    random_state : int, RandomState instance or None, default=None
    n_train : int, default=None
        Training observations, ``>= 2``; every value of every factor must
        appear among them. Default 10,000 (community) or 73,728 (paper, the
        one sample that is fit and scored).
    n_test : int, default=None
        Test observations, ``>= 2``; community only (default 5,000). The paper
        protocol scores its training sample and rejects it.
    {verbose}
    {return_details}

    Returns
    -------
    score : float
        Mean over factors of the macro-averaged one-vs-rest ROC-AUC, in
        ``[0, 1]``: 0.5 for codes that carry no information about the factors
        (in expectation, on a test sample), 1 when every factor's values are
        linearly separable from the codes. Never NaN.
    details : dict, only if ``return_details``
        ``"protocol"``; ``"eligible_factors"`` (ndarray of int);
        ``"per_factor"`` (ndarray (n_eligible,), AUC on the scored sample);
        ``"per_factor_train"`` (ndarray (n_eligible,), AUC on the training
        sample); ``"train_score"`` (float, their mean).

    Raises
    ------
    ValueError
        On an unknown protocol, a count below its minimum, ``n_test`` with
        ``protocol="paper"``, a dataset without a factor of more than one
        value, a training sample missing a value of a factor (the message says
        how many samples are needed), a test sample in which no value of a
        factor can be ranked (fewer than two values appear), or a
        representation returning NaN, infinite or mis-shaped codes.
    TypeError
        If ``representation`` is neither callable nor has ``transform`` or
        returns codes that are not numbers, or ``return_details`` is not a bool.

    Notes
    -----
    The AUC of a value absent from the test sample is undefined; it is left
    out of the macro average (disentanglement_lib's ``roc_auc_score`` fails).
    A collapsed code dimension (zero standard deviation) is standardised to 0
    rather than divided by zero. Factors with a single value are left out.
    Continuous factors (size ``None``) are binned into 20 equal-width bins.
    ``LogisticRegression()`` keeps scikit-learn's current defaults (lbfgs,
    multinomial, ``C=1``, ``max_iter=100``), as disentanglement_lib's call
    does when run today.

    References
    ----------
    K. Ridgeway and M. C. Mozer, "Learning Deep Disentangled Embeddings With
    the F-Statistic Loss", NeurIPS 2018, Sec. 3.
    """
    params = resolve_protocol(_PROTOCOLS, protocol, {"n_train": n_train, "n_test": n_test},
                              _MINIMUMS)
    eligible = varying_factors(dataset, "explicitness")
    rng = check_random_state(random_state)
    n_observations = params["n_train"] + (params["n_test"] or 0)
    with encoding_progress(representation, n_observations, "explicitness", verbose) as encode:
        factors, codes, continuous = sample_eligible(
            encode, dataset, eligible, params["n_train"], rng, n_bins=params["n_bins"],
            need_all=True, what=f"the {params['n_train']} training samples of explicitness",
            parameter="n_train", n_test=params["n_test"])
    score, details = explicitness(factors, codes, protocol=protocol, test_size=params["n_test"],
                                  continuous_factors=continuous, n_bins=params["n_bins"],
                                  return_details=True)
    del details["factor_columns"]  # every eligible factor: coverage was checked
    details.update(protocol=protocol, eligible_factors=eligible)
    return finish(score, details, return_details)


@validate_return_details
def explicitness(factors, codes, *, protocol="community", test_size=None,
                 continuous_factors=False, n_bins=20, return_details=False):
    """Explicitness of codes against ground-truth factors (array form).

    The estimator of :func:`explicitness_score` on a sample you already hold.

    Parameters
    ----------
    {factors}
    {codes}
    protocol : {"community", "paper"}, default="community"
        Community: codes standardised with the training rows' mean and
        standard deviation, AUC on the test rows. Paper: raw codes, fit and
        scored on all rows (no split).
    test_size : int, float or None, default=None
        The last ``test_size`` rows (a count, or a fraction of the rows,
        rounded) are the test sample; rows are used in order, not shuffled.
        None: the protocol's split, a third of the rows for community (its
        10,000 / 5,000 samples), none for paper, which rejects a value.
    {continuous_factors}
    n_bins : int, default=20
        Equal-width bins of continuous factors, ``>= 2``.
    {return_details}

    Returns
    -------
    score : float
        Mean over factors of the macro-averaged one-vs-rest ROC-AUC, in
        ``[0, 1]``.
    details : dict, only if ``return_details``
        ``"factor_columns"``, ``"per_factor"``, ``"per_factor_train"``,
        ``"train_score"`` (see :func:`explicitness_score`).

    Raises
    ------
    ValueError
        As :func:`mig`; also an unknown protocol, a ``test_size`` that leaves
        no test or fewer than 2 training rows or is given with
        ``protocol="paper"``, or test rows showing a single value of a factor.
    """
    test_size = protocol_split(protocol, test_size, "explicitness")
    check_count("n_bins", n_bins, 2)
    sample = prepare(factors, codes, "explicitness", continuous_factors=continuous_factors,
                     n_bins=n_bins, test_size=test_size)
    codes, labels, train, test = (sample[key] for key in ("codes", "labels", "train", "test"))
    score, details = explicitness_from_codes(codes[train], labels[train], codes[test],
                                             labels[test], _PROTOCOLS[protocol]["standardize"])
    details["factor_columns"] = sample["columns"]
    return finish(score, details, return_details)


@checked_once
def explicitness_from_codes(train_codes, train_labels, test_codes, test_labels, standardize):
    """Explicitness of codes against factor labels.

    Parameters
    ----------
    train_codes, test_codes : ndarray of shape (n_train, n_codes), (n_test, n_codes)
    train_labels, test_labels : ndarray of shape (n_train, n_factors), (n_test, n_factors)
    standardize : bool
        Standardise codes with the training mean and standard deviation.

    Returns
    -------
    score : float
    details : dict
        ``"per_factor"``, ``"per_factor_train"``, ``"train_score"``.
    """
    if standardize:
        mean, std = train_codes.mean(axis=0), train_codes.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        train_codes, test_codes = (train_codes - mean) / std, (test_codes - mean) / std
    train_auc, test_auc = [], []
    for k in range(train_labels.shape[1]):
        model = LogisticRegression().fit(train_codes, train_labels[:, k])
        train_auc.append(macro_auc(model, train_codes, train_labels[:, k]))
        test_auc.append(macro_auc(model, test_codes, test_labels[:, k]))
    details = {"per_factor": np.array(test_auc), "per_factor_train": np.array(train_auc),
               "train_score": float(np.mean(train_auc))}
    return float(np.mean(test_auc)), details


def macro_auc(model, codes, labels):
    """Mean one-vs-rest ROC-AUC of ``model.predict_proba`` over the values present.

    A value that is absent from ``labels``, or is all of them, has no AUC and
    is skipped; with all values present this equals ``roc_auc_score`` on the
    one-hot labels (``average="macro"``), as disentanglement_lib computes it.
    Each AUC is the Mann-Whitney statistic of the value's probabilities (ties
    counted half), the area under the ROC curve that ``roc_auc_score``
    integrates, computed from one ranking per value.

    Raises
    ------
    ValueError
        If no value can be ranked (fewer than two distinct labels).
    """
    proba = model.predict_proba(codes)
    aucs = [binary_auc(labels == value, proba[:, j]) for j, value in enumerate(model.classes_)
            if 0 < np.count_nonzero(labels == value) < len(labels)]
    if not aucs:
        raise ValueError(
            f"the {len(labels)} test samples show a single value of a factor; explicitness "
            "needs at least two values in the test sample: increase n_test."
        )
    return float(np.mean(aucs))


def binary_auc(positive, scores):
    """ROC-AUC of ``scores`` for the boolean ``positive``: P(score+ > score-) + P(tie) / 2."""
    ranks = rankdata(scores)
    n_pos = np.count_nonzero(positive)
    n_neg = len(positive) - n_pos
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
