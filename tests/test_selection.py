"""Tests of disentangle.ModelCentralitySelector, its similarities and its heatmap."""

import importlib.util
import sys
import time
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.utils import check_random_state, get_tags

from disentangle import InfoGANCR, ModelCentralitySelector
from disentangle.datasets import GeneratedDataset
from disentangle.metrics import (
    factor_vae_score,
    factor_vae_scores,
    pairwise_similarity,
)
from disentangle.plotting import candidate_labels, plot_similarity_matrix
from disentangle.selection import (
    SIMILARITY_DEFAULTS,
    SIMILARITY_PROTOCOLS,
    _pairwise,
    model_centrality,
    relative_strength,
)
from disentangle.selection._results import rank

N_FEATURES = 6
# Small FactorVAE-score settings: 40 votes of 100 observations per code, std over 2,000.
SMALL = {"n_variance": 2000, "votes_per_code": 40}


class Linear(TransformerMixin, BaseEstimator):
    """A hand-made generative estimator whose codes are known exactly.

    Latents are ``n_codes`` codes then ``n_noise`` noise dims, all U(-1, 1).
    ``generate`` rotates codes 0 and 1 by ``angle`` radians, writes code k into
    observation column ``columns[k]`` and the noise into the other columns;
    ``transform`` inverts it. Models whose ``columns`` are permutations of
    each other agree (their codes are the same up to order); a rotated model
    is an outlier. ``fail`` raises in ``fit``; ``diverge`` generates NaN. It
    reports 10 iterations of 10 (``n_iter_``, ``max_iter_``), or ``stopped_at``
    of 10 (the same model, as if training had been cut short).
    """

    def __init__(self, columns=(0, 1, 2), angle=0.0, fail=False, diverge=False,
                 random_state=None, work_dir=None, stopped_at=None):
        self.columns = columns
        self.angle = angle
        self.fail = fail
        self.diverge = diverge
        self.random_state = random_state
        self.work_dir = work_dir
        self.stopped_at = stopped_at

    def fit(self, X, y=None):
        if self.fail:
            raise RuntimeError("boom: this candidate cannot be fitted")
        self.max_iter_ = 10
        self.n_iter_ = self.max_iter_ if self.stopped_at is None else self.stopped_at
        self.n_codes_ = len(self.columns)
        self.n_latent_ = N_FEATURES  # noise fills the columns that hold no code
        self.n_features_in_ = N_FEATURES
        c, s = np.cos(self.angle), np.sin(self.angle)
        self.rotation_ = np.eye(self.n_codes_)
        self.rotation_[:2, :2] = [[c, -s], [s, c]]
        return self

    def _write_paths(self):  # the selector's hook: the paths a fit writes to
        return {} if self.work_dir is None else {"work_dir": self.work_dir}

    def sample_latent(self, n_samples, random_state=None):
        rng = check_random_state(random_state)
        return rng.uniform(-1, 1, (n_samples, self.n_latent_)).astype(np.float32)

    def _noise_columns(self):
        return [k for k in range(N_FEATURES) if k not in self.columns]

    def generate(self, latents):
        latents = np.asarray(latents, dtype=np.float64)
        obs = np.empty((len(latents), N_FEATURES))
        obs[:, list(self.columns)] = latents[:, : self.n_codes_] @ self.rotation_.T
        obs[:, self._noise_columns()] = latents[:, self.n_codes_:]
        if self.diverge:
            obs[:] = np.nan
        return obs.astype(np.float32)

    def sample(self, n_samples, random_state=None):
        return self.generate(self.sample_latent(n_samples, random_state))

    def transform(self, X):
        return (np.asarray(X, dtype=np.float64)[:, list(self.columns)] @ self.rotation_)


AGREEING = [(0, 1, 2), (2, 0, 1), (1, 2, 0)]
POOL = [{"columns": AGREEING}, {"columns": [(0, 1, 2)], "angle": [np.pi / 4]}]  # 3 agree, 1 outlier
OUTLIER = 3


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).uniform(-1, 1, (500, N_FEATURES))


def select(X, grid=POOL, **kwargs):
    kwargs.setdefault("similarity_params", SMALL if kwargs.get("similarity", "factor_vae")
                      == "factor_vae" else {"n_samples": 400})
    return ModelCentralitySelector(Linear(), grid, random_state=0, **kwargs).fit(X)


@pytest.fixture(scope="module")
def fitted(X):
    return select(X)


# --- the medoid and the matrix ------------------------------------------------------------


