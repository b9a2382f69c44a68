"""InfoGAN-CR: InfoGAN with a cooperative contrastive regulariser (Lin et al., ICML 2020).

The CR pair sampler, the losses, the training step and the CR schedule. The
training engine is a skorch ``NeuralNet`` whose ``module_`` is the generator G
and which registers the discriminator/encoder D/Q and the CR discriminator H
as extra modules with their own Adam optimisers. Every detail follows the
official code (`fjxmlzn/InfoGAN-CR` ``InfoGAN-CR_dSprites/gan/infogan_cr.py``,
``network.py`` and ``config.py``); the user guide's :ref:`paper` page maps each
choice of the paper onto this code.
"""

import warnings
from numbers import Integral, Real
from typing import NamedTuple

import torch
import torch.nn.functional as F

from disentangle._base import GenerativeEstimator
from disentangle._compat import RealNotInt, _fit_context
from disentangle._engine import StretchMonitor, TrainingNet, to_float, torch_seed
from disentangle._validation import ADAM_BETAS, Number
from disentangle._warnings import user_frame
from disentangle.networks import (
    CRDiscriminator,
    DiscriminatorQ,
    build_generator,
    initialize_if_default,
)

#: Batch-level history keys besides ``train_loss`` (G's loss). ``adversarial_loss`` is D's
#: real/fake loss without the information term (watched by ``DiscriminatorDominance``),
#: ``sample_diversity`` the spread of G's batch relative to the data's (``SampleCollapse``).
_LOSS_NAMES = ["discriminator_loss", "adversarial_loss", "info_loss", "cr_loss", "cr_accuracy",
               "sample_diversity"]


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


# --- GAN monitors ---------------------------------------------------------------------------------


def sample_diversity(generated, data):
    """Spread of generated samples relative to the data's, over a batch.

    The mean over features of the standard deviation across the batch, of
    ``generated`` divided by that of ``data``: about 1 for a healthy
    generator, near 0 when all samples collapse to one. 1 when the data
    batch has no spread.

    Parameters
    ----------
    generated, data : Tensor of shape (M, ...)

    Returns
    -------
    diversity : Tensor, scalar
    """
    spread = generated.detach().flatten(1).std(0, unbiased=False).mean()
    reference = data.flatten(1).std(0, unbiased=False).mean()
    return torch.where(reference > 0, spread / reference.clamp_min(1e-12), torch.ones_like(spread))


class DiscriminatorDominance(StretchMonitor):
    """Warn when the GAN discriminator wins completely for a long stretch.

    Its real/fake loss (``adversarial_loss``: the two cross-entropies,
    ``2 log 2`` at the balance point) below ``threshold`` means it tells every
    real and generated sample apart with near certainty: the generator then
    gets no useful gradient.

    Parameters
    ----------
    threshold : float, default=0.01
    patience : int, default=500
    """

    key = "adversarial_loss"
    problem = ("the discriminator has won completely (the generator gets no useful gradient; "
               "try a lower lr_discriminator or a higher lr_generator)")

    def __init__(self, threshold=0.01, patience=500):
        super().__init__(threshold, patience)


class SampleCollapse(StretchMonitor):
    """Warn when the generated samples collapse to (nearly) one sample.

    ``sample_diversity`` (see :func:`sample_diversity`) below ``threshold``:
    the generated batch spreads less than ``threshold`` times the data batch.

    Parameters
    ----------
    threshold : float, default=0.02
    patience : int, default=500
    """

    key = "sample_diversity"
    problem = "the generated samples have collapsed to nearly one sample"

    def __init__(self, threshold=0.02, patience=500):
        super().__init__(threshold, patience)


# --- The CR schedule ------------------------------------------------------------------------------


def _fraction_or_iteration(value, max_iter):
    """A schedule point given as an int iteration or a float fraction of ``max_iter``."""
    if value is None:
        return None
    if isinstance(value, float):
        return int(round(value * max_iter))
    return int(value)


class CRState(NamedTuple):
    """What the CR schedule sets for one iteration."""

    #: alpha, the weight of the CR term in G's loss.
    cr_weight: float
    #: Minimum distance between the non-shared codes of a CR pair.
    gap: float
    #: Whether H trains in this iteration.
    trains_cr_discriminator: bool
    #: Whether H and its Adam state start afresh before this iteration.
    resets_cr_discriminator: bool


