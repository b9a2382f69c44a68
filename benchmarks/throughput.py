"""Training images/s of the estimators against a bare PyTorch loop, and against the hardware.

For each model, ``fit`` of the estimator and a bare loop written inline here
(the same networks, losses, optimiser steps, latents and uint8 batches of
``DSprites().images``, without skorch, callbacks, history or checks: the
pace of plain PyTorch for the model) train for the same number of iterations
in the same process, twice: with the default step (``fast_path=None``, a
float32 bare loop) and with ``fast_path="auto"`` (the bare loop with the same
paths: its modules in channels-last, its iterations under bf16 autocast where
"auto" takes bf16). Each side is warmed up off the clock first. Runs
alternate (estimator, bare, estimator, bare, ...): each pair gives one ratio
of paces, and the line gives their mean with a 95 % t-interval over the pairs
(``--pairs``, 5 by default; more pairs, a tighter interval), so that a slow
moment of the machine widens the interval instead of moving the ratio; a
table of all of them closes the run::

    VAE(factor) [default] estimator/bare pace: 0.97 [0.94, 1.00] over 5 alternated pairs ...

Where the estimator's time goes beside the bare loop's (cProfile of 4 and 20
iterations of each, FactorVAE on 64x64 images, their difference per
iteration; proportions, the machine being shared): the estimator runs the
bare loop's kernels call for call (the same conv, linear, backward and Adam
calls), plus 667 Python calls an iteration (2,717 against 2,054): 0.69 % of
the iteration in disentangle's code (the engine's step, the batch check),
0.10 % in skorch's loop and callbacks, and torch's module machinery for the
named parameters that skorch's gradient hook receives. A measured gap larger
than about 1 % is not in the iteration; this script used to time the
estimator's first fit of the process unwarmed (9,200 more Python calls than
the next fits) and to refit one estimator object, whose previous fit's
networks and Adam state stayed alive while the next one trained: both
fixed, the gap left for a quiet machine to measure.

``--roofline`` adds, per model, the FLOPs of one training iteration
(``torch.utils.flop_counter.FlopCounterMode`` over the bare loop: matmuls and
convolutions, forward and backward; InfoGAN-CR averaged over its two phases)
divided by the measured seconds per iteration, next to the machine's peaks:
a float32 and a bfloat16 matmul of 2048 x 2048 timed the same way (both: the fastest
run, the one least disturbed by other work on the machine).
``--variants`` times the estimator's fast paths (``fast_path``, ``auto`` included:
the cpu preset's and the demo's) against its default step, alternated the same
way (with ``--roofline``, each path's images/s and its fraction of both peaks).
``--json PATH`` writes the images/s (and roofline fractions) of the default step
and of each fast path there: ``benchmarks/gpu_run.sh`` trains with the fastest.
Last, the peak RSS of a fit on the full 737,280-image dSprites, in a fresh
process, against the size of the uint8 images.

    python benchmarks/throughput.py --quick --roofline   # under 5 minutes on 2 CPU cores
    python benchmarks/throughput.py --models "VAE(factor)" --pairs 20   # a tight interval
    python benchmarks/throughput.py --quick --models --variants auto --pairs 20  # auto/default
    python benchmarks/throughput.py --smoke      # seconds: 3 iterations on 256 images, no memory
    python benchmarks/throughput.py --device cuda --iterations 2000 --roofline \
        --variants bf16 channels_last cuda_graphs

Run it with one torch thread per core in use (``OMP_NUM_THREADS``); quote the
CPU's flags with the pace (``grep -o -m1 'avx512f\\|avx2' /proc/cpuinfo``).
"""

import argparse
import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from scipy import stats
from torch.utils.flop_counter import FlopCounterMode

from disentangle import VAE, InfoGANCR
from disentangle.cli import peak_memory_bytes
from disentangle.datasets import DSprites
from disentangle.devices import (
    FAST_PATHS,
    NATIVE_BF16_CPU_FLAGS,
    auto_fast_path,
    cpu_flags,
    resolve_device,
)
from disentangle.infogan_cr import sample_cr_pairs, sample_uniform_latents
from disentangle.networks import (
    CRDiscriminator,
    DiscriminatorQ,
    Generator,
    TCDiscriminator,
    VAEDecoder,
    VAEEncoder,
    init_weights,
)
from disentangle.vae import kl_decomposition, permute_dims

