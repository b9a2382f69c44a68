"""The VAE baselines of the InfoGAN-CR paper: β-VAE, FactorVAE and β-TCVAE.

One Gaussian encoder q(z|x) and a decoder p(x|z) (the authors'
``FactorVAE_dSprites/gan/network.py``, SPEC.md: Bernoulli for images; for
tables, a Gaussian with unit variance), a N(0, I) prior, and one of three
regularised objectives, all minimised per batch of M samples:

* ``"beta"`` (Higgins et al., ICLR 2017): reconstruction + β · KL.
* ``"factor"`` (Kim & Mnih, ICML 2018): reconstruction + KL + γ · TC, the total
  correlation estimated with a discriminator by the density-ratio trick.
* ``"beta_tc"`` (Chen et al., NeurIPS 2018): reconstruction + MI + β · TC + DWKL,
  the decomposition of the KL term estimated on the minibatch.

The training engine is a skorch net whose ``module_`` is the decoder, with the
encoder and (FactorVAE) the TC discriminator as extra modules; the
discriminator has its own Adam optimiser (``FactorVAE_dSprites/gan/factorVAE.py``).
"""

import math
from collections.abc import Callable
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.utils import metadata_routing

from disentangle._base import GenerativeEstimator, _to_batches
from disentangle._compat import StrOptions, _fit_context
from disentangle._engine import TrainingNet, to_float, torch_seed
from disentangle._validation import ADAM_BETAS, Number
from disentangle.networks import (
    TCDiscriminator,
    VAEEncoder,
    build_vae_decoder,
    init_weights,
    initialize_if_default,
    is_table,
)

OBJECTIVES = ("beta", "factor", "beta_tc")
TC_ESTIMATORS = ("mws", "mss")

#: Batch-level history keys of each objective (besides ``train_loss``, the VAE loss).
LOSS_NAMES = {
    "beta": ["reconstruction", "kl"],
    "factor": ["reconstruction", "kl", "total_correlation", "discriminator_loss"],
    "beta_tc": [
        "reconstruction", "kl", "mutual_information", "total_correlation", "dimension_wise_kl",
    ],
}

_LOG_2PI = math.log(2.0 * math.pi)
#: The modules of the VAE step, in the order of their optimiser's parameters.
VAE_MODULES = ("encoder", "module")


# --- Loss terms -------------------------------------------------------------------------------


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


def gaussian_kl(mean, logvar):
    """KL(N(mean, diag exp(logvar)) || N(0, I)) in closed form, summed over latents, batch mean.

    Kingma & Welling (2014), Appendix B; ``en_de_loss_kl`` in the authors' code.

    Parameters
    ----------
    mean, logvar : Tensor of shape (M, D), float32

    Returns
    -------
    kl : Tensor, scalar, >= 0 (nats)
    """
    return 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(1).mean()


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


def gaussian_log_density(z, mean, logvar):
    """Element-wise log N(z; mean, exp(logvar)); the arguments broadcast.

    Returns
    -------
    log_density : Tensor of the broadcast shape (nats)
    """
    return -0.5 * (_LOG_2PI + logvar + (z - mean).pow(2) * torch.exp(-logvar))


def permute_dims(z, generator):
    """Shuffle each latent dimension independently across the batch (Kim & Mnih 2018, Alg. 1).

    Samples of the product of the marginals of q(z). As in the authors' code
    (``JointLatent.shuffled_reg_out_tf_var``), the batch permuted is the same
    one the discriminator sees unpermuted.

    Parameters
    ----------
    z : Tensor of shape (M, D)
    generator : torch.Generator
        On ``z``'s device.

    Returns
    -------
    permuted : Tensor of shape (M, D)
        Column d is a random permutation of ``z[:, d]``, independently for each d.
    """
    keys = torch.rand(z.shape, generator=generator, device=z.device)
    return torch.gather(z, 0, keys.argsort(dim=0))


