"""Disentanglement metrics against a ground-truth dataset.

Every metric is a function ``metric(representation, dataset, *,
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
"""

from disentangle.metrics._beta_vae import beta_vae_score
from disentangle.metrics._dci import dci_score
from disentangle.metrics._explicitness import explicitness_score
from disentangle.metrics._factor_vae import factor_vae_score, factor_vae_scores
from disentangle.metrics._mig import mig_score
from disentangle.metrics._modularity import modularity_score
from disentangle.metrics._sap import sap_score
from disentangle.metrics._scorer import make_disentanglement_scorer
from disentangle.metrics._similarity import pairwise_similarity
from disentangle.metrics._unsupervised import gaussian_total_correlation

__all__ = [
    "beta_vae_score",
    "dci_score",
    "explicitness_score",
    "factor_vae_score",
    "factor_vae_scores",
    "gaussian_total_correlation",
    "make_disentanglement_scorer",
    "mig_score",
    "modularity_score",
    "pairwise_similarity",
    "sap_score",
]
