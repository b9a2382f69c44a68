"""Network building blocks, one builder per role and input kind.

Architectures follow SPEC.md and the official InfoGAN-CR code
(``InfoGAN-CR_dSprites/gan/network.py``): a DCGAN-style generator for 64x64
images, a spectrally normalised convolutional trunk shared by the
discriminator D and the encoder Q, and a contrastive-regulariser (CR)
discriminator H that reads two images stacked on the channel axis. The VAE
baselines' Gaussian encoder, Bernoulli decoder and FactorVAE total-correlation
discriminator follow ``FactorVAE_dSprites/gan/network.py`` of the same repository.
"""

import torch
from torch import nn
from torch.nn.utils import spectral_norm

#: Image sizes (height == width) with a convolutional architecture.
SUPPORTED_IMAGE_SIZES = (64,)

_TRUNK_CHANNELS = (32, 32, 64, 64)
_HIDDEN = 128


def _sn(layer, enabled=True):
    """Spectral norm with one power iteration per training forward (Miyato et al. 2018).

    The hook-based implementation is used because, unlike the parametrization
    one, it pickles (fitted estimators must round-trip through joblib).
    """
    return spectral_norm(layer, n_power_iterations=1) if enabled else layer


def conv_trunk(in_channels, sn_last=True):
    """Four stride-2 convolutions (kernel 4) 32, 32, 64, 64 then FC 128, LeakyReLU(0.2).

    Parameters
    ----------
    in_channels : int
        Channels of the input images (1 for dSprites, 2 for the CR pair).
    sn_last : bool, default=True
        Spectral norm on the final FC layer too.

    Returns
    -------
    trunk : nn.Sequential
        Maps (batch, in_channels, 64, 64) to (batch, 128).
    """
    layers = []
    channels = (in_channels, *_TRUNK_CHANNELS)
    for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
        layers += [_sn(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
    layers += [
        nn.Flatten(),
        _sn(nn.Linear(_TRUNK_CHANNELS[-1] * 4 * 4, _HIDDEN), sn_last),
        nn.LeakyReLU(0.2),
    ]
    return nn.Sequential(*layers)


class Generator(nn.Module):
    """InfoGAN-CR generator G for 64x64 images (SPEC.md; activation before BN as in the code).

    FC 128 -> ReLU -> BN; FC 4*4*64 -> ReLU -> BN; transposed convs (kernel 4,
    stride 2) to 64, 32, 32 channels, each LeakyReLU(0.2) -> BN; a last
    transposed conv to ``out_channels`` at 64x64 and a sigmoid.

    Parameters
    ----------
    n_latent : int
        Size of the latent vector ``[c, z]``.
    out_channels : int, default=1

    Input (batch, n_latent) float32; output (batch, out_channels, 64, 64) in (0, 1).
    """

    def __init__(self, n_latent, out_channels=1):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(n_latent, _HIDDEN), nn.ReLU(), nn.BatchNorm1d(_HIDDEN),
            nn.Linear(_HIDDEN, 64 * 4 * 4), nn.ReLU(), nn.BatchNorm1d(64 * 4 * 4),
        )
        layers = []
        channels = (64, 64, 32, 32)
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            layers += [
                nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1),
                nn.LeakyReLU(0.2),
                nn.BatchNorm2d(c_out),
            ]
        layers += [nn.ConvTranspose2d(channels[-1], out_channels, 4, stride=2, padding=1)]
        self.deconv = nn.Sequential(*layers)

    def forward(self, latents):
        return torch.sigmoid(self.deconv(self.fc(latents).view(-1, 64, 4, 4)))


class DiscriminatorQ(nn.Module):
    """Discriminator D and encoder Q on a shared spectrally normalised trunk (SPEC.md).

    ``forward`` returns ``(d_logit, q_codes)``: the real/fake logit of shape
    (batch,) and Q's code means of shape (batch, n_codes) (no variance: the
    mutual-information term uses a fixed sigma = 1).
    """

    def __init__(self, n_codes, in_channels=1):
        super().__init__()
        self.trunk = conv_trunk(in_channels)
        self.d_head = _sn(nn.Linear(_HIDDEN, 1))
        self.q_head = nn.Sequential(
            _sn(nn.Linear(_HIDDEN, _HIDDEN)), nn.LeakyReLU(0.2), _sn(nn.Linear(_HIDDEN, n_codes))
        )

    def forward(self, images):
        features = self.trunk(images)
        return self.d_head(features).squeeze(1), self.q_head(features)

    def encode(self, images):
        """Q's code means only, shape (batch, n_codes)."""
        return self.q_head(self.trunk(images))


class CRDiscriminator(nn.Module):
    """CR discriminator H: which code does an image pair share? (InfoGAN-CR, Sec. 3).

    Input: two images stacked on the channel axis, (batch, 2 * channels, 64, 64);
    output: (batch, n_codes) logits. Spectral norm on all layers but the last.
    """

    def __init__(self, n_codes, in_channels=1):
        super().__init__()
        self.trunk = conv_trunk(2 * in_channels)
        self.head = nn.Linear(_HIDDEN, n_codes)

    def forward(self, pairs):
        return self.head(self.trunk(pairs))


