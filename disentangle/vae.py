"""The VAE family: β-VAE, FactorVAE, β-TCVAE, DIP-VAE-I and -II, and the annealed β-VAE.

One Gaussian encoder q(z|x) and a decoder p(x|z) (the authors'
``FactorVAE_dSprites/gan/network.py`` in `fjxmlzn/InfoGAN-CR`: Bernoulli for
images; for tables, a Gaussian with unit variance), a N(0, I) prior, and one
of the regularised objectives of :data:`disentangle.vae_objectives.OBJECTIVES`,
minimised per batch of M samples.

The training engine is a skorch net whose ``module_`` is the decoder, with the
encoder and the objective's adversary (FactorVAE's TC discriminator) as extra
modules; the adversary has its own Adam optimiser
(``FactorVAE_dSprites/gan/factorVAE.py``).
"""

import math
from collections.abc import Callable
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils import metadata_routing

from disentangle._base import GenerativeEstimator
from disentangle._compat import StrOptions, _fit_context
from disentangle._engine import TrainingNet, to_float, torch_seed
from disentangle._validation import ADAM_BETAS, Number
from disentangle.networks import (
    VAEEncoder,
    build_vae_decoder,
    init_weights,
    initialize_if_default,
    is_table,
)
from disentangle.vae_objectives import (
    LOSS_NAMES,
    OBJECTIVES,
    TC_ESTIMATORS,
    Batch,
    KLDecomposition,
    discriminator_tc,
    gaussian_kl,
    gaussian_log_density,
    kl_decomposition,
    log_importance_weights,
    objective_params,
    parameter_constraints,
    permute_dims,
)

__all__ = [
    "VAE", "VAENet", "VAE_MODULES", "LIKELIHOODS", "Likelihood", "bernoulli_nll", "gaussian_nll",
    "reparameterize",
    # The loss terms' home before disentangle.vae_objectives: still importable from here.
    "LOSS_NAMES", "OBJECTIVES", "TC_ESTIMATORS", "KLDecomposition", "discriminator_tc",
    "gaussian_kl", "gaussian_log_density", "kl_decomposition", "log_importance_weights",
    "permute_dims",
]

_LOG_2PI = math.log(2.0 * math.pi)
#: The modules of the VAE step, in the order of their optimiser's parameters.
VAE_MODULES = ("encoder", "module")


# --- Likelihoods ------------------------------------------------------------------------------


def bernoulli_nll(logits, images):
    """Bernoulli negative log-likelihood: sigmoid cross-entropy summed over pixels, batch mean.

    As ``en_de_loss_recon`` in the authors' ``factorVAE.py``.

    Parameters
    ----------
    logits : Tensor of shape (M, C, H, W), float32
        Decoder output.
    images : Tensor of shape (M, C, H, W), float32 in [0, 1]

    Returns
    -------
    nll : Tensor, scalar, >= 0 (nats per image)
    """
    return F.binary_cross_entropy_with_logits(logits, images, reduction="sum") / len(images)


def gaussian_nll(means, features):
    """Gaussian negative log-likelihood with unit variance, summed over features, batch mean.

    ½ Σ_d [(x_d - μ_d)² + log 2π] per sample: the likelihood of the VAE for
    tables (its decoder outputs the means μ).

    Parameters
    ----------
    means : Tensor of shape (M, d), float32
        Decoder output.
    features : Tensor of shape (M, d), float32

    Returns
    -------
    nll : Tensor, scalar (nats per sample)
    """
    return 0.5 * ((features - means).pow(2) + _LOG_2PI).sum() / len(features)


class Likelihood(NamedTuple):
    """A decoder likelihood: its negative log-likelihood and the mean of p(x|z)."""

    nll: Callable
    mean: Callable


def _identity(tensor):
    return tensor


#: The likelihood of each input kind: Bernoulli logits for images, unit-variance
#: Gaussian means for tables.
LIKELIHOODS = {
    "images": Likelihood(bernoulli_nll, torch.sigmoid),
    "table": Likelihood(gaussian_nll, _identity),
}


def reparameterize(mean, logvar, generator):
    """One sample z = mean + exp(logvar / 2) * eps, eps ~ N(0, I) (Kingma & Welling 2014).

    Parameters
    ----------
    mean, logvar : Tensor of shape (M, D)
    generator : torch.Generator
        On the tensors' device.

    Returns
    -------
    z : Tensor of shape (M, D)
    """
    eps = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
    return mean + torch.exp(0.5 * logvar) * eps



