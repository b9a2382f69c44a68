"""The paper's headline on dSprites in resumable runs: Tables 1 and 3, InfoGAN-CR rows.

Trains a pool of ``InfoGANCR.from_preset("paper")`` models (the full 322,560-
iteration schedule), InfoGAN-CR and InfoGAN without CR (``cr_weight=0``),
``--seeds`` seeds each, until a wall-clock ``--deadline``; a later run with the
same ``--out`` resumes every model from its checkpoint, so the schedule can
be reached over several runs. Step by step:

1. times each fast path of the training step (``fast_path``: ``"auto"``,
   what the device runs natively, first, then bf16 autocast, channels-last,
   ``torch.compile``, CUDA graphs on a GPU) for
   ``--probe-seconds`` each, on the first phase of the schedule (89 % of
   it), and trains with the fastest;
2. trains the models side by side, ``--jobs`` processes at a time (on one
   GPU, several seeds share the device), each writing its checkpoint to
   ``--out/<model>/checkpoint.pt`` every ``--checkpoint-minutes`` and when
   the deadline stops it;
3. writes a compact copy of each checkpoint to ``--ship`` (weights and Adam
   states in bfloat16, or float32 with ``--ship-dtype float32`` for a
   bit-exact resumption; the per-iteration history dropped; xz-compressed:
   about 4 MB a model in bfloat16), a folder meant to be committed, with a
   sha256 per file: a run on a fresh machine resumes from it when ``--out``
   has no checkpoint;
4. scores every model that finished the schedule with the paper's protocol
   (FactorVAE score, DCI, SAP, MIG, beta-VAE score; ``--out/<model>/scores.json``)
   and, for each finished InfoGAN-CR model, writes ``--ship/<model>.pretrained.xz``
   (:func:`disentangle.pretrained.pack_pretrained`) and prints the entry that makes
   it the package's pretrained model (``disentangle.pretrained.MODELS``);
5. when two or more InfoGAN-CR models have finished, picks one with
   ModelCentrality and one with UDR (Lasso) and prints the rows of the
   paper's Tables 1 and 3 beside the paper's numbers.

On a GPU machine with no network (the offline install, the deadline and the file
limits of such a visit), ``benchmarks/gpu_run.sh`` is the one command: it checks the
versions, runs the CUDA tests, times the fast paths, then runs this script with
``--fast-path`` (the fastest), ``--resume-from benchmarks/checkpoints`` (the compact
checkpoints committed by the visit before) and ``--ship`` into its output folder.
Run alone, on one H200 (after ``make TORCH=torch install``)::

    .venv/bin/python benchmarks/reproduce.py --device cuda --deadline 480 --seeds 5 \\
        --out "$OUT/reproduce" --ship "$OUT/checkpoints" --resume-from benchmarks/checkpoints

(training stops 8 minutes after the start; writing the compact checkpoints takes the
rest; then commit ``$OUT/checkpoints`` as ``benchmarks/checkpoints``: the 322,560
iterations take several such runs, and models are scored in the run that finishes
them). Last, the pace table (``--out/pace.md``): per model the iterations reached,
this run's iterations/s and the hours left at that pace, and the wall time left to
the whole schedule. ``--smoke`` runs every
step on a CPU in seconds (a 6-iteration schedule on 256 images, tiny metric
settings): the test suite runs it.
"""

import argparse
import hashlib
import io
import json
import lzma
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed
from skorch.callbacks import Callback

from disentangle import InfoGANCR
from disentangle.checkpoints import CHECKPOINT_FILE, load_checkpoint
from disentangle.datasets import DSprites
from disentangle.devices import check_fast_path, keep_freed_memory, resolve_device
from disentangle.metrics import beta_vae_score, dci_score, factor_vae_score, mig_score, sap_score
from disentangle.pretrained import pack_pretrained
from disentangle.selection import model_centrality

