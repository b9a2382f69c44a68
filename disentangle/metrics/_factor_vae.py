"""The FactorVAE disentanglement score (Kim & Mnih 2018, "Disentangling by Factorising").

One vote machinery for one or many encoders: :func:`factor_vae_scores`
renders every observation of a dataset once and hands it to every encoder
(ModelCentrality scores every model's encoder on every model's generated
data, Lin et al., ICML 2020, Sec. 5), and :func:`factor_vae_score` is its
one-encoder case.

A *vote* fixes one ground-truth factor across a batch of ``L`` observations and
redraws every other factor; the code dimension whose variance, normalised by its
variance over the whole dataset, is smallest in that batch is the vote's
prediction. A majority-vote classifier maps each code dimension to the factor it
was most often voted for, and the score is that classifier's accuracy.

Two protocols are implemented:

``"community"``
    ``google-research/disentanglement_lib``,
    ``disentanglement_lib/evaluation/metrics/factor_vae.py`` with the
    ``unsupervised_study_v1`` settings (Locatello et al. 2019): 64 observations
    per vote, 10,000 training votes, 5,000 evaluation votes, global variances
    over 10,000 observations, dimensions whose global standard deviation is below
    0.05 pruned; the score is the accuracy on the evaluation votes.
``"paper"``
    The InfoGAN-CR authors' ``FactorVAEMetric`` (``fjxmlzn/InfoGAN-CR``,
    ``*/gan/metric.py``, vote data from ``InfoGAN-CR_dSprites/gan/load_data.py``
    and ``*_mc_generate_metric_data.py``): 500 votes of 100 observations, the
    fixed factor cycling over the factors, standard deviations over 73,728
    observations, no pruning and no train/evaluation split (the score is the
    accuracy on the votes the classifier was built from).
"""

import numbers
import warnings

import numpy as np
from sklearn.utils import check_random_state

from disentangle._compat import validate_params
from disentangle._progress import progress_bar
from disentangle._warnings import user_frame
from disentangle.metrics._discrete import factor_names
from disentangle.metrics._representation import as_encoder
from disentangle.metrics._sampling import (
    ROWS_PER_CALL,
    check_count,
    check_dataset,
    fixed_factors,
    group_factors,
    sample_factors,
    validate_return_details,
    varying_factors,
)

_PROTOCOLS = {
    # disentanglement_lib, unsupervised_study_v1 metric config (factor_vae_score.*, prune_dims).
    "community": {
        "batch_size": 64,
        "n_train": 10_000,
        "n_eval": 5_000,
        "n_variance": 10_000,
        "prune_threshold": 0.05,
        "ddof": 1,
        "cycle": False,
        "split": True,
    },
    # fjxmlzn/InfoGAN-CR: L = 100, M = 500, std over imgs.shape[0] / 10 = 73,728 images.
    "paper": {
        "batch_size": 100,
        "n_train": 500,
        "n_eval": None,
        "n_variance": 73_728,
        "prune_threshold": 0.0,
        "ddof": 0,
        "cycle": True,
        "split": False,
    },
}


