"""How similar the models of a pool are: :func:`pairwise_similarity`.

The matrix that ModelCentrality and UDR rank a pool by, computed with
joblib tasks; :class:`~disentangle.ModelCentralitySelector` and
:func:`~disentangle.selection.model_centrality` both call it.

``"factor_vae"`` (ModelCentrality, Lin et al., ICML 2020, Sec. 5): a fitted
generative model *is* a ground-truth dataset
(:class:`~disentangle.datasets.GeneratedDataset`: its codes are the factors),
so entry ``[i, j]`` is the FactorVAE score of model ``i``'s encoder on model
``j``'s generated data, the same metric used on dSprites (official code:
``InfoGAN-CR_dSprites/gan_task_mc_generate_metric_data.py`` and
``gan_task_mc_cross_evaluation.py``). ``"udr_lasso"`` and ``"udr_spearman"``
(UDR, Duan et al., ICLR 2020): entry ``[i, j]`` scores the map from model
``i``'s codes to model ``j``'s on one sample of real observations
(:mod:`disentangle.metrics._udr`).
"""

import itertools
import sys
import time
import warnings
from numbers import Real
from typing import NamedTuple

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.utils import check_random_state
from tqdm import tqdm

from disentangle._progress import progress_bar
from disentangle._warnings import user_frame
from disentangle.datasets import GeneratedDataset
from disentangle.metrics._centrality import centrality, centrality_errors, contenders, medoid
from disentangle.metrics._factor_vae import _check_votes, _draw_votes, _resolve_params
from disentangle.metrics._representation import as_encoder
from disentangle.metrics._sampling import check_count, varying_factors
from disentangle.metrics._udr import sample_rows, udr_representation, udr_row
from disentangle.metrics._vote_bootstrap import ColumnVotes, derived_seed

SIMILARITIES = ("factor_vae", "udr_lasso", "udr_spearman")

#: The protocols of the ``"factor_vae"`` similarity with the vote machinery of the paper's
#: FactorVAEMetric (the fixed code cycling over the codes, no train/evaluation split,
#: ddof=0, no pruning) and their counts; ``"community"`` is disentanglement_lib's metric.
#: ``"paper"``: fjxmlzn/InfoGAN-CR, 100 votes of 100 images per code and 73,728
#: observations for the standard deviations. ``"fast"``: the same statistic on 16 to 17 times
#: fewer observations; opt-in until benchmarks/selection_quality.py shows that it ranks the
#: real pools as the paper protocol does (the ModelCentrality user guide gives the agreement
#: measured so far). ``"adaptive"``: rounds of votes of the paper's size, the first with
#: ``"fast"``'s votes per code and variance sample, then doubled for the entries of the
#: candidates still in contention, up to these counts, the paper's (:class:`PairwiseRun`).
SIMILARITY_PROTOCOLS = {
    "paper": {"batch_size": 100, "votes_per_code": 100, "n_variance": 73_728},
    "fast": {"batch_size": 50, "votes_per_code": 10, "n_variance": 5_000},
    "adaptive": {"batch_size": 100, "votes_per_code": 100, "n_variance": 73_728},
}

#: The adaptive protocol's stopping rule: the medoid leads every other candidate by this many
#: standard errors of the difference (about a one-sided 2.3 % chance for a true tie).
ADAPTIVE_Z = 2.0

#: Default ``similarity_params`` of each similarity.
SIMILARITY_DEFAULTS = {
    # factor_vae_score's arguments; None takes the protocol's count (SIMILARITY_PROTOCOLS;
    # factor_vae_score's for "community"). n_train=None: votes_per_code votes per code of
    # the generating model. n_bootstrap: replicates of the standard errors (our choice: 200
    # puts a standard error within about 5 % of its limit); z: the adaptive protocol's
    # stopping rule (None: ADAPTIVE_Z).
    "factor_vae": {"protocol": "paper", "batch_size": None, "n_train": None, "n_eval": None,
                   "n_variance": None, "prune_threshold": None, "votes_per_code": None,
                   "n_bootstrap": 200, "z": None},
    # disentanglement_lib: Lasso(alpha=0.1), latents with mean KL <= 0.01 ignored.
    "udr_lasso": {"n_samples": 10_000, "alpha": 0.1, "kl_threshold": 0.01},
    "udr_spearman": {"n_samples": 10_000, "kl_threshold": 0.01},
}