def test_medoid_is_an_agreeing_model_and_outlier_ranks_last(fitted):
    results = fitted.cv_results_
    assert fitted.best_index_ in (0, 1, 2)
    assert results["rank_centrality"][OUTLIER] == 4
    assert np.all(results["centrality"][:3] > results["centrality"][OUTLIER])
    assert fitted.best_params_ == results["params"][fitted.best_index_]
    assert fitted.best_estimator_ is fitted.estimators_[fitted.best_index_]
    assert fitted.best_score_ == results["centrality"].max() == np.delete(
        fitted.similarity_matrix_[fitted.best_index_], fitted.best_index_).mean()
    # Agreeing models read each other's codes perfectly.
    np.testing.assert_array_equal(fitted.pairwise_scores_[:3, :3], 1.0)
    assert fitted.pairwise_scores_[OUTLIER, 0] < 0.9


def test_matrix_symmetric_with_computed_diagonal(fitted):
    S, P = fitted.similarity_matrix_, fitted.pairwise_scores_
    assert S.shape == (4, 4) and fitted.n_candidates_ == 4
    np.testing.assert_array_equal(S, S.T)
    np.testing.assert_allclose(S, (P + P.T) / 2)
    np.testing.assert_array_equal(np.diag(S), 1.0)  # each model on its own data: self-score
    assert np.all((S >= 0) & (S <= 1))
    # Centrality: mean over the other models, the diagonal left out (main_mc.py).
    for i in range(4):
        np.testing.assert_allclose(fitted.cv_results_["centrality"][i],
                                   np.delete(S[i], i).mean())


def test_cv_results_like_grid_search(fitted):
    results = fitted.cv_results_
    assert set(results) == {"params", "param_columns", "param_angle", "centrality",
                            "rank_centrality", "fit_time", "similarity_time", "error",
                            "n_iter", "complete", "std_centrality", "std_lead",
                            "n_images_rendered", "n_images_encoded"}
    np.testing.assert_array_equal(results["n_iter"], [10] * 4)
    # Each model renders its data once: 2,000 for the variance + 40 votes x 3 codes x 100;
    # every encoder reads every model's data.
    np.testing.assert_array_equal(results["n_images_rendered"], [2_000 + 40 * 3 * 100] * 4)
    np.testing.assert_array_equal(results["n_images_encoded"], [4 * 14_000] * 4)
    assert fitted.n_similarity_rounds_ == 1
    assert results["complete"].all()
    assert isinstance(results["param_angle"], np.ma.MaskedArray)
    np.testing.assert_array_equal(results["param_angle"].mask, [True, True, True, False])
    assert results["param_columns"][1] == (2, 0, 1)
    assert np.all(results["fit_time"] >= 0) and np.all(results["similarity_time"] > 0)
    assert list(results["error"]) == [None] * 4
    assert results["rank_centrality"].dtype == np.int32


def test_delegation_to_best_estimator(fitted, X):
    best = fitted.best_estimator_
    np.testing.assert_array_equal(fitted.transform(X[:5]), best.transform(X[:5]))
    np.testing.assert_array_equal(fitted.sample(3, random_state=1), best.sample(3, 1))
    latents = fitted.sample_latent(3, random_state=1)
    np.testing.assert_array_equal(fitted.generate(latents), best.generate(latents))
    assert fitted.n_features_in_ == N_FEATURES


def test_different_numbers_of_codes(X):
    grid = {"columns": [(0, 1, 2), (1, 0, 2), (0, 1), (3, 4, 5)]}
    sel = select(X, grid)
    P = sel.pairwise_scores_
    assert P[0, 2] == 1.0  # a 3-code encoder on 2-code data: both factors read
    assert P[2, 0] == pytest.approx(2 / 3, abs=0.1)  # 2 codes for 3 factors
    assert P[3, 0] < 0.6  # disjoint columns: reads only noise
    assert sel.cv_results_["rank_centrality"][3] == 4


# --- failures ------------------------------------------------------------------------------


def test_failed_candidates_get_error_score_and_a_warning(X):
    grid = [{"columns": AGREEING}, {"fail": [True]}, {"diverge": [True]},
            {"columns": [(0, 1, 2)], "angle": [np.pi / 4]}]
    with pytest.warns(FitFailedWarning) as record:
        sel = select(X, grid)
    messages = [str(w.message) for w in record if isinstance(w.message, FitFailedWarning)]
    assert len(messages) == 1  # one warning for all the failures, as GridSearchCV
    assert "2 candidates failed out of a total of 6" in messages[0]
    assert "Candidate 3 {'fail': True}: RuntimeError: boom" in messages[0]
    assert "Candidate 4 {'diverge': True}: ValueError: diverged" in messages[0]
    results = sel.cv_results_
    assert np.isnan(results["centrality"][3:5]).all()
    assert "RuntimeError: boom" in results["error"][3] and "diverged" in results["error"][4]
    assert sel.estimators_[3] is None and sel.estimators_[4] is None
    assert set(results["rank_centrality"][3:5]) == {5}  # NaN ranks last, ties share the lowest rank
    assert results["rank_centrality"][5] == 4 and sel.best_index_ in (0, 1, 2)
    assert np.isnan(sel.similarity_matrix_[3]).all()
    assert np.isnan(sel.similarity_matrix_[:, 4]).all()


