"""Does a fast path cost quality? The cpu preset with and without it, seed by seed, on dSprites.

For each seed, fits ``InfoGANCR.from_preset("cpu", random_state=seed, fast_path=p)``
for every path ``p`` of ``--paths`` (``none``: the reference float32 step; ``auto``:
what the device runs natively, e.g. bf16 autocast and channels-last on a CPU with
``avx512_bf16``), one fit at a time, and scores each model against dSprites'
ground truth: FactorVAE score (the paper's protocol, 500 votes, seed ``seed``), MIG,
the CR discriminator's final accuracy (mean over the last pass's iterations; chance
``1 / n_codes``) and the live codes of its traversal picture
(:func:`disentangle.plotting.traversal_effects` >= 0.1). It prints one row per
fit and, per path, the mean and standard deviation over the seeds, the paired
difference from the first path (mean and its 95 % t interval) and the pace ratio.

Two comparisons, as the CPU-pace issue asks:

* equal iterations (``--max-iter``, default the preset's 7,000): does the arithmetic
  hurt?
* equal wall time (``--max-time SECONDS``: the preset's budget planner sizes the
  schedule): does a user of the demo gain?

Each fit checkpoints into ``OUT/<seed>-<path>/`` and a rerun resumes it; finished
fits are rows of ``OUT/results.csv`` and are not run again; ``--report-only``
prints the table from that file. Pace (iterations per second of training, summed
over the sessions that trained it) is meaningful only on otherwise quiet cores:
run nothing else meanwhile, and quote it with the CPU capability printed.

Usage::

    python benchmarks/fast_path_quality.py --out fpq --seeds 0 1 2 --paths none auto
    python benchmarks/fast_path_quality.py --out fpq-900s --seeds 0 1 2 --paths none auto \
        --max-time 900
    python benchmarks/fast_path_quality.py --smoke          # seconds: the pipeline

``benchmarks/results/fast_path_quality/results.csv`` holds the fits measured so far
(rendered dSprites, one torch thread each, on a shared machine: their seconds and
it/s are not paces); ``--out benchmarks/results/fast_path_quality`` continues it,
skipping the rows it has.
"""

import argparse
import csv
import json
import os
import time

import numpy as np
import torch
from scipy import stats

from disentangle import InfoGANCR
from disentangle.datasets import DSprites
from disentangle.devices import parse_fast_path
from disentangle.metrics import factor_vae_score, mig_score
from disentangle.plotting import traversal_effects

FIELDS = ["seed", "path", "fast_path_", "n_iter", "seconds", "it_per_s", "threads", "factor_vae",
          "mig", "cr_accuracy", "live_codes", "effects"]
#: --smoke: 6 iterations on 256 images, scored with tiny protocols (numbers meaningless).
SMOKE = {"n_images": 256, "max_iter": 6, "batch_size": 32,
         "factor_vae": {"n_train": 20, "batch_size": 10, "n_variance": 500},
         "mig": {"n_train": 500}}
LIVE = 0.1


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="fast_path_quality")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--paths", nargs="+", default=["none", "auto"],
                        help="fast_path values: none, auto, or names joined by '+'")
    parser.add_argument("--max-iter", type=int, default=None,
                        help="schedule length (default: the cpu preset's 7,000)")
    parser.add_argument("--max-time", type=float, default=None, metavar="SECONDS",
                        help="a wall-clock budget per fit instead of a fixed length")
    parser.add_argument("--report-only", action="store_true")
    parser.add_argument("--smoke", action="store_true")
    return parser.parse_args(argv)


def fit(args, seed, path, images):
    """Fit (or resume) one model; returns it and the training seconds summed over sessions."""
    folder = os.path.join(args.out, f"{seed}-{path}")
    os.makedirs(folder, exist_ok=True)
    clock_file = os.path.join(folder, "seconds.json")
    before = json.load(open(clock_file))["seconds"] if os.path.exists(clock_file) else 0.0
    params = {"random_state": seed, "fast_path": parse_fast_path(path), "checkpoint_dir": folder,
              "warm_start": True, "verbose": 0 if args.smoke else 1}
    if args.max_iter or args.smoke:
        params["max_iter"] = SMOKE["max_iter"] if args.smoke else args.max_iter
    if args.max_time:
        params["max_time"] = args.max_time
    if args.smoke:
        params["batch_size"] = SMOKE["batch_size"]
    model = InfoGANCR.from_preset("cpu", **params)
    start = time.perf_counter()
    try:
        model.fit(images)
    finally:
        with open(clock_file, "w") as file:
            json.dump({"seconds": before + time.perf_counter() - start}, file)
    return model, before + time.perf_counter() - start


