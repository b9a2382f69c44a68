"""disentangle: scikit-learn estimators for disentangled representation learning.

Implements InfoGAN-CR and ModelCentrality (Lin, Thekumparampil, Fanti, Oh;
ICML 2020, arXiv:1906.06034), the VAE baselines it compares against, and the
standard disentanglement metrics.
"""

__version__ = "0.1.0"

from disentangle.infogan_cr import InfoGANCR  # noqa: E402
from disentangle.selection import ModelCentralitySelector  # noqa: E402
from disentangle.vae import VAE  # noqa: E402

__all__ = ["InfoGANCR", "ModelCentralitySelector", "VAE", "__version__"]