def test_a_candidate_trained_fewer_iterations_than_asked_is_marked_and_not_the_medoid(X, fitted):
    # Issue 29: a candidate cut short (e.g. by Ctrl-C at 196 of 300 iterations) was crowned.
    medoid = fitted.best_index_
    grid = [{"columns": [columns], **({"stopped_at": [3]} if k == medoid else {})}
            for k, columns in enumerate(AGREEING)] + [POOL[1]]
    with pytest.warns(UserWarning, match=rf"iterations: {medoid} \(3 of 10\)\): they are "
                      "compared .* not eligible as medoid"):
        cut = select(X, grid)
    results = cut.cv_results_
    np.testing.assert_array_equal(cut.pairwise_scores_, fitted.pairwise_scores_)  # same models
    assert results["n_iter"][medoid] == 3 and list(results["complete"]).count(False) == 1
    assert not results["complete"][medoid] and cut.best_index_ != medoid
    others = [k for k in range(4) if k != medoid]
    assert cut.best_index_ == others[int(np.argmax(results["centrality"][others]))]
    assert results["rank_centrality"][cut.best_index_] == 1
    assert results["rank_centrality"][medoid] == 4  # after the complete ones, the outlier too
    with pytest.warns(UserWarning, match="they may be the medoid"):
        assert select(X, grid, allow_incomplete=True).best_index_ == medoid
    every_one = [{"columns": AGREEING, "stopped_at": [3]}]
    with pytest.raises(ValueError, match="Every candidate that did not fail trained fewer .*"
                       "allow_incomplete=True"):
        select(X, every_one)


def test_ranks_put_each_tier_after_the_one_before():
    scores = np.array([0.5, 0.9, 0.7, np.nan, 0.8, 0.9, 0.1])
    tiers = np.array([0, 1, 0, 0, 2, 1, 0])
    np.testing.assert_array_equal(rank(scores, tiers), [2, 5, 1, 4, 7, 5, 3])


def test_numeric_error_score(X):
    with pytest.warns(FitFailedWarning, match="error_score=0.0"):
        sel = select(X, [{"columns": AGREEING}, {"fail": [True]}], error_score=0.0)
    assert sel.cv_results_["centrality"][3] == 0.0 and sel.best_index_ != 3


def test_failed_candidates_rank_last_whatever_their_error_score(X):
    with pytest.warns(FitFailedWarning, match="error_score=5.0"):
        sel = select(X, [{"columns": AGREEING}, {"fail": [True]}], error_score=5.0)
    results = sel.cv_results_
    assert results["centrality"][3] == 5.0
    assert results["rank_centrality"][3] == 4
    assert results["rank_centrality"][sel.best_index_] == 1


def test_error_score_raise(X):
    with pytest.raises(RuntimeError, match="boom"):
        select(X, [{"columns": AGREEING}, {"fail": [True]}], error_score="raise")
    with pytest.raises(ValueError, match="diverged"):
        select(X, [{"columns": AGREEING}, {"diverge": [True]}], error_score="raise")


def test_lone_survivor_is_selected_with_a_warning(X):
    with pytest.warns(UserWarning) as record:
        sel = select(X, [{"fail": [False, True]}])
    assert any("Only one candidate" in str(w.message) for w in record)
    assert all(w.filename == __file__ for w in record)  # points at the caller's fit
    assert sel.best_index_ == 0 and np.isnan(sel.cv_results_["centrality"]).all()
    assert np.isnan(sel.best_score_)


