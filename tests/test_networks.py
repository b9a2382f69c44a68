"""Replaceable networks (issue 15): user factories for every role, defaults unchanged."""

import math
import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone
from torch import nn

from disentangle import VAE, InfoGANCR
from disentangle.networks import DiscriminatorQ, build_generator

SIZE = 16  # the built-in networks support 32x32 and 64x64 only


class TinyGenerator(nn.Module):
    def __init__(self, n_latent, input_shape):
        super().__init__()
        self.shape = input_shape
        self.fc = nn.Sequential(nn.Linear(n_latent, 32), nn.ReLU(), nn.BatchNorm1d(32),
                                nn.Linear(32, math.prod(input_shape)), nn.Sigmoid())

    def forward(self, latents):
        return self.fc(latents).view(-1, *self.shape)


class TinyDiscriminator(nn.Module):
    def __init__(self, n_codes, input_shape, copies=1):
        super().__init__()
        self.trunk = nn.Sequential(nn.Flatten(), nn.Linear(copies * math.prod(input_shape), 32),
                                   nn.LeakyReLU(0.2))
        self.d = nn.Linear(32, 1)
        self.q = nn.Linear(32, n_codes)

    def forward(self, inputs):
        features = self.trunk(inputs)
        return self.d(features).squeeze(1), self.q(features)


def tiny_cr_discriminator(n_codes, input_shape):
    """H as a factory function: the pair stacked on the channel axis, logits over the codes."""
    network = TinyDiscriminator(n_codes, input_shape, copies=2)
    return nn.Sequential(network.trunk, network.q)


class TinyEncoder(nn.Module):
    def __init__(self, n_latent, input_shape):
        super().__init__()
        self.trunk = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), 32), nn.ReLU())
        self.mean, self.logvar = nn.Linear(32, n_latent), nn.Linear(32, n_latent)

    def forward(self, inputs):
        features = self.trunk(inputs)
        return self.mean(features), self.logvar(features)


def tiny_decoder(n_latent, input_shape):
    return nn.Sequential(nn.Linear(n_latent, math.prod(input_shape)), nn.Unflatten(1, input_shape))


GAN = dict(generator=TinyGenerator, discriminator=TinyDiscriminator,
           cr_discriminator=tiny_cr_discriminator)
COMMON = dict(max_iter=4, batch_size=8, device="cpu", random_state=0)
ESTIMATORS = [InfoGANCR(n_codes=2, n_noise=1, cr_start=1, **GAN, **COMMON),
              VAE(n_latent=2, encoder=TinyEncoder, decoder=tiny_decoder, **COMMON),
              VAE(objective="factor", n_latent=2, encoder=TinyEncoder, decoder=tiny_decoder,
                  **COMMON)]


@pytest.fixture(scope="module")
def images():
    return (np.random.RandomState(0).rand(32, 2, SIZE, SIZE) > 0.7).astype(np.uint8)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=["InfoGANCR", "VAE", "FactorVAE"])
def test_user_networks_train_on_a_shape_the_built_ins_reject(estimator, images):
    with pytest.raises(ValueError, match="Images of size 16x16 are not supported"):
        clone(estimator).set_params(**dict.fromkeys(estimator._network_params)).fit(images)
    model = clone(estimator).fit(images)
    assert model.n_iter_ == 4 and model.input_shape_ == (2, SIZE, SIZE)
    codes = model.transform(images)
    assert codes.shape == (32, 2) and np.all(np.isfinite(codes))
    assert model.sample(3, random_state=0).shape == (3, 2, SIZE, SIZE)
    # The same seed gives the same model; the nets hold the user's networks.
    np.testing.assert_array_equal(clone(estimator).fit(images).transform(images), codes)
    assert type(model.net_.module_) in (TinyGenerator, nn.Sequential)
    assert model.net_.module in (TinyGenerator, tiny_decoder)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=["InfoGANCR", "VAE", "FactorVAE"])
def test_clone_get_params_and_pickling_keep_the_networks(estimator, images):
    params = estimator.get_params()
    assert all(params[name] is getattr(estimator, name) for name in estimator._network_params)
    assert clone(estimator).get_params() == params
    model = clone(estimator).fit(images)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(loaded.transform(images), model.transform(images))
    # warm_start continues a fit with user networks (their fingerprint is their name).
    more = loaded.set_params(max_iter=6, warm_start=True).fit(images)
    assert more.n_iter_ == 6


def test_the_defaults_are_the_built_in_networks(images):
    images = np.zeros((8, 1, 32, 32), np.uint8)
    default = InfoGANCR(**COMMON).fit(images)
    explicit = InfoGANCR(generator=build_generator, discriminator=DiscriminatorQ,
                         **COMMON).fit(images)
    for a, b in zip(default.net_.module_.parameters(), explicit.net_.module_.parameters(),
                    strict=True):
        assert torch.equal(a, b)
    assert default.net_.criterion_ is None and default.net_.module is build_generator


def test_a_network_that_is_not_callable_is_rejected(images):
    with pytest.raises(ValueError, match="'decoder' parameter of VAE must be"):
        VAE(decoder="big", **COMMON).fit(images)
