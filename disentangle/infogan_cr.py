"""InfoGAN-CR: InfoGAN with a cooperative contrastive regulariser (Lin et al., ICML 2020).

The CR pair sampler, the losses, the training step and the CR schedule. The
training engine is a skorch ``NeuralNet`` whose ``module_`` is the generator G
and which registers the discriminator/encoder D/Q and the CR discriminator H
as extra modules with their own Adam optimisers. Every detail follows SPEC.md
and the official code (``InfoGAN-CR_dSprites/gan/infogan_cr.py``).
"""

import torch
import torch.nn.functional as F
from skorch.callbacks import Callback

from disentangle._base import GenerativeEstimator, TrainingNet, to_float, torch_seed
from disentangle.networks import CRDiscriminator, DiscriminatorQ, Generator, init_weights

_LOSS_NAMES = ["discriminator_loss", "info_loss", "cr_loss", "cr_accuracy"]


def sample_uniform_latents(n, n_latent, generator, device):
    """Latents ``[c, z]`` with every entry i.i.d. U(-1, 1), shape (n, n_latent)."""
    return torch.rand(n, n_latent, generator=generator, device=device).mul_(2).sub_(1)


def sample_cr_pairs(n, n_codes, n_noise, gap, generator, device="cpu"):
    """Latent pairs for the contrastive regulariser (InfoGAN-CR, Sec. 3; official ``sample_cr``).

    For each pair a shared code index ``i`` is drawn uniformly from
    ``{0, ..., n_codes - 1}``; code ``i`` takes the same U(-1, 1) value in both
    latents. Every other code is drawn independently for the two latents, at
    least ``gap`` apart: both are drawn from U(-1 + gap/2, 1 - gap/2), then the
    larger is pushed up and the smaller down by ``gap / 2``. The noise ``z``
    is the same in both latents.

    Parameters
    ----------
    n : int
        Number of pairs.
    n_codes, n_noise : int
    gap : float
        Minimum distance in [0, 2) between the non-shared codes of a pair.
    generator : torch.Generator
    device : str or torch.device, default="cpu"

    Returns
    -------
    latents_a, latents_b : Tensor of shape (n, n_codes + n_noise), float32
    shared : Tensor of shape (n,), int64
        The index of the shared code of each pair, the CR discriminator's target.
    """
    half = gap / 2.0
    u = sample_uniform_latents(2 * n, n_codes, generator, device).mul_(1.0 - half)
    u = u.view(2, n, n_codes)
    push = torch.where(u[0] >= u[1], half, -half)
    codes_a, codes_b = u[0] + push, u[1] - push
    shared = torch.randint(n_codes, (n,), generator=generator, device=device)
    rows = torch.arange(n, device=device)
    codes_b[rows, shared] = codes_a[rows, shared] = u[0, rows, shared]
    noise = sample_uniform_latents(n, n_noise, generator, device)
    return torch.cat([codes_a, noise], 1), torch.cat([codes_b, noise], 1), shared


def _fraction_or_iteration(value, max_iter):
    """A schedule point given as an int iteration or a float fraction of ``max_iter``."""
    if value is None:
        return None
    if isinstance(value, float):
        return int(round(value * max_iter))
    return int(value)


class CRSchedule(Callback):
    """The CR weight and gap schedule; re-initialises H and its Adam state at each change.

    Before iteration ``cr_start`` the CR weight alpha is 0 (H still trains); from
    it on alpha = ``cr_weight``. The gap is ``gap`` before iteration
    ``gap_end`` and 0 from it on. As in the official code, H and its optimiser
    state are re-initialised whenever alpha rises or the gap falls.
    """

    def __init__(self, cr_weight, cr_start, gap, gap_end):
        self.cr_weight = cr_weight
        self.cr_start = cr_start
        self.gap = gap
        self.gap_end = gap_end

    def weight_and_gap(self, iteration):
        """(alpha, gap) in force at ``iteration`` (0-based)."""
        alpha = self.cr_weight if iteration >= self.cr_start else 0.0
        gap = self.gap if self.gap_end is None or iteration < self.gap_end else 0.0
        return alpha, gap

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        previous = self.weight_and_gap(net.n_iter_ - 1) if net.n_iter_ > 0 else None
        net.cr_weight_, net.gap_ = self.weight_and_gap(net.n_iter_)
        if previous is not None and (net.cr_weight_ > previous[0] or net.gap_ < previous[1]):
            net.reset_cr_discriminator()