def discriminator_tc(logits):
    """FactorVAE TC estimate, the batch mean of logit_0 - logit_1 (density-ratio trick).

    With softmax probabilities D(z) of class 0 ("drawn from q(z)"),
    log D(z) / (1 - D(z)) = logit_0 - logit_1 estimates log q(z) / prod_d q(z_d)
    (Kim & Mnih 2018, Sec. 3; ``en_de_loss_tc`` in the authors' code).

    Parameters
    ----------
    logits : Tensor of shape (M, 2)

    Returns
    -------
    tc : Tensor, scalar (nats; may be negative while D is untrained)
    """
    return (logits[:, 0] - logits[:, 1]).mean()


class KLDecomposition(NamedTuple):
    """Batch means of the three terms of the KL decomposition (Chen et al. 2018, Sec. 3).

    ``mutual_information + total_correlation + dimension_wise_kl`` equals the
    batch mean of log q(z|x) - log p(z), a one-sample Monte Carlo estimate of
    KL(q(z|x) || p(z)), for every batch and either estimator: the log q(z) and
    log prod_d q(z_d) estimates cancel.
    """

    mutual_information: torch.Tensor
    total_correlation: torch.Tensor
    dimension_wise_kl: torch.Tensor


def log_importance_weights(batch_size, dataset_size, estimator="mws", device=None):
    """Log-weights w[i, j] of q(z_i | x_j) in the minibatch estimate of q(z_i).

    q(z_i) ~ sum_j w[i, j] q(z_i | x_j), z_i drawn from q(z | x_i), j over the
    batch of M = ``batch_size`` images from a dataset of N = ``dataset_size``.

    * ``"mws"``, minibatch weighted sampling (Chen et al. 2018, Sec. 4.1 and
      Appendix C.1; the default of the official ``rtqichen/beta-tcvae`` code):
      every weight is 1 / (N M). Its derivation keeps only the batches that
      contain the image behind z_i, so it is a lower bound on log q(z_i): about
      log M too low when the batch images' posteriors do not overlap and about
      log N too low when they do (then TC is about (D - 1) log N too high and
      DWKL about D log N too low, e.g. 9 log N on independent broad latents).
      The offsets cancel in MI + TC + DWKL, and log(NM) is a constant, so the
      gradients are those of an equal-weight batch average.
    * ``"mss"``, stratified on the image that produced z_i (Chen et al. 2018,
      Appendix C.2, in its symmetric form): w[i, i] = 1 / N and the other M - 1
      images share (N - 1) / N equally, so each row sums to 1. Unbiased for
      q(z_i) when those M - 1 are drawn without replacement from the other
      N - 1 images (as :class:`~disentangle._engine.BatchIterator` does) and exact
      when the batch is the whole dataset: each term is a consistent estimate.
      (Chen et al. single out one of the M - 1 with weight (N - M + 1) / (N (M - 1))
      and give the others 1 / (M - 1); same row sum, same limit.)

    Parameters
    ----------
    batch_size : int, >= 1 (>= 2 for ``"mss"``)
    dataset_size : int, >= batch_size
    estimator : {"mws", "mss"}, default="mws"
    device : torch.device, optional

    Returns
    -------
    log_weights : Tensor of shape (batch_size, batch_size), float32

    Raises
    ------
    ValueError
        Unknown estimator, or sizes out of range.
    """
    m, n = batch_size, dataset_size
    if estimator not in TC_ESTIMATORS:
        raise ValueError(f"estimator must be one of {TC_ESTIMATORS}; got {estimator!r}.")
    if not 1 <= m <= n or (estimator == "mss" and m < 2):
        raise ValueError(
            f"Need 1 <= batch_size <= dataset_size (batch_size >= 2 for 'mss'); "
            f"got batch_size={m}, dataset_size={n}."
        )
    if estimator == "mws":
        return torch.full((m, m), -math.log(n * m), device=device)
    log_weights = torch.full((m, m), math.log((n - 1) / (n * (m - 1))), device=device)
    return log_weights.fill_diagonal_(-math.log(n))