@validate_return_details
def factor_vae_score(
    representation,
    dataset,
    *,
    protocol="community",
    random_state=None,
    batch_size=None,
    n_train=None,
    n_eval=None,
    n_variance=None,
    prune_threshold=None,
    verbose=0,
    return_details=False,
):
    """FactorVAE score of a representation on a ground-truth dataset.

    Each vote (Kim & Mnih 2018, Sec. 4) draws ``batch_size`` factor vectors,
    copies the value of the vote's first row into the column of one fixed
    factor, renders and encodes the observations, divides every code dimension's
    variance in the vote by its global variance, and votes for the active
    dimension with the smallest ratio. Only factors with more than one value
    can be fixed: a constant factor (dSprites' color) carries no information
    (disentanglement_lib and the InfoGAN-CR code both leave it out of the
    factors they fix). Factors may be integers or continuous floats.

    Parameters
    ----------
    {representation}
    {dataset}
    protocol : {"community", "paper"}, default="community"
        Which reference implementation to follow; sets the defaults below (see
        the module docstring).
    random_state : int, RandomState instance or None, default=None
        Seed or generator for every draw (global sample, fixed factors, votes).
    batch_size : int, default=None
        Observations per vote, ``>= 2``. Default 64 (community) or 100 (paper).
    n_train : int, default=None
        Votes the classifier is built from, at least one per factor that can
        be fixed (the eligible factors). Default 10,000 (community) or 500
        (paper). Few votes per factor bias the paper protocol's score
        (accuracy on the training votes) towards 1: each vote can win a code
        dimension of its own.
    n_eval : int, default=None
        Votes the classifier is scored on, ``>= 1``; community only. Default
        5,000. The paper protocol scores the training votes and rejects it.
    n_variance : int, default=None
        Observations used for the global variances, ``>= 2``. Default 10,000
        (community) or 73,728 (paper).
    prune_threshold : float, default=None
        Code dimensions whose global standard deviation is below it are never
        voted for, ``>= 0``. Default 0.05 (community, as its gin config) or 0.0
        (paper: no pruning). A dimension with zero global variance cannot be
        normalised and is always dropped.
    verbose : int, default=0
        0 is silent; 1 shows, on a terminal or in a notebook, a progress bar
        with an ETA on stderr over the observations rendered and encoded (the
        global-variance sample, 73,728 with the paper protocol, then the
        votes), removed when done. The score does not depend on it.
    {return_details}

    Returns
    -------
    score : float
        Majority-vote accuracy in ``[0, 1]``: on the evaluation votes
        (community) or on the training votes (paper); 0.0 when no code
        dimension is active, as disentanglement_lib returns. Never NaN.
    details : dict, only if ``return_details``
        ``"protocol"`` (str); ``"global_variance"`` and ``"global_std"``
        (ndarray (n_codes,), float64; ddof=1 for community, 0 for paper);
        ``"active_dims"`` (ndarray of int, indices of the dimensions that can be
        voted for); ``"eligible_factors"`` (ndarray of int, factors that can be
        fixed); ``"train_votes"`` and ``"eval_votes"`` (ndarray (n_codes,
        n_factors), int64, entry ``[c, k]`` counts the votes for dimension
        ``c`` whose fixed factor was ``k``; for paper the same matrix);
        ``"mapping"`` (ndarray (n_codes,), int64, the factor the classifier
        predicts for each dimension, -1 for inactive ones);
        ``"train_accuracy"`` and ``"eval_accuracy"`` (float).

    Raises
    ------
    ValueError
        On an unknown protocol, a count below its minimum (``n_train``: the
        number of eligible factors), a negative or
        non-finite ``prune_threshold``, ``n_eval`` with ``protocol="paper"``,
        a dataset without any factor of more than one value, or a
        representation returning NaN, infinite or mis-shaped codes.
    TypeError
        If ``representation`` is neither callable nor has ``transform`` or
        returns codes that are not numbers, or ``return_details`` is not a bool.

    Warns
    -----
    UserWarning
        When no code dimension is active (every global standard deviation is
        below ``prune_threshold`` or zero): the score is then 0.0.

    References
    ----------
    H. Kim and A. Mnih, "Disentangling by Factorising", ICML 2018, Sec. 4.
    F. Locatello et al., "Challenging Common Assumptions in the Unsupervised
    Learning of Disentangled Representations", ICML 2019 (disentanglement_lib).
    Z. Lin et al., "InfoGAN-CR and ModelCentrality", ICML 2020.
    """
    params = _resolve_params(protocol, batch_size, n_train, n_eval, n_variance, prune_threshold)
    (result,) = _votes_of_each(check_random_state(random_state), [representation], dataset,
                               params, verbose)
    if not return_details:
        return result["eval_accuracy"]
    return result["eval_accuracy"], result