#: The pools: name -> parameters over the paper preset.
POOLS = {"InfoGAN-CR": {}, "InfoGAN (no CR)": {"cr_weight": 0.0}}
#: The paper's numbers (its Tables 1 and 3: fjxmlzn/InfoGAN-CR results/Table1.png and
#: results/Table3.png; FactorVAE score, DCI, SAP, MIG, beta-VAE score).
PAPER = {
    "InfoGAN (no CR)": (0.82, 0.60, 0.41, 0.22, 0.87),
    "InfoGAN-CR": (0.88, 0.71, 0.58, 0.37, 0.95),
    "InfoGAN-CR pool + ModelCentrality": (0.92, 0.77, 0.65, 0.45, 0.99),
    "InfoGAN-CR pool + UDR (Lasso)": (0.86, 0.68, 0.49, 0.30, 0.92),
}
METRICS = {"FactorVAE": factor_vae_score, "DCI": dci_score, "SAP": sap_score, "MIG": mig_score,
           "beta-VAE": beta_vae_score}
#: Fast paths timed: single paths, then all of them together.
CANDIDATES = {"cpu": ["auto", None, "bf16", "channels_last", "compile",
                      ["bf16", "channels_last", "compile"]],
              "cuda": ["auto", None, "bf16", "channels_last", "cuda_graphs",
                       ["bf16", "channels_last", "cuda_graphs"]]}
#: The settings of --smoke: schedule, metrics and similarities in seconds.
SMOKE = {
    "preset": {"max_iter": 6, "batch_size": 16},
    "metrics": {"FactorVAE": {"n_train": 10, "batch_size": 20, "n_variance": 200},
                "DCI": {"n_train": 100}, "SAP": {"n_train": 100}, "MIG": {"n_train": 100},
                "beta-VAE": {"n_train": 20, "batch_size": 8}},
    "centrality": {"batch_size": 20, "votes_per_code": 3, "n_variance": 200},
    "udr": {"n_samples": 100},
    "candidates": [None, "bf16", "channels_last"],  # compiling takes minutes on a CPU
}
FULL = {"preset": {}, "metrics": {name: {} for name in METRICS}, "centrality": {},
        "udr": {"n_samples": 10_000}, "candidates": None}


class Deadline(Callback):
    """End training cleanly (a last checkpoint) once ``time.time()`` passes ``at``."""

    def __init__(self, at):
        self.at = at

    def on_batch_end(self, net, **kwargs):
        if time.time() >= self.at:
            raise KeyboardInterrupt  # skorch ends training and runs on_train_end


class PaceClock(Callback):
    """Stamp the end of every iteration; stop ``seconds`` after the first one (and after at
    least 6 iterations)."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.stamps = []

    def on_batch_end(self, net, **kwargs):
        self.stamps.append(time.perf_counter())
        if len(self.stamps) >= 6 and self.stamps[-1] - self.stamps[0] >= self.seconds:
            raise KeyboardInterrupt

    def pace(self):
        """Iterations per second: the median iteration after the first two (compilation)."""
        durations = np.diff(self.stamps[2:])
        return 1.0 / float(np.median(durations)) if len(durations) else 0.0


def model_names(seeds):
    """(folder name, pool, seed) of every model of the pools."""
    return [(f"{'infogan_cr' if pool == 'InfoGAN-CR' else 'infogan'}_seed{seed}", pool, seed)
            for pool in POOLS for seed in range(seeds)]


def make_model(pool, seed, settings, device, **params):
    """A model of ``pool``: the paper preset, the mode's settings, then ``params``."""
    return InfoGANCR.from_preset("paper", **{**POOLS[pool], **settings["preset"], **params},
                                 random_state=seed, device=device)


def pick_fast_path(images, settings, device, seconds):
    """Time each candidate fast path; the fastest (None: the default step) and all paces."""
    paces, candidates = {}, settings["candidates"] or CANDIDATES[torch.device(device).type]
    for candidate in candidates:
        clock = PaceClock(seconds)
        model = make_model("InfoGAN-CR", 0, settings, device, fast_path=candidate,
                           callbacks=[("pace", clock)], max_iter=10**6)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "training stopped at iteration ..."
                model.fit(images)
        except Exception as error:  # a path this build or device cannot run
            print(f"fast path {candidate}: failed ({type(error).__name__}: {error})")
            continue
        paces[str(candidate)] = clock.pace()
        print(f"fast path {candidate}: {paces[str(candidate)]:.2f} iterations/s", flush=True)
    best = max(paces, key=paces.get)
    return next(c for c in candidates if str(c) == best), paces