class CRSchedule(NamedTuple):
    """The CR weight and gap schedule, a pure function of the iteration (:meth:`state`).

    Before iteration ``cr_start`` the CR weight alpha is 0; from it on alpha =
    ``cr_weight``. H trains from ``cr_warmup`` iterations before ``cr_start``
    (when ``cr_weight`` > 0). The gap is ``gap`` before iteration ``gap_end``
    and 0 from it on. H and its optimiser state are re-initialised when H
    starts training and whenever the gap falls while it trains. With
    ``cr_warmup=0`` this is the official code's schedule, which trains H from
    the start but re-initialises it when alpha rises (its earlier training
    never reaches G). All points are iterations (0-based).
    """

    cr_weight: float
    cr_start: int
    gap: float
    gap_end: int | None
    cr_warmup: int = 0

    def state(self, iteration):
        """The :class:`CRState` of ``iteration`` (0-based), from the iteration alone.

        H resets when it trains now and did not at the previous iteration, or
        the gap fell; never at iteration 0 (H is fresh then).
        """
        alpha, gap, trains_h = self._at(iteration)
        resets = False
        if iteration > 0 and trains_h:
            _, previous_gap, previous_trains_h = self._at(iteration - 1)
            resets = not previous_trains_h or gap < previous_gap
        return CRState(alpha, gap, trains_h, resets)

    def _at(self, iteration):
        alpha = self.cr_weight if iteration >= self.cr_start else 0.0
        gap = self.gap if self.gap_end is None or iteration < self.gap_end else 0.0
        trains_h = self.cr_weight > 0 and iteration >= self.cr_start - self.cr_warmup
        return alpha, gap, trains_h


#: The built-in networks of the parameters that name a network factory (None).
_DEFAULT_NETWORKS = {"discriminator": DiscriminatorQ, "cr_discriminator": CRDiscriminator}


