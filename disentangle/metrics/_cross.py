"""The FactorVAE score of several representations on the same rendered observations.

ModelCentrality (Lin et al., ICML 2020, Sec. 5) scores every model's encoder on
every other model's generated data. Rendering is the costly part, so
:func:`factor_vae_scores` renders each observation of a dataset once and hands
it to every encoder. Each score equals what
:func:`~disentangle.metrics.factor_vae_score` returns for that encoder alone
with the same ``random_state``: both draw the same factors, noise and votes in
the same order.
"""

import numpy as np
from sklearn.utils import check_random_state

from disentangle.metrics._factor_vae import (
    _ROWS_PER_CALL,
    _accuracy,
    _active_dims,
    _eligible_factors,
    _majority_vote,
    _resolve_params,
    _vote_winners,
)
from disentangle.metrics._representation import as_encoder
from disentangle.metrics._sampling import fixed_factors, group_factors, sample_factors


def factor_vae_scores(
    representations,
    dataset,
    *,
    protocol="community",
    random_state=None,
    batch_size=None,
    n_train=None,
    n_eval=None,
    n_variance=None,
    prune_threshold=None,
):
    """FactorVAE score of each of several representations on one dataset.

    Every observation (the global-variance sample and every vote) is rendered
    once and encoded by each representation; otherwise the same computation as
    :func:`~disentangle.metrics.factor_vae_score`, whose parameters these are.

    Parameters
    ----------
    representations : sequence of estimators with ``transform`` or callables
        Each maps float32 observations of shape ``(n, *observation_shape)`` to
        codes of shape ``(n, n_codes)``; ``n_codes`` may differ between them and
        from ``dataset.n_factors``.
    dataset : GroundTruthDataset
    protocol : {"community", "paper"}, default="community"
    random_state : int, RandomState instance or None, default=None
    batch_size, n_train, n_eval, n_variance : int, default=None
    prune_threshold : float, default=None
        See :func:`~disentangle.metrics.factor_vae_score`.

    Returns
    -------
    scores : ndarray of shape (n_representations,), dtype float64
        Majority-vote accuracies in ``[0, 1]``; entry ``r`` equals
        ``factor_vae_score(representations[r], dataset, ...)`` with the same
        arguments.

    Raises
    ------
    ValueError
        As :func:`~disentangle.metrics.factor_vae_score`, for any representation.
    TypeError
        If a representation is neither callable nor has ``transform`` or
        returns codes that are not numbers.

    Warns
    -----
    UserWarning
        For each representation without any active code dimension (its score is 0.0).
    """
    params = _resolve_params(protocol, batch_size, n_train, n_eval, n_variance, prune_threshold)
    eligible = _eligible_factors(dataset)
    rng = check_random_state(random_state)
    encoders = [as_encoder(r) for r in representations]

    global_vars = _global_variances(encoders, dataset, params, rng)
    actives = [_active_dims(v, params["prune_threshold"]) for v in global_vars]

    def votes(n_votes):
        return _vote_matrices(encoders, dataset, n_votes, eligible, global_vars, actives,
                              params, rng)

    train_votes = votes(params["n_train"])
    eval_votes = votes(params["n_eval"]) if params["split"] else train_votes
    scores = [
        _score(train, evaluate, eligible, active)
        for train, evaluate, active in zip(train_votes, eval_votes, actives, strict=True)
    ]
    return np.asarray(scores, dtype=np.float64)


def _score(train_votes, eval_votes, eligible, active):
    """Accuracy on ``eval_votes`` of the classifier built on ``train_votes``; 0 if no active dim."""
    if active.size == 0:
        return 0.0
    return _accuracy(eval_votes, _majority_vote(train_votes, eligible, active))


def _encode_all(encoders, dataset, factors, rng, rows):
    """Render ``factors`` ``rows`` at a time; yield each chunk's codes under every encoder.

    Yields
    ------
    codes : list of ndarray of shape (chunk, n_codes_r), one per encoder
    """
    for start in range(0, len(factors), rows):
        observations = dataset.checked_observations(factors[start:start + rows], rng)
        yield [encode(observations) for encode in encoders]


def _global_variances(encoders, dataset, params, rng):
    """Per-encoder variance of each code over one shared sample of ``n_variance`` observations.

    Returns
    -------
    global_vars : list of ndarray of shape (n_codes_r,), float64
    """
    factors = sample_factors(dataset, params["n_variance"], rng)
    chunks = list(_encode_all(encoders, dataset, factors, rng, _ROWS_PER_CALL))
    global_vars = []
    for r in range(len(encoders)):
        variance = np.var(np.concatenate([c[r] for c in chunks]), axis=0, ddof=params["ddof"])
        if not np.all(np.isfinite(variance)):
            raise ValueError("the code variances overflow; rescale the representation's codes.")
        global_vars.append(variance)
    return global_vars


def _vote_matrices(encoders, dataset, n_votes, eligible, global_vars, actives, params, rng):
    """Vote counts of every encoder on the same votes.

    Returns
    -------
    counts : list of ndarray of shape (n_codes_r, n_factors), int64
        All zeros for an encoder without active dimensions.
    """
    vote_size = params["batch_size"]
    fixed = fixed_factors(n_votes, eligible, params["cycle"], rng)
    factors = group_factors(dataset, fixed, vote_size, rng)
    rows = max(1, _ROWS_PER_CALL // vote_size) * vote_size
    winners = [[] for _ in encoders]
    for codes in _encode_all(encoders, dataset, factors, rng, rows):
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
