"""A scikit-learn scorer from a disentanglement metric and a ground-truth dataset.

``GridSearchCV``, ``cross_validate`` and friends call ``scorer(estimator, X,
y)`` on held-out data and maximise the result. A disentanglement metric needs
the dataset's ground truth rather than ``X``: the scorer ignores ``X`` and
``y`` and scores the fitted estimator's ``transform`` on observations it
renders from the dataset.
"""

import inspect

from disentangle.metrics._beta_vae import beta_vae_score
from disentangle.metrics._dci import dci_score
from disentangle.metrics._downstream import downstream_task_score
from disentangle.metrics._explicitness import explicitness_score
from disentangle.metrics._factor_vae import factor_vae_score
from disentangle.metrics._irs import irs_score
from disentangle.metrics._mig import mig_score
from disentangle.metrics._modularity import modularity_score
from disentangle.metrics._sampling import check_dataset
from disentangle.metrics._sap import sap_score
from disentangle.metrics._unsupervised import gaussian_total_correlation

# name -> (metric, sign): the scorer returns sign * metric, so that greater is better.
METRICS = {
    "factor_vae": (factor_vae_score, 1),
    "beta_vae": (beta_vae_score, 1),
    "mig": (mig_score, 1),
    "dci": (dci_score, 1),
    "sap": (sap_score, 1),
    "modularity": (modularity_score, 1),
    "explicitness": (explicitness_score, 1),
    "irs": (irs_score, 1),
    "downstream_task": (downstream_task_score, 1),
    "gaussian_total_correlation": (gaussian_total_correlation, -1),
}


class DisentanglementScorer:
    """Callable ``scorer(estimator, X, y=None) -> float``; see :func:`make_disentanglement_scorer`.

    Attributes
    ----------
    metric : callable
        ``metric(representation, dataset, **protocol) -> float``.
    dataset : GroundTruthDataset
    sign : {1, -1}
        The score is ``sign * metric(...)``.
    protocol : dict
        Keyword arguments passed to the metric.
    """

    def __init__(self, metric, dataset, sign, protocol):
        self.metric = metric
        self.dataset = dataset
        self.sign = sign
        self.protocol = protocol

    def __call__(self, estimator, X=None, y=None, **kwargs):
        """Score ``estimator`` on the dataset; ``X``, ``y`` and extra kwargs are ignored.

        Returns
        -------
        score : float
            Greater is better.
        """
        return self.sign * float(self.metric(estimator, self.dataset, **self.protocol))

    def __repr__(self):
        name = getattr(self.metric, "__name__", repr(self.metric))
        args = "".join(f", {key}={value!r}" for key, value in self.protocol.items())
        sign = "" if self.sign == 1 else ", sign=-1"
        return f"make_disentanglement_scorer({name}, {type(self.dataset).__name__}(){args}{sign})"


def make_disentanglement_scorer(metric, dataset, **protocol):
    """A scikit-learn scorer that computes a disentanglement metric on a dataset.

    Use it as ``scoring=`` of ``GridSearchCV``, ``cross_validate`` or
    ``cross_val_score`` when the ground truth is known: every fitted
    estimator's ``transform`` is scored on observations rendered from
    ``dataset``, whatever the held-out ``X`` is.

    Parameters
    ----------
    metric : str or callable
        A name among ``"factor_vae"``, ``"beta_vae"``, ``"mig"``, ``"dci"``,
        ``"sap"``, ``"modularity"``, ``"explicitness"``, ``"irs"``,
        ``"downstream_task"`` and ``"gaussian_total_correlation"`` (also
        with a ``_score`` suffix), or a function
        ``metric(representation, dataset, **protocol) -> float`` where
        greater is better. The Gaussian total correlation is negated (lower
        is better), as scikit-learn's ``neg_*`` scorers.
    dataset : GroundTruthDataset or object following a protocol
        The ground truth; an object that follows this package's or
        disentanglement_lib's protocol is wrapped in a
        :class:`~disentangle.datasets.DatasetAdapter`. It is checked here, so
        an object missing part of the protocol raises now, not as ``nan``
        scores inside ``GridSearchCV``.
    **protocol
        Keyword arguments of the metric, e.g. ``protocol="paper"``,
        ``n_train=2000``, ``random_state=0``. An int ``random_state`` scores
        every candidate on the same observations, which makes comparisons
        between candidates less noisy.

    Returns
    -------
    scorer : DisentanglementScorer
        ``scorer(estimator, X, y=None) -> float``, greater is better.

    Raises
    ------
    ValueError
        If ``metric`` is an unknown name.
    TypeError
        If ``metric`` is neither a name nor callable, or does not accept the
        given keyword arguments, or ``dataset`` follows no ground-truth
        protocol (e.g. an array of observations); the message names the
        missing parts.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV  # doctest: +SKIP
    >>> scorer = make_disentanglement_scorer("mig", dataset, random_state=0)  # doctest: +SKIP
    >>> GridSearchCV(model, grid, scoring=scorer).fit(X)  # doctest: +SKIP
    """
    dataset = check_dataset(dataset)
    if isinstance(metric, str):
        name = metric.removesuffix("_score")
        if name not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; choose one of {sorted(METRICS)} or "
                             "pass a function.")
        function, sign = METRICS[name]
    elif callable(metric):
        function, sign = metric, 1
    else:
        raise TypeError(f"metric must be a name or a callable; got {type(metric).__name__}.")
    try:
        inspect.signature(function).bind(None, dataset, **protocol)
    except TypeError as error:
        raise TypeError(f"{getattr(function, '__name__', function)} does not accept "
                        f"{sorted(protocol)}: {error}") from error
    except ValueError:  # no signature available (some builtins): check at call time
        pass
    return DisentanglementScorer(function, dataset, sign, dict(protocol))
