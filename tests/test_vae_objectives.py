"""The table of VAE objectives and disentanglement_lib's DIP-VAE-I/II and annealed β-VAE.

The expected losses are computed here with NumPy from the formulas of
`google-research/disentanglement_lib` ``disentanglement_lib/methods/unsupervised/vae.py``
(``compute_gaussian_kl``, ``compute_covariance_z_mean``, ``regularize_diag_off_diag_dip``,
``DIPVAE.regularizer``, ``anneal`` and ``AnnealedVAE.regularizer``), not with the package's code.
"""

import inspect

import numpy as np
import pytest
import torch

from disentangle import VAE
from disentangle.vae_objectives import (
    OBJECTIVES,
    PARAMETERS,
    Batch,
    annealed_capacity,
    objective_params,
    shared_default,
)

# A tiny batch: M = 4 posteriors over D = 3 latents.
MEAN = np.array([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5], [-0.25, 0.75, 1.0], [2.0, -0.5, 0.0]])
LOGVAR = np.array([[0.0, -1.0, 0.5], [-0.5, 0.25, 0.0], [1.0, -2.0, -0.5], [0.0, 0.5, -1.0]])


def dl_kl(mean, logvar):
    """disentanglement_lib's compute_gaussian_kl."""
    return np.mean(0.5 * np.sum(mean**2 + np.exp(logvar) - logvar - 1, axis=1))


def dl_covariance(mean, logvar, dip_type):
    """E[mu mu^T] - E[mu] E[mu]^T (compute_covariance_z_mean), + E[diag exp(logvar)] for "ii"."""
    outer = np.mean(mean[:, :, None] * mean[:, None, :], axis=0)
    expectation = np.mean(mean, axis=0)
    covariance = outer - expectation[:, None] * expectation[None, :]
    if dip_type == "ii":
        covariance = covariance + np.mean([np.diag(np.exp(row)) for row in logvar], axis=0)
    return covariance


def dl_deviations(covariance):
    """The two sums of regularize_diag_off_diag_dip, unweighted."""
    diagonal = np.diag(covariance)
    return np.sum((covariance - np.diag(diagonal)) ** 2), np.sum((diagonal - 1) ** 2)


def dl_dip(mean, logvar, dip_type, lambda_od, lambda_d_factor):
    """DIPVAE.regularizer minus the KL, with lambda_d = lambda_d_factor * lambda_od."""
    off_diagonal, diagonal = dl_deviations(dl_covariance(mean, logvar, dip_type))
    return lambda_od * off_diagonal + lambda_d_factor * lambda_od * diagonal


def dl_annealed(kl, gamma, c_max, step, iteration_threshold):
    """AnnealedVAE.regularizer with anneal(c_max, step, iteration_threshold)."""
    capacity = min(c_max * 1.0, c_max * 1.0 * step / iteration_threshold)
    return gamma * abs(kl - capacity)


def regulariser(objective, params, iteration=0, mean=MEAN, logvar=LOGVAR):
    mean, logvar = torch.tensor(mean), torch.tensor(logvar)
    kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(1).mean()
    batch = Batch(mean, mean, logvar, kl, iteration, 100, None)
    loss, terms = OBJECTIVES[objective].regulariser(batch, params)
    return float(loss), {name: float(value) for name, value in terms.items()}


@pytest.mark.parametrize("objective, dip_type", [("dip_i", "i"), ("dip_ii", "ii")])
@pytest.mark.parametrize("lambda_od, lambda_d_factor", [(10.0, 10.0), (2.0, 1.0), (0.0, 5.0)])
def test_dip_regulariser_is_disentanglement_libs(objective, dip_type, lambda_od, lambda_d_factor):
    loss, terms = regulariser(objective, {"lambda_od": lambda_od,
                                          "lambda_d_factor": lambda_d_factor})
    expected = dl_kl(MEAN, LOGVAR) + dl_dip(MEAN, LOGVAR, dip_type, lambda_od, lambda_d_factor)
    assert loss == pytest.approx(expected, rel=1e-12)
    assert set(terms) == {"off_diagonal", "diagonal"}
    off_diagonal, diagonal = dl_deviations(dl_covariance(MEAN, LOGVAR, dip_type))
    assert terms == pytest.approx({"off_diagonal": off_diagonal, "diagonal": diagonal})


def test_dip_values_by_hand():
    # Two samples, two latents: mu = (1, 0), (-1, 2). Cov[mu] = [[1, -1], [-1, 1]]:
    # off-diagonal 2 * (-1)^2 = 2, diagonal (1 - 1)^2 * 2 = 0. KL = 0.5 * (1 + 0 + 1 + 4) / 2 = 1.5
    # (logvar 0). DIP-VAE-II adds E[exp(logvar)] = 1 to the diagonal: (2 - 1)^2 * 2 = 2.
    mean, logvar = np.array([[1.0, 0.0], [-1.0, 2.0]]), np.zeros((2, 2))
    params = {"lambda_od": 3.0, "lambda_d_factor": 10.0}
    assert regulariser("dip_i", params, mean=mean, logvar=logvar)[0] == pytest.approx(1.5 + 6.0)
    assert regulariser("dip_ii", params, mean=mean, logvar=logvar)[0] == pytest.approx(
        1.5 + 6.0 + 60.0)


@pytest.mark.parametrize("step", [0, 1, 250, 999, 1000, 5000])
def test_annealed_regulariser_is_disentanglement_libs(step):
    params = {"gamma": 1000.0, "c_max": 25.0, "iteration_threshold": 1000}
    loss, terms = regulariser("annealed", params, iteration=step)
    kl = dl_kl(MEAN, LOGVAR)
    assert loss == pytest.approx(dl_annealed(kl, 1000.0, 25.0, step, 1000), rel=1e-12)
    assert terms["capacity"] == pytest.approx(min(25.0, 25.0 * step / 1000))