class InfoGANCRNet(TrainingNet):
    """skorch engine of :class:`InfoGANCR`: G is ``module_``, D/Q and H are extra modules.

    One iteration (official ``train``): on the same real batch and latents,
    one H step, one D/Q step, then two G steps.
    """

    def initialize_module(self):
        cfg = self.config
        n_latent = cfg["n_codes"] + cfg["n_noise"]
        channels = cfg["image_shape"][0]
        self.rng_ = torch.Generator(device=self.device).manual_seed(cfg["seed"] + 1)
        with torch_seed(cfg["seed"]):
            self.module_ = Generator(n_latent, channels)
            self.discriminator_ = DiscriminatorQ(cfg["n_codes"], channels)
            self.cr_discriminator_ = CRDiscriminator(cfg["n_codes"], channels)
            for module in (self.module_, self.discriminator_, self.cr_discriminator_):
                init_weights(module)
        self.n_iter_ = 0
        self.n_cr_resets_ = 0
        self.cr_weight_, self.gap_ = 0.0, 0.0
        return self

    def initialize_optimizer(self, triggered_directly=None):
        cfg = self.config
        self.optimizer_ = self._adam(self.module_, cfg["lr_generator"])
        self.optimizer_discriminator_ = self._adam(self.discriminator_, cfg["lr_discriminator"])
        self.optimizer_cr_discriminator_ = self._adam(
            self.cr_discriminator_, cfg["lr_cr_discriminator"]
        )
        return self

    def _adam(self, module, lr):
        return torch.optim.Adam(module.parameters(), lr=lr, betas=self.config["betas"])

    def reset_cr_discriminator(self):
        """Re-initialise H's weights and its Adam state, reproducibly from the seed."""
        self.n_cr_resets_ += 1
        with torch_seed(self.config["seed"] + 1 + self.n_cr_resets_):
            fresh = CRDiscriminator(self.config["n_codes"], self.config["image_shape"][0])
            init_weights(fresh)
        self.cr_discriminator_.load_state_dict(fresh.state_dict())
        self.optimizer_cr_discriminator_ = self._adam(
            self.cr_discriminator_, self.config["lr_cr_discriminator"]
        )

    def train_step(self, batch, **fit_params):
        cfg, rng = self.config, self.rng_
        real = to_float(batch, self.device, cfg["input_scale"])
        n, device = len(real), real.device
        latents = sample_uniform_latents(n, cfg["n_codes"] + cfg["n_noise"], rng, device)
        codes = latents[:, : cfg["n_codes"]]
        pairs = sample_cr_pairs(n, cfg["n_codes"], cfg["n_noise"], self.gap_, rng, device)

        cr_loss, cr_accuracy = self._cr_discriminator_step(pairs)
        d_loss, _ = self._discriminator_step(real, latents, codes)
        for _ in range(2):
            g_loss, info_loss = self._generator_step(latents, codes, pairs)
        self.n_iter_ += 1
        self.record(discriminator_loss=d_loss, info_loss=info_loss, cr_loss=cr_loss,
                    cr_accuracy=cr_accuracy)
        return {"loss": g_loss, "y_pred": None}

    def _render_pairs(self, pairs):
        """Both images of each CR pair stacked on the channel axis, (n, 2C, H, W)."""
        latents_a, latents_b, _ = pairs
        return torch.cat([self.module_(latents_a), self.module_(latents_b)], dim=1)

    def _cr_discriminator_step(self, pairs):
        # As in the official code, G runs its batch-norm in training mode for the
        # CR images only once the CR term is on.
        self.module_.train(self.cr_weight_ > 0)
        with torch.no_grad():
            images = self._render_pairs(pairs)
        self.cr_discriminator_.train()
        logits = self.cr_discriminator_(images)
        loss = F.cross_entropy(logits, pairs[2])
        self.optimizer_step(
            self.optimizer_cr_discriminator_, loss, self.cr_discriminator_.parameters()
        )
        accuracy = (logits.argmax(1) == pairs[2]).float().mean()
        return loss.detach(), accuracy

    def _info_loss(self, q_codes, codes):
        """Gaussian negative log-likelihood with sigma = 1, constants dropped (SPEC.md)."""
        return 0.5 * (q_codes - codes).pow(2).sum(1).mean()

    def _discriminator_step(self, real, latents, codes):
        self.module_.train()
        with torch.no_grad():
            fake = self.module_(latents)
        # One spectral-norm power iteration per training iteration, as the
        # official code: only the forward pass on real images updates u and v.
        self.discriminator_.train()
        d_real, _ = self.discriminator_(real)
        self.discriminator_.eval()
        d_fake, q_fake = self.discriminator_(fake)
        info = self._info_loss(q_fake, codes)
        loss = (
            F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
            + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
            + self.config["info_weight"] * info
        )
        self.optimizer_step(self.optimizer_discriminator_, loss, self.discriminator_.parameters())
        return loss.detach(), info.detach()

    def _generator_step(self, latents, codes, pairs):
        self.module_.train()
        self.discriminator_.eval()
        d_fake, q_fake = self.discriminator_(self.module_(latents))
        info = self._info_loss(q_fake, codes)
        # Non-saturating generator loss (Goodfellow et al. 2014).
        loss = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
        loss = loss + self.config["info_weight"] * info
        if self.cr_weight_ > 0:
            self.cr_discriminator_.eval()
            cr = F.cross_entropy(self.cr_discriminator_(self._render_pairs(pairs)), pairs[2])
            loss = loss + self.cr_weight_ * cr
        self.optimizer_step(self.optimizer_, loss, self.module_.parameters())
        return loss.detach(), info.detach()