#: The models timed: (label, estimator class, parameters). InfoGAN-CR switches its CR
#: term on half-way, so both phases of the paper's schedule are timed.
MODELS = [
    ("InfoGANCR", InfoGANCR, {"cr_start": 0.5}),
    ("VAE(beta)", VAE, {"objective": "beta", "beta": 4.0}),
    ("VAE(factor)", VAE, {"objective": "factor", "gamma": 10.0}),
    ("VAE(beta_tc)", VAE, {"objective": "beta_tc", "beta": 6.0}),
]


def batches(images, batch_size, n_iter, generator):
    """Random uint8 batches, sorted indices into the (memory-mapped) array, as the estimator."""
    for _ in range(n_iter):
        index = np.sort(torch.randint(len(images), (batch_size,), generator=generator).numpy())
        yield torch.from_numpy(images[index][:, None])


def step(optimizer, loss, module):
    optimizer.zero_grad(set_to_none=True)
    loss.backward(inputs=list(module.parameters()))
    optimizer.step()


def bare_modules(modules, device, paths):
    """The bare loop's modules on ``device``, initialised, in channels-last with that path."""
    for module in modules:
        module.to(device)
        init_weights(module)
        if "channels_last" in paths:
            module.to(memory_format=torch.channels_last)
    return modules


def iteration(device, paths):
    """The context of one bare iteration: bf16 autocast with that path, as the estimator's."""
    if "bf16" in paths:
        return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def bare_infogan_cr(images, n_iter, device, params, paths=(), batch_size=64, n_codes=5,
                    n_noise=5):
    """The InfoGAN-CR iteration, inline: one H step (alpha > 0), one D/Q step, two G steps."""
    # As the estimator rounds a fraction of max_iter (an odd n_iter had one more CR iteration).
    cr_start, alpha, lam = round(params["cr_start"] * n_iter), 2.0, 0.05
    torch.manual_seed(0)
    g, dq, h = bare_modules((Generator(n_codes + n_noise), DiscriminatorQ(n_codes),
                             CRDiscriminator(n_codes)), device, paths)
    adam = [torch.optim.Adam(m.parameters(), lr=lr, betas=(0.5, 0.999))
            for m, lr in ((g, 1e-3), (dq, 2e-3), (h, 2e-3))]
    return _bare_infogan_cr_loop(images, n_iter, device, paths, (g, dq, h), adam, cr_start,
                                 alpha, lam, batch_size, n_codes, n_noise)


def _bare_infogan_cr_loop(images, n_iter, device, paths, modules, adam, cr_start, alpha, lam,
                          batch_size, n_codes, n_noise):
    g, dq, h = modules
    rng = torch.Generator(device=device).manual_seed(1)
    for it, batch in enumerate(batches(images, batch_size, n_iter, torch.Generator())):
        with iteration(device, paths):
            real = batch.to(device, non_blocking=True).float()
            latents = sample_uniform_latents(batch_size, n_codes + n_noise, rng, device)
            codes = latents[:, :n_codes]
            on = it >= cr_start
            if on:  # H trains while alpha > 0 (it is re-initialised when alpha switches on)
                pair_a, pair_b, shared = sample_cr_pairs(batch_size, n_codes, n_noise, 0.0, rng,
                                                         device)
                with torch.no_grad():
                    pairs = torch.cat([g(pair_a), g(pair_b)], 1)
                step(adam[2], F.cross_entropy(h.train()(pairs), shared), h)
            fake = g(latents)
            dq.train()
            d_real, _ = dq(real)
            dq.eval()
            d_fake, q_fake = dq(fake.detach())
            d_loss = (F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real))
                      + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
                      + lam * 0.5 * (q_fake - codes).pow(2).sum(1).mean())
            step(adam[1], d_loss, dq)
            for g_step in range(2):
                d_fake, q_fake = dq(fake if g_step == 0 else g(latents))
                g_loss = (F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
                          + lam * 0.5 * (q_fake - codes).pow(2).sum(1).mean())
                if on:
                    pairs = torch.cat([g(pair_a), g(pair_b)], 1)
                    g_loss = g_loss + alpha * F.cross_entropy(h.eval()(pairs), shared)
                step(adam[0], g_loss, g)
    return g_loss.item()


