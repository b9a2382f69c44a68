"""The paper's Table 1 (dSprites) at a scale this machine can run, as one markdown table.

InfoGAN without CR, InfoGAN-CR, β-VAE, FactorVAE and β-TCVAE trained on
``DSprites()`` for several seeds each, scored with the FactorVAE score (the
community protocol and the paper's), MIG, DCI disentanglement, SAP and the
β-VAE score (the paper's protocol for the last four, as its Table 1, or
disentanglement_lib's with ``--protocol community``), printed as mean ± std
over the seeds with the mean training time.

Budget: on a CPU, the InfoGAN models use ``InfoGANCR.from_preset("cpu")``
(its iterations, ``--gan-iter`` to change them) and the VAEs ``--vae-iter``
iterations, about the same wall-clock time (a VAE iteration costs about a
third of a GAN iteration). InfoGAN without CR is the same preset with
``cr_weight=0``. ``--full`` runs the paper's schedules instead (InfoGAN-CR's
322,560 iterations, 300,000 for the VAEs): a GPU job, ``--full --device cuda``.

    python benchmarks/table1.py --seeds 3 --n-jobs 2
    python benchmarks/table1.py --seeds 2 --curve-every 500   # with the score-vs-minutes curve
    python benchmarks/table1.py --full --device cuda --seeds 5
    python benchmarks/table1.py --smoke    # seconds: every row and metric, tiny settings
"""

import argparse
import os
import time

import numpy as np
from joblib import Parallel, delayed
from learning_curve import ScoreEvery  # benchmarks/ is on sys.path when run as a script

from disentangle import VAE, InfoGANCR
from disentangle.datasets import DSprites
from disentangle.metrics import (
    beta_vae_score,
    dci_score,
    factor_vae_score,
    mig_score,
    sap_score,
)

#: Table 1's rows: label -> (estimator factory, iteration budget key).
ROWS = {
    "InfoGAN (no CR)": ("gan", lambda **kw: InfoGANCR.from_preset("cpu", cr_weight=0.0, **kw)),
    "InfoGAN-CR": ("gan", lambda **kw: InfoGANCR.from_preset("cpu", **kw)),
    "β-VAE (β = 4)": ("vae", lambda **kw: VAE(objective="beta", beta=4.0, **kw)),
    "FactorVAE (γ = 10)": ("vae", lambda **kw: VAE(objective="factor", gamma=10.0, **kw)),
    "β-TCVAE (β = 6)": ("vae", lambda **kw: VAE(objective="beta_tc", beta=6.0, **kw)),
}
#: The paper's InfoGAN settings for ``--full``: the class defaults.
FULL_GAN = {"InfoGAN (no CR)": {"cr_weight": 0.0}, "InfoGAN-CR": {}}

#: Tiny settings of --smoke: the whole table in seconds, scores meaningless.
SMOKE = {
    "n_images": 256, "iterations": 3, "batch_size": 32,
    "metrics": {"FactorVAE (community)": {"n_train": 10, "n_eval": 10, "batch_size": 10,
                                          "n_variance": 200},
                "FactorVAE (paper)": {"n_train": 10, "batch_size": 10, "n_variance": 200},
                "DCI": {"n_train": 200}, "SAP": {"n_train": 200}, "MIG": {"n_train": 200},
                "β-VAE score": {"n_train": 10, "batch_size": 10}},
}

#: Columns: name -> (metric, protocol); None takes ``--protocol``.
METRICS = {
    "FactorVAE (community)": (factor_vae_score, "community"),
    "FactorVAE (paper)": (factor_vae_score, "paper"),
    "DCI": (dci_score, None),
    "SAP": (sap_score, None),
    "MIG": (mig_score, None),
    "β-VAE score": (beta_vae_score, None),
}


def make_model(label, seed, args):
    kind, factory = ROWS[label]
    common = {"random_state": seed, "device": args.device}
    if args.full and kind == "gan":
        return InfoGANCR(**FULL_GAN[label], **common)
    if args.full:
        return factory(max_iter=300_000, **common)
    if args.smoke:
        common["batch_size"] = SMOKE["batch_size"]
    return factory(max_iter=args.gan_iter if kind == "gan" else args.vae_iter, **common)


