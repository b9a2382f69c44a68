"""Table 3 of Lin et al. (ICML 2020): picking one model of a pool without labels, on dSprites.

For a pool of InfoGAN-CR runs (seeds) and a pool of FactorVAE runs (gamma x
seeds), trained on :class:`disentangle.datasets.DSprites`, this script
reports the disentanglement (FactorVAE score, MIG and DCI, the InfoGAN-CR
authors' protocols) of the model picked

* by ModelCentrality (:class:`disentangle.ModelCentralitySelector`, the medoid
  of the pool under the cross FactorVAE score),
* by UDR with Lasso (Duan et al. 2020; same pool, no refit),
* by a random pick (one seeded draw, and the pool mean: the expected value),
* in hindsight (the pool's best FactorVAE score, which needs the labels),

and the time of the similarity matrix against the pool's training time.
The paper trains each model for 322,560 (InfoGAN-CR) or about 300k (FactorVAE)
iterations on a GPU; the default budget here is shorter, and ``--quick`` (about
5 minutes on a 2-core CPU) only checks the pipeline end to end: its models are
barely trained, so its scores are near chance and its picks are not meaningful.

Usage::

    python benchmarks/table3.py --quick
    python benchmarks/table3.py --smoke    # seconds: the pipeline on 128 images
    python benchmarks/table3.py --device cuda --n-jobs 4 --json table3.json
"""

import argparse
import json
import time

import numpy as np

from disentangle import VAE, InfoGANCR, ModelCentralitySelector
from disentangle.datasets import DSprites
from disentangle.metrics import dci_score, factor_vae_score, mig_score
from disentangle.selection import model_centrality

#: Training budgets, similarity and evaluation settings of each mode.
SETTINGS = {
    "full": {
        "infogan_cr": {"seeds": 10, "max_iter": 20_000, "batch_size": 64},
        "factor_vae": {"gammas": (1, 10, 20, 40), "seeds": 10, "max_iter": 20_000,
                       "batch_size": 64},
        "similarity": {},  # the paper's protocol: 100 votes per code, std over 73,728
        "udr": {"n_samples": 10_000},
        "metrics": {"factor_vae": {}, "mig": {}, "dci": {}},  # the paper's protocols
    },
    "quick": {
        "infogan_cr": {"seeds": 3, "max_iter": 15, "batch_size": 32},
        "factor_vae": {"gammas": (1, 10), "seeds": 2, "max_iter": 15, "batch_size": 32},
        "similarity": {"batch_size": 40, "votes_per_code": 5, "n_variance": 1000},
        "udr": {"n_samples": 1000},
        "metrics": {"factor_vae": {"n_train": 50, "batch_size": 50, "n_variance": 2000},
                    "mig": {"n_train": 2000}, "dci": {"n_train": 2000}},
    },
    # --smoke: the pipeline in seconds on 128 images, picks meaningless.
    "smoke": {
        "infogan_cr": {"seeds": 2, "max_iter": 2, "batch_size": 32},
        "factor_vae": {"gammas": (10,), "seeds": 2, "max_iter": 2, "batch_size": 32},
        "similarity": {"batch_size": 10, "votes_per_code": 2, "n_variance": 200},
        "udr": {"n_samples": 100},
        "metrics": {"factor_vae": {"n_train": 10, "batch_size": 10, "n_variance": 200},
                    "mig": {"n_train": 200}, "dci": {"n_train": 200}},
        "n_images": 128,
    },
}

METRICS = {"factor_vae": factor_vae_score, "mig": mig_score, "dci": dci_score}

#: The paper's Table 3 (FactorVAE score, DCI, MIG) for reference.
PAPER = {
    "infogan_cr": {"ModelCentrality": (0.92, 0.77, 0.45), "UDR (Lasso)": (0.86, 0.68, 0.30)},
    "factor_vae": {"ModelCentrality": (0.84, 0.73, 0.37)},
}


def pools(settings, device):
    """(name, unfitted estimator, param_grid) of each pool."""
    gan, vae = settings["infogan_cr"], settings["factor_vae"]
    yield ("infogan_cr",
           InfoGANCR(max_iter=gan["max_iter"], batch_size=gan["batch_size"], device=device),
           {"random_state": list(range(gan["seeds"]))})
    yield ("factor_vae",
           VAE(objective="factor", max_iter=vae["max_iter"], batch_size=vae["batch_size"],
               device=device),
           {"gamma": list(vae["gammas"]), "random_state": list(range(vae["seeds"]))})


