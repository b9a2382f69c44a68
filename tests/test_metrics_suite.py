"""Tests of the disentanglement metrics of disentangle.metrics on small synthetic datasets.

Observations are the factor values as floats, then N(0, 1) noise columns, so
a representation is a column selection or a function of columns.
"""

import warnings

import numpy as np
import pytest
from _datasets import ContinuousDataset, FactorDataset
from sklearn.exceptions import ConvergenceWarning

from disentangle.metrics import (
    beta_vae_score,
    dci_score,
    explicitness_score,
    factor_vae_score,
    gaussian_total_correlation,
    mig_score,
    modularity_score,
    sap_score,
)
from disentangle.metrics._beta_vae import pair_features
from disentangle.metrics._dci import gbt_importance, lasso_importance
from disentangle.metrics._discrete import histogram_discretize
from disentangle.metrics._explicitness import explicitness_from_codes
from disentangle.metrics._mig import mig_from_codes
from disentangle.metrics._modularity import modularity_from_codes, modularity_per_code
from disentangle.metrics._sampling import samples_needed
from disentangle.metrics._sap import sap_from_codes
from disentangle.metrics._unsupervised import total_correlation_from_covariance

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Small settings per metric and protocol, so that the whole file runs in seconds.
SMALL = {
    beta_vae_score: {"community": {"batch_size": 8, "n_train": 300, "n_eval": 300},
                     "paper": {"batch_size": 10, "n_train": 150}},
    mig_score: {"community": {"n_train": 1000}, "paper": {"n_train": 1000}},
    dci_score: {"community": {"n_train": 300, "n_test": 200}, "paper": {"n_train": 1000}},
    sap_score: {"community": {"n_train": 500, "n_test": 300}, "paper": {"n_train": 500}},
    modularity_score: {"community": {"n_train": 1000}, "paper": {"n_train": 1000}},
    explicitness_score: {"community": {"n_train": 500, "n_test": 300},
                         "paper": {"n_train": 500}},
    gaussian_total_correlation: {"community": {"n_train": 1000}},
}
CASES = [(metric, protocol) for metric, protocols in SMALL.items() for protocol in protocols]
IDS = [f"{metric.__name__}-{protocol}" for metric, protocol in CASES]
SUPERVISED = [case for case in CASES if case[0] is not gaussian_total_correlation]
SUPERVISED_IDS = [f"{metric.__name__}-{protocol}" for metric, protocol in SUPERVISED]




def run(metric, protocol, representation, dataset, seed=0, **kwargs):
    """The metric with the small settings; checks that the score is a finite float."""
    params = dict(SMALL[metric][protocol], **kwargs)
    result = metric(representation, dataset, protocol=protocol, random_state=seed, **params)
    score = result[0] if isinstance(result, tuple) else result
    assert isinstance(score, float) and np.isfinite(score)
    return result


def reversed_rescaled(x):
    """Codes = the factors in reverse order, each rescaled: a perfect representation."""
    return x[:, ::-1] * np.arange(1, x.shape[1] + 1)


def mixed(x):
    """Codes [f1 + f2, f1 - f2, f3]: factors 1 and 2 share two codes."""
    return np.stack([x[:, 1] + x[:, 2], x[:, 1] - x[:, 2], x[:, 3]], axis=1)


# --- perfect representations ------------------------------------------------------------

DATASET = FactorDataset((1, 3, 4, 5))  # factor 0 is constant, like dSprites' color


@pytest.mark.parametrize("protocol", ["community", "paper"])
def test_beta_vae_perfect_is_one(protocol):
    score, details = run(beta_vae_score, protocol, reversed_rescaled, DATASET,
                         return_details=True)
    assert score == 1.0 and details["train_accuracy"] == 1.0
    np.testing.assert_array_equal(details["eligible_factors"], [1, 2, 3])
    assert set(details["train_labels"]) == {1, 2, 3}