# --- Training engine --------------------------------------------------------------------------


class VAENet(TrainingNet):
    """skorch engine of :class:`VAE`: the decoder is ``module_``; ``encoder_`` and the
    objective's adversary (FactorVAE's ``tc_discriminator_``) are extra modules.

    ``config`` holds the estimator's validated parameters (``VAE.get_params()``)
    and the facts of the fit: ``input_shape``, ``input_scale``, ``dataset_size``
    and ``seed``. The objective, an entry of
    :data:`~disentangle.vae_objectives.OBJECTIVES`, gives the regulariser and
    the adversary.

    One iteration on a batch (the authors' ``train`` loop: VAE op, then
    discriminator op): one VAE step (encoder and decoder, one Adam), then, for
    an objective with an adversary, one adversary step. FactorVAE's
    discriminator sees the VAE step's posterior samples, detached, as in Kim &
    Mnih (2018), Algorithm 1, and those same samples shuffled per dimension,
    as in the authors' code (which re-encodes the batch after the VAE update,
    where Algorithm 1 permutes a second batch). Every backward pass into a
    module happens before that module's optimiser step.
    """

    @property
    def objective(self):
        """The :class:`~disentangle.vae_objectives.Objective` trained."""
        return OBJECTIVES[self.config["objective"]]

    @property
    def objective_params(self):
        """The values of the objective's hyper-parameters (defaults filled in)."""
        return objective_params(self.config["objective"], self.config)

    @property
    def adversary(self):
        """The objective's adversary module, or None."""
        adversary = self.objective.adversary
        return None if adversary is None else getattr(self, adversary.name + "_")

    def initialize_module(self):
        """Build the encoder, the decoder (``self.module``, its factory) and the objective's
        adversary from the seed; default networks get the official initialisation."""
        cfg = self.config
        n_latent, shape = cfg["n_latent"], cfg["input_shape"]
        encoder, adversary = cfg["encoder"] or VAEEncoder, self.objective.adversary
        with torch_seed(cfg["seed"]):
            self.encoder_ = encoder(n_latent, shape)
            self.module_ = self.module(n_latent, shape)
            initialize_if_default(self.encoder_, encoder)
            initialize_if_default(self.module_, self.module)
            if adversary is not None:
                module = adversary.build(n_latent)
                init_weights(module)
                setattr(self, adversary.name + "_", module)
        return self

    @property
    def likelihood(self):
        """The decoder's :class:`Likelihood`: Bernoulli for images, Gaussian for tables."""
        return LIKELIHOODS["table" if is_table(self.config["input_shape"]) else "images"]

    def initialize_optimizer(self, triggered_directly=None):
        cfg = self.config
        self.optimizer_ = torch.optim.Adam(self.vae_parameters(), lr=cfg["lr"],
                                           betas=tuple(cfg["betas"]))
        adversary = self.objective.adversary
        if adversary is not None:
            params = self.objective_params
            self.optimizer_discriminator_ = torch.optim.Adam(
                self.adversary.parameters(), lr=params[adversary.lr],
                betas=tuple(params[adversary.betas]),
            )
        return self

    def vae_parameters(self):
        """The encoder's then the decoder's parameters (one optimiser, as the authors' code)."""
        return [*self.encoder_.parameters(), *self.module_.parameters()]

    def train_iteration(self, batch):
        inputs = to_float(batch, self.device, self.config["input_scale"])
        loss, z, terms = self.vae_loss(inputs)
        self.optimizer_step(self.optimizer_, loss, VAE_MODULES)
        adversary = self.objective.adversary
        if adversary is not None:
            terms[adversary.loss_name] = self.discriminator_step(z)
        return loss.detach(), terms

    def vae_loss(self, inputs):
        """The objective's loss on one batch: reconstruction + the objective's regulariser.

        Returns
        -------
        loss : Tensor, scalar
        z : Tensor of shape (M, n_latent)
            The posterior samples (in the graph).
        terms : dict of str to Tensor
            Detached scalar terms, keyed as in ``LOSS_NAMES``.
        """
        mean, logvar = self.encoder_(inputs)
        z = reparameterize(mean, logvar, self.rng_)
        reconstruction = self.likelihood.nll(self.module_(z), inputs)
        kl = gaussian_kl(mean, logvar)
        batch = Batch(z, mean, logvar, kl, self.n_iter_, self.config["dataset_size"],
                      self.adversary)
        regulariser, extra = self.objective.regulariser(batch, self.objective_params)
        terms = {"reconstruction": reconstruction, "kl": kl, **extra}
        return reconstruction + regulariser, z, {k: v.detach() for k, v in terms.items()}

    def discriminator_step(self, z):
        """One step of the objective's adversary on the posterior samples ``z``; returns its
        loss, detached (FactorVAE: :func:`~disentangle.vae_objectives.discriminator_loss`).

        ``z`` is detached first, so no gradient reaches the encoder.

        Parameters
        ----------
        z : Tensor of shape (M, n_latent)
        """
        adversary = self.objective.adversary
        loss = adversary.loss(self.adversary, z.detach(), self.rng_)
        self.optimizer_step(self.optimizer_discriminator_, loss, [adversary.name])
        return loss.detach()


