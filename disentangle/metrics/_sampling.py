"""Validation and sampling shared by the metrics: "draw factors, render, encode".

Every supervised metric draws ground-truth factors from a
:class:`~disentangle.datasets.GroundTruthDataset`, renders them and encodes
the observations in batches. The helpers here do that once for all of them,
so that every observation is rendered and encoded exactly once, and they
validate the protocol parameters the same way for every metric.
"""

import contextlib
import functools
import inspect
import math
import numbers

import numpy as np

from disentangle._compat import validate_params
from disentangle._progress import progress_bar
from disentangle.datasets._base import as_ground_truth_dataset
from disentangle.metrics._representation import as_encoder, encode_factors

# Most observations rendered and encoded in one call.
ROWS_PER_CALL = 1024


#: Parameter descriptions shared by the metrics' docstrings: a line ``    {name}`` in a
#: docstring decorated by :func:`validate_return_details` becomes the text.
SHARED_PARAMETERS = {
    "representation": """representation : estimator with ``transform`` or callable
        Maps float32 observations of shape ``(n, *observation_shape)`` to codes
        of shape ``(n, n_codes)`` (or ``(n,)`` for one code).""",
    "dataset": """dataset : GroundTruthDataset
        Provides ``factor_sizes``, ``sample_factors`` and
        ``sample_observations_from_factors``.""",
    "protocol": """protocol : {"community", "paper"}, default="community"
        Sets the defaults below (see the module docstring).""",
    "factors": """factors : array-like of shape (n_samples, n_factors)
        Ground-truth factors, one row per observation: discrete values (any
        numbers; only which rows share a value matters to the labels) or, where
        ``continuous_factors`` says so, continuous values. Columns that take a
        single value are left out. A 1-D array is one factor.""",
    "codes": """codes : array-like of shape (n_samples, n_codes)
        The representation's codes of the same observations, row for row,
        finite. A 1-D array is one code dimension.""",
    "continuous_factors": """continuous_factors : bool or array-like of bool, default=False
        Which factor columns are continuous (one bool, or one per column);
        those are cut into ``n_bins`` equal-width bins spanning their
        (training) range, as the codes.""",
    "return_details": """return_details : bool, default=False
        Also return a dict of intermediate results.""",
    "verbose": """verbose : int, default=0
        0 is silent; 1 shows, on a terminal or in a notebook, a progress bar
        with an ETA on stderr over the observations rendered and encoded,
        removed when done. The score does not depend on it.""",
}


def _fill_shared_parameters(doc):
    """``doc`` with each line ``    {name}`` replaced by ``SHARED_PARAMETERS[name]``."""
    for name, text in SHARED_PARAMETERS.items():
        doc = doc.replace("    {" + name + "}\n", "    " + text + "\n")
    return doc


def validate_return_details(metric):
    """Decorator of the public metrics: the arguments must fit ``metric``'s signature and
    ``return_details`` must be a bool (not ``"yes"`` or 1), and ``verbose`` (for a metric
    that has it) an int >= 0 or a bool; the ``dataset`` is checked
    once here and protocol objects are wrapped
    (:func:`~disentangle.datasets.as_ground_truth_dataset`); the docstring's shared
    parameter lines are filled in (:data:`SHARED_PARAMETERS`).

    scikit-learn's ``validate_params`` names the parameter in its InvalidParameterError
    (a ValueError and a TypeError); an unknown or missing argument is a TypeError that
    names the metric (``validate_params`` alone would not).
    """
    signature = inspect.signature(metric)
    constraints = {"return_details": ["boolean"], "verbose": ["verbose"]}
    validated = validate_params({name: constraint for name, constraint in constraints.items()
                                 if name in signature.parameters},
                                prefer_skip_nested_validation=False)(metric)

    @functools.wraps(metric)
    def checked(*args, **kwargs):
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise TypeError(f"{metric.__name__}(): {error}") from None
        if "dataset" in bound.arguments:
            bound.arguments["dataset"] = check_dataset(bound.arguments["dataset"])
        return validated(*bound.args, **bound.kwargs)

    checked.__doc__ = _fill_shared_parameters(metric.__doc__ or "")
    return checked