def test_all_failed_raises(X):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning: the error says it all
        with pytest.raises(ValueError, match="All 2 candidates failed") as error:
            select(X, {"fail": [True], "random_state": [0, 1]})
    assert "Candidate 1 {'fail': True, 'random_state': 1}: RuntimeError: boom" in str(error.value)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"param_grid": {"angle": [0.0]}}, "at least 2 candidates"),
     ({"similarity_params": {"nope": 1}}, "Unknown similarity_params"),
     ({"similarity": "mig"}, "similarity"),
     ({"similarity_params": {"n_eval": 5}}, "n_eval"),
     ({"similarity_params": {"votes_per_code": 0}}, "votes_per_code"),
     ({"similarity": "udr_lasso", "similarity_params": {"alpha": -1.0}}, "alpha"),
     ({"param_grid": {"work_dir": ["/tmp/a", "/tmp/a"]}}, "share work_dir"),
     ({"param_grid": {"work_dir": ["/tmp/a/same", "/tmp/a/./same/"]}},
      "Candidates 0 and 1 share work_dir='/tmp/a/./same/' .*work_dir='/tmp/a/same'; both are "
      "'/tmp/a/same'"),
     ({"param_grid": {"work_dir": ["/tmp/a/same", "/tmp/b/../a/same"]}}, "share work_dir"),
     ({"estimator": Linear(work_dir="/tmp/run")}, "checkpoint or work path"),
     ({"pre_dispatch": "two*n_jobs"}, r"'pre_dispatch' parameter of ModelCentralitySelector "
                                      r"must be 'all', an integer .*Got 'two\*n_jobs'"),
     ({"pre_dispatch": 0}, "'pre_dispatch' parameter .* must be 'all', an integer >= 1 .*Got 0"),
     ({"n_jobs": True}, "'n_jobs' parameter of ModelCentralitySelector must be an instance of "
                        "'Integral', not a bool")],
)
def test_invalid_parameters(X, kwargs, match):
    params = {"estimator": Linear(), "param_grid": {"random_state": [0, 1]}, **kwargs}
    with pytest.raises(ValueError, match=match):
        ModelCentralitySelector(**params).fit(X)


# --- parallel backends ----------------------------------------------------------------------


def assert_same_selection(a, b):
    np.testing.assert_array_equal(a.pairwise_scores_, b.pairwise_scores_)
    np.testing.assert_array_equal(a.cv_results_["centrality"], b.cv_results_["centrality"])
    assert a.best_index_ == b.best_index_


def test_n_jobs_2_same_as_n_jobs_1(X, fitted):
    assert_same_selection(select(X, n_jobs=2), fitted)


def test_dask_cluster_same_result(X, fitted):
    distributed = pytest.importorskip(
        "distributed", reason="dask[distributed] (the `test` extra) is not installed")
    start = time.perf_counter()
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                   dashboard_address=None) as cluster,
          distributed.Client(cluster),
          joblib.parallel_backend("dask")):
        sel = select(X)
    assert_same_selection(sel, fitted)
    assert time.perf_counter() - start < 30


# --- InfoGAN-CR pools ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def images():
    return (np.random.RandomState(0).rand(64, 64, 64) > 0.8).astype(np.uint8)


#: Two tiny InfoGAN-CR candidates and a cheap FactorVAE similarity.
TINY_GAN_POOL = dict(
    estimator=InfoGANCR(max_iter=2, batch_size=32, device="cpu"),
    param_grid={"random_state": [0, 1]}, random_state=0,
    similarity_params={"batch_size": 10, "votes_per_code": 2, "n_variance": 200})


def test_dask_worker_processes_give_the_in_process_result(images):
    """Candidates fitted and scored in two Dask worker processes (every model pickled)."""
    distributed = pytest.importorskip(
        "distributed", reason="dask[distributed] (the `test` extra) is not installed")
    in_process = ModelCentralitySelector(**TINY_GAN_POOL, n_jobs=1).fit(images)
    with (distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   dashboard_address=None) as cluster,
          distributed.Client(cluster),
          joblib.parallel_config("dask")):
        on_dask = ModelCentralitySelector(**TINY_GAN_POOL, n_jobs=-1).fit(images)
    assert_same_selection(on_dask, in_process)
    for a, b in zip(on_dask.estimators_, in_process.estimators_, strict=True):
        np.testing.assert_array_equal(a.transform(images[:8]), b.transform(images[:8]))


