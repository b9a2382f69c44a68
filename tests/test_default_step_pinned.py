"""The default training step is pinned: values computed with the code of main at 023c327.

A fast path (``fast_path``) or a refactor of the engine must leave the default fit as it
was. The values were computed on one CPU (AMD EPYC, AVX-512) with one torch thread; another
CPU orders some floating-point sums differently, hence a relative tolerance of 1e-5: any change
to the step (another order of random draws, another loss term, another update) moves them by
far more.
"""

import numpy as np
import pytest

from disentangle import VAE, InfoGANCR


@pytest.fixture(scope="module")
def images():
    rng = np.random.RandomState(0)
    return (rng.rand(96, 64, 64) > 0.8).astype(np.uint8)


def test_infogan_cr_default_fit_is_unchanged(images):
    model = InfoGANCR(max_iter=6, batch_size=32, cr_start=3, random_state=0).fit(images)
    last = model.history_[-1, "batches", -1]
    expected = {"cr_loss": 1.6077349185943604, "cr_accuracy": 0.1875,
                "discriminator_loss": 1.4227696657180786, "adversarial_loss": 1.38142728805542,
                "sample_diversity": 0.26114585995674133, "info_loss": 0.8252658247947693,
                "train_loss": 3.9447505474090576}
    for name, value in expected.items():
        assert last[name] == pytest.approx(value, rel=1e-5), name
    weight_sum = sum(float(p.detach().double().sum()) for p in model.net_.module_.parameters())
    assert weight_sum == pytest.approx(1330.5941121851083, rel=1e-6)
    np.testing.assert_allclose(
        model.transform(images[:2]),
        [[-0.00016859709285199642, 0.009039893746376038, 0.01138119213283062,
          0.002423417754471302, 0.002729456638917327],
         [-0.000525469658896327, 0.009033841080963612, 0.011418764479458332,
          0.002332924399524927, 0.0028539765626192093]], rtol=0, atol=2e-7)


@pytest.mark.parametrize("objective, expected", [
    ("beta", {"reconstruction": 2838.67822265625, "train_loss": 2838.67822265625}),
    ("factor", {"reconstruction": 2838.67822265625, "discriminator_loss": 0.6931925415992737,
                "train_loss": 2838.67626953125}),
    ("beta_tc", {"reconstruction": 2838.67822265625, "mutual_information": 4.56436014175415,
                 "total_correlation": 41.079132080078125,
                 "dimension_wise_kl": -45.64336395263672}),
])
def test_vae_default_fit_is_unchanged(images, objective, expected):
    model = VAE(objective=objective, max_iter=4, batch_size=32, random_state=0).fit(images)
    last = model.history_[-1, "batches", -1]
    for name, value in expected.items():
        assert last[name] == pytest.approx(value, rel=1e-5), name
