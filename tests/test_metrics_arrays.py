"""The array forms ``metric(factors, codes)``: equal to the dataset forms, and IRS and
downstream-task values computed by hand."""

import inspect

import joblib
import numpy as np
import pytest
from _datasets import FactorDataset

from disentangle.metrics import (
    dci,
    dci_score,
    downstream_task,
    downstream_task_score,
    explicitness,
    explicitness_score,
    irs,
    irs_score,
    make_disentanglement_scorer,
    mig,
    mig_score,
    modularity,
    modularity_score,
    sap,
    sap_score,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# Factor 0 is constant (dSprites' color): the dataset forms leave it out.
DATASET = FactorDataset((1, 3, 4, 5))
MIXING = np.random.RandomState(3).normal(size=(3, 3))


def representation(x):
    """A noisy nonlinear mixture of the three varying factors, and a fourth code."""
    f = x[:, 1:]
    return np.hstack([np.tanh(f @ MIXING) + 0.3 * np.sin(7 * f), f[:, :1] ** 2])


# (array form, dataset form, dataset-form keywords, array-form keywords)
PAIRS = [
    (mig, mig_score, {"n_train": 400}, {}),
    (modularity, modularity_score, {"n_train": 400}, {}),
    (irs, irs_score, {"n_train": 400}, {}),
    (explicitness, explicitness_score, {"n_train": 300, "n_test": 150}, {"test_size": 150}),
    (explicitness, explicitness_score, {"protocol": "paper", "n_train": 300},
     {"protocol": "paper"}),
    (dci, dci_score, {"n_train": 200, "n_test": 100}, {"test_size": 100}),
    (dci, dci_score, {"protocol": "paper", "n_train": 300}, {"protocol": "paper"}),
    (sap, sap_score, {"n_train": 300, "n_test": 150}, {"test_size": 150}),
    (sap, sap_score, {"protocol": "paper", "n_train": 300},
     {"protocol": "paper", "continuous_factors": True}),
]


def draw(sizes, seed):
    """The samples a dataset form draws with ``random_state=seed``, and the generator after.

    The dataset renders without noise, so drawing the factors is all the
    randomness of the sampling.
    """
    rng = np.random.RandomState(seed)
    factors = np.vstack([DATASET.sample_factors(n, rng) for n in sizes])
    return factors, representation(factors.astype(np.float32)), rng


@pytest.mark.parametrize(("array_form", "dataset_form", "kwargs", "array_kwargs"), PAIRS,
                         ids=[f"{p[0].__name__}-{p[2].get('protocol', 'community')}"
                              for p in PAIRS])
def test_array_form_equals_dataset_form_on_the_same_samples(array_form, dataset_form, kwargs,
                                                            array_kwargs):
    expected, details = dataset_form(representation, DATASET, random_state=5,
                                     return_details=True, **kwargs)
    sizes = [kwargs["n_train"]] + ([kwargs["n_test"]] if "n_test" in kwargs else [])
    factors, codes, rng = draw(sizes, 5)
    # The array form gets every column, the constant one included: it leaves it out itself.
    score, array_details = call(array_form, factors, codes, rng, return_details=True,
                                **array_kwargs)
    assert score == expected
    np.testing.assert_array_equal(array_details["factor_columns"], [1, 2, 3])
    for key, value in details.items():
        if key in array_details:
            np.testing.assert_array_equal(array_details[key], value, err_msg=key)


def call(array_form, factors, codes, random_state, **kwargs):
    """``array_form(factors, codes, **kwargs)``, with ``random_state`` where it takes one."""
    if "random_state" in inspect.signature(array_form).parameters:
        kwargs["random_state"] = random_state
    return array_form(factors, codes, **kwargs)


@pytest.mark.parametrize("predictor", ["logistic_regression", "boosted_trees"])
def test_downstream_task_array_form_equals_each_size_of_the_dataset_form(predictor):
    sizes, n_test = (20, 60), 50
    score, details = downstream_task_score(representation, DATASET, predictor=predictor,
                                           train_sizes=sizes, n_test=n_test, random_state=2,
                                           return_details=True)
    rng = np.random.RandomState(2)
    for row, size in enumerate(sizes):
        factors = np.vstack([DATASET.sample_factors(n, rng) for n in (size, n_test)])
        one, one_details = downstream_task(factors, representation(factors.astype(np.float32)),
                                           predictor=predictor, test_size=n_test,
                                           random_state=rng, return_details=True)
        np.testing.assert_array_equal(details["test_accuracy"][row], one_details["test_accuracy"])
        np.testing.assert_array_equal(details["train_accuracy"][row],
                                      one_details["train_accuracy"])
        assert details[f"{size}:mean_test_accuracy"] == one
    assert score == one  # the score is the last size's mean test accuracy


def test_discrete_factor_values_need_not_be_indices():
    factors, codes, _ = draw([200], 1)
    values = np.array([0.0, 0.25, 0.5, 0.75, 1.0])[factors.astype(int)] * 3 - 7.5
    for metric in (mig, modularity, irs, dci, explicitness, sap, downstream_task):
        assert call(metric, values, codes, 0) == call(metric, factors, codes, 0), metric


def test_one_dimensional_inputs_are_one_column():
    factors, codes, _ = draw([300], 0)
    assert mig(factors[:, 1], codes[:, 3]) == mig(factors[:, 1:2], codes[:, 3:])


def test_continuous_factors_are_binned_like_the_codes():
    rng = np.random.RandomState(0)
    values = rng.uniform(-1, 1, size=(2000, 2))
    codes = values[:, ::-1] * [2.0, -3.0]
    # The codes are the factors rescaled: binned alike, each code's mutual information with
    # its factor is the factor's entropy (about log 20 nats).
    _, details = mig(values, codes, continuous_factors=True, return_details=True)
    np.testing.assert_allclose(details["mutual_info"][[1, 0], [0, 1]], details["factor_entropy"],
                               rtol=1e-3)
    assert details["factor_entropy"] == pytest.approx([np.log(20)] * 2, abs=0.01)
    with pytest.raises(ValueError, match="continuous_factors must be a bool or 2 bools"):
        mig(values, codes, continuous_factors=[True])


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"test_size": 0}, "leaves 10 training and 0 test rows"),
    ({"test_size": 9}, "leaves 1 training and 9 test rows"),
    ({"test_size": 1.5}, "test_size must be an int >= 1, a float in"),
    ({"protocol": "paper", "test_size": 3}, "test_size is not used by protocol='paper'"),
    ({"protocol": "other"}, "protocol must be 'community' or 'paper'"),
])
def test_bad_split_raises(kwargs, message):
    factors, codes, _ = draw([10], 0)
    with pytest.raises(ValueError, match=message):
        explicitness(factors, codes, **kwargs)


