"""Tests of disentangle.metrics.factor_vae_score on small synthetic datasets."""

import numpy as np
import pytest
from _datasets import ContinuousDataset, FactorDataset
from scipy.stats import binom

from disentangle.metrics import _factor_vae, factor_vae_score, factor_vae_scores

PROTOCOLS = ["community", "paper"]
# Small settings so that the whole file runs in seconds.
SMALL = {
    "community": {"batch_size": 16, "n_train": 300, "n_eval": 300, "n_variance": 2000},
    "paper": {"batch_size": 20, "n_train": 120, "n_variance": 2000},
}




class Transformer:
    """An object with ``transform``, like a fitted scikit-learn estimator."""

    def __init__(self, fn):
        self.fn = fn

    def transform(self, observations):
        return self.fn(observations)


def reversed_rescaled(x):
    """Codes = the factors in reverse order, each rescaled: a perfect representation."""
    return x[:, ::-1] * np.arange(1, x.shape[1] + 1)


# --- perfect, chance, mixed -------------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("wrap", [lambda f: f, Transformer], ids=["callable", "transform"])
def test_perfect_representation_scores_one(protocol, wrap):
    dataset = FactorDataset((1, 4, 5, 6))  # factor 0 is constant, like dSprites' color
    score, details = factor_vae_score(wrap(reversed_rescaled), dataset, protocol=protocol,
                                      random_state=0, return_details=True, **SMALL[protocol])
    assert score == 1.0
    assert details["train_accuracy"] == 1.0 and details["eval_accuracy"] == 1.0
    # Code c reads factor 3 - c; code 3 reads the constant factor and is never active.
    np.testing.assert_array_equal(details["mapping"], [3, 2, 1, -1])
    np.testing.assert_array_equal(details["active_dims"], [0, 1, 2])
    np.testing.assert_array_equal(details["eligible_factors"], [1, 2, 3])
    assert details["train_votes"][:, 0].sum() == 0  # the constant factor is never fixed
    assert details["train_votes"].sum() == SMALL[protocol]["n_train"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_continuous_factors_perfect_and_fixed_by_copy(protocol):
    # Record every observation the metric encodes, in order.
    seen = []

    def record(x):
        seen.append(x.copy())
        return x

    dataset = ContinuousDataset(3)
    settings = SMALL[protocol]
    score = factor_vae_score(record, dataset, protocol=protocol, random_state=1, **settings)
    assert score == 1.0
    rows = np.concatenate(seen)
    n_votes = settings["n_train"] + settings.get("n_eval", 0)
    # Each observation is encoded exactly once: the global sample, then the votes.
    assert len(rows) == settings["n_variance"] + n_votes * settings["batch_size"]
    votes = rows[settings["n_variance"]:].reshape(n_votes, settings["batch_size"], 3)
    spread = votes.max(axis=1) - votes.min(axis=1)  # (n_votes, n_factors)
    assert np.all((spread == 0).sum(axis=1) == 1)  # exactly one factor fixed per vote
    if protocol == "paper":  # the fixed factor cycles 0, 1, 2, 0, ...
        np.testing.assert_array_equal(np.argmin(spread, axis=1), np.arange(n_votes) % 3)


def test_noise_codes_score_chance_community():
    """Community chance level is exactly 1/K in expectation.

    An evaluation vote's fixed factor is uniform over the K eligible factors and
    independent of the codes, hence of the classifier built on the training
    votes (whatever its ties or its fallback for dimensions without a vote, which
    is an eligible factor). So each evaluation vote is right with probability
    1/K, independently: eval accuracy ~ Binomial(n_eval, 1/K) / n_eval.
    """
    k, n_eval = 4, 2000
    dataset = FactorDataset((1, 3, 4, 5, 6), n_noise=6)
    noise_codes = lambda x: x[:, 5:]  # noqa: E731
    score = factor_vae_score(noise_codes, dataset, random_state=0, batch_size=16,
                             n_train=200, n_eval=n_eval, n_variance=2000)
    sd = np.sqrt((1 / k) * (1 - 1 / k) / n_eval)  # ~0.0097
    assert abs(score - 1 / k) < 4 * sd


def paper_null_mean(n_codes, k, votes_per_factor):
    """Expected paper score when every vote lands on a uniform random dimension.

    With no split the classifier is scored on its own votes: the score is
    sum_c max_f V[c, f] / N, and the counts V[c, f] of factor f's votes on code
    c are Binomial(votes_per_factor, 1 / n_codes), independent across f. So
    E[score] = n_codes / N * E[max of k iid binomials], which exceeds 1/k on
    finite samples.
    """
    m = np.arange(votes_per_factor + 1)
    cdf = binom.cdf(m, votes_per_factor, 1.0 / n_codes)
    expected_max = np.sum(1.0 - cdf[:-1] ** k)
    return n_codes * expected_max / (k * votes_per_factor)


def test_noise_codes_score_chance_paper():
    n_codes, k, per_factor, seeds = 10, 4, 50, 4
    dataset = FactorDataset((1, 3, 4, 5, 6), n_noise=n_codes)
    noise_codes = lambda x: x[:, 5:]  # noqa: E731
    scores = [
        factor_vae_score(noise_codes, dataset, protocol="paper", random_state=seed,
                         batch_size=20, n_train=k * per_factor, n_variance=20_000)
        for seed in range(seeds)
    ]
    expected = paper_null_mean(n_codes, k, per_factor)
    assert expected > 1 / k + 0.08  # majority voting on its own votes is optimistic
    # Null spread of one score, by direct simulation of the vote counts.
    counts = np.random.RandomState(0).multinomial(
        per_factor, [1.0 / n_codes] * n_codes, size=(5000, k))
    null = counts.max(axis=1).sum(axis=1) / (k * per_factor)
    assert abs(null.mean() - expected) < 0.005
    assert abs(np.mean(scores) - expected) < 4 * null.std() / np.sqrt(seeds)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_constant_representation_scores_zero(protocol):
    dataset = FactorDataset((3, 4))
    with pytest.warns(UserWarning, match="leaves no code dimension active"):
        score, details = factor_vae_score(lambda x: np.zeros((len(x), 3)), dataset,
                                          protocol=protocol, random_state=0, return_details=True,
                                          **SMALL[protocol])
    assert score == 0.0 and details["train_accuracy"] == 0.0
    assert details["active_dims"].size == 0
    np.testing.assert_array_equal(details["mapping"], [-1, -1, -1])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_mixed_codes_score_lower(protocol):
    """Codes [f0 + f1, f0 - f1, f2]: f0 and f1 votes share dimensions.

    With f0 (or f1) fixed both mixed codes keep half the normalised variance, so
    f0 and f1 votes go to dimensions 0 and 1 and one classifier label serves
    both: about half of them are wrong, the score is about (1/2 + 1/2 + 1) / 3.
    """
    dataset = FactorDataset((6, 6, 6))

    def mixed(x):
        return np.stack([x[:, 0] + x[:, 1], x[:, 0] - x[:, 1], x[:, 2]], axis=1)

    score = factor_vae_score(mixed, dataset, protocol=protocol, random_state=0,
                             **SMALL[protocol])
    perfect = factor_vae_score(reversed_rescaled, dataset, protocol=protocol, random_state=0,
                               **SMALL[protocol])
    assert perfect == 1.0
    assert 2 / 3 - 0.1 < score < 0.85


# --- pruning, single latent, single factor ----------------------------------------------


def test_collapsed_and_tiny_dims_pruned_in_community_only():
    dataset = FactorDataset((4, 5, 6), n_noise=1)

    def codes(x):  # f0, constant, f2, 0.01 * noise (std 0.01 < 0.05), f1
        return np.stack([x[:, 0], np.full(len(x), 3.0), x[:, 2], 0.01 * x[:, 3], x[:, 1]], 1)

    score, details = factor_vae_score(codes, dataset, random_state=0, return_details=True,
                                      **SMALL["community"])
    assert score == 1.0
    np.testing.assert_array_equal(details["active_dims"], [0, 2, 4])
    np.testing.assert_array_equal(details["mapping"], [0, -1, 2, -1, 1])
    assert details["global_std"][3] < 0.05
    # Paper: no pruning, only the zero-variance dimension is dropped; still perfect.
    score, details = factor_vae_score(codes, dataset, protocol="paper", random_state=0,
                                      return_details=True, **SMALL["paper"])
    assert score == 1.0
    np.testing.assert_array_equal(details["active_dims"], [0, 2, 3, 4])
    # An explicit threshold overrides the protocol default.
    _, details = factor_vae_score(codes, dataset, random_state=0, prune_threshold=0.0,
                                  return_details=True, **SMALL["community"])
    np.testing.assert_array_equal(details["active_dims"], [0, 2, 3, 4])


def test_single_latent_paper_is_one_over_k():
    # One code dimension gets every vote; cycling gives each of the K = 4
    # factors 2 of the 8 votes, so the majority label is right on 2 / 8.
    dataset = FactorDataset((1, 3, 4, 5, 6))
    score, details = factor_vae_score(lambda x: x[:, 1] + x[:, 2], dataset, protocol="paper",
                                      random_state=0, batch_size=10, n_train=8,
                                      n_variance=100, return_details=True)
    assert score == 0.25
    np.testing.assert_array_equal(details["train_votes"], [[0, 2, 2, 2, 2]])
    np.testing.assert_array_equal(details["mapping"], [1])  # tie -> lowest factor


def test_single_latent_community_matches_its_vote_counts():
    dataset = FactorDataset((3, 4, 5))
    score, details = factor_vae_score(lambda x: x[:, :1], dataset, random_state=0,
                                      return_details=True, **SMALL["community"])
    train, test = details["train_votes"][0], details["eval_votes"][0]
    assert details["mapping"][0] == np.argmax(train)
    assert score == test[np.argmax(train)] / test.sum()
    assert abs(score - 1 / 3) < 0.15  # Binomial(300, 1/3) / 300 has sd 0.027


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_single_factor_dataset(protocol):
    # Every vote fixes the only factor: any non-constant representation is right.
    dataset = FactorDataset((1, 7), n_noise=2)
    score = factor_vae_score(lambda x: x[:, 1:], dataset, protocol=protocol, random_state=0,
                             **SMALL[protocol])
    assert score == 1.0


def test_dataset_without_varying_factor_raises():
    with pytest.raises(ValueError, match="no factor with more than one value"):
        factor_vae_score(lambda x: x, FactorDataset((1, 1)), random_state=0)


# --- hand computations ------------------------------------------------------------------


def test_vote_matrix_by_hand_paper():
    """Factors (2, 1, 3), codes [f0, f0, f2], 6 votes cycling over factors 0 and 2.

    Votes 0, 2, 4 fix f0: codes 0 and 1 both have zero variance, the tie goes
    to code 0. Votes 1, 3, 5 fix f2: code 2. Code 1 gets no vote and predicts
    the first eligible factor, 0.
    """
    dataset = FactorDataset((2, 1, 3))
    score, details = factor_vae_score(lambda x: x[:, [0, 0, 2]], dataset, protocol="paper",
                                      random_state=0, batch_size=30, n_train=6, n_variance=500,
                                      return_details=True)
    np.testing.assert_array_equal(details["train_votes"], [[3, 0, 0], [0, 0, 0], [0, 0, 3]])
    np.testing.assert_array_equal(details["mapping"], [0, 0, 2])
    assert details["eval_votes"] is details["train_votes"]
    assert score == 1.0


def test_majority_vote_and_accuracy_by_hand():
    train = np.array([[3, 1, 0], [0, 0, 0], [2, 2, 0], [0, 0, 0]])
    test = np.array([[1, 2, 0], [1, 1, 0], [0, 3, 0], [0, 0, 0]])
    eligible, active = np.array([0, 1]), np.array([0, 1, 2])
    mapping = _factor_vae._majority_vote(train, eligible, active)
    # Row 0: factor 0 wins; row 1: no vote -> first eligible; row 2: tie -> lowest.
    np.testing.assert_array_equal(mapping, [0, 0, 0, -1])
    assert _factor_vae._accuracy(train, mapping) == 5 / 8
    assert _factor_vae._accuracy(test, mapping) == 2 / 8  # 1 + 1 + 0 of 8
    assert _factor_vae._accuracy(np.zeros((4, 3), dtype=int), mapping) == 0.0


def test_vote_winners_by_hand_and_order_invariant():
    # 2 votes of 3 rows, 3 codes; global variances (1, 4, 1), code 2 inactive.
    codes = np.array([[0, 0, 9], [0, 2, 5], [0, 4, 1],     # var (0, 4, .): code 0
                      [1, 0, 0], [3, 0, 0], [5, 0, 0.]])   # var (4, 0, .): code 1
    global_var, active = np.array([1.0, 4.0, 1.0]), np.array([0, 1])

    def winners(codes, ddof):
        spread = _factor_vae._vote_spread(codes, 3, ddof)
        return _factor_vae._vote_winners(spread, global_var, active)

    np.testing.assert_array_equal(winners(codes, ddof=1), [0, 1])
    # Shuffling rows within a vote, or the votes themselves, changes nothing.
    np.testing.assert_array_equal(winners(codes[[2, 0, 1, 4, 5, 3]], ddof=1), [0, 1])
    np.testing.assert_array_equal(winners(codes[[3, 4, 5, 0, 1, 2]], ddof=0), [1, 0])


# --- invariances, reproducibility ------------------------------------------------------


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_encoding_chunk_size_does_not_change_result(protocol, monkeypatch):
    dataset = FactorDataset((3, 4, 5), n_noise=2)

    def run():
        return factor_vae_score(lambda x: x[:, [0, 3, 1, 4]], dataset, protocol=protocol,
                                random_state=3, return_details=True, **SMALL[protocol])

    score, details = run()
    monkeypatch.setattr(_factor_vae, "ROWS_PER_CALL", 7)  # one vote per call
    score_small, details_small = run()
    assert score == score_small
    np.testing.assert_array_equal(details["train_votes"], details_small["train_votes"])
    np.testing.assert_allclose(details["global_variance"], details_small["global_variance"])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_same_random_state_same_result(protocol):
    dataset = FactorDataset((3, 4, 5), n_noise=3)
    codes = lambda x: x[:, [0, 3, 4, 1]]  # noqa: E731
    first = factor_vae_score(codes, dataset, protocol=protocol, random_state=5,
                             return_details=True, **SMALL[protocol])
    second = factor_vae_score(codes, dataset, protocol=protocol,
                              random_state=np.random.RandomState(5), return_details=True,
                              **SMALL[protocol])
    assert first[0] == second[0]
    np.testing.assert_array_equal(first[1]["train_votes"], second[1]["train_votes"])
    np.testing.assert_array_equal(first[1]["eval_votes"], second[1]["eval_votes"])


# --- validation -------------------------------------------------------------------------


def test_a_prune_threshold_that_prunes_every_code_warns():
    with pytest.warns(UserWarning, match=r"prune_threshold=100 leaves no code dimension active: "
                                         r"every global standard deviation \(largest 1.1"):
        score = factor_vae_score(lambda x: x, FactorDataset((3, 4)), random_state=0,
                                 prune_threshold=100, **SMALL["community"])
    assert score == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"protocol": "kim"}, "protocol must be one of"),
        ({"n_train": 0}, "n_train must be an integer >= 1"),
        ({"n_eval": 0}, "n_eval must be an integer >= 1"),
        ({"batch_size": 1}, "batch_size must be an integer >= 2"),
        ({"n_variance": 1}, "n_variance must be an integer >= 2"),
        ({"n_train": 2.5}, "n_train must be an integer"),
        ({"n_train": True}, "n_train must be an integer"),
        ({"prune_threshold": -0.1}, "prune_threshold must be a finite number >= 0"),
        ({"prune_threshold": float("nan")}, "prune_threshold must be a finite number"),
        ({"protocol": "paper", "n_eval": 10}, "no train/eval split"),
    ],
)
def test_bad_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        factor_vae_score(lambda x: x, FactorDataset((3, 4)), **kwargs)


