"""Where the time of a ModelCentrality similarity matrix goes (issue 16, item 1).

Fits a pool of models briefly (the cost of the similarity does not depend
on how well they are trained), computes its ``"factor_vae"`` similarity
matrix with :func:`disentangle.selection.pairwise_similarity` and splits the
time into:

* rendering: the models' ``generate`` calls (the generator's forward pass
  and the checks and copies around it);
* encoding: the encoders' ``transform`` calls;
* the rest: drawing the factors, the variances and the vote statistics in
  numpy, the datasets and the tasks;
* with ``--n-jobs 2``: process start-up and shipping the models, as the
  wall time minus the tasks' own time over the workers.

The calls are timed through the public interface only: the pool is passed as
thin wrappers whose ``generate`` and ``transform`` add their seconds to a
clock (``pairwise_similarity`` takes any object with the generative
interface). Each part is reported per 1,000 observations, so that the cost of
any protocol follows: a column renders
:func:`~disentangle.selection.images_rendered` observations once and every
encoder reads them.

``--levers`` times ``generate`` and ``transform`` alone on 2,048
observations under each ``inference_fast_path`` (None, channels-last, bf16
autocast, both), alternating the paths, so that each one's gain is measured
before it is adopted.

``--effect PROTOCOL`` answers whether an inference path changes the votes:
for each ``inference_fast_path``, the pool's ``"factor_vae"`` similarity
matrix under ``PROTOCOL`` with the same ``random_state`` (so the same factors,
latents and votes drawn), beside the reference matrix: the largest change of
an entry, that change over the entry's bootstrap standard error, and the
seconds as a ratio. ``--checkpoints`` takes the pool from the folders of
``benchmarks/fast_path_quality.py`` (``OUT/<seed>-<path>``; each is resumed,
nothing trained) instead of briefly fitted models.

``--compare`` times the ``"fast"`` protocol against the paper protocol (the
default) on the same pool in one process, alternating, and prints the
ratio.

Usage::

    python benchmarks/similarity_cost.py --model infogan --models 3 10
    python benchmarks/similarity_cost.py --model vae --models 3 --n-jobs 2
    python benchmarks/similarity_cost.py --model infogan --levers
    python benchmarks/similarity_cost.py --effect fast \
        --checkpoints benchmarks/results/fast_path_quality/*-*/
    python benchmarks/similarity_cost.py --model vae --models 3 --compare
    python benchmarks/similarity_cost.py --smoke          # seconds
"""

import argparse
import pickle
import time
import warnings
from collections import defaultdict

import numpy as np
import torch

from disentangle import VAE, InfoGANCR
from disentangle.datasets import DSprites
from disentangle.selection import images_rendered, pairwise_similarity

#: Models whose similarity is profiled; the InfoGAN-CR default networks are the paper's.
MODELS = {
    "infogan": lambda seed: InfoGANCR(max_iter=2, batch_size=32, random_state=seed),
    "vae": lambda seed: VAE(objective="factor", max_iter=2, batch_size=32, random_state=seed),
}


class Timed:
    """A fitted model whose ``generate`` and ``transform`` add their seconds to ``clock``
    (``"render"``, ``"encode"``); every other attribute is the model's."""

    def __init__(self, model, clock):
        self.model, self.clock = model, clock

    def __getattr__(self, name):
        return getattr(self.model, name)

    def _timed(self, label, method, *args, **kwargs):
        start = time.perf_counter()
        try:
            return getattr(self.model, method)(*args, **kwargs)
        finally:
            self.clock[label] += time.perf_counter() - start

    def generate(self, latents):
        return self._timed("render", "generate", latents)

    def transform(self, X, **kwargs):
        return self._timed("encode", "transform", X, **kwargs)


