"""Ground-truth datasets: known factors of variation and their observations.

The field's benchmarks (dSprites and its variants, Shapes3D, MPI3D,
SmallNORB, Cars3D, 3D Teapots), observation-only image sets (CelebA, any
folder of images), the protocol every metric accepts, and the adapter that
makes any object following it (or disentanglement_lib's) a dataset.
"""

from disentangle.datasets._base import (
    DatasetAdapter,
    GroundTruthDataset,
    ImageGridDataset,
    as_ground_truth_dataset,
)
from disentangle.datasets._cars3d import Cars3D
from disentangle.datasets._dsprites import DSprites
from disentangle.datasets._dsprites_variants import (
    CdSprites,
    ColorDSprites,
    NoisyDSprites,
    ScreamDSprites,
)
from disentangle.datasets._fetch import REMOTE_FILES, default_data_home, fetch_file
from disentangle.datasets._folder import CelebA, ImageFolder
from disentangle.datasets._generated import GeneratedDataset
from disentangle.datasets._mpi3d import MPI3D
from disentangle.datasets._shapes3d import Shapes3D
from disentangle.datasets._smallnorb import SmallNORB
from disentangle.datasets._teapots import Teapots

__all__ = [
    "MPI3D",
    "REMOTE_FILES",
    "Cars3D",
    "CdSprites",
    "CelebA",
    "ColorDSprites",
    "DSprites",
    "DatasetAdapter",
    "GeneratedDataset",
    "GroundTruthDataset",
    "ImageFolder",
    "ImageGridDataset",
    "NoisyDSprites",
    "ScreamDSprites",
    "Shapes3D",
    "SmallNORB",
    "Teapots",
    "as_ground_truth_dataset",
    "default_data_home",
    "fetch_file",
]
