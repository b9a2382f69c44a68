"""Network building blocks, one builder per role and input kind.

Two input kinds: **images** of shape (C, H, W) with H = W in
:data:`SUPPORTED_IMAGE_SIZES`, and **tables** of shape (d,) (a row of d
features, as everywhere in scikit-learn). Each role has one network per
input kind:

* generator G: :class:`Generator` (images), :class:`MLPGenerator` (tables);
  :func:`build_generator` picks one.
* discriminator D and encoder Q: :class:`DiscriminatorQ` on
  :func:`conv_trunk` (images) or :func:`mlp_trunk` (tables).
* CR discriminator H: :class:`CRDiscriminator` on the same trunks.
* VAE encoder: :class:`VAEEncoder` on a ReLU conv stack (images) or a ReLU
  MLP (tables).
* VAE decoder: :class:`VAEDecoder` (images), :class:`MLPDecoder` (tables);
  :func:`build_vae_decoder` picks one.
* FactorVAE total-correlation discriminator: :class:`TCDiscriminator` (it
  reads latents: the same for both kinds).

Image architectures follow the official InfoGAN-CR code (`fjxmlzn/InfoGAN-CR`
``InfoGAN-CR_dSprites/gan/network.py``; the user guide's :ref:`paper` page): a
DCGAN-style generator for 64x64 images, a spectrally normalised convolutional
trunk shared by the
discriminator D and the encoder Q, and a contrastive-regulariser (CR)
discriminator H that reads two images stacked on the channel axis. The VAE
baselines' Gaussian encoder, Bernoulli decoder and FactorVAE total-correlation
discriminator follow ``FactorVAE_dSprites/gan/network.py`` of the same
repository. 32x32 images (the paper's CelebA size) use the same stacks with
one stride-2 stage fewer: the first 32-channel convolution of the trunks and
the last 32-channel transposed convolution of the generators. (The official
CelebA code uses a wider DCGAN, kernel 5 and 64 to 512 channels; we keep one
family of networks across sizes.) The table networks keep each role's widths
(128 hidden units), activations, spectral norm and batch norm, with two
fully-connected layers in place of the convolution stack.

User networks
-------------
Every role can be replaced through the estimator's parameter of the same
name, by a class or any factory called with the latent size and the shape of
one input (``(C, H, W)`` for images, ``(d,)`` for a table) that returns a
``torch.nn.Module``:

* ``InfoGANCR(generator=)``: ``f(n_latent, input_shape)``, latents
  ``(batch, n_latent)`` to samples ``(batch, *input_shape)``;
* ``InfoGANCR(discriminator=)``: ``f(n_codes, input_shape)``, samples to
  ``(d_logits, q_codes)`` of shapes ``(batch,)`` and ``(batch, n_codes)``; an
  ``encode`` method returning the codes alone is used when present;
* ``InfoGANCR(cr_discriminator=)``: ``f(n_codes, input_shape)``, the two
  samples of each pair stacked on axis 1 (``(batch, 2C, H, W)`` or
  ``(batch, 2d)``) to logits ``(batch, n_codes)``;
* ``VAE(encoder=)``: ``f(n_latent, input_shape)``, inputs to ``(mean,
  logvar)``, each ``(batch, n_latent)``;
* ``VAE(decoder=)``: ``f(n_latent, input_shape)``, latents to Bernoulli
  logits (images) or Gaussian means (tables) of shape ``(batch, *input_shape)``.

The defaults (:data:`DEFAULT_NETWORKS`) get the official initialisation
(:func:`init_weights`); a user's network keeps its own. When every network of
an estimator is the user's, images of any size are accepted. Networks
defined at module level pickle with the fitted model (as pythae's
``BaseEncoder``/``BaseDecoder`` and disentangling-vae's model classes do, the
estimator holds the class, not an instance, so ``clone`` and ``get_params``
work as for any parameter).
"""

import math

import torch
from torch import nn
from torch.nn.utils import spectral_norm

#: Image sizes (height == width) with a convolutional architecture.
SUPPORTED_IMAGE_SIZES = (32, 64)

#: Channels of the stride-2 convolutions of the 64x64 trunks (32x32 drops the first).
_TRUNK_CHANNELS = (32, 32, 64, 64)
#: Channels entering each stride-2 transposed convolution of the 64x64 generators
#: (32x32 drops the last); a final one maps to the image channels.
_DECONV_CHANNELS = (64, 64, 32, 32)
_HIDDEN = 128
#: Side of the smallest feature map (after the last stride-2 convolution).
_BASE_SIZE = 4


