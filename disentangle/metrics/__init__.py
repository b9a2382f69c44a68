"""Disentanglement metrics: on arrays of factors and codes, or against a ground-truth dataset.

Every metric defined on i.i.d. samples has an array form ``metric(factors,
codes, **parameters) -> float`` (:func:`mig`, :func:`dci`, :func:`sap`,
:func:`modularity`, :func:`explicitness`, :func:`irs`,
:func:`downstream_task`): ``factors`` of shape (n, n_factors), ``codes`` of
shape (n, n_codes), row for row, e.g. the codes of a model from any framework.
Each also has a dataset form ``metric_score(representation, dataset, ...)``
that draws the sample with the protocol's sizes and calls the array form. The
FactorVAE and β-VAE scores fix one factor per batch (an intervention), which
i.i.d. arrays cannot provide, so they only have the dataset form.

Every dataset-form metric is a function ``metric(representation, dataset, *,
random_state=None, protocol="community", **parameters) -> float``: the
``representation`` is a fitted estimator with ``transform`` or a callable
from a batch of observations to codes, the ``dataset`` a
:class:`~disentangle.datasets.GroundTruthDataset`. ``protocol="community"``
follows ``google-research/disentanglement_lib`` with its
``unsupervised_study_v1`` settings, ``protocol="paper"`` the InfoGAN-CR
authors' code where it has the metric; ``return_details=True`` adds a dict of
intermediate results and ``verbose=1`` a progress bar (on a terminal or in a
notebook). :func:`make_disentanglement_scorer` turns any of them
into a scikit-learn scorer.

:func:`pairwise_similarity`, the similarity matrix of a pool of models, lives
in :mod:`disentangle.selection` with the rest of model selection; it is also
importable from here.
"""

from disentangle.metrics._beta_vae import beta_vae_score
from disentangle.metrics._dci import dci, dci_score
from disentangle.metrics._downstream import downstream_task, downstream_task_score
from disentangle.metrics._explicitness import explicitness, explicitness_score
from disentangle.metrics._factor_vae import factor_vae_score, factor_vae_scores
from disentangle.metrics._irs import irs, irs_score
from disentangle.metrics._mig import mig, mig_score
from disentangle.metrics._modularity import modularity, modularity_score
from disentangle.metrics._sap import sap, sap_score
from disentangle.metrics._scorer import make_disentanglement_scorer
from disentangle.metrics._unsupervised import gaussian_total_correlation

__all__ = [
    "beta_vae_score",
    "dci",
    "dci_score",
    "downstream_task",
    "downstream_task_score",
    "explicitness",
    "explicitness_score",
    "factor_vae_score",
    "factor_vae_scores",
    "gaussian_total_correlation",
    "irs",
    "irs_score",
    "make_disentanglement_scorer",
    "mig",
    "mig_score",
    "modularity",
    "modularity_score",
    "pairwise_similarity",
    "sap",
    "sap_score",
]


def __getattr__(name):
    """``pairwise_similarity`` from :mod:`disentangle.selection`, imported when first asked
    (model selection imports the metrics, so an import at the top would be circular)."""
    if name == "pairwise_similarity":
        from disentangle.selection import pairwise_similarity

        return pairwise_similarity
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
