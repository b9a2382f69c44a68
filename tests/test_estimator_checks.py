"""scikit-learn's estimator checks, tags, determinism and pandas output (issue 6, parts 3 and 7).

The checks feed small random tables, which the estimators read as tables of
features (fully-connected networks), so every check applies. Every check
passes: no ``expected_failed_checks`` are needed.
"""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from disentangle import VAE, InfoGANCR, ModelCentralitySelector
from disentangle.selection import RandomizedModelCentralitySelector

TINY = dict(max_iter=2, batch_size=8, device="cpu")

#: A tiny configuration of each estimator and objective, the CR term on from the start.
ESTIMATORS = [
    InfoGANCR(cr_start=1, **TINY),
    VAE(**TINY),
    VAE(objective="factor", **TINY),
    VAE(objective="beta_tc", tc_estimator="mss", **TINY),
]

#: Checks that scikit-learn runs on its own estimators only (not in ``parametrize_with_checks``).
EXTRA_CHECKS = [
    "check_param_validation",
    "check_dataframe_column_names_consistency",
    "check_transformer_get_feature_names_out",
    "check_transformer_get_feature_names_out_pandas",
    "check_get_feature_names_out_error",
    "check_set_output_transform",
    "check_set_output_transform_pandas",
    "check_global_output_transform_pandas",
    "check_requires_y_none",
]



@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", EXTRA_CHECKS)
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: repr(e).replace(" ", ""))
def test_sklearn_checks_for_builtin_estimators(estimator, name):
    if "pandas" in name:
        pytest.importorskip("pandas")
    getattr(estimator_checks, name)(type(estimator).__name__, clone(estimator))


# --- Tags -------------------------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", [InfoGANCR, VAE])
def test_tags_tell_the_truth(Estimator):
    tags = Estimator(device="cpu").__sklearn_tags__()
    assert not tags.non_deterministic  # seeded CPU fits are bit-identical (tested below)
    assert tags.requires_fit and not tags.target_tags.required
    assert tags.input_tags.two_d_array and tags.input_tags.three_d_array
    assert not (tags.input_tags.sparse or tags.input_tags.allow_nan or tags.input_tags.string)
    assert tags.transformer_tags.preserves_dtype == ["float32"]
    # CUDA kernels are not bit-reproducible.
    assert Estimator(device="cuda").__sklearn_tags__().non_deterministic


@pytest.mark.parametrize("Estimator", [InfoGANCR, VAE])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int64])
def test_codes_are_float32_whatever_the_input(Estimator, dtype):
    X = (np.random.RandomState(0).randn(20, 3) * 3).astype(dtype)
    assert Estimator(**TINY, random_state=0).fit_transform(X).dtype == np.float32


# --- Determinism ------------------------------------------------------------------------------


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: repr(e).replace(" ", ""))
@pytest.mark.parametrize("kind", ["table", "images"])
def test_same_seed_gives_bit_identical_codes_and_samples(estimator, kind):
    rng = np.random.RandomState(0)
    X = rng.randn(30, 5) if kind == "table" else (rng.rand(16, 32, 32) > 0.7).astype(np.uint8)
    first = clone(estimator).set_params(random_state=3, max_iter=4).fit(X)
    second = clone(estimator).set_params(random_state=3, max_iter=4).fit(X)
    np.testing.assert_array_equal(first.transform(X), second.transform(X))
    np.testing.assert_array_equal(first.sample(6, random_state=1), second.sample(6, random_state=1))
    other = clone(estimator).set_params(random_state=4, max_iter=4).fit(X)
    assert not np.array_equal(first.transform(X), other.transform(X))


# --- Output names and pandas ------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", [InfoGANCR, VAE])
def test_get_feature_names_out_names_the_codes(Estimator):
    model = Estimator(**TINY, random_state=0).fit(np.random.RandomState(0).randn(20, 3))
    n_codes = model.n_codes_
    assert list(model.get_feature_names_out()) == [f"code{k}" for k in range(n_codes)]
    assert model.get_feature_names_out().dtype == object
    assert list(model.get_feature_names_out(["a", "b", "c"])) == list(
        model.get_feature_names_out())
    with pytest.raises(ValueError, match="input_features should have length equal to"):
        model.get_feature_names_out(["a", "b"])


@pytest.mark.parametrize("Estimator", [InfoGANCR, VAE])
def test_set_output_pandas_gives_named_code_columns(Estimator):
    pd = pytest.importorskip("pandas")
    X = pd.DataFrame(np.random.RandomState(0).randn(20, 3), columns=["x", "y", "z"],
                     index=np.arange(100, 120))
    model = Estimator(**TINY, random_state=0).set_output(transform="pandas")
    codes = model.fit_transform(X)
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == [f"code{k}" for k in range(model.n_codes_)]
    assert list(codes.index) == list(X.index)
    np.testing.assert_array_equal(codes.to_numpy(), model.set_output(transform="default")
                                  .transform(X))
    with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
        model.get_feature_names_out(["a", "b", "c"])


# --- ModelCentralitySelector ------------------------------------------------------------------

#: A pool of two tiny VAEs with a cheap FactorVAE similarity.
SELECTOR = ModelCentralitySelector(
    VAE(n_latent=2, **TINY), {"random_state": [0, 1]}, random_state=0,
    similarity_params={"batch_size": 4, "votes_per_code": 2, "n_variance": 20})
#: The same pool drawn at random: two seeds from a list.
RANDOMIZED = RandomizedModelCentralitySelector(
    VAE(n_latent=2, **TINY), {"random_state": [0, 1]}, n_iter=2, random_state=0,
    similarity_params=SELECTOR.similarity_params)


#: Checks the selector fails on purpose, each with its reason.
SELECTOR_EXPECTED_FAILURES = {
    # The check wants fit to raise the TypeError of a dict in X. As GridSearchCV, the
    # selector fits every candidate and reports that all of them failed as one ValueError,
    # whose message holds the candidates' error ("X could not be read as numbers: float()
    # argument must be a string or a real number, not 'dict'"); the candidates raise it.
    "check_dtype_object": "all candidates failed: one ValueError naming their TypeError",
}


@parametrize_with_checks([SELECTOR, RANDOMIZED],
                         expected_failed_checks=lambda _: SELECTOR_EXPECTED_FAILURES)
def test_selector_is_a_sklearn_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("name", EXTRA_CHECKS)
@pytest.mark.parametrize("selector", [SELECTOR, RANDOMIZED], ids=lambda s: type(s).__name__)
def test_sklearn_checks_for_the_selector(name, selector):
    if "pandas" in name:
        pytest.importorskip("pandas")
    getattr(estimator_checks, name)(type(selector).__name__, clone(selector))


def test_selector_set_output_gives_the_medoids_code_names():
    pd = pytest.importorskip("pandas")
    X = np.random.RandomState(0).randn(30, 3)
    selector = clone(SELECTOR).set_output(transform="pandas").fit(X)
    codes = selector.transform(X)
    assert isinstance(codes, pd.DataFrame) and list(codes.columns) == ["code0", "code1"]
    np.testing.assert_array_equal(codes.to_numpy(), selector.best_estimator_.transform(X))
    np.testing.assert_array_equal(selector.get_feature_names_out(), ["code0", "code1"])
