"""Every script in benchmarks/ runs end to end in its --smoke mode (seconds), so none rots."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(path.stem for path in BENCHMARKS.glob("*.py"))
#: Scripts whose smoke run needs a package the project does not install.
NEEDS = {"compare_disentanglement_lib": "disentanglement_lib"}
#: Scripts whose smoke run has its own test (with arguments that keep it short).
OWN_TEST = {"selection_quality": "test_selection_quality.py", "reproduce": "test_reproduce.py",
            "protocol_agreement": "test_protocol_agreement.py"}


def _load(name):
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_benchmark_has_a_smoke_mode_that_runs(name, monkeypatch, tmp_path, capsys):
    assert "--smoke" in (BENCHMARKS / f"{name}.py").read_text(), f"{name}.py has no --smoke"
    if name in OWN_TEST:
        pytest.skip(f"{name}.py --smoke runs in tests/{OWN_TEST[name]}")
    if name in NEEDS:
        pytest.importorskip(NEEDS[name], reason=f"{name}.py compares against {NEEDS[name]}")
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # table1.py imports learning_curve
    monkeypatch.chdir(tmp_path)  # scripts that write, write here
    monkeypatch.setattr(sys, "argv", [f"{name}.py", "--smoke"])
    module = _load(name)
    module.main(["--smoke"])
    assert capsys.readouterr().out.strip()  # it printed its table


@pytest.mark.parametrize("mode", [["--levers"], ["--effect", "fast", "--models", "2"]])
def test_similarity_cost_compares_the_inference_paths(mode, capsys):
    _load("similarity_cost").main(["--smoke", *mode])
    rows = [line.split() for line in capsys.readouterr().out.splitlines()
            if line.startswith(("default", "channels-last", "bf16"))]
    assert [row[0] for row in rows] == ["default", "channels-last", "bf16", "bf16"]
    if mode[0] == "--effect":  # the reference matrix against itself: no change, ratio 1
        assert rows[0][1:3] == ["0.0000", "0.00"] and rows[0][-1] == "1.00"
        assert all(float(row[-4]) < 1 for row in rows)  # changes of a FactorVAE entry < 1


def test_throughput_times_auto_against_the_default_step(capsys):
    _load("throughput").main(["--smoke", "--models", "--variants", "auto", "--pairs", "2"])
    line, = [line for line in capsys.readouterr().out.splitlines() if "pace:" in line]
    ratio, low, high = (float(x) for x in line.split("pace: ")[1].replace("[", "")
                        .replace(",", "").replace("]", "").split()[:3])
    assert line.startswith("InfoGANCR auto/default pace:") and low <= ratio <= high and ratio > 0
