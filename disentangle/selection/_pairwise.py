"""The pairwise runner: a pool's similarity matrix computed as joblib tasks.

:class:`PairwiseRun` holds what every similarity kind shares (joblib's
settings, the log lines, the progress bars, the failures tolerated); a kind's
*plan* (:class:`VotedColumns` or :class:`SampledRows`, named by its entry in
:data:`~disentangle.selection.SIMILARITY_KINDS`) says which tasks compute the
matrix.

:class:`VotedColumns` is ModelCentrality's (Lin et al., ICML 2020, Sec. 5): a
fitted generative model *is* a ground-truth dataset
(:class:`~disentangle.datasets.GeneratedDataset`: its codes are the factors),
so column ``j`` is the FactorVAE score of every encoder on model ``j``'s
generated data, one block of votes per column (official code:
``InfoGAN-CR_dSprites/gan_task_mc_generate_metric_data.py`` and
``gan_task_mc_cross_evaluation.py``). :class:`SampledRows` is UDR's (Duan et
al., ICLR 2020): every model encodes one sample of real observations, then row
``i`` scores the map from model ``i``'s codes to every model's
(:mod:`disentangle.metrics._udr`).
"""

import itertools
import sys
import time
import warnings
from typing import NamedTuple

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.utils import check_random_state
from tqdm import tqdm

from disentangle._progress import progress_bar
from disentangle._warnings import user_frame
from disentangle.datasets import GeneratedDataset
from disentangle.metrics._factor_vae import _check_votes, _draw_votes, _resolve_params
from disentangle.metrics._representation import as_encoder
from disentangle.metrics._sampling import varying_factors
from disentangle.metrics._udr import sample_rows
from disentangle.selection._centrality import centrality_errors, contenders, medoid
from disentangle.selection._vote_bootstrap import ColumnVotes, derived_seed

#: The protocols of the ``"factor_vae"`` similarity with the vote machinery of the paper's
#: FactorVAEMetric (the fixed code cycling over the codes, no train/evaluation split,
#: ddof=0, no pruning) and their counts; ``"community"`` is disentanglement_lib's metric.
#: ``"paper"``: fjxmlzn/InfoGAN-CR, 100 votes of 100 images per code and 73,728
#: observations for the standard deviations. ``"fast"``: the same statistic on 16 to 17 times
#: fewer observations; opt-in until benchmarks/selection_quality.py shows that it ranks the
#: real pools as the paper protocol does (the ModelCentrality user guide gives the agreement
#: measured so far). ``"adaptive"``: rounds of votes of the paper's size, the first with
#: ``"fast"``'s votes per code and variance sample, then doubled for the entries of the
#: candidates still in contention, up to these counts, the paper's (:class:`VotedColumns`).
SIMILARITY_PROTOCOLS = {
    "paper": {"batch_size": 100, "votes_per_code": 100, "n_variance": 73_728},
    "fast": {"batch_size": 50, "votes_per_code": 10, "n_variance": 5_000},
    "adaptive": {"batch_size": 100, "votes_per_code": 100, "n_variance": 73_728},
}

#: The adaptive protocol's stopping rule: the medoid leads every other candidate by this many
#: standard errors of the difference (about a one-sided 2.3 % chance for a true tie).
ADAPTIVE_Z = 2.0


