"""The search shell: fit the candidates, rank them by centrality, keep the medoid.

:class:`ModelCentralitySelector` (every point of a grid) and
:class:`RandomizedModelCentralitySelector` (candidates drawn at random) fit a
clone of the estimator per candidate as joblib tasks, then hand the fitted
pool to the pairwise runner (:mod:`disentangle.selection._pairwise`) with the
kind's entry of :data:`~disentangle.selection.SIMILARITY_KINDS`
(:mod:`disentangle.selection._similarity`), and rank it by the kind's
centrality rule (Lin et al., ICML 2020, Sec. 5; official code
``fjxmlzn/InfoGAN-CR`` ``InfoGAN-CR_dSprites/main_mc.py``).
:func:`model_centrality` does the same for models already fitted.
"""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import delayed
from sklearn.base import BaseEstimator, MetaEstimatorMixin, TransformerMixin
from sklearn.model_selection import ParameterGrid, ParameterSampler
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from disentangle._compat import Interval, StrOptions, _fit_context, eval_expr
from disentangle._validation import INTEGER, REAL, Predicate
from disentangle._warnings import user_frame
from disentangle.selection._candidates import (
    check_candidates,
    eligibility,
    fit_and_check,
    warn_or_raise_about_failures,
    warn_or_raise_about_incomplete,
)
from disentangle.selection._centrality import (
    centrality_errors,
    medoid,
    symmetrised,
)
from disentangle.selection._pairwise import guarded
from disentangle.selection._results import cv_results, pairwise_std, warn_about_ties
from disentangle.selection._similarity import SIMILARITY_KINDS, pairwise_run, similarity_run


def _is_pre_dispatch(pre_dispatch):
    """True for "all", an integer >= 1 or a positive expression in ``n_jobs``, as joblib reads
    it (only when it runs more than one job)."""
    if isinstance(pre_dispatch, str) and pre_dispatch == "all":
        return True
    try:
        amount = (eval_expr(pre_dispatch.replace("n_jobs", "1")) if isinstance(pre_dispatch, str)
                  else pre_dispatch)
    except ValueError:
        return False
    return not isinstance(amount, bool) and isinstance(amount, Real) and amount > 0


#: The template estimator: the interface, and what scikit-learn's ``clone`` needs.
GENERATIVE_ESTIMATOR = Predicate(
    lambda value: all(callable(getattr(value, method, None)) for method in
                      ("fit", "sample_latent", "generate", "transform", "get_params",
                       "set_params")),
    "an unfitted generative estimator with fit, sample_latent, generate and transform that "
    "scikit-learn can clone, with get_params and set_params (subclass "
    "sklearn.base.BaseEstimator): the selector fits one clone per candidate. Fitted models of "
    "any class can be ranked with disentangle.selection.model_centrality")

#: A key of the kinds' table, looked up when checked (a kind added later is accepted).
SIMILARITY_NAME = Predicate(
    lambda value: isinstance(value, str) and value in SIMILARITY_KINDS,
    "a key of disentangle.selection.SIMILARITY_KINDS ('factor_vae', 'udr_lasso', "
    "'udr_spearman' or a kind added there)")

#: ``pre_dispatch`` as joblib reads it, checked at ``fit`` whatever ``n_jobs`` is.
PRE_DISPATCH = Predicate(_is_pre_dispatch, "'all', an integer >= 1 or an arithmetic expression "
                         "in n_jobs such as '2*n_jobs'")


class _SharedParams:
    """Stores the parameters that every selector has, whatever gives its candidates."""

    def __init__(self, estimator, *, similarity, similarity_params, n_jobs, pre_dispatch,
                 verbose, error_score, random_state, allow_incomplete):
        self.estimator = estimator
        self.similarity = similarity
        self.similarity_params = similarity_params
        self.n_jobs = n_jobs
        self.pre_dispatch = pre_dispatch
        self.verbose = verbose
        self.error_score = error_score
        self.random_state = random_state
        self.allow_incomplete = allow_incomplete


