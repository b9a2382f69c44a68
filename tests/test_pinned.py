"""Fitted values pinned from ``main`` at 023c327, before issues 14 and 15 changed the engine.

The same seeds must give the same models bit for bit (issue 14, item 4: honouring
skorch's gradient callbacks; issue 15: the redesign). ``tests/data/pinned_main.json``
was written by this module's :func:`compute` run on that commit (``python
tests/test_pinned.py tests/data/pinned_main.json``, one torch thread) under torch 2.13;
``tests/data/pinned_torch2.11.json`` by the same code under torch 2.11, the oldest
supported release (values are pinned per torch release: ``tests/_torch_pins.py``).
Every value is compared exactly.
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
from _torch_pins import for_this_torch

from disentangle import VAE, InfoGANCR
from disentangle.datasets import GeneratedDataset
from disentangle.metrics import factor_vae_score
from disentangle.selection import model_centrality

DATA = Path(__file__).parent / "data"
#: Values of scikit-learn's arithmetic (UDR's Lasso and Spearman correlations on torch's
#: codes): their last bits move with its and scipy's versions (udr_lasso by 3e-17 under
#: scikit-learn 1.9.1), which the torch release does not pin; compared to 1e-12.
SCIKIT_LEARN_ARITHMETIC = {"udr_lasso", "udr_spearman"}
#: The pinned values' file per torch release.
PINNED = {"2.13": DATA / "pinned_main.json", "2.11": DATA / "pinned_torch2.11.json"}

#: A schedule that starts H (warm-up), switches alpha on, and drops the gap, in 6 iterations.
GAN = dict(n_codes=2, n_noise=1, max_iter=6, batch_size=8, cr_start=3, cr_warmup=2, gap=0.5,
           gap_end=4, device="cpu", random_state=0)
VAE_PARAMS = dict(n_latent=3, max_iter=6, batch_size=8, device="cpu", beta=4.0, lr=1e-2,
                  random_state=1)
FVAE = dict(random_state=0, batch_size=10, n_train=20, n_variance=200)


def _fit_all(out, images, table):
    models = {}
    for kind, X in (("images", images), ("table", table)):
        gan = InfoGANCR(**GAN).fit(X)
        models["gan_" + kind] = gan
        out[f"infogan_{kind}_codes"] = gan.transform(X[:3]).ravel().tolist()
        out[f"infogan_{kind}_sample"] = gan.sample(2, random_state=1).ravel()[:6].tolist()
        out[f"infogan_{kind}_cr_loss"] = [b.get("cr_loss")
                                          for b in gan.history_[-1]["batches"]][-3:]
        for objective in ("beta", "factor", "beta_tc"):
            vae = VAE(objective=objective, **VAE_PARAMS).fit(X)
            models[f"vae_{objective}_{kind}"] = vae
            out[f"vae_{objective}_{kind}_codes"] = vae.transform(X[:3]).ravel().tolist()
            std = vae.transform(X[:2], return_std=True)[1]
            out[f"vae_{objective}_{kind}_std"] = std.ravel().tolist()
    return models


def compute():
    """Every pinned value, by name (floats and lists of floats)."""
    rng = np.random.RandomState(0)
    images = (rng.rand(24, 32, 32) > 0.7).astype(np.uint8) * 255
    table = rng.randn(40, 5).astype(np.float32)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = _fit_all(out, images, table)
        other = InfoGANCR(**{**GAN, "random_state": 1}).fit(images)
        data = GeneratedDataset(other)
        out["fvae_paper"] = factor_vae_score(models["gan_images"], data, protocol="paper", **FVAE)
        out["fvae_community"] = factor_vae_score(models["gan_images"], data, n_eval=10,
                                                 prune_threshold=0.0, **FVAE)
        pool = [models["gan_images"], other, models["gan_images"]]
        centrality, pairwise = model_centrality(
            pool, random_state=0,
            similarity_params={"batch_size": 10, "votes_per_code": 5, "n_variance": 200})
        out["mc_centrality"], out["mc_pairwise"] = centrality.tolist(), pairwise.ravel().tolist()
        vaes = [models[f"vae_{objective}_table"] for objective in ("beta", "factor", "beta_tc")]
        for similarity in ("udr_lasso", "udr_spearman"):
            _, pairwise = model_centrality(vaes, table, similarity=similarity, random_state=0,
                                           similarity_params={"n_samples": 30,
                                                              "kl_threshold": 0.0})
            out[similarity] = pairwise.ravel().tolist()
    return out


def test_same_seeds_give_the_values_of_main():
    pinned = json.loads(for_this_torch(PINNED, "write its values with `python "
                                       "tests/test_pinned.py tests/data/<file>.json`").read_text())
    now = compute()
    assert set(now) == set(pinned)
    for name, value in pinned.items():
        if name in SCIKIT_LEARN_ARITHMETIC:
            np.testing.assert_allclose(now[name], value, rtol=1e-12, atol=1e-15, err_msg=name)
        else:
            assert now[name] == value, name


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(compute(), indent=0))
