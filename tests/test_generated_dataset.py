"""Tests of disentangle.datasets.GeneratedDataset: a fitted model as a ground-truth dataset."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils import check_random_state

from disentangle import InfoGANCR
from disentangle.datasets import GeneratedDataset
from disentangle.metrics import factor_vae_score


class Rendered(BaseEstimator):
    """Observations = [codes, noise], with the noise in the last columns; transform reads codes."""

    def __init__(self, n_codes=3, n_noise=2, prior="uniform"):
        self.n_codes = n_codes
        self.n_noise = n_noise
        self.prior = prior

    def fit(self, X=None, y=None):
        self.n_codes_, self.n_latent_ = self.n_codes, self.n_codes + self.n_noise
        return self

    def sample_latent(self, n_samples, random_state=None):
        rng = check_random_state(random_state)
        if self.prior == "normal":
            return rng.standard_normal((n_samples, self.n_latent_)).astype(np.float32)
        return rng.uniform(-1, 1, (n_samples, self.n_latent_)).astype(np.float32)

    def generate(self, latents):
        return np.asarray(latents, dtype=np.float32) * 2.0

    def transform(self, X):
        return X[:, : self.n_codes_] / 2.0


def test_factors_are_the_codes_and_noise_is_redrawn():
    model = Rendered().fit()
    data = GeneratedDataset(model)
    assert data.n_factors == 3 and data.factor_sizes == (None, None, None)
    assert data.factor_names == ("code0", "code1", "code2")
    assert data.observation_shape == (5,)
    factors = data.sample_factors(4000, random_state=0)
    assert factors.shape == (4000, 3)
    # The prior's codes: U(-1, 1), and exactly the first columns of sample_latent.
    np.testing.assert_array_equal(factors, model.sample_latent(4000, 0)[:, :3])
    assert abs(factors.var() - 1 / 3) < 0.02
    fixed = np.repeat(factors[:1], 50, axis=0)
    obs = data.sample_observations_from_factors(fixed, random_state=1)
    np.testing.assert_allclose(obs[:, :3], 2 * fixed)  # codes rendered as given
    assert np.unique(obs[:, 3]).size == 50  # noise redrawn for every observation


def test_random_state_reproducible_and_sample():
    data = GeneratedDataset(Rendered().fit())
    a = data.sample(10, random_state=3)
    b = data.sample(10, random_state=3)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert a[1].dtype == np.float32 and a[1].shape == (10, 5)


@pytest.mark.parametrize("protocol", ["paper", "community"])
def test_model_scores_one_on_its_own_data(protocol):
    model = Rendered().fit()
    small = {"batch_size": 20, "n_train": 60, "n_variance": 1000}
    if protocol == "community":
        small["n_eval"] = 60
    assert factor_vae_score(model, GeneratedDataset(model), protocol=protocol,
                            random_state=0, **small) == 1.0


def test_vae_like_all_latents_are_codes():
    model = Rendered(n_codes=4, n_noise=0, prior="normal").fit()
    data = GeneratedDataset(model)
    assert data.n_factors == 4
    factors = data.sample_factors(5000, 0)
    assert abs(factors.std() - 1) < 0.03  # N(0, 1) prior
    score = factor_vae_score(model, data, protocol="paper", random_state=0, batch_size=20,
                             n_train=80, n_variance=1000)
    assert score == 1.0


def test_fewer_codes_than_factors_scores_between():
    """A 2-code encoder on 3-code data reads two factors of three (n_codes != n_factors)."""
    encoder = Rendered(n_codes=2, n_noise=3).fit()
    data = GeneratedDataset(Rendered(n_codes=3).fit())
    score = factor_vae_score(encoder, data, protocol="paper", random_state=0, batch_size=20,
                             n_train=90, n_variance=1000)
    assert score == pytest.approx(2 / 3, abs=0.12)


def test_errors():
    with pytest.raises(NotFittedError):
        GeneratedDataset(Rendered())
    with pytest.raises(TypeError, match="sample_latent"):
        GeneratedDataset(object())
    data = GeneratedDataset(Rendered().fit())
    with pytest.raises(ValueError, match="shape"):
        data.sample_observations_from_factors(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        data.sample_observations_from_factors(np.full((3, 3), np.nan))


def test_infogan_cr_generated_dataset():
    images = (np.random.RandomState(0).rand(64, 64, 64) > 0.8).astype(np.uint8)
    model = InfoGANCR(max_iter=1, batch_size=32, random_state=0, device="cpu").fit(images)
    data = GeneratedDataset(model)
    assert data.n_factors == 5 and data.observation_shape == (1, 64, 64)
    factors, obs = data.sample(8, random_state=0)
    assert factors.shape == (8, 5) and np.all(np.abs(factors) <= 1)
    assert obs.shape == (8, 1, 64, 64) and 0 <= obs.min() and obs.max() <= 1
    score = factor_vae_score(model, data, protocol="paper", random_state=0, batch_size=10,
                             n_train=10, n_variance=200)
    assert 0 <= score <= 1
