"""Disentanglement, completeness and informativeness (Eastwood & Williams 2018).

One predictor per factor gives the importance ``R[c, k] >= 0`` of code
dimension ``c`` for factor ``k``. Disentanglement of a code is ``1 - H_K(P_c)``
with ``P_c`` its importances normalised over the ``K`` factors and ``H_K`` the
entropy in base ``K``; the score is their mean weighted by each code's share of
the total importance. Completeness of a factor is ``1 - H_C`` of its
importances normalised over the ``C`` codes. Informativeness is the predictors'
accuracy.

``"community"``
    ``google-research/disentanglement_lib``,
    ``disentanglement_lib/evaluation/metrics/dci.py`` with
    ``config/unsupervised_study_v1/metric_configs/dci.gin``: 10,000 training
    and 5,000 test samples; ``GradientBoostingClassifier()`` (scikit-learn
    defaults) per factor on the raw codes, importance ``feature_importances_``;
    completeness averaged with each factor's share of the total importance;
    informativeness the mean training / test accuracy.
``"paper"``
    The InfoGAN-CR authors' ``DCIMetric`` (``fjxmlzn/InfoGAN-CR``,
    ``*/gan/metric.py``, after ``cianeastwood/qedr``) with its default
    regressor: codes and factor values standardised, ``Lasso(alpha=0.02)``
    per factor on 73,728 random observations, importance ``|coef_|``;
    completeness is the plain mean over factors; no informativeness. (That
    code also offers LassoCV and random-forest regressors; which one the
    paper's table used is not stated, and ``Lasso`` is its default.) Factor
    indices stand in for factor values; on dSprites they are affine in each
    other, which standardisation removes.
"""

import numpy as np
from joblib import Parallel, delayed
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import Lasso
from sklearn.utils import check_random_state

from disentangle.metrics._arrays import checked_once, prepare, protocol_split, sample_eligible
from disentangle.metrics._discrete import one_minus_entropy
from disentangle.metrics._sampling import (
    check_count,
    encoding_progress,
    finish,
    resolve_protocol,
    validate_return_details,
    varying_factors,
)

_PROTOCOLS = {
    # disentanglement_lib unsupervised_study_v1 dci.gin.
    "community": {"n_train": 10_000, "n_test": 5_000, "n_bins": 20},
    # fjxmlzn/InfoGAN-CR DCIMetric(regressor="Lasso") on img_with_latent (73,728), no split.
    "paper": {"n_train": 73_728, "n_test": None, "n_bins": 20},
}
_MINIMUMS = {"n_train": 2, "n_test": 1}
_LASSO_ALPHA = 0.02