def run(label, seed, args):
    """Fit one model and score it; returns its row of numbers (and the training time)."""
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    dataset = DSprites()
    model = make_model(label, seed, args)
    curve = None
    if args.curve_every and ROWS[label][0] == "gan":
        curve = ScoreEvery(dataset, args.curve_every, float("inf"), seed, quiet=True)
        model.set_params(callbacks=[("curve", curve)])
    start = time.perf_counter()
    model.fit(dataset.sample(SMOKE["n_images"], random_state=seed)[1] if args.smoke
              else dataset.images)
    paused = curve.paused if curve else 0.0
    scores = {"minutes": (time.perf_counter() - start - paused) / 60,
              "iterations": model.n_iter_, "curve": curve.rows if curve else []}
    for name, (metric, protocol) in METRICS.items():
        tiny = SMOKE["metrics"][name] if args.smoke else {}
        scores[name] = float(np.mean(metric(model, dataset, protocol=protocol or args.protocol,
                                            random_state=seed, **tiny)))
    print(f"{label} seed {seed}: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()
                                                if k != "curve"), flush=True)
    return label, scores


def table(results, seeds):
    columns = [*METRICS, "minutes", "iterations"]
    lines = ["| model | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for label in ROWS:
        rows = [scores for name, scores in results if name == label]
        if not rows:
            continue
        cells = []
        for column in columns:
            values = np.array([row[column] for row in rows])
            cells.append(f"{values.mean():.0f}" if column == "iterations" else
                         f"{values.mean():.2f} ± {values.std():.2f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + f"\n\n{len(seeds)} seeds each ({', '.join(map(str, seeds))})."


def curve_table(results):
    """FactorVAE score (paper protocol) against training minutes, mean ± std over the seeds."""
    lines = ["| model | iteration | train minutes | alpha | FactorVAE (paper) |", "|---" * 5 + "|"]
    for label in ROWS:
        curves = [scores["curve"] for name, scores in results if name == label and scores["curve"]]
        for points in zip(*curves, strict=False):
            columns = (np.array(column) for column in zip(*points, strict=True))
            iteration, minutes, alpha, score = columns
            lines.append(f"| {label} | {iteration[0]} | {minutes.mean():.1f} | {alpha[0]:g} | "
                         f"{score.mean():.2f} ± {score.std():.2f} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--gan-iter", type=int, default=None,
                        help="InfoGAN iterations (default: the cpu preset's)")
    parser.add_argument("--vae-iter", type=int, default=None,
                        help="VAE iterations (default: 3x the InfoGAN iterations)")
    parser.add_argument("--protocol", choices=["community", "paper"], default="paper",
                        help="protocol of DCI, SAP, MIG and the β-VAE score (default: the "
                             "paper's, as its Table 1; disentanglement_lib's DCI fits gradient-"
                             "boosted trees, many minutes per model on a CPU)")
    parser.add_argument("--curve-every", type=int, default=0, metavar="N",
                        help="also score the InfoGAN models every N iterations (FactorVAE, "
                             "paper protocol; scoring time off the clock) and print the curve")
    parser.add_argument("--full", action="store_true", help="the paper's schedules (GPU)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--n-jobs", type=int, default=1, help="fits in parallel processes")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per fit (default: cores / n_jobs)")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: one seed, a few iterations on 256 images, tiny metrics")
    args = parser.parse_args(argv)
    if args.threads is None and args.n_jobs > 1:
        args.threads = max(1, (os.cpu_count() or 1) // args.n_jobs)
    if args.smoke:
        args.seeds, args.gan_iter = 1, args.gan_iter or SMOKE["iterations"]
    args.gan_iter = args.gan_iter or InfoGANCR.from_preset("cpu").max_iter
    args.vae_iter = args.vae_iter or 3 * args.gan_iter
    seeds = list(range(args.seeds))
    budget = ("the paper's schedules" if args.full else
              f"{args.gan_iter} InfoGAN iterations (cpu preset), {args.vae_iter} VAE iterations")
    print(f"dSprites, {budget}, device {args.device}\n", flush=True)
    if not args.smoke:
        print(f"{len(DSprites().images):,} images (rendered or loaded once, before the fits)")
    jobs = [(label, seed) for seed in seeds for label in args.models]
    results = Parallel(n_jobs=args.n_jobs)(delayed(run)(label, seed, args)
                                           for label, seed in jobs)
    print()
    print(table(results, seeds))
    if args.curve_every:
        print()
        print(curve_table(results))


if __name__ == "__main__":
    main()