class Similarities(NamedTuple):
    """What a pool's similarity computation gives, beyond the matrix.

    Attributes
    ----------
    pairwise : ndarray of shape (n, n)
        NaN in the rows and columns of failed models (and in the columns not
        asked for, with ``columns``).
    times : ndarray of shape (n,)
        Seconds of each model's similarity tasks.
    replicates : ndarray of shape (n_bootstrap, n, n) or None
        Bootstrap replicates of ``pairwise`` (:class:`VotedColumns`: a
        bootstrap over the votes); None for a kind without standard errors (UDR).
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


class PairwiseRun:
    """The similarity computation of a pool, as joblib tasks, with failures tolerated.

    Parameters
    ----------
    name : str
        The similarity kind's name, for the log.
    kind : SimilarityKind
        Its entry of :data:`~disentangle.selection.SIMILARITY_KINDS`.
    params : dict
        Checked similarity parameters (the kind's defaults updated).
    overrides : dict
        The parameters the user gave.
    n_jobs, pre_dispatch, verbose
        As :class:`joblib.Parallel`; ``verbose`` >= 1 logs each task and shows
        progress bars (:func:`~disentangle._progress.progress_bar`).
    error_score : "raise" or float
        "raise" propagates a model's error; otherwise the model is marked failed.
    prefix : str
        Of the log lines.
    """

    def __init__(self, name, kind, params, overrides, *, n_jobs, pre_dispatch, verbose,
                 error_score, prefix):
        self.name, self.kind, self.params, self.overrides = name, kind, params, overrides
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

    def __call__(self, models, errors, X, random_state, eligible=None, columns=None):
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
        columns : sequence of int, default=None
            Only these columns (a column kind's plan); None: every one.

        Returns
        -------
        similarities : Similarities
        """
        rng = check_random_state(random_state)
        n = len(models)
        seeds = column_seeds(rng, n)
        alive = [i for i in range(n) if errors[i] is None]
        if len(alive) < 2:
            return empty_similarities(n, 0)
        self.log(f"similarity {self.name!r} of {len(alive)} models")
        eligible = np.ones(n, dtype=bool) if eligible is None else np.asarray(eligible)
        return self.kind.plan(self, models, errors, alive, seeds, X, rng, eligible, columns)

    def report(self, k, total, i, seconds, error):
        """Log the end of task ``k`` of ``total`` (candidate ``i``)."""
        self.log(f"similarity task {k + 1}/{total} (candidate {i}) "
                 f"{'FAILED' if error else 'done'} in {seconds:.1f} s")


def empty_similarities(n, n_rounds):
    """:class:`Similarities` of ``n`` models with no entry computed."""
    return Similarities(np.full((n, n), np.nan), np.zeros(n), None, np.zeros(n, dtype=np.int64),
                        np.zeros(n, dtype=np.int64), n_rounds)


class VotedColumns:
    """Plan of a kind whose column ``j`` is a FactorVAE score on model ``j``'s generated data.

    One block of votes is rendered per column and read by every encoder
    (:func:`_vote_block`); its entries' standard errors are a bootstrap over
    the votes (:mod:`~disentangle.selection._vote_bootstrap`). The adaptive
    protocol runs rounds of blocks. The plan of ``"factor_vae"``.
    """

    needs_X = False

    def __call__(self, run, models, errors, alive, seeds, X, rng, eligible, columns):
        """Rounds of votes (one but for ``"adaptive"``), each a task per column.

        After each round of the adaptive protocol the centralities and the
        standard errors of the medoid's lead are computed
        (:mod:`~disentangle.selection._centrality`); the round stops the run when
        the medoid leads every other eligible candidate by ``z`` standard
        errors, or when the entries reached the protocol's counts. Otherwise
        the next round adds as many votes per code as the entries hold (and as
        many observations to the variance sample), up to the counts: every
        encoder reads the new votes of the candidates in contention (the
        medoid and those it does not lead by ``z`` standard errors), the
        contenders' encoders read everyone's. The votes already drawn are kept
        and their winners recomputed against the grown variance sample.
        """
        n, params = len(models), run.params
        adaptive = params["protocol"] == "adaptive"
        if adaptive and columns is not None:
            raise ValueError("similarity_params protocol='adaptive' chooses its votes from "
                             "every column's; it computes the whole matrix: leave columns=None.")
        z = ADAPTIVE_Z if params["z"] is None else params["z"]
        votes, times = {}, np.zeros(n)
        rendered, encoded = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        readers = {j: alive for j in alive if columns is None or j in columns}
        for round_ in itertools.count():
            done = _vote_round(run, models, readers, seeds, round_ if adaptive else None)
            for k, (j, (block, seconds, error)) in enumerate(done):
                times[j] += seconds
                if error is not None:
                    errors[j] = error
                else:
                    _keep(votes, j, block, seeds[j], params["n_bootstrap"])
                    rendered[j] += block["images"]
                    encoded[readers[j]] += block["images"]
                run.report(k, len(done), j, seconds, error)
            alive = [i for i in alive if errors[i] is None]
            pairwise, replicates = _matrices(votes, alive, n, params["n_bootstrap"])
            if not adaptive or len(alive) < 2:
                break
            inside = _contention(run, pairwise, replicates, alive, eligible, z, round_)
            if inside is None:
                break
            readers = {j: alive if j in inside else inside for j in alive}
        return Similarities(pairwise, times, replicates, rendered, encoded, round_ + 1)


def _contention(run, pairwise, replicates, alive, eligible, z, round_):
    """The medoid and the candidates it does not lead by ``z`` standard errors after
    ``round_``; None when the adaptive run stops there (a clear medoid, or the counts
    reached)."""
    mask = np.zeros(len(pairwise), dtype=bool)
    mask[alive] = True
    values = run.kind.centrality(pairwise, mask)
    best = medoid(values, mask & eligible)
    _, std_lead = centrality_errors(replicates, mask, best, run.kind.centrality)
    close = contenders(values, std_lead, mask & eligible, best, z)
    capped = _adaptive_counts(run.params, round_)[2]
    run.log(f"adaptive round {round_ + 1}: medoid candidate {best}, "
            f"{close.size} candidates within {z:g} standard errors of its centrality"
            + ("; the protocol's counts are reached" if capped and close.size else ""))
    return None if capped or close.size == 0 else [best, *close.tolist()]


def _vote_round(run, models, readers, seeds, round_):
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
    keys = sorted(readers)
    involved = sorted(set(keys).union(*readers.values()))
    position = {i: p for p, i in enumerate(involved)}
    pool = [models[i] for i in involved]
    n_jobs = effective_n_jobs(run.n_jobs)
    n_tasks = len(keys) if n_jobs == 1 else min(len(keys), 2 * n_jobs)
    groups = np.array_split(np.arange(len(keys)), n_tasks)
    tasks = (delayed(_factor_vae_block)(
        [(position[keys[c]], [position[i] for i in readers[keys[c]]], seeds[keys[c]])
         for c in group], run.params, round_, run.error_score, *pool) for group in groups)
    desc = "similarity pairs" + (f", round {round_ + 1}" if round_ else "")
    done = []
    with run.progress(sum(len(r) for r in readers.values()), desc, "pair") as bar:
        for group, outcomes in zip(groups, run.parallel()(tasks), strict=True):
            done.extend((keys[c], outcome) for c, outcome in zip(group, outcomes, strict=True))
            bar.update(sum(len(readers[keys[c]]) for c in group))
    return [(j, (block if block is None else _readers_by_index(block, involved), seconds,
                 error)) for j, (block, seconds, error) in done]


class SampledRows:
    """Plan of a kind whose row ``i`` compares model ``i``'s codes of one sample of ``X``
    with every model's.

    ``n_samples`` observations (a similarity parameter) are drawn from ``X``
    without replacement, every model encodes them in a joblib task, then one
    task per row computes it. The plan of UDR (Duan et al., ICLR 2020).

    Parameters
    ----------
    encode : callable
        ``encode(model, observations, params) -> tuple of ndarray``: the
        model's representation of the sample (e.g. its codes).
    row : callable
        ``row(i, params, *arrays) -> ndarray of shape (n_models,)``: entries
        ``[i, j]`` for every model ``j``, from every model's arrays in turn
        (each model's tuple of ``encode``, concatenated). Both must be
        picklable (module-level functions) for ``n_jobs`` > 1.
    label : str, default=None
        The kind in the log, the progress bar and warnings (default: its name).
    """

    needs_X = True

    def __init__(self, encode, row, label=None):
        self.encode, self.row, self.label = encode, row, label

    def __call__(self, run, models, errors, alive, seeds, X, rng, eligible, columns):
        if columns is not None:
            raise ValueError(f"similarity={run.name!r} computes its matrix a row at a time; "
                             "leave columns=None.")
        n = len(models)
        result = empty_similarities(n, 1)
        n_samples = run.params["n_samples"]
        observations = sample_rows(X, n_samples, rng)
        if len(observations) < n_samples and "n_samples" in run.overrides:
            warnings.warn(
                f"similarity_params n_samples={n_samples} is larger than len(X)="
                f"{len(observations)}; {self.label or run.name} encodes all {len(observations)} "
                "observations.", UserWarning, **user_frame())
        outcomes = self._rows(run, models, alive, observations)
        for k, (i, (scores, seconds, error)) in enumerate(zip(alive, outcomes, strict=True)):
            result.times[i] += seconds
            if error is not None:
                errors[i] = error
            else:
                result.pairwise[i, alive] = scores
                result.encoded[i] = len(observations)
            run.report(k, len(alive), i, seconds, error)
        return result

    def _rows(self, run, models, alive, observations):
        """Encode the sample with every model, then one task per row."""
        tasks = (delayed(guarded)(self.encode, run.error_score, models[i], observations,
                                  run.params) for i in alive)
        # The bar counts each model's encoding and its row (a failed encoding: both at once).
        desc = f"{self.label or run.name} encodings and rows"
        with run.progress(2 * len(alive), desc, "task") as bar:
            encoded = []
            for outcome in run.parallel()(tasks):
                encoded.append(outcome)
                bar.update(1 if outcome[2] is None else 2)
            ok = [k for k, (_, _, error) in enumerate(encoded) if error is None]
            # Each array its own argument, so that a Dask backend scatters it once (as the models).
            arrays = [array for k in ok for array in encoded[k][0]]
            rows = iter(run.parallel()(delayed(guarded)(self.row, run.error_score, r,
                                                        run.params, *arrays)
                                       for r in range(len(ok))))
            outcomes = []
            for _, seconds, error in encoded:
                if error is not None:
                    outcomes.append((None, seconds, error))
                    continue
                row, row_seconds, row_error = next(rows)
                bar.update(1)
                outcomes.append((_spread(row, ok, len(alive)), seconds + row_seconds, row_error))
        return outcomes


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


def _keep(columns, j, block, seed, n_bootstrap):
    """Add ``block`` to column ``j``'s votes (created at its first block)."""
    if j not in columns:
        columns[j] = ColumnVotes(block["eligible"], block["n_factors"], block["params"], seed,
                                 n_bootstrap)
    columns[j].add(block["n_variance"], block["stats"], block["votes"])


def _matrices(columns, alive, n, n_bootstrap):
    """The pairwise scores among ``alive`` in the columns computed, and their bootstrap
    replicates.

    Returns
    -------
    pairwise : ndarray of shape (n, n)
    replicates : ndarray of shape (n_bootstrap, n, n)
        NaN outside the rows of ``alive`` and the columns of ``alive`` computed.
    """
    pairwise, replicates = np.full((n, n), np.nan), np.full((n_bootstrap, n, n), np.nan)
    for j in (j for j in alive if j in columns):
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