def cast_floats(tree, source, target):
    """``tree`` (dicts, lists) with its ``source``-dtype tensors of 1 or more dims as ``target``
    (0-d tensors, such as Adam's step counts, keep their dtype)."""
    if isinstance(tree, dict):
        return {key: cast_floats(value, source, target) for key, value in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(cast_floats(value, source, target) for value in tree)
    if isinstance(tree, torch.Tensor) and tree.dtype == source and tree.dim() > 0:
        return tree.to(target)
    return tree


def compact(snapshot, dtype):
    """A checkpoint with weights and Adam states as ``dtype``, without its per-iteration
    history (the last row of each pass stays), xz-compressed."""
    history = json.loads(snapshot["net"]["history"])
    for row in history:
        row["batches"] = row["batches"][-1:]
    net = cast_floats({**snapshot["net"], "history": json.dumps(history)}, torch.float32, dtype)
    buffer = io.BytesIO()
    torch.save({**snapshot, "net": net}, buffer)
    return lzma.compress(buffer.getvalue(), preset=6)


def ship(out, ship_dir, name, dtype):
    """Write ``ship_dir/<name>.pt.xz`` and its sha256 from ``out/<name>``'s checkpoint."""
    data = compact(load_checkpoint(out / name / CHECKPOINT_FILE, "cpu"), dtype)
    ship_dir.mkdir(parents=True, exist_ok=True)
    (ship_dir / f"{name}.pt.xz").write_bytes(data)
    (ship_dir / f"{name}.sha256").write_text(hashlib.sha256(data).hexdigest() + "\n")


def unship(out, ship_dir, name):
    """Restore ``out/<name>``'s checkpoint from a shipped one (checksum checked); True if done."""
    path = None if ship_dir is None else ship_dir / f"{name}.pt.xz"
    target = out / name / CHECKPOINT_FILE
    if target.exists() or path is None or not path.exists():
        return False
    data = path.read_bytes()
    expected = (ship_dir / f"{name}.sha256").read_text().split()[0]
    if hashlib.sha256(data).hexdigest() != expected:
        raise ValueError(f"{path} does not match its checksum: corrupted, not resumed.")
    snapshot = torch.load(io.BytesIO(lzma.decompress(data)), weights_only=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save({**snapshot, "net": cast_floats(snapshot["net"], torch.bfloat16, torch.float32)},
               target)
    return True


def train(name, pool, seed, args, settings, fast_path, every):
    """Train one model until it finishes or the deadline; score it when it finishes."""
    if args.jobs > 1 and torch.device(args.device).type == "cpu":  # a process of its own
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // args.jobs))
    keep_freed_memory()
    dataset, images = load_data(args)
    unship(args.out, args.resume_from or args.ship, name)
    checkpoint = args.out / name / CHECKPOINT_FILE
    first = (load_checkpoint(checkpoint, "cpu")["net"]["counters"]["n_iter"]
             if checkpoint.exists() else 0)
    model = make_model(pool, seed, settings, args.device, fast_path=fast_path,
                       checkpoint_dir=args.out / name, checkpoint_every=every, warm_start=True,
                       callbacks=[("deadline", Deadline(args.deadline_at))])
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "training stopped at iteration ..." at the deadline
        model.fit(images)
    seconds = time.perf_counter() - start
    if args.ship is not None:
        ship(args.out, args.ship, name, getattr(torch, args.ship_dtype))
    scores_path = args.out / name / "scores.json"
    done = model.n_iter_ >= model.max_iter_
    if done and not scores_path.exists():
        scores = score(model, dataset, settings)
        scores_path.write_text(json.dumps(scores))
    if done and args.ship is not None and pool == "InfoGAN-CR":
        export_pretrained(name, seed, args, settings, images, json.loads(scores_path.read_text()))
    print(f"{name}: iteration {model.n_iter_:,} of {model.max_iter_:,} ({seconds:.0f} s this run"
          f"{', finished' if done else ''})", flush=True)
    return {"model": name, "start": first, "reached": model.n_iter_, "total": model.max_iter_,
            "seconds": seconds}


def pace_table(progress, jobs):
    """Markdown: per model the iterations reached, this run's pace, and the hours left at that
    pace; last, the wall time left to the whole schedule with ``jobs`` models at a time (the
    longest model, or all models' hours over ``jobs``, whichever is more)."""
    lines = ["| model | iterations reached | of | this run | iterations/s | hours left |",
             "|---|---|---|---|---|---|"]
    hours = []
    for row in progress:
        trained, left = row["reached"] - row["start"], row["total"] - row["reached"]
        pace = trained / row["seconds"] if row["seconds"] > 0 else 0.0
        hours.append(0.0 if left == 0 else left / pace / 3600 if pace > 0 else np.inf)
        lines.append(f"| {row['model']} | {row['reached']:,} | {row['total']:,} | {trained:,} | "
                     f"{pace:.2f} | {hours[-1]:.2f} |")
    wall = max(max(hours), sum(hours) / jobs)
    done = sum(row["reached"] >= row["total"] for row in progress)
    reached = sum(row["reached"] for row in progress) / sum(row["total"] for row in progress)
    lines.append(f"\n{done} of {len(progress)} models finished; {reached:.1%} of the pools' "
                 f"schedules reached; wall time left to the full schedule at this pace "
                 f"({jobs} at a time): {wall:.2f} h")
    return "\n".join(lines)


def export_pretrained(name, seed, args, settings, images, scores):
    """Write ``--ship/<name>.pretrained.xz`` (:func:`disentangle.pretrained.pack_pretrained`)
    from a finished model's checkpoint and print its :data:`disentangle.pretrained.MODELS`
    entry: the package's pretrained model once committed."""
    model = make_model("InfoGAN-CR", seed, settings, args.device, checkpoint_dir=args.out / name,
                       warm_start=True).fit(images)  # no training: the plain fitted model
    file = f"{name}.pretrained.xz"
    digest = pack_pretrained(model, args.ship / file)
    paper = dict(zip(METRICS, PAPER["InfoGAN-CR"], strict=True))
    print(f"{name} finished: copy {args.ship / file} to disentangle/pretrained_models/ and add "
          f"to disentangle.pretrained.MODELS:\n    \"infogan_cr_dsprites_seed{seed}\": "
          f"PretrainedModel(file={file!r}, sha256={digest!r}, dataset=\"dsprites\", "
          f"iterations={model.n_iter_}, scores={scores!r}, paper={paper!r}, "
          f"description=\"InfoGANCR.from_preset('paper', random_state={seed}), "
          f"benchmarks/reproduce.py\"),", flush=True)


def score(model, dataset, settings):
    """The paper's protocol for every metric of Table 1."""
    return {name: float(np.mean(metric(model, dataset, protocol="paper", random_state=0,
                                       **settings["metrics"][name])))
            for name, metric in METRICS.items()}


def load_data(args):
    """The dataset and its training images (``--smoke``: 256 images sampled from it)."""
    dataset = DSprites(path=args.data)
    if not args.smoke:
        return dataset, dataset.images
    factors = dataset.sample_factors(256, random_state=0)
    return dataset, dataset.sample_observations_from_factors(factors)[:, 0].astype(np.uint8)


def finished_models(args, settings, pool):
    """The fitted models of ``pool`` that finished, from their checkpoints (no training)."""
    _, images = load_data(args)
    models, rows = [], []
    for name, model_pool, seed in model_names(args.seeds):
        scores_path = args.out / name / "scores.json"
        if model_pool != pool or not scores_path.exists():
            continue
        model = make_model(pool, seed, settings, args.device, checkpoint_dir=args.out / name,
                           warm_start=True)
        models.append(model.fit(images))
        rows.append(json.loads(scores_path.read_text()))
    return models, rows


def tables(args, settings):
    """Rows of Tables 1 and 3 (mean ± std over seeds; the picks) beside the paper's numbers."""
    lines = ["| row | " + " | ".join(METRICS) + " | models |", "|---" * (len(METRICS) + 2) + "|"]

    def line(label, values, n):
        cells = [f"{v} (paper {p:.2f})" for v, p in zip(values, PAPER[label], strict=True)]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {n} |")

    pools = {pool: finished_models(args, settings, pool) for pool in POOLS}
    for pool, (_, rows) in pools.items():
        if rows:
            columns = np.array([[row[name] for name in METRICS] for row in rows])
            line(pool, [f"{m:.2f} ± {s:.2f}" for m, s in zip(columns.mean(0), columns.std(0),
                                                              strict=True)], len(rows))
    models, rows = pools["InfoGAN-CR"]
    if len(models) >= 2:
        _, images = load_data(args)
        picks = {
            "ModelCentrality": model_centrality(models, similarity_params=settings["centrality"],
                                                random_state=0)[0],
            "UDR (Lasso)": model_centrality(models, images, similarity="udr_lasso",
                                            similarity_params=settings["udr"],
                                            random_state=0)[0],
        }
        for selector, centrality in picks.items():
            row = rows[int(np.argmax(centrality))]
            line(f"InfoGAN-CR pool + {selector}", [f"{row[name]:.2f}" for name in METRICS],
                 len(models))
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("reproduce_output"),
                        help="checkpoints and scores; a later run resumes from them")
    parser.add_argument("--ship", type=Path, default=None,
                        help="folder of compact checkpoints to commit (e.g. benchmarks/"
                             "checkpoints); resumed from when --out has none")
    parser.add_argument("--ship-dtype", choices=["bfloat16", "float32"], default="bfloat16",
                        help="weights and Adam states in --ship: bfloat16 (default, about 4 MB a "
                             "model; a resumed run is then not bit for bit the uninterrupted "
                             "one) or float32 (about 8.5 MB, exact)")
    parser.add_argument("--deadline", type=float, default=480.0, metavar="SECONDS",
                        help="training stops this long after the start (default: %(default)s)")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per pool")
    parser.add_argument("--jobs", type=int, default=None,
                        help="models trained side by side (default: all of them on a GPU, "
                             "the number of cores on a CPU)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--fast-path", nargs="*", default=None,
                        help="skip the timing and use these fast paths (none: the default step; "
                             "auto: what the device runs natively)")
    parser.add_argument("--pace", type=float, default=1.0, metavar="ITERATIONS_PER_SECOND",
                        help="one model's pace, for the checkpoint interval where --fast-path "
                             "skips the timing (default: %(default)s)")
    parser.add_argument("--resume-from", type=Path, default=None,
                        help="compact checkpoints to resume from where --out has none "
                             "(default: --ship)")
    parser.add_argument("--probe-seconds", type=float, default=5.0,
                        help="timing of each fast path (default: %(default)s)")
    parser.add_argument("--checkpoint-minutes", type=float, default=3.0)
    parser.add_argument("--data", default=None, help="official dSprites npz (default: rendered)")
    parser.add_argument("--smoke", action="store_true",
                        help="a 6-iteration schedule on 256 images, tiny metrics: seconds on a CPU")
    args = parser.parse_args(argv)
    args.device = str(resolve_device(args.device))
    if args.jobs is None:
        n_models = 2 * args.seeds
        args.jobs = n_models if args.device.startswith("cuda") else min(n_models,
                                                                         os.cpu_count() or 1)
    return args


def main(argv=None):
    start = time.time()
    args = parse_args(argv)
    args.deadline_at = start + args.deadline
    settings = SMOKE if args.smoke else FULL
    keep_freed_memory()
    _, images = load_data(args)
    if args.fast_path is None:
        fast_path, paces = pick_fast_path(images, settings, args.device, args.probe_seconds)
    else:
        named = "auto" if args.fast_path == ["auto"] else args.fast_path
        fast_path = check_fast_path(named, torch.device(args.device)) or None
        paces = {}
    pace = paces.get(str(fast_path), args.pace)
    every = max(1, int(pace * 60 * args.checkpoint_minutes / args.jobs))
    print(f"training with fast_path={fast_path}, a checkpoint every {every:,} iterations, "
          f"{args.jobs} models at a time, until {args.deadline:.0f} s after the start",
          flush=True)
    progress = Parallel(n_jobs=args.jobs)(
        delayed(train)(name, pool, seed, args, settings, fast_path, every)
        for name, pool, seed in model_names(args.seeds))
    print(f"\n{time.time() - start:.0f} s\n")
    print(tables(args, settings))
    (args.out / "progress.json").write_text(json.dumps(
        {"fast_path": fast_path, "paces": paces, "models": progress}, indent=1))
    table = pace_table(progress, args.jobs)
    (args.out / "pace.md").write_text(table + "\n")
    print(f"\n{table}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