class Similarities(NamedTuple):
    """What :class:`PairwiseRun` computed.

    Attributes
    ----------
    pairwise : ndarray of shape (n, n)
        NaN in the rows and columns of failed models.
    times : ndarray of shape (n,)
        Seconds of each model's similarity tasks.
    replicates : ndarray of shape (n_bootstrap, n, n) or None
        Bootstrap replicates of ``pairwise`` (``"factor_vae"``,
        :mod:`~disentangle.metrics._vote_bootstrap`); None for UDR.
    rendered : ndarray of shape (n,), int64
        Images each model's generator rendered (0 for UDR).
    encoded : ndarray of shape (n,), int64
        Images each model's encoder encoded.
    n_rounds : int
        Rounds of votes (1 but for the adaptive protocol).
    """

    pairwise: np.ndarray
    times: np.ndarray
    replicates: np.ndarray | None
    rendered: np.ndarray
    encoded: np.ndarray
    n_rounds: int


def pairwise_similarity(models, X=None, *, similarity="factor_vae", similarity_params=None,
                        n_jobs=None, pre_dispatch="2*n_jobs", verbose=0, random_state=None):
    """Pairwise similarity scores of fitted generative models.

    Parameters
    ----------
    models : sequence of fitted generative estimators
        At least 2, with ``sample_latent``, ``generate``, ``transform``,
        ``n_codes_`` and ``n_latent_`` (as :class:`~disentangle.InfoGANCR` and
        :class:`~disentangle.VAE`, or plain objects: no scikit-learn base class is
        needed); their numbers of codes may differ.
    X : array-like or path of a ``.npy`` file, default=None
        Observations; required by the UDR similarities, unused by ``"factor_vae"``.
    similarity : {"factor_vae", "udr_lasso", "udr_spearman"}, default="factor_vae"
    similarity_params : dict, default=None
        Overrides of :data:`SIMILARITY_DEFAULTS` (see
        :class:`~disentangle.ModelCentralitySelector`).
    n_jobs : int, default=None
        Parallel joblib tasks (about two per worker for ``"factor_vae"``).
    pre_dispatch : int or str, default="2*n_jobs"
    verbose : int, default=0
        0 is silent; 1 prints a line per task and, on a terminal or in a
        notebook, a progress bar with an ETA on stderr (over the pairs for
        ``"factor_vae"``, over the encodings and rows for UDR); 2 and above
        also joblib's progress. The scores do not depend on it.
    random_state : int, RandomState instance or None, default=None
        One seed per generated dataset, and UDR's sample of ``X``.

    Returns
    -------
    pairwise_scores : ndarray of shape (n_models, n_models), float64
        Values in ``[0, 1]``: the FactorVAE score of encoder ``i`` on model
        ``j``'s data, or UDR's score of the map from ``i``'s codes to ``j``'s.
        Not symmetric; the diagonal is each model's self-score.

    Raises
    ------
    ValueError
        Fewer than 2 models, an unknown similarity or parameter, UDR without
        ``X``, or an error of any model (nothing is tolerated here).

    See Also
    --------
    disentangle.selection.model_centrality : The centrality of each model from these scores.
    disentangle.ModelCentralitySelector : Fits the pool and keeps its medoid.
    disentangle.metrics.factor_vae_scores : Several encoders on one dataset.
    """
    return similarity_run(models, X, similarity=similarity, similarity_params=similarity_params,
                          n_jobs=n_jobs, pre_dispatch=pre_dispatch, verbose=verbose,
                          random_state=random_state).pairwise


def similarity_run(models, X=None, *, similarity="factor_vae", similarity_params=None,
                   n_jobs=None, pre_dispatch="2*n_jobs", verbose=0, random_state=None,
                   prefix="pairwise_similarity"):
    """:func:`pairwise_similarity` with everything it computed: a :class:`Similarities`
    (the scores' bootstrap replicates, the images each model rendered and encoded, the
    rounds). Parameters and errors as :func:`pairwise_similarity`'s; ``prefix`` of the
    log lines."""
    models = list(models)
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {SIMILARITIES}; got {similarity!r}.")
    if len(models) < 2:
        raise ValueError(f"pairwise_similarity needs at least 2 models; got {len(models)}.")
    if similarity != "factor_vae" and X is None:
        raise ValueError(f"similarity={similarity!r} encodes observations: pass X.")
    run = PairwiseRun(similarity, similarity_params, n_jobs=n_jobs, pre_dispatch=pre_dispatch,
                      verbose=verbose, error_score="raise", prefix=prefix)
    return run(models, [None] * len(models), X, random_state)


