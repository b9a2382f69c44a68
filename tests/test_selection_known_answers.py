"""ModelCentrality on pools whose answer is known without training: standard errors, ties,
and the adaptive protocol.

The models are linear maps in NumPy that follow the documented interface
(``sample_latent``, ``generate``, ``transform``, ``n_codes_``, ``n_latent_``) and
subclass nothing. Model ``Code(perm, signs, ignored, rotation, mix)`` has 5 codes
and 3 noise latents, all U(-1, 1): ``generate`` writes ``signs[k]`` times code
``k`` (after ``rotation``) into column ``perm[k]`` (0 for an ignored code) and the
noise into columns 5 to 7; ``transform`` reads the code columns back (0 for an
ignored code, then mixed by ``mix``). With the FactorVAE vote machinery:

* two models equal up to a permutation and signs of their codes score each other
  1.0 on every vote: fixing a code zeroes one column's variance in a vote;
* a model that ignores codes 3 and 4 scores 0.6 = 3/5 with any model of the same
  columns, on every vote and every bootstrap replicate: votes fixing an ignored
  code (or a code it cannot read) go to dimensions that the 100 votes of their
  own code already map, and the other votes are right;
* a model whose encoder reads ``c0 + mix * c1`` and ``c1 + mix * c2`` in its first
  two dimensions (``mix=1``: entangled) has, in a vote that fixes code 1, two
  dimensions of the same expected normalised variance (those of ``c0`` and
  ``c2``): those votes are coin flips between them, so its scores are noisy
  (about 0.8 + Binomial(votes of code 1, 1/2) / votes).
"""

import warnings

import numpy as np
import pytest
from scipy.linalg import expm
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state

from disentangle import ModelCentralitySelector
from disentangle.datasets import GeneratedDataset
from disentangle.exceptions import TiedCandidatesWarning
from disentangle.metrics import factor_vae_scores, pairwise_similarity
from disentangle.selection import (
    _centrality,
    _pairwise,
    _similarity,
    _vote_bootstrap,
    images_rendered,
    model_centrality,
)

N_CODES, N_NOISE = 5, 3
IDENTITY = tuple(range(N_CODES))
# Small counts: votes of 100 images, 20 votes per code, standard deviations over 5,000.
SMALL = {"votes_per_code": 20, "n_variance": 5_000, "n_bootstrap": 100}


class Code:
    """A linear generative model with known codes (see the module docstring)."""

    def __init__(self, perm=IDENTITY, signs=(1,) * N_CODES, ignored=(), rotation=None,
                 mix=0.0):
        self.perm, self.signs, self.ignored = perm, signs, ignored
        self.rotation, self.mix = rotation, mix

    def fit(self, X=None, y=None):
        self.n_codes_, self.n_latent_ = N_CODES, N_CODES + N_NOISE
        self.scale_ = np.array([0.0 if k in self.ignored else s
                                for k, s in enumerate(self.signs)])
        self.rotation_ = np.eye(N_CODES) if self.rotation is None else self.rotation
        self.mixing_ = np.eye(N_CODES)
        self.mixing_[1, 0] = self.mixing_[2, 1] = self.mix
        return self

    def sample_latent(self, n_samples, random_state=None):
        rng = check_random_state(random_state)
        return rng.uniform(-1, 1, (n_samples, self.n_latent_)).astype(np.float32)

    def generate(self, latents):
        latents = np.asarray(latents, dtype=np.float64)
        observations = np.zeros((len(latents), N_CODES + N_NOISE))
        codes = latents[:, :N_CODES] @ self.rotation_.T
        observations[:, list(self.perm)] = codes * self.scale_
        observations[:, N_CODES:] = latents[:, N_CODES:]
        return observations.astype(np.float32)

    def transform(self, X):
        codes = np.asarray(X, dtype=np.float64)[:, list(self.perm)] * self.scale_
        return codes @ self.rotation_ @ self.mixing_


class CodeEstimator(Code, BaseEstimator):
    """:class:`Code` with scikit-learn's parameters, for the selector's clones."""


COPIES = [{}, {"perm": (3, 0, 4, 1, 2)}, {"perm": (1, 2, 3, 4, 0), "signs": (-1, 1, -1, 1, 1)}]
IGNORING = [{"ignored": (3, 4)}, {"ignored": (3, 4), "signs": (1, -1, 1, 1, 1)}]
KNOWN = COPIES + IGNORING  # 3 copies of one model, 2 that ignore codes 3 and 4
ENTANGLED = {"mix": 1.0}