@contextlib.contextmanager
def encoding_progress(representation, n_observations, metric, verbose):
    """``as_encoder(representation)`` that advances a progress bar by the observations it encodes.

    Parameters
    ----------
    representation : estimator with ``transform`` or callable
    n_observations : int
        All the observations the metric will encode (the bar's total).
    metric : str
        The bar's label.
    verbose : int
        The bar shows at ``verbose >= 1`` (:func:`~disentangle._progress.progress_bar`).

    Yields
    ------
    encode : callable
        As :func:`~disentangle.metrics._representation.as_encoder`.
    """
    encode = as_encoder(representation)
    with progress_bar(n_observations, metric, verbose, unit="obs") as bar:
        def counted(observations):
            codes = encode(observations)
            bar.update(len(observations))
            return codes

        yield counted


def check_count(name, value, minimum):
    """Raise unless ``value`` is an integer ``>= minimum``; return it as int.

    Raises
    ------
    ValueError
        If ``value`` is a bool, not an integer, or below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}.")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value}.")
    return int(value)


def resolve_protocol(protocols, protocol, counts, minimums):
    """The defaults of ``protocols[protocol]``, overridden by the given counts.

    Parameters
    ----------
    protocols : dict of str to dict
        Default parameters of each protocol. A default of ``None`` marks a
        parameter the protocol does not use (e.g. a test-set size when the
        protocol has no train/test split); giving it raises.
    protocol : str
    counts : dict of str to int or None
        User values; ``None`` keeps the protocol default.
    minimums : dict of str to int
        Smallest allowed value of each count.

    Returns
    -------
    params : dict
        The protocol's defaults with the given counts, plus ``"protocol"``.

    Raises
    ------
    ValueError
        On an unknown protocol, a count below its minimum, or a count the
        protocol does not use.
    """
    if protocol not in protocols:
        raise ValueError(f"protocol must be one of {sorted(protocols)}; got {protocol!r}.")
    params = dict(protocols[protocol], protocol=protocol)
    for name, value in counts.items():
        if value is None:
            continue
        if params.get(name) is None:
            raise ValueError(
                f"{name} is not used by protocol={protocol!r} (it has no train/test split: "
                "the score is computed on the one sample of n_train points); leave it None."
            )
        params[name] = check_count(name, value, minimums[name])
    return params


def is_discrete_size(size):
    """Whether a ``factor_sizes`` entry is a finite number of values (a positive int)."""
    return isinstance(size, numbers.Integral) and not isinstance(size, bool) and size >= 1


def check_dataset(dataset):
    """``dataset`` as a GroundTruthDataset: itself, or the adapter of a protocol object.

    Returns
    -------
    dataset : GroundTruthDataset

    Raises
    ------
    TypeError
        If ``dataset`` follows neither this package's protocol nor
        disentanglement_lib's (e.g. an array of observations); the message
        names the missing parts.
    """
    return as_ground_truth_dataset(dataset)


def varying_factors(dataset, metric="this metric"):
    """Indices of the factors with more than one value.

    A factor with a single value (dSprites' color) carries no information:
    disentanglement_lib's dSprites and the InfoGAN-CR code both leave it out,
    and the references divide by its zero entropy or fail to fit a classifier
    on it. A factor whose size is not an integer (``None`` or ``inf``: a
    continuous factor) varies.

    Returns
    -------
    eligible : ndarray of shape (n_eligible,), dtype int64

    Raises
    ------
    TypeError
        If ``dataset`` does not follow the ground-truth dataset protocol.
    ValueError
        If no factor has more than one value, or a size is neither a positive
        int nor None / ``inf``.
    """
    sizes = list(check_dataset(dataset).factor_sizes)
    for k, size in enumerate(sizes):
        if not (is_discrete_size(size) or size is None or size == math.inf):
            raise ValueError(
                f"factor_sizes[{k}] is {size!r}: expected a positive int (the number of values "
                "of a discrete factor, whose indices sample_factors returns) or None (a "
                "continuous one). A float such as 6.0 would be read as continuous."
            )
    eligible = np.array([k for k, size in enumerate(sizes) if size != 1], dtype=np.int64)
    if eligible.size == 0:
        raise ValueError(
            f"the dataset has no factor with more than one value (factor_sizes={tuple(sizes)}); "
            f"{metric} needs at least one factor that varies."
        )
    return eligible


def sample_factors(dataset, n, rng):
    """``dataset.sample_factors(n, rng)`` as a writable (n, n_factors) array.

    Raises
    ------
    ValueError
        If the dataset returns another shape.
    """
    factors = np.array(dataset.sample_factors(n, rng), copy=True)
    n_factors = len(dataset.factor_sizes)
    if factors.shape != (n, n_factors):
        raise ValueError(
            f"dataset.sample_factors({n}) must return shape ({n}, {n_factors}) to match "
            f"factor_sizes; got {factors.shape}."
        )
    return factors


def sample_codes(encode, dataset, n, rng):
    """Draw ``n`` factor vectors, render them and encode them, in batches.

    Parameters
    ----------
    encode : callable
        As returned by :func:`~disentangle.metrics._representation.as_encoder`.
    dataset : GroundTruthDataset
    n : int
    rng : RandomState

    Returns
    -------
    factors : ndarray of shape (n, n_factors)
    codes : ndarray of shape (n, n_codes), dtype float64, finite
    """
    factors = sample_factors(dataset, n, rng)
    codes = encode_factors(encode, dataset, factors, rng, batch_size=ROWS_PER_CALL)
    if codes.shape[1] == 0:
        raise ValueError("the representation returned codes with no dimension (shape (n, 0)).")
    return factors, codes


def sample_train_test(encode, dataset, n_train, n_test, rng):
    """A training sample and, unless ``n_test`` is None, a test sample.

    Returns
    -------
    train, test : tuple of (factors, codes)
        As :func:`sample_codes`; ``test`` is ``train`` when ``n_test`` is None
        (the InfoGAN-CR protocols score on the sample they fit).
    """
    train = sample_codes(encode, dataset, n_train, rng)
    test = train if n_test is None else sample_codes(encode, dataset, n_test, rng)
    return train, test


def fixed_factors(n_groups, eligible, cycle, rng):
    """The factor held fixed in each group, shape (n_groups,), int64.

    ``cycle=False``: uniform over the eligible factors (``random_state.randint``
    in disentanglement_lib's ``factor_vae.py`` and ``beta_vae.py``).
    ``cycle=True``: group ``i`` fixes factor ``i % n_eligible``
    (``fixed_latent_id = i % 5`` in the InfoGAN-CR ``load_data.py``), so every
    factor gets the same number of groups up to one.
    """
    if cycle:
        return eligible[np.arange(n_groups) % eligible.size]
    return eligible[rng.randint(eligible.size, size=n_groups)]


def group_factors(dataset, fixed, group_size, rng):
    """Factors of groups sharing one factor's value, shape (n_groups * group_size, n_factors).

    In group ``g`` (rows ``g * group_size`` onwards) column ``fixed[g]`` holds
    the value of the group's first row; the other columns are drawn
    independently. Works for integer and continuous factors.
    """
    n_groups = fixed.size
    factors = sample_factors(dataset, n_groups * group_size, rng)
    grouped = factors.reshape(n_groups, group_size, -1)
    groups = np.arange(n_groups)
    grouped[groups, :, fixed] = grouped[groups, 0, fixed][:, None]
    return grouped.reshape(n_groups * group_size, -1)


def samples_needed(n_values, need_all):
    """Sample size at which a uniform factor shows enough values with probability 0.999.

    ``need_all``: all ``n_values`` values (coupon collector:
    ``P(some value missing) <= n_values * (1 - 1/n_values)**n <= 0.001`` for
    ``n >= n_values * (ln n_values + ln 1000)``). Otherwise two distinct
    values (``n_values**(1 - n) <= 0.001``).
    """
    if need_all:
        return math.ceil(n_values * (math.log(n_values) + math.log(1000)))
    return 1 + math.ceil(math.log(1000) / math.log(n_values))


def finish(score, details, return_details):
    """``score`` as a float, with ``details`` if asked."""
    score = float(score)
    return (score, details) if return_details else score