@pytest.mark.parametrize("protocol", ["community", "paper"])
def test_mig_perfect_is_one_up_to_plug_in_bias(protocol):
    """Each code takes its factor's integer values, one per histogram bin.

    So the top mutual information equals the factor's entropy exactly, and the
    gap falls short of 1 only by the plug-in MI of independent columns.
    """
    score, details = run(mig_score, protocol, reversed_rescaled, DATASET, return_details=True)
    mi, entropy = details["mutual_info"], details["factor_entropy"]
    # Code c reads factor 3 - c; eligible factors are 1, 2, 3 (columns 0, 1, 2).
    np.testing.assert_allclose(mi[[2, 1, 0], [0, 1, 2]], entropy)
    second = np.sort(mi, axis=0)[-2]
    np.testing.assert_allclose(details["per_factor"], 1 - second / entropy)
    assert 0.97 < score < 1.0


@pytest.mark.parametrize("protocol", ["community", "paper"])
def test_dci_perfect_is_one(protocol):
    score, details = run(dci_score, protocol, reversed_rescaled, DATASET, return_details=True)
    assert score > 0.99 and details["completeness"] > 0.99
    assert details["importance_matrix"].shape == (4, 3)
    assert details["importance_matrix"][3].sum() == 0  # the code of the constant factor
    if protocol == "community":
        assert details["informativeness_test"] == 1.0


def test_sap_paper_perfect_is_one():
    score = run(sap_score, "paper", reversed_rescaled, DATASET)  # names f*: all continuous
    assert score > 0.98


def test_sap_community_binary_factors_is_one_half():
    """Discrete SAP with binary factors: the right code classifies perfectly.

    Any other code is independent of the factor, so the balanced classifier's
    test predictions are independent of the test labels: its accuracy is 1/2
    in expectation and the gap is about 1 - 1/2.
    """
    score, details = run(sap_score, "community", reversed_rescaled, FactorDataset((2, 2, 2)),
                         return_details=True)
    matrix = details["score_matrix"]
    np.testing.assert_array_equal(matrix[[2, 1, 0], [0, 1, 2]], 1.0)
    off = matrix[~np.eye(3, dtype=bool)[::-1]]
    assert np.all(np.abs(off - 0.5) < 4 * np.sqrt(0.25 / 300))
    assert abs(score - 0.5) < 0.1


@pytest.mark.parametrize("protocol", ["community", "paper"])
def test_modularity_and_explicitness_perfect(protocol):
    # Without the code of the constant factor, which carries no information (scores 0).
    assert run(modularity_score, protocol, lambda x: reversed_rescaled(x[:, 1:]), DATASET) > 0.98
    assert run(explicitness_score, protocol, reversed_rescaled, DATASET) > 0.99


def test_gaussian_total_correlation_of_independent_codes_is_small():
    """Independent codes: the Gaussian TC of n samples has mean ~ d(d - 1) / (4n)."""
    d, n = 3, SMALL[gaussian_total_correlation]["community"]["n_train"]
    score = run(gaussian_total_correlation, "community", reversed_rescaled,
                FactorDataset((3, 4, 5)))
    assert 0 <= score < 10 * d * (d - 1) / (4 * n)


@pytest.mark.parametrize(("metric", "protocol"), [
    case for case in CASES if case != (dci_score, "community")
], ids=[i for i in IDS if i != "dci_score-community"])
def test_continuous_factors(metric, protocol):
    """Factors of size None (a generative model's codes) are scored too.

    (The community DCI bins them into 20 classes like explicitness, whose test
    covers that path; 20-class gradient boosting would dominate the run time.)
    """
    value = run(metric, protocol, lambda x: x[:, ::-1], ContinuousDataset(3))
    if metric is gaussian_total_correlation:
        assert value < 0.05
    elif metric is sap_score:
        assert value > 0.9  # size None is always rated by squared correlation
    elif metric in (modularity_score, mig_score, explicitness_score, dci_score):
        assert value > 0.85
    else:
        assert value == 1.0


