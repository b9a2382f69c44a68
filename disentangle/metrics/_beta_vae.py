"""The β-VAE disentanglement score (Higgins et al. 2017, Sec. 3).

A *point* holds one ground-truth factor fixed across pairs of observations and
redraws every other factor; its feature is the mean absolute difference of the
pairs' codes, and its label the fixed factor. A linear classifier
(``sklearn.linear_model.LogisticRegression``, as disentanglement_lib's
``beta_vae_sklearn``) predicts the label from the feature; the score is its
accuracy.

``"community"``
    ``google-research/disentanglement_lib``,
    ``disentanglement_lib/evaluation/metrics/beta_vae.py`` with
    ``config/unsupervised_study_v1/metric_configs/beta_vae_sklearn.gin``: 64
    pairs per point, each pair with its own value of the fixed factor (drawn
    uniformly per point), 10,000 training and 5,000 evaluation points;
    ``LogisticRegression(random_state=...)``, the score is the evaluation
    accuracy.
``"paper"``
    The InfoGAN-CR authors' ``BetaVAEMetric`` (``fjxmlzn/InfoGAN-CR``,
    ``*/gan/metric.py``) on the FactorVAE vote groups of
    ``InfoGAN-CR_dSprites/gan/load_data.py``: 500 points, each a group of 100
    observations sharing one value of the fixed factor, which cycles over the
    factors; the pairs are observations (0, 1), (2, 3), ... of the group;
    ``LogisticRegression()`` scored on the points it was fit on (no split).
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.utils import check_random_state

from disentangle.metrics._discrete import check_coverage, factor_names
from disentangle.metrics._representation import encode_factors
from disentangle.metrics._sampling import (
    ROWS_PER_CALL,
    encoding_progress,
    finish,
    fixed_factors,
    group_factors,
    resolve_protocol,
    validate_return_details,
    varying_factors,
)

_PROTOCOLS = {
    # disentanglement_lib unsupervised_study_v1 beta_vae_sklearn.gin.
    "community": {"batch_size": 64, "n_train": 10_000, "n_eval": 5_000, "cycle": False,
                  "value_per_pair": True},
    # fjxmlzn/InfoGAN-CR load_data.py groups: M = 500 groups of L = 100 (50 pairs).
    "paper": {"batch_size": 50, "n_train": 500, "n_eval": None, "cycle": True,
              "value_per_pair": False},
}
_MINIMUMS = {"batch_size": 1, "n_train": 1, "n_eval": 1}


@validate_return_details
def beta_vae_score(
    representation,
    dataset,
    *,
    protocol="community",
    random_state=None,
    batch_size=None,
    n_train=None,
    n_eval=None,
    verbose=0,
    return_details=False,
):
    """β-VAE score of a representation on a ground-truth dataset.

    Parameters
    ----------
    {representation}
    dataset : GroundTruthDataset
    {protocol}
    random_state : int, RandomState instance or None, default=None
        Seed or generator for the points and the classifier.
    batch_size : int, default=None
        Pairs of observations per point, ``>= 1``. Default 64 (community) or
        50 (paper: groups of 100 observations).
    n_train : int, default=None
        Points the classifier is fit on, ``>= 1``; every factor with more
        than one value must be the fixed factor of one of them. Default
        10,000 (community) or 500 (paper).
    n_eval : int, default=None
        Points the classifier is scored on, ``>= 1``; community only. Default
        5,000. The paper protocol scores the training points and rejects it.
    {verbose}
    {return_details}

    Returns
    -------
    score : float
        Classifier accuracy in ``[0, 1]``: on the evaluation points
        (community) or the training points (paper). 1 for a representation
        in which each factor moves its own code dimensions; ``1 / K`` in
        expectation on evaluation points for codes that ignore the ``K``
        factors. With a single factor of more than one value every point has
        the same label and the score is 1. Never NaN.
    details : dict, only if ``return_details``
        ``"protocol"``; ``"eligible_factors"`` (ndarray of int, the factors
        that can be fixed); ``"train_accuracy"`` and ``"eval_accuracy"``
        (float); ``"train_features"`` (ndarray (n_train, n_codes), float64)
        and ``"train_labels"`` (ndarray (n_train,), int64, factor indices).

    Raises
    ------
    ValueError
        On an unknown protocol, a count below its minimum, ``n_eval`` with
        ``protocol="paper"``, a dataset without a factor of more than one
        value, training points that miss a factor (the message says how many
        are needed), or a representation returning NaN, infinite or
        mis-shaped codes.
    TypeError
        If ``representation`` is neither callable nor has ``transform`` or
        returns codes that are not numbers, or ``return_details`` is not a bool.

    Notes
    -----
    Only factors with more than one value are fixed (fixing a constant
    factor fixes nothing; on dSprites both references leave color out).
    Every observation is rendered and encoded once, whole points at a time.

    References
    ----------
    I. Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a
    Constrained Variational Framework", ICLR 2017, Sec. 3.
    """
    params = resolve_protocol(
        _PROTOCOLS, protocol, {"batch_size": batch_size, "n_train": n_train, "n_eval": n_eval},
        _MINIMUMS)
    eligible = varying_factors(dataset, "the beta-VAE score")
    rng = check_random_state(random_state)
    # Each point encodes batch_size pairs of observations.
    n_observations = (params["n_train"] + (params["n_eval"] or 0)) * 2 * params["batch_size"]
    with encoding_progress(representation, n_observations, "beta-VAE score", verbose) as encode:
        train_x, train_y = _points(encode, dataset, params["n_train"], eligible, params, rng)
        check_coverage(np.searchsorted(eligible, train_y)[:, None], [eligible.size],
                       ["the fixed factor"], need_all=True,
                       what=f"the labels of the {params['n_train']} training points of the "
                       f"beta-VAE score (factors {factor_names(dataset, eligible)})",
                       parameter="n_train")
        eval_x, eval_y = (train_x, train_y) if params["n_eval"] is None else _points(
            encode, dataset, params["n_eval"], eligible, params, rng)
    train_acc, eval_acc = _accuracies(train_x, train_y, eval_x, eval_y, rng)
    details = {"protocol": protocol, "eligible_factors": eligible,
               "train_accuracy": train_acc, "eval_accuracy": eval_acc,
               "train_features": train_x, "train_labels": train_y}
    return finish(eval_acc, details, return_details)


def _points(encode, dataset, n_points, eligible, params, rng):
    """Features and labels of ``n_points`` points, encoded whole points at a time.

    Returns
    -------
    features : ndarray of shape (n_points, n_codes), float64
    labels : ndarray of shape (n_points,), int64
    """
    fixed = fixed_factors(n_points, eligible, params["cycle"], rng)
    pairs = params["batch_size"]
    per_call = max(1, ROWS_PER_CALL // (2 * pairs))
    features = []
    for start in range(0, n_points, per_call):
        chunk = fixed[start:start + per_call]
        if params["value_per_pair"]:
            factors = group_factors(dataset, np.repeat(chunk, pairs), 2, rng)
        else:
            factors = group_factors(dataset, chunk, 2 * pairs, rng)
        codes = encode_factors(encode, dataset, factors, rng, batch_size=len(factors))
        features.append(pair_features(codes, pairs))
    return np.concatenate(features), fixed


def pair_features(codes, pairs):
    """Mean absolute code difference of consecutive pairs, per point.

    Parameters
    ----------
    codes : ndarray of shape (n_points * 2 * pairs, n_codes)
        Rows ``2i`` and ``2i + 1`` form a pair; ``pairs`` pairs per point.
    pairs : int

    Returns
    -------
    features : ndarray of shape (n_points, n_codes)
    """
    grouped = codes.reshape(-1, pairs, 2, codes.shape[1])
    return np.abs(grouped[:, :, 0] - grouped[:, :, 1]).mean(axis=1)


def _accuracies(train_x, train_y, eval_x, eval_y, rng):
    """Training and evaluation accuracy of ``LogisticRegression`` fit on the training points.

    With a single label there is nothing to learn: every prediction is that
    label.
    """
    if np.unique(train_y).size == 1:
        return 1.0, float(np.mean(eval_y == train_y[0]))
    model = LogisticRegression(random_state=rng.randint(np.iinfo(np.int32).max))
    model.fit(train_x, train_y)
    return float(model.score(train_x, train_y)), float(model.score(eval_x, eval_y))
