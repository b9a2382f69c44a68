"""The ground-truth dataset protocol shared by every dataset and every metric.

A ground-truth dataset is a renderer from discrete (or continuous) ground-truth
factors to observations, as in ``disentanglement_lib.data.ground_truth``
(Locatello et al. 2019): metrics draw factors with :meth:`sample_factors` and
turn them into observations with :meth:`sample_observations_from_factors`.
"""

from abc import ABC, abstractmethod

import numpy as np
from sklearn.utils import check_random_state


class GroundTruthDataset(ABC):
    """Abstract base class of datasets with known ground-truth factors of variation.

    Subclasses set ``factor_names`` (tuple of str), ``factor_sizes`` (tuple of
    int, the number of values of each factor) and ``observation_shape`` (tuple
    of int, the shape of one observation) and implement
    :meth:`sample_observations_from_factors`.

    Raises
    ------
    TypeError
        On instantiating the class itself or a subclass that does not
        implement :meth:`sample_observations_from_factors`.
    """

    factor_names: tuple = ()
    factor_sizes: tuple = ()
    observation_shape: tuple = ()

    @property
    def n_factors(self):
        """int: Number of ground-truth factors."""
        return len(self.factor_sizes)

    def sample_factors(self, n, random_state=None):
        """Draw factor indices uniformly and independently.

        Parameters
        ----------
        n : int
            Number of factor vectors, ``n >= 0``.
        random_state : int, RandomState instance or None, default=None
            Seed or generator, as in scikit-learn.

        Returns
        -------
        factors : ndarray of shape (n, n_factors), dtype int64
            Column ``k`` holds values in ``[0, factor_sizes[k])``.

        Raises
        ------
        TypeError
            If the subclass sets no ``factor_sizes``.
        """
        if not self.factor_sizes:
            raise TypeError(
                f"{type(self).__name__} has no factors: a GroundTruthDataset subclass must set "
                "factor_sizes (and factor_names, observation_shape)."
            )
        rng = check_random_state(random_state)
        columns = [rng.randint(size, size=n) for size in self.factor_sizes]
        return np.stack(columns, axis=1).astype(np.int64).reshape(n, self.n_factors)

    @abstractmethod
    def sample_observations_from_factors(self, factors, random_state=None):
        """Observations for the given factors; implemented by subclasses.

        Parameters
        ----------
        factors : array-like of shape (n, n_factors)
        random_state : int, RandomState instance or None, default=None
            Used by datasets whose observations are random given the factors.

        Returns
        -------
        observations : ndarray of shape (n, *observation_shape), dtype float32
        """
        raise NotImplementedError

    def checked_observations(self, factors, random_state=None):
        """:meth:`sample_observations_from_factors`, checked: one observation per factor row.

        Raises
        ------
        ValueError
            The subclass returned another number of observations, or
            observations of another shape than ``observation_shape``.
        """
        observations = np.asarray(self.sample_observations_from_factors(factors, random_state))
        expected = (len(factors), *(tuple(self.observation_shape) or observations.shape[1:]))
        if observations.shape != expected:
            raise ValueError(
                f"{type(self).__name__}.sample_observations_from_factors returned observations "
                f"of shape {observations.shape} for {len(factors)} factor rows; expected "
                f"{expected} (one observation of observation_shape per row)."
            )
        return observations

    def sample(self, n, random_state=None):
        """Draw ``n`` factor vectors and their observations.

        Returns
        -------
        factors : ndarray of shape (n, n_factors)
        observations : ndarray of shape (n, *observation_shape), dtype float32
        """
        rng = check_random_state(random_state)
        factors = self.sample_factors(n, rng)
        return factors, self.sample_observations_from_factors(factors, rng)