def bare_vae(images, n_iter, device, params, paths=(), batch_size=64, n_latent=10):
    """One VAE step (and for FactorVAE one TC-discriminator step) per iteration, inline."""
    objective = params["objective"]
    torch.manual_seed(0)
    encoder, decoder = bare_modules((VAEEncoder(n_latent), VAEDecoder(n_latent)), device, paths)
    vae_params = [*encoder.parameters(), *decoder.parameters()]
    adam = torch.optim.Adam(vae_params, lr=1e-4, betas=(0.9, 0.999))
    if objective == "factor":
        tcd, = bare_modules((TCDiscriminator(n_latent),), device, paths)
        adam_d = torch.optim.Adam(tcd.parameters(), lr=1e-4, betas=(0.5, 0.9))
    rng = torch.Generator(device=device).manual_seed(1)
    for batch in batches(images, batch_size, n_iter, torch.Generator()):
        with iteration(device, paths):
            x = batch.to(device, non_blocking=True).float()
            mean, logvar = encoder(x)
            eps = torch.randn(mean.shape, generator=rng, device=device)
            z = mean + torch.exp(0.5 * logvar) * eps
            loss = F.binary_cross_entropy_with_logits(decoder(z), x, reduction="sum") / len(x)
            kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar).sum(1).mean()
            if objective == "beta":
                loss = loss + params["beta"] * kl
            elif objective == "factor":
                logits = tcd(z)
                loss = loss + kl + params["gamma"] * (logits[:, 0] - logits[:, 1]).mean()
            else:
                tc = kl_decomposition(z, mean, logvar, len(images)).total_correlation
                loss = loss + kl + (params["beta"] - 1.0) * tc
            adam.zero_grad(set_to_none=True)
            loss.backward(inputs=vae_params)
            adam.step()
            if objective == "factor":
                z = z.detach()
                logits = tcd(torch.cat([z, permute_dims(z, rng)]))
                labels = torch.arange(2, device=device).repeat_interleave(len(z))
                step(adam_d, F.cross_entropy(logits, labels), tcd)
    return loss.item()


BARE = {"InfoGANCR": bare_infogan_cr, "VAE(beta)": bare_vae, "VAE(factor)": bare_vae,
        "VAE(beta_tc)": bare_vae}


def seconds(function):
    start = time.perf_counter()
    function()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def alternated(runs, repeats):
    """Seconds of each run in ``runs`` (name -> callable), alternated ``repeats`` times."""
    timed = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            timed[name].append(seconds(run))
    return {name: np.array(times) for name, times in timed.items()}


def paired_ratio(numerator, denominator, confidence=0.95):
    """Mean of the paired ratios ``denominator[i] / numerator[i]`` of seconds (a ratio of
    paces) and its t-interval: (mean, low, high)."""
    ratios = np.asarray(denominator) / np.asarray(numerator)
    mean = ratios.mean()
    if len(ratios) < 2:
        return mean, np.nan, np.nan
    half = stats.t.ppf(0.5 + confidence / 2, len(ratios) - 1) * stats.sem(ratios)
    return mean, mean - half, mean + half


def describe_ratio(name, timed, a, b, n_iter):
    """One line: pace of ``a`` over pace of ``b`` with its interval, and both paces."""
    mean, low, high = paired_ratio(timed[a], timed[b])
    rate = {side: n_iter * 64 / np.median(timed[side]) for side in (a, b)}
    return (f"{name} {a}/{b} pace: {mean:.3f} [{low:.3f}, {high:.3f}] over {len(timed[a])} "
            f"alternated pairs (95% t-interval; {a} {rate[a]:.0f} img/s, {b} {rate[b]:.0f} "
            "img/s, medians)")


#: The steps each estimator is timed with against its bare loop: name -> ``fast_path``.
STEPS = {"default": None, "auto": "auto"}


def compare(label, estimator, params, images, n_iter, device, pairs):
    """For each of :data:`STEPS`, the estimator's fit against the bare loop with the same
    paths, alternated, each side warmed up off the clock first (a fresh estimator per run,
    as a user fits one).

    Returns
    -------
    ratios : dict
        Step name -> (paths, (mean, low, high)) of the estimator's pace over the bare loop's.
    per_iteration : dict
        The default step's seconds per iteration of each side in its fastest run (the least
        disturbed by other work on the machine).
    """
    ratios, per_iteration = {}, None
    for name, fast_path in STEPS.items():
        paths = () if fast_path is None else auto_fast_path(torch.device(device), images=True)

        def fit(fast_path=fast_path, n_iter=n_iter, data=images):
            estimator(max_iter=n_iter, device=device, random_state=0, fast_path=fast_path,
                      **params).fit(data)

        def bare(paths=paths, n_iter=n_iter):
            BARE[label](images, n_iter, device, params, paths)

        fit(n_iter=3, data=images[:256])  # warm-up: first calls, allocator, kernels
        bare(n_iter=3)
        timed = alternated({"estimator": fit, "bare": bare}, pairs)
        step = f"{label} [{name}: {'+'.join(paths) or 'float32'}]"
        print(describe_ratio(step, timed, "estimator", "bare", n_iter), flush=True)
        ratios[name] = ("+".join(paths) or "float32",
                        paired_ratio(timed["estimator"], timed["bare"]))
        if per_iteration is None:
            per_iteration = {side: times.min() / n_iter for side, times in timed.items()}
    return ratios, per_iteration


