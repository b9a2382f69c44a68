import math
import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from disentangle import VAE
from disentangle.vae import VAE_MODULES, reparameterize
from disentangle.vae_objectives import (
    LOSS_NAMES,
    OBJECTIVES,
    gaussian_kl,
    gaussian_log_density,
    kl_decomposition,
    log_importance_weights,
    permute_dims,
)

SMALL = dict(batch_size=16, max_iter=4, random_state=0)


def squares(n, seed=0):
    """Binary 64x64 images of one filled square of random size and position."""
    rng = np.random.RandomState(seed)
    images = np.zeros((n, 64, 64), np.uint8)
    for image in images:
        size = rng.randint(8, 24)
        x, y = rng.randint(0, 64 - size, 2)
        image[y : y + size, x : x + size] = 1
    return images



@pytest.fixture(scope="module")
def images():
    return (np.random.RandomState(0).rand(48, 64, 64) > 0.8).astype(np.uint8)


@pytest.fixture(scope="module")
def fitted(images):
    return {obj: VAE(objective=obj, **SMALL).fit(images) for obj in OBJECTIVES}


def log_prior(z):
    """Element-wise log N(z; 0, 1)."""
    return gaussian_log_density(z, torch.zeros_like(z), torch.zeros_like(z))


def batch_losses(model, name="train_loss"):
    return np.concatenate([np.asarray(p) for p in model.history_[:, "batches", :, name]])


# --- Training ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"objective": "beta", "beta": 4.0},
        {"objective": "factor", "gamma": 10.0},
        {"objective": "beta_tc", "beta": 6.0, "tc_estimator": "mws"},
        {"objective": "beta_tc", "beta": 6.0, "tc_estimator": "mss"},
        {"objective": "dip_i", "lambda_od": 10.0},
        {"objective": "dip_ii", "lambda_od": 10.0},
        {"objective": "annealed", "gamma": 1000.0, "c_max": 25.0},
    ],
    ids=["beta", "factor", "beta_tc-mws", "beta_tc-mss", "dip_i", "dip_ii", "annealed"],
)
def test_loss_goes_down(params):
    model = VAE(lr=1e-3, batch_size=16, max_iter=40, random_state=0, **params)
    losses = batch_losses(model.fit(squares(128)))
    assert len(losses) == 40 and np.all(np.isfinite(losses))
    # From about 4096 * log 2 = 2839 nats (logits near 0) to well below.
    assert losses[-5:].mean() < 0.75 * losses[:5].mean()


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_history_records_the_objective_terms(fitted, objective):
    model = fitted[objective]
    assert model.n_iter_ == 4
    for name in LOSS_NAMES[objective]:
        assert np.all(np.isfinite(batch_losses(model, name)))
    row = model.history_[-1, "batches", -1]
    assert set(LOSS_NAMES[objective]) <= set(row)


def test_beta_tc_with_beta_one_is_the_plain_vae(fitted, images):
    # Loss = reconstruction + KL + (beta - 1) TC: with beta = 1 every batch loss,
    # gradient and weight is the plain VAE's, bit for bit (same seed, same batches).
    plain, tc = fitted["beta"], fitted["beta_tc"]
    assert plain.beta == tc.beta == 1.0
    np.testing.assert_array_equal(batch_losses(plain), batch_losses(tc))
    np.testing.assert_array_equal(plain.transform(images), tc.transform(images))
    assert np.all(batch_losses(tc, "total_correlation") != 0)  # TC was estimated, weighted 0


@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_decomposition_sums_to_the_one_sample_kl(fitted, images, estimator):
    # MI + TC + DWKL = mean_i [log q(z_i|x_i) - log p(z_i)] exactly on every batch:
    # the log q(z) and log prod q(z_d) estimates cancel whatever the weights.
    encoder = fitted["beta_tc"].net_.encoder_
    with torch.no_grad():
        mean, logvar = encoder(torch.from_numpy(images[:32, None]).float())
        z = reparameterize(mean, logvar, torch.Generator().manual_seed(0))
        terms = kl_decomposition(z, mean, logvar, dataset_size=len(images), estimator=estimator)
        one_sample_kl = (gaussian_log_density(z, mean, logvar) - log_prior(z)).sum(1).mean()
    assert float(sum(terms)) == pytest.approx(float(one_sample_kl), abs=1e-4)


