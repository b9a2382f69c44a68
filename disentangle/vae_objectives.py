"""The objectives of :class:`~disentangle.VAE`, one entry each in :data:`OBJECTIVES`.

Every objective is reconstruction + a regulariser of the KL side, computed per
batch of M samples from the Gaussian posteriors q(z|x) = N(mean, diag exp(logvar)).
An entry of :data:`OBJECTIVES` (an :class:`Objective`) holds all that one
objective needs: its regulariser, the names of the terms it records, its
hyper-parameters with their defaults (their constraints are in
:data:`PARAMETERS`), the batch size it needs, an extra network trained
against it (FactorVAE's discriminator, an :class:`Adversary`) and its source.
:class:`~disentangle.VAE` reads nothing else: adding an objective is one entry
here, its parameters in ``VAE.__init__`` and its docstring, and its tests.

The loss terms follow the papers and `google-research/disentanglement_lib`
``disentanglement_lib/methods/unsupervised/vae.py`` (the regularisers of its
``BetaVAE``, ``AnnealedVAE``, ``FactorVAE``, ``DIPVAE`` and ``BetaTCVAE``).
"""

import math
from collections.abc import Callable, Mapping
from numbers import Integral, Real
from typing import NamedTuple

import torch
import torch.nn.functional as F

from disentangle._compat import StrOptions
from disentangle._validation import ADAM_BETAS, Number
from disentangle.networks import TCDiscriminator

_LOG_2PI = math.log(2.0 * math.pi)
TC_ESTIMATORS = ("mws", "mss")


# --- Loss terms -------------------------------------------------------------------------------


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


def discriminator_loss(discriminator, z, generator):
    """FactorVAE's discriminator loss on posterior samples ``z`` and their permutation.

    Class 0 for samples of q(z), class 1 for their dimension-wise permutation
    (:func:`permute_dims`); the mean of the two cross-entropies, as ``tcd_loss``
    in the authors' code (Kim & Mnih 2018, Algorithm 1).

    Parameters
    ----------
    discriminator : torch.nn.Module
        Maps (2M, D) latents to (2M, 2) logits.
    z : Tensor of shape (M, D)
        Detached posterior samples.
    generator : torch.Generator

    Returns
    -------
    loss : Tensor, scalar, >= 0 (nats)
    """
    logits = discriminator(torch.cat([z, permute_dims(z, generator)]))
    labels = torch.arange(2, device=z.device).repeat_interleave(len(z))
    return F.cross_entropy(logits, labels)


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


def dip_covariance(mean, logvar, kind):
    """The covariance that DIP-VAE pushes towards the identity (Kumar et al. 2018, Sec. 3).

    * ``"i"``: Cov[mean], the covariance over the batch of the posterior
      means, E[mean meanᵀ] - E[mean] E[mean]ᵀ (divided by M; Eq. 6).
    * ``"ii"``: Cov[z] = E[diag exp(logvar)] + Cov[mean], the covariance of
      the aggregate posterior q(z) (Eq. 7).

    As ``compute_covariance_z_mean`` and ``DIPVAE.regularizer`` in
    `google-research/disentanglement_lib` ``disentanglement_lib/methods/unsupervised/vae.py``.

    Parameters
    ----------
    mean, logvar : Tensor of shape (M, D)
    kind : {"i", "ii"}

    Returns
    -------
    covariance : Tensor of shape (D, D)
    """
    centred = mean - mean.mean(0)
    covariance = centred.T @ centred / len(mean)
    if kind == "ii":
        covariance = covariance + torch.diag(logvar.exp().mean(0))
    return covariance


def dip_deviations(covariance):
    """Squared deviations of a covariance from the identity, off and on the diagonal.

    Returns
    -------
    off_diagonal : Tensor, scalar
        sum_{i != j} C_ij².
    diagonal : Tensor, scalar
        sum_i (C_ii - 1)².
    """
    diagonal = torch.diagonal(covariance)
    off_diagonal = covariance - torch.diag(diagonal)
    return off_diagonal.pow(2).sum(), (diagonal - 1.0).pow(2).sum()


def annealed_capacity(c_max, iteration, iteration_threshold):
    """The capacity C of the annealed β-VAE at ``iteration`` (Burgess et al. 2018, Sec. 5).

    Raised linearly from 0 at iteration 0 to ``c_max`` nats at
    ``iteration_threshold``, then held: min(c_max, c_max · t / threshold), as
    ``anneal`` in `google-research/disentanglement_lib`
    ``disentanglement_lib/methods/unsupervised/vae.py`` (t the number of
    iterations done before this one).

    Returns
    -------
    capacity : float, in [0, c_max] (nats)
    """
    return min(c_max, c_max * iteration / iteration_threshold)


# --- The table --------------------------------------------------------------------------------