def score(args, seed, path, model, seconds, dataset):
    """The row of ``results.csv`` of one fitted model."""
    batches = model.history_[-1]["batches"]
    cr = [b["cr_accuracy"] for b in batches if "cr_accuracy" in b]
    effects = traversal_effects(model)
    return {
        "seed": seed, "path": path, "fast_path_": "+".join(model.fast_path_) or "none",
        "n_iter": model.n_iter_, "seconds": round(seconds, 1),
        "it_per_s": round(model.n_iter_ / seconds, 3), "threads": torch.get_num_threads(),
        "factor_vae": factor_vae_score(model, dataset, protocol="paper", random_state=seed,
                                       **(SMOKE["factor_vae"] if args.smoke else {})),
        "mig": mig_score(model, dataset, random_state=seed, **(SMOKE["mig"] if args.smoke else {})),
        "cr_accuracy": round(float(np.mean(cr)), 4) if cr else float("nan"),
        "live_codes": int((effects >= LIVE).sum()),
        "effects": " ".join(f"{e:.2f}" for e in effects),
    }


def read_rows(out):
    path = os.path.join(out, "results.csv")
    if not os.path.exists(path):
        return []
    with open(path) as file:
        return list(csv.DictReader(file))


def append_row(out, row):
    path = os.path.join(out, "results.csv")
    new = not os.path.exists(path)
    with open(path, "a", newline="") as file:
        writer = csv.DictWriter(file, FIELDS)
        if new:
            writer.writeheader()
        writer.writerow(row)


def interval(values):
    """Mean and half-width of the 95 % t interval of ``values`` (nan half-width for one)."""
    values = np.asarray(values, float)
    if len(values) < 2:
        return values.mean(), float("nan")
    return values.mean(), stats.t.ppf(0.975, len(values) - 1) * stats.sem(values)


def spread(values):
    """The standard deviation (ddof=1) of ``values``, "n/a" for a single value."""
    return f"{values.std(ddof=1):.3f}" if len(values) > 1 else "n/a"


def column(by, name, path, seeds):
    """One field of ``path``'s rows over ``seeds``, as floats."""
    return np.array([float(by[path, seed][name]) for seed in seeds])


def report(rows, paths):
    """Print the per-fit rows and the per-path summary (paired against ``paths[0]``)."""
    print("| seed | path | ran | iterations | s | it/s | FactorVAE | MIG | CR acc. | live codes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in sorted(rows, key=lambda r: (int(r["seed"]), paths.index(r["path"]))):
        print(f"| {r['seed']} | {r['path']} | {r['fast_path_']} | {r['n_iter']} | {r['seconds']} "
              f"| {r['it_per_s']} | {float(r['factor_vae']):.3f} | {float(r['mig']):.3f} "
              f"| {float(r['cr_accuracy']):.2f} | {r['live_codes']} ({r['effects']}) |")
    by = {(r["path"], int(r["seed"])): r for r in rows}
    print("\n| path | FactorVAE mean ± sd | paired diff. vs "
          f"{paths[0]} (95 % CI) | MIG mean ± sd | it/s × {paths[0]} (paired) | seeds |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        seeds = sorted(s for p, s in by if p == path and (paths[0], s) in by)
        if not seeds:
            continue
        fvae, mig = column(by, "factor_vae", path, seeds), column(by, "mig", path, seeds)
        diff, half = interval(fvae - column(by, "factor_vae", paths[0], seeds))
        pace = column(by, "it_per_s", path, seeds) / column(by, "it_per_s", paths[0], seeds)
        print(f"| {path} | {fvae.mean():.3f} ± {spread(fvae)} | {diff:+.3f} (± {half:.3f}) "
              f"| {mig.mean():.3f} ± {spread(mig)} | {pace.mean():.2f} "
              f"({pace.min():.2f}-{pace.max():.2f}) | {len(seeds)} |")


def main(argv=None):
    args = parse_args(argv)
    if args.smoke:
        args.out = os.path.join(args.out, "smoke")
    os.makedirs(args.out, exist_ok=True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}")
    done = {(r["path"], int(r["seed"])) for r in read_rows(args.out)}
    if not args.report_only:
        dataset = DSprites()
        images = (dataset.sample(SMOKE["n_images"], random_state=0)[1] if args.smoke
                  else dataset.images)
        for seed in args.seeds:
            for path in args.paths:
                if (path, seed) in done:
                    continue
                model, seconds = fit(args, seed, path, images)
                if model.n_iter_ < model.max_iter_:  # stopped (Ctrl-C): the checkpoint keeps it
                    print(f"stopped at iteration {model.n_iter_:,}: rerun to continue")
                    return 130
                append_row(args.out, score(args, seed, path, model, seconds, dataset))
    report(read_rows(args.out), args.paths)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
