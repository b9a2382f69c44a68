"""Ground-truth datasets: known factors of variation and their observations."""

from disentangle.datasets._base import (
    DatasetAdapter,
    GroundTruthDataset,
    ImageGridDataset,
    as_ground_truth_dataset,
)
from disentangle.datasets._dsprites import DSprites
from disentangle.datasets._fetch import REMOTE_FILES, default_data_home, fetch_file
from disentangle.datasets._generated import GeneratedDataset

__all__ = [
    "REMOTE_FILES",
    "DSprites",
    "DatasetAdapter",
    "GeneratedDataset",
    "GroundTruthDataset",
    "ImageGridDataset",
    "as_ground_truth_dataset",
    "default_data_home",
    "fetch_file",
]