@validate_params({"verbose": ["verbose"]}, prefer_skip_nested_validation=False)
def factor_vae_scores(representations, dataset, *, protocol="community", random_state=None,
                      verbose=0, **settings):
    """FactorVAE score of each of several representations on one dataset.

    Every observation (the global-variance sample and every vote) is rendered
    once and encoded by each representation; otherwise the same computation
    as :func:`factor_vae_score`, whose parameters these are. ModelCentrality
    calls it with every model's encoder on one model's generated data.

    Parameters
    ----------
    representations : sequence of estimators with ``transform`` or callables
        Each maps float32 observations of shape ``(n, *observation_shape)`` to
        codes of shape ``(n, n_codes)``; ``n_codes`` may differ between them and
        from ``dataset.n_factors``.
    dataset : GroundTruthDataset or protocol object
        As :func:`factor_vae_score` (a disentanglement_lib dataset is adapted).
    protocol : {"community", "paper"}, default="community"
    random_state : int, RandomState instance or None, default=None
    verbose : int, default=0
        As :func:`factor_vae_score` (one bar for all the representations).
    **settings
        ``batch_size``, ``n_train``, ``n_eval``, ``n_variance`` and
        ``prune_threshold``, as for :func:`factor_vae_score`.

    Returns
    -------
    scores : ndarray of shape (n_representations,), dtype float64
        Majority-vote accuracies in ``[0, 1]``; entry ``r`` equals
        ``factor_vae_score(representations[r], dataset, ...)`` with the same
        arguments (both draw the same factors, noise and votes in the same order).

    Raises
    ------
    ValueError, TypeError
        As :func:`factor_vae_score`, for any representation.

    Warns
    -----
    UserWarning
        For each representation without any active code dimension (its score is 0.0).
    """
    unknown = sorted(set(settings) - set(_SETTINGS))
    if unknown:
        raise TypeError(f"factor_vae_scores() got unexpected keyword arguments {unknown}; "
                        f"expected some of {list(_SETTINGS)}.")
    params = _resolve_params(protocol, **{**dict.fromkeys(_SETTINGS), **settings})
    results = _votes_of_each(check_random_state(random_state), representations,
                             check_dataset(dataset), params, verbose)
    return np.array([result["eval_accuracy"] for result in results], dtype=np.float64)


def _votes_of_each(rng, representations, dataset, params, verbose=0):
    """The vote machinery: global variances, votes and classifier of every representation.

    With ``verbose >= 1`` a progress bar counts the observations rendered
    and encoded (:func:`~disentangle._progress.progress_bar`).

    Returns
    -------
    results : list of dict, one per representation
        The ``details`` of :func:`factor_vae_score`.
    """
    eligible = varying_factors(dataset, "the FactorVAE score")
    _check_votes(params["n_train"], eligible, dataset)
    encoders = [as_encoder(r) for r in representations]
    n_votes = params["n_train"] + (params["n_eval"] if params["split"] else 0)
    with progress_bar(params["n_variance"] + n_votes * params["batch_size"], "FactorVAE score",
                      verbose, unit="obs") as bar:
        global_vars = _global_variances(encoders, dataset, params, rng, bar)
        actives = [_active_dims(v, params["prune_threshold"]) for v in global_vars]
        n_factors = len(dataset.factor_sizes)
        if any(active.size for active in actives):
            train_votes = _vote_matrices(encoders, dataset, params["n_train"], eligible,
                                         global_vars, actives, params, rng, bar)
            eval_votes = (_vote_matrices(encoders, dataset, params["n_eval"], eligible,
                                         global_vars, actives, params, rng, bar)
                          if params["split"] else train_votes)
        else:  # disentanglement_lib returns accuracies of 0 when every dimension is pruned
            train_votes = eval_votes = [np.zeros((len(v), n_factors), dtype=np.int64)
                                        for v in global_vars]
    results = []
    for variance, active, train, evaluate in zip(global_vars, actives, train_votes, eval_votes,
                                                 strict=True):
        mapping = _majority_vote(train, eligible, active)
        results.append({
            "protocol": params["protocol"], "global_variance": variance,
            "global_std": np.sqrt(variance), "active_dims": active,
            "eligible_factors": eligible, "train_votes": train, "eval_votes": evaluate,
            "mapping": mapping, "train_accuracy": _accuracy(train, mapping),
            "eval_accuracy": _accuracy(evaluate, mapping),
        })
    return results


