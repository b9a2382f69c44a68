"""FactorVAE score of InfoGAN-CR against training minutes, on procedurally rendered dSprites.

Scores Q every ``--every`` iterations with the paper's FactorVAE protocol
(scoring time is excluded from the training clock) and prints a markdown table.

    python benchmarks/learning_curve.py --minutes 15 --every 250
    python benchmarks/learning_curve.py --minutes 15 --set info_weight=0.5 --set cr_start=0.5
    python benchmarks/learning_curve.py --max-iter 7000 --every 0 --at 3000 6251 7000 --minutes 60
    python benchmarks/learning_curve.py --smoke    # seconds: 4 iterations on 128 images
"""

import argparse
import ast
import time

import numpy as np
import torch
from skorch.callbacks import Callback

from disentangle import InfoGANCR
from disentangle.datasets import DSprites
from disentangle.metrics import factor_vae_score


class ScoreEvery(Callback):
    """Score Q every ``every`` iterations (0: never) and at the iterations in ``at``;
    stop after ``minutes`` of training time."""

    def __init__(self, dataset, every, minutes, seed, quiet=False, at=(), score_params=None):
        self.dataset, self.every, self.minutes, self.seed = dataset, every, minutes, seed
        self.quiet, self.at, self.score_params = quiet, set(at), score_params or {}
        self.rows = []

    def on_train_begin(self, net, **kwargs):
        self.clock, self.paused = time.perf_counter(), 0.0

    def _encode(self, net):
        def encode(obs):
            with torch.inference_mode():
                return net.discriminator_.eval().encode(torch.from_numpy(obs)).numpy()
        return encode

    def on_batch_end(self, net, **kwargs):
        if not (self.every and net.n_iter_ % self.every == 0 or net.n_iter_ in self.at):
            return
        start = time.perf_counter()
        minutes = (start - self.clock - self.paused) / 60
        score = factor_vae_score(self._encode(net), self.dataset, protocol="paper",
                                 random_state=self.seed, **self.score_params)
        self.paused += time.perf_counter() - start
        self.rows.append((net.n_iter_, minutes, net.cr_weight_, score))
        if not self.quiet:
            print(f"| {net.n_iter_} | {minutes:.1f} | {net.cr_weight_:g} | {score:.3f} |",
                  flush=True)
        if minutes >= self.minutes:
            raise KeyboardInterrupt  # skorch ends training cleanly on KeyboardInterrupt


#: Tiny settings of --smoke: the pipeline in seconds, scores meaningless.
SMOKE = {"n_images": 128, "max_iter": 4, "every": 2, "batch_size": 32,
         "score": {"n_train": 10, "batch_size": 10, "n_variance": 200}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=15)
    parser.add_argument("--every", type=int, default=250, help="score every N iterations (0: "
                        "only at --at)")
    parser.add_argument("--at", type=int, nargs="*", default=[], metavar="ITERATION",
                        help="also score after these iterations (e.g. the one before CR "
                             "switches on)")
    parser.add_argument("--max-iter", type=int, default=4000,
                        help="schedule length (fractions such as cr_start refer to it)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                        help="InfoGANCR parameter override, e.g. info_weight=0.5")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: 4 iterations on 128 images, scored twice with tiny votes")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    params = {k: ast.literal_eval(v) for k, v in (item.split("=", 1) for item in args.set)}
    dataset = DSprites()
    if args.smoke:
        args.max_iter, args.every = SMOKE["max_iter"], SMOKE["every"]
        params.setdefault("batch_size", SMOKE["batch_size"])
    recorder = ScoreEvery(dataset, args.every, args.minutes, args.seed, at=args.at,
                          score_params=SMOKE["score"] if args.smoke else None)
    model = InfoGANCR(max_iter=args.max_iter, random_state=args.seed,
                      callbacks=[("score", recorder)], **params)
    print(f"params: {params or 'paper defaults'}; torch threads: {torch.get_num_threads()}")
    print("| iteration | train minutes | alpha | FactorVAE score (paper protocol) |")
    print("|---|---|---|---|")
    model.fit(dataset.sample(SMOKE["n_images"], random_state=args.seed)[1] if args.smoke
              else dataset.images)
    best = max(recorder.rows, key=lambda row: row[3])
    print(f"best: {best[3]:.3f} at iteration {best[0]} ({best[1]:.1f} min); "
          f"final {recorder.rows[-1][3]:.3f}; mean of last 3: "
          f"{np.mean([r[3] for r in recorder.rows[-3:]]):.3f}")


if __name__ == "__main__":
    main()
