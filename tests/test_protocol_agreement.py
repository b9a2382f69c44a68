"""benchmarks/protocol_agreement.py: its counts and comparisons by hand, and a smoke run."""

import importlib.util
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest

from disentangle.metrics import pairwise_similarity
from disentangle.selection import _similarity

_BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(_BENCHMARKS))  # protocol_agreement imports selection_quality
_spec = importlib.util.spec_from_file_location("protocol_agreement",
                                               _BENCHMARKS / "protocol_agreement.py")
pa = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pa)
sq = pa.sq

# Pairwise scores P[i, j] = encoder i on model j's data; centralities [0.3, 0.5, 0.4].
P = np.array([[1.0, 0.2, 0.4],
              [0.6, 1.0, 0.8],
              [0.0, 0.4, 1.0]])


@pytest.mark.parametrize("protocol, n_codes, images", [
    # The authors' protocol (InfoGAN-CR_dSprites/gan/metric.py): 73,728 images for the
    # standard deviations, 100 votes per code of 100 images.
    ("paper", 5, 73_728 + 100 * 5 * 100),
    ("paper", 10, 73_728 + 100 * 10 * 100),
    ("fast", 5, 5_000 + 10 * 5 * 50),
    ("votes20_var10k", 5, 10_000 + 20 * 5 * 100),
    ("fast_votes40", 10, 5_000 + 40 * 10 * 50),
    ("adaptive", 5, 73_728 + 100 * 5 * 100),  # its cap: the paper's counts
])
def test_images_per_model(protocol, n_codes, images):
    assert pa.images_per_model(pa.PROTOCOLS[protocol], n_codes) == images


def test_compare_by_hand():
    subs = pa.subpools(3, 200, 0)
    assert subs == [[0, 1, 2]]  # no sub-pool of 3 to 5 smaller than the pool
    np.testing.assert_array_equal(sq.compare_centralities(P, P, subs), [[1.0, 1.0]])
    # 1 - P reverses every centrality (0.7, 0.5, 0.6): another medoid, tau -1.
    np.testing.assert_allclose(sq.compare_centralities(P, 1 - P, subs), [[0.0, -1.0]])
    assert len(pa.subpools(6, 200, 0)) == 1 + 6 + 15 + 20


def test_subpool_cell_by_hand():
    """A fixed protocol's sub-pools are its pool matrix restricted; the adaptive
    protocol's are its own sub-pool runs only, each against every paper seed."""
    full = np.pad(P, ((0, 1), (0, 1)), constant_values=0.5)  # a fourth model, centrality 0.5
    subs = [[0, 1, 2], [1, 2, 3]]
    matrices = {"paper": {0: (full, 1.0), 1: (1 - full, 1.0)}, "fast": {0: (full, 1.0)}}
    catalogue = {"paper": {}, "fast": {}, "adaptive": {"protocol": "adaptive"}}
    # fast@0 against paper@0 (same medoid, tau 1) and paper@1 (reversed: tau -1): 50 %.
    assert pa.subpool_cell("fast", catalogue, matrices, {}, [(0, 0), (0, 1)], subs) \
        == "50%, 0.00"
    assert pa.subpool_cell("adaptive", catalogue, matrices, {}, [], subs) == "not run"
    # One run on the sub-pool [0, 1, 2] whose matrix is P (NaN elsewhere): against paper@0
    # the same medoid and tau 1, against paper@1 another medoid and tau -1.
    run = np.full((4, 4), np.nan)
    run[:3, :3] = P
    runs = {"adaptive": [(0, [0, 1, 2], run)]}
    assert pa.subpool_cell("adaptive", catalogue, matrices, runs, [], subs) == "50%, 0.00 (2)"
    # 1 - full on [1, 2, 3]: centralities (0.45, 0.45, 0.5), paper@0's (0.55, 0.55, 0.5):
    # another medoid, tau -1 (the tied pair does not count); paper@1's are its own.
    other = np.full((4, 4), np.nan)
    other[1:, 1:] = 1 - full[1:, 1:]
    runs["adaptive"].append((1, [1, 2, 3], other))
    assert pa.subpool_cell("adaptive", catalogue, matrices, runs, [], subs) == "50%, 0.00 (4)"
    matrices["paper"][1] = (full, 1.0)  # paper seeds that agree: both runs agree with both
    runs["adaptive"][1] = (1, [1, 2, 3], full)
    assert pa.subpool_cell("adaptive", catalogue, matrices, runs, [], subs) == "100%, 1.00 (4)"