def pool(settings):
    return [Code(**s).fit() for s in settings]


def grid(settings):
    return [{name: [value] for name, value in s.items()} for s in settings]


@pytest.fixture(scope="module")
def known():
    with warnings.catch_warnings():
        warnings.simplefilter("error", TiedCandidatesWarning)  # the known pool has no tie
        return ModelCentralitySelector(CodeEstimator(), grid(KNOWN), similarity_params=SMALL,
                                       random_state=0).fit(None)


def test_copies_score_one_ignoring_models_three_fifths_and_the_medoid_is_a_copy(known):
    expected = np.full((5, 5), 0.6)
    expected[:3, :3] = 1.0
    np.testing.assert_array_equal(known.pairwise_scores_, expected)
    # Centralities (1 + 1 + 0.6 + 0.6) / 4 and (0.6 * 3 + 0.6) / 4; every replicate agrees.
    np.testing.assert_allclose(known.cv_results_["centrality"], [0.8] * 3 + [0.6] * 2)
    assert known.best_index_ == 0  # the first of the tied copies
    np.testing.assert_array_equal(known.cv_results_["std_centrality"], 0.0)
    np.testing.assert_array_equal(known.pairwise_std_, 0.0)
    np.testing.assert_array_equal(known.cv_results_["rank_centrality"], [1, 1, 1, 4, 4])


def test_model_centrality_gives_the_same_with_its_standard_errors(known):
    values, pairwise, std = model_centrality(pool(KNOWN), similarity_params=SMALL,
                                             random_state=0, return_std=True)
    np.testing.assert_array_equal(values, known.cv_results_["centrality"])
    np.testing.assert_array_equal(pairwise, known.pairwise_scores_)
    np.testing.assert_array_equal(std, known.cv_results_["std_centrality"])
    assert len(model_centrality(pool(KNOWN[:2]), similarity_params=SMALL)) == 2
    with pytest.raises(TypeError, match="return_std must be a bool"):
        model_centrality(pool(KNOWN[:2]), return_std="yes")


def test_mild_random_rotations_are_not_bad_models():
    """The FactorVAE vote takes the dimension of least normalised variance: a rotation by
    a small angle keeps each code's own dimension the least varying when it is fixed."""
    rng = np.random.RandomState(0)
    for angle in (0.1, 0.2, 0.3):
        skew = rng.randn(N_CODES, N_CODES)
        skew = (skew - skew.T) / np.linalg.norm(skew - skew.T, 2)  # largest angle: 1 rad
        rotated = Code(rotation=expm(angle * skew)).fit()
        pairwise = pairwise_similarity([Code().fit(), rotated], similarity_params=SMALL,
                                       random_state=1)
        assert pairwise.min() >= 0.95, (angle, pairwise)
    entangled = pairwise_similarity([Code().fit(), Code(**ENTANGLED).fit()],
                                    similarity_params=SMALL, random_state=1)
    assert entangled[1, 0] < 0.95  # a mix of codes is not forgiven


# --- standard errors -------------------------------------------------------------------------


def test_bootstrap_standard_error_matches_the_spread_over_seeds():
    """The entry of an entangled encoder is noisy; its bootstrap standard error (one seed)
    estimates its spread over independent seeds."""
    models = pool([{}, ENTANGLED])
    params = {"votes_per_code": 20, "n_variance": 20_000, "n_bootstrap": 200}
    scores = [pairwise_similarity(models, similarity_params=params, random_state=seed)[1, 0]
              for seed in range(30)]
    similarities = _similarity.similarity_run(models, similarity_params=params, random_state=0)
    standard_error = np.std(similarities.replicates[:, 1, 0], ddof=1)
    assert 0.01 < np.std(scores, ddof=1) < 0.1
    assert 0.6 < standard_error / np.std(scores, ddof=1) < 1.6


def test_one_column_resample_is_shared_by_its_encoders():
    """Two identical encoders read the same images: their replicates are equal, where
    independent resamples would differ."""
    models = pool([ENTANGLED, ENTANGLED, {}])
    replicates = _similarity.similarity_run(models, similarity_params=SMALL,
                                            random_state=0).replicates
    np.testing.assert_array_equal(replicates[:, 0, 2], replicates[:, 1, 2])
    assert np.std(replicates[:, 0, 2]) > 0