class InfoGANCRNet(TrainingNet):
    """skorch engine of :class:`InfoGANCR`: G is ``module_``, D/Q and H are extra modules.

    One iteration (official ``train``): on the same real batch and latents,
    one H step, one D/Q step, then ``generator_steps`` G steps (the paper: two).
    H is trained from ``cr_warmup`` iterations before alpha switches on (see
    :class:`CRSchedule`): the official code also trains it before, but
    re-initialises it (and its Adam state) when alpha switches on, so that
    training never reaches G. G's forward pass of
    the D/Q step is reused by the first G step (G has not changed in between).
    """

    def initialize_module(self):
        """Build G (``self.module``, the generator factory), D/Q and H from the seed.

        The factories are called as ``factory(n_latent or n_codes, input_shape)``;
        the default networks get the official initialisation (:func:`init_weights`).
        """
        cfg = self.config
        shape, n_codes = cfg["input_shape"], cfg["n_codes"]
        discriminator = self.factory("discriminator")
        cr_discriminator = self.factory("cr_discriminator")
        with torch_seed(cfg["seed"]):
            self.module_ = self.module(n_codes + cfg["n_noise"], shape)
            self.discriminator_ = discriminator(n_codes, shape)
            self.cr_discriminator_ = cr_discriminator(n_codes, shape)
            for module, factory in ((self.module_, self.module),
                                    (self.discriminator_, discriminator),
                                    (self.cr_discriminator_, cr_discriminator)):
                initialize_if_default(module, factory)
        self.n_cr_resets_ = 0
        self.cr_weight_, self.gap_, self.trains_cr_discriminator_ = 0.0, 0.0, False
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
        return torch.optim.Adam(module.parameters(), lr=lr, betas=tuple(self.config["betas"]))

    def factory(self, name):
        """The network factory of parameter ``name`` (None: the built-in network)."""
        return self.config[name] or _DEFAULT_NETWORKS[name]

    def reset_cr_discriminator(self):
        """Re-initialise H's weights and its Adam state, reproducibly from the seed."""
        self.n_cr_resets_ += 1
        cfg = self.config
        with torch_seed(cfg["seed"] + 1 + self.n_cr_resets_):
            factory = self.factory("cr_discriminator")
            fresh = factory(cfg["n_codes"], cfg["input_shape"])
            initialize_if_default(fresh, factory)
        self.cr_discriminator_.load_state_dict(fresh.state_dict())
        self.optimizer_cr_discriminator_ = self._adam(
            self.cr_discriminator_, self.config["lr_cr_discriminator"]
        )

    def counters(self):
        """The iteration and the number of H re-initialisations (the CR schedule's state)."""
        return {**super().counters(), "n_cr_resets": self.n_cr_resets_}

    def set_counters(self, counters):
        super().set_counters(counters)
        self.n_cr_resets_ = counters["n_cr_resets"]

    def train_iteration(self, batch):
        """One iteration: the schedule's state, then H, D/Q and G steps, in that order."""
        cfg, rng = self.config, self.rng_
        schedule = cfg["cr_schedule"].state(self.n_iter_)
        if schedule.resets_cr_discriminator:
            self.reset_cr_discriminator()
        # Kept on the net for callbacks and logs (e.g. benchmarks/learning_curve.py).
        self.cr_weight_, self.gap_, self.trains_cr_discriminator_ = schedule[:3]

        real = to_float(batch, self.device, cfg["input_scale"])
        n, device = len(real), real.device
        latents = sample_uniform_latents(n, cfg["n_codes"] + cfg["n_noise"], rng, device)
        codes = latents[:, : cfg["n_codes"]]
        terms, pairs = {}, None
        if schedule.trains_cr_discriminator:
            pairs = sample_cr_pairs(n, cfg["n_codes"], cfg["n_noise"], schedule.gap, rng, device)
            terms["cr_loss"], terms["cr_accuracy"] = self._cr_discriminator_step(pairs)
        # G's samples of this iteration serve the D/Q step (detached) and the first G
        # step: G does not change in between, so its forward pass is done once.
        self.module_.train()
        fake = self.module_(latents)
        terms.update(self._discriminator_step(real, fake.detach(), codes))
        for _ in range(cfg["generator_steps"]):
            g_loss, terms["info_loss"] = self._generator_step(fake, latents, codes, pairs,
                                                              schedule.cr_weight)
            fake = None
        return g_loss, terms

    def _render_pairs(self, pairs):
        """Both samples of each CR pair stacked on axis 1: images (n, 2C, H, W), rows (n, 2d)."""
        latents_a, latents_b, _ = pairs
        return torch.cat([self.module_(latents_a), self.module_(latents_b)], dim=1)

    def _cr_discriminator_step(self, pairs):
        self.module_.train()
        with torch.no_grad():
            images = self._render_pairs(pairs)
        self.cr_discriminator_.train()
        logits = self.cr_discriminator_(images)
        loss = F.cross_entropy(logits, pairs[2])
        self.optimizer_step(self.optimizer_cr_discriminator_, loss, ["cr_discriminator"])
        accuracy = (logits.argmax(1) == pairs[2]).float().mean()
        return loss.detach(), accuracy

    def _info_loss(self, q_codes, codes):
        """Gaussian negative log-likelihood with sigma = 1, constants dropped: the paper's
        mutual-information term (Sec. 3; ``InfoGAN-CR_dSprites/gan/infogan_cr.py``)."""
        return 0.5 * (q_codes - codes).pow(2).sum(1).mean()

    def _discriminator_step(self, real, fake, codes):
        # One spectral-norm power iteration per training iteration, as the
        # official code: only the forward pass on real images updates u and v.
        self.discriminator_.train()
        d_real, _ = self.discriminator_(real)
        self.discriminator_.eval()
        d_fake, q_fake = self.discriminator_(fake)
        info = self._info_loss(q_fake, codes)
        adversarial = (
            F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
            + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        )
        loss = adversarial + self.config["info_weight"] * info
        self.optimizer_step(self.optimizer_discriminator_, loss, ["discriminator"])
        return {"discriminator_loss": loss.detach(), "adversarial_loss": adversarial.detach(),
                "sample_diversity": sample_diversity(fake, real)}

    def _generator_step(self, fake, latents, codes, pairs, cr_weight):
        """One G step; ``fake`` is G(latents) in the current graph, or None to render it;
        ``cr_weight`` is alpha (0: no CR term)."""
        self.discriminator_.eval()
        if fake is None:
            fake = self.module_(latents)
        d_fake, q_fake = self.discriminator_(fake)
        info = self._info_loss(q_fake, codes)
        # Non-saturating generator loss (Goodfellow et al. 2014).
        loss = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
        loss = loss + self.config["info_weight"] * info
        if cr_weight > 0:
            self.cr_discriminator_.eval()
            cr = F.cross_entropy(self.cr_discriminator_(self._render_pairs(pairs)), pairs[2])
            loss = loss + cr_weight * cr
        self.optimizer_step(self.optimizer_, loss, ["module"])
        return loss.detach(), info.detach()


