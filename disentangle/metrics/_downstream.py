"""Downstream-task scores: how well each factor can be predicted from the codes.

For every factor a classifier is fit on the training codes and scored by its
accuracy on test codes; repeating this with 10, 100, 1,000 and 10,000
training points measures sample efficiency (Locatello et al. 2019, Sec. 6:
the accuracy with 100 points divided by that with 10,000).

``"community"``
    ``google-research/disentanglement_lib``,
    ``disentanglement_lib/evaluation/metrics/downstream_task.py`` with
    ``downstream_task_logistic_regression.gin`` and
    ``downstream_task_boosted_trees.gin`` (``unsupervised_study_v1`` metric
    configs): for each training size in ``[10, 100, 1000, 10000]`` a fresh
    training sample and a fresh test sample of 5,000 are drawn, in that
    order; the classifier is ``LogisticRegressionCV(Cs=10,
    cv=KFold(n_splits=5))`` (``utils.logistic_regression_cv``) or
    ``GradientBoostingClassifier()`` (``utils.gradient_boosting_classifier``),
    on the raw codes, one per factor, with the factor's values as classes.
    The InfoGAN-CR code has no downstream task, so there is no ``"paper"``
    protocol.
"""

import inspect

import numpy as np
from joblib import Parallel, delayed
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import KFold
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
    # disentanglement_lib downstream_task_*.gin: num_test (num_train is a list, below).
    "community": {"n_test": 5_000, "n_bins": 20},
}
_MINIMUMS = {"n_test": 1, "n_bins": 2}
#: downstream_task.num_train of the unsupervised_study_v1 configs.
TRAIN_SIZES = (10, 100, 1_000, 10_000)
PREDICTORS = ("logistic_regression", "boosted_trees")


@validate_return_details
def downstream_task_score(
    representation,
    dataset,
    *,
    predictor="logistic_regression",
    protocol="community",
    random_state=None,
    train_sizes=TRAIN_SIZES,
    n_test=None,
    n_jobs=None,
    verbose=0,
    return_details=False,
):
    """Downstream-task accuracy of a representation on a ground-truth dataset.

    Parameters
    ----------
    {representation}
    {dataset}
    predictor : {"logistic_regression", "boosted_trees"}, default="logistic_regression"
        ``LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5))`` or
        ``GradientBoostingClassifier()``, one per factor.
    protocol : {"community"}, default="community"
        disentanglement_lib's settings (see the module docstring).
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the samples and the boosted trees.
    train_sizes : sequence of int, default=(10, 100, 1000, 10000)
        Training sample sizes, each ``>= 2``; each gets its own training and
        test sample, drawn in this order.
    n_test : int, default=None
        Test observations per training size, ``>= 1``; default 5,000.
    n_jobs : int or None, default=None
        Factors whose classifiers are fit in parallel (joblib); the result
        does not depend on it.
    {verbose}
    {return_details}

    Returns
    -------
    score : float
        Mean test accuracy over the factors with the last (by default the
        largest) training size, in ``[0, 1]``.
    details : dict, only if ``return_details``
        ``"protocol"``; ``"predictor"``; ``"eligible_factors"``;
        ``"train_sizes"`` (ndarray of int); ``"train_accuracy"`` and
        ``"test_accuracy"`` (ndarray (n_sizes, n_eligible)); their means and
        minima over the factors ``"mean_train_accuracy"``,
        ``"mean_test_accuracy"``, ``"min_train_accuracy"``,
        ``"min_test_accuracy"`` (ndarray (n_sizes,)), disentanglement_lib's
        ``"<size>:mean_test_accuracy"`` and the like; and, when
        ``train_sizes`` holds 100 and 10,000, ``"sample_efficiency"``: the
        mean test accuracy with 100 points divided by that with 10,000
        (Locatello et al. 2019, Sec. 6).

    Raises
    ------
    ValueError
        An unknown predictor or protocol, a size below its minimum, a dataset
        without a factor of more than one value, or a representation
        returning NaN, infinite or mis-shaped codes.
    TypeError
        As :func:`~disentangle.metrics.mig_score`.

    References
    ----------
    F. Locatello et al., "Challenging Common Assumptions in the Unsupervised
    Learning of Disentangled Representations", ICML 2019, Sec. 6.
    """
    params = resolve_protocol(_PROTOCOLS, protocol, {"n_test": n_test}, _MINIMUMS)
    sizes = [check_count("train_sizes", size, 2) for size in np.atleast_1d(train_sizes).tolist()]
    _check_predictor(predictor)
    eligible = varying_factors(dataset, "the downstream task")
    rng = check_random_state(random_state)
    accuracies = []
    total = sum(sizes) + len(sizes) * params["n_test"]
    with encoding_progress(representation, total, "downstream task", verbose) as encode:
        for size in sizes:
            # No coverage check: 10 training points may show one value of a factor.
            factors, codes, continuous = sample_eligible(
                encode, dataset, eligible, size, rng, n_bins=params["n_bins"], need_all=None,
                what="", parameter="train_sizes", n_test=params["n_test"])
            _, one = downstream_task(factors, codes, predictor=predictor,
                                     test_size=params["n_test"], random_state=rng,
                                     n_jobs=n_jobs, continuous_factors=continuous,
                                     n_bins=params["n_bins"], return_details=True)
            accuracies.append((one["train_accuracy"], one["test_accuracy"]))
    details = _size_details(sizes, accuracies)
    details.update(protocol=protocol, predictor=predictor, eligible_factors=eligible)
    return finish(details["mean_test_accuracy"][-1], details, return_details)