def _dask_shipping():
    """benchmarks/dask_shipping.py: its Recorder counts what joblib's Dask backend would ship."""
    pytest.importorskip("dask.sizeof")
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "dask_shipping.py"
    spec = importlib.util.spec_from_file_location("dask_shipping", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("similarity", ["factor_vae", "udr_spearman"])
def test_models_travel_to_dask_workers_once_not_inside_every_task(images, similarity):
    models = [InfoGANCR(max_iter=1, batch_size=32, device="cpu", random_state=seed).fit(images)
              for seed in range(4)]
    assert sys.getsizeof(models[0]) > 1e6  # Dask sees its size, so joblib scatters it
    shipping = _dask_shipping()
    params = ({"batch_size": 10, "votes_per_code": 2, "n_variance": 100}
              if similarity == "factor_vae" else {"n_samples": 50})
    with joblib.parallel_config(backend=shipping.RecordingBackend(), n_jobs=2):  # 4 blocks
        model_centrality(models, images, similarity=similarity, similarity_params=params,
                         random_state=0)
    in_tasks = shipping.RECORD["in_tasks"]
    scattered = sum(shipping.RECORD["scattered"].values())
    assert scattered > 4 * 1e6 and in_tasks < 20_000  # was 4 blocks x the pool in the tasks


def test_infogan_cr_pool_in_worker_processes(images):
    """Fits and similarity tasks in 2 processes; models come back as the same fit in-process.

    Torch CPU kernels round differently with another number of threads (the
    workers get 1 thread each), so the models agree to float precision, not
    bit for bit; the hand-made pool above checks exact equality.
    """
    estimator = InfoGANCR(max_iter=1, batch_size=32, device="cpu")
    sel = ModelCentralitySelector(
        estimator, {"random_state": [0, 1]}, n_jobs=2, random_state=0,
        similarity_params={"batch_size": 10, "votes_per_code": 2, "n_variance": 200},
    ).fit(images)
    assert sel.similarity_matrix_.shape == (2, 2) and sel.best_index_ in (0, 1)
    np.testing.assert_array_equal(sel.similarity_matrix_, sel.similarity_matrix_.T)
    assert np.all((sel.similarity_matrix_ >= 0) & (sel.similarity_matrix_ <= 1))
    in_process = estimator.set_params(random_state=0).fit(images)
    np.testing.assert_allclose(sel.estimators_[0].transform(images[:8]),
                               in_process.transform(images[:8]), atol=1e-3)
    assert sel.transform(images[:4]).shape == (4, 5)
    assert sel.sample(2, random_state=0).shape == (2, 1, 64, 64)


# --- UDR ------------------------------------------------------------------------------------


def test_udr_reads_a_tensor_dataset_as_its_samples(X):
    # The estimators read a TensorDataset as its first tensor; UDR's sample of X did not.
    data = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.zeros(len(X)))
    np.testing.assert_array_equal(select(data, similarity="udr_lasso").pairwise_scores_,
                                  select(X, similarity="udr_lasso").pairwise_scores_)


@pytest.mark.parametrize("similarity", ["udr_lasso", "udr_spearman"])
def test_udr_ranks_the_pool(X, similarity):
    sel = select(X, similarity=similarity)
    results = sel.cv_results_
    assert sel.best_index_ in (0, 1, 2)
    assert results["rank_centrality"][OUTLIER] == 4
    P = sel.pairwise_scores_
    assert np.all(P[:3, :3] > 0.85)
    # UDR score of model i: median over the others of P[j, i] (disentanglement_lib).
    for i in range(4):
        np.testing.assert_allclose(results["centrality"][i], np.median(np.delete(P[:, i], i)))
    if similarity == "udr_spearman":
        np.testing.assert_allclose(P, P.T)  # |Spearman| is symmetric


@pytest.mark.parametrize("similarity", ["factor_vae", "udr_spearman"])
def test_model_centrality_of_fitted_models_matches_the_selector(X, fitted, similarity):
    sel = fitted if similarity == "factor_vae" else select(X, similarity=similarity)
    centrality, pairwise = model_centrality(sel.estimators_, X, similarity=similarity,
                                            similarity_params=sel.similarity_params,
                                            random_state=0)
    np.testing.assert_array_equal(pairwise, sel.pairwise_scores_)
    np.testing.assert_array_equal(centrality, sel.cv_results_["centrality"])
    with pytest.raises(ValueError, match="pass X"):
        model_centrality(sel.estimators_, similarity="udr_lasso")
    # The selector and model_centrality share one public similarity function.
    np.testing.assert_array_equal(
        pairwise_similarity(sel.estimators_, X, similarity=similarity,
                            similarity_params=sel.similarity_params, random_state=0,
                            n_jobs=2), sel.pairwise_scores_)
    with pytest.raises(ValueError, match="at least 2 models"):
        pairwise_similarity(sel.estimators_[:1])


def test_udr_n_samples_larger_than_x_warns_and_uses_all_of_x(X):
    with pytest.warns(UserWarning, match=r"n_samples=100 is larger than len\(X\)=50; UDR "
                                         "encodes all 50"):
        select(X[:50], similarity="udr_spearman", similarity_params={"n_samples": 100})
    with warnings.catch_warnings():  # the default (10,000) is an upper bound: silent
        warnings.simplefilter("error")
        select(X[:50], similarity="udr_spearman", similarity_params={})