# --- representations that ignore the factors: chance levels -----------------------------

NOISY = FactorDataset((1, 3, 4, 5), n_noise=4)


def noise_codes(x):
    return x[:, 4:]


def test_beta_vae_chance_is_one_over_k():
    """The label of an evaluation point is uniform over K = 3 factors and independent
    of its features, hence of the prediction: accuracy ~ Binomial(n_eval, 1/K) / n_eval."""
    k, n_eval = 3, 600
    score = run(beta_vae_score, "community", noise_codes, NOISY, n_eval=n_eval)
    assert abs(score - 1 / k) < 4 * np.sqrt((1 / k) * (1 - 1 / k) / n_eval)


def test_mig_and_modularity_chance():
    """For independent codes the plug-in MI of B bins and K values has mean about
    (B - 1)(K - 1) / (2n) nats; MIG is at most the largest of them over H(f)."""
    n, bins = 1000, 20
    score, details = run(mig_score, "community", noise_codes, NOISY, return_details=True)
    bias = (bins - 1) * (np.array([3, 4, 5]) - 1) / (2 * n)
    assert np.all(details["mutual_info"].mean(axis=0) < 2 * bias)
    assert score < np.max(3 * bias / details["factor_entropy"])


def test_dci_informativeness_chance_is_mean_one_over_k():
    """Test labels are independent of codes that ignore the factors, so each
    factor's test accuracy is 1/K_k in expectation."""
    _, details = run(dci_score, "community", noise_codes, NOISY, n_test=600,
                     return_details=True)
    expected = np.mean([1 / 3, 1 / 4, 1 / 5])
    sd = np.sqrt(np.mean([(1 / k) * (1 - 1 / k) for k in (3, 4, 5)]) / 600 / 3)
    assert abs(details["informativeness_test"] - expected) < 5 * sd


def test_sap_chance():
    """Each score is a test accuracy with mean 1/K_k (see the DCI test); the top-two
    gap of 4 such estimates stays within a few standard deviations."""
    score, details = run(sap_score, "community", noise_codes, NOISY, return_details=True)
    sd = np.sqrt(0.25 / 300)
    expected = np.array([1 / 3, 1 / 4, 1 / 5])
    assert np.all(np.abs(details["score_matrix"] - expected) < 5 * sd + 0.05)
    assert score < 0.08


def test_explicitness_chance_is_one_half():
    """On a test sample the predicted probabilities are independent of the labels:
    every one-vs-rest AUC has mean 1/2."""
    score = run(explicitness_score, "community", noise_codes, NOISY, n_test=600)
    assert abs(score - 0.5) < 0.05


# --- mixing two codes lowers the scores that measure disentanglement ----------------------

@pytest.mark.parametrize(("metric", "protocol"), [
    case for case in SUPERVISED if case[0] is not explicitness_score
], ids=[i for case, i in zip(SUPERVISED, SUPERVISED_IDS, strict=True)
        if case[0] is not explicitness_score])
def test_mixing_two_codes_lowers_the_score(metric, protocol):
    dataset = FactorDataset((4, 4, 4, 4))
    perfect = run(metric, protocol, lambda x: x[:, [1, 2, 3]], dataset)
    assert run(metric, protocol, mixed, dataset) < perfect - 0.05


def test_mixing_raises_total_correlation():
    """Explicitness is left out of the mixing tests: it measures linear decodability,
    which an invertible mixing keeps in principle."""
    dataset = FactorDataset((6, 3, 6, 6))  # f1, f2 of different variance: correlated sums
    independent = run(gaussian_total_correlation, "community", lambda x: x[:, 1:], dataset)
    assert run(gaussian_total_correlation, "community", mixed, dataset) > independent + 0.01


# --- invariance to the order of the samples ---------------------------------------------