def test_one_sample_kl_is_the_closed_form_kl_in_expectation():
    gen = torch.Generator().manual_seed(0)
    mean, logvar = torch.randn(8, 4, generator=gen), torch.randn(8, 4, generator=gen) * 0.5
    draws = [
        (gaussian_log_density(z, mean, logvar) - log_prior(z)).sum(1).mean()
        for z in (reparameterize(mean, logvar, gen) for _ in range(4000))
    ]
    assert float(torch.stack(draws).mean()) == pytest.approx(float(gaussian_kl(mean, logvar)),
                                                             rel=0.01)


def _synthetic_posteriors(correlated, generator, n=256, d=5):
    """Posterior means, log-variances (variance 0.5) and one sample each."""
    noise = torch.randn(n, d, generator=generator)
    mean = torch.randn(n, 1, generator=generator) + 0.3 * noise if correlated else noise
    logvar = torch.full((n, d), math.log(0.5))
    return reparameterize(mean, logvar, generator), mean, logvar


@pytest.mark.parametrize("estimator", ["mws", "mss"])
def test_tc_estimate_near_zero_for_independent_and_positive_for_correlated(estimator):
    n_data, d = 10_000, 5
    # "mws" (Chen et al.'s 1/(NM) weights) is a lower bound on each log-density;
    # with overlapping posteriors TC is offset by (D - 1) log N, which we remove.
    offset = (d - 1) * math.log(n_data) if estimator == "mws" else 0.0
    gen = torch.Generator().manual_seed(0)

    def tc(correlated):
        draws = [
            kl_decomposition(*_synthetic_posteriors(correlated, gen), n_data, estimator)
            for _ in range(5)
        ]
        return np.mean([float(t.total_correlation) for t in draws]) - offset

    # True TC: 0, and for the correlated latents (equicorrelation 0.63, D = 5) 1.36 nats.
    assert abs(tc(False)) < 0.25
    assert 1.0 < tc(True) < 1.8


