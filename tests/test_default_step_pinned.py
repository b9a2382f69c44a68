"""The default training step is pinned: values computed with the code of main at 023c327.

A fast path (``fast_path``) or a refactor of the engine must leave the default fit as it
was. The values were computed on one CPU (AMD EPYC, AVX-512) with one torch thread, one set
per torch release (``tests/_torch_pins.py``): torch 2.13's with the code of main at 023c327,
torch 2.11's with the same step under torch 2.11. The VAEs' differ from 2.13's by a relative
2e-5 (float noise); InfoGAN-CR's by more, because ``torch.nn.init.trunc_normal_`` draws other
values from the same seeded generator in torch 2.11 (its initial weights differ).
Another CPU orders some floating-point sums differently, hence a relative tolerance of 1e-5:
any change to the step (another order of random draws, another loss term, another update)
moves them by far more. ``python tests/test_default_step_pinned.py`` prints
this torch release's values.
"""

import json

import numpy as np
import pytest
from _torch_pins import for_this_torch, torch_release

from disentangle import VAE, InfoGANCR

HOW_TO_PIN = "add the values `python tests/test_default_step_pinned.py` prints"
INFOGAN = {
    "2.13": {
        "last": {"cr_loss": 1.6077349185943604, "cr_accuracy": 0.1875,
                 "discriminator_loss": 1.4227696657180786, "adversarial_loss": 1.38142728805542,
                 "sample_diversity": 0.26114585995674133, "info_loss": 0.8252658247947693,
                 "train_loss": 3.9447505474090576},
        "weight_sum": 1330.5941121851083,
        "codes": [[-0.00016859709285199642, 0.009039893746376038, 0.01138119213283062,
                   0.002423417754471302, 0.002729456638917327],
                  [-0.000525469658896327, 0.009033841080963612, 0.011418764479458332,
                   0.002332924399524927, 0.0028539765626192093]],
    },
    "2.11": {  # trunc_normal_ draws other initial weights from the same seed (see above)
        "last": {"cr_loss": 1.6122798919677734, "cr_accuracy": 0.1875,
                 "discriminator_loss": 1.2991650104522705, "adversarial_loss": 1.2577602863311768,
                 "sample_diversity": 0.1697423905134201, "info_loss": 0.8266897797584534,
                 "train_loss": 3.909911870956421},
        "weight_sum": 1334.1021197579703,
        "codes": [[-0.04042655974626541, 0.04532063007354736, -0.02839108370244503,
                   0.05744750425219536, -0.06942615658044815],
                  [-0.03935123234987259, 0.04605873301625252, -0.0277857705950737,
                   0.05676686391234398, -0.06844659149646759]],
    },
}
VAE_LAST = {
    "2.13": {
        "beta": {"reconstruction": 2838.67822265625, "train_loss": 2838.67822265625},
        "factor": {"reconstruction": 2838.67822265625, "discriminator_loss": 0.6931925415992737,
                   "train_loss": 2838.67626953125},
        "beta_tc": {"reconstruction": 2838.67822265625, "mutual_information": 4.56436014175415,
                    "total_correlation": 41.079132080078125,
                    "dimension_wise_kl": -45.64336395263672},
    },
    "2.11": {
        "beta": {"reconstruction": 2838.6357421875, "train_loss": 2838.6357421875},
        "factor": {"reconstruction": 2838.635498046875, "discriminator_loss": 0.6932297348976135,
                   "train_loss": 2838.646240234375},
        "beta_tc": {"reconstruction": 2838.6357421875, "mutual_information": 4.564322471618652,
                    "total_correlation": 41.079132080078125,
                    "dimension_wise_kl": -45.64354705810547},
    },
}


def make_images():
    rng = np.random.RandomState(0)
    return (rng.rand(96, 64, 64) > 0.8).astype(np.uint8)


@pytest.fixture(scope="module")
def images():
    return make_images()


def fit_infogan_cr(images):
    """The pinned quantities of a 6-iteration InfoGAN-CR fit."""
    model = InfoGANCR(max_iter=6, batch_size=32, cr_start=3, random_state=0).fit(images)
    last = model.history_[-1, "batches", -1]
    return {"last": {name: last[name] for name in INFOGAN["2.13"]["last"]},
            "weight_sum": sum(float(p.detach().double().sum())
                              for p in model.net_.module_.parameters()),
            "codes": model.transform(images[:2]).tolist()}


def fit_vae(images, objective):
    """The last iteration's losses of a 4-iteration VAE fit."""
    model = VAE(objective=objective, max_iter=4, batch_size=32, random_state=0).fit(images)
    last = model.history_[-1, "batches", -1]
    return {name: last[name] for name in VAE_LAST["2.13"][objective]}


def test_infogan_cr_default_fit_is_unchanged(images):
    expected = for_this_torch(INFOGAN, HOW_TO_PIN)
    now = fit_infogan_cr(images)
    for name, value in expected["last"].items():
        assert now["last"][name] == pytest.approx(value, rel=1e-5), name
    assert now["weight_sum"] == pytest.approx(expected["weight_sum"], rel=1e-6)
    np.testing.assert_allclose(now["codes"], expected["codes"], rtol=0, atol=2e-7)


@pytest.mark.parametrize("objective", ["beta", "factor", "beta_tc"])
def test_vae_default_fit_is_unchanged(images, objective):
    expected = for_this_torch(VAE_LAST, HOW_TO_PIN)[objective]
    now = fit_vae(images, objective)
    for name, value in expected.items():
        assert now[name] == pytest.approx(value, rel=1e-5), name


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    data = make_images()
    print(json.dumps({"torch": torch_release(), "INFOGAN": fit_infogan_cr(data),
                      "VAE_LAST": {o: fit_vae(data, o) for o in ("beta", "factor", "beta_tc")}},
                     indent=1))
