"""The ground-truth dataset protocol shared by every dataset and every metric.

A ground-truth dataset is a renderer from discrete (or continuous) ground-truth
factors to observations, as in ``disentanglement_lib.data.ground_truth``
(Locatello et al. 2019): metrics draw factors with :meth:`sample_factors` and
turn them into observations with :meth:`sample_observations_from_factors`.
"""

import inspect
from abc import ABC, abstractmethod

import numpy as np
from sklearn.utils import check_random_state


class CachingMixin:
    """Attributes computed on first use that are never pickled.

    ``self._cached(key, build)`` returns ``build()`` and keeps it until the
    object is pickled: ``__getstate__`` drops every cached value (memory maps,
    decoded images, rendered sprites), so a dataset sent to a worker
    (``GridSearchCV(n_jobs=2)``, Dask, joblib hashing) carries its parameters
    and file paths, and the worker rebuilds or reopens what it uses.
    """

    def _cached(self, key, build):
        cache = self.__dict__.setdefault("_cache", {})
        if key not in cache:
            cache[key] = build()
        return cache[key]

    def __getstate__(self):
        return {name: value for name, value in self.__dict__.items() if name != "_cache"}


class GroundTruthDataset(CachingMixin, ABC):
    """Abstract base class of datasets with known ground-truth factors of variation.

    Subclasses set ``factor_names`` (tuple of str), ``factor_sizes`` (tuple of
    int, the number of values of each factor) and ``observation_shape`` (tuple
    of int, the shape of one observation) and implement
    :meth:`sample_observations_from_factors`.

    Caches (decoded images, memory maps) are dropped when the dataset is
    pickled; see :class:`CachingMixin`.

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

    def check_factors(self, factors):
        """``factors`` as an int64 array of shape (n, n_factors) within ``factor_sizes``.

        For datasets whose factors are all discrete.

        Raises
        ------
        ValueError
            Not 2-D with ``n_factors`` columns, not integers, or a value
            outside ``[0, factor_sizes[k])``.
        """
        factors = np.asarray(factors)
        if factors.ndim != 2 or factors.shape[1] != self.n_factors:
            raise ValueError(f"factors must have shape (n, {self.n_factors}), got {factors.shape}.")
        if factors.dtype.kind not in "ui":
            raise ValueError(f"factors must be integers, got dtype {factors.dtype}.")
        names = self.factor_names or tuple(f"factor{k}" for k in range(self.n_factors))
        for k, (name, size) in enumerate(zip(names, self.factor_sizes, strict=True)):
            column = factors[:, k]
            if np.any((column < 0) | (column >= size)):
                raise ValueError(f"factor {k} ({name}) must lie in [0, {size}).")
        return factors.astype(np.int64)

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


class ImageGridDataset(GroundTruthDataset):
    """A stored image for every combination of discrete factor values.

    The base of the file-backed loaders (Shapes3D, MPI3D, SmallNORB,
    Cars3D): ``images`` holds all observations as a ``(n, C, H, W)`` uint8
    memory map, and an observation is the row that :meth:`_rows` assigns to
    its factors (by default the mixed-radix number of the factors, last
    factor fastest, the order of the official files). Subclasses implement
    :meth:`_load_images`.
    """

    @property
    def images(self):
        """ndarray of shape (n_images, C, H, W), uint8: every observation, memory-mapped.

        Built on first use (see each loader) and kept until the dataset is
        pickled. Ready for ``fit``: values 0..255, read one batch at a time.
        """
        return self._cached("images", self._load_images)

    @abstractmethod
    def _load_images(self):
        """Return the ``images`` array (decoded once, then memory-mapped)."""

    def _rows(self, factors, random_state):
        """Rows of ``images`` of validated factors (mixed radix, last factor fastest)."""
        return np.ravel_multi_index(factors.T, self.factor_sizes)

    def sample_observations_from_factors(self, factors, random_state=None):
        """Stored images of the given factors, as floats.

        Parameters
        ----------
        factors : array-like of int, shape (n, n_factors)
            Column ``k`` in ``[0, factor_sizes[k])``.
        random_state : int, RandomState instance or None, default=None
            Used where several images share the factors (a nuisance factor).

        Returns
        -------
        observations : ndarray of shape (n, *observation_shape), float32
            Values in [0, 1] (uint8 pixels divided by 255).

        Raises
        ------
        ValueError
            If ``factors`` is not an (n, n_factors) integer array within
            ``factor_sizes``.
        """
        factors = self.check_factors(factors)
        rows = self._rows(factors, check_random_state(random_state))
        return self.images[rows].astype(np.float32) / np.float32(255)


# --- Objects that follow a protocol without subclassing --------------------------------------

#: This package's protocol, and disentanglement_lib's ``GroundTruthData``.
PROTOCOL = ("factor_sizes", "sample_factors", "sample_observations_from_factors")
DLIB_PROTOCOL = ("num_factors", "factors_num_values", "observation_shape", "sample_factors",
                 "sample_observations_from_factors")
_METHODS = ("sample_factors", "sample_observations_from_factors")


def _missing(obj, names):
    """The names of ``names`` that ``obj`` lacks (a property that raises counts as missing)."""
    missing = []
    for name in names:
        try:
            value = getattr(obj, name)
        except Exception:  # noqa: BLE001 - dlib's abstract properties raise NotImplementedError
            missing.append(name)
            continue
        if name in _METHODS and not callable(value):
            missing.append(f"{name} (not callable)")
    return missing


class DatasetAdapter(GroundTruthDataset):
    """Any object that follows a ground-truth protocol, as a :class:`GroundTruthDataset`.

    Two protocols are accepted:

    * this package's, by duck typing: ``factor_sizes``,
      ``sample_factors(n, random_state)`` and
      ``sample_observations_from_factors(factors, random_state)``, with
      ``factor_names`` and ``observation_shape`` optional;
    * disentanglement_lib's ``GroundTruthData``
      (``data/ground_truth/ground_truth_data.py``): ``num_factors``,
      ``factors_num_values``, ``observation_shape``,
      ``sample_factors(num, random_state)`` and
      ``sample_observations_from_factors(factors, random_state)``. Its
      images are channel-last (``observation_shape`` ``[64, 64, C]``); the
      adapter moves the channel axis first, as this package's networks
      expect, so the same model scores the same on both. Its factors are
      named ``factor0``, ``factor1``, ...

    Both are always given a ``numpy.random.RandomState`` (disentanglement_lib
    requires one).

    Parameters
    ----------
    dataset : object
        Follows one of the two protocols.

    Attributes
    ----------
    dataset : object
        The object given.
    protocol : {"disentangle", "disentanglement_lib"}

    Raises
    ------
    TypeError
        If ``dataset`` follows neither protocol; the message names the
        missing parts of each.

    See Also
    --------
    as_ground_truth_dataset : the entry check every metric and scorer applies.
    """

    def __init__(self, dataset):
        missing = _missing(dataset, PROTOCOL)
        if not missing:
            self.protocol = "disentangle"
            self.factor_sizes = tuple(dataset.factor_sizes)
            names = getattr(dataset, "factor_names", None)
            shape = tuple(getattr(dataset, "observation_shape", None) or ())
            self._channels_last = False
        elif not (dlib_missing := _missing(dataset, DLIB_PROTOCOL)):
            self.protocol = "disentanglement_lib"
            self.factor_sizes = tuple(int(size) for size in dataset.factors_num_values)
            names = None
            shape = tuple(int(s) for s in dataset.observation_shape)
            self._channels_last = len(shape) == 3
            shape = (shape[-1], *shape[:-1]) if self._channels_last else shape
        else:
            raise TypeError(
                "dataset must be a ground-truth dataset (a disentangle.datasets."
                "GroundTruthDataset, an object with factor_sizes, sample_factors and "
                "sample_observations_from_factors, or a disentanglement_lib GroundTruthData); "
                f"got {type(dataset).__name__}, which lacks {', '.join(missing)} (for "
                f"disentanglement_lib's protocol: {', '.join(dlib_missing)})."
            )
        self.dataset = dataset
        self.factor_names = tuple(names or (f"factor{k}" for k in range(len(self.factor_sizes))))
        self.observation_shape = shape

    def __repr__(self):
        return f"DatasetAdapter({self.dataset!r})"

    def sample_factors(self, n, random_state=None):
        """The object's ``sample_factors(n, random_state)``, as an array."""
        return np.asarray(self.dataset.sample_factors(n, check_random_state(random_state)))

    def sample_observations_from_factors(self, factors, random_state=None):
        """The object's observations as float32, channel axis first for disentanglement_lib's.

        Returns
        -------
        observations : ndarray of shape (n, *observation_shape), float32
        """
        observations = self.dataset.sample_observations_from_factors(
            factors, check_random_state(random_state))
        observations = np.asarray(observations, dtype=np.float32)
        return np.moveaxis(observations, -1, 1) if self._channels_last else observations


def as_ground_truth_dataset(dataset):
    """Check a dataset once where it enters; wrap protocol objects in a :class:`DatasetAdapter`.

    Every metric and :func:`~disentangle.metrics.make_disentanglement_scorer`
    call this on their ``dataset`` argument.

    Parameters
    ----------
    dataset : GroundTruthDataset or object following a protocol
        See :class:`DatasetAdapter` for the two protocols.

    Returns
    -------
    dataset : GroundTruthDataset
        The dataset itself if it is one, else its adapter.

    Raises
    ------
    TypeError
        If ``dataset`` follows no protocol (an array of observations, a
        partial object); one error names the missing parts.
    """
    if isinstance(dataset, GroundTruthDataset):
        return dataset
    if inspect.isclass(dataset):
        raise TypeError(f"dataset must be an instance; got the class {dataset.__name__}.")
    return DatasetAdapter(dataset)
