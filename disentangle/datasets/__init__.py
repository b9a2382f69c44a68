"""Ground-truth datasets: known factors of variation and their observations."""

from disentangle.datasets._base import GroundTruthDataset
from disentangle.datasets._dsprites import DSprites

__all__ = ["DSprites", "GroundTruthDataset"]