class InfoGANCR(GenerativeEstimator):
    """InfoGAN with a contrastive regulariser (InfoGAN-CR; Lin et al., ICML 2020).

    A GAN whose generator G maps latents ``[c, z]`` (``n_codes`` codes, then
    ``n_noise`` noise dims, all U(-1, 1)) to images; an encoder Q, sharing
    D's trunk, recovers the codes (the InfoGAN mutual-information term); and a
    CR discriminator H must tell which code a pair of generated images shares,
    a task G cooperates on (Sec. 3 of the paper). ``transform`` returns Q's
    code means.

    Parameters
    ----------
    n_codes : int, default=5
        Number of latent codes ``c`` (the disentangled factors).
    n_noise : int, default=5
        Number of noise dims ``z``.
    info_weight : float, default=0.05
        lambda, the weight of the mutual-information term in G's and D/Q's loss.
    cr_weight : float, default=2.0
        alpha, the weight of the CR term in G's loss once it is switched on.
    cr_start : int or float, default=0.893
        Iteration at which alpha switches on; a float is a fraction of
        ``max_iter`` (the paper: 288,000 of 322,560 iterations).
    gap : float, default=0.0
        Minimum distance in [0, 2) between the non-shared codes of a CR pair.
    gap_end : int, float or None, default=None
        Iteration (or fraction of ``max_iter``) from which the gap is 0; None keeps it.
    lr_generator, lr_discriminator, lr_cr_discriminator : float, default=1e-3, 2e-3, 2e-3
        Adam learning rates of G, D/Q and H.
    betas : tuple of float, default=(0.5, 0.999)
        Adam betas of all three optimisers.
    batch_size : int, default=64
    max_iter : int, default=322_560
        Training iterations (the paper: 28 epochs of dSprites).
    device : str, default="auto"
        ``"auto"`` uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, batches and latents: the same seed gives the same model on CPU.
    verbose : int, default=0
        1 prints a progress bar and a log row per pass over the data.
    callbacks : list of skorch callbacks or (name, callback) tuples, optional
        Extra callbacks of the training net (e.g. skorch ``Checkpoint`` or a
        score logged every few iterations); they see ``net.n_iter_``.

    Attributes
    ----------
    net_ : InfoGANCRNet
        The fitted skorch net (``net_.module_`` is G; ``discriminator_``, ``cr_discriminator_``).
    n_codes_, n_latent_ : int
    image_shape_ : tuple (C, H, W)
    n_features_in_ : int
    input_scale_ : float
        1/255 for uint8 images with values above 1, else 1.
    device_ : torch.device
    history_ : skorch History
        Losses per iteration (batch) and per pass.
    n_iter_ : int
        Iterations run.

    Notes
    -----
    Training images stay in their dtype (uint8 in memory) and become float one
    batch at a time.
    """

    #: Support of the codes' prior, swept by latent traversals.
    traversal_range = (-1.0, 1.0)

    def __init__(
        self,
        n_codes=5,
        n_noise=5,
        info_weight=0.05,
        cr_weight=2.0,
        cr_start=0.893,
        gap=0.0,
        gap_end=None,
        lr_generator=1e-3,
        lr_discriminator=2e-3,
        lr_cr_discriminator=2e-3,
        betas=(0.5, 0.999),
        batch_size=64,
        max_iter=322_560,
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
    ):
        self.n_codes = n_codes
        self.n_noise = n_noise
        self.info_weight = info_weight
        self.cr_weight = cr_weight
        self.cr_start = cr_start
        self.gap = gap
        self.gap_end = gap_end
        self.lr_generator = lr_generator
        self.lr_discriminator = lr_discriminator
        self.lr_cr_discriminator = lr_cr_discriminator
        self.betas = betas
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks

    def fit(self, X, y=None):
        """Train InfoGAN-CR on images.

        Parameters
        ----------
        X : array-like of shape (n, H, W) or (n, C, H, W)
            Images of size 64x64; bool, uint8 (0..1 or 0..255) or float in [0, 1].
            Not copied: batches become float one at a time.
        y : ignored

        Returns
        -------
        self : InfoGANCR

        Raises
        ------
        ValueError
            Invalid images (see :func:`disentangle._base.validate_images`).
        """
        X = self._fit_context(X)
        net_seed, batch_seed = self._fit_seeds()
        schedule = CRSchedule(
            self.cr_weight,
            _fraction_or_iteration(self.cr_start, self.max_iter),
            self.gap,
            _fraction_or_iteration(self.gap_end, self.max_iter),
        )
        net = InfoGANCRNet(
            Generator,
            criterion=torch.nn.BCEWithLogitsLoss,
            config=self._net_config(net_seed),
            **self._engine_params(len(X), batch_seed, _LOSS_NAMES, [("cr_schedule", schedule)]),
        )
        return self._train(net, X, self.n_codes, self.n_codes + self.n_noise)

    def _net_config(self, seed):
        return {
            "n_codes": self.n_codes, "n_noise": self.n_noise, "image_shape": self.image_shape_,
            "info_weight": self.info_weight, "lr_generator": self.lr_generator,
            "lr_discriminator": self.lr_discriminator,
            "lr_cr_discriminator": self.lr_cr_discriminator, "betas": tuple(self.betas),
            "input_scale": self.input_scale_, "seed": seed,
        }

    def _draw_prior(self, rng, n_samples):
        return rng.uniform(-1.0, 1.0, size=(n_samples, self.n_latent_))

    def _encode_batch(self, images):
        return self.net_.discriminator_.eval().encode(images)
