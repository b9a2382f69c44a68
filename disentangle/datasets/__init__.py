"""Ground-truth datasets: known factors of variation and their observations."""

from disentangle.datasets._base import GroundTruthDataset
from disentangle.datasets._dsprites import DSprites
from disentangle.datasets._generated import GeneratedDataset

__all__ = ["DSprites", "GeneratedDataset", "GroundTruthDataset"]
