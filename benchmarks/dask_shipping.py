"""Bytes shipped to the similarity tasks of a pool of fitted InfoGAN-CR models under Dask.

Replays joblib's Dask-backend rule on the tasks that
:func:`disentangle.metrics.pairwise_similarity` builds, under a joblib backend
of its own (threads, recording each task's arguments): a top-level task
argument that is weak-referenceable and of Dask size above 1 kB is scattered
once (each worker then fetches it once); anything else is pickled into every
task. Prints the bytes pickled into the tasks and the bytes scattered, for a
pool of ``--models`` models and ``--workers`` workers (two tasks per worker).

    python benchmarks/dask_shipping.py                # 10 models, 2 workers
    python benchmarks/dask_shipping.py --smoke        # seconds: 3 models
"""

import argparse
import pickle
import warnings
import weakref

import numpy as np
from dask.sizeof import sizeof
from joblib import parallel_config
from joblib.parallel import ThreadingBackend

from disentangle import InfoGANCR
from disentangle.metrics import pairwise_similarity


class RecordingBackend(ThreadingBackend):
    """joblib's threading backend, counting what the Dask backend would ship for each task.

    Use it as any joblib backend (``joblib.parallel_config(backend=RecordingBackend(),
    n_jobs=2)``); nothing in the package is patched. Like joblib's Dask backend, it
    reads the arguments of each batch of tasks it is given (``BatchedCalls.items``).
    """

    def submit(self, func, callback=None):  # joblib >= 1.5 schedules a batch here
        _record(func)
        return super().submit(func, callback)

    def apply_async(self, func, callback=None):  # joblib < 1.5 (the oldest supported, 1.4)
        _record(func)
        return super().apply_async(func, callback)


def _record(batch):
    """Add what the Dask backend would ship for ``batch``'s task arguments to :data:`RECORD`."""
    for _, args, _ in batch.items:
        for arg in args:
            try:
                weakref.ref(arg)
                scatter = sizeof(arg) > 1e3
            except TypeError:
                scatter = False
            if scatter:
                RECORD["scattered"][id(arg)] = len(pickle.dumps(arg))
            else:
                RECORD["in_tasks"] += len(pickle.dumps(arg))


RECORD = {"in_tasks": 0, "scattered": {}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="seconds: 3 models")
    args = parser.parse_args(argv)
    if args.smoke:
        args.models = 3
    warnings.simplefilter("ignore")
    images = (np.random.RandomState(0).rand(64, 64, 64) > 0.8).astype(np.uint8)
    models = [InfoGANCR(max_iter=1, batch_size=32, device="cpu", random_state=seed).fit(images)
              for seed in range(args.models)]
    RECORD["in_tasks"], RECORD["scattered"] = 0, {}
    with parallel_config(backend=RecordingBackend(), n_jobs=args.workers):
        pairwise_similarity(models, random_state=0, similarity_params={
            "batch_size": 10, "votes_per_code": 2, "n_variance": 100})
    scattered = sum(RECORD["scattered"].values())
    print(f"{args.models} models of {len(pickle.dumps(models[0])) / 1e6:.1f} MB pickled, "
          f"{args.workers} workers ({2 * args.workers} similarity tasks): "
          f"{RECORD['in_tasks'] / 1e6:.3f} MB pickled into the tasks, "
          f"{scattered / 1e6:.1f} MB scattered once, at most "
          f"{args.workers * scattered / 1e6:.1f} MB fetched by the workers")


if __name__ == "__main__":
    main()