def test_smoke_matrices_equal_pairwise_similarity(tmp_path, capsys):
    out = str(tmp_path / "sq")
    pa.main(["--smoke", "--out", out])
    report = capsys.readouterr().out
    entries = sq.read_pairwise_csv(str(tmp_path / "sq" / "agreement.csv"))
    models = [joblib.load(tmp_path / "sq" / "beta_vae" / f"model_{k}.joblib") for k in range(3)]
    fast = sq.SMOKE["protocols"]["fast"]
    # Seed 0 is selection_quality's matrix, reused; seed 1 is pairwise_similarity's.
    np.testing.assert_array_equal(
        entries["beta_vae", "mc_fast@0"][0],
        sq.read_pairwise_csv(str(tmp_path / "sq" / "pairwise.csv"))["beta_vae", "mc_fast"][0])
    np.testing.assert_array_equal(entries["beta_vae", "mc_fast@1"][0],
                                  pairwise_similarity(models, similarity_params=fast,
                                                      random_state=1))
    assert not np.array_equal(entries["beta_vae", "mc_fast@0"][0],
                              entries["beta_vae", "mc_fast@1"][0])
    # The paper protocol against itself: one pair of seeds; fast against paper: four.
    # Images a model (VAE, 10 codes): variance sample + votes per code x codes x vote batch.
    assert f"| paper (another seed) | {500 + 4 * 10 * 20:,} | " in report
    assert f"| fast | {500 + 2 * 10 * 20:,} | " in report
    rows = {line.split(" | ")[0]: line.split(" | ")[3] for line in report.splitlines()
            if line.startswith("| paper") or line.startswith("| fast")}
    assert rows == {"| paper (another seed)": "1", "| fast": "4"}
    # The adaptive protocol: whole matrices under each seed, with the images each model
    # rendered and encoded; its row gives their mean and the ratios against the paper's.
    adaptive = pa.SMOKE_PROTOCOLS["adaptive"]
    images = pa.read_images_csv(str(tmp_path / "sq" / "agreement_images.csv"))
    for seed in (0, 1):
        run = _similarity.similarity_run(models, similarity_params=adaptive, random_state=seed)
        np.testing.assert_array_equal(entries["beta_vae", f"mc_adaptive@{seed}"][0],
                                      run.pairwise)
        np.testing.assert_array_equal(images["beta_vae", f"mc_adaptive@{seed}"][0],
                                      run.rendered)
        np.testing.assert_array_equal(images["beta_vae", f"mc_adaptive@{seed}"][1],
                                      run.encoded)
        # Round 1: 500 for the variance + 10 votes a code x 10 codes x 20 images; round 2
        # adds 10 votes a code for the models in contention.
        assert set(run.rendered) <= {500 + 10 * 10 * 20, 500 + 20 * 10 * 20}
    rendered = np.mean([images["beta_vae", f"mc_adaptive@{s}"][0].mean() for s in (0, 1)])
    (line,) = [r for r in report.splitlines() if r.startswith("| adaptive |")]
    cells = line.split(" | ")
    paper_images = 500 + 4 * 10 * 20
    assert cells[1] == f"{round(rendered):,}" and cells[3] == "4"
    assert cells[6] == f"{round(rendered) / paper_images:.2f}"
    (paper_line,) = [r for r in report.splitlines() if r.startswith("| paper (another")]
    assert paper_line.split(" | ")[6:] == ["1.00", "1.00 |"]
    # A sub-pool's adaptive run is its own: pairwise_similarity on its models, stored
    # under the pool's indices (NaN elsewhere), its images kept but not in the pool's mean.
    pa.adaptive_matrix("beta_vae", models, "adaptive@0", adaptive, 0, entries, images,
                       lambda: None, members=[0, 2])
    run = _similarity.similarity_run([models[0], models[2]], similarity_params=adaptive,
                                     random_state=0)
    sub = entries["beta_vae", "mc_adaptive@0/0-2"][0]
    np.testing.assert_array_equal(sub[np.ix_([0, 2], [0, 2])], run.pairwise)
    assert np.isnan(sub[1]).all() and np.isnan(sub[:, 1]).all()
    np.testing.assert_array_equal(images["beta_vae", "mc_adaptive@0/0-2"][0], run.rendered)
    assert pa.images_a_model("beta_vae", "adaptive", adaptive, 10, images) == round(rendered)
    capsys.readouterr()  # its progress line
    # The table is rebuilt from agreement.csv alone, identically.
    pa.main(["--smoke", "--out", out, "--report-only"])
    table = capsys.readouterr().out
    assert table.strip() and table in report


@pytest.mark.parametrize("pool, caption, protocols", [
    ("infogan_cr", "Agreement with the paper protocol's centralities",
     ["votes20_var10k", "fast_votes40", "votes10_var5k", "fast"]),
    ("infogan_cr_budgets", "The second pool (``infogan_cr_budgets``)",
     ["votes20_var10k", "fast_votes40", "fast"]),
])
def test_committed_agreement_is_the_guides_table(capsys, pool, caption, protocols):
    """The user guide quotes the agreement tables of the committed InfoGAN-CR pools, rebuilt
    from benchmarks/results/selection_quality/agreement.csv: every protocol's cells."""
    pa.main(["--out", str(_BENCHMARKS / "results" / "selection_quality"), "--pools", pool,
             "--report-only"])
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines()
            if line.startswith("| ") and not line.startswith("| protocol")]
    assert [r[0] for r in rows] == ["| paper (another seed)", "| adaptive",
                                    *(f"| {p}" for p in protocols)]
    guide = (_BENCHMARKS.parent / "docs" / "user_guide" / "model_centrality.rst").read_text()
    table = guide[guide.index(caption):]
    for images, seconds, _, full, sub, images_ratio, seconds_ratio in (r[1:8] for r in rows):
        cells = [images, seconds, full.replace("%", " %"), sub.replace("%", " %"),
                 f"{images_ratio}, {seconds_ratio.rstrip(' |')}"]
        assert "\n".join(f"     - {c}" for c in cells) in table, cells