class PairwiseRun:
    """The similarity computation of a pool, as joblib tasks, with failures tolerated.

    Parameters
    ----------
    similarity : str
    similarity_params : dict or None
        Checked at construction (:func:`check_similarity_params`).
    n_jobs, pre_dispatch, verbose
        As :class:`joblib.Parallel`; ``verbose`` >= 1 logs each task and shows
        progress bars (:func:`~disentangle._progress.progress_bar`).
    error_score : "raise" or float
        "raise" propagates a model's error; otherwise the model is marked failed.
    prefix : str
        Of the log lines.
    """

    def __init__(self, similarity, similarity_params, *, n_jobs, pre_dispatch, verbose,
                 error_score, prefix):
        self.similarity = similarity
        self.overrides = similarity_params or {}
        self.params = check_similarity_params(similarity, similarity_params)
        self.n_jobs, self.pre_dispatch, self.verbose = n_jobs, pre_dispatch, verbose
        self.error_score, self.prefix = error_score, prefix

    def parallel(self):
        """A :class:`joblib.Parallel` returning a generator, with this run's settings."""
        return Parallel(n_jobs=self.n_jobs, pre_dispatch=self.pre_dispatch,
                        verbose=max(0, self.verbose - 1), return_as="generator")

    def log(self, message):
        """Print a line on stdout at ``verbose >= 1`` (through tqdm: an open bar stays intact)."""
        if self.verbose:
            tqdm.write(f"[{self.prefix}] {message}", file=sys.stdout)
            sys.stdout.flush()

    def progress(self, total, desc, unit):
        """A progress bar of ``total`` steps, shown at ``verbose >= 1`` on a terminal."""
        return progress_bar(total, f"[{self.prefix}] {desc}", self.verbose, unit=unit)

    def __call__(self, models, errors, X, random_state, eligible=None):
        """Pairwise scores among the models that did not fail (``errors[i] is None``).

        Parameters
        ----------
        models : list
            None for a failed model.
        errors : list of str or None
            Updated in place with the errors of models that fail here.
        X : array-like or None
        random_state : int, RandomState instance or None
        eligible : ndarray of bool, shape (n,), default=None
            The candidates that may be the medoid (default: every model that did
            not fail); the adaptive protocol's contention is among them.

        Returns
        -------
        similarities : Similarities
        """
        rng = check_random_state(random_state)
        seeds = column_seeds(rng, len(models))
        n = len(models)
        empty = Similarities(np.full((n, n), np.nan), np.zeros(n), None,
                             np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64), 0)
        alive = [i for i in range(n) if errors[i] is None]
        if len(alive) < 2:
            return empty
        self.log(f"similarity {self.similarity!r} of {len(alive)} models")
        if self.similarity == "factor_vae":
            eligible = np.ones(n, dtype=bool) if eligible is None else np.asarray(eligible)
            return self._factor_vae(models, errors, alive, seeds, eligible)
        outcomes = self._udr(X, models, alive, rng)
        pairwise, times, encoded = empty.pairwise, empty.times, empty.encoded
        for k, (i, (scores, seconds, error)) in enumerate(zip(alive, outcomes, strict=True)):
            times[i] += seconds
            if error is not None:
                errors[i] = error
            else:
                pairwise[i, alive] = scores
                encoded[i] = self.n_observations
            self.log(f"similarity task {k + 1}/{len(alive)} (candidate {i}) "
                     f"{'FAILED' if error else 'done'} in {seconds:.1f} s")
        return empty._replace(n_rounds=1)

    def _factor_vae(self, models, errors, alive, seeds, eligible):
        """Rounds of votes (one but for ``"adaptive"``), each a task per column.

        After each round of the adaptive protocol the centralities and the
        standard errors of the medoid's lead are computed
        (:mod:`~disentangle.metrics._centrality`); the round stops the run when
        the medoid leads every other eligible candidate by ``z`` standard
        errors, or when the entries reached the protocol's counts. Otherwise
        the next round adds as many votes per code as the entries hold (and as
        many observations to the variance sample), up to the counts: every
        encoder reads the new votes of the candidates in contention (the
        medoid and those it does not lead by ``z`` standard errors), the
        contenders' encoders read everyone's. The votes already drawn are kept
        and their winners recomputed against the grown variance sample.
        """
        n = len(models)
        adaptive = self.params["protocol"] == "adaptive"
        z = ADAPTIVE_Z if self.params["z"] is None else self.params["z"]
        columns, times = {}, np.zeros(n)
        rendered, encoded = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        readers = dict.fromkeys(alive, alive)
        for round_ in itertools.count():
            done = self._factor_vae_round(models, readers, seeds, round_ if adaptive else None)
            for k, (j, (block, seconds, error)) in enumerate(done):
                times[j] += seconds
                if error is not None:
                    errors[j] = error
                else:
                    _keep(columns, j, readers[j], block, seeds[j], self.params["n_bootstrap"])
                    rendered[j] += block["images"]
                    encoded[readers[j]] += block["images"]
                self.log(f"similarity task {k + 1}/{len(done)} (candidate {j}) "
                         f"{'FAILED' if error else 'done'} in {seconds:.1f} s")
            alive = [i for i in alive if errors[i] is None]
            pairwise, replicates = _matrices(columns, alive, n, self.params["n_bootstrap"])
            if not adaptive or len(alive) < 2:
                break
            inside = self._contention(pairwise, replicates, alive, eligible, z, round_)
            if inside is None:
                break
            readers = {j: alive if j in inside else inside for j in alive}
        return Similarities(pairwise, times, replicates, rendered, encoded, round_ + 1)

    def _contention(self, pairwise, replicates, alive, eligible, z, round_):
        """The medoid and the candidates it does not lead by ``z`` standard errors after
        ``round_``; None when the adaptive run stops there (a clear medoid, or the counts
        reached)."""
        mask = np.zeros(len(pairwise), dtype=bool)
        mask[alive] = True
        values = centrality(pairwise, mask, "factor_vae")
        best = medoid(values, mask & eligible)
        _, std_lead = centrality_errors(replicates, mask, best)
        close = contenders(values, std_lead, mask & eligible, best, z)
        capped = _adaptive_counts(self.params, round_)[2]
        self.log(f"adaptive round {round_ + 1}: medoid candidate {best}, "
                 f"{close.size} candidates within {z:g} standard errors of its centrality"
                 + ("; the protocol's counts are reached" if capped and close.size else ""))
        return None if capped or close.size == 0 else [best, *close.tolist()]

    def _factor_vae_round(self, models, readers, seeds, round_):
        """One block of votes per column ``j`` of ``readers``, encoded by ``readers[j]``.

        Columns are grouped into about two tasks per worker (one column per
        task when the tasks run in this process: a progress bar then moves
        after every column; the grouping does not change the scores, each
        column has its own seed). Every model is
        its own task argument, never a list: joblib's Dask backend scatters
        each one once (a fitted model reports its size through ``__sizeof__``)
        and each worker fetches it once, where a list would travel inside
        every task. Other backends pickle the pool once per task.

        Returns
        -------
        done : list of (j, (block, seconds, error))
        """
        alive = sorted(readers)
        position = {i: p for p, i in enumerate(alive)}
        pool = [models[i] for i in alive]
        n_jobs = effective_n_jobs(self.n_jobs)
        n_tasks = len(alive) if n_jobs == 1 else min(len(alive), 2 * n_jobs)
        groups = np.array_split(np.arange(len(alive)), n_tasks)
        tasks = (delayed(_factor_vae_block)(
            [(c, [position[i] for i in readers[alive[c]]], seeds[alive[c]]) for c in group],
            self.params, round_, self.error_score, *pool) for group in groups)
        desc = "similarity pairs" + (f", round {round_ + 1}" if round_ else "")
        done = []
        with self.progress(sum(len(r) for r in readers.values()), desc, "pair") as bar:
            for group, outcomes in zip(groups, self.parallel()(tasks), strict=True):
                done.extend((alive[c], outcome) for c, outcome in zip(group, outcomes,
                                                                        strict=True))
                bar.update(sum(len(readers[alive[c]]) for c in group))
        return [(j, (block if block is None else _readers_by_index(block, alive), seconds,
                     error)) for j, (block, seconds, error) in done]

    def _udr(self, X, models, alive, rng):
        """UDR: encode one sample of X with every model, then one task per row i."""
        n_samples = self.params["n_samples"]
        observations = sample_rows(X, n_samples, rng)
        self.n_observations = len(observations)
        if len(observations) < n_samples and "n_samples" in self.overrides:
            warnings.warn(
                f"similarity_params n_samples={n_samples} is larger than len(X)="
                f"{len(observations)}; UDR encodes all {len(observations)} observations.",
                UserWarning, **user_frame())
        tasks = (delayed(guarded)(udr_representation, self.error_score, models[i],
                                  observations, self.params["kl_threshold"])
                 for i in alive)
        # The bar counts each model's encoding and its row (a failed encoding: both at once).
        with self.progress(2 * len(alive), "UDR encodings and rows", "task") as bar:
            encoded = []
            for outcome in self.parallel()(tasks):
                encoded.append(outcome)
                bar.update(1 if outcome[2] is None else 2)
            ok = [k for k, (_, _, error) in enumerate(encoded) if error is None]
            # Each array its own argument, so that a Dask backend scatters it once (as the models).
            arrays = [array for k in ok for array in encoded[k][0]]
            kind, alpha = self.similarity, self.params.get("alpha")
            rows = iter(self.parallel()(delayed(guarded)(udr_row, self.error_score, r, kind,
                                                         alpha, *arrays) for r in range(len(ok))))
            outcomes = []
            for _, seconds, error in encoded:
                if error is not None:
                    outcomes.append((None, seconds, error))
                    continue
                row, row_seconds, row_error = next(rows)
                bar.update(1)
                outcomes.append((_spread(row, ok, len(alive)), seconds + row_seconds, row_error))
        return outcomes


