import warnings

import numpy as np
import pytest
import torch

from disentangle import InfoGANCR
from disentangle.infogan_cr import CRSchedule, sample_cr_pairs


@pytest.fixture(scope="module")
def images():
    rng = np.random.RandomState(0)
    return (rng.rand(96, 64, 64) > 0.8).astype(np.uint8)


@pytest.fixture(scope="module")
def fitted(images):
    return InfoGANCR(max_iter=6, batch_size=32, cr_start=3, random_state=0).fit(images)


@pytest.mark.parametrize("gap", [0.0, 0.5, 1.9])
def test_cr_pairs_share_code_and_noise(gap):
    gen = torch.Generator().manual_seed(0)
    a, b, shared = sample_cr_pairs(4000, 5, 3, gap, gen)
    assert a.shape == b.shape == (4000, 8) and shared.shape == (4000,)
    rows = torch.arange(4000)
    assert torch.equal(a[rows, shared], b[rows, shared])
    assert torch.equal(a[:, 5:], b[:, 5:])  # the noise z is shared
    other = torch.ones(4000, 5, dtype=torch.bool)
    other[rows, shared] = False
    diff = (a[:, :5] - b[:, :5]).abs()[other]
    assert diff.min() >= gap - 1e-6
    if gap == 0:
        assert diff.min() > 0  # independent draws, not copies
    assert a.abs().max() <= 1 and b.abs().max() <= 1
    counts = torch.bincount(shared, minlength=5).numpy()
    assert np.all(np.abs(counts / 4000 - 0.2) < 0.03)


def test_cr_pairs_other_codes_cover_the_range():
    a, b, shared = sample_cr_pairs(5000, 2, 0, 0.0, torch.Generator().manual_seed(1))
    values = torch.cat([a, b]).numpy().ravel()
    # U(-1, 1): mean 0, variance 1/3
    assert abs(values.mean()) < 0.03 and abs(values.var() - 1 / 3) < 0.02


def test_schedule_switches_weight_gap_and_h():
    schedule = CRSchedule(cr_weight=3.0, cr_start=50, gap=1.9, gap_end=85)
    assert schedule.state(0) == (0.0, 1.9, False, False)
    assert schedule.state(49) == (0.0, 1.9, False, False)
    assert schedule.state(50) == (3.0, 1.9, True, True)  # H starts afresh with alpha
    assert schedule.state(51) == (3.0, 1.9, True, False)
    assert schedule.state(85) == (3.0, 0.0, True, True)  # and again when the gap falls
    warm = CRSchedule(cr_weight=1.0, cr_start=50, gap=0.0, gap_end=None, cr_warmup=20)
    assert warm.state(29) == (0.0, 0.0, False, False)
    assert warm.state(30) == (0.0, 0.0, True, True)
    assert warm.state(50) == (1.0, 0.0, True, False)
    # From the start (official schedule with cr_start=0): nothing to reset at iteration 0.
    assert CRSchedule(1.0, 0, 0.0, None).state(0) == (1.0, 0.0, True, False)


def test_cr_warmup_trains_h_before_alpha_and_resets_it_once(images):
    model = InfoGANCR(max_iter=6, batch_size=32, cr_start=4, cr_warmup=3, random_state=0)
    net = model.fit(images).net_
    # H started afresh at iteration 1 and trained for 5 iterations; alpha from iteration 4.
    assert net.n_cr_resets_ == 1
    assert {int(s["step"]) for s in net.optimizer_cr_discriminator_.state.values()} == {5}
    rows = [row for epoch in model.history_ for row in epoch["batches"]]
    assert ["cr_loss" in row for row in rows] == [False] + [True] * 5


def test_cr_warmup_longer_than_cr_start_is_rejected_before_training(images):
    model = InfoGANCR(max_iter=6, batch_size=32, cr_start=0.5, cr_warmup=4)
    expected = r"cr_warmup \(4 iterations\) is longer than cr_start \(3\)"
    with pytest.raises(ValueError, match=expected):
        model.fit(images)
    assert not hasattr(model, "net_")
    # Without CR there is no H to warm up: nothing to reject.
    InfoGANCR(max_iter=2, batch_size=32, cr_weight=0.0, cr_start=1, cr_warmup=2).fit(images)


def test_gap_ending_before_h_trains_warns(images):
    model = InfoGANCR(max_iter=4, batch_size=32, cr_start=3, gap=1.0, gap_end=2)
    with pytest.warns(UserWarning, match="gap=1.0 ends at iteration 2, before H starts") as record:
        model.fit(images)
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        InfoGANCR(max_iter=4, batch_size=32, cr_start=3, gap=1.0, gap_end=4).fit(images)


def test_fit_transform_sample_shapes_and_dtypes(fitted, images):
    codes = fitted.transform(images[:10])
    assert codes.shape == (10, 5) and codes.dtype == np.float32
    samples = fitted.sample(7, random_state=0)
    assert samples.shape == (7, 1, 64, 64) and samples.dtype == np.float32
    assert samples.min() >= 0 and samples.max() <= 1
    latents = fitted.sample_latent(4, random_state=0)
    assert latents.shape == (4, 10) and latents.dtype == np.float32
    assert np.abs(latents).max() <= 1
    np.testing.assert_array_equal(fitted.generate(latents), fitted.sample(4, random_state=0))
    assert list(fitted.get_feature_names_out()) == [f"code{k}" for k in range(5)]
    assert fitted.n_iter_ == 6