class Batch(NamedTuple):
    """What a regulariser sees of one training batch.

    Attributes
    ----------
    z, mean, logvar : Tensor of shape (M, n_latent)
        One posterior sample per sample of the batch, in the graph, and the posteriors.
    kl : Tensor, scalar
        :func:`gaussian_kl` of the batch.
    iteration : int
        Iterations trained before this one.
    dataset_size : int
        Training samples in all.
    adversary : torch.nn.Module or None
        The objective's :class:`Adversary` network.
    """

    z: torch.Tensor
    mean: torch.Tensor
    logvar: torch.Tensor
    kl: torch.Tensor
    iteration: int
    dataset_size: int
    adversary: torch.nn.Module | None


class Adversary(NamedTuple):
    """An extra network that an objective trains against the VAE, with its own Adam.

    Attributes
    ----------
    name : str
        Its skorch module name (the net's attribute ``name + "_"``).
    build : callable
        ``build(n_latent)`` returns the module; it gets the official initialisation.
    lr, betas : str
        The VAE parameters holding its Adam learning rate and betas.
    loss : callable
        ``loss(module, z, generator)``: its loss on detached posterior samples.
    loss_name : str
        The history key of that loss.
    """

    name: str
    build: Callable
    lr: str
    betas: str
    loss: Callable
    loss_name: str


class Objective(NamedTuple):
    """One VAE objective: loss = reconstruction + ``regulariser``.

    Attributes
    ----------
    title : str
        Its usual name.
    formula : str
        The loss per batch, in words.
    regulariser : callable
        ``regulariser(batch, params)`` with a :class:`Batch` and the values of
        ``params`` returns the weighted KL-side loss (a scalar tensor) and a
        dict of the named estimates it used (scalar tensors, in ``terms`` order).
    terms : tuple of str
        History keys of the estimates besides ``reconstruction`` and ``kl``
        (and the adversary's loss, last).
    params : dict of str to object
        The VAE hyper-parameters it reads, with its defaults (constraints in
        :data:`PARAMETERS`).
    source : str
        Paper (section, equation) and reference implementation.
    batch_estimate : str or None
        What it estimates from the batch, if anything: then it needs batches
        of at least 2 samples.
    adversary : Adversary or None
    """

    title: str
    formula: str
    regulariser: Callable
    terms: tuple
    params: Mapping
    source: str
    batch_estimate: str | None = None
    adversary: Adversary | None = None


def _beta_regulariser(batch, params):
    return params["beta"] * batch.kl, {}


def _factor_regulariser(batch, params):
    tc = discriminator_tc(batch.adversary(batch.z))
    return batch.kl + params["gamma"] * tc, {"total_correlation": tc}


def _beta_tc_regulariser(batch, params):
    terms = kl_decomposition(batch.z, batch.mean, batch.logvar, batch.dataset_size,
                             params["tc_estimator"])
    # Chen et al.'s objective (Sec. 4, alpha = gamma = 1) MI + beta TC + DWKL
    # = KL + (beta - 1) TC in expectation, as the three terms sum to a
    # one-sample estimate of the KL. The closed-form KL has lower variance
    # (as disentanglement_lib's BetaTCVAE) and makes beta = 1 the plain VAE.
    return batch.kl + (params["beta"] - 1.0) * terms.total_correlation, terms._asdict()


def _dip_regulariser(kind):
    def regulariser(batch, params):
        off_diagonal, diagonal = dip_deviations(dip_covariance(batch.mean, batch.logvar, kind))
        lambda_od = params["lambda_od"]
        lambda_d = params["lambda_d_factor"] * lambda_od
        return (batch.kl + lambda_od * off_diagonal + lambda_d * diagonal,
                {"off_diagonal": off_diagonal, "diagonal": diagonal})
    return regulariser


def _annealed_regulariser(batch, params):
    capacity = annealed_capacity(params["c_max"], batch.iteration, params["iteration_threshold"])
    return (params["gamma"] * (batch.kl - capacity).abs(),
            {"capacity": torch.tensor(capacity, dtype=batch.kl.dtype, device=batch.kl.device)})


_DIP_SOURCE = ("Kumar, Sattigeri & Balakrishnan, ICLR 2018, Sec. 3, Eq. 6 (I) and 7 (II); "
               "google-research/disentanglement_lib disentanglement_lib/methods/unsupervised/"
               "vae.py (DIPVAE); defaults from its unsupervised_study_v1/sweep.py")