# --- parameters -----------------------------------------------------------------------------------


def check_similarity_params(similarity, overrides):
    """The similarity's defaults updated with ``overrides``; unknown keys raise ValueError."""
    params = dict(SIMILARITY_DEFAULTS[similarity])
    unknown = sorted(set(overrides or {}) - set(params))
    if unknown:
        raise ValueError(
            f"Unknown similarity_params {unknown} for similarity={similarity!r}; "
            f"expected keys among {sorted(params)}.")
    params.update(overrides or {})
    _check_similarity_values(similarity, params)
    return params


def _check_similarity_values(similarity, params):
    """Raise ValueError on an out-of-range similarity parameter, before any fit."""
    if similarity == "factor_vae":
        protocols = (*SIMILARITY_PROTOCOLS, "community")
        if params["protocol"] not in protocols:
            raise ValueError(f"similarity_params protocol must be one of {protocols}; "
                             f"got {params['protocol']!r}.")
        if params["protocol"] in SIMILARITY_PROTOCOLS and params["n_eval"] is not None:
            raise ValueError(
                f"similarity_params protocol={params['protocol']!r} scores the classifier on "
                "the votes it was built from (the paper's vote machinery); leave n_eval=None "
                "and set the number of votes with votes_per_code or n_train.")
        if params["protocol"] == "adaptive" and params["n_train"] is not None:
            raise ValueError(
                "similarity_params protocol='adaptive' sets the votes of each round per code "
                "of the generating model; leave n_train=None and cap them with "
                "votes_per_code.")
        z = params["z"]
        if z is not None and params["protocol"] != "adaptive":
            raise ValueError(f"similarity_params z is the adaptive protocol's stopping rule; "
                             f"protocol={params['protocol']!r} takes none (got z={z!r}).")
        if z is not None and (isinstance(z, bool) or not isinstance(z, Real)
                              or not np.isfinite(z) or not z > 0):
            raise ValueError(f"similarity_params z must be a finite number > 0 (standard "
                             f"errors); got {z!r}.")
        check_count("n_bootstrap", params["n_bootstrap"], 2)
        if params["votes_per_code"] is not None:
            check_count("votes_per_code", params["votes_per_code"], 1)
        _resolve_params(**factor_vae_arguments(params, n_codes=1))  # factor_vae_score's checks
        return
    check_count("n_samples", params["n_samples"], 2)
    for name in ("alpha", "kl_threshold"):
        value = params.get(name, 0.0)
        if isinstance(value, bool) or not isinstance(value, Real) or not value >= 0:
            raise ValueError(f"{name} must be a number >= 0; got {value!r}.")


