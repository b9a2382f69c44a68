"""benchmarks/selection_quality.py: its statistics by hand, and the pipeline end to end (smoke)."""

import csv
import importlib.util
from pathlib import Path

import joblib
import numpy as np
import pytest

from disentangle.metrics import pairwise_similarity

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "selection_quality.py"
_spec = importlib.util.spec_from_file_location("selection_quality", _PATH)
sq = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sq)

# Pairwise scores P[i, j] = encoder i on model j's data.
P = np.array([[1.0, 0.2, 0.4],
              [0.6, 1.0, 0.8],
              [0.0, 0.4, 1.0]])


def test_subpool_centrality_by_hand():
    # S = (P + P.T) / 2 = [[1, .4, .2], [.4, 1, .6], [.2, .6, 1]]: mean over the others.
    np.testing.assert_allclose(sq.centrality(P, [0, 1, 2], "mc_paper"), [0.3, 0.5, 0.4])
    np.testing.assert_allclose(sq.centrality(P, [0, 2], "mc_paper"), [0.2, 0.2])
    assert sq.pick(P, [0, 1, 2], "mc_paper") == 1
    # UDR: median over the others of P[j, i].
    np.testing.assert_allclose(sq.centrality(P, [0, 1, 2], "udr_lasso"), [0.3, 0.3, 0.6])
    assert sq.pick(P, [0, 1, 2], "udr_lasso") == 2
    # A failed model (NaN row and column) takes no part in the others' centrality.
    failed = np.pad(P, ((0, 1), (0, 1)), constant_values=np.nan)
    np.testing.assert_allclose(sq.centrality(failed, [0, 1, 2, 3], "mc_paper")[:3],
                               [0.3, 0.5, 0.4])


def test_bootstrap_spearman():
    x = np.arange(8.0)
    rho, low, high = sq.bootstrap_spearman(x, x**2)
    assert (rho, low, high) == (pytest.approx(1.0), pytest.approx(1.0), pytest.approx(1.0))
    rho, low, high = sq.bootstrap_spearman(x, np.array([3, 1, 4, 1, 5, 9, 2, 6.0]))
    assert low <= rho <= high and low < 0.5 < high


def test_subpools_all_or_random():
    assert sq.subpools(6, 5, 200, 0) == [list(c) for c in
                                          __import__("itertools").combinations(range(6), 5)]
    subs = sq.subpools(12, 5, 200, 0)  # 792 subsets: 200 distinct ones
    assert len({tuple(s) for s in subs}) == 200
    assert all(len(s) == 5 and s == sorted(s) and max(s) < 12 for s in subs)
    assert sq.subpools(3, 5, 200, 0) == [[0, 1, 2]]


def test_smoke_run_then_report_from_csv(tmp_path, capsys):
    out = str(tmp_path / "sq")
    sq.main(["--smoke", "--pools", "beta_vae", "--out", out])
    trained = capsys.readouterr().out
    with open(tmp_path / "sq" / "models.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and all(0 <= float(r["factor_vae"]) <= 1 for r in rows)
    with open(tmp_path / "sq" / "pairwise.csv") as f:
        selectors = {r["selector"] for r in csv.DictReader(f)}
    assert selectors == {"mc_paper", "mc_fast", "udr_lasso"}
    assert (tmp_path / "sq" / "selection_quality.png").stat().st_size > 0
    # The report is rebuilt from the CSVs alone, identically.
    sq.main(["--smoke", "--pools", "beta_vae", "--out", out, "--report-only"])
    report = capsys.readouterr().out
    assert report.strip() and report.strip().split("\n### ")[-1] in trained


def test_interrupted_matrix_resumes_column_by_column(tmp_path, capsys):
    """A ModelCentrality matrix missing a column reports as incomplete, and a rerun computes
    that column alone, equal to pairwise_similarity's (same seed per column)."""
    out = str(tmp_path / "sq")
    sq.main(["--smoke", "--pools", "beta_vae", "--out", out])
    path = tmp_path / "sq" / "pairwise.csv"
    entries = sq.read_pairwise_csv(str(path))
    full = entries["beta_vae", "mc_fast"][0].copy()
    models = [joblib.load(tmp_path / "sq" / "beta_vae" / f"model_{k}.joblib") for k in range(3)]
    expected = pairwise_similarity(models, similarity_params=sq.SMOKE["protocols"]["fast"],
                                   random_state=0)
    np.testing.assert_array_equal(full, expected)
    for key in (("beta_vae", "mc_paper"), ("beta_vae", "mc_fast")):
        entries[key][0][:, 1] = np.nan  # as if the run stopped before column 1
    sq.write_pairwise_csv(str(path), entries)
    capsys.readouterr()
    sq.main(["--smoke", "--pools", "beta_vae", "--out", out, "--report-only"])
    assert "beta_vae: similarity matrices incomplete (rerun to resume)" in capsys.readouterr().out
    sq.main(["--smoke", "--pools", "beta_vae", "--out", out])
    np.testing.assert_array_equal(sq.read_pairwise_csv(str(path))["beta_vae", "mc_fast"][0],
                                  expected)


def test_saved_models_of_other_settings_are_refused(tmp_path, capsys):
    """A rerun with another --vae-iter does not silently mix models fitted with other settings."""
    out = str(tmp_path / "sq")
    sq.main(["--smoke", "--pools", "beta_vae", "--out", out, "--protocols", "fast"])
    capsys.readouterr()
    model = joblib.load(tmp_path / "sq" / "beta_vae" / "model_1.joblib")
    assert model.max_iter == sq.SMOKE["fit"]["max_iter"] and model.beta == 1
    joblib.dump(model.set_params(beta=4), tmp_path / "sq" / "beta_vae" / "model_1.joblib")
    with pytest.raises(ValueError, match=r"model_1.joblib was fitted with other parameters "
                                         r"\(saved, this run\): \{'beta': \(4, 1\)\}"):
        sq.main(["--smoke", "--pools", "beta_vae", "--out", out])


def test_committed_results_are_the_guides_table(tmp_path):
    """benchmarks/results/selection_quality holds complete pools, and the user guide quotes the
    report rebuilt from them (rho and the ModelCentrality pick's score for every pool)."""
    results = _PATH.parent / "results" / "selection_quality"
    rows = sq.read_models_csv(str(results / "models.csv"))
    entries = sq.read_pairwise_csv(str(results / "pairwise.csv"))
    guide = (_PATH.parents[1] / "docs" / "user_guide" / "model_centrality.rst").read_text()
    args = sq.parse_args(["--report-only"])
    for name in sq.POOLS:
        lines, result = sq.pool_report(name, rows, entries, args)
        assert result is not None, lines
        rho = sq.bootstrap_spearman(result["centrality"], result["truth"])[0]
        row = next(line for line in guide.splitlines() if line.startswith(f"   * - ``{name}``"))
        section = guide[guide.index(row):].split("\n   * - ")[0]
        assert f"{rho:.2f}" in section and f"{result['truth'][result['pick']]:.3f}" in section
