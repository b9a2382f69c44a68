"""Peak memory of training InfoGAN-CR on a Shapes3D-sized file, against the file's size.

Writes a synthetic file in the official ``3dshapes.h5`` layout (480,000 x 64 x
64 x 3 uint8, 5.9 GB; ``--sizes`` for a smaller grid), builds the
channel-first uint8 cache (``Shapes3D.images``), fits ``InfoGANCR`` for
``--max-iter`` iterations on it, and reports:

* the peak resident set (``VmHWM``), and its anonymous part (heap: arrays,
  tensors) sampled every 0.2 s, which is what the process itself holds;
* the file-backed part (pages of the memory map the kernel keeps resident;
  the OS may drop them at any time), at the end;
* the batch working set: one float32 batch of images (the estimator's
  batch size).

Run on quiet cores (the full run takes about 10 min for the file and the cache
and about 1 s per iteration on one CPU thread)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rss_shapes3d.py --max-iter 2000 \
        --workdir /tmp/rss_shapes3d

The script deletes the file and the cache at the end unless ``--keep``.
``--smoke`` (seconds) runs the whole script on a 2 x 2 x 2 x 2 x 2 x 2 grid
(64 images) for 2 iterations in ``./rss_shapes3d_smoke``.
"""

import argparse
import shutil
import threading
import time
from pathlib import Path

import numpy as np

OFFICIAL = (10, 10, 10, 8, 4, 15)


def status():
    """VmHWM, RssAnon and RssFile of this process, in bytes."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmHWM", "RssAnon", "RssFile", "VmRSS"):
            values[key] = int(rest.split()[0]) * 1024
    return values


class AnonPeak(threading.Thread):
    """Samples RssAnon every 0.2 s, keeps the largest, and logs it every ``every`` seconds."""

    def __init__(self, every=60.0):
        super().__init__(daemon=True)
        self.peak = 0
        self.running = True
        self.every = every

    def run(self):
        start = last = time.perf_counter()
        while self.running:
            self.peak = max(self.peak, status()["RssAnon"])
            if time.perf_counter() - last >= self.every:
                last = time.perf_counter()
                print(f"  {last - start:6.0f} s: anon RSS {status()['RssAnon'] / 2**20:.0f} MiB, "
                      f"peak so far {self.peak / 2**20:.0f} MiB", flush=True)
            time.sleep(0.2)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/rss_shapes3d"))
    parser.add_argument("--sizes", type=int, nargs=6, default=OFFICIAL)
    parser.add_argument("--max-iter", type=int, default=2000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: 64 images, 2 iterations, in ./rss_shapes3d_smoke")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.max_iter = (2,) * 6, 2
        args.workdir = Path("rss_shapes3d_smoke")

    import torch

    from disentangle import InfoGANCR
    from disentangle.datasets import Shapes3D
    from disentangle.datasets.synthetic import write_shapes3d

    torch.set_num_threads(1)
    args.workdir.mkdir(parents=True, exist_ok=True)
    path = args.workdir / "3dshapes.h5"
    start = time.perf_counter()
    if not path.exists():
        write_shapes3d(path, tuple(args.sizes))
    print(f"file {path}: {path.stat().st_size / 1e9:.2f} GB "
          f"(written in {time.perf_counter() - start:.0f} s)", flush=True)
    file_size = path.stat().st_size
    sampler = AnonPeak()
    sampler.start()
    try:
        start = time.perf_counter()
        data = Shapes3D(path, data_home=args.workdir / "home")
        images = data.images
        after_cache = status()
        print(f"cache {images.shape} {images.dtype} in {time.perf_counter() - start:.0f} s; "
              f"RSS now {after_cache['VmRSS'] / 2**20:.0f} MiB "
              f"(anon {after_cache['RssAnon'] / 2**20:.0f} MiB)", flush=True)
        model = InfoGANCR(max_iter=args.max_iter, random_state=0, device="cpu", verbose=0,
                          batch_size=32 if args.smoke else 64)
        before_fit = status()
        start = time.perf_counter()
        model.fit(images)
        seconds = time.perf_counter() - start
    finally:
        sampler.running = False
        sampler.join()
    end = status()
    batch = model.batch_size * int(np.prod(images.shape[1:])) * 4
    print(f"fit: {model.n_iter_} iterations in {seconds:.0f} s "
          f"({seconds / max(model.n_iter_, 1):.2f} s/iteration)")
    print(f"file size:                 {file_size / 2**20:10.0f} MiB")
    print(f"float32 batch ({model.batch_size} images):  {batch / 2**20:10.1f} MiB")
    print(f"anon RSS before fit:       {before_fit['RssAnon'] / 2**20:10.0f} MiB")
    print(f"peak anon RSS (sampled):   {sampler.peak / 2**20:10.0f} MiB")
    print(f"peak RSS (VmHWM):          {end['VmHWM'] / 2**20:10.0f} MiB "
          f"({end['VmHWM'] / file_size:.1%} of the file)")
    print(f"file-backed RSS at end:    {end['RssFile'] / 2**20:10.0f} MiB (page cache of the map)")
    if not args.keep:
        shutil.rmtree(args.workdir)


if __name__ == "__main__":
    main()
