"""dSprites variants against their definitions (disentanglement_lib), and CdSprites."""

import numpy as np
import pytest
from PIL import Image

from disentangle.datasets import (
    CdSprites,
    ColorDSprites,
    DSprites,
    NoisyDSprites,
    ScreamDSprites,
)
from disentangle.datasets._dsprites_variants import procedural_background


class SmallSprites(DSprites):
    factor_sizes = (3, 2, 4, 8, 8)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return SmallSprites(data_home=tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def factors(base):
    return base.sample_factors(64, random_state=0)


def masks(base, factors):
    return base.sample_observations_from_factors(factors)[:, 0] == 1


def test_color_keeps_the_mask_and_draws_one_colour_in_half_to_one(base, factors):
    data = ColorDSprites(base)
    assert data.factor_sizes == base.factor_sizes and data.observation_shape == (3, 64, 64)
    images = data.sample_observations_from_factors(factors, random_state=0)
    assert images.shape == (64, 3, 64, 64) and images.dtype == np.float32
    mask = masks(base, factors)
    np.testing.assert_array_equal(images.max(axis=1) > 0, mask)  # colour never changes the mask
    colours = images.max(axis=(2, 3))
    assert colours.min() >= 0.5 and colours.max() <= 1
    for i in range(8):  # one colour per image
        np.testing.assert_array_equal(images[i][:, mask[i]], colours[i][:, None].repeat(
            mask[i].sum(), axis=1))
    again = data.sample_observations_from_factors(factors, random_state=1)
    assert not np.array_equal(images, again)  # random given the factors


def test_noisy_is_white_sprite_on_uniform_noise(base, factors):
    images = NoisyDSprites(base).sample_observations_from_factors(factors, random_state=0)
    mask = np.broadcast_to(masks(base, factors)[:, None], images.shape)
    assert np.all(images[mask] == 1)
    background = images[~mask]
    assert background.min() >= 0 and background.max() < 1
    assert abs(background.mean() - 0.5) < 0.01 and abs(background.var() - 1 / 12) < 0.002


def test_scream_inverts_the_background_under_the_sprite(base, factors):
    picture = np.random.RandomState(0).randint(0, 256, (120, 150, 3)).astype(np.uint8)
    data = ScreamDSprites(base, background=picture)
    images = data.sample_observations_from_factors(factors[:4], random_state=0)
    rng = np.random.RandomState(0)
    pixels = picture / 255
    for i, mask in enumerate(masks(base, factors[:4])):
        top, left = rng.randint(0, 120 - 64), rng.randint(0, 150 - 64)
        patch = (pixels[top:top + 64, left:left + 64] + rng.uniform(0, 1, size=3)) / 2
        patch[mask] = 1 - patch[mask]
        np.testing.assert_allclose(images[i], patch.transpose(2, 0, 1), atol=1e-6)


def test_scream_reads_a_file_and_shrinks_it_like_dlib(tmp_path, base, factors):
    Image.fromarray(np.full((600, 800, 3), 100, dtype=np.uint8)).save(tmp_path / "scream.png")
    data = ScreamDSprites(base, background=tmp_path / "scream.png")
    assert data._background().shape == (263, 350, 3)  # 600 x 800 fit in 350 x 274: 262.5 rows
    images = data.sample_observations_from_factors(factors, random_state=0)
    assert images.min() >= 0 and images.max() <= 1
    with pytest.raises(ValueError, match="larger than 64"):
        ScreamDSprites(base, background=np.zeros((50, 50, 3))).sample_observations_from_factors(
            factors[:1])


def test_procedural_background_is_a_fixed_full_range_texture():
    texture = procedural_background()
    assert texture.shape == (274, 350, 3)
    assert texture.min() == 0 and texture.max() == 1
    np.testing.assert_array_equal(texture, procedural_background())
    assert np.abs(np.diff(texture, axis=1)).mean() < 0.05  # smooth, not noise


def test_variants_wrap_the_procedural_source_by_default():
    data = ColorDSprites()
    assert data.factor_sizes == (3, 6, 40, 32, 32)
    assert isinstance(data._source(), DSprites)


def test_cdsprites_is_a_disc_of_radius_5_on_a_circle():
    data = CdSprites()
    images = data.images
    assert images.shape == (1080, 64, 64) and set(np.unique(images)) == {0, 1}
    factors = np.array([[0, 0], [0, 26], [10, 20], [20, 10]])
    observations = data.sample_observations_from_factors(factors)
    assert observations.shape == (4, 1, 64, 64)
    for (angle, radius), image in zip(factors, observations[:, 0], strict=True):
        rows, cols = np.nonzero(image)
        theta = 2 * np.pi * angle / 40
        assert abs(cols.mean() - (32 + radius * np.cos(theta))) < 0.6
        assert abs(rows.mean() - (32 + radius * np.sin(theta))) < 0.6
        assert 60 < len(rows) < 100  # about pi * 5**2 pixels
    np.testing.assert_array_equal(images[0], images[27])  # radius 0: the same disc at any angle