def evaluate(models, dataset, settings, seed):
    """Every metric of every model: dict of metric name -> ndarray (n_models,)."""
    return {
        name: np.array([metric(model, dataset, protocol="paper", random_state=seed,
                               **settings["metrics"][name]) for model in models])
        for name, metric in METRICS.items()
    }


def run_pool(name, estimator, grid, images, dataset, settings, args):
    """Fit the pool with ModelCentrality, rank it by UDR too, evaluate every model."""
    start = time.perf_counter()
    selector = ModelCentralitySelector(
        estimator, grid, similarity_params=settings["similarity"], n_jobs=args.n_jobs,
        verbose=args.verbose, random_state=args.seed,
    ).fit(images)
    wall = time.perf_counter() - start
    alive = [i for i, m in enumerate(selector.estimators_) if m is not None]
    models = [selector.estimators_[i] for i in alive]

    start = time.perf_counter()
    udr, _ = model_centrality(models, images, similarity="udr_lasso",
                              similarity_params=settings["udr"], n_jobs=args.n_jobs,
                              random_state=args.seed)
    udr_time = time.perf_counter() - start

    start = time.perf_counter()
    scores = evaluate(models, dataset, settings, args.seed)
    eval_time = time.perf_counter() - start
    picks = {
        "ModelCentrality": alive.index(selector.best_index_),
        "UDR (Lasso)": int(np.argmax(udr)),
        "random pick": int(np.random.RandomState(args.seed).randint(len(models))),
        "best in hindsight": int(np.argmax(scores["factor_vae"])),
    }
    results = selector.cv_results_
    return {
        "pool": name,
        "params": [results["params"][i] for i in alive],
        "n_failed": len(results["params"]) - len(alive),
        "centrality": results["centrality"][alive].tolist(),
        "udr": udr.tolist(),
        "scores": {k: v.tolist() for k, v in scores.items()},
        "picks": picks,
        "times": {"training": float(results["fit_time"].sum()),
                  "similarity_matrix": float(results["similarity_time"].sum()),
                  "selector_wall": wall, "udr": udr_time, "evaluation": eval_time},
    }


def print_pool(result):
    """A markdown table of the picks, and the times."""
    scores, params = result["scores"], result["params"]
    print(f"\n### {result['pool']} pool: {len(params)} models"
          + (f" ({result['n_failed']} failed)" if result["n_failed"] else ""))
    print("| pick | model | FactorVAE | DCI | MIG | paper (FactorVAE, DCI, MIG) |")
    print("|---|---|---|---|---|---|")
    for label, k in result["picks"].items():
        paper = PAPER[result["pool"]].get(label, "")
        print(f"| {label} | {params[k]} | {scores['factor_vae'][k]:.3f} | "
              f"{scores['dci'][k]:.3f} | {scores['mig'][k]:.3f} | {paper} |")
    mean = {k: np.mean(v) for k, v in scores.items()}
    std = {k: np.std(v) for k, v in scores.items()}
    print(f"| pool mean ± std (expected random pick) | | {mean['factor_vae']:.3f} ± "
          f"{std['factor_vae']:.3f} | {mean['dci']:.3f} ± {std['dci']:.3f} | "
          f"{mean['mig']:.3f} ± {std['mig']:.3f} | |")
    t = result["times"]
    print(f"\ntraining {t['training']:.1f} s (sum over models); similarity matrix "
          f"{t['similarity_matrix']:.1f} s ({t['similarity_matrix'] / t['training']:.1%} of "
          f"training); UDR {t['udr']:.1f} s; evaluation {t['evaluation']:.1f} s")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="tiny pools and budgets: about 5 minutes on a 2-core CPU")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: pools of 2 models, 2 iterations, 128 images")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0, help="similarity, UDR, metrics, pick")
    parser.add_argument("--data", default=None,
                        help="official dSprites npz; default: the procedural renderer")
    parser.add_argument("--pools", nargs="+", default=["infogan_cr", "factor_vae"],
                        choices=["infogan_cr", "factor_vae"])
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--verbose", type=int, default=1)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    settings = SETTINGS["smoke" if args.smoke else "quick" if args.quick else "full"]
    start = time.perf_counter()
    dataset = DSprites(path=args.data)
    images = (dataset.sample(settings["n_images"], random_state=args.seed)[1] if args.smoke
              else dataset.images)
    print(f"dSprites ({dataset.source}): {len(images):,} images, "
          f"{time.perf_counter() - start:.1f} s")
    results = []
    for name, estimator, grid in pools(settings, args.device):
        if name in args.pools:
            results.append(run_pool(name, estimator, grid, images, dataset, settings, args))
            print_pool(results[-1])
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": settings, "results": results}, f, indent=1, default=str)


if __name__ == "__main__":
    main()