def is_table(input_shape):
    """True for a table row shape (d,), False for an image shape (C, H, W)."""
    return len(input_shape) == 1


def check_image_size(height, width):
    """Check that images of this size have a convolutional architecture.

    Raises
    ------
    ValueError
        Not square, or a side not in :data:`SUPPORTED_IMAGE_SIZES`.
    """
    if height != width or height not in SUPPORTED_IMAGE_SIZES:
        raise ValueError(
            f"Images of size {height}x{width} are not supported; supported sizes: "
            + ", ".join(f"{s}x{s}" for s in SUPPORTED_IMAGE_SIZES)
            + ". (A 2-D array without image_shape is read as a table of features; images are "
            "channels-first, (n, C, H, W): transpose channels-last arrays.)"
        )


def n_stages(image_size):
    """Number of stride-2 stages between ``image_size`` and the 4x4 feature map.

    Raises
    ------
    ValueError
        If ``image_size`` is not in :data:`SUPPORTED_IMAGE_SIZES`.
    """
    check_image_size(image_size, image_size)
    return int(math.log2(image_size // _BASE_SIZE))


def _sn(layer, enabled=True):
    """Spectral norm with one power iteration per training forward (Miyato et al. 2018).

    The hook-based implementation is used because, unlike the parametrization
    one, it pickles (fitted estimators must round-trip through joblib).
    """
    return spectral_norm(layer, n_power_iterations=1) if enabled else layer


def _conv_stack(in_channels, image_size, activation, sn):
    """Stride-2 convolutions (kernel 4) down to 4x4, each followed by ``activation()``."""
    channels = (in_channels, *_TRUNK_CHANNELS[-n_stages(image_size):])
    layers = []
    for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
        layers += [_sn(nn.Conv2d(c_in, c_out, 4, stride=2, padding=1), sn), activation()]
    return [*layers, nn.Flatten()]


def _deconv_stack(out_channels, image_size, activation, batch_norm):
    """Stride-2 transposed convolutions (kernel 4) from 4x4 up to ``image_size``.

    Each but the last is followed by ``activation()`` (then BN when ``batch_norm``).
    """
    channels = _DECONV_CHANNELS[: n_stages(image_size)]
    layers = []
    for c_in, c_out in zip(channels[:-1], channels[1:], strict=True):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1), activation()]
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
    layers.append(nn.ConvTranspose2d(channels[-1], out_channels, 4, stride=2, padding=1))
    return nn.Sequential(*layers)


def conv_trunk(in_channels, sn_last=True, image_size=64):
    """Stride-2 convolutions (kernel 4) 32, 32, 64, 64 then FC 128, LeakyReLU(0.2), all SN.

    Parameters
    ----------
    in_channels : int
        Channels of the input images (1 for dSprites, 2 for the CR pair).
    sn_last : bool, default=True
        Spectral norm on the final FC layer too.
    image_size : {32, 64}, default=64
        32x32 drops the first 32-channel convolution.

    Returns
    -------
    trunk : nn.Sequential
        Maps (batch, in_channels, image_size, image_size) to (batch, 128).
    """
    return nn.Sequential(
        *_conv_stack(in_channels, image_size, lambda: nn.LeakyReLU(0.2), sn=True),
        _sn(nn.Linear(_TRUNK_CHANNELS[-1] * _BASE_SIZE**2, _HIDDEN), sn_last),
        nn.LeakyReLU(0.2),
    )


def mlp_trunk(n_features, sn_last=True):
    """The table counterpart of :func:`conv_trunk`: FC 128, FC 128, each LeakyReLU(0.2), SN.

    Parameters
    ----------
    n_features : int
    sn_last : bool, default=True
        Spectral norm on the second FC layer too.

    Returns
    -------
    trunk : nn.Sequential
        Maps (batch, n_features) to (batch, 128).
    """
    return nn.Sequential(
        _sn(nn.Linear(n_features, _HIDDEN)), nn.LeakyReLU(0.2),
        _sn(nn.Linear(_HIDDEN, _HIDDEN), sn_last), nn.LeakyReLU(0.2),
    )


def feature_trunk(input_shape, sn_last=True, copies=1):
    """The D/Q and H trunk for ``input_shape``: :func:`conv_trunk` or :func:`mlp_trunk`.

    Parameters
    ----------
    input_shape : tuple of int
        (C, H, W) for images, (d,) for tables.
    sn_last : bool, default=True
    copies : int, default=1
        Inputs stacked on the first (channel or feature) axis: 2 for CR pairs.
    """
    if is_table(input_shape):
        return mlp_trunk(copies * input_shape[0], sn_last)
    return conv_trunk(copies * input_shape[0], sn_last, input_shape[1])


