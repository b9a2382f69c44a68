import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from disentangle import pretrained

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
reproduce = pytest.importorskip("reproduce")


def test_smoke_trains_scores_selects_and_resumes(tmp_path, capsys):
    out, ship = tmp_path / "out", tmp_path / "ship"
    argv = ["--smoke", "--out", str(out), "--ship", str(ship), "--seeds", "2", "--jobs", "1",
            "--probe-seconds", "0.2"]
    assert reproduce.main(argv) == 0
    printed = capsys.readouterr().out
    assert "fast path bf16:" in printed and "fast path channels_last:" in printed
    assert "4 of 4 models finished; 100.0% of the pools' schedules reached" in printed
    for label in reproduce.PAPER:
        assert f"| {label} |" in printed
    assert "(paper 0.92)" in printed and "(paper 0.86)" in printed
    names = [name for name, _, _ in reproduce.model_names(2)]
    for name in names:
        scores = json.loads((out / name / "scores.json").read_text())
        assert set(scores) == set(reproduce.METRICS)
        assert all(0 <= value <= 1 for value in scores.values())
        assert (ship / f"{name}.pt.xz").stat().st_size < 5 * 2**20  # bfloat16
    progress = json.loads((out / "progress.json").read_text())
    assert {row["model"] for row in progress["models"]} == set(names)
    # Each finished InfoGAN-CR model became a pretrained file, with its registry entry.
    assert sorted(path.name for path in ship.glob("*.pretrained.xz")) == [
        "infogan_cr_seed0.pretrained.xz", "infogan_cr_seed1.pretrained.xz"]
    entry = printed.split("add to disentangle.pretrained.MODELS:\n    ")[1].split("\n")[0]
    assert entry.startswith('"infogan_cr_dsprites_seed') and "iterations=6," in entry
    assert "| infogan_seed1 | 6 | 6 | 6 |" in printed  # all 6 iterations in this run
    assert printed.rstrip().endswith("(1 at a time): 0.00 h")
    assert (out / "pace.md").read_text().strip() == printed[printed.index("| model |"):].strip()

    # A second run resumes from the checkpoints: nothing left to train, same tables.
    def tables(text):
        return text[text.index("| row |"):text.index("| model |")]

    assert reproduce.main([*argv, "--fast-path"]) == 0
    again = capsys.readouterr().out
    assert "iteration 6 of 6 (0 s this run, finished)" in again
    assert tables(again) == tables(printed)
    assert "| infogan_seed1 | 6 | 6 | 0 | 0.00 | 0.00 |" in again


def test_pace_table_gives_the_hours_left_at_this_runs_pace():
    progress = [{"model": "a", "start": 0, "reached": 100, "total": 1000, "seconds": 10.0},
                {"model": "b", "start": 50, "reached": 150, "total": 1000, "seconds": 20.0}]
    table = reproduce.pace_table(progress, jobs=1)
    # a: 10 iterations/s, 900 left = 0.025 h; b: 5 iterations/s, 850 left = 0.0472 h
    assert "| a | 100 | 1,000 | 100 | 10.00 | 0.03 |" in table
    assert "| b | 150 | 1,000 | 100 | 5.00 | 0.05 |" in table
    assert "0 of 2 models finished; 12.5% of the pools' schedules reached" in table
    assert table.endswith("(1 at a time): 0.07 h")  # one after the other: 0.025 + 0.047
    assert reproduce.pace_table(progress, jobs=2).endswith("(2 at a time): 0.05 h")  # side by side


def test_resume_from_another_folder_than_ship(tmp_path, capsys):
    out, first = tmp_path / "out", tmp_path / "first"
    argv = ["--smoke", "--seeds", "1", "--jobs", "1", "--fast-path"]
    reproduce.main([*argv, "--out", str(out), "--ship", str(first)])
    capsys.readouterr()
    again, ship = tmp_path / "again", tmp_path / "ship"
    reproduce.main([*argv, "--out", str(again), "--ship", str(ship), "--resume-from", str(first)])
    assert "| infogan_cr_seed0 | 6 | 6 | 0 |" in capsys.readouterr().out  # resumed, not retrained
    assert (ship / "infogan_cr_seed0.pt.xz").exists()


def test_shipped_float32_checkpoint_restores_the_run_exactly_and_is_checksummed(tmp_path):
    out, ship = tmp_path / "out", tmp_path / "ship"
    argv = ["--smoke", "--out", str(out), "--ship", str(ship), "--seeds", "1", "--jobs", "1",
            "--fast-path", "channels_last", "--ship-dtype", "float32"]
    reproduce.main(argv)
    checkpoint = out / "infogan_cr_seed0" / "checkpoint.pt"
    original = reproduce.load_checkpoint(checkpoint, "cpu")["net"]
    assert not reproduce.unship(out, ship, "infogan_cr_seed0")  # a checkpoint is there already
    checkpoint.unlink()
    assert reproduce.unship(out, ship, "infogan_cr_seed0")
    restored = reproduce.load_checkpoint(checkpoint, "cpu")["net"]
    assert restored["counters"] == original["counters"]
    assert original["counters"]["n_iter"] == 6
    for name, state in original["modules"].items():
        for key, tensor in state.items():
            assert torch.equal(restored["modules"][name][key], tensor), (name, key)
    assert restored["optimizers"]["optimizer"]["state"][0]["step"] == 6 * 2  # two G steps
    assert restored["history"] != original["history"]  # per-pass rows only
    checkpoint.unlink()
    (ship / "infogan_cr_seed0.sha256").write_text("0" * 64 + "\n")
    with pytest.raises(ValueError, match="checksum"):
        reproduce.unship(out, ship, "infogan_cr_seed0")


def test_a_finished_smoke_model_loads_by_name_as_a_pretrained_model(tmp_path, capsys,
                                                                     monkeypatch):
    out, ship = tmp_path / "out", tmp_path / "ship"
    reproduce.main(["--smoke", "--out", str(out), "--ship", str(ship), "--seeds", "1",
                    "--jobs", "1", "--fast-path"])
    printed = capsys.readouterr().out
    entry = printed.split("add to disentangle.pretrained.MODELS:\n    ")[1].split("\n")[0]
    name, spec = entry.rstrip(",").split(": ", 1)
    monkeypatch.setattr(pretrained, "FOLDER", ship)
    monkeypatch.setattr(pretrained, "MODELS", {
        json.loads(name): eval(spec, {"PretrainedModel": pretrained.PretrainedModel})})
    model = pretrained.load_pretrained("infogan_cr_dsprites_seed0")
    assert model.n_iter_ == 6 and model.get_params()["fast_path"] is None
    scores = json.loads((out / "infogan_cr_seed0" / "scores.json").read_text())
    assert pretrained.MODELS["infogan_cr_dsprites_seed0"].scores == scores
    assert pretrained.MODELS["infogan_cr_dsprites_seed0"].paper["FactorVAE"] == 0.88
    reference = reproduce.make_model("InfoGAN-CR", 0, reproduce.SMOKE, "cpu",
                                     checkpoint_dir=out / "infogan_cr_seed0", warm_start=True)
    _, images = reproduce.load_data(reproduce.parse_args(["--smoke"]))
    reference.fit(images)  # no training: the finished checkpoint
    np.testing.assert_array_equal(model.transform(images[:4]), reference.transform(images[:4]))