def test_scores_invariant_to_sample_order():
    rng = np.random.RandomState(0)
    labels = rng.randint(3, size=(400, 3))
    codes = np.column_stack([labels[:, 0] + 0.3 * labels[:, 1], labels[:, 2],
                             rng.normal(size=400)])
    perm = rng.permutation(400)
    assert mig_from_codes(codes, labels, 20)[0] == mig_from_codes(codes[perm], labels[perm],
                                                                  20)[0]
    assert (modularity_from_codes(codes, labels, 20)[0]
            == modularity_from_codes(codes[perm], labels[perm], 20)[0])
    continuous = np.array([False, True, False])
    sap = [sap_from_codes(c, y, c, y, continuous, np.random.RandomState(1))[0]
           for c, y in ((codes, labels), (codes[perm], labels[perm]))]
    assert sap[0] == pytest.approx(sap[1], abs=1e-9)
    split = [explicitness_from_codes(c[:300], y[:300], c[300:], y[300:], True)[0]
             for c, y in ((codes, labels), (codes[perm], labels[perm]))]
    same_split = explicitness_from_codes(codes[perm][:300], labels[perm][:300],
                                         codes[perm][:300], labels[perm][:300], False)[0]
    assert same_split == pytest.approx(
        explicitness_from_codes(codes[np.sort(perm[:300])], labels[np.sort(perm[:300])],
                                codes[np.sort(perm[:300])], labels[np.sort(perm[:300])],
                                False)[0], abs=1e-6)
    assert np.isfinite(split).all()
    lasso = [lasso_importance(c, y.astype(float))[0]
             for c, y in ((codes, labels), (codes[perm], labels[perm]))]
    np.testing.assert_allclose(lasso[0], lasso[1], atol=1e-8)
    gbt = [gbt_importance(c[:150], y[:150, :2], c[:150], y[:150, :2],
                          np.random.RandomState(2))[0]
           for c, y in ((codes[np.sort(perm[:150])], labels[np.sort(perm[:150])]),
                        (codes[perm[:150]], labels[perm[:150]]))]
    np.testing.assert_allclose(gbt[0], gbt[1], atol=1e-8)
    cov = np.cov(codes, rowvar=False)
    assert total_correlation_from_covariance(cov)[0] == pytest.approx(
        total_correlation_from_covariance(np.cov(codes[perm], rowvar=False))[0])


def test_beta_vae_features_invariant_to_pair_order():
    codes = np.random.RandomState(0).normal(size=(2 * 3 * 2, 5))  # 2 points, 3 pairs
    pairs = codes.reshape(2, 3, 2, 5)
    swapped = pairs[:, ::-1][:, :, ::-1].reshape(-1, 5)  # reverse pairs and their members
    np.testing.assert_allclose(pair_features(codes, 3), pair_features(swapped, 3))


# --- edge cases ---------------------------------------------------------------------------

@pytest.mark.parametrize(("metric", "protocol"), CASES, ids=IDS)
def test_collapsed_dimension(metric, protocol):
    dataset = FactorDataset((3, 4, 5))

    def with_constant(x):
        return np.column_stack([x[:, 0], np.full(len(x), 7.0), x[:, 1], x[:, 2]])

    plain = run(metric, protocol, lambda x: x, dataset)
    value = run(metric, protocol, with_constant, dataset)
    if metric is modularity_score:  # the collapsed code scores 0 and counts in the mean
        assert value == pytest.approx(plain * 3 / 4)
    elif metric is sap_score and protocol == "community":
        assert 0 <= value <= 1  # a constant code still reaches chance accuracy
    else:
        assert value == pytest.approx(plain, abs=0.02)


@pytest.mark.parametrize(("metric", "protocol"), SUPERVISED, ids=SUPERVISED_IDS)
def test_constant_factor_is_left_out(metric, protocol):
    result = run(metric, protocol, lambda x: x[:, 1:], FactorDataset((1, 3, 4)),
                 return_details=True)
    np.testing.assert_array_equal(result[1]["eligible_factors"], [1, 2])