class Generator(nn.Module):
    """InfoGAN-CR generator G for images (``InfoGAN-CR_dSprites/gan/network.py``).

    Activation before BN, as in that code.

    FC 128 -> ReLU -> BN; FC 4*4*64 -> ReLU -> BN; transposed convs (kernel 4,
    stride 2) to 64, 32, 32 channels (64x64; 64, 32 for 32x32), each
    LeakyReLU(0.2) -> BN; a last transposed conv to ``out_channels`` at
    ``image_size`` and a sigmoid.

    Parameters
    ----------
    n_latent : int
        Size of the latent vector ``[c, z]``.
    out_channels : int, default=1
    image_size : {32, 64}, default=64

    Input (batch, n_latent) float32; output (batch, out_channels, image_size,
    image_size) in (0, 1).
    """

    def __init__(self, n_latent, out_channels=1, image_size=64):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(n_latent, _HIDDEN), nn.ReLU(), nn.BatchNorm1d(_HIDDEN),
            nn.Linear(_HIDDEN, 64 * _BASE_SIZE**2), nn.ReLU(), nn.BatchNorm1d(64 * _BASE_SIZE**2),
        )
        self.deconv = _deconv_stack(out_channels, image_size, lambda: nn.LeakyReLU(0.2), True)

    def forward(self, latents):
        features = self.fc(latents).view(-1, 64, _BASE_SIZE, _BASE_SIZE)
        return torch.sigmoid(self.deconv(features))


class MLPGenerator(nn.Module):
    """InfoGAN-CR generator G for tables: FC 128 -> ReLU -> BN, twice, then FC to the features.

    The generator of :class:`Generator` with the convolutions replaced by one
    FC layer; no output activation, so the generated features are unbounded.

    Parameters
    ----------
    n_latent : int
    n_features : int

    Input (batch, n_latent) float32; output (batch, n_features) float32.
    """

    def __init__(self, n_latent, n_features):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(n_latent, _HIDDEN), nn.ReLU(), nn.BatchNorm1d(_HIDDEN),
            nn.Linear(_HIDDEN, _HIDDEN), nn.ReLU(), nn.BatchNorm1d(_HIDDEN),
            nn.Linear(_HIDDEN, n_features),
        )

    def forward(self, latents):
        return self.fc(latents)


def build_generator(n_latent, input_shape):
    """G for ``input_shape``: :class:`Generator` for images, :class:`MLPGenerator` for tables."""
    if is_table(input_shape):
        return MLPGenerator(n_latent, input_shape[0])
    return Generator(n_latent, input_shape[0], input_shape[1])


class DiscriminatorQ(nn.Module):
    """D and Q on a shared spectrally normalised trunk (``InfoGAN-CR_dSprites/gan/network.py``).

    ``forward`` returns ``(d_logit, q_codes)``: the real/fake logit of shape
    (batch,) and Q's code means of shape (batch, n_codes) (no variance: the
    mutual-information term uses a fixed sigma = 1).

    Parameters
    ----------
    n_codes : int
    input_shape : tuple of int, default=(1, 64, 64)
        (C, H, W) for images (:func:`conv_trunk`), (d,) for tables (:func:`mlp_trunk`).
    """

    def __init__(self, n_codes, input_shape=(1, 64, 64)):
        super().__init__()
        self.trunk = feature_trunk(input_shape)
        self.d_head = _sn(nn.Linear(_HIDDEN, 1))
        self.q_head = nn.Sequential(
            _sn(nn.Linear(_HIDDEN, _HIDDEN)), nn.LeakyReLU(0.2), _sn(nn.Linear(_HIDDEN, n_codes))
        )

    def forward(self, inputs):
        features = self.trunk(inputs)
        return self.d_head(features).squeeze(1), self.q_head(features)

    def encode(self, inputs):
        """Q's code means only, shape (batch, n_codes)."""
        return self.q_head(self.trunk(inputs))


class CRDiscriminator(nn.Module):
    """CR discriminator H: which code does a generated pair share? (InfoGAN-CR, Sec. 3).

    Input: the two samples of each pair stacked on the first axis: images
    (batch, 2C, H, W), table rows (batch, 2d); output: (batch, n_codes)
    logits. Spectral norm on all layers but the last.

    Parameters
    ----------
    n_codes : int
    input_shape : tuple of int, default=(1, 64, 64)
        The shape of *one* sample: (C, H, W) or (d,).
    """

    def __init__(self, n_codes, input_shape=(1, 64, 64)):
        super().__init__()
        self.trunk = feature_trunk(input_shape, copies=2)
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


