"""Do cheaper similarity protocols rank a pool as the paper protocol does, beyond its own noise?

ModelCentrality's FactorVAE-vote similarity is a sample statistic: another seed
draws other latent codes, so other votes and another variance sample. This script
computes each protocol's ModelCentrality matrix of a pool trained by
``benchmarks/selection_quality.py`` under several seeds and compares every
protocol's centralities with the paper protocol's, seed against seed, on the full
pool and its sub-pools (every sub-pool of 3 to 5 models, or ``--n-subpools``
random ones of each size). The row ``paper`` compares the paper protocol with
itself under another seed: the agreement that a protocol cannot beat. A
cheaper protocol agrees with the paper's when it picks the same medoid at
least as often as the paper protocol under another seed does (full pool and
sub-pools) and its Kendall tau lies within the paper protocol's own range.

Matrices are built column by column and saved in ``OUT/agreement.csv`` (the
format of ``pairwise.csv``, selector ``mc_<protocol>@<seed>``); seed
``--seed`` (0) is ``pairwise.csv``'s matrix, reused. A rerun resumes;
``--report-only`` prints the table from ``agreement.csv`` alone. The
``"adaptive"`` protocol decides its rounds from the whole matrix, so its
matrix is computed whole under each seed (``mc_adaptive@<seed>``), and the
images each model rendered and encoded go to ``OUT/agreement_images.csv``:
its "images a model" is their mean (the others' is the protocol's count), its
"s a matrix" the mean over seeds (the others' their fastest run, the least
disturbed: their work does not vary with the seed), and the last two columns
give each protocol's images and seconds as ratios against the paper
protocol's in the same table. For the same reason its
sub-pool column counts only its own runs on sub-pools (``--adaptive-subpools
K``: K random sub-pools of each size under each seed, selectors
``mc_adaptive@<seed>/<a-b-c>``), each against every paper seed: a sub-pool's
run spends its votes on that sub-pool's contenders, which the pool's matrix
restricted to it does not show.

Usage::

    python benchmarks/protocol_agreement.py --out sq --pools infogan_cr \
        --protocols paper fast votes20_var10k --seeds 0 1 2
    python benchmarks/protocol_agreement.py --out sq --pools infogan_cr \
        --protocols paper adaptive --seeds 0 --adaptive-subpools 4
    python benchmarks/protocol_agreement.py --out benchmarks/results/selection_quality \
        --report-only
"""

import argparse
import csv
import itertools
import os
import sys
import time

import joblib
import numpy as np

from disentangle.selection import images_rendered, pairwise_similarity

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import selection_quality as sq  # noqa: E402

#: selection_quality's protocols, two more between "fast" and the paper's, and the adaptive one.
PROTOCOLS = {
    **sq.PROTOCOLS,
    "votes10_var5k": {"protocol": "paper", "votes_per_code": 10, "n_variance": 5_000},
    "fast_votes40": {"protocol": "fast", "votes_per_code": 40},
    "adaptive": {"protocol": "adaptive"},
}

#: --smoke: selection_quality's tiny protocols and an adaptive one of two rounds at most
#: (10 then 20 votes a code of 20 images; the smoke models are at chance, so it runs both).
SMOKE_PROTOCOLS = {
    **sq.SMOKE["protocols"],
    "adaptive": {"protocol": "adaptive", "votes_per_code": 20, "batch_size": 20,
                 "n_variance": 500},
}


def is_adaptive(params):
    """Whether the protocol ``params`` decides its votes from the whole pool (its matrix
    is computed whole and a sub-pool's is its own run)."""
    return params.get("protocol") == "adaptive"


def images_per_model(params, codes):
    """Generated images a model with ``codes`` latent codes renders for one column under the
    ``similarity_params`` ``params``: the variance sample and the votes."""
    return images_rendered(params, codes)


def n_codes(pool):
    """Latent codes of the pool's models: the codes their generated data's votes cycle over."""
    _, estimator = sq.pools(sq.parse_args(["--pools", pool]))[pool][0]
    return estimator.n_codes if hasattr(estimator, "n_codes") else estimator.n_latent


def images_a_model(name, protocol, params, codes, images):
    """Images a model of pool ``name`` renders: the mean measured over the adaptive
    protocol's seeds and models (``images``), else the protocol's count."""
    measured = [rendered for (pool, selector), (rendered, _) in images.items()
                if pool == name and selector.startswith(f"mc_{protocol}@") and "/" not in selector]
    if measured:
        return int(round(np.mean([np.mean(r) for r in measured])))
    return images_per_model(params, codes)


