import os
import signal
import subprocess
import sys
import types

import joblib
import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from disentangle import InfoGANCR, cli
from disentangle._checkpoint import CHECKPOINT_FILE
from disentangle._engine import TrainingWarning
from disentangle.datasets import DSprites
from disentangle.devices import auto_fast_path
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
    assert "trained 3 iterations" in printed and "peak memory" in printed
    assert "live codes: " in printed and " of 5 change the traversal picture" in printed
    assert "InfoGANCR.from_preset('cpu')" in printed  # no GPU here: the CPU preset
    png = (out / "traversals.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    model = joblib.load(out / "model.joblib")
    assert model.n_iter_ == 3 and model.batch_size == 32
    # The cpu preset trains with what this CPU runs natively (bf16 only with native bf16).
    assert model.fast_path == "auto"
    assert model.fast_path_ == auto_fast_path(torch.device("cpu"), images=True)
    assert model.get_params() == {**InfoGANCR.from_preset("cpu").get_params(), "max_iter": 3,
                                  "batch_size": 32, "random_state": 0, "device": model.device,
                                  "verbose": 0, "checkpoint_every": 500}
    assert model.transform(np.zeros((2, 64, 64), np.uint8)).shape == (2, 5)


def test_demo_fast_path_reaches_the_model(small_dsprites, tmp_path):
    out = tmp_path / "out"
    assert cli.main(["demo", "--max-iter", "2", "--batch-size", "32", "--output", str(out),
                     "--quiet", "--fast-path", "channels_last", "--pretrained", "none"]) == 0
    model = joblib.load(out / "model.joblib")
    assert model.fast_path == ("channels_last",) and model.fast_path_ == ("channels_last",)


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


class CtrlC(Callback):
    """Sends this process a SIGINT (a Ctrl-C) at the end of the iterations in ``at``."""

    def __init__(self, at):
        self.at = at

    def on_batch_end(self, net, **kwargs):
        if net.n_iter_ in self.at:
            os.kill(os.getpid(), signal.SIGINT)


def test_an_interrupted_demo_continues_from_its_checkpoint(small_dsprites, tmp_path, capsys,
                                                            monkeypatch):
    ctrl_c_at = [2]
    from_preset = InfoGANCR.from_preset.__func__
    monkeypatch.setattr(InfoGANCR, "from_preset", classmethod(
        lambda cls, name, **params: from_preset(cls, name, callbacks=[CtrlC(ctrl_c_at)],
                                                **params)))
    out, args = tmp_path / "out", ["demo", "--max-iter", "4", "--batch-size", "32", "--quiet"]
    with pytest.warns(TrainingWarning, match="stopped at iteration 2 of 4"):
        assert cli.main([*args, "--output", str(out)]) == 130
    printed = capsys.readouterr().out
    assert "trained 2 iterations" in printed and "run the same command again" in printed
    assert (out / CHECKPOINT_FILE).exists() and not (out / "model.joblib").exists()

    ctrl_c_at.clear()
    assert cli.main([*args, "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"continuing from {out / CHECKPOINT_FILE} (iteration 2;" in printed
    assert "trained 2 iterations" in printed and "4 of 4 in all" in printed
    resumed = joblib.load(out / "model.joblib")
    assert cli.main([*args, "--output", str(tmp_path / "whole")]) == 0
    whole = joblib.load(tmp_path / "whole" / "model.joblib")
    images = DSprites().images[:64]
    np.testing.assert_array_equal(resumed.transform(images), whole.transform(images))
    np.testing.assert_array_equal(resumed.sample(8, random_state=0),
                                  whole.sample(8, random_state=0))

    # A checkpoint of another run: a clear message, and --fresh replaces it.
    assert cli.main(["demo", "--max-iter", "4", "--batch-size", "16", "--quiet",
                     "--output", str(out)]) == 2
    assert "rerun with --fresh" in capsys.readouterr().err
    assert cli.main(["demo", "--max-iter", "2", "--batch-size", "16", "--quiet", "--fresh",
                     "--output", str(out)]) == 0
    assert joblib.load(out / "model.joblib").batch_size == 16


@pytest.mark.parametrize(("platform", "factor"), [("linux", 1024), ("darwin", 1)])
def test_peak_memory_in_bytes_on_linux_and_macos(monkeypatch, platform, factor):
    usage = types.SimpleNamespace(ru_maxrss=3_000)  # KiB on Linux, bytes on macOS
    fake = types.SimpleNamespace(RUSAGE_SELF=0, getrusage=lambda who: usage)
    monkeypatch.setitem(sys.modules, "resource", fake)
    monkeypatch.setattr(sys, "platform", platform)
    assert cli.peak_memory_bytes() == 3_000 * factor


def test_without_resource_as_on_windows_the_cli_starts_and_leaves_memory_out(monkeypatch):
    monkeypatch.setitem(sys.modules, "resource", None)  # import resource raises ImportError
    monkeypatch.setattr(sys, "platform", "win32")
    assert cli.peak_memory_bytes() is None
    code = ("import sys; sys.modules['resource'] = None; from disentangle import cli; "
            "cli.main(['demo', '--help'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "--checkpoint-every" in result.stdout


def test_demo_budget_sizes_the_schedule(small_dsprites, tmp_path, capsys):
    out = tmp_path / "out"
    assert cli.main(["demo", "--max-time", "8", "--batch-size", "32", "--output", str(out),
                     "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "at most 7,000 iterations in a budget of 8 s" in printed
    model = joblib.load(out / "model.joblib")
    assert model.max_time == 8 and 1 <= model.max_iter_ < 7000
    assert f"trained {model.n_iter_:,} iterations" in printed
    assert f"{model.n_iter_:,} of {model.max_iter_:,} in all" in printed
    assert cli.CPU_BUDGET == 900


def test_demo_shows_a_pretrained_model_beside_its_own(small_dsprites, tmp_path, capsys,
                                                      monkeypatch):
    from disentangle import pretrained

    finished = InfoGANCR.from_preset("cpu", max_iter=2, batch_size=32, random_state=1)
    finished.fit(DSprites().images)
    digest = pretrained.pack_pretrained(finished, tmp_path / "gpu.pretrained.xz")
    monkeypatch.setattr(pretrained, "FOLDER", tmp_path)
    monkeypatch.setattr(pretrained, "MODELS", {"gpu": pretrained.PretrainedModel(
        file="gpu.pretrained.xz", sha256=digest, dataset="dsprites", iterations=322560,
        scores={"FactorVAE": 0.9, "MIG": 0.4}, paper={"FactorVAE": 0.88},
        description="the paper's schedule")})
    argv = ["demo", "--max-iter", "2", "--batch-size", "32", "--quiet"]
    assert cli.main([*argv, "--output", str(tmp_path / "auto")]) == 0  # 'auto': the registered
    printed = capsys.readouterr().out
    own = float(printed.split("FactorVAE score (paper protocol, 500 votes): ")[1].split()[0])
    line = printed[printed.index("pretrained 'gpu'"):]
    assert line.startswith("pretrained 'gpu' (322,560 iterations; the paper's schedule): "
                           "FactorVAE score ")
    assert f"(yours {own:.3f})" in line
    assert "its registered scores: FactorVAE 0.90 (paper 0.88); MIG 0.40;" in line
    assert (tmp_path / "auto" / "traversals_pretrained.png").read_bytes()[:4] == b"\x89PNG"
    assert cli.main([*argv, "--output", str(tmp_path / "none"), "--pretrained", "none"]) == 0
    assert "pretrained 'gpu'" not in capsys.readouterr().out
    assert not (tmp_path / "none" / "traversals_pretrained.png").exists()
    with pytest.raises(KeyError, match="registered: gpu"):
        cli.main([*argv, "--output", str(tmp_path / "other"), "--pretrained", "other"])