@validate_return_details
def dci_score(
    representation,
    dataset,
    *,
    protocol="community",
    random_state=None,
    n_train=None,
    n_test=None,
    n_jobs=None,
    verbose=0,
    return_details=False,
):
    """DCI disentanglement of a representation on a ground-truth dataset.

    Parameters
    ----------
    {representation}
    dataset : GroundTruthDataset
    {protocol}
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the samples and the gradient-boosting models.
    n_train : int, default=None
        Training observations, ``>= 2``. Community: every value of every
        factor must appear among them (default 10,000). Paper: the one sample
        that is fit (default 73,728); every factor must show two values.
    n_test : int, default=None
        Test observations for informativeness, ``>= 1``; community only
        (default 5,000).
    n_jobs : int or None, default=None
        Factors whose gradient-boosting models are fit in parallel (joblib;
        ``-1`` for all cores). The result does not depend on it. Unused by the
        paper protocol, whose Lasso fits take milliseconds.
    {verbose}
    {return_details}

    Returns
    -------
    score : float
        Disentanglement in ``[0, 1]``; 1 when every code that matters for the
        predictors matters for one factor only. 0 when no code has any
        importance. Never NaN.
    details : dict, only if ``return_details``
        ``"protocol"``; ``"eligible_factors"`` (ndarray of int);
        ``"importance_matrix"`` (ndarray (n_codes, n_eligible), float64,
        ``>= 0``); ``"disentanglement"`` and ``"completeness"`` (float);
        ``"disentanglement_per_code"`` (ndarray (n_codes,));
        ``"completeness_per_factor"`` (ndarray (n_eligible,));
        ``"code_importance"`` (ndarray (n_codes,), the weights of the
        disentanglement average, summing to 1); community also
        ``"informativeness_train"`` and ``"informativeness_test"`` (float,
        mean accuracy) and ``"informativeness_per_factor"`` (ndarray
        (n_eligible,), test accuracy).

    Raises
    ------
    ValueError
        On an unknown protocol, a count below its minimum, ``n_test`` with
        ``protocol="paper"``, a dataset without a factor of more than one
        value, a training sample missing a value of a factor (the message says
        how many samples are needed), or a representation returning NaN,
        infinite or mis-shaped codes.
    TypeError
        If ``representation`` is neither callable nor has ``transform`` or
        returns codes that are not numbers, or ``return_details`` is not a bool.

    Notes
    -----
    Edge cases: factors with a single value are left out (a classifier needs
    two classes). With one code dimension completeness is 1, and with one
    factor every code's disentanglement is 1 (the references take logarithms
    in base 1). A code (factor) with no importance at all has
    disentanglement (completeness) 0, as in disentanglement_lib, where the
    InfoGAN-CR code returns NaN; a collapsed code is standardised to 0 rather
    than divided by zero. Continuous factors (size ``None``) are binned into 20
    equal-width classes for the community classifier; the paper's regression
    uses their values.

    References
    ----------
    C. Eastwood and C. K. I. Williams, "A Framework for the Quantitative
    Evaluation of Disentangled Representations", ICLR 2018, Sec. 2.
    """
    params = resolve_protocol(_PROTOCOLS, protocol, {"n_train": n_train, "n_test": n_test},
                              _MINIMUMS)
    eligible = varying_factors(dataset, "DCI")
    rng = check_random_state(random_state)
    n_observations = params["n_train"] + (params["n_test"] or 0)
    with encoding_progress(representation, n_observations, "DCI", verbose) as encode:
        factors, codes, continuous = sample_eligible(
            encode, dataset, eligible, params["n_train"], rng, n_bins=params["n_bins"],
            need_all=params["n_test"] is not None, parameter="n_train",
            what=f"the {params['n_train']} training samples of DCI", n_test=params["n_test"])
    _, details = dci(factors, codes, protocol=protocol, test_size=params["n_test"],
                     random_state=rng, n_jobs=n_jobs, continuous_factors=continuous,
                     n_bins=params["n_bins"], return_details=True)
    del details["factor_columns"]  # every eligible factor: coverage was checked
    details.update(protocol=protocol, eligible_factors=eligible)
    return finish(details["disentanglement"], details, return_details)


@validate_return_details
def dci(factors, codes, *, protocol="community", test_size=None, random_state=None, n_jobs=None,
        continuous_factors=False, n_bins=20, return_details=False):
    """DCI disentanglement of codes against ground-truth factors (array form).

    The estimator of :func:`dci_score` on a sample you already hold.

    Parameters
    ----------
    {factors}
    {codes}
    protocol : {"community", "paper"}, default="community"
        Community: ``GradientBoostingClassifier`` per factor on the training
        rows, accuracy on the test rows. Paper: ``Lasso(alpha=0.02)`` per
        factor on the standardised codes and factor values of all rows.
    test_size : int, float or None, default=None
        The last ``test_size`` rows (a count, or a fraction of the rows,
        rounded) are the test sample; rows are used in order, not shuffled.
        None: the protocol's split, a third of the rows for community (its
        10,000 / 5,000 samples), none for paper, which rejects a value.
    random_state : int, RandomState instance or None, default=None
        Seeds the gradient-boosting models.
    n_jobs : int or None, default=None
        Factors whose models are fit in parallel (joblib); the result does not
        depend on it.
    {continuous_factors}
    n_bins : int, default=20
        Equal-width classes of continuous factors for the community
        classifiers, ``>= 2``.
    {return_details}

    Returns
    -------
    score : float
        Disentanglement in ``[0, 1]``.
    details : dict, only if ``return_details``
        ``"factor_columns"`` and the entries of :func:`dci_score`'s details
        (importance matrix, completeness, informativeness).

    Raises
    ------
    ValueError
        As :func:`~disentangle.metrics.explicitness`.
    """
    test_size = protocol_split(protocol, test_size, "dci")
    check_count("n_bins", n_bins, 2)
    sample = prepare(factors, codes, "dci", continuous_factors=continuous_factors,
                     n_bins=n_bins, test_size=test_size)
    codes, train, test = sample["codes"], sample["train"], sample["test"]
    if protocol == "community":
        labels = sample["labels"]
        importance, details = gbt_importance(codes[train], labels[train], codes[test],
                                             labels[test], check_random_state(random_state),
                                             n_jobs)
    else:
        importance, details = lasso_importance(codes, sample["factors"])
    details.update(dci_from_importance(importance, weighted_completeness=protocol == "community"))
    details["factor_columns"] = sample["columns"]
    return finish(details["disentanglement"], details, return_details)


