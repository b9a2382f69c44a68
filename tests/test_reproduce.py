import json
import sys
from pathlib import Path

import pytest
import torch

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
    assert {name for name, _, _ in progress["models"]} == set(names)

    # A second run resumes from the checkpoints: nothing left to train, same tables.
    table = printed[printed.index("| row |"):]
    assert reproduce.main([*argv, "--fast-path"]) == 0
    again = capsys.readouterr().out
    assert "iteration 6 of 6 (0 s this run, finished)" in again
    assert again[again.index("| row |"):] == table


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
