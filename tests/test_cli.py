import joblib
import numpy as np
import pytest

from disentangle import InfoGANCR, cli
from disentangle.datasets import DSprites
from disentangle.plotting import traversal_grid


@pytest.fixture
def small_dsprites(monkeypatch):
    """DSprites whose `images` is a 256-image sample, so the demo runs in seconds."""
    dataset = DSprites()
    factors = dataset.sample_factors(256, random_state=0)
    subset = dataset.sample_observations_from_factors(factors)[:, 0].astype(np.uint8)
    monkeypatch.setattr(DSprites, "images", property(lambda self: subset))
    monkeypatch.setattr(cli, "DEMO_SCORE", {"protocol": "paper", "n_train": 20, "n_variance": 500})


def test_demo_writes_picture_and_loadable_model(small_dsprites, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["demo", "--max-iter", "3", "--batch-size", "32", "--output", str(out),
                     "--quiet"]) == 0
    printed = capsys.readouterr().out
    score = float(printed.split("FactorVAE score (paper protocol, 500 votes): ")[1].split()[0])
    assert 0 <= score <= 1
    assert "trained 3 iterations" in printed
    assert "InfoGANCR.from_preset('cpu')" in printed  # no GPU here: the CPU preset
    png = (out / "traversals.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    model = joblib.load(out / "model.joblib")
    assert model.n_iter_ == 3 and model.batch_size == 32
    assert model.get_params() == {**InfoGANCR.from_preset("cpu").get_params(), "max_iter": 3,
                                  "batch_size": 32, "random_state": 0, "device": model.device,
                                  "verbose": 0}
    assert model.transform(np.zeros((2, 64, 64), np.uint8)).shape == (2, 5)


def test_traversal_grid_sweeps_one_code_per_row(small_dsprites, tmp_path):
    model = InfoGANCR(max_iter=2, batch_size=32, random_state=0).fit(DSprites().images)
    grid = traversal_grid(model, n_steps=4, random_state=0)
    assert grid.shape == (5, 4, 1, 64, 64)
    base = model.sample_latent(1, random_state=0)[0]
    for k in range(5):
        latents = np.repeat(base[None], 4, axis=0)
        latents[:, k] = np.linspace(-1, 1, 4)
        np.testing.assert_allclose(grid[k], model.generate(latents), atol=1e-6)


def test_unknown_command_exits_with_usage(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train"])
    assert "invalid choice" in capsys.readouterr().err