def _check_votes(n_train, eligible, dataset):
    """Raise unless ``n_train`` gives every eligible factor at least one vote.

    Raises
    ------
    ValueError
        Fewer votes than eligible factors (one vote scored 1.0 whatever the codes).
    """
    if n_train < eligible.size:
        raise ValueError(
            f"n_train={n_train} votes cannot build the FactorVAE score's classifier for "
            f"{eligible.size} factors ({', '.join(factor_names(dataset, eligible))}): it needs "
            f"at least one vote per factor, n_train >= {eligible.size} (the protocols use 500 "
            "or 10,000). With fewer, some factor is never voted for and each vote wins a code "
            "of its own: n_train=1 scores 1.0 whatever the codes."
        )


#: The protocol settings :func:`factor_vae_score` takes besides ``protocol``.
_SETTINGS = ("batch_size", "n_train", "n_eval", "n_variance", "prune_threshold")


def _resolve_params(protocol, batch_size, n_train, n_eval, n_variance, prune_threshold):
    """Validate the arguments and fill the protocol's defaults.

    Returns
    -------
    params : dict
        Keys of ``_PROTOCOLS[protocol]`` plus ``"protocol"``.

    Raises
    ------
    ValueError
        See :func:`factor_vae_score`.
    """
    if protocol not in _PROTOCOLS:
        raise ValueError(f"protocol must be one of {sorted(_PROTOCOLS)}; got {protocol!r}.")
    params = dict(_PROTOCOLS[protocol], protocol=protocol)
    if not params["split"] and n_eval is not None:
        raise ValueError(
            "protocol='paper' scores the classifier on the votes it was built from (no "
            "train/eval split); leave n_eval=None and set the number of votes with n_train."
        )
    given = {"batch_size": batch_size, "n_train": n_train, "n_eval": n_eval,
             "n_variance": n_variance}
    minimum = {"batch_size": 2, "n_train": 1, "n_eval": 1, "n_variance": 2}
    for name, value in given.items():
        if value is not None:
            params[name] = check_count(name, value, minimum[name])
    if prune_threshold is not None:
        if (isinstance(prune_threshold, bool) or not isinstance(prune_threshold, numbers.Real)
                or not np.isfinite(prune_threshold) or prune_threshold < 0):
            raise ValueError(
                f"prune_threshold must be a finite number >= 0; got {prune_threshold!r}."
            )
        params["prune_threshold"] = float(prune_threshold)
    return params


def _encode_all(encoders, dataset, factors, rng, rows, bar):
    """Render ``factors`` ``rows`` at a time; yield each chunk's codes under every encoder.

    ``bar`` (tqdm) advances by the observations of each chunk once encoded.

    Yields
    ------
    codes : list of ndarray of shape (chunk, n_codes_r), one per encoder
    """
    for start in range(0, len(factors), rows):
        observations = dataset.checked_observations(factors[start:start + rows], rng)
        codes = [encode(observations) for encode in encoders]
        bar.update(len(observations))
        yield codes


def _global_variances(encoders, dataset, params, rng, bar):
    """Per-encoder variance of each code over one shared sample of ``n_variance`` observations.

    disentanglement_lib (``_compute_variances``) uses ``np.var(ddof=1)``; the
    InfoGAN-CR code uses ``np.std`` (ddof=0).

    Returns
    -------
    global_vars : list of ndarray of shape (n_codes_r,), float64, finite, ``>= 0``
    """
    factors = sample_factors(dataset, params["n_variance"], rng)
    chunks = list(_encode_all(encoders, dataset, factors, rng, ROWS_PER_CALL, bar))
    global_vars = []
    for r in range(len(encoders)):
        variance = np.var(np.concatenate([c[r] for c in chunks]), axis=0, ddof=params["ddof"])
        if not np.all(np.isfinite(variance)):
            raise ValueError("the code variances overflow; rescale the representation's codes.")
        global_vars.append(variance)
    return global_vars