def adaptive_matrix(name, models, label, params, seed, entries, images, save, members=None):
    """The adaptive protocol's matrix under ``seed`` of the pool, or of its sub-pool
    ``members`` (selector ``mc_<label>/<a-b-c>``, the other entries NaN), whole: its rounds
    depend on every column, so a sub-pool's run spends its votes on its own contenders and
    its matrix is not the pool's restricted. The images each model rendered and encoded go
    to ``images``."""
    members = list(range(len(models))) if members is None else list(members)
    if len(members) < len(models):
        label = f"{label}/{'-'.join(map(str, members))}"
    key = (name, f"mc_{label}")
    if key in entries and key in images:
        return
    alive, fitted = sq.fitted_models([models[k] for k in members])
    start = time.perf_counter()
    run = pairwise_similarity(fitted, similarity_params=params, random_state=seed,
                              return_details=True)
    seconds = time.perf_counter() - start
    full = np.full((len(models),) * 2, np.nan)
    index = [members[k] for k in alive]
    full[np.ix_(index, index)] = run.pairwise
    entries[key] = (full, seconds)
    images[key] = (run.rendered, run.encoded)
    save()
    print(f"  {name} mc_{label}: {seconds:.1f} s, {run.n_rounds} rounds", flush=True)


def read_images_csv(path):
    """(pool, selector) -> (rendered, encoded) arrays over the pool's fitted models."""
    if not os.path.exists(path):
        return {}
    cells = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            cells.setdefault((r["pool"], r["selector"]), []).append(
                (int(r["rendered"]), int(r["encoded"])))
    return {key: tuple(np.array(column) for column in zip(*values, strict=True))
            for key, values in cells.items()}


def write_images_csv(path, images):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["pool", "selector", "model", "rendered", "encoded"])
        for (pool, selector), (rendered, encoded) in sorted(images.items()):
            for k, (r, e) in enumerate(zip(rendered, encoded, strict=True)):
                writer.writerow([pool, selector, k, int(r), int(e)])


def subpools(n, limit, seed):
    """The full pool, then sub-pools of 3 to 5 models (all, or ``limit`` random ones a size)."""
    return [list(range(n))] + [s for size in (5, 4, 3) if size < n
                               for s in sq.subpools(n, size, limit, seed)]


def pool_table(name, n_models, codes, entries, catalogue, args, images=None):
    """Markdown lines: every protocol's agreement with the paper protocol, seed against seed."""
    matrices, runs = {}, {}  # runs: protocol -> [(seed, sub-pool, its own matrix)]
    for (pool, selector), (matrix, seconds) in entries.items():
        label, _, members = selector.partition("/")
        protocol, seed = label.removeprefix("mc_").split("@")
        if pool != name or protocol not in catalogue:
            continue
        if members:
            runs.setdefault(protocol, []).append(
                (int(seed), [int(k) for k in members.split("-")], matrix))
        elif np.isfinite(matrix).all():
            matrices.setdefault(protocol, {})[int(seed)] = (matrix, seconds)
    if "paper" not in matrices:
        return [f"\n### {name}: no complete paper-protocol matrix"]
    subs = subpools(n_models, args.n_subpools, args.seed)
    lines = [f"\n### {name}: {n_models} models, {len(subs) - 1} sub-pools of 3 to 5",
             "| protocol | images a model | s a matrix | pairs of seeds | full pool: "
             "same medoid, tau mean (min to max) | sub-pools: same medoid, median tau "
             "| images vs paper | s vs paper |",
             "|---|---|---|---|---|---|---|---|"]
    cost = {p: images_a_model(name, p, catalogue[p], codes, images or {}) for p in matrices}
    # Seconds of a matrix: the fastest run (the least disturbed) of a protocol of fixed
    # counts; the adaptive protocol's mean, as its images, since its rounds vary by seed.
    seconds_of = {p: (np.mean if is_adaptive(catalogue[p]) else min)(
        [s for _, s in matrices[p].values()]) for p in matrices}
    for protocol in sorted(matrices, key=lambda p: -cost[p]):
        pairs = [(a, b) for a, b in itertools.product(matrices[protocol], matrices["paper"])
                 if protocol != "paper" or a < b]
        if not pairs:
            continue
        full = np.array([sq.compare_centralities(matrices[protocol][a][0],
                                                 matrices["paper"][b][0], subs[:1])[0]
                         for a, b in pairs])
        seconds = seconds_of[protocol]
        label = "paper (another seed)" if protocol == "paper" else protocol
        lines.append(
            f"| {label} | {cost[protocol]:,} | {seconds:.0f} | {len(pairs)} "
            f"| {full[:, 0].mean():.0%}, {full[:, 1].mean():.2f} ({full[:, 1].min():.2f} to "
            f"{full[:, 1].max():.2f}) | "
            f"{subpool_cell(protocol, catalogue, matrices, runs, pairs, subs[1:])} "
            f"| {cost[protocol] / cost['paper']:.2f} | {seconds / seconds_of['paper']:.2f} |")
    return lines