@pytest.mark.parametrize("protocol", ["paper", "community"])
def test_fewer_votes_than_factors_are_refused(protocol):
    # Issue 29: n_train=1 returned 1.0 without a word, whatever the codes.
    dataset = FactorDataset((1, 3, 4, 5), n_noise=3)  # 3 factors can be fixed
    noise = lambda x: x[:, 4:]  # noqa: E731 (codes that carry no factor)
    with pytest.raises(ValueError, match=r"n_train=2 votes .* 3 factors \(f1, f2, f3\): .*"
                       r"n_train >= 3"):
        factor_vae_score(noise, dataset, protocol=protocol, n_train=2, n_variance=100,
                         random_state=0)
    score = factor_vae_score(noise, dataset, protocol=protocol, n_train=3, n_variance=100,
                             random_state=0)
    assert 0 <= score <= 1


@pytest.mark.parametrize(
    ("representation", "error", "message"),
    [
        (None, TypeError, "callable"),
        (lambda x: np.full((len(x), 2), np.nan), ValueError, "NaN or infinite"),
        (lambda x: np.full((len(x), 2), np.inf), ValueError, "NaN or infinite"),
        (lambda x: x[:3], ValueError, "shape"),
    ],
)
def test_bad_representation_raises(representation, error, message):
    with pytest.raises(error, match=message):
        factor_vae_score(representation, FactorDataset((3, 4)), random_state=0,
                         **SMALL["community"])


