"""Tests of disentangle.metrics.make_disentanglement_scorer inside scikit-learn model selection."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate

from disentangle.datasets import GroundTruthDataset
from disentangle.metrics import (
    dci_score,
    gaussian_total_correlation,
    make_disentanglement_scorer,
    mig_score,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class Grid(GroundTruthDataset):
    """Three factors of 4 values; the observation is the factor values as floats."""

    factor_names = ("a", "b", "c")
    factor_sizes = (4, 4, 4)
    observation_shape = (3,)

    def sample_observations_from_factors(self, factors, random_state=None):
        return np.asarray(factors, dtype=np.float32)


class Rotator(TransformerMixin, BaseEstimator):
    """A dummy "model": codes rotate factors a and b by ``angle`` (0 = disentangled)."""

    def __init__(self, angle=0.0):
        self.angle = angle

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        X = np.asarray(X, dtype=np.float64)
        cos, sin = np.cos(self.angle), np.sin(self.angle)
        return np.column_stack([cos * X[:, 0] - sin * X[:, 1],
                                sin * X[:, 0] + cos * X[:, 1], X[:, 2]])


X = np.zeros((12, 3))  # the data the model selection splits; the scorer ignores it


def test_scorer_equals_the_metric_and_ignores_x():
    dataset = Grid()
    scorer = make_disentanglement_scorer("mig", dataset, n_train=500, random_state=0)
    model = Rotator(0.3).fit(X)
    expected = mig_score(model, dataset, n_train=500, random_state=0)
    assert scorer(model, X) == expected
    assert scorer(model, np.ones((3, 7)), np.arange(3)) == expected
    assert "mig_score" in repr(scorer)


def test_grid_search_picks_the_disentangled_model():
    scorer = make_disentanglement_scorer("mig_score", Grid(), n_train=500, random_state=0)
    search = GridSearchCV(Rotator(), {"angle": [0.0, 0.4, np.pi / 4]}, scoring=scorer, cv=3)
    search.fit(X)
    assert search.best_params_ == {"angle": 0.0}
    scores = search.cv_results_["mean_test_score"]
    assert scores[0] > max(scores[1:]) + 0.3


def test_cross_validate_with_several_metrics():
    dataset = Grid()
    scoring = {
        "mig": make_disentanglement_scorer("mig", dataset, n_train=400, random_state=0),
        "dci": make_disentanglement_scorer(dci_score, dataset, protocol="paper", n_train=400,
                                           random_state=0),
        "tc": make_disentanglement_scorer("gaussian_total_correlation", dataset,
                                          n_train=400, random_state=0),
        "beta_vae": make_disentanglement_scorer("beta_vae", dataset, protocol="paper",
                                                n_train=60, batch_size=5, random_state=0),
    }
    result = cross_validate(Rotator(0.5), X, scoring=scoring, cv=2)
    for name in scoring:
        assert np.all(np.isfinite(result[f"test_{name}"]))
    # Total correlation: lower is better, so the scorer returns its negative.
    tc = gaussian_total_correlation(Rotator(0.5), dataset, n_train=400, random_state=0)
    np.testing.assert_allclose(result["test_tc"], -tc)
    assert tc > 0
    assert np.all(cross_val_score(Rotator(), X, scoring=scoring["mig"], cv=2) > 0.9)


def test_scorer_validation():
    with pytest.raises(ValueError, match="unknown metric"):
        make_disentanglement_scorer("kim", Grid())
    with pytest.raises(TypeError, match="does not accept"):
        make_disentanglement_scorer("mig", Grid(), n_votes=3)
    with pytest.raises(TypeError, match="name or a callable"):
        make_disentanglement_scorer(3, Grid())
    with pytest.raises(TypeError, match="dataset must be a ground-truth dataset.*got ndarray"):
        make_disentanglement_scorer("mig", np.zeros((10, 3)))


def test_scorer_of_a_custom_function():
    def first_code_variance(representation, dataset, *, random_state=None):
        factors = dataset.sample_factors(100, np.random.RandomState(random_state))
        observations = dataset.sample_observations_from_factors(factors)
        return float(np.var(representation.transform(observations)[:, 0]))

    scorer = make_disentanglement_scorer(first_code_variance, Grid(), random_state=1)
    assert scorer(Rotator(), X) > 0