def test_annealed_capacity_above_the_kl_penalises_too_little_information():
    # |KL - C|: once C passes the KL, the loss grows with C (the encoder must carry more).
    kl = dl_kl(MEAN, LOGVAR)
    assert annealed_capacity(25.0, 0, 100) == 0.0 and annealed_capacity(25.0, 400, 100) == 25.0
    losses = [regulariser("annealed", {"gamma": 1.0, "c_max": 4 * kl,
                                       "iteration_threshold": 4}, iteration=t)[0]
              for t in range(5)]
    np.testing.assert_allclose(losses, [kl, 0.0, kl, 2 * kl, 3 * kl], atol=1e-12)


TABLE = np.random.RandomState(0).randn(40, 3)


def _encoded_loss(model, X, iteration):
    """The net's batch loss minus its reconstruction, and the encoder's posteriors (moved far
    from the prior first, so that every term counts)."""
    net = model.net_
    net.n_iter_ = iteration
    inputs = torch.from_numpy(X).float()
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in net.encoder_.parameters():
            parameter.add_(0.05 * torch.randn(parameter.shape, generator=generator))
        loss, _, terms = net.vae_loss(inputs)
        mean, logvar = net.encoder_(inputs)
    return float(loss - terms["reconstruction"]), mean.double().numpy(), logvar.double().numpy()


@pytest.mark.parametrize("objective, dip_type, factor", [("dip_i", "i", 10.0),
                                                         ("dip_ii", "ii", 1.0)])
def test_fitted_dip_vae_loss_uses_the_study_defaults(objective, dip_type, factor):
    # lambda_d_factor=None: disentanglement_lib's study, 10 for DIP-VAE-I and 1 for DIP-VAE-II.
    model = VAE(objective=objective, lambda_od=50.0, max_iter=3, batch_size=8,
                random_state=0).fit(TABLE)
    regularised, mean, logvar = _encoded_loss(model, TABLE[:6], 3)
    expected = dl_kl(mean, logvar) + dl_dip(mean, logvar, dip_type, 50.0, factor)
    assert expected > 1.0 and regularised == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize("iteration", [0, 2, 5])
def test_fitted_annealed_vae_loss_follows_the_iteration(iteration):
    # gamma=None: 1000, disentanglement_lib's study.
    model = VAE(objective="annealed", c_max=3.0, iteration_threshold=4, max_iter=2,
                batch_size=8, random_state=0).fit(TABLE)
    regularised, mean, logvar = _encoded_loss(model, TABLE[:6], iteration)
    expected = dl_annealed(dl_kl(mean, logvar), 1000.0, 3.0, iteration, 4)
    assert expected > 10.0 and regularised == pytest.approx(expected, rel=1e-4)


def test_annealed_capacity_history_rises_and_continues_across_warm_start():
    model = VAE(objective="annealed", c_max=8.0, iteration_threshold=4, max_iter=3,
                batch_size=8, random_state=0, warm_start=True).fit(TABLE)
    model.set_params(max_iter=6).fit(TABLE)
    capacity = [row["capacity"] for epoch in model.history_ for row in epoch["batches"]]
    assert capacity == [0.0, 2.0, 4.0, 6.0, 8.0, 8.0]


@pytest.mark.parametrize("objective", ["dip_i", "dip_ii"])
def test_dip_vae_needs_batches_of_two(objective):
    with pytest.raises(ValueError, match="covariance of the posterior means from the batch and "
                                         "needs at least 2 images"):
        VAE(objective=objective, batch_size=1, max_iter=1).fit(TABLE)


@pytest.mark.parametrize("params, message", [
    ({"lambda_od": -1.0}, "'lambda_od' parameter of VAE must be a float in the range"),
    ({"lambda_d_factor": float("nan")}, "'lambda_d_factor' parameter"),
    ({"c_max": -0.5}, "'c_max' parameter"),
    ({"iteration_threshold": 0}, "'iteration_threshold' parameter of VAE must be an int"),
])
def test_bad_objective_parameters_raise_clear_errors(params, message):
    with pytest.raises(ValueError, match=message):
        VAE(objective="annealed", max_iter=1, **params).fit(TABLE)


# --- The table is the one place -------------------------------------------------------------


def test_every_objective_parameter_is_a_vae_parameter_with_the_table_default():
    signature = inspect.signature(VAE).parameters
    read = {name for objective in OBJECTIVES.values() for name in objective.params}
    assert read == set(PARAMETERS)
    for name in PARAMETERS:
        assert signature[name].default == shared_default(name), name
        assert name in VAE._parameter_constraints
    assert shared_default("gamma") is None  # 10 for FactorVAE, 1000 for the annealed β-VAE
    assert objective_params("factor", VAE().get_params())["gamma"] == 10.0
    assert objective_params("annealed", VAE().get_params())["gamma"] == 1000.0
    assert objective_params("annealed", VAE(gamma=3.0).get_params())["gamma"] == 3.0


@pytest.mark.parametrize("objective", sorted(OBJECTIVES))
def test_every_objective_names_its_source_and_records_its_terms(objective):
    entry = OBJECTIVES[objective]
    assert entry.source and entry.formula and entry.title
    model = VAE(objective=objective, max_iter=2, batch_size=8, random_state=0).fit(TABLE)
    row = model.history_[-1, "batches", -1]
    assert set(["reconstruction", "kl", *entry.terms]) <= set(row)
    assert all(np.isfinite(row[name]) for name in entry.terms)