def report_ratios(ratios, pairs):
    """The closing table: each estimator's pace over its bare loop's, by step."""
    print(f"\nestimator pace / bare-loop pace, mean and 95 % t-interval over {pairs} "
          "alternated pairs:")
    print(f"{'model':<14}{'step':<10}{'paths':<22}{'ratio':>7}  95 % interval")
    for label, steps in ratios.items():
        for name, (paths, (mean, low, high)) in steps.items():
            print(f"{label:<14}{name:<10}{paths:<22}{mean:>7.3f}  [{low:.3f}, {high:.3f}]")


def compare_variants(images, n_iter, device, variants, repeats, after_each=None):
    """The estimator (InfoGAN-CR) with each fast path against its default step, alternated;
    returns the seconds per iteration of each (``"default"`` and each path that ran; the
    fastest run of each), also passed to ``after_each`` after each path."""
    label, estimator, params = MODELS[0]
    default = estimator(max_iter=n_iter, device=device, random_state=0, **params)
    per_iteration = {}
    for variant in variants:
        fast = estimator(max_iter=n_iter, device=device, random_state=0, fast_path=variant,
                         **params)
        try:
            fast.fit(images[:256])  # compiles, allocates: off the clock
            timed = alternated({variant: lambda fast=fast: fast.fit(images),
                                "default": lambda: default.fit(images)}, repeats)
        except Exception as error:  # a path this build or device cannot run
            print(f"{label} fast path {variant}: failed ({type(error).__name__}: {error})")
            continue
        print(describe_ratio(label, timed, variant, "default", n_iter), flush=True)
        for name, times in timed.items():  # the default step: its fastest run of all
            per_iteration[name] = min(per_iteration.get(name, np.inf), times.min() / n_iter)
        if after_each is not None:
            after_each(per_iteration)
    return per_iteration


def iteration_flops(label, images, device, params):
    """FLOPs of one training iteration (the bare loop; InfoGAN-CR: mean of its two phases)."""
    n_iter = 2 if label == "InfoGANCR" else 1  # cr_start=0.5: one iteration of each phase
    counter = FlopCounterMode(display=False)
    with counter:
        BARE[label](images, n_iter, device, params)
    return counter.get_total_flops() / n_iter


def matmul_peak(device, repeats, n=2048, dtype=torch.float32):
    """FLOP/s of an n x n matmul in ``dtype``: the fastest of ``repeats`` timings of 10
    products."""
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    a @ b  # warm-up
    timed = alternated({"matmul": lambda: [a @ b for _ in range(10)]}, repeats)["matmul"]
    return 10 * 2 * n**3 / timed.min()


def roofline_rows(flops, per_iteration, peaks):
    """By side: images/s at ``per_iteration`` seconds, and the fraction of each matmul peak in
    ``peaks`` (dtype name -> FLOP/s; None: no fractions) that ``flops`` per iteration reach."""
    return {side: {"images_per_s": 64 / s, **{f"roofline_{dtype}": flops / s / peak
                                              for dtype, peak in (peaks or {}).items()}}
            for side, s in per_iteration.items()}


def report_roofline(label, flops, per_iteration, peaks):
    """Print :func:`roofline_rows`."""
    rows = roofline_rows(flops, per_iteration, peaks)
    print(f"{label} roofline: {flops / 1e9:.3f} GFLOP per iteration; "
          + "; ".join(f"{side} {row['images_per_s']:.0f} img/s, "
                      f"{flops * row['images_per_s'] / 64e9:.2f} GFLOP/s = "
                      + ", ".join(f"{row[f'roofline_{dtype}']:.1%} of {dtype}" for dtype in peaks)
                      for side, row in rows.items())
          + " (matmul peaks: " + ", ".join(f"{dtype} {peak / 1e9:.1f} GFLOP/s"
                                          for dtype, peak in peaks.items()) + ")", flush=True)


