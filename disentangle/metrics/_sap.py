"""The Separated Attribute Predictability score (Kumar et al. 2018, Sec. 3).

A score matrix ``S[c, k]`` rates how well code dimension ``c`` alone predicts
factor ``k``; SAP is the mean over factors of the gap between the best and the
second-best code dimension. A factor is rated either as *continuous*, by the
squared correlation of the code with the factor (``cov**2 / (var_c var_k)``,
ddof 1; 0 for a code with variance ``<= 1e-12``), or as *discrete*, by the
accuracy of a one-feature ``LinearSVC(C=0.01, class_weight="balanced")``.

``"community"``
    ``google-research/disentanglement_lib``,
    ``disentanglement_lib/evaluation/metrics/sap_score.py`` with
    ``config/unsupervised_study_v1/metric_configs/sap_score.gin``: 10,000
    training and 5,000 test samples, ``continuous_factors=False``: every
    factor discrete, the classifier fit on the training sample and its
    accuracy measured on the test sample.
``"paper"``
    The InfoGAN-CR authors' ``SAPMetric`` (``fjxmlzn/InfoGAN-CR``,
    ``*/gan/metric.py``, data from ``InfoGAN-CR_dSprites/gan/load_data.py``):
    73,728 random observations, no split (the classifier is scored on the
    sample it was fit on); on dSprites shape is discrete and scale,
    orientation and positions are continuous (``is_continuous = [False,
    True, True, True, True]``).
"""

import numpy as np
from sklearn.svm import LinearSVC
from sklearn.utils import check_random_state

from disentangle.metrics._arrays import checked_once, prepare, protocol_split
from disentangle.metrics._discrete import check_coverage, factor_names
from disentangle.metrics._sampling import (
    encoding_progress,
    finish,
    is_discrete_size,
    resolve_protocol,
    sample_train_test,
    validate_return_details,
    varying_factors,
)

_PROTOCOLS = {
    # disentanglement_lib unsupervised_study_v1 sap_score.gin.
    "community": {"n_train": 10_000, "n_test": 5_000},
    # fjxmlzn/InfoGAN-CR load_data.py img_with_latent: imgs.shape[0] / 10 images, no split.
    "paper": {"n_train": 73_728, "n_test": None},
}
_MINIMUMS = {"n_train": 2, "n_test": 1}
# Factors the InfoGAN-CR code treats as discrete (is_continuous False): dSprites' shape.
_PAPER_DISCRETE_NAMES = ("shape",)