def test_variance_samples_pool_as_one():
    rng = np.random.RandomState(0)
    a, b = rng.randn(300, 4) * 3 + 1, rng.randn(700, 4) * 3 - 2
    stats = [(len(x), x.mean(0), ((x - x.mean(0)) ** 2).sum(0)) for x in (a, b)]
    n, _, m2 = _vote_bootstrap._pool(*stats)
    np.testing.assert_allclose(m2 / n, np.var(np.concatenate([a, b]), axis=0), rtol=1e-12)


@pytest.mark.parametrize("protocol", ["community", "paper"])
def test_kept_votes_give_factor_vae_scores(protocol):
    """The kept votes score as factor_vae_scores on the same draws (the community protocol
    with its own evaluation votes, and pruning)."""
    models = [Code(**ENTANGLED).fit(), Code().fit(), Code(ignored=(4,)).fit()]
    params = {"protocol": protocol, "batch_size": 20, "n_train": 60, "n_variance": 500}
    if protocol == "community":
        params.update(n_eval=40, prune_threshold=0.05)
    pairwise = pairwise_similarity(models, similarity_params=params, random_state=3)
    seeds = _pairwise.column_seeds(np.random.RandomState(3), len(models))
    counts = {k: v for k, v in params.items() if k != "protocol"}
    for j, model in enumerate(models):
        expected = factor_vae_scores(models, GeneratedDataset(model), protocol=protocol,
                                     random_state=seeds[j], **counts)
        np.testing.assert_array_equal(pairwise[:, j], expected)


# --- ties -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def identical():
    """4 identical entangled models under the adaptive protocol, capped at 40 votes a code
    and 20,000 observations for the variance (rounds of 10, 10 and 20 votes a code)."""
    params = {"protocol": "adaptive", "votes_per_code": 40, "n_variance": 20_000,
              "n_bootstrap": 100}
    with pytest.warns(TiedCandidatesWarning) as record:
        selector = ModelCentralitySelector(CodeEstimator(), grid([ENTANGLED] * 4),
                                           similarity_params=params, random_state=0).fit(None)
    return selector, record


def test_identical_models_are_named_as_tied(identical):
    selector, record = identical
    (warning,) = [w for w in record if w.category is TiedCandidatesWarning]
    message = str(warning.message)
    results = selector.cv_results_
    best = selector.best_index_
    assert best == np.argmax(results["centrality"])
    assert "tied" in message and "'protocol': 'paper'" in message and "training" in message
    for line in message.splitlines()[1:-1]:
        index = int(line.split()[1])
        assert f"{results['centrality'][index]:.4f} \u00b1 " in line
        assert f"{results['std_centrality'][index]:.4f}" in line
        assert str(results["params"][index]) in line
        lead = results["centrality"][best] - results["centrality"][index]
        assert index == best or lead < 2 * results["std_lead"][index]
    assert np.all(np.isfinite(results["std_centrality"]) & (results["std_centrality"] > 0))
    assert results["std_lead"][best] == 0.0


def test_adaptive_runs_to_its_cap_on_identical_models(identical):
    selector, _ = identical
    assert selector.n_similarity_rounds_ == 3
    # Each model rendered exactly the cap, its votes kept round after round (not redrawn).
    np.testing.assert_array_equal(selector.cv_results_["n_images_rendered"],
                                  20_000 + 40 * N_CODES * 100)
    encoded = selector.cv_results_["n_images_encoded"]
    assert np.all(encoded <= 4 * (20_000 + 40 * N_CODES * 100))
    assert np.all(encoded >= 4 * (5_000 + 10 * N_CODES * 100))


def test_adaptive_stops_after_its_first_round_on_the_known_pool(known):
    with warnings.catch_warnings():
        warnings.simplefilter("error", TiedCandidatesWarning)
        adaptive = ModelCentralitySelector(CodeEstimator(), grid(KNOWN),
                                           similarity_params={"protocol": "adaptive"},
                                           random_state=0).fit(None)
    assert adaptive.n_similarity_rounds_ == 1
    np.testing.assert_array_equal(adaptive.pairwise_scores_, known.pairwise_scores_)
    assert adaptive.best_index_ == 0
    # "fast"'s counts with the paper's votes of 100: 5,000 + 10 votes x 5 codes x 100.
    np.testing.assert_array_equal(adaptive.cv_results_["n_images_rendered"], 10_000)
    np.testing.assert_array_equal(adaptive.cv_results_["n_images_encoded"], 5 * 10_000)