def test_duplicate_candidates_warn_with_their_parameters(X):
    grid = {"columns": [(0, 1, 2), (2, 0, 1), (0, 1, 2)]}
    with pytest.warns(UserWarning, match=r"candidates \[0, 2\] the same parameters "
                                         r"\{'columns': \(0, 1, 2\)\}"):
        select(X, grid, similarity="udr_spearman")


def test_relative_strength():
    assert relative_strength(np.eye(3)) == 1.0
    assert relative_strength(np.ones((3, 3))) == pytest.approx(1 / 3)
    assert relative_strength(np.zeros((2, 2))) == 0.0
    assert relative_strength(np.zeros((0, 3))) == 0.0


# --- similarity protocols -------------------------------------------------------------------


def test_fast_protocol_scores_each_pair_by_hand():
    """Entry [i, j] of the "fast" matrix is factor_vae_score(model i, model j's data) with the
    paper's vote machinery and the "fast" counts: 50 observations a vote, 10 votes per code of
    model j, standard deviations over 5,000 observations, column j seeded by the j-th draw."""
    assert SIMILARITY_DEFAULTS["factor_vae"]["protocol"] == "paper"
    assert SIMILARITY_PROTOCOLS == {
        "paper": {"batch_size": 100, "votes_per_code": 100, "n_variance": 73_728},
        "fast": {"batch_size": 50, "votes_per_code": 10, "n_variance": 5_000},
        "adaptive": {"batch_size": 100, "votes_per_code": 100, "n_variance": 73_728}}
    models = [Linear(columns=c).fit(None) for c in ((0, 1, 2), (1, 2, 0), (3, 4))]
    models.append(Linear(columns=(0, 1, 2), angle=np.pi / 4).fit(None))
    pairwise = pairwise_similarity(models, similarity_params={"protocol": "fast"},
                                   random_state=3)
    seeds = check_random_state(3).randint(np.iinfo(np.int32).max, size=len(models))
    for j, model in enumerate(models):
        data = GeneratedDataset(model)
        for i, encoder in enumerate(models):
            expected = factor_vae_score(encoder, data, protocol="paper", batch_size=50,
                                        n_train=10 * model.n_codes_, n_variance=5_000,
                                        random_state=seeds[j])
            assert pairwise[i, j] == expected
    assert pairwise[0, 1] == 1.0 and pairwise[3, 0] < 1.0  # a permutation agrees, a rotation not


@pytest.mark.parametrize(("overrides", "expected"), [
    ({}, {"protocol": "paper", "batch_size": 100, "n_train": 300, "n_variance": 73_728}),
    ({"protocol": "fast"},
     {"protocol": "paper", "batch_size": 50, "n_train": 30, "n_variance": 5_000}),
    ({"protocol": "paper", "votes_per_code": 20, "n_variance": 10_000},
     {"protocol": "paper", "batch_size": 100, "n_train": 60, "n_variance": 10_000}),
    ({"protocol": "fast", "n_train": 7, "batch_size": 8},
     {"protocol": "paper", "batch_size": 8, "n_train": 7, "n_variance": 5_000}),
    ({"protocol": "community"},
     {"protocol": "community", "batch_size": 64, "n_train": 10_000, "n_variance": 10_000}),
])
def test_protocol_counts_reach_factor_vae_scores(monkeypatch, overrides, expected):
    """Each protocol is one keyword away; given counts win over the protocol's."""
    seen = []

    class Seen(Exception):
        pass

    def record(rng, encoders, dataset, eligible, params, n_variance, n_votes, verbose=0):
        seen.append({**params, "n_variance": n_variance, "n_votes": n_votes})
        raise Seen

    monkeypatch.setattr(_pairwise, "_draw_votes", record)
    models = [Linear().fit(None), Linear(columns=(2, 0, 1)).fit(None)]  # 3 codes each
    with pytest.raises(Seen):  # the first column's draws, with error_score="raise"
        pairwise_similarity(models, similarity_params=overrides, random_state=0)
    (params,) = seen
    assert {k: params[k] for k in expected} == expected
    split = expected["protocol"] == "community"
    assert params["n_votes"] == [expected["n_train"]] + ([5_000] if split else [])
    assert params["prune_threshold"] == (0.05 if split else 0.0)