#: Every VAE objective, by its ``objective=`` name.
OBJECTIVES = {
    "beta": Objective(
        "β-VAE", "reconstruction + β · KL", _beta_regulariser, (), {"beta": 1.0},
        "Higgins et al., ICLR 2017, Eq. 4; disentanglement_lib vae.py (BetaVAE)"),
    "factor": Objective(
        "FactorVAE", "reconstruction + KL + γ · TC, TC from a discriminator on permuted latents",
        _factor_regulariser, ("total_correlation", "discriminator_loss"),
        {"gamma": 10.0, "lr_discriminator": 1e-4, "betas_discriminator": (0.5, 0.9)},
        "Kim & Mnih, ICML 2018, Eq. 2 and Algorithm 1; fjxmlzn/InfoGAN-CR "
        "FactorVAE_dSprites/gan/factorVAE.py",
        batch_estimate="the total correlation",
        adversary=Adversary("tc_discriminator", TCDiscriminator, "lr_discriminator",
                            "betas_discriminator", discriminator_loss, "discriminator_loss")),
    "beta_tc": Objective(
        "β-TCVAE", "reconstruction + KL + (β - 1) · TC, TC estimated on the minibatch",
        _beta_tc_regulariser, ("mutual_information", "total_correlation", "dimension_wise_kl"),
        {"beta": 1.0, "tc_estimator": "mws"},
        "Chen et al., NeurIPS 2018, Sec. 3 and 4.1; rtqichen/beta-tcvae",
        batch_estimate="the total correlation"),
    "dip_i": Objective(
        "DIP-VAE-I", "reconstruction + KL + λ_od Σ_i≠j Cov[μ]_ij² + λ_d Σ_i (Cov[μ]_ii - 1)²",
        _dip_regulariser("i"), ("off_diagonal", "diagonal"),
        {"lambda_od": 10.0, "lambda_d_factor": 10.0}, _DIP_SOURCE,
        batch_estimate="the covariance of the posterior means"),
    "dip_ii": Objective(
        "DIP-VAE-II", "reconstruction + KL + λ_od Σ_i≠j Cov[z]_ij² + λ_d Σ_i (Cov[z]_ii - 1)²",
        _dip_regulariser("ii"), ("off_diagonal", "diagonal"),
        {"lambda_od": 10.0, "lambda_d_factor": 1.0}, _DIP_SOURCE,
        batch_estimate="the covariance of the posterior means"),
    "annealed": Objective(
        "annealed β-VAE", "reconstruction + γ · |KL - C|, C raised linearly to c_max",
        _annealed_regulariser, ("capacity",),
        {"gamma": 1000.0, "c_max": 25.0, "iteration_threshold": 100_000},
        "Burgess et al., 'Understanding disentangling in β-VAE', 2018, Sec. 5, Eq. 8; "
        "disentanglement_lib vae.py (AnnealedVAE); defaults from its "
        "unsupervised_study_v1/sweep.py (γ, threshold) and Burgess et al.'s dSprites (c_max)"),
}

_WEIGHT = [Number(Real, 0, None, closed="left", finite=True)]
#: The constraints of every hyper-parameter an objective reads (scikit-learn's
#: ``_parameter_constraints``); None is also accepted where the objectives' defaults differ.
PARAMETERS = {
    "beta": _WEIGHT,
    "gamma": _WEIGHT,
    "tc_estimator": [StrOptions(set(TC_ESTIMATORS))],
    "lr_discriminator": [Number(Real, 0, None, closed="neither")],
    "betas_discriminator": [ADAM_BETAS],
    "lambda_od": _WEIGHT,
    "lambda_d_factor": _WEIGHT,
    "c_max": _WEIGHT,
    "iteration_threshold": [Number(Integral, 1, None, closed="left")],
}

#: Batch-level history keys of each objective (besides ``train_loss``, the VAE loss).
LOSS_NAMES = {name: ["reconstruction", "kl", *objective.terms]
              for name, objective in OBJECTIVES.items()}


def shared_default(name):
    """The ``VAE`` default of hyper-parameter ``name``: the objectives' common default, or
    None where they differ (each objective then uses its own, :func:`objective_params`)."""
    defaults = {repr(objective.params[name]) for objective in OBJECTIVES.values()
                if name in objective.params}
    if len(defaults) != 1:
        return None
    return next(objective.params[name] for objective in OBJECTIVES.values()
                if name in objective.params)


def parameter_constraints():
    """``_parameter_constraints`` entries of every objective's hyper-parameters."""
    return {name: [*constraints, None] if shared_default(name) is None else constraints
            for name, constraints in PARAMETERS.items()}


def objective_params(objective, params):
    """The values of ``objective``'s hyper-parameters: from ``params``, None meaning its default.

    Parameters
    ----------
    objective : str
        A key of :data:`OBJECTIVES`.
    params : mapping of str to object
        The estimator's parameters (``get_params()``).

    Returns
    -------
    values : dict of str to object
    """
    return {name: default if params[name] is None else params[name]
            for name, default in OBJECTIVES[objective].params.items()}