def fit_pool(kind, n_models, X):
    """``n_models`` briefly fitted models of ``kind``, seeds 0, 1, ..."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [MODELS[kind](seed).fit(X) for seed in range(n_models)]


def profile(models, params, seed):
    """Pairwise similarity of ``models`` in this process, with the seconds of rendering and
    encoding."""
    clock = defaultdict(float)
    start = time.perf_counter()
    pairwise_similarity([Timed(m, clock) for m in models], similarity_params=params,
                        random_state=seed)
    return time.perf_counter() - start, dict(clock)


def breakdown(models, params, seed):
    """Rows ``(part, seconds, ms per 1,000 observations and model or model pair)``."""
    wall, seconds = profile(models, params, seed)
    n, count = len(models), images_rendered(params, models[0].n_codes_)
    render, encode = seconds.get("render", 0.0), seconds.get("encode", 0.0)
    renders, encodes = n * count / 1e3, n * n * count / 1e3
    rows = [("render (generate)", render, render / renders),
            ("encode (transform)", encode, encode / encodes),
            ("numpy statistics, datasets, tasks", wall - render - encode,
             (wall - render - encode) / encodes)]
    return wall, rows, count


def parallel_cost(models, params, seed, n_jobs):
    """Wall time under joblib with ``n_jobs`` workers, the tasks' own seconds, and the bytes
    of one pickled model."""
    start = time.perf_counter()
    task_seconds = pairwise_similarity(models, similarity_params=params, random_state=seed,
                                       n_jobs=n_jobs, return_details=True).times
    wall = time.perf_counter() - start
    return wall, float(task_seconds.sum()), len(pickle.dumps(models[0]))


def compare(models, repeats):
    """Seconds of the paper protocol and of the fast one, alternated ``repeats`` times."""
    seconds = {"paper": [], "fast": []}
    for _ in range(repeats):
        for name in seconds:
            params = {"protocol": name}
            start = time.perf_counter()
            pairwise_similarity(models, similarity_params=params, random_state=0)
            seconds[name].append(time.perf_counter() - start)
    return seconds


#: The inference paths compared (``inference_fast_path`` values).
PATHS = {"default": None, "channels-last": "channels_last", "bf16 autocast": "bf16",
         "bf16 + channels-last": ["bf16", "channels_last"]}


def lever_times(model, n_obs=2048, repeats=3):
    """Seconds of ``generate`` and ``transform`` on ``n_obs`` observations under each
    inference path (best of ``repeats``, the paths alternated)."""
    latents = model.sample_latent(n_obs, 0)
    images = model.generate(latents)
    calls = {"render": lambda: model.generate(latents), "encode": lambda: model.transform(images)}
    results = defaultdict(lambda: np.inf)
    for _ in range(repeats):
        for lever, path in PATHS.items():
            model.set_params(inference_fast_path=path)
            for part, call in calls.items():
                call()  # converts the weights' memory format, if the path changes it
                start = time.perf_counter()
                call()
                results[lever, part] = min(results[lever, part], time.perf_counter() - start)
    model.set_params(inference_fast_path=None)
    return dict(results)


def load_pool(folders, images):
    """The fitted models of fast_path_quality.py's folders ``<seed>-<path>``, resumed (their
    schedules are complete, so nothing trains)."""
    models = []
    for folder in folders:
        model = InfoGANCR.from_preset("cpu", checkpoint_dir=folder, warm_start=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            models.append(model.fit(images))
    return models


def path_effect(models, protocol, seed=0):
    """Per inference path: the similarity matrix's largest change from the reference one,
    in absolute terms and in the entries' bootstrap standard errors, and seconds."""
    rows, reference = [], None
    for lever, path in PATHS.items():
        for model in models:
            model.set_params(inference_fast_path=path)
        start = time.perf_counter()
        details = pairwise_similarity(models, similarity_params={"protocol": protocol},
                                      random_state=seed, return_details=True)
        seconds = time.perf_counter() - start
        if reference is None:
            reference = details.pairwise
            se = details.replicates.std(axis=0, ddof=1)
            base = seconds
        change = np.abs(details.pairwise - reference)
        # An entry whose votes all agree has no spread (SE 0): unchanged there, 0 SEs.
        in_se = np.divide(change, se, out=np.where(change > 0, np.inf, 0.0), where=se > 0)
        rows.append((lever, change.max(), in_se.max(), float(se.mean()), seconds / base))
    for model in models:
        model.set_params(inference_fast_path=None)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="infogan")
    parser.add_argument("--models", type=int, nargs="+", default=[3],
                        help="pool sizes to profile (default: 3)")
    parser.add_argument("--votes-per-code", type=int, default=100,
                        help="of the profiled protocol (paper: 100)")
    parser.add_argument("--n-variance", type=int, default=73_728,
                        help="of the profiled protocol (paper: 73,728)")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="also time the pool under joblib with this many workers")
    parser.add_argument("--levers", action="store_true",
                        help="time the forward passes under each lever instead")
    parser.add_argument("--effect", metavar="PROTOCOL",
                        help="the similarity matrix under each inference path instead")
    parser.add_argument("--checkpoints", nargs="+", metavar="FOLDER",
                        help="with --effect: the pool from fast_path_quality.py's folders")
    parser.add_argument("--compare", type=int, metavar="REPEATS", default=0,
                        help="time the paper protocol against the default instead")
    parser.add_argument("--smoke", action="store_true", help="seconds: tiny protocol")
    args = parser.parse_args(argv)
    if args.smoke:
        args.models, args.votes_per_code, args.n_variance = [2], 2, 400
    dataset = DSprites()
    X = dataset.sample(256, random_state=0)[1]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU capability "
          f"{torch.backends.cpu.get_cpu_capability()}; model {args.model}")
    if args.effect:
        models = (load_pool(args.checkpoints, dataset.images) if args.checkpoints
                  else fit_pool(args.model, args.models[0], X))
        print(f"{len(models)} models, protocol {args.effect!r}")
        print(f"{'inference path':<24}{'max |change|':>14}{'max |change|/SE':>17}"
              f"{'mean SE':>9}{'seconds x default':>19}")
        for lever, change, in_se, se, ratio in path_effect(models, args.effect):
            print(f"{lever:<24}{change:>14.4f}{in_se:>17.2f}{se:>9.4f}{ratio:>19.2f}")
        return
    if args.levers:
        model = fit_pool(args.model, 1, X)[0]
        n_obs = 256 if args.smoke else 2048
        times = lever_times(model, n_obs=n_obs)
        base = {p: times["default", p] for p in ("render", "encode")}
        print(f"{'lever':<28}{'render img/s':>14}{'ratio':>7}{'encode img/s':>14}{'ratio':>7}")
        for lever in dict.fromkeys(k for k, _ in times):
            r, e = times[lever, "render"], times[lever, "encode"]
            print(f"{lever:<28}{n_obs / r:>14,.0f}{base['render'] / r:>7.2f}"
                  f"{n_obs / e:>14,.0f}{base['encode'] / e:>7.2f}")
        return
    if args.compare:
        models = fit_pool(args.model, args.models[0], X)
        seconds = compare(models, args.compare)
        ratios = np.divide(seconds["paper"], seconds["fast"])
        print(f"{len(models)} models: paper protocol {seconds['paper']} s, fast "
              f"{seconds['fast']} s; paper/fast per pair of runs: "
              + ", ".join(f"{r:.1f}" for r in ratios))
        return
    params = {"protocol": "paper", "votes_per_code": args.votes_per_code,
              "n_variance": args.n_variance}
    for n in args.models:
        models = fit_pool(args.model, n, X)
        wall, rows, count = breakdown(models, params, seed=0)
        print(f"\n{n} models, {params}: {count:,} observations a column; "
              f"{wall:.1f} s in all (1 process)")
        print(f"{'part':<40}{'seconds':>9}{'share':>7}{'ms/1k obs':>11}")
        for part, seconds, per_k in rows:
            print(f"{part:<40}{seconds:>9.2f}{seconds / wall:>7.1%}{1e3 * per_k:>11.1f}")
        per_obs = wall / count
        for name in ("paper", "fast"):
            full = images_rendered({"protocol": name}, models[0].n_codes_)
            print(f"{name} protocol ({full:,} observations a column), extrapolated: "
                  f"{per_obs * full:.0f} s")
        if args.n_jobs > 1:
            pwall, task_s, nbytes = parallel_cost(models, params, 0, args.n_jobs)
            print(f"n_jobs={args.n_jobs}: {pwall:.1f} s wall, tasks {task_s:.1f} s in all; "
                  f"start-up and shipping ~{pwall - task_s / args.n_jobs:.1f} s "
                  f"(one pickled model: {nbytes / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