# --- tasks (run by joblib workers) ----------------------------------------------------------------


def describe(exc):
    return f"{type(exc).__name__}: {exc}"


def guarded(fn, error_score, *args):
    """Run ``fn(*args)``; return ``(value, seconds, None)`` or ``(None, seconds, message)``.

    With ``error_score="raise"`` the exception propagates.
    """
    start = time.perf_counter()
    try:
        value = fn(*args)
    except Exception as exc:
        if isinstance(error_score, str) and error_score == "raise":
            raise
        return None, time.perf_counter() - start, describe(exc)
    return value, time.perf_counter() - start, None


def column_seeds(rng, n_models):
    """One seed per model's generated data (column), drawn first from ``rng``.

    Parameters
    ----------
    rng : RandomState
    n_models : int

    Returns
    -------
    seeds : ndarray of shape (n_models,), int in ``[0, 2**31 - 1)``
    """
    return rng.randint(np.iinfo(np.int32).max, size=n_models)


def _factor_vae_block(columns, params, round_, error_score, *models):
    """:func:`_vote_block` for each ``(j, readers, seed)`` of ``columns``, each guarded by
    :func:`guarded`."""
    return [guarded(_vote_block, error_score, models, j, readers, params, seed, round_)
            for j, readers, seed in columns]


