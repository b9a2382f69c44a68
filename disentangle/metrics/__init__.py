"""Disentanglement metrics against a ground-truth dataset.

Every metric takes a ``representation`` (a fitted estimator with ``transform``
or a callable from observations to codes) and a
:class:`~disentangle.datasets._base.GroundTruthDataset`.
"""

from disentangle.metrics._factor_vae import factor_vae_score

__all__ = ["factor_vae_score"]