@validate_return_details
def sap_score(
    representation,
    dataset,
    *,
    protocol="community",
    random_state=None,
    n_train=None,
    n_test=None,
    continuous_factors=None,
    verbose=0,
    return_details=False,
):
    """SAP score of a representation on a ground-truth dataset.

    Parameters
    ----------
    {representation}
    dataset : GroundTruthDataset
    {protocol}
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the samples and the classifiers.
    n_train : int, default=None
        Training observations, ``>= 2``; every value of every discrete factor
        must appear among them. Default 10,000 (community) or 73,728 (paper,
        the one sample that is fit and scored).
    n_test : int, default=None
        Test observations for the discrete factors, ``>= 1``; community only
        (default 5,000).
    continuous_factors : bool or array-like of bool of shape (n_factors,), default=None
        Which factors are rated by squared correlation. Default: community
        False for every factor (the gin config); paper True for every factor
        not named ``"shape"`` (the paper's dSprites setting). Factors without
        a finite size (``None``) are always continuous.
    {verbose}
    {return_details}

    Returns
    -------
    score : float
        Mean over factors of the gap between the two best code dimensions'
        scores, in ``[0, 1]``. A perfect representation scores about 1 with
        continuous factors (an uninformative code has squared correlation
        about 0). With discrete factors it scores less: a one-feature linear
        classifier cannot single out the middle values of a factor with more
        than two, and an uninformative code still reaches chance accuracy
        (0.5 for a balanced binary factor). Never NaN.
    details : dict, only if ``return_details``
        ``"protocol"``; ``"eligible_factors"`` (ndarray of int);
        ``"continuous"`` (ndarray (n_eligible,), bool);
        ``"score_matrix"`` (ndarray (n_codes, n_eligible), float64, in
        ``[0, 1]``); ``"per_factor"`` (ndarray (n_eligible,), the gaps).

    Raises
    ------
    ValueError
        On an unknown protocol, a count below its minimum, ``n_test`` with
        ``protocol="paper"``, a mis-shaped ``continuous_factors``, a dataset
        without a factor of more than one value, a training sample missing a
        value of a discrete factor (the message says how many samples are
        needed), or a representation returning NaN, infinite or mis-shaped
        codes.
    TypeError
        If ``representation`` is neither callable nor has ``transform`` or
        returns codes that are not numbers, or ``return_details`` is not a bool.

    Notes
    -----
    Factors with a single value are left out (the classifier cannot be fit;
    the squared correlation divides by zero). With a single code dimension
    the second-best is a collapsed (constant) dimension, scored the same way
    (disentanglement_lib indexes past the end).

    References
    ----------
    A. Kumar, P. Sattigeri and A. Balakrishnan, "Variational Inference of
    Disentangled Latent Concepts from Unlabeled Observations", ICLR 2018,
    Sec. 3.
    """
    params = resolve_protocol(_PROTOCOLS, protocol, {"n_train": n_train, "n_test": n_test},
                              _MINIMUMS)
    eligible = varying_factors(dataset, "the SAP score")
    continuous = _continuous_mask(dataset, eligible, continuous_factors, protocol)
    rng = check_random_state(random_state)
    n_observations = params["n_train"] + (params["n_test"] or 0)
    with encoding_progress(representation, n_observations, "SAP score", verbose) as encode:
        (train_factors, train_codes), (test_factors, test_codes) = sample_train_test(
            encode, dataset, params["n_train"], params["n_test"], rng)
    discrete = ~continuous
    check_coverage(train_factors[:, eligible[discrete]],
                   [dataset.factor_sizes[k] for k in eligible[discrete]],
                   factor_names(dataset, eligible[discrete]), need_all=True,
                   what=f"the {params['n_train']} training samples of the SAP score",
                   parameter="n_train")
    if params["n_test"] is not None:
        train_factors = np.vstack([train_factors, test_factors])
        train_codes = np.vstack([train_codes, test_codes])
    score, details = sap(train_factors[:, eligible], train_codes, protocol=protocol,
                         test_size=params["n_test"], random_state=rng,
                         continuous_factors=continuous, return_details=True)
    del details["factor_columns"]  # every eligible factor: coverage was checked
    details.update(protocol=protocol, eligible_factors=eligible)
    return finish(score, details, return_details)


@validate_return_details
def sap(factors, codes, *, protocol="community", test_size=None, random_state=None,
        continuous_factors=False, return_details=False):
    """SAP score of codes against ground-truth factors (array form).

    The estimator of :func:`sap_score` on a sample you already hold.

    Parameters
    ----------
    {factors}
    {codes}
    protocol : {"community", "paper"}, default="community"
        Community: the classifiers of discrete factors are fit on the
        training rows and scored on the test rows. Paper: fit and scored on
        all rows. (The paper's choice of continuous factors needs their
        names; give ``continuous_factors`` here.)
    test_size : int, float or None, default=None
        The last ``test_size`` rows (a count, or a fraction of the rows,
        rounded) are the test sample; rows are used in order, not shuffled.
        None: the protocol's split, a third of the rows for community (its
        10,000 / 5,000 samples), none for paper, which rejects a value.
    random_state : int, RandomState instance or None, default=None
        Seeds the classifiers.
    continuous_factors : bool or array-like of bool, default=False
        Which factor columns are continuous (one bool, or one per column):
        rated by the squared correlation of their values with each code (on
        the training rows) instead of a classifier's accuracy.
    {return_details}

    Returns
    -------
    score : float
        Mean over factors of the gap between the two best code dimensions'
        scores, in ``[0, 1]``.
    details : dict, only if ``return_details``
        ``"factor_columns"``, ``"continuous"``, ``"score_matrix"``,
        ``"per_factor"`` (see :func:`sap_score`).

    Raises
    ------
    ValueError
        As :func:`~disentangle.metrics.explicitness`.
    """
    test_size = protocol_split(protocol, test_size, "sap")
    sample = prepare(factors, codes, "sap", continuous_factors=continuous_factors,
                     test_size=test_size)
    continuous, train, test = sample["continuous"], sample["train"], sample["test"]
    # Continuous factors are rated on their values, discrete ones on their labels.
    y = np.where(continuous, sample["factors"], sample["labels"])
    codes = sample["codes"]
    score, details = sap_from_codes(codes[train], y[train], codes[test], y[test], continuous,
                                    check_random_state(random_state))
    details["factor_columns"] = sample["columns"]
    return finish(score, details, return_details)