def _size_details(sizes, accuracies):
    """The details of :func:`downstream_task_score` from per-size (train, test) accuracies."""
    train, test = (np.array(list(column)) for column in zip(*accuracies, strict=True))
    details = {"train_sizes": np.array(sizes), "train_accuracy": train, "test_accuracy": test}
    for name, values in (("train", train), ("test", test)):
        details[f"mean_{name}_accuracy"] = values.mean(axis=1)
        details[f"min_{name}_accuracy"] = values.min(axis=1)
        for size, mean, low in zip(sizes, values.mean(axis=1), values.min(axis=1), strict=True):
            details[f"{size}:mean_{name}_accuracy"] = float(mean)
            details[f"{size}:min_{name}_accuracy"] = float(low)
    if 100 in sizes and 10_000 in sizes:
        mean = details["mean_test_accuracy"]
        details["sample_efficiency"] = float(mean[sizes.index(100)] / mean[sizes.index(10_000)])
    return details


@validate_return_details
def downstream_task(factors, codes, *, predictor="logistic_regression", test_size=None,
                    random_state=None, n_jobs=None, continuous_factors=False, n_bins=20,
                    return_details=False):
    """Downstream-task accuracy of codes against ground-truth factors (array form).

    One training size of :func:`downstream_task_score`: a classifier per
    factor fit on the training rows' codes, scored on the test rows.

    Parameters
    ----------
    {factors}
    {codes}
    predictor : {"logistic_regression", "boosted_trees"}, default="logistic_regression"
        ``LogisticRegressionCV(Cs=10, cv=KFold(n_splits=5))`` or
        ``GradientBoostingClassifier()``.
    test_size : int, float or None, default=None
        The last ``test_size`` rows (a count, or a fraction of the rows,
        rounded) are the test sample; rows are used in order, not shuffled.
        None: a third of the rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the boosted trees (the logistic regression is deterministic).
    n_jobs : int or None, default=None
        Factors whose classifiers are fit in parallel (joblib); the result
        does not depend on it.
    {continuous_factors}
    n_bins : int, default=20
        Equal-width classes of continuous factors, ``>= 2``.
    {return_details}

    Returns
    -------
    score : float
        Mean test accuracy over the factors, in ``[0, 1]``.
    details : dict, only if ``return_details``
        ``"factor_columns"`` (ndarray of int, the columns scored);
        ``"train_accuracy"``, ``"test_accuracy"`` (ndarray (n_scored,));
        ``"min_test_accuracy"`` (float).

    Raises
    ------
    ValueError
        As :func:`~disentangle.metrics.explicitness`, and an unknown
        predictor.

    Notes
    -----
    A factor with a single value in all rows is left out. One that shows a
    single value among the training rows only (likely with 10 of them) is
    predicted to keep that value, which is what a classifier could learn
    from them (the classifiers need two classes; disentanglement_lib fails).
    A value that appears only in the test rows is never predicted, so it
    counts as an error.
    """
    _check_predictor(predictor)
    check_count("n_bins", n_bins, 2)
    test_size = protocol_split("community", test_size, "downstream_task")
    sample = prepare(factors, codes, "downstream_task", continuous_factors=continuous_factors,
                     n_bins=n_bins, test_size=test_size, vary_in_training=False)
    codes, labels, train, test = (sample[key] for key in ("codes", "labels", "train", "test"))
    seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max,
                                                     size=labels.shape[1])
    fits = Parallel(n_jobs=n_jobs)(
        delayed(_fit_predictor)(predictor, seed, codes[train], labels[train, k], codes[test],
                                labels[test, k])
        for k, seed in enumerate(seeds))
    train_acc, test_acc = (np.array(column) for column in zip(*fits, strict=True))
    details = {"factor_columns": sample["columns"], "train_accuracy": train_acc,
               "test_accuracy": test_acc, "min_test_accuracy": float(test_acc.min())}
    return finish(test_acc.mean(), details, return_details)


def _check_predictor(predictor):
    if predictor not in PREDICTORS:
        raise ValueError(f"predictor must be one of {PREDICTORS}; got {predictor!r}.")


@checked_once
def _fit_predictor(predictor, seed, train_codes, train_y, test_codes, test_y):
    """Training and test accuracy of one factor's classifier."""
    if np.unique(train_y).size == 1:
        model = DummyClassifier(strategy="most_frequent")
    elif predictor == "logistic_regression":
        model = _logistic_regression_cv(n_splits=min(5, len(train_y)))
    else:
        model = GradientBoostingClassifier(random_state=seed)
    model.fit(train_codes, train_y)
    return (float(np.mean(model.predict(train_codes) == train_y)),
            float(np.mean(model.predict(test_codes) == test_y)))


def _logistic_regression_cv(n_splits):
    """``LogisticRegressionCV(Cs=10, cv=KFold(n_splits))`` scored by accuracy, as in 2019.

    scikit-learn 1.9 warns that the defaults of ``l1_ratios``, ``scoring`` and
    the fitted attributes will change; they are set here to what the old
    defaults did (an L2 penalty, accuracy), so every supported version fits
    the same model without warnings.
    """
    new_defaults = "use_legacy_attributes" in inspect.signature(LogisticRegressionCV).parameters
    extra = {"l1_ratios": (0.0,), "use_legacy_attributes": False} if new_defaults else {}
    return LogisticRegressionCV(Cs=10, cv=KFold(n_splits=n_splits), scoring="accuracy", **extra)
