"""Where the time of a ModelCentrality similarity matrix goes (issue 16, item 1).

Fits a pool of models briefly (the cost of the similarity does not depend
on how well they are trained), computes its ``"factor_vae"`` similarity
matrix with :func:`disentangle.metrics.pairwise_similarity` and splits the
time into:

* rendering: ``generate`` (the generator's forward pass, ``_decode_batch``,
  and the checks and copies around it);
* encoding: ``transform`` of every encoder (``_encode_batch`` and the rest);
* the rest of the variance-sample phase and of the vote phase: drawing the
  factors, the variances and the vote statistics in numpy;
* with ``--n-jobs 2``: process start-up and shipping the models, as the
  wall time minus the tasks' own time over the workers.

Each phase is reported per 1,000 observations, so that the cost of any
protocol follows: a column renders ``n_variance + votes * batch_size``
observations once and every encoder reads them.

``--levers`` times the forward passes alone on 2,048 observations: batch
size, channels-last, bf16 autocast, so that each lever's gain is measured
before it is adopted.

``--compare`` times the ``"fast"`` protocol against the paper protocol (the
default) on the same pool in one process, alternating, and prints the
ratio.

Usage::

    python benchmarks/similarity_cost.py --model infogan --models 3 10
    python benchmarks/similarity_cost.py --model vae --models 3 --n-jobs 2
    python benchmarks/similarity_cost.py --model infogan --levers
    python benchmarks/similarity_cost.py --model vae --models 3 --compare
    python benchmarks/similarity_cost.py --smoke          # seconds
"""

import argparse
import contextlib
import pickle
import time
import warnings
from collections import defaultdict

import numpy as np
import torch

from disentangle import VAE, InfoGANCR
from disentangle._base import GenerativeEstimator
from disentangle.datasets import DSprites
from disentangle.metrics import _factor_vae, _similarity, pairwise_similarity
from disentangle.metrics._similarity import PairwiseRun

#: Models whose similarity is profiled; the InfoGAN-CR default networks are the paper's.
MODELS = {
    "infogan": lambda seed: InfoGANCR(max_iter=2, batch_size=32, random_state=seed),
    "vae": lambda seed: VAE(objective="factor", max_iter=2, batch_size=32, random_state=seed),
}


class Clock:
    """Seconds spent in wrapped methods, by phase of the FactorVAE machinery."""

    def __init__(self):
        self.seconds = defaultdict(float)
        self.phase = "setup"
        self._undo = []

    def time(self, owner, name, label):
        """Add the time of every call of ``owner.name`` to ``(phase, label)``."""
        original = owner.__dict__[name]

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[self.phase, label] += time.perf_counter() - start

        setattr(owner, name, timed)
        self._undo.append((owner, name, original))

    def enter(self, owner, name, phase):
        """Calls of ``owner.name`` run in ``phase``; their time goes to ``(phase, "total")``."""
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)

        def in_phase(*args, **kwargs):
            outer, self.phase = self.phase, phase
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[phase, "total"] += time.perf_counter() - start
                self.phase = outer

        setattr(owner, name, in_phase)
        self._undo.append((owner, name, original))

    def restore(self):
        for owner, name, original in reversed(self._undo):
            setattr(owner, name, original)
        self._undo.clear()


@contextlib.contextmanager
def clocked():
    """A :class:`Clock` on rendering, encoding and the two phases (in this process only)."""
    clock = Clock()
    clock.time(GenerativeEstimator, "generate", "render")
    clock.time(GenerativeEstimator, "transform", "encode")
    for owner in (GenerativeEstimator, VAE):
        clock.time(owner, "_decode_batch", "render (forward)")
    for owner in (InfoGANCR, VAE):
        clock.time(owner, "_encode_batch", "encode (forward)")
    clock.enter(_factor_vae, "_variance_sample", "variance sample")
    clock.enter(_factor_vae, "_vote_spreads", "votes")
    try:
        yield clock
    finally:
        clock.restore()


