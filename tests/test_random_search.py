"""RandomizedModelCentralitySelector: candidates drawn as RandomizedSearchCV draws them."""

import numpy as np
import pytest
from scipy.stats import loguniform, uniform
from sklearn.base import clone
from sklearn.model_selection import ParameterSampler
from test_selection import SMALL, Linear, select

from disentangle._compat import InvalidParameterError
from disentangle.selection import RandomizedModelCentralitySelector

#: Three agreeing column orders and a rotation angle from a continuous distribution.
DISTRIBUTIONS = {"columns": [(0, 1, 2), (2, 0, 1), (1, 2, 0)], "angle": uniform(0, np.pi / 4)}


def search(X, distributions=DISTRIBUTIONS, n_iter=4, random_state=0, **kwargs):
    return RandomizedModelCentralitySelector(
        Linear(), distributions, n_iter=n_iter, random_state=random_state,
        similarity_params=SMALL, **kwargs).fit(X)


@pytest.fixture(scope="module")
def X():
    return np.random.RandomState(0).uniform(-1, 1, (500, 6))


def test_candidates_are_parameter_samplers_draws_and_ranked_as_by_the_grid_selector(X):
    fitted = search(X)
    drawn = list(ParameterSampler(DISTRIBUTIONS, 4, random_state=0))
    assert fitted.cv_results_["params"] == drawn and fitted.n_candidates_ == 4
    angles = fitted.cv_results_["param_angle"]
    assert len(set(angles)) == 4 and np.all((angles >= 0) & (angles <= np.pi / 4))
    # The same candidates given as a grid: the same centralities, ranks and medoid.
    grid = select(X, [{name: [value] for name, value in params.items()} for params in drawn])
    assert set(fitted.cv_results_) == set(grid.cv_results_)
    np.testing.assert_array_equal(fitted.cv_results_["centrality"],
                                  grid.cv_results_["centrality"])
    assert fitted.best_index_ == grid.best_index_


def test_seeded_search_repeats_and_another_seed_draws_other_candidates(X):
    first, again = search(X, n_iter=3), search(X, n_iter=3)
    assert first.cv_results_["params"] == again.cv_results_["params"]
    np.testing.assert_array_equal(first.similarity_matrix_, again.similarity_matrix_)
    other = search(X, n_iter=3, random_state=1)
    assert other.cv_results_["params"] != first.cv_results_["params"]


def test_log_uniform_distribution_and_clone(X):
    selector = RandomizedModelCentralitySelector(
        Linear(), {"angle": loguniform(1e-3, 1.0)}, n_iter=3, random_state=0)
    params = clone(selector).get_params(deep=False)
    assert params["n_iter"] == 3 and set(params["param_distributions"]) == {"angle"}
    assert "param_grid" not in params
    angles = selector.set_params(similarity_params=SMALL).fit(X).cv_results_["param_angle"]
    assert np.all((angles >= 1e-3) & (angles <= 1.0))


def test_too_few_candidates_say_which_parameter(X):
    with pytest.raises(ValueError, match="at least 2 candidates to compare; n_iter gives 1"):
        search(X, n_iter=1)
    with pytest.raises(InvalidParameterError, match="'n_iter' parameter"):
        search(X, n_iter=0)
    with pytest.raises(InvalidParameterError, match="'param_distributions' parameter"):
        search(X, distributions="angle")