def kl_decomposition(z, mean, logvar, dataset_size, estimator="mws"):
    """Minibatch estimates of index-code MI, total correlation and dimension-wise KL.

    Chen et al. (2018), Sec. 3 (decomposition) and Sec. 4.1 (minibatch
    estimation; the same sums as the official ``rtqichen/beta-tcvae`` code):
    for each z_i ~ q(z | x_i) of the batch,
    log q(z_i) ~ logsumexp_j (log w[i, j] + sum_d log q(z_id | x_j)) and
    log q(z_id) ~ logsumexp_j (log w[i, j] + log q(z_id | x_j)), with the
    weights of :func:`log_importance_weights`; then

    * MI   = mean_i [log q(z_i | x_i) - log q(z_i)]
    * TC   = mean_i [log q(z_i) - sum_d log q(z_id)]
    * DWKL = mean_i [sum_d log q(z_id) - log p(z_i)],  p = N(0, I).

    Parameters
    ----------
    z : Tensor of shape (M, D)
        One posterior sample per image.
    mean, logvar : Tensor of shape (M, D)
        The posterior parameters of the same images.
    dataset_size : int
        N, the number of training images (>= M).
    estimator : {"mws", "mss"}, default="mws"

    Returns
    -------
    terms : KLDecomposition
        Three scalar tensors (nats), differentiable in all inputs.

    Raises
    ------
    ValueError
        See :func:`log_importance_weights`.
    """
    log_weights = log_importance_weights(len(z), dataset_size, estimator, z.device)
    # pairwise[i, j, d] = log q(z_id | x_j)
    pairwise = gaussian_log_density(z[:, None], mean[None], logvar[None])
    log_q_z_given_x = pairwise.diagonal().sum(0)
    log_q_z = torch.logsumexp(log_weights + pairwise.sum(2), dim=1)
    log_prod_q_zd = torch.logsumexp(log_weights[:, :, None] + pairwise, dim=1).sum(1)
    log_p_z = gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z)).sum(1)
    return KLDecomposition(
        (log_q_z_given_x - log_q_z).mean(),
        (log_q_z - log_prod_q_zd).mean(),
        (log_prod_q_zd - log_p_z).mean(),
    )


# --- Training engine --------------------------------------------------------------------------


class VAENet(TrainingNet):
    """skorch engine of :class:`VAE`: the decoder is ``module_``; ``encoder_`` and, for
    FactorVAE, ``tc_discriminator_`` are extra modules.

    One iteration on a batch (the authors' ``train`` loop: VAE op, then
    discriminator op): one VAE step (encoder and decoder, one Adam), then for
    FactorVAE one discriminator step. Its q(z) samples are the VAE step's
    posterior samples, detached, as in Kim & Mnih (2018), Algorithm 1; its
    permuted samples are those same samples shuffled per dimension, as in the
    authors' code (which re-encodes the batch after the VAE update, where
    Algorithm 1 permutes a second batch). Every backward pass into a module
    happens before that module's optimiser step.
    """

    def initialize_module(self):
        """Build the encoder, the decoder (``self.module``, its factory) and, for FactorVAE,
        the TC discriminator from the seed; default networks get the official initialisation."""
        cfg = self.config
        n_latent, shape = cfg["n_latent"], cfg["input_shape"]
        with torch_seed(cfg["seed"]):
            self.encoder_ = cfg["encoder"](n_latent, shape)
            self.module_ = self.module(n_latent, shape)
            initialize_if_default(self.encoder_, cfg["encoder"])
            initialize_if_default(self.module_, self.module)
            if cfg["objective"] == "factor":
                self.tc_discriminator_ = TCDiscriminator(n_latent)
                init_weights(self.tc_discriminator_)
        return self

    @property
    def likelihood(self):
        """The decoder's :class:`Likelihood`: Bernoulli for images, Gaussian for tables."""
        return LIKELIHOODS["table" if is_table(self.config["input_shape"]) else "images"]

    def initialize_optimizer(self, triggered_directly=None):
        cfg = self.config
        self.optimizer_ = torch.optim.Adam(self.vae_parameters(), lr=cfg["lr"], betas=cfg["betas"])
        if cfg["objective"] == "factor":
            self.optimizer_discriminator_ = torch.optim.Adam(
                self.tc_discriminator_.parameters(),
                lr=cfg["lr_discriminator"], betas=cfg["betas_discriminator"],
            )
        return self

    def vae_parameters(self):
        """The encoder's then the decoder's parameters (one optimiser, as the authors' code)."""
        return [*self.encoder_.parameters(), *self.module_.parameters()]

    def train_iteration(self, batch):
        inputs = to_float(batch, self.device, self.config["input_scale"])
        loss, z, terms = self.vae_loss(inputs)
        self.optimizer_step(self.optimizer_, loss, VAE_MODULES)
        if self.config["objective"] == "factor":
            terms["discriminator_loss"] = self.discriminator_step(z)
        return loss.detach(), terms

    def vae_loss(self, inputs):
        """The objective's loss on one batch.

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
        regulariser, extra = self._regulariser(z, mean, logvar, kl)
        terms = {"reconstruction": reconstruction, "kl": kl, **extra}
        return reconstruction + regulariser, z, {k: v.detach() for k, v in terms.items()}

    def _regulariser(self, z, mean, logvar, kl):
        """The objective's weighted KL-side terms and the named estimates it used."""
        cfg = self.config
        if cfg["objective"] == "beta":
            return cfg["beta"] * kl, {}
        if cfg["objective"] == "factor":
            tc = discriminator_tc(self.tc_discriminator_(z))
            return kl + cfg["gamma"] * tc, {"total_correlation": tc}
        terms = kl_decomposition(z, mean, logvar, cfg["dataset_size"], cfg["tc_estimator"])
        # Chen et al.'s objective (Sec. 4, alpha = gamma = 1) MI + beta TC + DWKL
        # = KL + (beta - 1) TC in expectation, as the three terms sum to a
        # one-sample estimate of the KL. The closed-form KL has lower variance
        # (as disentanglement_lib's BetaTCVAE) and makes beta = 1 the plain VAE.
        return kl + (cfg["beta"] - 1.0) * terms.total_correlation, terms._asdict()

    def discriminator_step(self, z):
        """One FactorVAE discriminator step; returns its loss, detached.

        Class 0 for samples of q(z), class 1 for their dimension-wise
        permutation; the loss is the mean of the two cross-entropies, as
        ``tcd_loss`` in the authors' code. ``z`` is detached first, so no
        gradient reaches the encoder.

        Parameters
        ----------
        z : Tensor of shape (M, n_latent)
        """
        z = z.detach()
        logits = self.tc_discriminator_(torch.cat([z, permute_dims(z, self.rng_)]))
        labels = torch.arange(2, device=z.device).repeat_interleave(len(z))
        loss = F.cross_entropy(logits, labels)
        self.optimizer_step(self.optimizer_discriminator_, loss, ["tc_discriminator"])
        return loss.detach()