@pytest.mark.parametrize(("metric", "protocol"), CASES, ids=IDS)
def test_single_latent_and_fewer_latents_than_factors(metric, protocol):
    dataset = FactorDataset((3, 4, 5))
    one = run(metric, protocol, lambda x: x[:, 1], dataset)
    two = run(metric, protocol, lambda x: x[:, :2], dataset)
    if metric is gaussian_total_correlation:
        assert one == 0.0 and two < 0.05
    else:
        assert 0 <= one <= 1 and 0 <= two <= 1


def test_single_latent_values():
    dataset = FactorDataset((3, 4, 5))
    score, details = run(mig_score, "community", lambda x: x[:, 1], dataset,
                         return_details=True)
    # Compared with a collapsed code: the gap of factor 1 is its whole normalised MI, 1.
    assert details["per_factor"][1] == pytest.approx(1.0)
    assert score == pytest.approx(np.mean(details["mutual_info"][0]
                                          / details["factor_entropy"]))
    # Completeness of a single code is 1; its disentanglement is low (it reads one of 3).
    _, details = run(dci_score, "paper", lambda x: x[:, 1], dataset, return_details=True)
    assert details["completeness"] == 1.0


@pytest.mark.parametrize(("metric", "protocol"), SUPERVISED, ids=SUPERVISED_IDS)
def test_single_varying_factor(metric, protocol):
    value = run(metric, protocol, lambda x: x[:, 1:], FactorDataset((1, 4), n_noise=1))
    assert 0 <= value <= 1