def test_bad_sample_factors_shape_raises():
    class Wrong(FactorDataset):
        def sample_factors(self, n, random_state=None):
            return np.zeros((n, 1))

    with pytest.raises(ValueError, match="must return shape"):
        factor_vae_score(lambda x: x, Wrong((3, 4)), random_state=0, **SMALL["community"])


def test_same_random_state_same_observations_for_every_representation():
    # Cross-evaluation (ModelCentrality) compares encoders on the same votes.
    dataset = FactorDataset((3, 4), n_noise=2)
    seen = {0: [], 1: []}

    def recorder(i, columns):
        def encode(x):
            seen[i].append(x.copy())
            return x[:, columns]
        return encode

    for i, columns in enumerate([[0, 1], [2, 0, 3]]):
        factor_vae_score(recorder(i, columns), dataset, random_state=11, **SMALL["community"])
    np.testing.assert_array_equal(np.concatenate(seen[0]), np.concatenate(seen[1]))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_progress_bar_at_verbose_1_silence_at_0_same_score(protocol, capfd, progress_bars):
    dataset = FactorDataset((3, 4), n_noise=2)
    args = (lambda x: x[:, [1, 0, 2]], dataset)
    kwargs = {"protocol": protocol, "random_state": 0, **SMALL[protocol]}
    quiet = factor_vae_score(*args, **kwargs)
    assert capfd.readouterr() == ("", "")  # even on a terminal: verbose=0 writes nothing
    loud = factor_vae_score(*args, verbose=1, **kwargs)
    assert "FactorVAE score:   0%" in capfd.readouterr().err
    assert loud == quiet
    # The bar counted every observation rendered: the variance sample, then the votes.
    n_votes = SMALL[protocol]["n_train"] + SMALL[protocol].get("n_eval", 0)
    total = SMALL[protocol]["n_variance"] + n_votes * SMALL[protocol]["batch_size"]
    assert [(bar.n, bar.total, bar.shown) for bar in progress_bars] == [
        (0, total, False), (total, total, True)]  # a disabled bar does not count


@pytest.mark.parametrize("verbose", [-1, 0.5, "yes"])
def test_bad_verbose_raises(verbose):
    with pytest.raises(ValueError, match="'verbose' parameter of factor_vae_score"):
        factor_vae_score(lambda x: x, FactorDataset((3, 4)), verbose=verbose)
    with pytest.raises(ValueError, match="'verbose' parameter of factor_vae_scores"):
        factor_vae_scores([lambda x: x], FactorDataset((3, 4)), verbose=verbose)
