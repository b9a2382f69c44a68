"""Small synthetic ground-truth datasets shared by the metric tests."""

import numpy as np

from disentangle.datasets import GroundTruthDataset


class FactorDataset(GroundTruthDataset):
    """Observations are the factor values themselves, then ``n_noise`` N(0, 1) columns."""

    def __init__(self, factor_sizes, n_noise=0):
        self.factor_sizes = tuple(factor_sizes)
        self.factor_names = tuple(f"f{k}" for k in range(len(factor_sizes)))
        self.n_noise = n_noise
        self.observation_shape = (len(factor_sizes) + n_noise,)

    def sample_observations_from_factors(self, factors, random_state=None):
        factors = np.asarray(factors, dtype=np.float32)
        noise = random_state.normal(size=(len(factors), self.n_noise)).astype(np.float32)
        return np.concatenate([factors, noise], axis=1)


class ContinuousDataset(FactorDataset):
    """Continuous factors drawn from U(-1, 1), as the codes of a generative model."""

    def __init__(self, n_factors):
        super().__init__((None,) * n_factors)

    def sample_factors(self, n, random_state=None):
        return random_state.uniform(-1.0, 1.0, size=(n, self.n_factors))