def _continuous_mask(dataset, eligible, continuous_factors, protocol):
    """Which eligible factors are rated by squared correlation, bool (n_eligible,)."""
    sizes = list(dataset.factor_sizes)
    if continuous_factors is None:
        if protocol == "paper":
            names = factor_names(dataset, range(len(sizes)))
            mask = np.array([name not in _PAPER_DISCRETE_NAMES for name in names])
        else:
            mask = np.zeros(len(sizes), dtype=bool)
    else:
        mask = np.asarray(continuous_factors)
        if mask.ndim == 0:
            mask = np.full(len(sizes), mask)
        if mask.shape != (len(sizes),) or mask.dtype != bool:
            raise ValueError(
                f"continuous_factors must be a bool or {len(sizes)} bools (one per factor); "
                f"got {continuous_factors!r}."
            )
    unsized = np.array([not is_discrete_size(size) for size in sizes])
    return (mask | unsized)[eligible]


@checked_once
def sap_from_codes(train_codes, train_y, test_codes, test_y, continuous, rng):
    """SAP of codes against factor values.

    Parameters
    ----------
    train_codes, test_codes : ndarray of shape (n_train, n_codes), (n_test, n_codes)
    train_y, test_y : ndarray of shape (n_train, n_factors), (n_test, n_factors)
        Factor values (indices for discrete factors).
    continuous : ndarray of shape (n_factors,), bool
    rng : RandomState
        Seeds the classifiers.

    Returns
    -------
    score : float
    details : dict
        ``"continuous"``, ``"score_matrix"``, ``"per_factor"``.
    """
    # A single code is compared with a collapsed one, scored the same way.
    padded = train_codes.shape[1] == 1
    if padded:
        train_codes = np.hstack([train_codes, np.zeros((len(train_codes), 1))])
        test_codes = np.hstack([test_codes, np.zeros((len(test_codes), 1))])
    matrix = np.array([
        [_pair_score(train_codes[:, c], train_y[:, k], test_codes[:, c], test_y[:, k],
                     continuous[k], rng) for k in range(train_y.shape[1])]
        for c in range(train_codes.shape[1])
    ])
    ranked = np.sort(matrix, axis=0)
    per_factor = ranked[-1] - ranked[-2]
    details = {"continuous": continuous, "score_matrix": matrix[:1] if padded else matrix,
               "per_factor": per_factor}
    return float(np.mean(per_factor)), details


def _pair_score(code, y, test_code, test_y, continuous, rng):
    """Score of one code dimension for one factor, in ``[0, 1]``."""
    if continuous:
        cov = np.cov(code, y.astype(np.float64), ddof=1)
        if cov[0, 0] <= 1e-12 or cov[1, 1] <= 0:
            return 0.0
        return float(cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1]))
    seed = rng.randint(np.iinfo(np.int32).max)
    model = LinearSVC(C=0.01, class_weight="balanced", random_state=seed)
    model.fit(code[:, None], y.astype(np.int64))
    return float(np.mean(model.predict(test_code[:, None]) == test_y.astype(np.int64)))