@pytest.mark.parametrize(("overrides", "match"), [
    ({"protocol": "quick"},
     r"protocol must be one of \('paper', 'fast', 'adaptive', 'community'\)"),
    ({"protocol": "adaptive", "n_train": 50}, "leave n_train=None and cap them with"),
    ({"protocol": "paper", "z": 2.0}, "z is the adaptive protocol's stopping rule"),
    ({"protocol": "adaptive", "z": 0}, "z must be a finite number > 0"),
    ({"protocol": "adaptive", "z": np.inf}, "z must be a finite number > 0"),
    ({"n_bootstrap": 1}, "n_bootstrap must be an integer >= 2"),
    ({"votes_per_code": 1.5}, "votes_per_code must be an integer >= 1"),
    ({"protocol": "paper", "batch_size": 1}, "batch_size must be an integer >= 2"),
    ({"protocol": "fast", "n_eval": 5},
     "protocol='fast' scores the classifier on the votes it was built from"),
])
def test_protocol_errors(overrides, match):
    models = [Linear().fit(None), Linear().fit(None)]
    with pytest.raises(ValueError, match=match):
        pairwise_similarity(models, similarity_params=overrides)


# --- the cross-scoring function -------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["paper", "community"])
def test_factor_vae_scores_equal_one_at_a_time(protocol):
    layouts = [((0, 1, 2), 0.0), ((2, 0, 1), 0.0), ((0, 1, 2), np.pi / 4), ((4, 5), 0.0)]
    encoders = [Linear(columns=c, angle=a).fit(None) for c, a in layouts]
    data = GeneratedDataset(Linear(columns=(0, 1, 2), angle=0.3).fit(None))
    small = {"batch_size": 20, "n_train": 60, "n_variance": 1500}
    if protocol == "community":
        small.update(n_eval=40, prune_threshold=0.0)
    scores = factor_vae_scores(encoders, data, protocol=protocol, random_state=7, **small)
    expected = [factor_vae_score(e, data, protocol=protocol, random_state=7, **small)
                for e in encoders]
    np.testing.assert_array_equal(scores, expected)
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['n_votes'\]"):
        factor_vae_scores(encoders, data, n_votes=3)


# --- verbosity and plot ----------------------------------------------------------------------


def test_verbose_progress(X, capsys):
    select(X, verbose=1)
    out = capsys.readouterr().out
    assert "[ModelCentralitySelector] fitting 4 candidates" in out
    assert "[4/4]" in out and "similarity task 4/4" in out and "medoid: candidate" in out


def _counts(bars):
    """Label, count and total of the bars shown (the metric calls inside the tasks show none)."""
    return [(bar.desc, bar.n, bar.total) for bar in bars if bar.shown]


@pytest.mark.parametrize(("similarity", "n_jobs", "similarity_bar"),
                         [("factor_vae", None, ("similarity pairs", 16, 16)),
                          ("factor_vae", 2, ("similarity pairs", 16, 16)),
                          ("udr_lasso", None, ("UDR encodings and rows", 8, 8))])
def test_progress_bars_at_verbose_1_silence_at_0_same_results(X, capfd, progress_bars,
                                                                similarity, n_jobs,
                                                                similarity_bar):
    quiet = select(X, similarity=similarity, n_jobs=n_jobs)
    assert capfd.readouterr() == ("", "")  # even on a terminal: verbose=0 writes nothing
    assert _counts(progress_bars) == []
    loud = select(X, similarity=similarity, n_jobs=n_jobs, verbose=1)
    out, err = capfd.readouterr()
    desc, n, total = similarity_bar
    # One bar over the fits and one over the similarity, each advanced to its end as the
    # joblib results came back; drawn on stderr with an ETA ("elapsed<remaining").
    assert _counts(progress_bars) == [("[ModelCentralitySelector] fitting candidates", 4, 4),
                                      (f"[ModelCentralitySelector] {desc}", n, total)]
    assert "[ModelCentralitySelector] fitting candidates:   0%" in err and "0/4 [00:00<?" in err
    assert f"{desc}:   0%" in err and "medoid: candidate" in out and "medoid" not in err
    np.testing.assert_array_equal(loud.cv_results_["centrality"], quiet.cv_results_["centrality"])
    np.testing.assert_array_equal(loud.pairwise_scores_, quiet.pairwise_scores_)


def test_pairwise_similarity_and_model_centrality_progress(X, fitted, capfd, progress_bars):
    models = fitted.estimators_
    quiet = model_centrality(models, similarity_params=SMALL, random_state=0)
    assert capfd.readouterr() == ("", "")
    loud = model_centrality(models, similarity_params=SMALL, random_state=0, verbose=1)
    assert "[pairwise_similarity] similarity pairs:   0%" in capfd.readouterr().err
    assert _counts(progress_bars) == [("[pairwise_similarity] similarity pairs", 16, 16)]
    np.testing.assert_array_equal(loud[0], quiet[0])
    np.testing.assert_array_equal(loud[1], quiet[1])
    np.testing.assert_array_equal(loud[1], fitted.pairwise_scores_)


