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

import sys
import time
import warnings
from numbers import Real

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.utils import check_random_state
from tqdm import tqdm

from disentangle._progress import progress_bar
from disentangle._warnings import user_frame
from disentangle.datasets import GeneratedDataset
from disentangle.metrics._factor_vae import _resolve_params, factor_vae_scores
from disentangle.metrics._sampling import check_count
from disentangle.metrics._udr import sample_rows, udr_representation, udr_row

SIMILARITIES = ("factor_vae", "udr_lasso", "udr_spearman")

#: The protocols of the ``"factor_vae"`` similarity with the vote machinery of the paper's
#: FactorVAEMetric (the fixed code cycling over the codes, no train/evaluation split,
#: ddof=0, no pruning) and their counts; ``"community"`` is disentanglement_lib's metric.
#: ``"paper"``: fjxmlzn/InfoGAN-CR, 100 votes of 100 images per code and 73,728
#: observations for the standard deviations. ``"fast"``: the same statistic on 16 to 17 times
#: fewer observations; opt-in until benchmarks/selection_quality.py shows that it ranks the
#: real pools as the paper protocol does (the ModelCentrality user guide gives the agreement
#: measured so far).
SIMILARITY_PROTOCOLS = {
    "paper": {"batch_size": 100, "votes_per_code": 100, "n_variance": 73_728},
    "fast": {"batch_size": 50, "votes_per_code": 10, "n_variance": 5_000},
}

#: Default ``similarity_params`` of each similarity.
SIMILARITY_DEFAULTS = {
    # factor_vae_score's arguments; None takes the protocol's count (SIMILARITY_PROTOCOLS;
    # factor_vae_score's for "community"). n_train=None: votes_per_code votes per code of
    # the generating model.
    "factor_vae": {"protocol": "paper", "batch_size": None, "n_train": None, "n_eval": None,
                   "n_variance": None, "prune_threshold": None, "votes_per_code": None},
    # disentanglement_lib: Lasso(alpha=0.1), latents with mean KL <= 0.01 ignored.
    "udr_lasso": {"n_samples": 10_000, "alpha": 0.1, "kl_threshold": 0.01},
    "udr_spearman": {"n_samples": 10_000, "kl_threshold": 0.01},
}


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
    models = list(models)
    if similarity not in SIMILARITIES:
        raise ValueError(f"similarity must be one of {SIMILARITIES}; got {similarity!r}.")
    if len(models) < 2:
        raise ValueError(f"pairwise_similarity needs at least 2 models; got {len(models)}.")
    if similarity != "factor_vae" and X is None:
        raise ValueError(f"similarity={similarity!r} encodes observations: pass X.")
    run = PairwiseRun(similarity, similarity_params, n_jobs=n_jobs, pre_dispatch=pre_dispatch,
                      verbose=verbose, error_score="raise", prefix="pairwise_similarity")
    pairwise, _ = run(models, [None] * len(models), X, random_state)
    return pairwise


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

    def __call__(self, models, errors, X, random_state):
        """Pairwise scores among the models that did not fail (``errors[i] is None``).

        Parameters
        ----------
        models : list
            None for a failed model.
        errors : list of str or None
            Updated in place with the errors of models that fail here.
        X : array-like or None
        random_state : int, RandomState instance or None

        Returns
        -------
        pairwise : ndarray of shape (n, n)
            NaN in the rows and columns of failed models.
        times : ndarray of shape (n,)
            Seconds of each model's similarity tasks.
        """
        rng = check_random_state(random_state)
        seeds = column_seeds(rng, len(models))
        n = len(models)
        pairwise, times = np.full((n, n), np.nan), np.zeros(n)
        alive = [i for i in range(n) if errors[i] is None]
        if len(alive) < 2:
            return pairwise, times
        self.log(f"similarity {self.similarity!r} of {len(alive)} models")
        if self.similarity == "factor_vae":
            outcomes = self._factor_vae(models, alive, seeds)
        else:
            outcomes = self._udr(X, models, alive, rng)
        by_column = self.similarity == "factor_vae"  # FactorVAE tasks give columns, UDR rows
        for k, (i, (scores, seconds, error)) in enumerate(zip(alive, outcomes, strict=True)):
            times[i] += seconds
            if error is not None:
                errors[i] = error
            elif by_column:
                pairwise[alive, i] = scores
            else:
                pairwise[i, alive] = scores
            self.log(f"similarity task {k + 1}/{len(alive)} (candidate {i}) "
                     f"{'FAILED' if error else 'done'} in {seconds:.1f} s")
        return pairwise, times

    def _factor_vae(self, models, alive, seeds):
        """Column j: render model j's data once, score every encoder on it.

        Columns are grouped into about two blocks per worker (one column per
        block when the tasks run in this process: a progress bar then moves
        after every column; the grouping does not change the scores, each
        column has its own seed). Every model is
        its own task argument, never a list: joblib's Dask backend scatters
        each one once (a fitted model reports its size through ``__sizeof__``)
        and each worker fetches it once, where a list would travel inside
        every task. Other backends pickle the pool once per block.
        """
        pool = [models[i] for i in alive]
        n_jobs = effective_n_jobs(self.n_jobs)
        n_blocks = len(alive) if n_jobs == 1 else min(len(alive), 2 * n_jobs)
        blocks = np.array_split(np.arange(len(alive)), n_blocks)
        tasks = (delayed(_factor_vae_block)(block, self.params, seeds[np.asarray(alive)[block]],
                                            self.error_score, *pool)
                 for block in blocks)
        outcomes = []
        with self.progress(len(alive) ** 2, "similarity pairs", "pair") as bar:
            for block, done in zip(blocks, self.parallel()(tasks), strict=True):
                outcomes.extend(done)
                bar.update(len(block) * len(alive))
        return outcomes

    def _udr(self, X, models, alive, rng):
        """UDR: encode one sample of X with every model, then one task per row i."""
        n_samples = self.params["n_samples"]
        observations = sample_rows(X, n_samples, rng)
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


def _factor_vae_block(columns, params, seeds, error_score, *models):
    """:func:`_factor_vae_column` for each of ``columns``, each guarded by :func:`_guarded`."""
    return [guarded(_factor_vae_column, error_score, models, j, params, seed)
            for j, seed in zip(columns, seeds, strict=True)]


def _factor_vae_column(models, j, params, seed):
    """FactorVAE score of every model's encoder on model ``j``'s generated data.

    Returns
    -------
    scores : ndarray of shape (len(models),)
        ``scores[i]`` = pairwise score (encoder i, data j).
    """
    dataset = GeneratedDataset(models[j])
    return factor_vae_scores(models, dataset, random_state=seed,
                             **factor_vae_arguments(params, dataset.n_factors))


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
    kwargs = {k: v for k, v in params.items() if k != "votes_per_code"}
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