@pytest.mark.parametrize(("metric", "protocol"), CASES, ids=IDS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_codes_raise(metric, protocol, bad):
    def broken(x):
        codes = x.astype(np.float64)
        codes[0, 0] = bad
        return codes

    with pytest.raises(ValueError, match="NaN or infinite"):
        run(metric, protocol, broken, FactorDataset((3, 4)))


@pytest.mark.parametrize(("metric", "kwargs", "n_values"), [
    (explicitness_score, {"n_train": 5}, 6),
    (dci_score, {"n_train": 5}, 6),
    (sap_score, {"n_train": 5}, 6),
    (beta_vae_score, {"n_train": 1}, 2),
])
def test_too_few_samples_for_every_class_raises(metric, kwargs, n_values):
    needed = samples_needed(n_values, need_all=True)
    with pytest.raises(ValueError, match=rf"only \d+ distinct .*n_train >= {needed}"):
        metric(lambda x: x, FactorDataset((2, 6)), random_state=0, **kwargs)


def test_too_few_samples_for_mutual_information_raises():
    class Stuck(FactorDataset):  # a sample in which factor 0 shows a single value
        def sample_factors(self, n, random_state=None):
            factors = super().sample_factors(n, random_state)
            factors[:, 0] = 0
            return factors

    needed = samples_needed(20, need_all=False)
    for metric in (mig_score, modularity_score):
        with pytest.raises(ValueError, match=rf"at least two values.*n_train >= {needed}"):
            metric(lambda x: x, Stuck((20, 3)), random_state=3, n_train=needed - 1)


class SubsetOfFactor0(FactorDataset):
    """A subset: factor 0 declares 4 values but the dataset holds only indices 0..keep-1."""

    def __init__(self, keep):
        super().__init__((4, 3))
        self.keep = keep

    def sample_factors(self, n, random_state=None):
        factors = super().sample_factors(n, random_state)
        factors[:, 0] %= self.keep
        return factors


@pytest.mark.parametrize(("metric", "protocol", "keep", "missing"), [
    (mig_score, "community", 1, "1, 2, 3"),  # MIG needs two values
    (dci_score, "community", 2, "2, 3"),  # the classifiers need every value
    (sap_score, "community", 2, "2, 3"),
])
def test_values_a_subset_never_produces_are_named_not_blamed_on_the_sample_size(
        metric, protocol, keep, missing):
    with pytest.raises(ValueError, match=rf"factor 'f0' takes 4 values but only {keep} distinct "
                       rf".*more samples will not help.*index {missing} never appeared") as error:
        run(metric, protocol, lambda x: x, SubsetOfFactor0(keep))
    assert "Use n_train" not in str(error.value)


class FactorValues(FactorDataset):
    """Factor 0 given by its values (a scale of 0.5, 0.6, ..., 1.0), not by their indices."""

    def sample_factors(self, n, random_state=None):
        factors = super().sample_factors(n, random_state).astype(np.float64)
        factors[:, 0] = 0.5 + 0.1 * factors[:, 0]
        return factors


class FloatIndices(FactorDataset):
    """Factor indices held in a float array (2.0 is index 2)."""

    def sample_factors(self, n, random_state=None):
        return super().sample_factors(n, random_state).astype(np.float64)


# The paper's SAP rates factors by name (shape discrete, the others continuous: correlation
# with their values), so it reads f0's values as they are.
LABELLED = [case for case in CASES
            if case[0] in (mig_score, dci_score, sap_score, modularity_score,
                           explicitness_score) and case != (sap_score, "paper")]


@pytest.mark.parametrize(("metric", "protocol"), LABELLED,
                         ids=[f"{m.__name__}-{p}" for m, p in LABELLED])
def test_discrete_factors_given_as_values_are_refused_float_indices_are_not(metric, protocol):
    # Read as indices, 0.5 .. 1.0 were truncated to 0 and 1: a code telling "largest scale"
    # from the rest scored a MIG of 0.996 for scale, with no warning.
    with pytest.raises(ValueError, match=r"factor 'f0' is discrete with 6 values .* indices, "
                       r"integers 0\.\.5; got 0\.5, 0\.6, 0\.7, 0\.8, \.\.\..*size None"):
        run(metric, protocol, lambda x: x, FactorValues((6, 3)))
    as_floats = run(metric, protocol, reversed_rescaled, FloatIndices((6, 3)))
    assert as_floats == run(metric, protocol, reversed_rescaled, FactorDataset((6, 3)))


def test_explicitness_test_sample_missing_values_is_scored():
    """A value absent from the test sample has no AUC and is left out of the average."""
    score, details = run(explicitness_score, "community", lambda x: x, FactorDataset((6, 6)),
                         n_test=3, return_details=True)
    assert 0 <= score <= 1 and details["per_factor"].shape == (2,)


def test_a_float_factor_size_is_refused_not_read_as_continuous():
    # A sibling of factor values given as floats: a size of 6.0 made the factor continuous.
    for metric in (mig_score, sap_score, factor_vae_score):
        with pytest.raises(ValueError, match=r"factor_sizes\[0\] is 6\.0: expected a positive "
                           "int .* or None"):
            metric(lambda x: x, FactorDataset((6.0, 3)), random_state=0)


def test_no_varying_factor_raises():
    for metric, _ in CASES[:-1]:
        with pytest.raises(ValueError, match="no factor with more than one value"):
            metric(lambda x: x, FactorDataset((1, 1)), random_state=0)


# --- validation, details, reproducibility ---------------------------------------------------

@pytest.mark.parametrize(("metric", "kwargs", "message"), [
    (mig_score, {"protocol": "kim"}, "protocol must be one of"),
    (mig_score, {"n_train": 1}, "n_train must be an integer >= 2"),
    (mig_score, {"n_bins": 1.5}, "n_bins must be an integer"),
    (dci_score, {"protocol": "paper", "n_test": 10}, "n_test is not used"),
    (explicitness_score, {"protocol": "paper", "n_test": 10}, "n_test is not used"),
    (sap_score, {"protocol": "paper", "n_test": 10}, "n_test is not used"),
    (beta_vae_score, {"protocol": "paper", "n_eval": 10}, "n_eval is not used"),
    (beta_vae_score, {"batch_size": 0}, "batch_size must be an integer >= 1"),
    (gaussian_total_correlation, {"protocol": "paper"}, "protocol must be one of"),
    (sap_score, {"continuous_factors": [True]}, "continuous_factors must be"),
])
def test_bad_arguments_raise(metric, kwargs, message):
    with pytest.raises(ValueError, match=message):
        metric(lambda x: x, FactorDataset((3, 4)), random_state=0, **kwargs)


def test_representation_without_transform_raises():
    with pytest.raises(TypeError, match="callable"):
        mig_score(None, FactorDataset((3, 4)))


def as_strings(x):
    return x.astype(str)


class ObjectCodes:
    def transform(self, x):
        return x.astype(object)


@pytest.mark.parametrize(("representation", "message"), [
    (as_strings, r"representation as_strings must return numeric codes; got an array of dtype <U"),
    (ObjectCodes(), r"representation ObjectCodes.transform must return numeric codes; got an "
                    r"array of dtype object"),
])
def test_representation_returning_non_numbers_is_named(representation, message):
    with pytest.raises(TypeError, match=message):
        mig_score(representation, FactorDataset((3, 4)), n_train=100)


@pytest.mark.parametrize("metric", [*SMALL, factor_vae_score], ids=lambda m: m.__name__)
@pytest.mark.parametrize("value", ["yes", 1])
def test_return_details_must_be_a_bool(metric, value):
    with pytest.raises(ValueError, match=rf"'return_details' parameter of {metric.__name__} must "
                                         rf"be an instance of 'bool'.*Got {value!r} instead"):
        metric(lambda x: x, FactorDataset((3, 4)), return_details=value)


@pytest.mark.parametrize("metric", [*SMALL, factor_vae_score], ids=lambda m: m.__name__)
def test_unknown_keyword_names_the_metric(metric):
    with pytest.raises(TypeError, match=rf"^{metric.__name__}\(\): got an unexpected keyword "
                                         r"argument 'n_evals'$"):
        metric(lambda x: x, FactorDataset((3, 4)), n_evals=10)


def test_missing_dataset_names_the_metric():
    with pytest.raises(TypeError, match=r"^mig_score\(\): missing a required argument: 'dataset'"):
        mig_score(lambda x: x)


def test_gaussian_total_correlation_needs_more_samples_than_codes():
    with pytest.raises(ValueError, match="n_train=3 observations give a singular covariance of 3 "
                                         "codes; n_train must be greater than the number of codes"):
        gaussian_total_correlation(lambda x: x, FactorDataset((3, 4, 5)), n_train=3)


@pytest.mark.parametrize(("metric", "protocol"), CASES, ids=IDS)
def test_same_random_state_same_result(metric, protocol):
    dataset = FactorDataset((3, 4, 5), n_noise=2)

    def codes(x):
        return x[:, [0, 3, 1, 4]]

    first = run(metric, protocol, codes, dataset, seed=5)
    second = run(metric, protocol, codes, dataset, seed=np.random.RandomState(5))
    assert first == second


def test_details_keys():
    dataset = FactorDataset((3, 4))
    expected = {
        beta_vae_score: {"train_accuracy", "eval_accuracy", "train_features", "train_labels"},
        mig_score: {"mutual_info", "factor_entropy", "per_factor"},
        dci_score: {"importance_matrix", "disentanglement", "completeness",
                    "disentanglement_per_code", "completeness_per_factor", "code_importance",
                    "informativeness_train", "informativeness_test",
                    "informativeness_per_factor"},
        sap_score: {"continuous", "score_matrix", "per_factor"},
        modularity_score: {"mutual_info", "per_code"},
        explicitness_score: {"per_factor", "per_factor_train", "train_score"},
        gaussian_total_correlation: {"covariance", "active_dims"},
    }
    for metric, keys in expected.items():
        score, details = run(metric, "community", lambda x: x, dataset, return_details=True)
        common = {"protocol"} | ({"eligible_factors"} if metric is not
                                 gaussian_total_correlation else set())
        assert set(details) == keys | common, metric.__name__
        if "disentanglement" in details:
            assert details["disentanglement"] == score


def test_helpers_by_hand():
    # Histogram bins: 20 equal-width bins over [0, 2]; the maximum goes to the last bin.
    bins, _ = histogram_discretize(np.array([[0.0], [1.0], [2.0], [0.05]]), 20)
    np.testing.assert_array_equal(bins[:, 0], [1, 11, 20, 1])
    constant, _ = histogram_discretize(np.full((3, 1), 4.0), 20)
    assert np.unique(constant).size == 1
    # Modularity: code 0 reads one factor; code 1 two equally (delta = 1); code 2 nothing.
    mi = np.array([[2.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(modularity_per_code(mi), [1.0, 0.5, 0.0])
    np.testing.assert_allclose(modularity_per_code(mi[:, :1]), [1.0, 1.0, 0.0])
    # Singular covariance: infinite total correlation; collapsed dimensions dropped.
    assert total_correlation_from_covariance(np.ones((2, 2)))[0] == np.inf
    value, active = total_correlation_from_covariance(np.diag([1.0, 0.0, 2.0]))
    assert value == 0.0 and list(active) == [0, 2]


def test_no_warning_but_convergence():
    """The metrics raise no warning of their own on ordinary input."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        for metric, protocol in CASES:
            run(metric, protocol, lambda x: x, FactorDataset((3, 4)))


@pytest.mark.parametrize("metric", [mig_score, dci_score, sap_score, beta_vae_score])
def test_a_dataset_that_is_not_a_ground_truth_dataset_is_named(metric):
    with pytest.raises(TypeError, match="dataset must be a ground-truth dataset.*got ndarray"):
        metric(lambda x: x, np.zeros((10, 3)))


class _OneTooMany(FactorDataset):
    def sample_observations_from_factors(self, factors, random_state=None):
        observations = super().sample_observations_from_factors(factors, random_state)
        return np.concatenate([observations, observations[:1]])


class _WrongShape(FactorDataset):
    def sample_observations_from_factors(self, factors, random_state=None):
        return super().sample_observations_from_factors(factors, random_state)[:, :2]


@pytest.mark.parametrize("Dataset, problem", [
    (_OneTooMany, r"shape \(\d+, 3\) for \d+ factor rows; expected \(\d+, 3\)"),
    (_WrongShape, r"shape \((\d+), 2\) .*expected \(\1, 3\)"),
])
@pytest.mark.parametrize("metric", [factor_vae_score, mig_score])
def test_a_dataset_returning_the_wrong_observations_is_named(metric, Dataset, problem):
    pattern = rf"{Dataset.__name__}\.sample_observations_from_factors returned .*{problem}"
    with pytest.raises(ValueError, match=pattern):
        metric(lambda x: x, Dataset((3, 4, 5)), n_train=50, random_state=0)


# --- progress --------------------------------------------------------------------------------


@pytest.mark.parametrize(("metric", "protocol"), CASES, ids=IDS)
def test_progress_bar_at_verbose_1_silence_at_0_same_score(metric, protocol, capfd,
                                                           progress_bars):
    dataset = FactorDataset((1, 3, 4, 5), n_noise=1)  # mixed reads factors 1 to 3
    quiet = run(metric, protocol, mixed, dataset)
    assert capfd.readouterr() == ("", "")  # even on a terminal: verbose=0 writes nothing
    loud = run(metric, protocol, mixed, dataset, verbose=1)
    # The bar counts every observation encoded (a beta-VAE point encodes batch_size pairs).
    params = SMALL[metric][protocol]
    total = params["n_train"] + params.get("n_test", 0) + params.get("n_eval", 0)
    if metric is beta_vae_score:
        total *= 2 * params["batch_size"]
    assert f"0/{total} [00:00<?" in capfd.readouterr().err  # on stderr, with an ETA
    assert loud == quiet
    # The shown bar reached its total; a disabled bar counts nothing.
    assert [(bar.n, bar.total, bar.shown) for bar in progress_bars] == [
        (0, total, False), (total, total, True)]