class VAEEncoder(nn.Module):
    """Gaussian encoder q(z|x) of the VAE baselines (``FactorVAE_dSprites/gan/network.py``).

    Images: stride-2 convolutions (kernel 4) with 32, 32, 64, 64 channels
    (64x64; 32, 64, 64 for 32x32), each followed by ReLU; FC 128 with no
    activation (as in the authors' code and Kim & Mnih 2018, Table 2).
    Tables: FC 128 -> ReLU; FC 128 with no activation. Then two FC heads of
    ``n_latent`` units: the posterior mean and log-variance.

    Parameters
    ----------
    n_latent : int
    input_shape : tuple of int, default=(1, 64, 64)
        (C, H, W) for images, (d,) for tables.

    Input (batch, *input_shape) float32; ``forward`` returns ``(mean, logvar)``,
    each (batch, n_latent) float32, unbounded.
    """

    def __init__(self, n_latent, input_shape=(1, 64, 64)):
        super().__init__()
        if is_table(input_shape):
            layers = [nn.Linear(input_shape[0], _HIDDEN), nn.ReLU()]
            width = _HIDDEN
        else:
            layers = _conv_stack(input_shape[0], input_shape[1], nn.ReLU, sn=False)
            width = _TRUNK_CHANNELS[-1] * _BASE_SIZE**2
        self.trunk = nn.Sequential(*layers, nn.Linear(width, _HIDDEN))
        self.mean = nn.Linear(_HIDDEN, n_latent)
        self.logvar = nn.Linear(_HIDDEN, n_latent)

    def forward(self, inputs):
        features = self.trunk(inputs)
        return self.mean(features), self.logvar(features)


class VAEDecoder(nn.Module):
    """Bernoulli decoder p(x|z) of the VAEs for images (``FactorVAE_dSprites/gan/network.py``).

    FC 128 -> ReLU; FC 4*4*64 -> ReLU; transposed convs (kernel 4, stride 2)
    to 64, 32, 32 channels (8, 16, 32 px; 64, 32 for 32x32 images), each ->
    ReLU; a last transposed conv to ``out_channels`` at ``image_size``. No
    batch norm.

    Parameters
    ----------
    n_latent : int
    out_channels : int, default=1
    image_size : {32, 64}, default=64

    Input (batch, n_latent) float32; output (batch, out_channels, image_size,
    image_size) float32 Bernoulli **logits** (apply a sigmoid for pixel probabilities).
    """

    def __init__(self, n_latent, out_channels=1, image_size=64):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(n_latent, _HIDDEN), nn.ReLU(),
            nn.Linear(_HIDDEN, 64 * _BASE_SIZE**2), nn.ReLU(),
        )
        self.deconv = _deconv_stack(out_channels, image_size, nn.ReLU, batch_norm=False)

    def forward(self, latents):
        return self.deconv(self.fc(latents).view(-1, 64, _BASE_SIZE, _BASE_SIZE))


class MLPDecoder(nn.Module):
    """Gaussian decoder p(x|z) of the VAE baselines for tables.

    FC 128 -> ReLU, twice, then FC to the features: the means of a Gaussian
    likelihood with unit variance (see :func:`disentangle.vae.gaussian_nll`).

    Parameters
    ----------
    n_latent : int
    n_features : int

    Input (batch, n_latent) float32; output (batch, n_features) float32 means, unbounded.
    """

    def __init__(self, n_latent, n_features):
        super().__init__()
        self.fc = nn.Sequential(
            nn.Linear(n_latent, _HIDDEN), nn.ReLU(),
            nn.Linear(_HIDDEN, _HIDDEN), nn.ReLU(),
            nn.Linear(_HIDDEN, n_features),
        )

    def forward(self, latents):
        return self.fc(latents)


def build_vae_decoder(n_latent, input_shape):
    """The decoder for ``input_shape``: :class:`VAEDecoder` or :class:`MLPDecoder`."""
    if is_table(input_shape):
        return MLPDecoder(n_latent, input_shape[0])
    return VAEDecoder(n_latent, input_shape[0], input_shape[1])


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


#: The default network of each role: :func:`initialize_if_default` gives them the
#: official initialisation.
DEFAULT_NETWORKS = (build_generator, DiscriminatorQ, CRDiscriminator, VAEEncoder,
                    build_vae_decoder, TCDiscriminator)


def initialize_if_default(module, factory):
    """Apply the official :func:`init_weights` to ``module`` when ``factory`` is a default
    network; a user's network keeps its own initialisation."""
    if factory in DEFAULT_NETWORKS:
        init_weights(module)