#: Named parameter sets for :meth:`InfoGANCR.from_preset`.
PRESETS = {
    # The official dSprites configuration (fjxmlzn/InfoGAN-CR InfoGAN-CR_dSprites/config.py):
    # the class defaults.
    "paper": {},
    # The official settings with the schedule compressed 46x, to 7,000 iterations (CR on for
    # the last 11% as in the paper). Over four seeds it scored higher than the
    # stronger-lambda, earlier-CR settings tried before (the user guide's presets section
    # has its time and scores; benchmarks/learning_curve.py). fast_path="auto": bf16 where the
    # CPU has it natively, and channels-last; over three paired seeds at 7,000 iterations it
    # scored 0.675 +- 0.013 against float32's 0.593 +- 0.022 (benchmarks/fast_path_quality.py).
    "cpu": {"max_iter": 7000, "fast_path": "auto"},
}


class InfoGANCR(GenerativeEstimator):
    """InfoGAN with a contrastive regulariser (InfoGAN-CR; Lin et al., ICML 2020).

    A GAN whose generator G maps latents ``[c, z]`` (``n_codes`` codes, then
    ``n_noise`` noise dims, all U(-1, 1)) to samples; an encoder Q, sharing
    D's trunk, recovers the codes (the InfoGAN mutual-information term); and a
    CR discriminator H must tell which code a pair of generated samples
    shares, a task G cooperates on (Sec. 3 of the paper). ``transform``
    returns Q's code means.

    Two kinds of input: images (n, H, W) or (n, C, H, W) of size 64x64 (the
    paper's) or 32x32 (its CelebA size), with convolutional networks; or a
    table (n, d) of features, with fully-connected networks of the same
    roles (see :mod:`disentangle.networks`). For tables the generator outputs
    unbounded features and D reads them as they are: standardise them first
    (e.g. ``StandardScaler`` in a ``Pipeline``).

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
    cr_warmup : int or float, default=0
        Iterations (or a fraction of ``max_iter``) before ``cr_start`` from
        which H, freshly initialised, trains while alpha is still 0, so that
        G's CR gradient comes from a trained H from the start. 0 is the
        official schedule (H starts afresh when alpha switches on). At most
        ``cr_start`` (``fit`` raises ValueError otherwise).
    gap : float, default=0.0
        Minimum distance in [0, 2) between the non-shared codes of a CR pair.
    gap_end : int, float or None, default=None
        Iteration (or fraction of ``max_iter``) from which the gap is 0; None
        keeps it. ``fit`` warns when it comes before H starts training.
    lr_generator, lr_discriminator, lr_cr_discriminator : float, default=1e-3, 2e-3, 2e-3
        Adam learning rates of G, D/Q and H.
    betas : tuple of float, default=(0.5, 0.999)
        Adam betas of all three optimisers.
    generator_steps : int, default=2
        G steps per iteration, after one H step and one D/Q step (the
        official code: 2).
    batch_size : int, default=64
        At least 2 (G has batch norm).
    max_iter : int, default=322_560
        Training iterations in all (the paper: 28 epochs of dSprites).
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, batches and latents: the same seed gives the same model on
        CPU with the same number of torch threads (``torch.get_num_threads()``;
        the order of floating-point sums, and so the model, depends on it).
    verbose : int, default=0
        0 prints nothing. 1 prints the training log (:ref:`training_log`): a
        row about every twentieth of ``max_iter_`` iterations, rounded to 1, 2
        or 5 times a power of ten (every 20,000 of the default 322,560), with
        the mean of each loss since the previous row and the seconds they took,
        and a last row when training ends between two; on a terminal or in a
        notebook, also a progress bar over each pass through the data. With
        ``max_time``, a first line gives the number of iterations chosen.
    callbacks : list of skorch callbacks or (name, callback) tuples, optional
        Extra callbacks of the training net (e.g. a score logged every few
        iterations); they see ``net.n_iter_``. A callback named like a
        default one replaces it, ``(name, None)`` removes it: "finite_losses"
        (:class:`~disentangle._engine.FiniteLosses`), "discriminator_dominance"
        (:class:`DiscriminatorDominance`), "sample_collapse"
        (:class:`SampleCollapse`), "checkpoint".
        Gradient callbacks (``on_grad_computed``, e.g. skorch's
        ``GradientNormClipping``) run before each of the iteration's
        optimiser steps (H, D/Q, then each G step) on the parameters it updates.
    image_shape : tuple of int (H, W) or (C, H, W), optional
        Read a 2-D training array as flattened images of this shape (rows of
        C*H*W pixels) instead of a table.
    checkpoint_dir : str or path-like, optional
        Folder of the training checkpoint (``checkpoint.pt``), written every
        ``checkpoint_every`` iterations and when training ends or is
        interrupted. Checkpoints are read with ``torch.load(weights_only=True)``.
    checkpoint_every : int, default=1000
    warm_start : bool, default=False
        ``fit`` continues the previous fit, or else the checkpoint in
        ``checkpoint_dir``, until ``max_iter`` iterations in all, bit for bit
        as an uninterrupted fit on CPU. It needs the same data and
        parameters (only ``max_iter``, ``device``, ``random_state``,
        ``verbose``, ``callbacks`` and the checkpoint parameters may change;
        a fractional ``cr_start``, ``cr_warmup`` or ``gap_end`` follows ``max_iter``, with
        a UserWarning when that moves it across iterations already trained). False:
        every ``fit`` starts afresh (and overwrites the checkpoint).
    max_time : float or None, default=None
        Wall-clock budget of ``fit`` in seconds: before training, each phase of
        the schedule is timed for a few iterations (2 % of the budget each) and
        ``max_iter_`` becomes the longest schedule, at most ``max_iter``, that
        fits; during the fit the length is re-planned from the pace measured
        there, every 2 % of the budget, so that the fit ends within a few
        percent of ``max_time`` (passed schedule points stay: after a
        fractional ``cr_start`` the length is fixed; see :ref:`performance`).
        A ``warm_start`` keeps the length chosen by the fit it continues.
    fast_path : None, str or list of str, default=None
        Faster training steps (:ref:`performance`):
        ``"bf16"`` autocast, ``"channels_last"``, ``"compile"``
        (``torch.compile``), ``"cuda_graphs"`` (CUDA only). They give the
        default step's losses to float (bf16: about 1 %) tolerance; None, the
        default, is the reference step, reproducible bit for bit. ``"auto"``:
        the paths the device runs natively (``"bf16"`` only on a GPU or CPU
        with native bf16, e.g. the ``avx512_bf16`` or ``amx_bf16`` CPU flags;
        ``"channels_last"`` for images; never a compile); ``fast_path_``
        records the choice.
    inference_fast_path : None, str or list of str, default=None
        Faster forward passes in ``transform``, ``generate`` and ``sample``
        (and so in the metrics and ModelCentrality's similarity, which call
        them; :ref:`performance`): some of ``"bf16"`` (autocast; the outputs
        are float32 again) and ``"channels_last"``, or ``"auto"`` (as for
        ``fast_path``, without a compile). None, the default, is the reference
        forward pass. Neither is exact: channels-last reorders float32 sums
        (codes within about 1e-6), bf16 rounds to an 8-bit mantissa (codes
        within about 1 %); the user guide's performance page gives their
        pace and their effect on FactorVAE similarities against the votes'
        standard errors. Read at each call, so it can be set after ``fit``
        (``set_params``) without refitting.
    generator : callable, optional
        G for input shapes or architectures the built-in networks do not
        cover: a class or factory called as ``generator(n_latent, input_shape)``
        (``input_shape`` is ``(C, H, W)`` for images, ``(d,)`` for a table)
        that returns a ``torch.nn.Module`` mapping latents of shape
        ``(batch, n_latent)`` to samples of shape ``(batch, *input_shape)``
        (images in [0, 1]: e.g. a sigmoid last). None: the paper's G
        (:func:`~disentangle.networks.build_generator`).
    discriminator : callable, optional
        D and Q: ``discriminator(n_codes, input_shape)`` returns a module whose
        ``forward`` maps samples to ``(d_logits, q_codes)`` of shapes
        ``(batch,)`` and ``(batch, n_codes)`` (an ``encode`` method returning
        ``q_codes`` alone is used by ``transform`` when present). None:
        :class:`~disentangle.networks.DiscriminatorQ`.
    cr_discriminator : callable, optional
        H: ``cr_discriminator(n_codes, input_shape)`` returns a module mapping
        the two samples of each pair stacked on axis 1 (``(batch, 2C, H, W)``
        or ``(batch, 2d)``) to ``(batch, n_codes)`` logits. None:
        :class:`~disentangle.networks.CRDiscriminator`. The built-in networks
        get the official initialisation; a user's network keeps its own. With
        all three given, images of any size are accepted. Define them at
        module level so that fitted models pickle.

    Attributes
    ----------
    net_ : InfoGANCRNet
        The fitted skorch net (``net_.module_`` is G; ``discriminator_``, ``cr_discriminator_``).
    n_codes_, n_latent_ : int
    input_shape_ : tuple of int
        One sample as the networks see it: (C, H, W) for images, (d,) for a table.
    image_shape_ : tuple (C, H, W) or None
        None for a table.
    n_features_in_ : int
        Features per sample (pixels per image).
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame with string column names.
    input_scale_ : float
        1/255 for uint8 images with values above 1, else 1.
    device_ : torch.device
    history_ : skorch History
        Losses per iteration (batch) and per pass.
    n_iter_ : int
        Iterations run in all.
    max_iter_ : int
        Length of the schedule trained: ``max_iter``, or the one fitted to
        ``max_time``. ``max_iter=max_iter_`` without a budget repeats the fit.
    schedule_plans_ : list of dict
        With ``max_time``, the lengths planned (``disentangle._budget.Replanner``):
        before training, then re-planned from the measured pace every 2 % of the
        budget; each with ``iteration``, ``seconds``, ``max_iter`` and ``pace`` (it/s
        of each phase). Empty without a budget.
    fast_path_ : tuple of str
        The fast paths the last ``fit`` trained with, sorted (``()``: the
        reference step); what ``fast_path="auto"`` chose on this device.

    See Also
    --------
    VAE : The VAE baselines of the paper (beta-VAE, FactorVAE, beta-TCVAE).
    ModelCentralitySelector : Pick the best of several InfoGAN-CR runs without labels.
    disentangle.metrics.factor_vae_score : Score the codes against ground-truth factors.
    disentangle.plotting.plot_traversals : One row of generated samples per code.

    Notes
    -----
    Training images stay in their dtype (uint8 in memory) and become float one
    batch at a time. Ctrl-C during ``fit`` stops at the end of the current
    iteration, leaves a usable estimator (with a ``TrainingWarning``) and a
    checkpoint. NaN or infinite losses stop ``fit`` with a
    ``FloatingPointError``; a discriminator that wins completely or samples
    that collapse to one for long stretches give a ``TrainingWarning``.

    References
    ----------
    Z. Lin, K. K. Thekumparampil, G. Fanti and S. Oh, "InfoGAN-CR and
    ModelCentrality: Self-supervised Model Training and Selection for
    Disentangling GANs", ICML 2020 (Sec. 3: the contrastive regulariser;
    Sec. 4: the schedule). Official code: ``fjxmlzn/InfoGAN-CR``.
    X. Chen et al., "InfoGAN: Interpretable Representation Learning by
    Information Maximizing Generative Adversarial Nets", NeurIPS 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from disentangle import InfoGANCR
    >>> X = (np.random.RandomState(0).rand(64, 32, 32) > 0.5).astype(np.uint8)
    >>> model = InfoGANCR(n_codes=3, max_iter=5, batch_size=16, device="cpu",
    ...                   random_state=0).fit(X)
    >>> model.transform(X[:2]).shape
    (2, 3)
    >>> model.sample(4, random_state=0).shape
    (4, 1, 32, 32)
    """

    #: Support of the codes' prior, swept by latent traversals.
    traversal_range = (-1.0, 1.0)

    _parameter_constraints = {
        **GenerativeEstimator._parameter_constraints,
        "n_codes": [Number(Integral, 1, None, closed="left")],
        "n_noise": [Number(Integral, 0, None, closed="left")],
        "info_weight": [Number(Real, 0, None, closed="left")],
        "cr_weight": [Number(Real, 0, None, closed="left")],
        "cr_start": [Number(Integral, 0, None, closed="left"),
                     Number(RealNotInt, 0, 1, closed="both")],
        "cr_warmup": [Number(Integral, 0, None, closed="left"),
                      Number(RealNotInt, 0, 1, closed="both")],
        "gap": [Number(Real, 0, 2, closed="left")],
        "gap_end": [None, Number(Integral, 0, None, closed="left"),
                    Number(RealNotInt, 0, 1, closed="both")],
        "lr_generator": [Number(Real, 0, None, closed="neither")],
        "lr_discriminator": [Number(Real, 0, None, closed="neither")],
        "lr_cr_discriminator": [Number(Real, 0, None, closed="neither")],
        "betas": [ADAM_BETAS],
        "generator_steps": [Number(Integral, 1, None, closed="left")],
        "batch_size": [Number(Integral, 2, None, closed="left")],
        "generator": [callable, None],
        "discriminator": [callable, None],
        "cr_discriminator": [callable, None],
    }

    def __init__(
        self,
        *,
        n_codes=5,
        n_noise=5,
        info_weight=0.05,
        cr_weight=2.0,
        cr_start=0.893,
        cr_warmup=0,
        gap=0.0,
        gap_end=None,
        lr_generator=1e-3,
        lr_discriminator=2e-3,
        lr_cr_discriminator=2e-3,
        betas=(0.5, 0.999),
        generator_steps=2,
        batch_size=64,
        max_iter=322_560,
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        image_shape=None,
        checkpoint_dir=None,
        checkpoint_every=1000,
        warm_start=False,
        max_time=None,
        fast_path=None,
        inference_fast_path=None,
        generator=None,
        discriminator=None,
        cr_discriminator=None,
    ):
        self.n_codes = n_codes
        self.n_noise = n_noise
        self.info_weight = info_weight
        self.cr_weight = cr_weight
        self.cr_start = cr_start
        self.cr_warmup = cr_warmup
        self.gap = gap
        self.gap_end = gap_end
        self.lr_generator = lr_generator
        self.lr_discriminator = lr_discriminator
        self.lr_cr_discriminator = lr_cr_discriminator
        self.betas = betas
        self.generator_steps = generator_steps
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.image_shape = image_shape
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every = checkpoint_every
        self.warm_start = warm_start
        self.max_time = max_time
        self.fast_path = fast_path
        self.inference_fast_path = inference_fast_path
        self.generator = generator
        self.discriminator = discriminator
        self.cr_discriminator = cr_discriminator

    @classmethod
    def from_preset(cls, name, **params):
        """An estimator with a named set of parameters; ``params`` override them.

        Parameters
        ----------
        name : {"paper", "cpu"}
            ``"paper"``: the official dSprites schedule (the defaults: 322,560
            iterations, alpha = 2 from 89.3 % of them on; a GPU job).
            ``"cpu"``: the same settings with the schedule compressed to
            7,000 iterations (alpha = 2 from iteration 6,251) and
            ``fast_path="auto"`` (bf16 autocast where the CPU computes bf16
            natively, and channels-last: about 1.9x the float32 pace on a CPU
            with ``avx512_bf16``, 1.36x without), for dSprites in about 15
            minutes of training on one idle 2-core machine with native bf16
            (the user guide's presets section has the curves and the paired
            fast-path table: FactorVAE score 0.675 +- 0.013 over three seeds
            with ``"auto"``, 0.593 +- 0.022 in float32 on the same seeds); add
            ``max_time=900`` to fit the schedule to 15 minutes of a slower
            machine, ``fast_path=None`` for the reference step.
        **params
            Any other parameters of :class:`InfoGANCR`.

        Returns
        -------
        estimator : InfoGANCR
            Unfitted; ``get_params`` shows every value, so ``clone`` keeps them.

        Raises
        ------
        ValueError
            An unknown preset name.
        """
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; expected one of {sorted(PRESETS)}.")
        return cls(**{**PRESETS[name], **params})

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train InfoGAN-CR on images or on a table.

        Parameters
        ----------
        X : array-like of shape (n, H, W), (n, C, H, W), (n, d), DataFrame or path
            A path names a ``.npy`` file (``np.save``), opened memory-mapped;
            a torch ``TensorDataset`` gives its first tensor.
            Images of size 64x64 or 32x32, bool, uint8 (0..1 or 0..255) or
            float in [0, 1], not copied: batches become float one at a time.
            Or a table of n samples of d numeric features (float32 per batch),
            or images flattened to (n, C*H*W) with ``image_shape``. At least 2
            samples.
        y : ignored

        Returns
        -------
        self : InfoGANCR
            If ``fit`` raises, the estimator is left as it was.

        Raises
        ------
        ValueError
            Invalid parameters or input (see :func:`disentangle._validation.validate_input`),
            ``cr_warmup`` longer than ``cr_start``, or a ``warm_start`` state
            from another fit (see ``warm_start``).
        FloatingPointError
            When a loss becomes NaN or infinite (with the iteration).
        """
        return self._fit(X)

    _network_params = ("generator", "discriminator", "cr_discriminator")

    def _min_samples(self):
        return 2  # batch norm in G

    def _loss_names(self):
        return _LOSS_NAMES

    def _latent_sizes(self):
        return self.n_codes, self.n_codes + self.n_noise

    def _cr_schedule(self, max_iter):
        """The :class:`CRSchedule` of a ``max_iter``-iteration fit (points in iterations)."""
        return CRSchedule(
            self.cr_weight,
            _fraction_or_iteration(self.cr_start, max_iter),
            self.gap,
            _fraction_or_iteration(self.gap_end, max_iter),
            _fraction_or_iteration(self.cr_warmup, max_iter),
        )

    def _phase_starts(self, max_iter):
        """Iterations cost more once H trains (``cr_start - cr_warmup``), more once alpha > 0."""
        schedule = self._cr_schedule(max_iter)
        if schedule.cr_weight <= 0:
            return [0]
        if schedule.cr_warmup == 0:
            return [0, schedule.cr_start]
        return [0, schedule.cr_start - schedule.cr_warmup, schedule.cr_start]

    def _schedule_config(self, max_iter):
        return {"cr_schedule": self._cr_schedule(max_iter)}

    def _schedule_points(self, max_iter):
        """``cr_start``, H's start (with a ``cr_warmup``) and ``gap_end``, in iterations."""
        schedule = self._cr_schedule(max_iter)
        if schedule.cr_weight <= 0:
            return {}
        points = {"cr_start": schedule.cr_start,
                  "gap_end": schedule.gap_end if schedule.gap > 0 else None}
        if self.cr_warmup:
            points["cr_start - cr_warmup"] = schedule.cr_start - schedule.cr_warmup
        return {name: point for name, point in points.items() if point is not None}

    def _check_params(self):
        """Reject a warm-up that starts before iteration 0; warn about a gap that never applies."""
        schedule = self._cr_schedule(self.max_iter)
        if schedule.cr_weight <= 0:
            return
        if schedule.cr_warmup > schedule.cr_start:
            raise ValueError(
                f"cr_warmup ({schedule.cr_warmup} iterations) is longer than cr_start "
                f"({schedule.cr_start}): H would start training before iteration 0. Expected "
                "cr_warmup <= cr_start (with cr_warmup = cr_start H trains from the start)."
            )
        h_start = schedule.cr_start - schedule.cr_warmup
        if schedule.gap > 0 and schedule.gap_end is not None and schedule.gap_end <= h_start:
            warnings.warn(
                f"gap={schedule.gap} ends at iteration {schedule.gap_end}, before H starts "
                f"training at {h_start} (cr_start - cr_warmup): it never applies to a CR pair.",
                UserWarning, **user_frame(),
            )

    def _extra_callbacks(self):
        return [("discriminator_dominance", DiscriminatorDominance()),
                ("sample_collapse", SampleCollapse())]

    def _make_net(self, n_samples, seed, engine_params):
        return InfoGANCRNet(self.generator or build_generator, criterion=None,
                            config=self._net_config(seed), **engine_params)

    def _net_config(self, seed):
        """The net reads the validated parameters themselves, and the facts of this fit."""
        return {**self.get_params(deep=False), "cr_schedule": self._cr_schedule(self.max_iter_),
                "input_shape": self.input_shape_, "input_scale": self.input_scale_, "seed": seed}


    def _draw_prior(self, rng, n_samples):
        return rng.uniform(-1.0, 1.0, size=(n_samples, self.n_latent_))

    def _encode_batch(self, inputs):
        discriminator = self.net_.discriminator_.eval()
        if hasattr(discriminator, "encode"):  # Q alone, without D's head
            return discriminator.encode(inputs)
        return discriminator(inputs)[1]
