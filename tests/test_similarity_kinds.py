"""The table of similarity kinds: one entry is all a new kind takes (issue 27, item 1)."""

import numpy as np
import pytest

from disentangle import VAE
from disentangle.metrics import pairwise_similarity as metrics_pairwise_similarity
from disentangle.selection import (
    SIMILARITY_DEFAULTS,
    SIMILARITY_KINDS,
    ModelCentralitySelector,
    SampledRows,
    SimilarityKind,
    centrality,
    mean_symmetrised,
    model_centrality,
    pairwise_similarity,
)


class Linear:
    """A fitted 'model' whose codes are ``X @ weights`` (no scikit-learn base class needed)."""

    def __init__(self, weights):
        self.weights = np.asarray(weights, dtype=np.float64)

    def transform(self, X):
        return np.asarray(X, dtype=np.float64) @ self.weights


def codes(model, observations, params):
    """The toy kind's representation: the model's codes of the sample."""
    return (model.transform(observations),)


def one_minus_mean_abs_difference(i, params, *arrays):
    """Entry ``[i, j]`` = 1 - mean |codes_i - codes_j| over the sample and the codes."""
    return np.array([1 - np.abs(arrays[i] - other).mean() for other in arrays])


def check_toy(params):
    if params["n_samples"] < 1:
        raise ValueError(f"n_samples must be >= 1; got {params['n_samples']}.")


TOY = SimilarityKind(
    defaults={"n_samples": 4}, check=check_toy,
    plan=SampledRows(codes, one_minus_mean_abs_difference), centrality=mean_symmetrised,
    entry="1 - the mean absolute difference of model i's and model j's codes on one sample",
    source="a toy kind for the tests")

X = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
#: Codes X @ w: a = X[:, 0], b = X[:, 0] / 2, c = X[:, 1].
MODELS = [Linear([[1.0], [0.0]]), Linear([[0.5], [0.0]]), Linear([[0.0], [1.0]])]
#: By hand: |a - b| = (0, .5, 0, .5) mean .25; |a - c| = (0, 1, 1, 0) mean .5;
#: |b - c| = (0, .5, 1, .5) mean .5.
EXPECTED = np.array([[1.0, 0.75, 0.5], [0.75, 1.0, 0.5], [0.5, 0.5, 1.0]])


@pytest.fixture
def toy_kind(monkeypatch):
    """The toy kind added to the table, for this test only."""
    monkeypatch.setitem(SIMILARITY_KINDS, "toy", TOY)


def test_one_table_entry_makes_a_kind_everywhere(toy_kind):
    assert SIMILARITY_DEFAULTS["toy"] == {"n_samples": 4}
    pairwise = pairwise_similarity(MODELS, X, similarity="toy")
    np.testing.assert_allclose(pairwise, EXPECTED)
    np.testing.assert_allclose(metrics_pairwise_similarity(MODELS, X, similarity="toy"),
                               EXPECTED)
    # Centrality: mean of the symmetrised matrix over the other models, by hand.
    expected_centrality = [(0.75 + 0.5) / 2, (0.75 + 0.5) / 2, 0.5]
    values, matrix = model_centrality(MODELS, X, similarity="toy")
    np.testing.assert_allclose(values, expected_centrality)
    np.testing.assert_allclose(centrality(matrix, "toy"), expected_centrality)
    details = pairwise_similarity(MODELS, X, similarity="toy", return_details=True)
    assert details.replicates is None and details.encoded.tolist() == [4, 4, 4]


def test_the_kinds_checks_and_needs_come_from_its_entry(toy_kind):
    with pytest.raises(ValueError, match="n_samples must be >= 1; got 0"):
        pairwise_similarity(MODELS, X, similarity="toy", similarity_params={"n_samples": 0})
    with pytest.raises(ValueError, match=r"Unknown similarity_params \['alpha'\]"):
        pairwise_similarity(MODELS, X, similarity="toy", similarity_params={"alpha": 1})
    with pytest.raises(ValueError, match="'toy' encodes observations: pass X"):
        pairwise_similarity(MODELS, similarity="toy")
    with pytest.raises(ValueError, match="a row at a time"):
        pairwise_similarity(MODELS, X, similarity="toy", columns=[0])


def test_a_kind_not_in_the_table_is_refused():
    with pytest.raises(ValueError, match="similarity must be one of .*'factor_vae'.*; got 'toy'"):
        pairwise_similarity(MODELS, X, similarity="toy")
    with pytest.raises(ValueError, match="SIMILARITY_KINDS"):
        ModelCentralitySelector(VAE(), {"beta": [1, 2]}, similarity="toy").fit(X)
    with pytest.raises(ValueError, match="similarity must be one of"):
        centrality(EXPECTED, "toy")


def test_centrality_of_a_matrix_by_hand():
    pairwise = np.array([[1.0, 0.2, 0.4], [0.6, 1.0, 0.8], [0.0, 0.4, 1.0]])
    # factor_vae: mean over j != i of (P + P.T) / 2.
    np.testing.assert_allclose(centrality(pairwise), [(0.4 + 0.2) / 2, (0.4 + 0.6) / 2,
                                                      (0.2 + 0.6) / 2])
    # UDR: median over j != i of P[j, i] (two others: their mean).
    np.testing.assert_allclose(centrality(pairwise, "udr_lasso"), [0.3, 0.3, 0.6])
    np.testing.assert_allclose(centrality(pairwise, alive=[True, True, False]),
                               [0.4, 0.4, np.nan])
    with pytest.raises(ValueError, match="square"):
        centrality(pairwise[:2])
