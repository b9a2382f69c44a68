"""The similarity kinds, in one table, and the pool's similarity matrix.

:data:`SIMILARITY_KINDS` maps each similarity name to its
:class:`SimilarityKind`: its parameters' defaults and checks, the plan of
joblib tasks that computes the matrix, what entry ``[i, j]`` is, and the
centrality rule that ranks the pool. :class:`~disentangle.ModelCentralitySelector`,
:func:`~disentangle.selection.model_centrality` and :func:`pairwise_similarity`
read everything about a kind from its entry; adding a kind is adding an entry
(the ModelCentrality user guide, "Adding a similarity kind").

``"factor_vae"`` is ModelCentrality (Lin et al., ICML 2020, Sec. 5; official
code ``fjxmlzn/InfoGAN-CR`` ``InfoGAN-CR_dSprites/main_mc.py``).
``"udr_lasso"`` and ``"udr_spearman"`` are UDR (Duan et al., ICLR 2020;
``google-research/disentanglement_lib``
``disentanglement_lib/evaluation/udr/metrics/udr.py``).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from numbers import Real

import numpy as np

from disentangle.metrics._factor_vae import _resolve_params
from disentangle.metrics._sampling import check_count
from disentangle.metrics._udr import lasso_strength, spearman_strength, udr_representation, udr_row
from disentangle.selection._centrality import mean_symmetrised, median_received
from disentangle.selection._pairwise import (
    SIMILARITY_PROTOCOLS,
    PairwiseRun,
    SampledRows,
    VotedColumns,
    factor_vae_arguments,
)


@dataclass(frozen=True)
class SimilarityKind:
    """Everything the package knows about one similarity kind: an entry of
    :data:`SIMILARITY_KINDS`.

    Parameters
    ----------
    defaults : dict
        Every ``similarity_params`` key the kind takes, with its default; any
        other key is refused.
    check : callable
        ``check(params)``: raise ValueError, saying what was expected, on an
        invalid value of the complete parameters (defaults updated with the
        user's), before any fit.
    plan : VotedColumns or SampledRows
        The joblib tasks that compute the matrix: a block of votes per column
        (``"factor_vae"``), or one sample of ``X`` encoded by every model then
        a task per row (``SampledRows(encode, row)``, UDR's; the kind then needs ``X``).
    centrality : callable
        ``centrality(pairwise, alive) -> ndarray of shape (n,)``: the score
        the pool is ranked by, NaN for the models not ``alive`` (e.g.
        :func:`~disentangle.selection.mean_symmetrised`,
        :func:`~disentangle.selection.median_received`).
    entry : str
        What ``pairwise[i, j]`` is: the matrix's orientation, for the docs and errors.
    source : str
        Where the kind comes from: the paper and the reference implementation.
    """

    defaults: dict
    check: Callable
    plan: object
    centrality: Callable
    entry: str
    source: str


def _check_factor_vae(params):
    """Raise ValueError on an out-of-range ``"factor_vae"`` parameter."""
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


def _check_udr(params):
    """Raise ValueError on an out-of-range UDR parameter."""
    check_count("n_samples", params["n_samples"], 2)
    for name in ("alpha", "kl_threshold"):
        value = params.get(name, 0.0)
        if isinstance(value, bool) or not isinstance(value, Real) or not value >= 0:
            raise ValueError(f"{name} must be a number >= 0; got {value!r}.")


def _udr_encode(model, observations, params):
    """UDR's representation of the sample (:func:`~disentangle.metrics._udr.udr_representation`)."""
    return udr_representation(model, observations, params["kl_threshold"])


def _udr_lasso_row(i, params, *arrays):
    """Row ``i`` of UDR with Lasso coefficients (penalty ``alpha``)."""
    return udr_row(i, partial(lasso_strength, alpha=params["alpha"]), *arrays)


def _udr_spearman_row(i, params, *arrays):
    """Row ``i`` of UDR with absolute Spearman correlations."""
    return udr_row(i, spearman_strength, *arrays)


_UDR_ENTRY = ("how one-to-one the map from model i's codes to model j's is, on one sample of "
              "X (the relative strength of the largest entry of each row and column)")
_UDR_SOURCE = ("Duan et al., ICLR 2020, Eq. 3; google-research/disentanglement_lib "
               "disentanglement_lib/evaluation/udr/metrics/udr.py")

#: The similarity kinds by name. Each entry is all the package knows about its kind.
SIMILARITY_KINDS = {
    "factor_vae": SimilarityKind(
        # factor_vae_score's arguments; None takes the protocol's count (SIMILARITY_PROTOCOLS;
        # factor_vae_score's for "community"). n_train=None: votes_per_code votes per code of
        # the generating model. n_bootstrap: replicates of the standard errors (our choice: 200
        # puts a standard error within about 5 % of its limit); z: the adaptive protocol's
        # stopping rule (None: ADAPTIVE_Z).
        defaults={"protocol": "paper", "batch_size": None, "n_train": None, "n_eval": None,
                  "n_variance": None, "prune_threshold": None, "votes_per_code": None,
                  "n_bootstrap": 200, "z": None},
        check=_check_factor_vae, plan=VotedColumns(), centrality=mean_symmetrised,
        entry="the FactorVAE score of model i's encoder on model j's generated data",
        source=("Lin et al., ICML 2020, Sec. 5; fjxmlzn/InfoGAN-CR "
                "InfoGAN-CR_dSprites/gan_task_mc_cross_evaluation.py and main_mc.py")),
    # disentanglement_lib: Lasso(alpha=0.1), latents with mean KL <= 0.01 ignored; n_samples:
    # our choice.
    "udr_lasso": SimilarityKind(
        defaults={"n_samples": 10_000, "alpha": 0.1, "kl_threshold": 0.01},
        check=_check_udr, plan=SampledRows(_udr_encode, _udr_lasso_row, "UDR"),
        centrality=median_received, entry=_UDR_ENTRY + ", from Lasso coefficients",
        source=_UDR_SOURCE),
    "udr_spearman": SimilarityKind(
        defaults={"n_samples": 10_000, "kl_threshold": 0.01},
        check=_check_udr, plan=SampledRows(_udr_encode, _udr_spearman_row, "UDR"),
        centrality=median_received, entry=_UDR_ENTRY + ", from absolute Spearman correlations",
        source=_UDR_SOURCE),
}

#: The names of the built-in similarity kinds.
SIMILARITIES = tuple(SIMILARITY_KINDS)


class _Defaults(Mapping):
    """Every kind's ``defaults``, read from :data:`SIMILARITY_KINDS` (a live view)."""

    def __getitem__(self, name):
        return SIMILARITY_KINDS[name].defaults

    def __iter__(self):
        return iter(SIMILARITY_KINDS)

    def __len__(self):
        return len(SIMILARITY_KINDS)

    def __repr__(self):
        return repr(dict(self))


#: Default ``similarity_params`` of each similarity kind (the ``defaults`` of its entry of
#: :data:`SIMILARITY_KINDS`).
SIMILARITY_DEFAULTS = _Defaults()


def similarity_kind(similarity):
    """The entry of :data:`SIMILARITY_KINDS` named ``similarity``.

    Raises
    ------
    ValueError
        An unknown name.
    """
    if not isinstance(similarity, str) or similarity not in SIMILARITY_KINDS:
        raise ValueError(f"similarity must be one of {tuple(SIMILARITY_KINDS)}; "
                         f"got {similarity!r}.")
    return SIMILARITY_KINDS[similarity]


def check_similarity_params(similarity, overrides):
    """The similarity's defaults updated with ``overrides``; unknown keys raise ValueError."""
    kind = similarity_kind(similarity)
    params = dict(kind.defaults)
    unknown = sorted(set(overrides or {}) - set(params))
    if unknown:
        raise ValueError(
            f"Unknown similarity_params {unknown} for similarity={similarity!r}; "
            f"expected keys among {sorted(params)}.")
    params.update(overrides or {})
    kind.check(params)
    return params


def pairwise_run(similarity, similarity_params, *, n_jobs, pre_dispatch, verbose, error_score,
                 prefix):
    """A :class:`~disentangle.selection._pairwise.PairwiseRun` of the kind, its parameters
    checked (:func:`check_similarity_params`)."""
    params = check_similarity_params(similarity, similarity_params)
    return PairwiseRun(similarity, SIMILARITY_KINDS[similarity], params, similarity_params or {},
                       n_jobs=n_jobs, pre_dispatch=pre_dispatch, verbose=verbose,
                       error_score=error_score, prefix=prefix)


def pairwise_similarity(models, X=None, *, similarity="factor_vae", similarity_params=None,
                        n_jobs=None, pre_dispatch="2*n_jobs", verbose=0, random_state=None,
                        columns=None, return_details=False):
    """Pairwise similarity scores of fitted generative models.

    Parameters
    ----------
    models : sequence of fitted generative estimators
        At least 2, with ``sample_latent``, ``generate``, ``transform``,
        ``n_codes_`` and ``n_latent_`` (as :class:`~disentangle.InfoGANCR` and
        :class:`~disentangle.VAE`, or plain objects: no scikit-learn base class is
        needed); their numbers of codes may differ.
    X : array-like or path of a ``.npy`` file, default=None
        Observations; required by the UDR similarities (a kind whose plan is
        :class:`~disentangle.selection.SampledRows`), unused by ``"factor_vae"``.
    similarity : str, default="factor_vae"
        A key of :data:`SIMILARITY_KINDS`: ``"factor_vae"``, ``"udr_lasso"``,
        ``"udr_spearman"``, or a kind added there.
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
        One seed per generated dataset (column), drawn first, and UDR's sample of ``X``.
    columns : sequence of int, default=None
        Compute only these columns (model ``j``'s generated data, read by
        every encoder), each equal to the whole matrix's column under the same
        ``random_state``: a matrix can be built, saved and resumed a column at
        a time. The other columns are NaN. ``"factor_vae"`` only, and not with
        its ``"adaptive"`` protocol (its rounds depend on every column).
    return_details : bool, default=False
        Return a :class:`~disentangle.selection.Similarities` instead of the
        matrix: also the scores' bootstrap replicates, each model's seconds of
        similarity tasks, the images each model rendered and encoded, and the
        rounds of votes.

    Returns
    -------
    pairwise_scores : ndarray of shape (n_models, n_models), float64
        Values in ``[0, 1]``: the FactorVAE score of encoder ``i`` on model
        ``j``'s data, or UDR's score of the map from ``i``'s codes to ``j``'s
        (:attr:`SimilarityKind.entry`). Not symmetric; the diagonal is each
        model's self-score. A :class:`~disentangle.selection.Similarities`
        with ``return_details=True``.

    Raises
    ------
    ValueError
        Fewer than 2 models, an unknown similarity or parameter, UDR without
        ``X``, ``columns`` out of range or for a kind computed by rows, or an
        error of any model (nothing is tolerated here).

    See Also
    --------
    disentangle.selection.model_centrality : The centrality of each model from these scores.
    disentangle.selection.centrality : The centrality from a matrix.
    disentangle.ModelCentralitySelector : Fits the pool and keeps its medoid.
    disentangle.metrics.factor_vae_scores : Several encoders on one dataset.
    """
    details = similarity_run(models, X, similarity=similarity,
                             similarity_params=similarity_params, n_jobs=n_jobs,
                             pre_dispatch=pre_dispatch, verbose=verbose,
                             random_state=random_state, columns=columns)
    if not isinstance(return_details, bool):
        raise TypeError(f"return_details must be a bool; got {return_details!r}.")
    return details if return_details else details.pairwise


def similarity_run(models, X=None, *, similarity="factor_vae", similarity_params=None,
                   n_jobs=None, pre_dispatch="2*n_jobs", verbose=0, random_state=None,
                   prefix="pairwise_similarity", columns=None):
    """:func:`pairwise_similarity` with everything it computed: a
    :class:`~disentangle.selection.Similarities`. Parameters and errors as
    :func:`pairwise_similarity`'s; ``prefix`` of the log lines."""
    models, kind = list(models), similarity_kind(similarity)
    if len(models) < 2:
        raise ValueError(f"pairwise_similarity needs at least 2 models; got {len(models)}.")
    if kind.plan.needs_X and X is None:
        raise ValueError(f"similarity={similarity!r} encodes observations: pass X.")
    run = pairwise_run(similarity, similarity_params, n_jobs=n_jobs, pre_dispatch=pre_dispatch,
                       verbose=verbose, error_score="raise", prefix=prefix)
    if columns is not None:
        columns = [int(j) for j in columns]
        if not all(0 <= j < len(models) for j in columns):
            raise ValueError(f"columns must be model indices in [0, {len(models)}); "
                             f"got {columns}.")
    return run(models, [None] * len(models), X, random_state, columns=columns)


def centrality(pairwise, similarity="factor_vae", *, alive=None):
    """The centrality of every model from a pairwise matrix, by the kind's rule.

    ``"factor_vae"`` (ModelCentrality, ``main_mc.py``): mean over ``j != i``
    of the symmetrised ``(P + P.T) / 2``. UDR (disentanglement_lib
    ``model_scores``): median over ``j != i`` of ``P[j, i]``.

    Parameters
    ----------
    pairwise : array-like of shape (n, n)
        As :func:`pairwise_similarity` returns, e.g. a sub-matrix of a pool.
    similarity : str, default="factor_vae"
        A key of :data:`SIMILARITY_KINDS`.
    alive : array-like of bool, shape (n,), default=None
        The models to rank among (default: all); NaN for the others.

    Returns
    -------
    centrality : ndarray of shape (n,), float64
        NaN for a model not alive and for a lone one; the argmax is the medoid.

    Raises
    ------
    ValueError
        A matrix that is not square, an unknown similarity, or ``alive`` of another length.
    """
    pairwise = np.asarray(pairwise, dtype=np.float64)
    if pairwise.ndim != 2 or pairwise.shape[0] != pairwise.shape[1]:
        raise ValueError(f"pairwise must be a square matrix; got shape {pairwise.shape}.")
    alive = np.ones(len(pairwise), bool) if alive is None else np.asarray(alive, dtype=bool)
    if alive.shape != (len(pairwise),):
        raise ValueError(f"alive must have shape ({len(pairwise)},); got {alive.shape}.")
    return similarity_kind(similarity).centrality(pairwise, alive)


def images_rendered(similarity_params, n_codes):
    """Images a model with ``n_codes`` codes renders for its column under a ``"factor_vae"``
    protocol: its variance sample and its votes (the adaptive protocol: at most this).

    Parameters
    ----------
    similarity_params : dict or None
        As for :func:`pairwise_similarity` with ``similarity="factor_vae"``.
    n_codes : int
        Codes of the generating model (the votes cycle over them).

    Returns
    -------
    n_images : int
    """
    fvae = _resolve_params(**factor_vae_arguments(
        check_similarity_params("factor_vae", similarity_params), n_codes))
    n_votes = fvae["n_train"] + (fvae["n_eval"] if fvae["split"] else 0)
    return int(fvae["n_variance"] + n_votes * fvae["batch_size"])