# --- Estimator --------------------------------------------------------------------------------


class VAE(GenerativeEstimator):
    """VAE baselines with a N(0, I) prior: β-VAE, FactorVAE or β-TCVAE.

    A Gaussian encoder q(z|x) and a decoder p(x|z) (the authors' FactorVAE
    code, SPEC.md), trained on one of the objectives below, per batch of M
    samples (reconstruction summed over pixels or features; KL in closed
    form summed over latents; both averaged over the batch):

    * ``"beta"``: reconstruction + β · KL (Higgins et al., ICLR 2017).
    * ``"factor"``: reconstruction + KL + γ · TC, TC estimated as
      logit_0 - logit_1 of a discriminator trained to tell samples of q(z)
      from dimension-wise permuted ones (Kim & Mnih, ICML 2018).
    * ``"beta_tc"``: reconstruction + KL + (β - 1) · TC, TC estimated on the
      minibatch (Chen et al., NeurIPS 2018; see :func:`kl_decomposition`). In
      expectation this is their objective MI + β · TC + DWKL.

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
    objective : {"beta", "factor", "beta_tc"}, default="beta"
    n_latent : int, default=10
        Latent dimensions (SPEC.md: 10 on dSprites).
    beta : float, default=1.0
        β, weight of the KL ("beta") or of the TC term ("beta_tc"); >= 0.
        1.0 gives the plain VAE for both. Sources differ (Higgins et al. use
        β > 1 on dSprites; the official β-TCVAE code defaults to 1;
        disentanglement_lib's study sweeps 1 to 16): tune it.
    gamma : float, default=10.0
        γ, weight of the FactorVAE TC term (the paper's Table 1 row uses 10;
        its model-selection pool 1, 10, 20, 40). Ignored by other objectives.
    tc_estimator : {"mws", "mss"}, default="mws"
        Minibatch estimator of the β-TCVAE terms (:func:`log_importance_weights`):
        "mws", minibatch weighted sampling with Chen et al.'s log(NM) constant
        (their code's default; recorded term values are bounds, offset by up
        to (D - 1) log N), or "mss", stratified weights giving consistent term
        values. Ignored by other objectives.
    lr : float, default=1e-4
        Adam learning rate of the encoder and decoder (authors' code).
    betas : tuple of float, default=(0.9, 0.999)
        Their Adam betas (authors' code).
    lr_discriminator : float, default=1e-4
        Adam learning rate of the FactorVAE discriminator (authors' code).
    betas_discriminator : tuple of float, default=(0.5, 0.9)
        Its Adam betas (authors' code).
    batch_size : int, default=64
        At least 2 for "factor" and "beta_tc".
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
        1 prints a progress bar and a log row per pass over the data.
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
        ``disentangle.vae.LOSS_NAMES[objective]``; their means per pass.
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
        "beta": [Number(Real, 0, None, closed="left", finite=True)],
        "gamma": [Number(Real, 0, None, closed="left", finite=True)],
        "tc_estimator": [StrOptions(set(TC_ESTIMATORS))],
        "lr": [Number(Real, 0, None, closed="neither")],
        "betas": [ADAM_BETAS],
        "lr_discriminator": [Number(Real, 0, None, closed="neither")],
        "betas_discriminator": [ADAM_BETAS],
        "encoder": [callable, None],
        "decoder": [callable, None],
    }

    def __init__(
        self,
        *,
        objective="beta",
        n_latent=10,
        beta=1.0,
        gamma=10.0,
        tc_estimator="mws",
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
        encoder=None,
        decoder=None,
    ):
        self.objective = objective
        self.n_latent = n_latent
        self.beta = beta
        self.gamma = gamma
        self.tc_estimator = tc_estimator
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
            for "factor" and "beta_tc".
        y : ignored

        Returns
        -------
        self : VAE
            If ``fit`` raises, the estimator is left as it was.

        Raises
        ------
        ValueError
            Unknown ``objective`` or ``tc_estimator``, negative ``beta`` or
            ``gamma``, batches of fewer than 2 samples for "factor" or
            "beta_tc", other invalid parameters or input (see
            :func:`disentangle._validation.validate_input`), or a ``warm_start``
            state from another fit (see ``warm_start``).
        FloatingPointError
            When a loss becomes NaN or infinite (with the iteration).
        """
        return self._fit(X)

    def _check_params(self):
        if self.objective != "beta" and self.batch_size < 2:
            raise ValueError(
                f"objective {self.objective!r} estimates the total correlation from the "
                f"batch and needs at least 2 images per batch; got {self.batch_size}."
            )

    _network_params = ("encoder", "decoder")

    def _min_samples(self):
        return 1 if self.objective == "beta" else 2

    def _loss_names(self):
        return LOSS_NAMES[self.objective]

    def _latent_sizes(self):
        return self.n_latent, self.n_latent

    def _make_net(self, n_samples, seed, engine_params):
        return VAENet(self.decoder or build_vae_decoder, criterion=None,
                      config=self._net_config(seed, n_samples), **engine_params)

    def _net_config(self, seed, dataset_size):
        return {
            "encoder": self.encoder or VAEEncoder,
            "objective": self.objective, "n_latent": self.n_latent,
            "input_shape": self.input_shape_, "beta": float(self.beta),
            "gamma": float(self.gamma), "tc_estimator": self.tc_estimator,
            "dataset_size": dataset_size, "lr": self.lr, "betas": tuple(self.betas),
            "lr_discriminator": self.lr_discriminator,
            "betas_discriminator": tuple(self.betas_discriminator),
            "input_scale": self.input_scale_, "seed": seed,
        }

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
        stats = _to_batches(
            lambda batch: torch.cat(encoder(to_float(batch, self.device_, scale)), 1), X
        ).astype(np.float32, copy=False)
        means, logvars = np.split(stats, 2, axis=1)
        return means, np.exp(0.5 * logvars)

    def _encode_batch(self, inputs):
        return self.net_.encoder_.eval()(inputs)[0]

    def _decode_batch(self, latents):
        return self.net_.likelihood.mean(self.net_.module_.eval()(latents))