@pytest.mark.parametrize("metric", [mig, modularity, irs, dci, sap, explicitness,
                                    downstream_task])
def test_bad_arrays_raise(metric):
    factors, codes, _ = draw([30], 0)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        metric(factors, codes[:20])
    bad = codes.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match=f"{metric.__name__}: codes contains NaN"):
        metric(factors, bad)
    with pytest.raises(ValueError, match="none of the 4 factor column"):
        metric(np.ones((30, 4)), codes)


# --- IRS ----------------------------------------------------------------------------------

def test_irs_by_hand():
    factors = np.array([0, 0, 1, 1])
    robust = np.array([-0.1, 0.1, 0.9, 1.1])  # follows the factor, +-0.1 within a value
    nuisance = np.array([0.0, 1.0, 0.0, 1.0])  # ignores it
    constant = np.full(4, 2.0)
    # robust: w = 0.6, deviation 0.1 in both groups: 1 - 0.1 / 0.6 = 5/6.
    assert irs(factors, robust) == pytest.approx(5 / 6)
    # nuisance: w = 0.5, deviation 0.5: 0. The constant code is dropped. Weighted by w.
    score, details = irs(factors, np.stack([robust, nuisance, constant], axis=1),
                         return_details=True)
    assert score == pytest.approx((0.6 * 5 / 6 + 0.5 * 0.0) / 1.1)
    np.testing.assert_array_equal(details["active_codes"], [0, 1])
    np.testing.assert_allclose(details["max_deviations"], [0.6, 0.5])
    assert irs(factors, constant) == 0.0


def test_irs_quantile_and_bins():
    rng = np.random.RandomState(0)
    factors = rng.randint(30, size=2000)
    codes = factors + rng.normal(scale=0.5, size=2000)
    # Quantile 1 is the largest deviation, so the score can only drop.
    assert irs(factors, codes, diff_quantile=1.0) < irs(factors, codes)
    # 30 values share 20 bins, whose spread adds to the deviation; exact values do not.
    assert irs(factors, codes, n_bins=None) > irs(factors, codes, n_bins=20)
    with pytest.raises(ValueError, match="diff_quantile must be in"):
        irs(factors, codes, diff_quantile=99)


