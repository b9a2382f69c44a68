"""Objects that follow a ground-truth protocol without subclassing GroundTruthDataset."""

import pickle

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV

from disentangle.datasets import DatasetAdapter, DSprites, as_ground_truth_dataset
from disentangle.metrics import (
    dci_score,
    factor_vae_score,
    make_disentanglement_scorer,
    mig_score,
    sap_score,
)
from tests._datasets import FactorDataset


class DuckDataset:
    """This package's protocol under its own names, no subclassing."""

    def __init__(self, inner):
        self.inner = inner
        self.factor_sizes = inner.factor_sizes

    def sample_factors(self, n, random_state):
        return self.inner.sample_factors(n, random_state)

    def sample_observations_from_factors(self, factors, random_state):
        return self.inner.sample_observations_from_factors(factors, random_state)


class DlibDataset:
    """disentanglement_lib's GroundTruthData protocol: channel-last images, RandomState only."""

    def __init__(self, inner):
        self.inner = inner
        self.num_factors = len(inner.factor_sizes)
        self.factors_num_values = list(inner.factor_sizes)
        self.observation_shape = [64, 64, 1]

    def sample_factors(self, num, random_state):
        assert isinstance(random_state, np.random.RandomState)
        return self.inner.sample_factors(num, random_state)

    def sample_observations_from_factors(self, factors, random_state):
        assert isinstance(random_state, np.random.RandomState)
        images = self.inner.sample_observations_from_factors(factors, random_state)
        return np.moveaxis(images, 1, -1).astype(np.float64)


class AbstractDlib:
    """disentanglement_lib's base class: abstract properties raise NotImplementedError."""

    @property
    def num_factors(self):
        raise NotImplementedError()

    def sample_factors(self, num, random_state):
        raise NotImplementedError()


def sprite_features(observations):
    """A representation of (n, 1, 64, 64) images: mass and centroid (fails on other layouts)."""
    observations = np.asarray(observations)
    assert observations.shape[1:] == (1, 64, 64)
    images = observations[:, 0]
    mass = images.sum(axis=(1, 2)) + 1e-6
    grid = np.arange(64)
    rows = (images.sum(axis=2) * grid).sum(axis=1) / mass
    cols = (images.sum(axis=1) * grid).sum(axis=1) / mass
    return np.stack([mass, rows, cols], axis=1)


class SmallSprites(DSprites):
    factor_sizes = (3, 2, 2, 8, 8)


@pytest.fixture(scope="module")
def sprites(tmp_path_factory):
    return SmallSprites(data_home=tmp_path_factory.mktemp("home"))


@pytest.mark.parametrize("metric", [mig_score, sap_score, dci_score, factor_vae_score])
def test_duck_and_dlib_objects_score_like_the_subclass(sprites, metric):
    kwargs = {"random_state": 0, "n_train": 400} if metric is not factor_vae_score else {
        "random_state": 0, "n_train": 200, "n_eval": 100, "n_variance": 400}
    if metric is dci_score:
        kwargs["n_test"] = 200
    reference = metric(sprite_features, sprites, **kwargs)
    assert metric(sprite_features, DuckDataset(sprites), **kwargs) == reference
    assert metric(sprite_features, DlibDataset(sprites), **kwargs) == reference


def test_adapter_reports_the_protocol_and_moves_the_channel_axis(sprites):
    adapter = as_ground_truth_dataset(DlibDataset(sprites))
    assert isinstance(adapter, DatasetAdapter)
    assert adapter.protocol == "disentanglement_lib"
    assert adapter.observation_shape == (1, 64, 64)
    assert adapter.factor_sizes == sprites.factor_sizes
    assert adapter.factor_names == tuple(f"factor{k}" for k in range(5))
    factors = adapter.sample_factors(5, random_state=1)
    np.testing.assert_array_equal(factors, sprites.sample_factors(5, random_state=1))
    np.testing.assert_array_equal(adapter.sample_observations_from_factors(factors),
                                  sprites.sample_observations_from_factors(factors))
    duck = as_ground_truth_dataset(DuckDataset(sprites))
    assert duck.protocol == "disentangle"
    assert as_ground_truth_dataset(sprites) is sprites


@pytest.mark.parametrize("obj, missing", [
    (np.zeros((10, 4)), "factor_sizes, sample_factors, sample_observations_from_factors"),
    (AbstractDlib(), "num_factors, factors_num_values, observation_shape, sample_observations"),
])
def test_missing_parts_are_one_type_error_naming_them(obj, missing):
    with pytest.raises(TypeError, match=f"which lacks.*{missing}"):
        mig_score(sprite_features, obj)
    with pytest.raises(TypeError, match=f"which lacks.*{missing}"):
        make_disentanglement_scorer("mig", obj)


def test_partial_duck_object_names_what_is_missing():
    class Partial:
        factor_sizes = (3, 4)

        def sample_factors(self, n, random_state):
            return np.zeros((n, 2), dtype=int)

    with pytest.raises(TypeError, match=r"got Partial, which lacks sample_observations_from_f"):
        factor_vae_score(sprite_features, Partial())
    with pytest.raises(TypeError, match="an instance"):
        mig_score(sprite_features, SmallSprites)


def test_grid_search_with_a_duck_dataset_scores_like_the_subclass():
    data = FactorDataset((4, 5, 3), n_noise=3)
    X = data.sample(300, random_state=0)[1]
    grid = {"n_components": [1, 3]}
    scores = {}
    for name, dataset in (("subclass", data), ("duck", DuckDataset(data))):
        scorer = make_disentanglement_scorer("mig", dataset, random_state=0, n_train=300)
        search = GridSearchCV(PCA(), grid, scoring=scorer, cv=2, error_score="raise").fit(X)
        scores[name] = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores["duck"]))
    np.testing.assert_array_equal(scores["duck"], scores["subclass"])
    # A broken object is refused when the scorer is made: GridSearchCV never sees it.
    with pytest.raises(TypeError, match="lacks sample_factors"):
        make_disentanglement_scorer("mig", type("Sizes", (), {"factor_sizes": (2,)})())


def test_scorer_with_adapter_pickles(sprites):
    scorer = make_disentanglement_scorer("mig", DuckDataset(sprites), random_state=0)
    clone = pickle.loads(pickle.dumps(scorer))
    assert clone.dataset.factor_sizes == sprites.factor_sizes