def test_no_bar_off_a_terminal_but_the_log_lines(X, fitted, capfd):
    pairwise_similarity(fitted.estimators_, similarity_params=SMALL, random_state=0, verbose=1)
    out, err = capfd.readouterr()
    assert err == "" and "[pairwise_similarity] similarity task 4/4" in out


def test_plot_similarity_matrix(fitted, tmp_path):
    path = tmp_path / "similarity.png"
    fig = plot_similarity_matrix(fitted, path=path)
    assert path.stat().st_size > 0
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == candidate_labels(fitted.cv_results_["params"])
    assert labels[fitted.best_index_].startswith(f"{fitted.best_index_}: ")
    assert candidate_labels([{"a": 1}, {"a": 1}]) == ["0", "1"]


#: Linear's interface on a plain object: no scikit-learn base class, no get_params.
PlainLinear = type("PlainLinear", (), {
    name: Linear.__dict__[name] for name in ("__init__", "fit", "sample_latent",
                                             "_noise_columns", "generate", "sample",
                                             "transform")})


def test_plain_object_models_are_compared_and_refused_up_front_as_a_template(X, fitted):
    # Issue 29: AttributeError '__sklearn_tags__' inside check_is_fitted, and "Cannot clone".
    with pytest.raises(NotFittedError, match="PlainLinear instance is not fitted yet .*n_codes_"):
        GeneratedDataset(PlainLinear())
    models = [PlainLinear(columns=c).fit(X) for c in AGREEING]
    models.append(PlainLinear(angle=np.pi / 4).fit(X))
    centrality, pairwise = model_centrality(models, similarity_params=SMALL, random_state=0)
    np.testing.assert_array_equal(pairwise, fitted.pairwise_scores_)
    np.testing.assert_array_equal(centrality, fitted.cv_results_["centrality"])
    assert get_tags(ModelCentralitySelector(PlainLinear(), POOL)).non_deterministic is False
    with pytest.raises(ValueError, match="must be an unfitted generative estimator .*"
                       "get_params and set_params .*BaseEstimator.*model_centrality"):
        ModelCentralitySelector(PlainLinear(), POOL).fit(X)


def test_an_estimator_class_instead_of_an_instance_is_named(X):
    with pytest.raises(ValueError, match=r"estimator instance, e.g. InfoGANCR\(\)"):
        ModelCentralitySelector(InfoGANCR, {"random_state": [0, 1]}).fit(X)


def test_udr_kl_filter_drops_the_latents_of_vae_pools():
    from disentangle import VAE

    table = np.random.RandomState(0).randn(200, 4)
    pool = [VAE(n_latent=3, max_iter=3, random_state=seed).fit(table) for seed in range(2)]
    scores = {threshold: model_centrality(pool, table, similarity="udr_spearman",
                                          similarity_params={"kl_threshold": threshold},
                                          random_state=0)[1]
              for threshold in (0.0, 1e9)}
    assert np.all(scores[0.0][~np.eye(2, dtype=bool)] > 0)
    np.testing.assert_array_equal(scores[1e9][~np.eye(2, dtype=bool)], 0.0)  # nothing kept


def test_one_checkpoint_folder_spelled_two_ways_is_rejected_before_any_fit(tmp_path, images):
    (tmp_path / "same").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "same")
    for spellings in ([tmp_path / "same", f"{tmp_path}/./same/"],
                      [tmp_path / "same", tmp_path / "link"]):
        selector = ModelCentralitySelector(
            InfoGANCR(max_iter=1, batch_size=32, device="cpu"),
            {"checkpoint_dir": spellings, "random_state": [0]},
            similarity_params={"batch_size": 10, "votes_per_code": 2, "n_variance": 200})
        with pytest.raises(ValueError, match="Candidates 0 and 1 share checkpoint_dir"):
            selector.fit(images)
        assert list((tmp_path / "same").iterdir()) == []  # nothing was fitted


def test_write_paths_are_declared_by_each_estimator_not_guessed_from_names(tmp_path):
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from disentangle.selection import write_paths

    pipeline = Pipeline([("scale", StandardScaler()),
                         ("gan", InfoGANCR(checkpoint_dir=tmp_path / "a"))])
    assert write_paths(pipeline) == {"gan__checkpoint_dir": tmp_path / "a"}
    assert write_paths(InfoGANCR()) == {}  # no checkpoint_dir: nothing written
    # A parameter that merely looks like a path is not one the estimator declares.
    lookalike = Linear(columns=(0, 1, 2))
    lookalike.checkpoint_name = "same"
    assert write_paths(lookalike) == {}