def gbt_importance(train_codes, train_y, test_codes, test_y, rng, n_jobs=None):
    """Gradient-boosting importances and accuracies, as disentanglement_lib.

    One model per factor, each seeded from ``rng`` up front, so the result
    does not depend on ``n_jobs`` (joblib workers fitting factors in parallel).

    Returns
    -------
    importance : ndarray of shape (n_codes, n_factors)
    details : dict
        ``"informativeness_train"``, ``"informativeness_test"``,
        ``"informativeness_per_factor"``.
    """
    seeds = rng.randint(np.iinfo(np.int32).max, size=train_y.shape[1])
    fits = Parallel(n_jobs=n_jobs)(
        delayed(_fit_gbt)(train_codes, train_y[:, k], test_codes, test_y[:, k], seed)
        for k, seed in enumerate(seeds))
    columns, train_acc, test_acc = zip(*fits, strict=True)
    details = {"informativeness_train": float(np.mean(train_acc)),
               "informativeness_test": float(np.mean(test_acc)),
               "informativeness_per_factor": np.array(test_acc)}
    return np.stack(columns, axis=1), details


@checked_once
def _fit_gbt(train_codes, train_y, test_codes, test_y, seed):
    """Importances, training and test accuracy of ``GradientBoostingClassifier()``."""
    model = GradientBoostingClassifier(random_state=seed).fit(train_codes, train_y)
    return (np.abs(model.feature_importances_),
            float(np.mean(model.predict(train_codes) == train_y)),
            float(np.mean(model.predict(test_codes) == test_y)))


@checked_once
def lasso_importance(codes, factors):
    """|Lasso coefficients| on standardised codes and factors, as the InfoGAN-CR code.

    Returns
    -------
    importance : ndarray of shape (n_codes, n_factors)
    details : dict
        Empty (the paper reports no informativeness).
    """
    x, y = _standardize(codes), _standardize(factors)
    columns = [np.abs(Lasso(alpha=_LASSO_ALPHA).fit(x, target).coef_) for target in y.T]
    return np.stack(columns, axis=1), {}


def _standardize(values):
    """Zero mean and unit standard deviation per column (ddof 0); constant columns to 0."""
    std = values.std(axis=0)
    return (values - values.mean(axis=0)) / np.where(std > 0, std, 1.0)


def dci_from_importance(importance, weighted_completeness=True):
    """Disentanglement and completeness of an importance matrix.

    Parameters
    ----------
    importance : ndarray of shape (n_codes, n_factors), ``>= 0``
    weighted_completeness : bool, default=True
        Average completeness with each factor's share of the importance
        (disentanglement_lib) or plainly (InfoGAN-CR code).

    Returns
    -------
    details : dict
        ``"importance_matrix"``, ``"disentanglement"``, ``"completeness"``,
        ``"disentanglement_per_code"``, ``"completeness_per_factor"``,
        ``"code_importance"``.
    """
    per_code = one_minus_entropy(importance, axis=1)
    per_factor = one_minus_entropy(importance, axis=0)
    total = importance.sum()
    weights = importance if total > 0 else np.ones_like(importance)
    code_weight = weights.sum(axis=1) / weights.sum()
    factor_weight = (weights.sum(axis=0) / weights.sum() if weighted_completeness
                     else np.full(importance.shape[1], 1.0 / importance.shape[1]))
    disentanglement = float(np.sum(per_code * code_weight)) if total > 0 else 0.0
    return {
        "importance_matrix": importance,
        "disentanglement": disentanglement,
        "completeness": float(np.sum(per_factor * factor_weight)),
        "disentanglement_per_code": per_code,
        "completeness_per_factor": per_factor,
        "code_importance": code_weight,
    }