# --- Estimator --------------------------------------------------------------------------------


class VAE(GenerativeEstimator):
    """VAEs with a N(0, I) prior: β-VAE, FactorVAE, β-TCVAE, DIP-VAE-I/II, annealed β-VAE.

    A Gaussian encoder q(z|x) and a decoder p(x|z) (the authors' FactorVAE
    code, `fjxmlzn/InfoGAN-CR` ``FactorVAE_dSprites/gan/network.py``), trained
    on one of the objectives below, per batch of M samples (reconstruction
    summed over pixels or features; KL in closed form summed over latents;
    both averaged over the batch). Each is an entry of
    :data:`disentangle.vae_objectives.OBJECTIVES`, which gives its source:

    * ``"beta"``: reconstruction + β · KL (Higgins et al., ICLR 2017).
    * ``"factor"``: reconstruction + KL + γ · TC, TC estimated as
      logit_0 - logit_1 of a discriminator trained to tell samples of q(z)
      from dimension-wise permuted ones (Kim & Mnih, ICML 2018).
    * ``"beta_tc"``: reconstruction + KL + (β - 1) · TC, TC estimated on the
      minibatch (Chen et al., NeurIPS 2018; see
      :func:`~disentangle.vae_objectives.kl_decomposition`). In expectation
      this is their objective MI + β · TC + DWKL.
    * ``"dip_i"`` and ``"dip_ii"``: reconstruction + KL + λ_od Σ_i≠j C_ij² +
      λ_d Σ_i (C_ii - 1)², C the batch covariance of the posterior means
      (DIP-VAE-I) or of q(z) (DIP-VAE-II), λ_d = ``lambda_d_factor`` · λ_od
      (Kumar et al., ICLR 2018, Eq. 6 and 7, as disentanglement_lib's ``DIPVAE``).
    * ``"annealed"``: reconstruction + γ · ``|KL - C|``, the capacity C raised
      linearly from 0 to ``c_max`` nats over ``iteration_threshold``
      iterations (Burgess et al. 2018, Eq. 8, as disentanglement_lib's ``AnnealedVAE``).

    Two kinds of input, each with its networks (:mod:`disentangle.networks`)
    and likelihood:

    * Images (n, H, W) or (n, C, H, W) of size 64x64 or 32x32: convolutional
      networks and a Bernoulli likelihood on pixels in [0, 1] (sigmoid
      cross-entropy; binary images suit it best).
    * A table (n, d) of features: fully-connected networks and a Gaussian
      likelihood with unit variance, ½ Σ_d [(x_d - μ_d)² + log 2π] (see
      :func:`gaussian_nll`). A fixed variance keeps the objective bounded
      (a learned one can shrink without limit on near-constant features)
      and the β, γ trade-off that of the usual Gaussian VAEs, but makes the
      reconstruction term scale with the features' units: standardise them
      first (e.g. ``StandardScaler`` in a ``Pipeline``).

    ``transform`` returns the posterior means; all ``n_latent`` latents are
    the codes (``n_codes_ == n_latent_``).

    Parameters
    ----------
    objective : {"beta", "factor", "beta_tc", "dip_i", "dip_ii", "annealed"}, default="beta"
    n_latent : int, default=10
        Latent dimensions (10 on dSprites, as the authors' FactorVAE code:
        :ref:`paper`).
    beta : float, default=1.0
        β, weight of the KL ("beta") or of the TC term ("beta_tc"); >= 0.
        1.0 gives the plain VAE for both. Sources differ (Higgins et al. use
        β > 1 on dSprites; the official β-TCVAE code defaults to 1;
        disentanglement_lib's study sweeps 1 to 16): tune it.
    gamma : float or None, default=None
        γ, weight of the FactorVAE TC term or of the annealed β-VAE's
        ``|KL - C|``; >= 0. None: 10 for "factor" (the paper's Table 1 row; its
        model-selection pool uses 1, 10, 20, 40), 1000 for "annealed"
        (disentanglement_lib's study). Ignored by other objectives.
    tc_estimator : {"mws", "mss"}, default="mws"
        Minibatch estimator of the β-TCVAE terms
        (:func:`~disentangle.vae_objectives.log_importance_weights`):
        "mws", minibatch weighted sampling with Chen et al.'s log(NM) constant
        (their code's default; recorded term values are bounds, offset by up
        to (D - 1) log N), or "mss", stratified weights giving consistent term
        values. Ignored by other objectives.
    lambda_od : float, default=10.0
        λ_od, weight of the off-diagonal covariance entries of DIP-VAE; >= 0
        (disentanglement_lib's study sweeps 1 to 50). Ignored by other objectives.
    lambda_d_factor : float or None, default=None
        λ_d / λ_od, the relative weight of the diagonal entries; >= 0. None:
        10 for "dip_i", 1 for "dip_ii" (disentanglement_lib's study).
        Ignored by other objectives.
    c_max : float, default=25.0
        The annealed β-VAE's final capacity C in nats, >= 0 (Burgess et al.'s
        dSprites value; disentanglement_lib's study sweeps 5 to 100).
        Ignored by other objectives.
    iteration_threshold : int, default=100_000
        Iterations over which the annealed β-VAE raises C from 0 to
        ``c_max`` (disentanglement_lib's study), >= 1; C stays at ``c_max``
        after. Ignored by other objectives.
    lr : float, default=1e-4
        Adam learning rate of the encoder and decoder (authors' code).
    betas : tuple of float, default=(0.9, 0.999)
        Their Adam betas (authors' code).
    lr_discriminator : float, default=1e-4
        Adam learning rate of the FactorVAE discriminator (authors' code).
    betas_discriminator : tuple of float, default=(0.5, 0.9)
        Its Adam betas (authors' code).
    batch_size : int, default=64
        At least 2 for "factor", "beta_tc", "dip_i" and "dip_ii".
    max_iter : int, default=311_040
        Training iterations in all (the authors' config: 27 epochs of dSprites at batch 64).
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when available.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, batches, posterior noise and permutations: the same seed
        gives the same model on CPU with the same number of torch threads
        (``torch.get_num_threads()``; the order of floating-point sums, and so
        the model, depends on it).
    verbose : int, default=0
        0 prints nothing; 1 the training log and progress bar of
        :class:`InfoGANCR` (:ref:`training_log`): a row of the losses' means
        about every twentieth of ``max_iter_`` iterations (every 20,000 of the
        default 311,040) and a last one when training ends.
    callbacks : list of skorch callbacks or (name, callback) tuples, optional
        Extra callbacks of the training net; they see ``net.n_iter_``. A
        callback named like a default one replaces it, ``(name, None)``
        removes it: "finite_losses" (:class:`~disentangle._engine.FiniteLosses`),
        "checkpoint". Gradient callbacks (``on_grad_computed``, e.g. skorch's
        ``GradientNormClipping``) run before each optimiser step (the encoder
        and decoder's, then FactorVAE's discriminator's) on the parameters it updates.
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
        ``verbose``, ``callbacks`` and the checkpoint parameters may change).
        False: every ``fit`` starts afresh (and overwrites the checkpoint).
    max_time : float or None, default=None
        Budget of ``fit`` in seconds; ``max_iter_`` is then the longest
        schedule (at most ``max_iter``) that fits it at the pace measured
        before training, re-planned during the fit from the pace measured
        there (:ref:`performance`; as in :class:`InfoGANCR`).
    fast_path : None, str or list of str, default=None
        None (the reference step, bit for bit), or some of ``"bf16"``,
        ``"channels_last"``, ``"compile"`` and ``"cuda_graphs"``: faster
        steps with the same losses to float tolerance (:ref:`performance`).
        ``"auto"``: the paths the device runs natively, as in :class:`InfoGANCR`.
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
    encoder : callable, optional
        q(z|x) for input shapes or architectures the built-in networks do not
        cover: a class or factory called as ``encoder(n_latent, input_shape)``
        (``input_shape`` is ``(C, H, W)`` for images, ``(d,)`` for a table)
        that returns a ``torch.nn.Module`` mapping inputs of shape
        ``(batch, *input_shape)`` to ``(mean, logvar)``, each of shape
        ``(batch, n_latent)``. None: :class:`~disentangle.networks.VAEEncoder`.
    decoder : callable, optional
        p(x|z): ``decoder(n_latent, input_shape)`` returns a module mapping
        latents ``(batch, n_latent)`` to ``(batch, *input_shape)``: Bernoulli
        *logits* for images, Gaussian means for a table. None:
        :func:`~disentangle.networks.build_vae_decoder`. The built-in
        networks get the official initialisation; a user's network keeps its
        own. With both given, images of any size are accepted. Define them at
        module level so that fitted models pickle.

    Attributes
    ----------
    net_ : VAENet
        The fitted skorch net (``net_.module_`` is the decoder; ``encoder_``,
        and ``tc_discriminator_`` for FactorVAE).
    n_codes_, n_latent_ : int
        Both ``n_latent``.
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
        Per batch: ``train_loss`` (the VAE loss) and the terms named in
        ``disentangle.vae_objectives.LOSS_NAMES[objective]``; their means per pass.
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
    InfoGANCR : The GAN of the paper, with a contrastive regulariser.
    ModelCentralitySelector : Pick the best of several runs without labels
        (``similarity="udr_lasso"`` is UDR, made for VAE pools).
    disentangle.metrics.mig_score : Score the codes against ground-truth factors.

    Notes
    -----
    The authors' code encodes with a posterior *sample* in its metric code
    (``inference_from``); ``transform`` returns the posterior mean, the usual
    representation (disentanglement_lib). Ctrl-C during ``fit`` stops at the
    end of the current iteration, leaves a usable estimator (with a
    ``TrainingWarning``) and a checkpoint; NaN or infinite losses stop
    ``fit`` with a ``FloatingPointError``.

    References
    ----------
    I. Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a
    Constrained Variational Framework", ICLR 2017.
    H. Kim and A. Mnih, "Disentangling by Factorising", ICML 2018.
    R. T. Q. Chen, X. Li, R. Grosse and D. Duvenaud, "Isolating Sources of
    Disentanglement in Variational Autoencoders", NeurIPS 2018.
    D. P. Kingma and M. Welling, "Auto-Encoding Variational Bayes", ICLR 2014.

    Examples
    --------
    >>> import numpy as np
    >>> from disentangle import VAE
    >>> X = (np.random.RandomState(0).rand(64, 32, 32) > 0.5).astype(np.uint8)
    >>> vae = VAE(objective="factor", n_latent=4, max_iter=5, batch_size=16,
    ...           device="cpu", random_state=0).fit(X)
    >>> means, stds = vae.transform(X[:2], return_std=True)
    >>> means.shape, stds.shape
    ((2, 4), (2, 4))
    >>> sorted(vae.history_[-1, "batches"][-1])[:3]
    ['discriminator_loss', 'kl', 'reconstruction']
    """

    #: Latent traversal range for plotting: +-2 prior standard deviations.
    traversal_range = (-2.0, 2.0)

    _parameter_constraints = {
        **GenerativeEstimator._parameter_constraints,
        "objective": [StrOptions(set(OBJECTIVES))],
        "n_latent": [Number(Integral, 1, None, closed="left")],
        "lr": [Number(Real, 0, None, closed="neither")],
        "betas": [ADAM_BETAS],
        "encoder": [callable, None],
        "decoder": [callable, None],
        **parameter_constraints(),  # the objectives' hyper-parameters
    }

    def __init__(
        self,
        *,
        objective="beta",
        n_latent=10,
        beta=1.0,
        gamma=None,
        tc_estimator="mws",
        lambda_od=10.0,
        lambda_d_factor=None,
        c_max=25.0,
        iteration_threshold=100_000,
        lr=1e-4,
        betas=(0.9, 0.999),
        lr_discriminator=1e-4,
        betas_discriminator=(0.5, 0.9),
        batch_size=64,
        max_iter=311_040,
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
        encoder=None,
        decoder=None,
    ):
        self.objective = objective
        self.n_latent = n_latent
        self.beta = beta
        self.gamma = gamma
        self.tc_estimator = tc_estimator
        self.lambda_od = lambda_od
        self.lambda_d_factor = lambda_d_factor
        self.c_max = c_max
        self.iteration_threshold = iteration_threshold
        self.lr = lr
        self.betas = betas
        self.lr_discriminator = lr_discriminator
        self.betas_discriminator = betas_discriminator
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
        self.encoder = encoder
        self.decoder = decoder

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Train the VAE on images or on a table.

        Parameters
        ----------
        X : array-like of shape (n, H, W), (n, C, H, W), (n, d), DataFrame or path
            A path names a ``.npy`` file (``np.save``), opened memory-mapped;
            a torch ``TensorDataset`` gives its first tensor.
            Images of size 64x64 or 32x32, bool, uint8 (0..1 or 0..255) or
            float in [0, 1] (binary images suit the Bernoulli likelihood), not
            copied: batches become float one at a time. Or a table of n
            samples of d numeric features (float32 per batch), or images
            flattened to (n, C*H*W) with ``image_shape``. At least 2 samples
            for the objectives that estimate a batch statistic ("factor",
            "beta_tc", "dip_i", "dip_ii").
        y : ignored

        Returns
        -------
        self : VAE
            If ``fit`` raises, the estimator is left as it was.

        Raises
        ------
        ValueError
            Unknown ``objective`` or ``tc_estimator``, a negative or infinite
            weight (``beta``, ``gamma``, ``lambda_od``, ``lambda_d_factor``,
            ``c_max``), batches of fewer than 2 samples for "factor",
            "beta_tc", "dip_i" or "dip_ii", other invalid parameters or input (see
            :func:`disentangle._validation.validate_input`), or a ``warm_start``
            state from another fit (see ``warm_start``).
        FloatingPointError
            When a loss becomes NaN or infinite (with the iteration).
        """
        return self._fit(X)

    def _check_params(self):
        what = OBJECTIVES[self.objective].batch_estimate
        if what is not None and self.batch_size < 2:
            raise ValueError(
                f"objective {self.objective!r} estimates {what} from the "
                f"batch and needs at least 2 images per batch; got {self.batch_size}."
            )

    _network_params = ("encoder", "decoder")

    def _min_samples(self):
        return 1 if OBJECTIVES[self.objective].batch_estimate is None else 2

    def _loss_names(self):
        return LOSS_NAMES[self.objective]

    def _latent_sizes(self):
        return self.n_latent, self.n_latent

    def _make_net(self, n_samples, seed, engine_params):
        # The net reads the validated parameters themselves, and the facts of this fit.
        config = {**self.get_params(deep=False), "input_shape": self.input_shape_,
                  "input_scale": self.input_scale_, "dataset_size": n_samples, "seed": seed}
        return VAENet(self.decoder or build_vae_decoder, criterion=None, config=config,
                      **engine_params)

    def _draw_prior(self, rng, n_samples):
        return rng.standard_normal(size=(n_samples, self.n_latent_))

    # ``return_std`` is an option of the call, not metadata to route (no set_transform_request).
    __metadata_request__transform = {"return_std": metadata_routing.UNUSED}

    def transform(self, X, return_std=False):
        """Encode samples to their posterior means (and standard deviations).

        Parameters
        ----------
        X : array-like of shape (n, d), (n, H, W), (n, C, H, W) or (n, C*H*W)
            The kind of input seen at fit (see :meth:`fit`).
        return_std : bool, default=False
            Also return the posterior standard deviations, as UDR's KL filter
            uses them (:class:`~disentangle.ModelCentralitySelector`).

        Returns
        -------
        means : ndarray of shape (n, n_latent), dtype float32
            The posterior means of q(z|x): deterministic.
        stds : ndarray of shape (n, n_latent), dtype float32, > 0
            Only with ``return_std=True``: exp(logvar / 2).

        Raises
        ------
        sklearn.exceptions.NotFittedError
            Before ``fit``.
        ValueError
            Input unlike the training input (see :meth:`GenerativeEstimator.transform`).
        """
        if not return_std:
            return super().transform(X)
        X, scale = self._validate(X)
        encoder = self.net_.encoder_.eval()
        stats = self._to_batches(
            lambda batch: torch.cat(encoder(to_float(batch, self.device_, scale)), 1), X
        ).astype(np.float32, copy=False)
        means, logvars = np.split(stats, 2, axis=1)
        return means, np.exp(0.5 * logvars)

    def _encode_batch(self, inputs):
        return self.net_.encoder_.eval()(inputs)[0]

    def _decode_batch(self, latents):
        return self.net_.likelihood.mean(self.net_.module_.eval()(latents))
