"""Peak memory of a 2-worker ModelCentralitySelector on the dSprites memmap, summed over processes.

Fits ``ModelCentralitySelector(InfoGANCR(max_iter=...), {"random_state": [0, 1]},
n_jobs=2)`` on ``DSprites().images`` (737,280 x 64 x 64 uint8, 2.81 GiB,
memory-mapped: rendered once into ``$DISENTANGLE_DATA`` or
``~/.cache/disentangle``), while a thread samples, every 0.1 s, the resident
set (``VmRSS``) and proportional set (``Pss``, shared pages split between
the processes that map them) of this process and of every descendant (the
joblib workers). It reports the peaks of the sums against the data's size:
the selector should not make each worker read the whole array (issue 29:
at most 1.5 times the data summed over the tree).

The fits are short (``--max-iter``, default 2) and the similarity cheap: the
measure is of the data, not of training. Memory, not time: the numbers do not
depend on other load on the machine::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rss_selector.py

``--smoke`` (seconds) runs the same on a 4,096-image memmap written to a
temporary folder.
"""

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def descendants(pid):
    """``pid`` and every process below it, from the parent ids in ``/proc/*/stat``."""
    children = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, stack = [], [pid]
    while stack:
        current = stack.pop()
        tree.append(current)
        stack.extend(children.get(current, []))
    return tree


def memory(pid):
    """``(VmRSS, Pss)`` of one process in bytes; zeros if it ended meanwhile."""
    try:
        rss = next(int(line.split()[1]) for line in
                   Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS:"))
        pss = next(int(line.split()[1]) for line in
                   Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
                   if line.startswith("Pss:"))
    except (OSError, StopIteration):
        return 0, 0
    return rss * 1024, pss * 1024


class TreePeak(threading.Thread):
    """Samples the summed RSS and PSS of this process tree every ``every`` seconds."""

    def __init__(self, every=0.1):
        super().__init__(daemon=True)
        self.every = every
        self.running = True
        self.peak_rss = self.peak_pss = self.most_processes = 0
        self.per_process = {}  # pid: peak RSS

    def run(self):
        while self.running:
            tree = descendants(os.getpid())
            usage = {pid: memory(pid) for pid in tree}
            for pid, (rss, _) in usage.items():
                self.per_process[pid] = max(self.per_process.get(pid, 0), rss)
            rss, pss = np.sum(list(usage.values()), axis=0)
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.most_processes = max(self.most_processes, len(tree))
            time.sleep(self.every)


def smoke_images(folder):
    """A 4,096-image binary uint8 memmap saved in ``folder``."""
    images = (np.random.RandomState(0).rand(4096, 64, 64) > 0.8).astype(np.uint8)
    np.save(folder / "images.npy", images)
    return np.load(folder / "images.npy", mmap_mode="r")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-iter", type=int, default=2)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: a 4,096-image memmap instead of dSprites")
    args = parser.parse_args(argv)

    from disentangle import InfoGANCR, ModelCentralitySelector
    from disentangle.datasets import DSprites

    with tempfile.TemporaryDirectory() as folder:
        images = smoke_images(Path(folder)) if args.smoke else DSprites().images
        selector = ModelCentralitySelector(
            InfoGANCR(n_codes=5, max_iter=args.max_iter, batch_size=64, device="cpu"),
            {"random_state": [0, 1]}, n_jobs=args.n_jobs, random_state=0,
            similarity_params={"protocol": "fast", "votes_per_code": 2, "n_variance": 200})
        sampler = TreePeak()
        sampler.start()
        start = time.perf_counter()
        try:
            selector.fit(images)
        finally:
            sampler.running = False
            sampler.join()
        data = images.nbytes
        print(f"data: {images.shape} {images.dtype}, {data / 2**30:.2f} GiB")
        print(f"selector fit ({args.n_jobs} workers, max_iter={args.max_iter}) in "
              f"{time.perf_counter() - start:.0f} s, up to {sampler.most_processes} processes")
        print(f"peak summed RSS: {sampler.peak_rss / 2**30:.2f} GiB "
              f"({sampler.peak_rss / data:.2f} x the data)")
        print(f"peak summed PSS: {sampler.peak_pss / 2**30:.2f} GiB "
              f"({sampler.peak_pss / data:.2f} x the data)")
        peaks = ", ".join(f"{rss / 2**30:.2f}" for rss in sorted(sampler.per_process.values(),
                                                                  reverse=True) if rss)
        print(f"peak RSS of each process (GiB, this one first or not): {peaks}")
        return sampler.peak_rss / data


if __name__ == "__main__":
    main()