def test_importance_weights():
    mss = log_importance_weights(5, 100, "mss").exp()
    np.testing.assert_allclose(mss.sum(1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(mss.diagonal(), 0.01, rtol=1e-6)
    mws = log_importance_weights(5, 100, "mws").exp()
    np.testing.assert_allclose(mws, 1 / 500, rtol=1e-6)
    with pytest.raises(ValueError, match="batch_size >= 2"):
        log_importance_weights(1, 100, "mss")
    with pytest.raises(ValueError, match="estimator"):
        log_importance_weights(5, 100, "nope")


def test_permute_dims_permutes_each_column_independently():
    z = torch.arange(1000.0)[:, None].repeat(1, 3)
    permuted = permute_dims(z, torch.Generator().manual_seed(0))
    for d in range(3):
        assert torch.equal(permuted[:, d].sort().values, z[:, d])
    assert not torch.equal(permuted[:, 0], permuted[:, 1])


# --- FactorVAE's two optimisers ---------------------------------------------------------------


def _snapshot(net):
    return {name: [p.detach().clone() for p in getattr(net, name).parameters()]
            for name in ("encoder_", "module_", "tc_discriminator_")}


def _changed(net, before):
    return {
        name for name, params in before.items()
        if any(not torch.equal(p, q) for p, q in zip(params, getattr(net, name).parameters(),
                                                     strict=True))
    }


def _clear_grads(net):
    for name in ("encoder_", "module_", "tc_discriminator_"):
        for p in getattr(net, name).parameters():
            p.grad = None


def test_discriminator_step_moves_only_the_discriminator(images):
    net = VAE(objective="factor", **SMALL).fit(images).net_
    before = _snapshot(net)
    _clear_grads(net)
    mean, logvar = net.encoder_(torch.from_numpy(images[:16, None]).float())
    z = reparameterize(mean, logvar, torch.Generator().manual_seed(0))  # still in the graph
    net.discriminator_step(z)
    assert _changed(net, before) == {"tc_discriminator_"}
    assert all(p.grad is None for p in net.encoder_.parameters())


def test_vae_step_leaves_the_discriminator_alone(images):
    net = VAE(objective="factor", **SMALL).fit(images).net_
    before = _snapshot(net)
    _clear_grads(net)
    loss, _, _ = net.vae_loss(torch.from_numpy(images[:16, None]).float())
    net.optimizer_step(net.optimizer_, loss, VAE_MODULES)
    assert _changed(net, before) == {"encoder_", "module_"}
    assert all(p.grad is None for p in net.tc_discriminator_.parameters())


def test_factor_takes_one_step_per_optimiser_per_iteration(fitted):
    net = fitted["factor"].net_
    for optimizer in (net.optimizer_, net.optimizer_discriminator_):
        assert {int(s["step"]) for s in optimizer.state.values()} == {4}


# --- Batches, seeds, interface ----------------------------------------------------------------


@pytest.mark.parametrize("objective", OBJECTIVES)
@pytest.mark.parametrize("batch_size, expected", [(7, [7] * 9), (64, [50] * 2)])
def test_odd_and_short_batches(objective, batch_size, expected):
    # 50 images: batch 7 gives 7 batches a pass (the short last one is dropped,
    # as in the official code); batch 64 gives one batch of all 50.
    X = squares(50)
    model = VAE(objective=objective, batch_size=batch_size, max_iter=len(expected),
                random_state=0).fit(X)
    assert batch_losses(model, "train_batch_size").tolist() == expected
    assert model.transform(X[:13]).shape == (13, 10)


def test_same_seed_same_model_other_seed_other_model(fitted, images):
    again = VAE(objective="factor", **SMALL).fit(images)
    reference = fitted["factor"]
    np.testing.assert_array_equal(reference.transform(images), again.transform(images))
    np.testing.assert_array_equal(batch_losses(reference), batch_losses(again))
    np.testing.assert_array_equal(
        reference.sample(3, random_state=1), again.sample(3, random_state=1)
    )
    other = VAE(objective="factor", **{**SMALL, "random_state": 1}).fit(images)
    assert not np.allclose(reference.transform(images), other.transform(images))


@pytest.mark.parametrize("objective", OBJECTIVES)
def test_transform_sample_generate_shapes_and_dtypes(fitted, images, objective):
    model = fitted[objective]
    codes = model.transform(images[:10])
    assert codes.shape == (10, 10) and codes.dtype == np.float32
    latents = model.sample_latent(2000, random_state=0)
    assert latents.shape == (2000, 10) and latents.dtype == np.float32
    assert abs(latents.std() - 1) < 0.05  # the N(0, I) prior
    samples = model.sample(5, random_state=0)
    assert samples.shape == (5, 1, 64, 64) and samples.dtype == np.float32
    assert samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(model.generate(latents[:5]), samples)
    assert model.n_codes_ == model.n_latent_ == 10
    assert list(model.get_feature_names_out()) == [f"code{k}" for k in range(10)]


def test_transform_returns_the_posterior_mean(fitted, images):
    model = fitted["beta"]
    with torch.no_grad():
        mean, _ = model.net_.encoder_(torch.from_numpy(images[:4, None]).float())
    np.testing.assert_allclose(model.transform(images[:4]), mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.transform(images[:4]), model.transform(images[:4]))


def test_pickle_round_trip(fitted, images):
    model = fitted["factor"]
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.transform(images[:5]), model.transform(images[:5]))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"objective": "dip"}, "'objective' parameter of VAE must be a str among"),
        ({"tc_estimator": "exact"}, "'tc_estimator' parameter of VAE must be a str among"),
        ({"beta": -1.0}, r"'beta' parameter of VAE must be a float in the range \[0.0, inf\), "
                         "finite"),
        ({"gamma": float("inf")}, r"finite \(True and False are not accepted\) or None. Got inf"),
        ({"objective": "factor", "batch_size": 1}, "at least 2 images"),
    ],
)
def test_bad_parameters_raise_clear_errors(images, params, message):
    with pytest.raises(ValueError, match=message):
        VAE(max_iter=1, **params).fit(images)


def test_user_callbacks_see_every_iteration(images):
    class Count(Callback):
        def initialize(self):
            self.seen = []
            return self

        def on_batch_end(self, net, **kwargs):
            self.seen.append(net.n_iter_)

    count = Count()
    VAE(objective="beta_tc", callbacks=[("count", count)], **SMALL).fit(images)
    assert count.seen == [1, 2, 3, 4]


def test_transform_return_std_gives_the_posterior(images):
    model = VAE(max_iter=2, batch_size=32, random_state=0).fit(images)
    means, stds = model.transform(images[:7], return_std=True)
    np.testing.assert_array_equal(means, model.transform(images[:7]))
    inputs = torch.from_numpy(images[:7, None]).float()
    with torch.no_grad():
        _, logvar = model.net_.encoder_.eval()(inputs)
    np.testing.assert_allclose(stds, np.exp(0.5 * logvar.numpy()), rtol=1e-6)
    assert stds.shape == (7, 10) and stds.dtype == np.float32 and np.all(stds > 0)