def fit_pool(kind, n_models, X):
    """``n_models`` briefly fitted models of ``kind``, seeds 0, 1, ..."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [MODELS[kind](seed).fit(X) for seed in range(n_models)]


def observations(params, n_codes):
    """Observations one column renders: ``(n_variance, votes * batch_size)``."""
    resolved = _similarity.check_similarity_params("factor_vae", params)
    fvae = _factor_vae._resolve_params(**_similarity.factor_vae_arguments(resolved, n_codes))
    return fvae["n_variance"], fvae["n_train"] * fvae["batch_size"]


def profile(models, params, seed):
    """Pairwise similarity of ``models`` in this process, with the time of each part."""
    with clocked() as clock:
        start = time.perf_counter()
        pairwise_similarity(models, similarity_params=params, random_state=seed)
        wall = time.perf_counter() - start
    return wall, dict(clock.seconds)


def breakdown(models, params, seed):
    """Rows ``(part, seconds, share, ms per 1,000 observations and model pair or model)``."""
    wall, seconds = profile(models, params, seed)
    n = len(models)
    n_var, n_votes = observations(params, models[0].n_codes_)
    rows = []
    for phase, count in (("variance sample", n_var), ("votes", n_votes)):
        render = seconds.get((phase, "render"), 0.0)
        encode = seconds.get((phase, "encode"), 0.0)
        rest = seconds.get((phase, "total"), 0.0) - render - encode
        renders, encodes = n * count / 1e3, n * n * count / 1e3
        rows += [(f"{phase}: render", render, render / renders),
                 (f"{phase}:   of which forward", seconds.get((phase, "render (forward)"), 0.0),
                  seconds.get((phase, "render (forward)"), 0.0) / renders),
                 (f"{phase}: encode", encode, encode / encodes),
                 (f"{phase}:   of which forward", seconds.get((phase, "encode (forward)"), 0.0),
                  seconds.get((phase, "encode (forward)"), 0.0) / encodes),
                 (f"{phase}: numpy statistics", rest, rest / encodes)]
    accounted = sum(seconds.get((p, "total"), 0.0) for p in ("variance sample", "votes"))
    rows.append(("other (datasets, tasks, checks)", wall - accounted, None))
    return wall, rows, (n_var, n_votes)


def parallel_cost(models, params, seed, n_jobs):
    """Wall time under joblib with ``n_jobs`` workers, the tasks' own seconds, and the bytes
    of one pickled model."""
    run = PairwiseRun("factor_vae", params, n_jobs=n_jobs, pre_dispatch="2*n_jobs", verbose=0,
                      error_score="raise", prefix="similarity_cost")
    start = time.perf_counter()
    task_seconds = run(models, [None] * len(models), None, seed).times
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


def lever_times(model, n_obs=2048, repeats=3):
    """Seconds of the forward passes on ``n_obs`` observations under each lever (best of 3)."""
    latents = torch.from_numpy(model.sample_latent(n_obs, 0))
    images = torch.from_numpy(model.generate(latents.numpy()))
    modules = {"render": model._decode_batch, "encode": model._encode_batch}
    inputs = {"render": latents, "encode": images}
    results = {}
    for lever, batch, layout, dtype in (("batch 512 (today)", 512, None, None),
                                        ("batch 128", 128, None, None),
                                        ("batch 2048", 2048, None, None),
                                        ("channels-last, batch 512", 512, "cl", None),
                                        ("bf16 autocast, batch 512", 512, None, torch.bfloat16)):
        for part in ("render", "encode"):
            data = inputs[part]
            if layout and part == "encode":
                data = data.contiguous(memory_format=torch.channels_last)
            best = np.inf
            for _ in range(repeats):
                with _layout(model, layout), torch.inference_mode(), \
                        torch.autocast("cpu", dtype=dtype or torch.bfloat16,
                                       enabled=dtype is not None):
                    start = time.perf_counter()
                    for i in range(0, n_obs, batch):
                        modules[part](data[i:i + batch])
                    best = min(best, time.perf_counter() - start)
            results[lever, part] = best
    return results


@contextlib.contextmanager
def _layout(model, layout):
    """The model's networks in channels-last memory format inside the block."""
    nets = [m for m in (model.net_.module_, getattr(model.net_, "discriminator_", None),
                        getattr(model.net_, "encoder_", None)) if m is not None]
    if layout == "cl":
        for net in nets:
            net.to(memory_format=torch.channels_last)
    try:
        yield
    finally:
        for net in nets:
            net.to(memory_format=torch.contiguous_format)


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
    parser.add_argument("--compare", type=int, metavar="REPEATS", default=0,
                        help="time the paper protocol against the default instead")
    parser.add_argument("--smoke", action="store_true", help="seconds: tiny protocol")
    args = parser.parse_args(argv)
    if args.smoke:
        args.models, args.votes_per_code, args.n_variance = [2], 2, 400
    X = DSprites().sample(256, random_state=0)[1]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"model {args.model}")
    if args.levers:
        model = fit_pool(args.model, 1, X)[0]
        n_obs = 256 if args.smoke else 2048
        times = lever_times(model, n_obs=n_obs)
        base = {p: times["batch 512 (today)", p] for p in ("render", "encode")}
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
        wall, rows, (n_var, n_votes) = breakdown(models, params, seed=0)
        print(f"\n{n} models, {params}: {n_var:,} + {n_votes:,} observations a column; "
              f"{wall:.1f} s in all (1 process)")
        print(f"{'part':<40}{'seconds':>9}{'share':>7}{'ms/1k obs':>11}")
        for part, seconds, per_k in rows:
            per = f"{1e3 * per_k:>11.1f}" if per_k is not None else f"{'':>11}"
            print(f"{part:<40}{seconds:>9.2f}{seconds / wall:>7.1%}{per}")
        per_obs = (wall - rows[-1][1]) / (n_var + n_votes)
        for name in ("paper", "fast"):
            full = sum(observations({"protocol": name}, models[0].n_codes_))
            print(f"{name} protocol ({full:,} observations a column), extrapolated: "
                  f"{per_obs * full + rows[-1][1]:.0f} s")
        if args.n_jobs > 1:
            pwall, task_s, nbytes = parallel_cost(models, params, 0, args.n_jobs)
            print(f"n_jobs={args.n_jobs}: {pwall:.1f} s wall, tasks {task_s:.1f} s in all; "
                  f"start-up and shipping ~{pwall - task_s / args.n_jobs:.1f} s "
                  f"(one pickled model: {nbytes / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