def _vote_block(models, j, readers, params, seed, round_):
    """Render one block of votes of model ``j``'s generated data; every reader encodes it.

    Round ``None`` (every protocol but ``"adaptive"``) draws the protocol's
    counts from ``RandomState(seed)``, the draws of
    :func:`~disentangle.metrics.factor_vae_scores`; round ``r`` of the adaptive
    protocol draws its increment (:func:`_adaptive_counts`) from a stream of
    ``seed`` of its own (round 0: ``seed`` itself).

    Returns
    -------
    block : dict
        ``eligible``, ``n_factors``, ``params`` (the resolved
        :func:`~disentangle.metrics.factor_vae_score` parameters), ``n_variance``,
        ``stats`` and ``votes`` (keyed by reader), and ``images`` rendered.
    """
    dataset = GeneratedDataset(models[j])
    fvae = _resolve_params(**factor_vae_arguments(params, dataset.n_factors))
    eligible = varying_factors(dataset, "the FactorVAE score")
    _check_votes(fvae["n_train"], eligible, dataset)
    if round_ is None:
        n_variance, n_votes = fvae["n_variance"], [fvae["n_train"]] + (
            [fvae["n_eval"]] if fvae["split"] else [])
    else:
        n_variance, votes_per_code, _ = _adaptive_counts(params, round_)
        n_votes = [votes_per_code * dataset.n_factors]
    rng = np.random.RandomState(seed if not round_ else derived_seed(seed, round_))
    encoders = [as_encoder(models[i]) for i in readers]
    stats, votes = _draw_votes(rng, encoders, dataset, eligible, fvae, n_variance, n_votes)
    return {"eligible": eligible, "n_factors": len(dataset.factor_sizes), "params": fvae,
            "n_variance": n_variance, "stats": dict(zip(readers, stats, strict=True)),
            "votes": [(fixed, dict(zip(readers, spreads, strict=True)))
                      for fixed, spreads in votes],
            "images": n_variance + sum(n_votes) * fvae["batch_size"]}


def _readers_by_index(block, alive):
    """``block`` with its readers' pool positions replaced by candidate indices."""
    def rekey(mapping):
        return {alive[p]: value for p, value in mapping.items()}

    return {**block, "stats": rekey(block["stats"]),
            "votes": [(fixed, rekey(spreads)) for fixed, spreads in block["votes"]]}