def test_one_h_step_one_d_step_two_g_steps_per_iteration(fitted):
    net = fitted.net_

    def steps(optimizer):
        return {int(s["step"]) for s in optimizer.state.values()}

    assert steps(net.optimizer_) == {12}
    assert steps(net.optimizer_discriminator_) == {6}
    # H and its Adam state were re-initialised when alpha switched on at iteration 3.
    assert net.n_cr_resets_ == 1
    assert steps(net.optimizer_cr_discriminator_) == {3}
    assert len(fitted.history_[:, "batches"][0]) >= 1


def test_h_trains_only_while_alpha_is_on_and_generator_steps_count(images):
    model = InfoGANCR(max_iter=4, batch_size=32, cr_weight=0.0, generator_steps=1,
                      random_state=0).fit(images)
    net = model.net_
    assert {int(s["step"]) for s in net.optimizer_.state.values()} == {4}
    assert not net.optimizer_cr_discriminator_.state  # H never stepped
    rows = [row for epoch in model.history_ for row in epoch["batches"]]
    assert len(rows) == 4 and not any("cr_loss" in row for row in rows)
    assert all(np.isfinite(row["info_loss"]) for row in rows)


def test_presets_set_parameters_and_overrides_win():
    from disentangle.infogan_cr import PRESETS

    assert InfoGANCR.from_preset("paper").get_params() == InfoGANCR().get_params()
    cpu = InfoGANCR.from_preset("cpu", random_state=3)
    assert cpu.get_params() == {**InfoGANCR().get_params(), **PRESETS["cpu"], "random_state": 3}
    # An override of a parameter the preset itself sets wins over the preset.
    assert PRESETS["cpu"]["max_iter"] != 5
    assert InfoGANCR.from_preset("cpu", max_iter=5).max_iter == 5
    with pytest.raises(ValueError, match="Unknown preset 'gpu'; expected one of"):
        InfoGANCR.from_preset("gpu")


def test_same_seed_same_model_other_seed_other_model(fitted, images):
    again = InfoGANCR(max_iter=6, batch_size=32, cr_start=3, random_state=0).fit(images)
    np.testing.assert_array_equal(fitted.transform(images), again.transform(images))
    np.testing.assert_array_equal(fitted.sample(5, random_state=3), again.sample(5, random_state=3))
    other = InfoGANCR(max_iter=6, batch_size=32, cr_start=3, random_state=1).fit(images)
    assert not np.allclose(fitted.transform(images), other.transform(images))


def test_input_layouts_and_dtypes_agree(images):
    params = dict(max_iter=2, batch_size=32, random_state=0)
    codes = InfoGANCR(**params).fit(images).transform(images[:5])
    for variant in (images[:, None], images.astype(bool), images.astype(np.float32)):
        np.testing.assert_allclose(
            InfoGANCR(**params).fit(variant).transform(variant[:5]), codes, rtol=1e-5, atol=1e-6
        )


def test_uint8_0_255_images_are_scaled(images):
    params = dict(max_iter=2, batch_size=32, random_state=0)
    model = InfoGANCR(**params).fit(images * 255)
    assert model.input_scale_ == pytest.approx(1 / 255)
    reference = InfoGANCR(**params).fit(images)
    np.testing.assert_allclose(
        model.transform(images[:5] * 255), reference.transform(images[:5]), rtol=1e-5, atol=1e-6
    )


def test_discriminator_step_moves_only_discriminator(images):
    model = InfoGANCR(max_iter=1, batch_size=32, random_state=0).fit(images)
    net = model.net_
    before = {name: [p.clone() for p in getattr(net, name).parameters()]
              for name in ("module_", "discriminator_", "cr_discriminator_")}
    real = torch.from_numpy(images[:32, None]).float()
    latents = torch.rand(32, 10) * 2 - 1
    net._discriminator_step(real, net.module_(latents).detach(), latents[:, :5])
    for name, params in before.items():
        now = getattr(net, name).parameters()
        changed = any(not torch.equal(p, q) for p, q in zip(params, now, strict=True))
        assert changed == (name == "discriminator_"), name


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((4, 48, 48), np.uint8), "supported sizes: 32x32, 64x64"),
        (np.zeros((4, 1, 1, 64, 64), np.uint8), "shape"),
        (np.zeros((0, 64, 64), np.uint8), "at least one image"),
        (np.full((4, 64, 64), 2.0), r"\[0, 1\]"),
        (np.full((4, 64, 64), np.nan), "NaN"),
        (np.zeros((4, 64, 64), np.int32), "dtype"),
    ],
)
def test_bad_images_raise_clear_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        InfoGANCR(max_iter=1).fit(bad)


def test_transform_checks_shape_seen_at_fit(fitted):
    with pytest.raises(ValueError, match=r"\(n, 1, 64, 64\) as seen at fit"):
        fitted.transform(np.zeros((2, 3, 64, 64), np.uint8))
    with pytest.raises(ValueError, match=r"latents of shape \(n, 10\)"):
        fitted.generate(np.zeros((2, 4)))