class ModelCentralitySelector(MetaEstimatorMixin, TransformerMixin, _SharedParams, BaseEstimator):
    """Pick, from a pool of fitted generative models, the one most similar to the others.

    One clone of ``estimator`` is fitted per candidate of ``param_grid``
    (seeds are just a parameter: ``{"random_state": range(10)}`` is the
    paper's pool of 10 runs). Then, with ``similarity="factor_vae"``
    (ModelCentrality, Lin et al. 2020, Sec. 5):

    1. every model ``j`` becomes a ground-truth dataset
       (:class:`~disentangle.datasets.GeneratedDataset`: its codes are the
       factors; a vote fixes one code and redraws every other latent);
    2. ``pairwise_scores_[i, j]`` is the FactorVAE score (paper protocol by
       default) of model ``i``'s encoder on model ``j``'s data;
    3. ``similarity_matrix_ = (P + P.T) / 2`` and the centrality of model ``i``
       is the mean of ``similarity_matrix_[i, j]`` over the other models ``j``;
    4. the medoid, the model of highest centrality, is ``best_estimator_``.

    With ``similarity="udr_lasso"`` or ``"udr_spearman"`` (UDR, Duan et al.
    2020) every model encodes the same ``n_samples`` observations drawn from
    ``X``; ``pairwise_scores_[i, j]`` measures how one-to-one the map from
    model ``i``'s codes to model ``j``'s is (Lasso coefficients or absolute
    Spearman correlations, scored by the relative strength of the largest
    entry of every row and column) and the centrality (UDR score) of model
    ``i`` is the median of ``pairwise_scores_[j, i]`` over the other models.

    Parameters
    ----------
    estimator : generative estimator
        Not fitted; cloned per candidate with scikit-learn's ``clone`` (it
        needs ``get_params`` and ``set_params``: subclass
        :class:`~sklearn.base.BaseEstimator`). It must provide ``fit(X)``,
        ``sample_latent(n, random_state)`` (the codes first),
        ``generate(latents)``, ``transform(X)`` and, once fitted, ``n_codes_``
        and ``n_latent_`` (as :class:`~disentangle.InfoGANCR` and the VAE).
        Candidates may have different numbers of codes.
    param_grid : dict or list of dicts
        Candidate parameters, as for :class:`~sklearn.model_selection.GridSearchCV`
        (expanded by :class:`~sklearn.model_selection.ParameterGrid`); at
        least 2 candidates.
    similarity : {"factor_vae", "udr_lasso", "udr_spearman"}, default="factor_vae"
        ``"factor_vae"`` is ModelCentrality; the others are UDR's variants. Any
        key of :data:`SIMILARITY_KINDS` (a kind added there too).
    similarity_params : dict, default=None
        Overrides of :data:`SIMILARITY_DEFAULTS`. ``"factor_vae"``: the arguments of
        :func:`~disentangle.metrics.factor_vae_score`, ``votes_per_code``,
        ``n_bootstrap`` (replicates of the standard errors, default 200) and ``z``
        (adaptive protocol only); ``protocol`` is one of :data:`SIMILARITY_PROTOCOLS` or
        ``"community"``. The protocols of :data:`SIMILARITY_PROTOCOLS` use the paper's
        vote machinery (the fixed code cycling over the codes, no train/evaluation
        split, no pruning); they differ in counts. ``"paper"`` (the default,
        fjxmlzn/InfoGAN-CR): votes of 100 observations, 100 votes per code of model
        ``j`` (``n_train`` = ``votes_per_code`` times its codes: the paper's 500 for 5
        codes), standard deviations over 73,728 prior samples: 123,728 observations a
        model. ``"fast"`` (``{"protocol": "fast"}``): votes of 50, 10 per code, standard
        deviations over 5,000: 7,500 observations a model for 5 codes, about 9 to 16
        times less time (the user guide gives its measured agreement with the paper's).
        ``"adaptive"`` (``{"protocol": "adaptive", "z": 2.0}``): rounds of votes of the
        paper's size (100; votes of different sizes cannot be pooled into one
        classifier); the first has ``"fast"``'s 10 votes per code and 5,000 observations
        for the standard deviations; after each round the centralities and the standard
        errors of the medoid's lead are computed, and the run stops when the medoid
        leads every other eligible candidate by ``z`` (a float > 0, default 2) standard
        errors; otherwise the next round doubles the votes and the variance sample of
        the entries that involve the candidates still in contention (their models' data,
        read by every encoder, and their encoders on every model's data), keeping the
        votes already drawn (their winners are recomputed against the grown variance
        sample), up to the paper's counts per entry (``votes_per_code`` and
        ``n_variance`` set these caps), where it stops and a tie is named. ``n_train``
        is refused. A count given explicitly replaces the protocol's. UDR: ``n_samples``
        (observations drawn from ``X``, default 10,000, our choice; all of ``X`` if it
        has fewer, with a warning when ``n_samples`` was given), ``alpha`` (Lasso
        penalty, 0.1) and ``kl_threshold`` (0.01): as in disentanglement_lib, latents
        whose mean KL to the N(0, 1) prior is at most this are ignored, for models whose
        ``transform(X, return_std=True)`` returns posterior means and standard
        deviations; other models (GANs) keep every code.
    n_jobs : int, default=None
        Parallel jobs for the fits and the similarity tasks
        (:class:`joblib.Parallel`, default backend: ``None`` means 1 unless in
        a :func:`joblib.parallel_config` context, ``-1`` all processors).
        Under ``joblib.parallel_config("dask")`` or ``"ray"`` the same code
        runs on a cluster.
    pre_dispatch : int or str, default="2*n_jobs"
        Tasks dispatched ahead, as :class:`joblib.Parallel`: an integer >= 1,
        ``"all"`` or an arithmetic expression in ``n_jobs``; checked at ``fit``
        whatever ``n_jobs`` is.
    verbose : int, default=0
        0 is silent; 1 prints one line per fitted candidate, per similarity
        task and for the result (stdout) and, on a terminal or in a notebook,
        a progress bar with an ETA (stderr) over the candidate fits and one
        over the similarity pairs (UDR: the encodings and rows), advanced as
        the joblib tasks return and removed when done; 2 and above also
        joblib's own progress. The results do not depend on it.
    error_score : "raise" or float, default=np.nan
        Centrality given to a candidate that failed (an exception during
        ``fit``, a diverged model whose generator or encoder outputs NaN or
        infinite values, or an error while generating its data). One
        :class:`~sklearn.exceptions.FitFailedWarning` names every failed
        candidate with its error, as in ``GridSearchCV``, and the others are
        still ranked. ``"raise"`` raises the error instead.
    random_state : int, RandomState instance or None, default=None
        Seeds the similarity computation (one seed per generated dataset, and
        UDR's sample of ``X``). The candidates' own seeds are parameters in
        ``param_grid``.
    allow_incomplete : bool, default=False
        Whether a candidate that trained fewer iterations than asked (it
        reports ``n_iter_`` below ``max_iter_``, as :class:`~disentangle.InfoGANCR`
        and :class:`~disentangle.VAE` do when a callback or an interrupt
        stopped them early) may be the medoid. Such a candidate is always
        compared with the others and marked in ``cv_results_``; by default it
        ranks after the complete ones and is never selected.

    Attributes
    ----------
    cv_results_ : dict of ndarray
        One entry per candidate, ready for ``pandas.DataFrame``: ``params``
        (list of dict), ``param_<name>`` (masked arrays, as GridSearchCV),
        ``centrality`` (float; ``error_score`` for a failed candidate),
        ``rank_centrality`` (int, 1 is the medoid; failed candidates with NaN
        rank last, and candidates that trained fewer iterations than asked
        rank after the complete ones unless ``allow_incomplete``),
        ``n_iter`` (float: iterations trained, the model's ``n_iter_``; NaN
        for a failed candidate or a model that does not report it),
        ``complete`` (bool: False when the model reports fewer iterations
        than its ``max_iter_``), ``fit_time`` (s), ``similarity_time`` (s:
        generating this model's data and scoring every encoder on it, or for
        UDR encoding the sample and computing its row), ``error`` (object:
        None, or the error message of a failed candidate), ``std_centrality``
        (float: the centrality's standard error, a bootstrap over the votes,
        :mod:`disentangle.selection._vote_bootstrap`; NaN for a failed
        candidate and for UDR, which has none: a bootstrap over its data
        points would refit every Lasso or Spearman map per replicate),
        ``std_lead`` (float: the standard error of the medoid's lead over
        this candidate, ``centrality[best_index_] - centrality[i]``, from
        the same replicates, so without assuming the two independent; 0.0
        for the medoid), ``n_images_rendered`` and ``n_images_encoded``
        (int: images this model's generator rendered and its encoder
        encoded for the similarity; UDR renders none).
    best_index_ : int
        Index of the selected candidate (always one that did not fail and,
        unless ``allow_incomplete``, one that trained every iteration asked).
    best_params_ : dict
    best_estimator_ : estimator
        The selected model, already fitted (there is no refit).
    best_score_ : float
        The medoid's centrality, ``cv_results_["centrality"][best_index_]``
        (NaN when it is the only candidate that did not fail).
    estimators_ : list of estimators
        Every fitted candidate; None for a failed one.
    pairwise_scores_ : ndarray of shape (n_candidates, n_candidates)
        The raw, asymmetric scores: FactorVAE score of encoder ``i`` on model
        ``j``'s data, or UDR's score of the map from ``i``'s codes to ``j``'s.
        Values in ``[0, 1]``; NaN in the rows and columns of failed candidates.
    pairwise_std_ : ndarray of shape (n_candidates, n_candidates)
        Standard error of each entry of ``pairwise_scores_`` (``"factor_vae"``:
        its spread over bootstrap replicates of the votes; NaN for UDR). The
        paper's protocol scores its majority-vote classifier on the votes it
        was built from, so a binomial standard error would be wrong; entries
        of one column share their votes and are resampled together.
    n_similarity_rounds_ : int
        Rounds of votes: 1, but for the adaptive protocol.
    similarity_matrix_ : ndarray of shape (n_candidates, n_candidates)
        ``(pairwise_scores_ + pairwise_scores_.T) / 2``, symmetric. The
        diagonal is the self-score, computed like every other entry (a
        model's encoder on its own generated data; for UDR a model against
        itself); it never enters the centrality, as in ``main_mc.py``.
    n_candidates_ : int
    n_features_in_ : int
        Of ``best_estimator_``.
    feature_names_in_ : ndarray of str
        Of ``best_estimator_``, when fitted on a DataFrame with string column names.

    See Also
    --------
    model_centrality : The centrality of models that are already fitted.
    disentangle.metrics.pairwise_similarity : The similarity matrix alone.
    sklearn.model_selection.GridSearchCV : The supervised counterpart of this shell.

    Notes
    -----
    Cost: each model renders its data once (``n_train * batch_size +
    n_variance`` observations: 123,728 with the default, paper protocol and
    7,500 with the ``"fast"`` one, for 5 codes; the adaptive protocol
    renders 10,000 in its first round and at most the paper's 123,728:
    ``cv_results_["n_images_rendered"]`` says how many) and every
    encoder sees every model's data once, in batches, inside about two joblib
    tasks per worker (one per model with ``n_jobs=1``), each round. The
    standard errors cost no image: 200 resamples of the votes already drawn. The tasks receive
    every fitted model, each as its own argument (under Dask each model is
    scattered once and each worker fetches it once), so the work is shared
    out by ``n_jobs`` without any shared file: the selector writes nothing to
    disk, and candidates whose parameters name the same checkpoint or work
    directory are rejected.

    Every task gets its own seed, and the bootstrap resamples and the
    adaptive protocol's rounds derive theirs from it, so the result does not
    depend on ``n_jobs``, ``verbose`` or the backend for deterministic
    estimators. Torch models trained or run
    on CPU in worker processes (1 thread each) may differ from an in-process
    run by float rounding, which can flip near-tied votes of barely trained
    models.

    References
    ----------
    Z. Lin, K. K. Thekumparampil, G. Fanti and S. Oh, "InfoGAN-CR and
    ModelCentrality: Self-supervised Model Training and Selection for
    Disentangling GANs", ICML 2020, Sec. 5.
    S. Duan et al., "Unsupervised Model Selection for Variational
    Disentangled Representation Learning", ICLR 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from disentangle import InfoGANCR, ModelCentralitySelector
    >>> X = (np.random.RandomState(0).rand(64, 32, 32) > 0.5).astype(np.uint8)
    >>> selector = ModelCentralitySelector(
    ...     InfoGANCR(n_codes=2, max_iter=3, batch_size=16, device="cpu"),
    ...     {"random_state": [0, 1, 2]}, random_state=0,
    ...     similarity_params={"votes_per_code": 5, "n_variance": 500}).fit(X)
    >>> selector.similarity_matrix_.shape
    (3, 3)
    >>> bool(selector.best_score_ == selector.cv_results_["centrality"].max())
    True
    >>> selector.transform(X[:2]).shape
    (2, 2)
    """

    _parameter_constraints = {
        "estimator": [GENERATIVE_ESTIMATOR],
        "param_grid": [dict, list],
        "similarity": [SIMILARITY_NAME],
        "similarity_params": [dict, None],
        "n_jobs": [INTEGER, None],
        "pre_dispatch": [PRE_DISPATCH],
        "verbose": ["verbose"],
        "error_score": [StrOptions({"raise"}), REAL],
        "random_state": ["random_state"],
        "allow_incomplete": ["boolean"],
    }

    def __init__(
        self,
        estimator,
        param_grid,
        *,
        similarity="factor_vae",
        similarity_params=None,
        n_jobs=None,
        pre_dispatch="2*n_jobs",
        verbose=0,
        error_score=np.nan,
        random_state=None,
        allow_incomplete=False,
    ):
        self.param_grid = param_grid
        super().__init__(estimator, similarity=similarity, similarity_params=similarity_params,
                         n_jobs=n_jobs, pre_dispatch=pre_dispatch, verbose=verbose,
                         error_score=error_score, random_state=random_state,
                         allow_incomplete=allow_incomplete)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        if not hasattr(self.estimator, "__sklearn_tags__"):  # refused by fit, with the reason
            return tags
        # Input, output dtype and determinism are the candidates', as GridSearchCV's.
        estimator_tags = get_tags(self.estimator)
        tags.input_tags = copy.deepcopy(estimator_tags.input_tags)
        tags.transformer_tags = copy.deepcopy(estimator_tags.transformer_tags)
        tags.non_deterministic = estimator_tags.non_deterministic
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None):
        """Fit every candidate, compute their similarities and keep the medoid.

        Parameters
        ----------
        X : array-like or path of a ``.npy`` file
            Training data for every candidate (e.g. images of shape (n, H, W));
            UDR also draws its observations from it. A path travels to the
            workers as a path: each opens the file memory-mapped itself (the
            user guide's Dask section).
        y : ignored

        Returns
        -------
        self : ModelCentralitySelector

        Raises
        ------
        ValueError
            Fewer than 2 candidates, unknown ``similarity_params`` keys,
            candidates sharing a checkpoint or work directory, an invalid
            ``pre_dispatch``, a bool for ``n_jobs`` or ``error_score``, every
            candidate failed, or (unless ``allow_incomplete``) every candidate
            that did not fail trained fewer iterations than asked.
        Exception
            The first candidate's error when ``error_score="raise"``.
        KeyboardInterrupt
            Ctrl-C: the search stops. A candidate in training stops at the end
            of its iteration and writes its last checkpoint (with a
            ``checkpoint_dir``), then the interrupt reaches the caller;
            candidates with a ``checkpoint_dir`` keep their training there,
            and a new ``fit`` with ``warm_start=True`` continues each one
            (the finished ones have nothing left to train) to the result of
            an uninterrupted search.

        Warns
        -----
        UserWarning
            Candidates with identical parameters (with a fixed seed they are
            the same model, which pulls the centrality towards it), an explicit
            UDR ``n_samples`` larger than ``len(X)``, a lone candidate that
            did not fail, or candidates that trained fewer iterations than
            asked (one warning naming them all).
        disentangle.exceptions.TiedCandidatesWarning
            Eligible candidates whose centralities are within 2 standard
            errors of the medoid's lead over them (one warning naming them,
            their centralities ± standard errors and what would separate
            them); ``best_index_`` stays the highest centrality.
        sklearn.exceptions.FitFailedWarning
            Some candidates failed (one warning naming them all).
        """
        candidates = self._candidates()
        run = pairwise_run(self.similarity, self.similarity_params, n_jobs=self.n_jobs,
                           pre_dispatch=self.pre_dispatch, verbose=self.verbose,
                           error_score=self.error_score, prefix="ModelCentralitySelector")
        check_candidates(self.estimator, candidates, self._candidates_from)
        self.n_candidates_ = len(candidates)

        models, fit_time, errors = self._fit_candidates(X, candidates, run)
        eligible = eligibility(models, errors, self.allow_incomplete)[-1]
        similarities = run(models, errors, X, self.random_state, eligible)
        self._set_results(candidates, models, errors, similarities, fit_time, run)
        return self

    # --- fitting --------------------------------------------------------------------------

    #: The parameter that gives the candidates, for messages.
    _candidates_from = "param_grid"

    def _candidates(self):
        """The candidates' parameters: every point of ``param_grid``."""
        return list(ParameterGrid(self.param_grid))

    def _fit_candidates(self, X, candidates, run):
        """Fit a clone per candidate with ``run``'s joblib settings; failures become None
        plus a message."""
        n = len(candidates)
        run.log(f"fitting {n} candidates")
        tasks = (delayed(guarded)(fit_and_check, self.error_score, self.estimator, params, X)
                 for params in candidates)
        models, times, errors = [None] * n, np.zeros(n), [None] * n
        with run.progress(n, "fitting candidates", "fit") as bar:
            for i, (model, seconds, error) in enumerate(run.parallel()(tasks)):
                models[i], times[i], errors[i] = model, seconds, error
                bar.update(1)
                status = "FAILED" if error else "fitted"
                run.log(f"[{i + 1}/{n}] {candidates[i]} {status} in {seconds:.1f} s")
        return models, times, errors

    # --- similarities ---------------------------------------------------------------------

    # --- results --------------------------------------------------------------------------

    def _set_results(self, candidates, models, errors, similarities, fit_time, run):
        """Centralities, their standard errors, ranks, the medoid and every fitted attribute."""
        failed = np.array([e is not None for e in errors])
        warn_or_raise_about_failures(candidates, errors, self.error_score)
        if (~failed).sum() == 1:
            warnings.warn("Only one candidate did not fail; it is selected without comparison "
                          "and its centrality is NaN.", UserWarning, **user_frame())
        n_iter, asked, incomplete, eligible = eligibility(models, errors, self.allow_incomplete)
        warn_or_raise_about_incomplete(incomplete, eligible, n_iter, asked,
                                        self.allow_incomplete)
        pairwise = similarities.pairwise
        pairwise[failed, :] = pairwise[:, failed] = np.nan
        centrality = run.kind.centrality(pairwise, ~failed)
        centrality[failed] = self.error_score
        self.best_index_ = medoid(centrality, eligible)
        self.best_score_ = float(centrality[self.best_index_])
        std_centrality, std_lead = centrality_errors(similarities.replicates, ~failed,
                                                     self.best_index_, run.kind.centrality)
        self.estimators_ = [None if f else m for m, f in zip(models, failed, strict=True)]
        self.best_estimator_ = self.estimators_[self.best_index_]
        self.best_params_ = candidates[self.best_index_]
        self.pairwise_scores_ = pairwise
        self.pairwise_std_ = pairwise_std(similarities.replicates, len(candidates))
        self.similarity_matrix_ = symmetrised(pairwise)
        self.n_similarity_rounds_ = similarities.n_rounds
        tiers = np.where(failed, 2, np.where(eligible, 0, 1))
        self.cv_results_ = {
            **cv_results(candidates, centrality, fit_time, similarities.times, errors, tiers),
            "std_centrality": std_centrality, "std_lead": std_lead,
            "n_iter": n_iter, "complete": ~(n_iter < asked),
            "n_images_rendered": similarities.rendered, "n_images_encoded": similarities.encoded}
        run.log(f"medoid: candidate {self.best_index_} {self.best_params_}, centrality "
                f"{centrality[self.best_index_]:.4f} +- {std_centrality[self.best_index_]:.4f}")
        warn_about_ties(candidates, centrality, std_centrality, std_lead, eligible,
                         self.best_index_)

    # --- delegation to the medoid ---------------------------------------------------------

    @available_if(lambda self: _best_has(self, "transform"))
    def transform(self, X):
        """Codes of ``X`` under ``best_estimator_`` (see its ``transform``).

        Returns
        -------
        codes : ndarray of shape (n, n_codes)
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.transform(X)

    @available_if(lambda self: _best_has(self, "sample"))
    def sample(self, n_samples, random_state=None):
        """Generate ``n_samples`` observations from the prior with ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.sample(n_samples, random_state=random_state)

    @available_if(lambda self: _best_has(self, "sample_latent"))
    def sample_latent(self, n_samples, random_state=None):
        """Draw latents from ``best_estimator_``'s prior, shape (n_samples, n_latent)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.sample_latent(n_samples, random_state=random_state)

    @available_if(lambda self: _best_has(self, "generate"))
    def generate(self, latents):
        """Render latents of shape (n, n_latent) with ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.generate(latents)

    @available_if(lambda self: _best_has(self, "get_feature_names_out"))
    def get_feature_names_out(self, input_features=None):
        """Names of the code columns of ``best_estimator_`` (see its ``get_feature_names_out``).

        With them ``set_output(transform="pandas")`` gives DataFrames.

        Parameters
        ----------
        input_features : array-like of str, optional
            Checked by ``best_estimator_`` against the input seen at fit.

        Returns
        -------
        names : ndarray of str objects, shape (n_codes,)
        """
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.get_feature_names_out(input_features)

    @property
    def n_features_in_(self):
        """int: Number of features of one input, as seen by ``best_estimator_``."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.n_features_in_

    @property
    def feature_names_in_(self):
        """ndarray of str: Column names seen by ``best_estimator_`` (fitted on a DataFrame)."""
        check_is_fitted(self, "best_estimator_")
        return self.best_estimator_.feature_names_in_


class RandomizedModelCentralitySelector(ModelCentralitySelector):
    """:class:`ModelCentralitySelector` over candidates drawn at random.

    The label-free counterpart of
    :class:`~sklearn.model_selection.RandomizedSearchCV`: ``n_iter``
    candidates are drawn from ``param_distributions`` with
    :class:`~sklearn.model_selection.ParameterSampler`, then fitted, compared
    and ranked exactly as by :class:`ModelCentralitySelector` (same
    similarities, same ``cv_results_`` layout, same attributes). For large
    hyper-parameter spaces, where a grid would be too big (Bergstra & Bengio,
    "Random Search for Hyper-Parameter Optimization", JMLR 2012).

    Parameters
    ----------
    estimator : generative estimator
        As for :class:`ModelCentralitySelector`.
    param_distributions : dict or list of dicts
        Parameter names to a distribution (an object with ``rvs``, e.g.
        ``scipy.stats.loguniform(0.1, 100)``) or a list of values drawn
        uniformly; a list of dicts draws each candidate from one of them at
        random. When every value is a list, candidates are drawn without
        replacement (scikit-learn warns if ``n_iter`` exceeds the grid).
    n_iter : int, default=10
        Candidates drawn; at least 2 are needed to compare.
    random_state : int, RandomState instance or None, default=None
        Draws the candidates, then seeds the similarity computation as in
        :class:`ModelCentralitySelector` (an int gives the same candidates and
        the same result on every call).
    similarity, similarity_params, n_jobs, pre_dispatch, verbose, error_score, allow_incomplete
        As for :class:`ModelCentralitySelector`.

    Attributes
    ----------
    cv_results_, best_index_, best_params_, best_score_, best_estimator_, estimators_
        As for :class:`ModelCentralitySelector`; ``cv_results_["params"]`` lists
        the drawn candidates in the order drawn.

    See Also
    --------
    ModelCentralitySelector : The same over every point of a grid.
    sklearn.model_selection.ParameterSampler : How the candidates are drawn.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import loguniform
    >>> from disentangle import VAE
    >>> from disentangle.selection import RandomizedModelCentralitySelector
    >>> X = np.random.default_rng(0).random((64, 8), dtype=np.float32)  # a table
    >>> search = RandomizedModelCentralitySelector(
    ...     VAE(n_latent=2, max_iter=2, batch_size=16, device="cpu"),
    ...     {"beta": loguniform(0.5, 20), "random_state": [0, 1]}, n_iter=3, random_state=0,
    ...     similarity_params={"votes_per_code": 5, "n_variance": 500}).fit(X)
    >>> len(search.cv_results_["params"])
    3
    """

    _parameter_constraints = {
        **{name: constraint for name, constraint
           in ModelCentralitySelector._parameter_constraints.items() if name != "param_grid"},
        "param_distributions": [dict, list],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
    }
    _candidates_from = "n_iter"

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        n_iter=10,
        similarity="factor_vae",
        similarity_params=None,
        n_jobs=None,
        pre_dispatch="2*n_jobs",
        verbose=0,
        error_score=np.nan,
        random_state=None,
        allow_incomplete=False,
    ):
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        _SharedParams.__init__(self, estimator, similarity=similarity,
                               similarity_params=similarity_params, n_jobs=n_jobs,
                               pre_dispatch=pre_dispatch, verbose=verbose,
                               error_score=error_score, random_state=random_state,
                               allow_incomplete=allow_incomplete)

    def _candidates(self):
        """``n_iter`` candidates drawn from ``param_distributions`` with ``random_state``."""
        return list(ParameterSampler(self.param_distributions, self.n_iter,
                                     random_state=self.random_state))


def model_centrality(models, X=None, *, similarity="factor_vae", similarity_params=None,
                     n_jobs=None, verbose=0, random_state=None, return_std=False):
    """Centrality and pairwise scores of already fitted generative models.

    The similarity step of :class:`ModelCentralitySelector` on its own, e.g.
    to rank one pool by both ModelCentrality and UDR without refitting it.
    With the same ``similarity``, ``similarity_params`` and ``random_state``
    it returns the selector's ``cv_results_["centrality"]`` and
    ``pairwise_scores_`` for the same models.

    Parameters
    ----------
    models : sequence of fitted generative estimators
        At least 2; see :class:`ModelCentralitySelector` for the interface
        (fitted models need no scikit-learn base class: nothing is cloned).
    X : array-like, default=None
        Observations; required by the UDR similarities, unused by ``"factor_vae"``.
    similarity : {"factor_vae", "udr_lasso", "udr_spearman"}, default="factor_vae"
    similarity_params : dict, default=None
    n_jobs : int, default=None
    verbose : int, default=0
    random_state : int, RandomState instance or None, default=None
        See :class:`ModelCentralitySelector`.
    return_std : bool, default=False
        Also return the standard error of each centrality.

    Returns
    -------
    centrality : ndarray of shape (n_models,)
        Mean symmetrised similarity to the other models (``"factor_vae"``) or
        UDR score (median over the other models); the argmax is the selected model.
    pairwise_scores : ndarray of shape (n_models, n_models)
        As ``ModelCentralitySelector.pairwise_scores_``.
    std_centrality : ndarray of shape (n_models,), only if ``return_std``
        As ``cv_results_["std_centrality"]``: a bootstrap over the votes for
        ``"factor_vae"``, NaN for UDR.

    Raises
    ------
    ValueError
        Fewer than 2 models, an unknown similarity or parameter, UDR without
        ``X``, or an error of any model (nothing is tolerated here).
    """
    models = list(models)
    if not isinstance(return_std, bool):
        raise TypeError(f"return_std must be a bool; got {return_std!r}.")
    similarities = similarity_run(models, X, similarity=similarity,
                                  similarity_params=similarity_params, n_jobs=n_jobs,
                                  verbose=verbose, random_state=random_state)
    alive = np.ones(len(models), bool)
    rule = SIMILARITY_KINDS[similarity].centrality
    values = rule(similarities.pairwise, alive)
    if not return_std:
        return values, similarities.pairwise
    std = centrality_errors(similarities.replicates, alive, medoid(values, alive), rule)[0]
    return values, similarities.pairwise, std


def _best_has(selector, name):
    """True when the fitted medoid (or, before fit, the template estimator) has ``name``."""
    if hasattr(selector, "best_estimator_"):
        return hasattr(selector.best_estimator_, name)
    return hasattr(selector.estimator, name)