def _keep(columns, j, readers, block, seed, n_bootstrap):
    """Add ``block`` to column ``j``'s votes (created at its first block)."""
    if j not in columns:
        columns[j] = ColumnVotes(block["eligible"], block["n_factors"], block["params"], seed,
                                 n_bootstrap)
    columns[j].add(block["n_variance"], block["stats"], block["votes"])


def _matrices(columns, alive, n, n_bootstrap):
    """The pairwise scores among ``alive`` and their bootstrap replicates.

    Returns
    -------
    pairwise : ndarray of shape (n, n)
    replicates : ndarray of shape (n_bootstrap, n, n)
        NaN outside the rows and columns of ``alive``.
    """
    pairwise, replicates = np.full((n, n), np.nan), np.full((n_bootstrap, n, n), np.nan)
    for j in alive:
        for i in alive:
            pairwise[i, j], replicates[:, i, j] = columns[j].scores(i)
    return pairwise, replicates


def _adaptive_counts(params, round_):
    """What round ``round_`` of the adaptive protocol adds to an entry.

    Round 0 holds ``"fast"``'s votes per code and variance sample (or the caps
    if smaller); each later round doubles them, up to the caps (the paper's
    counts, or ``votes_per_code`` and ``n_variance`` when given). The votes
    keep the paper's size (``batch_size``, 100) in every round: votes of
    different sizes cannot be pooled into one classifier, and at the caps an
    entry then holds exactly the paper protocol's votes.

    Returns
    -------
    n_variance : int
        Observations added to the variance sample.
    votes_per_code : int
        Votes added per code of the generating model.
    capped : bool
        Whether the entries hold the caps after this round.
    """
    first, caps = SIMILARITY_PROTOCOLS["fast"], SIMILARITY_PROTOCOLS["adaptive"]

    def held(name, r):
        cap = params[name] or caps[name]
        return 0 if r < 0 else min(min(first[name], cap) * 2 ** r, cap)

    added = [held(name, round_) - held(name, round_ - 1) for name in ("n_variance",
                                                                      "votes_per_code")]
    capped = all(held(name, round_) == (params[name] or caps[name])
                 for name in ("n_variance", "votes_per_code"))
    return (*added, capped)


def _factor_vae_column(models, j, params, seed):
    """FactorVAE score of every model's encoder on model ``j``'s generated data.

    One column of the non-adaptive protocols, in this process (the benchmarks
    build their matrices a column at a time with it).

    Returns
    -------
    scores : ndarray of shape (len(models),)
        ``scores[i]`` = pairwise score (encoder i, data j).
    """
    readers = list(range(len(models)))
    columns = {}
    _keep(columns, j, readers, _vote_block(models, j, readers, params, seed, None), seed, 2)
    return np.array([columns[j].scores(i)[0] for i in readers])


def factor_vae_arguments(params, n_codes):
    """The :func:`~disentangle.metrics.factor_vae_scores` arguments of checked ``params``.

    Parameters
    ----------
    params : dict
        ``"factor_vae"`` similarity parameters (:data:`SIMILARITY_DEFAULTS` keys).
    n_codes : int
        Codes of the generating model: the fixed codes that the votes cycle over.

    Returns
    -------
    kwargs : dict
        ``protocol`` ("paper" for every protocol of :data:`SIMILARITY_PROTOCOLS`), and
        ``batch_size``, ``n_train``, ``n_eval``, ``n_variance``, ``prune_threshold``:
        the given values, else the protocol's counts (``n_train`` = ``votes_per_code``
        times ``n_codes``), else None (factor_vae_score's default).
    """
    kwargs = {k: v for k, v in params.items() if k not in ("votes_per_code", "n_bootstrap", "z")}
    counts = SIMILARITY_PROTOCOLS.get(params["protocol"])
    if counts is None:  # "community": factor_vae_score's own defaults
        return kwargs
    kwargs["protocol"] = "paper"
    for name in ("batch_size", "n_variance"):
        if kwargs[name] is None:
            kwargs[name] = counts[name]
    if kwargs["n_train"] is None:
        kwargs["n_train"] = (params["votes_per_code"] or counts["votes_per_code"]) * n_codes
    return kwargs


def _spread(row, ok, n):
    """Place a row over the ``ok`` models into an array of ``n`` with NaN elsewhere."""
    full = np.full(n, np.nan)
    full[ok] = row
    return full