def test_irs_perfect_representation_is_one():
    assert irs_score(lambda x: x[:, 1:] * [1, -2, 3], DATASET, n_train=500,
                     random_state=0) == pytest.approx(1.0)


# --- downstream task ----------------------------------------------------------------------

def test_downstream_task_perfect_and_chance():
    rng = np.random.RandomState(0)
    factors = rng.randint(3, size=(900, 2))
    assert downstream_task(factors, factors[:, ::-1] * 5.0, predictor="boosted_trees") == 1.0
    chance = downstream_task(factors, rng.normal(size=(900, 2)), test_size=600,
                             predictor="boosted_trees", random_state=0)
    assert abs(chance - 1 / 3) < 0.08


def test_downstream_task_details_and_sample_efficiency():
    _, details = downstream_task_score(lambda x: x[:, 1:], DATASET, train_sizes=(100, 10_000),
                                       n_test=50, predictor="boosted_trees",
                                       random_state=0, return_details=True)
    np.testing.assert_array_equal(details["train_sizes"], [100, 10_000])
    assert details["test_accuracy"].shape == (2, 3)
    assert details["sample_efficiency"] == pytest.approx(
        details["100:mean_test_accuracy"] / details["10000:mean_test_accuracy"])
    with pytest.raises(ValueError, match="predictor must be one of"):
        downstream_task_score(lambda x: x, DATASET, predictor="svm")


@pytest.mark.parametrize(("metric", "key"), [(dci, "importance_matrix"),
                                              (downstream_task, "test_accuracy")])
def test_n_jobs_gives_identical_values(metric, key):
    factors, codes, _ = draw([300], 0)
    serial = metric(factors, codes, random_state=0, return_details=True)
    with joblib.parallel_config(backend="threading"):  # no process start-up in a test
        parallel = metric(factors, codes, random_state=0, n_jobs=2, return_details=True)
    assert serial[0] == parallel[0]
    np.testing.assert_array_equal(serial[1][key], parallel[1][key])


@pytest.mark.parametrize(("name", "kwargs"), [
    ("irs", {"n_train": 300}),
    ("downstream_task", {"train_sizes": (50,), "n_test": 50}),
])
def test_scorer_knows_the_new_metrics(name, kwargs):
    scorer = make_disentanglement_scorer(name, DATASET, random_state=0, **kwargs)

    class Model:
        def transform(self, x):
            return x[:, 1:]

    assert scorer(Model()) > 0.9


def test_mutual_information_is_scikit_learns_to_the_last_bit():
    from sklearn.metrics import mutual_info_score

    from disentangle.metrics._information import entropy_of_columns, mutual_info_table

    rng = np.random.RandomState(0)
    for n, n_values, n_bins in [(2, 2, 2), (50, 1, 5), (3000, 40, 20), (777, 7, 3)]:
        labels = rng.randint(n_values, size=(n, 3)) * 3 - 5
        bins = rng.randint(n_bins, size=(n, 4))
        expected = [[mutual_info_score(labels[:, k], bins[:, c]) for k in range(3)]
                    for c in range(4)]
        np.testing.assert_array_equal(mutual_info_table(bins, labels), expected)
        np.testing.assert_array_equal(entropy_of_columns(labels),
                                      [mutual_info_score(x, x) for x in labels.T])


def test_explicitness_auc_is_roc_auc_score_with_ties():
    from sklearn.metrics import roc_auc_score

    from disentangle.metrics._explicitness import binary_auc

    rng = np.random.RandomState(0)
    for n, decimals in [(2, 1), (40, 1), (500, 2), (3000, 8)]:
        positive = np.arange(n) % 3 == 0
        scores = np.round(rng.rand(n) + 0.3 * positive, decimals)  # ties at 1-2 decimals
        assert binary_auc(positive, scores) == pytest.approx(roc_auc_score(positive, scores),
                                                             abs=1e-14)


def test_downstream_task_factor_constant_in_training_predicts_its_value():
    factors = np.column_stack([np.r_[np.zeros(10), np.zeros(6), np.ones(4)],
                               np.arange(20) % 2])
    codes = np.column_stack([np.arange(20.0), (np.arange(20) % 2) * 3.0])
    score, details = downstream_task(factors, codes, test_size=10, random_state=0,
                                     predictor="boosted_trees", return_details=True)
    np.testing.assert_array_equal(details["factor_columns"], [0, 1])
    # Factor 0 is 0 in all 10 training rows: predicting 0 is right on 6 of the 10 test rows.
    np.testing.assert_array_equal(details["test_accuracy"], [0.6, 1.0])
    assert score == pytest.approx(0.8)