def _active_dims(global_var, threshold):
    """Indices of dimensions with global std ``>= threshold`` and non-zero variance.

    disentanglement_lib's ``_prune_dims`` keeps ``sqrt(var) >= threshold``; a
    zero-variance dimension is dropped too because it cannot be normalised (the
    reference would divide by zero and, through NaN, give it every vote).

    Warns
    -----
    UserWarning
        When no dimension is kept: the FactorVAE score is then 0.0.
    """
    keep = (np.sqrt(global_var) >= threshold) & (global_var > 0)
    if not keep.any():
        warnings.warn(
            f"prune_threshold={threshold:g} leaves no code dimension active: every global "
            f"standard deviation (largest {np.sqrt(global_var).max(initial=0):.3g}) is below it "
            "or zero, so the FactorVAE score is 0.0.", UserWarning, **user_frame(),
        )
    return np.flatnonzero(keep)


def _vote_winners(codes, vote_size, global_var, active, ddof):
    """Winning code dimension of each vote.

    Parameters
    ----------
    codes : ndarray of shape (n_votes * vote_size, n_codes)
        Codes of consecutive votes.
    vote_size : int
    global_var : ndarray of shape (n_codes,)
    active : ndarray of int
    ddof : int

    Returns
    -------
    winners : ndarray of shape (n_votes,), dtype int64
        ``active[argmin(var_vote[active] / global_var[active])]``: the argmin of
        the variance of the std-normalised codes (Kim & Mnih 2018, Sec. 4); ties
        go to the lowest dimension, as ``np.argmin``.
    """
    grouped = codes[:, active].reshape(-1, vote_size, active.size)
    ratio = np.var(grouped, axis=1, ddof=ddof) / global_var[active]
    return active[np.argmin(ratio, axis=1)]


def _vote_matrices(encoders, dataset, n_votes, eligible, global_vars, actives, params, rng,
                   bar):
    """Vote counts of every encoder on the same votes.

    Every observation is rendered once and encoded by every encoder, whole
    votes at a time (up to ``ROWS_PER_CALL`` observations per call).

    Returns
    -------
    counts : list of ndarray of shape (n_codes_r, n_factors), int64
        All zeros for an encoder without active dimensions.
    """
    vote_size = params["batch_size"]
    fixed = fixed_factors(n_votes, eligible, params["cycle"], rng)
    factors = group_factors(dataset, fixed, vote_size, rng)
    rows = max(1, ROWS_PER_CALL // vote_size) * vote_size
    winners = [[] for _ in encoders]
    for codes in _encode_all(encoders, dataset, factors, rng, rows, bar):
        for r, active in enumerate(actives):
            if active.size:
                winners[r].append(_vote_winners(codes[r], vote_size, global_vars[r], active,
                                                params["ddof"]))
    counts = []
    for r, variance in enumerate(global_vars):
        count = np.zeros((len(variance), len(dataset.factor_sizes)), dtype=np.int64)
        if winners[r]:
            np.add.at(count, (np.concatenate(winners[r]), fixed), 1)
        counts.append(count)
    return counts


def _majority_vote(votes, eligible, active):
    """The factor each code dimension predicts, shape (n_codes,), int64.

    An active dimension predicts the eligible factor it received most votes
    for (ties: the lowest factor index); one that received no vote predicts the
    first eligible factor, as ``np.argmax`` of an empty column does in
    disentanglement_lib. Inactive dimensions get -1 (they are never voted for).
    """
    mapping = np.full(votes.shape[0], -1, dtype=np.int64)
    mapping[active] = eligible[np.argmax(votes[np.ix_(active, eligible)], axis=1)]
    return mapping


def _accuracy(votes, mapping):
    """Fraction of the votes whose fixed factor is the one their dimension predicts.

    ``sum_c votes[c, mapping[c]] / sum(votes)``; in ``[0, 1]``, 0.0 for no vote.
    """
    total = votes.sum()
    if total == 0:
        return 0.0
    used = mapping >= 0
    correct = votes[np.flatnonzero(used), mapping[used]].sum()
    return float(correct) / float(total)