def init_weights(module, generator=None):
    """Official initialisation: weights N(0, 0.02), truncated at 2 std for convs; biases 0.

    Parameters
    ----------
    module : nn.Module
        Applied to every Linear / Conv / ConvTranspose submodule (BatchNorm keeps
        gamma = 1, beta = 0).
    generator : torch.Generator, optional
        Source of randomness, for reproducible re-initialisation.
    """
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            weight = _raw_weight(layer)
            if isinstance(layer, nn.Linear):
                nn.init.normal_(weight, 0.0, 0.02, generator=generator)
            else:
                nn.init.trunc_normal_(weight, 0.0, 0.02, -0.04, 0.04, generator=generator)
            nn.init.zeros_(layer.bias)


def _raw_weight(layer):
    """The trainable weight tensor, under spectral norm or not."""
    return getattr(layer, "weight_orig", layer.weight)


# --- VAE baselines (FactorVAE_dSprites/gan/network.py; Kim & Mnih 2018, Appendix) ---

_VAE_CHANNELS = (32, 32, 64, 64)


class VAEEncoder(nn.Module):
    """Gaussian encoder q(z|x) of the VAE baselines for 64x64 images (SPEC.md).

    Four stride-2 convolutions (kernel 4) with 32, 32, 64, 64 channels, each
    followed by ReLU; FC 128 with no activation (as in the authors' code and
    Kim & Mnih 2018, Table 2); then two FC heads of ``n_latent`` units: the
    posterior mean and log-variance.

    Parameters
    ----------
    n_latent : int
    in_channels : int, default=1

    Input (batch, in_channels, 64, 64) float32 in [0, 1]; ``forward`` returns
    ``(mean, logvar)``, each (batch, n_latent) float32, unbounded.
    """

    def __init__(self, n_latent, in_channels=1):
        super().__init__()
        layers = []
        channels = (in_channels, *_VAE_CHANNELS)
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), nn.ReLU()]
        layers += [nn.Flatten(), nn.Linear(_VAE_CHANNELS[-1] * 4 * 4, _HIDDEN)]
        self.trunk = nn.Sequential(*layers)
        self.mean = nn.Linear(_HIDDEN, n_latent)
        self.logvar = nn.Linear(_HIDDEN, n_latent)

    def forward(self, images):
        features = self.trunk(images)
        return self.mean(features), self.logvar(features)


class VAEDecoder(nn.Module):
    """Bernoulli decoder p(x|z) of the VAE baselines for 64x64 images (SPEC.md).

    FC 128 -> ReLU; FC 4*4*64 -> ReLU; transposed convs (kernel 4, stride 2)
    to 64, 32, 32 channels (8, 16, 32 px), each -> ReLU; a last transposed
    conv to ``out_channels`` at 64x64. No batch norm.

    Parameters
    ----------
    n_latent : int
    out_channels : int, default=1

    Input (batch, n_latent) float32; output (batch, out_channels, 64, 64) float32
    Bernoulli **logits** (apply a sigmoid for pixel probabilities).
    """

    def __init__(self, n_latent, out_channels=1):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(n_latent, _HIDDEN), nn.ReLU(), nn.Linear(_HIDDEN, 64 * 4 * 4), nn.ReLU()
        )
        layers = []
        channels = (64, 64, 32, 32)
        for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), nn.ReLU()]
        layers += [nn.ConvTranspose2d(channels[-1], out_channels, 4, stride=2, padding=1)]
        self.deconv = nn.Sequential(*layers)

    def forward(self, latents):
        return self.deconv(self.fc(latents).view(-1, 64, 4, 4))


class TCDiscriminator(nn.Module):
    """FactorVAE total-correlation discriminator (Kim & Mnih 2018, Sec. 3 and Appendix).

    An MLP with ``n_hidden_layers`` hidden layers of ``width`` units, each
    followed by LeakyReLU(0.2), and 2 output logits: class 0 "drawn from q(z)",
    class 1 "dimension-wise permuted" (the authors' ``TCDiscriminator``:
    6 linear layers, the last with 2 units).

    Parameters
    ----------
    n_latent : int
    width : int, default=1000
    n_hidden_layers : int, default=5

    Input (batch, n_latent) float32; output (batch, 2) float32 logits.
    """

    def __init__(self, n_latent, width=1000, n_hidden_layers=5):
        super().__init__()
        layers, size = [], n_latent
        for _ in range(n_hidden_layers):
            layers += [nn.Linear(size, width), nn.LeakyReLU(0.2)]
            size = width
        layers.append(nn.Linear(size, 2))
        self.mlp = nn.Sequential(*layers)

    def forward(self, latents):
        return self.mlp(latents)
