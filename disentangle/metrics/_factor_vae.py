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
    n_votes = [params["n_train"]] + ([params["n_eval"]] if params["split"] else [])
    stats, votes = _draw_votes(rng, encoders, dataset, eligible, params, params["n_variance"],
                               n_votes, verbose)
    n_factors = len(dataset.factor_sizes)
    results = []
    for r, (mean, m2) in enumerate(stats):
        variance = _variance(params["n_variance"], mean, m2, params["ddof"])
        active = _active_dims(variance, params["prune_threshold"])
        counts = [_vote_counts(fixed, spreads[r], variance, active, n_factors)
                  for fixed, spreads in votes]
        train, evaluate = counts[0], counts[-1]  # the same votes without a split
        mapping = _majority_vote(train, eligible, active)
        results.append({
            "protocol": params["protocol"], "global_variance": variance,
            "global_std": np.sqrt(variance), "active_dims": active,
            "eligible_factors": eligible, "train_votes": train, "eval_votes": evaluate,
            "mapping": mapping, "train_accuracy": _accuracy(train, mapping),
            "eval_accuracy": _accuracy(evaluate, mapping),
        })
    return results


def _draw_votes(rng, encoders, dataset, eligible, params, n_variance, n_votes, verbose=0):
    """Render and encode a variance sample, then sets of votes, keeping every vote's spread.

    The draws of :func:`factor_vae_score` in its order (the variance sample first, then
    each set of votes); what each vote predicts is left to :func:`_vote_winners`, so that
    the votes can be kept and their winners recomputed against other global variances
    (the adaptive similarity protocol) or resampled (its standard errors).

    Parameters
    ----------
    rng : RandomState
    encoders : list of callables
        From :func:`~disentangle.metrics._representation.as_encoder`.
    dataset : GroundTruthDataset
    eligible : ndarray of int
        The factors a vote may fix (:func:`~disentangle.metrics._sampling.varying_factors`).
    params : dict
        Of :func:`_resolve_params` (``batch_size``, ``cycle``, ``ddof``).
    n_variance : int
        Observations of the variance sample, ``>= 0`` (0: none drawn).
    n_votes : sequence of int
        Votes of each set (the classifier's votes, then the evaluation votes).
    verbose : int, default=0

    Returns
    -------
    stats : list of (mean, m2), one per encoder
        The variance sample's code means and sums of squared deviations, each of shape
        (n_codes_r,), float64 (None when ``n_variance`` is 0); the variance is
        ``m2 / (n_variance - ddof)``, as ``np.var`` computes it.
    votes : list of (fixed, spreads), one per set
        ``fixed``: the fixed factor of each vote, shape (n,), int64; ``spreads``: one
        array per encoder, shape (n, n_codes_r), float64, each code's variance within
        each vote (``ddof`` of the protocol).
    """
    total = n_variance + sum(n_votes) * params["batch_size"]
    with progress_bar(total, "FactorVAE score", verbose, unit="obs") as bar:
        stats = ([None] * len(encoders) if n_variance == 0
                 else _variance_sample(encoders, dataset, n_variance, rng, bar))
        votes = [_vote_spreads(encoders, dataset, n, eligible, params, rng, bar)
                 for n in n_votes]
    return stats, votes


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


def _variance_sample(encoders, dataset, n_variance, rng, bar):
    """Every encoder's code statistics over one shared sample of ``n_variance`` observations.

    Returns
    -------
    stats : list of (mean, m2), one per encoder
        Arrays of shape (n_codes_r,), float64: ``np.var(codes, ddof) == m2 / (n - ddof)``
        with the same operations as ``np.var``, so the global variances are bit for bit
        ``np.var``'s. disentanglement_lib (``_compute_variances``) uses ddof=1; the
        InfoGAN-CR code uses ``np.std`` (ddof=0).
    """
    factors = sample_factors(dataset, n_variance, rng)
    chunks = list(_encode_all(encoders, dataset, factors, rng, ROWS_PER_CALL, bar))
    stats = []
    for r in range(len(encoders)):
        codes = np.concatenate([c[r] for c in chunks])
        mean = np.add.reduce(codes, axis=0, keepdims=True) / len(codes)
        deviation = codes - mean
        stats.append((mean[0], np.add.reduce(deviation * deviation, axis=0)))
    return stats


def _variance(n, mean, m2, ddof):
    """Global variance of each code, shape (n_codes,), float64, finite, ``>= 0``.

    Raises
    ------
    ValueError
        The codes' variances overflow.
    """
    variance = m2 / (n - ddof)
    if not np.all(np.isfinite(variance)):
        raise ValueError("the code variances overflow; rescale the representation's codes.")
    return variance


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


def _vote_spread(codes, vote_size, ddof):
    """Each code's variance within each vote, shape (n_votes, n_codes), float64.

    ``codes``: shape (n_votes * vote_size, n_codes), the codes of consecutive votes.
    """
    return np.var(codes.reshape(-1, vote_size, codes.shape[1]), axis=1, ddof=ddof)


def _vote_winners(spread, global_var, active):
    """Winning code dimension of each vote.

    Parameters
    ----------
    spread : ndarray of shape (n_votes, n_codes)
        Each code's variance within each vote (:func:`_vote_spread`).
    global_var : ndarray of shape (n_codes,)
    active : ndarray of int

    Returns
    -------
    winners : ndarray of shape (n_votes,), dtype int64
        ``active[argmin(var_vote[active] / global_var[active])]``: the argmin of
        the variance of the std-normalised codes (Kim & Mnih 2018, Sec. 4); ties
        go to the lowest dimension, as ``np.argmin``.
    """
    return active[np.argmin(spread[:, active] / global_var[active], axis=1)]


def _vote_spreads(encoders, dataset, n_votes, eligible, params, rng, bar):
    """The fixed factor of ``n_votes`` votes and each code's spread within each, per encoder.

    Every observation is rendered once and encoded by every encoder, whole
    votes at a time (up to ``ROWS_PER_CALL`` observations per call).

    Returns
    -------
    fixed : ndarray of shape (n_votes,), int64
    spreads : list of ndarray of shape (n_votes, n_codes_r), float64
    """
    vote_size = params["batch_size"]
    fixed = fixed_factors(n_votes, eligible, params["cycle"], rng)
    factors = group_factors(dataset, fixed, vote_size, rng)
    rows = max(1, ROWS_PER_CALL // vote_size) * vote_size
    spreads = [[] for _ in encoders]
    for codes in _encode_all(encoders, dataset, factors, rng, rows, bar):
        for r, code in enumerate(codes):
            spreads[r].append(_vote_spread(code, vote_size, params["ddof"]))
    return fixed, [np.concatenate(s) for s in spreads]


def _vote_counts(fixed, spread, global_var, active, n_factors):
    """Vote counts, shape (n_codes, n_factors), int64: entry ``[c, k]`` counts the votes
    for dimension ``c`` whose fixed factor was ``k`` (all zeros without active dimensions)."""
    count = np.zeros((len(global_var), n_factors), dtype=np.int64)
    if active.size:
        np.add.at(count, (_vote_winners(spread, global_var, active), fixed), 1)
    return count


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
