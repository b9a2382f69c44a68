"""traversal_effects: how much each code changes the generated images, on known linear models."""

import numpy as np
import pytest

from disentangle import cli
from disentangle.devices import parse_fast_path
from disentangle.plotting import traversal_effects


class LinearGenerator:
    """A fitted generative model of 4x4 images: pixels = latents @ weights (codes, then noise)."""

    traversal_range = (-1.0, 1.0)

    def __init__(self, weights, n_codes):
        self.weights, self.n_codes_ = np.asarray(weights, np.float32), n_codes

    def sample_latent(self, n, random_state=None):
        rng = np.random.default_rng(random_state.randint(2**31) if hasattr(random_state, "randint")
                                    else random_state)
        return rng.uniform(-1, 1, (n, len(self.weights))).astype(np.float32)

    def generate(self, latents):
        return (latents @ self.weights).reshape(len(latents), 1, 4, 4)


def test_a_code_the_generator_ignores_has_no_effect_and_effects_scale_with_the_weights():
    rng = np.random.default_rng(0)
    weights = rng.normal(size=(4, 16))
    weights[1] *= 0.05  # a weak code
    weights[2] = 0.0    # a dead code; row 3 is the noise z
    effects = traversal_effects(LinearGenerator(weights, n_codes=3), random_state=0)
    assert effects.shape == (3,) and effects[2] == 0.0
    # Along a sweep of code k, pixel p moves by |w_kp| * std(sweep values): the ratio of two
    # codes' effects is that of their mean absolute weights, whatever the reference.
    expected = np.abs(weights[0]).mean() / np.abs(weights[1]).mean()
    assert effects[0] / effects[1] == pytest.approx(expected, rel=1e-5)


def test_one_code_alone_moves_the_images_as_much_as_a_fresh_sample():
    weights = np.zeros((2, 16))
    weights[0] = np.linspace(0.5, 2.0, 16)  # code 0 drives every pixel; code 1 nothing
    effects = traversal_effects(LinearGenerator(weights, n_codes=2), n_steps=10, n_bases=32)
    # Sweep: the population std of linspace(-1, 1, 10) = sqrt(165 / 405); fresh samples:
    # U(-1, 1) has std 1 / sqrt(3) (320 draws: the sample std within a few %).
    assert effects[0] == pytest.approx(np.sqrt(165 / 405) * np.sqrt(3), rel=0.08)
    assert effects[1] == 0.0


def test_demo_line_names_dead_codes():
    weights = np.zeros((3, 16))
    weights[0], weights[1] = 1.0, 0.02  # code 1 moves the picture by 2 % of code 0
    line = cli.live_codes_line(LinearGenerator(weights, n_codes=2))
    assert line.startswith("live codes: 1 of 2 ") and "code1 0.02 (dead)" in line
    assert "code0 1.1" in line  # sqrt(165/405) * sqrt(3) = 1.106, within the sample's spread


@pytest.mark.parametrize("text, expected", [
    ("none", None), ("auto", "auto"), ("bf16", ("bf16",)),
    ("bf16+channels_last", ("bf16", "channels_last")),
])
def test_demo_fast_path_option(text, expected):
    assert parse_fast_path(text) == expected