def subpool_cell(protocol, catalogue, matrices, runs, pairs, subs):
    """Sub-pools' same-medoid rate and median tau against the paper protocol. A protocol of
    fixed counts is its pool matrix restricted to each sub-pool of ``subs``; the adaptive
    protocol's rounds depend on the pool, so it counts its own runs on sub-pools only, each
    against every paper seed (the number of comparisons in brackets), or "not run"."""
    paper = matrices["paper"]
    if not subs:
        return "no sub-pool"  # a pool of 3 models or fewer
    if not is_adaptive(catalogue[protocol]):
        rows = np.concatenate([sq.compare_centralities(matrices[protocol][a][0],
                                                       paper[b][0], subs) for a, b in pairs])
        return f"{rows[:, 0].mean():.0%}, {np.nanmedian(rows[:, 1]):.2f}"
    rows = [sq.compare_centralities(matrix, paper[b][0], [members])[0]
            for _, members, matrix in runs.get(protocol, []) for b in paper]
    if not rows:
        return "not run"
    rows = np.array(rows)
    return f"{rows[:, 0].mean():.0%}, {np.nanmedian(rows[:, 1]):.2f} ({len(rows)})"


def compute(name, out, protocols, seeds, entries, images, save, n_subpools=0, subpool_seed=0):
    """Fill ``entries`` with the matrix of every protocol and seed (seed ``--seed`` from
    selection_quality's ``pairwise.csv`` when there), and ``images`` with the adaptive
    protocol's images a model; the adaptive protocol also runs on ``n_subpools`` random
    sub-pools of each size (:func:`subpools` with ``subpool_seed``)."""
    paths = sorted((p for p in os.listdir(os.path.join(out, name)) if p.endswith(".joblib")),
                   key=lambda p: int(p.removeprefix("model_").removesuffix(".joblib")))
    models = [joblib.load(os.path.join(out, name, p)) for p in paths]
    adaptive = {p for p, params in protocols.items() if is_adaptive(params)}
    subs = subpools(len(models), n_subpools, subpool_seed)[1:]
    for seed in seeds:
        sq.centrality_matrices(name, models, {f"{p}@{seed}": params
                                              for p, params in protocols.items()
                                              if p not in adaptive},
                               seed, entries, save)
        for p, members in itertools.product(sorted(adaptive), [None, *subs]):
            adaptive_matrix(name, models, f"{p}@{seed}", protocols[p], seed, entries, images,
                            save, members)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="selection_quality_output",
                        help="selection_quality.py's output folder: the pools' models")
    parser.add_argument("--pools", nargs="+", default=list(sq.POOLS), choices=sq.POOLS)
    parser.add_argument("--protocols", nargs="+", default=list(PROTOCOLS), choices=PROTOCOLS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--n-subpools", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0,
                        help="selection_quality.py's --seed: its matrices are that seed's")
    parser.add_argument("--adaptive-subpools", type=int, default=0,
                        help="run the adaptive protocol on this many sub-pools of each size "
                             "(3 to 5) under each seed: a sub-pool's adaptive matrix is its "
                             "own run, not the pool's restricted")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="selection_quality.py's smoke pool of beta_vae into OUT, then its "
                             "tiny protocols under seeds 0 and 1: the pipeline in seconds")
    args = parser.parse_args(argv)
    if args.smoke:
        args.pools, args.protocols, args.seeds = ["beta_vae"], list(SMOKE_PROTOCOLS), [0, 1]
    return args


def main(argv=None):
    args = parse_args(argv)
    catalogue = SMOKE_PROTOCOLS if args.smoke else PROTOCOLS
    if args.smoke and not args.report_only:
        sq.main(["--smoke", "--pools", *args.pools, "--out", args.out])
    path = os.path.join(args.out, "agreement.csv")
    images_path = os.path.join(args.out, "agreement_images.csv")
    entries, images = sq.read_pairwise_csv(path), read_images_csv(images_path)

    def save():
        sq.write_pairwise_csv(path, entries)
        write_images_csv(images_path, images)
    rows = sq.read_models_csv(os.path.join(args.out, "models.csv"))
    if not args.report_only:
        for (pool, selector), value in sq.read_pairwise_csv(
                os.path.join(args.out, "pairwise.csv")).items():
            label = selector.removeprefix("mc_")
            if label in args.protocols and np.isfinite(value[0]).all():
                entries.setdefault((pool, f"{selector}@{args.seed}"), value)
        for name in args.pools:
            compute(name, args.out, {p: catalogue[p] for p in args.protocols}, args.seeds, entries,
                    images, save, args.adaptive_subpools, args.seed)
    for name in args.pools:
        n_models = sum(r["pool"] == name for r in rows)
        if n_models:
            print("\n".join(pool_table(name, n_models, n_codes(name), entries, catalogue,
                                        args, images)))


if __name__ == "__main__":
    main()