def memory_child(n_iter, device):
    """In a fresh process: fit InfoGAN-CR on the full dSprites, print peak RSS in bytes
    (None where the platform does not tell: Windows)."""
    images = DSprites().images
    InfoGANCR(max_iter=n_iter, device=device, random_state=0).fit(images)
    print(peak_memory_bytes())


def report_memory(n_iter, device):
    out = subprocess.run([sys.executable, __file__, "--memory-child", str(n_iter),
                          "--device", device], check=True, capture_output=True, text=True)
    peak = out.stdout.split()[-1]
    if peak == "None":
        print("peak RSS: unknown on this platform (no resource module)")
        return
    peak, size = int(peak), DSprites().images.nbytes
    print(f"peak RSS of InfoGANCR.fit on the full dSprites ({n_iter} iterations): "
          f"{peak / 2**30:.2f} GiB = {peak / size:.2f}x the uint8 images ({size / 2**30:.2f} GiB)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short runs: under 5 min on 2 cores")
    parser.add_argument("--iterations", type=int, default=None,
                        help="iterations per timed run (default: 12 quick for InfoGANCR, "
                             "30 quick for the VAEs; 8x more without --quick)")
    parser.add_argument("--pairs", "--repeats", type=int, default=5, dest="pairs",
                        help="alternated pairs per model and step (more pairs, a tighter "
                             "interval; default 5)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--models", nargs="*", default=[m[0] for m in MODELS],
                        help="estimators timed against their bare loop (none: only --variants)")
    parser.add_argument("--roofline", action="store_true",
                        help="FLOPs per iteration over seconds, against a float32 matmul's")
    parser.add_argument("--variants", nargs="*", default=[], choices=["auto", *FAST_PATHS],
                        help="also time the estimator's fast paths against its default step "
                             "('auto': what the device runs natively, the cpu preset's)")
    parser.add_argument("--json", type=Path, default=None,
                        help="write the default step's and each fast path's images/s (and "
                             "roofline fractions) to this file")
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: 3 iterations, one run each, on 256 images, 512 x 512 "
                             "matmuls; no memory run")
    args = parser.parse_args(argv)
    device = str(resolve_device(args.device))
    if args.memory_child is not None:
        return memory_child(args.memory_child, device)
    if args.smoke:
        args.iterations, args.pairs = 3, 2
    images = DSprites().sample(256, random_state=0)[1][:, 0].astype(np.uint8) if args.smoke else \
        DSprites().images
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CPU flags: {vector_extension()}, batch 64, {args.pairs} alternated pairs per model "
          "and step")
    scale = 1 if args.quick else 8
    size = 512 if args.smoke else 2048
    peaks = {str(dtype).removeprefix("torch."): matmul_peak(device, args.pairs, size, dtype)
             for dtype in (torch.float32, torch.bfloat16)} if args.roofline else None
    ratios = {}
    for label, estimator, params in MODELS:
        if label not in args.models:
            continue
        n_iter = args.iterations or scale * (12 if label == "InfoGANCR" else 30)
        ratios[label], per_iteration = compare(label, estimator, params, images, n_iter, device,
                                               args.pairs)
        if args.roofline:
            report_roofline(label, iteration_flops(label, images, device, params),
                            per_iteration, peaks)
    if ratios:
        report_ratios(ratios, args.pairs)
    label, _, params = MODELS[0]
    flops = iteration_flops(label, images, device, params) if args.roofline else None

    def save(per_iteration):  # after each path: a run stopped early keeps the paths timed
        if args.json is not None:
            args.json.write_text(json.dumps({"device": device, "torch": torch.__version__,
                                             "fast_paths": roofline_rows(flops, per_iteration,
                                                                         peaks)}, indent=1))

    n_iter = args.iterations or (3 if args.smoke else scale * 15)
    per_iteration = compare_variants(images, n_iter, device, args.variants, args.pairs, save)
    if per_iteration and args.roofline:
        report_roofline(f"{label} fast paths", flops, per_iteration, peaks)
    if not args.smoke:
        report_memory(10 * scale, device)
    return 0


def vector_extension():
    """The widest x86 vector extension of this CPU (the pace depends on it), and whether it
    has native bf16 (``fast_path="auto"`` takes bf16 only then)."""
    flags = cpu_flags()
    if not flags:
        return "unknown"
    widest = next((flag for flag in ("avx512f", "avx2", "avx") if flag in flags), "no AVX")
    return widest + (" + native bf16" if flags & NATIVE_BF16_CPU_FLAGS else "")


if __name__ == "__main__":
    sys.exit(main())