def test_adaptive_spends_its_rounds_on_the_candidates_in_contention():
    """Two copies of a clean model lead two entangled models and one that ignores codes,
    by far, after round 1; the copies stay tied (the entangled encoders score each copy's
    data with noise of their own), so rounds 2 and 3 add votes to the copies' entries only:
    their columns, read by every encoder, and every column read by their encoders."""
    settings = [{}, {"perm": (3, 0, 4, 1, 2)}, ENTANGLED, ENTANGLED, {"ignored": (3, 4)}]
    params = {"protocol": "adaptive", "votes_per_code": 40, "n_variance": 20_000,
              "n_bootstrap": 100}
    similarities = _similarity.similarity_run(pool(settings), similarity_params=params,
                                              random_state=0)
    assert similarities.n_rounds == 3
    # Every column gets the rounds' votes (the copies' encoders read them): the cap.
    np.testing.assert_array_equal(similarities.rendered, 20_000 + 40 * N_CODES * 100)
    # The copies' encoders read everything; the others round 1 of every column and rounds
    # 2 and 3 (30,000 images) of the copies' two columns.
    np.testing.assert_array_equal(similarities.encoded,
                                  [5 * 40_000] * 2 + [5 * 10_000 + 2 * 30_000] * 3)
    values = _centrality.mean_symmetrised(similarities.pairwise, np.ones(5, bool))
    assert values[:2].min() > values[2:].max()


# --- determinism -----------------------------------------------------------------------------


def assert_same(a, b):
    np.testing.assert_array_equal(a.pairwise_scores_, b.pairwise_scores_)
    np.testing.assert_array_equal(a.pairwise_std_, b.pairwise_std_)
    for key in ("centrality", "std_centrality", "std_lead", "n_images_rendered",
                "n_images_encoded"):
        np.testing.assert_array_equal(a.cv_results_[key], b.cv_results_[key])
    assert (a.best_index_, a.n_similarity_rounds_) == (b.best_index_, b.n_similarity_rounds_)


@pytest.mark.parametrize("setting", [{"n_jobs": 2}, {"verbose": 1}])
def test_same_result_whatever_n_jobs_and_verbose(identical, setting):
    selector, _ = identical
    with pytest.warns(TiedCandidatesWarning):
        other = ModelCentralitySelector(CodeEstimator(), grid([ENTANGLED] * 4),
                                        similarity_params=selector.similarity_params,
                                        random_state=0, **setting).fit(None)
    assert_same(selector, other)


def test_columns_are_the_whole_matrix_columns_so_a_matrix_resumes_column_by_column():
    """``pairwise_similarity(columns=[j])`` is column ``j`` of the whole matrix under the same
    ``random_state`` (NaN elsewhere), in any order; the details count its images."""
    models = pool([{}, ENTANGLED, {"ignored": (3, 4)}])
    params = {"votes_per_code": 5, "n_variance": 500, "n_bootstrap": 2}
    whole = pairwise_similarity(models, similarity_params=params, random_state=4)
    built = np.full((3, 3), np.nan)
    for j in (2, 0, 1):
        part = pairwise_similarity(models, similarity_params=params, random_state=4, columns=[j])
        assert np.isnan(np.delete(part, j, axis=1)).all()
        built[:, j] = part[:, j]
    np.testing.assert_array_equal(built, whole)
    details = pairwise_similarity(models, similarity_params=params, random_state=4, columns=[1],
                                  return_details=True)
    images = images_rendered(params, N_CODES)
    assert images == 500 + 5 * N_CODES * 100  # variance sample + votes of 100 images
    assert details.rendered.tolist() == [0, images, 0]
    assert details.encoded.tolist() == [images] * 3 and details.n_rounds == 1
    with pytest.raises(ValueError, match="adaptive.*leave columns=None"):
        pairwise_similarity(models, similarity_params={"protocol": "adaptive"}, columns=[0])
    with pytest.raises(ValueError, match=r"columns must be model indices in \[0, 3\)"):
        pairwise_similarity(models, similarity_params=params, columns=[3])
