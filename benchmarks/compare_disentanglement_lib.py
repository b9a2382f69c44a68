"""Run disentanglement_lib's metric code and ``disentangle.metrics`` side by side.

Both implementations score the same representation functions on the same
ground-truth dataset, for several seeds, with the ``unsupervised_study_v1``
metric configs of disentanglement_lib (read from its installed package), and
the script prints a markdown table:

* ``ours`` / ``theirs``: mean score over the seeds, each implementation
  drawing its own samples from ``RandomState(seed)``;
* ``|diff|``: the absolute difference of those means;
* ``same-sample |diff|``: the largest difference over the seeds when
  disentanglement_lib is fed exactly the observations ours drew (its dataset
  adapter replays them), which isolates the algorithm from the sampling. The
  β-VAE and FactorVAE scores pick the fixed factor with the random state
  itself, so they cannot replay (``n/a``). disentanglement_lib's boosted
  trees (DCI, downstream task) draw their seeds from numpy's global state,
  so they differ from ours on the same sample by the trees' randomness.

``--timing`` instead times both implementations side by side, alternating
calls in one process on the same representation, with 3,000 training and
1,500 test points for every metric on i.i.d. samples, and prints each
metric's seconds per call and the ratio ours / theirs.

disentanglement_lib is never a dependency of the project. Run this in a
throwaway virtual environment::

    python3 -m venv /tmp/dlib-venv
    /tmp/dlib-venv/bin/pip install --no-deps disentanglement-lib==1.5 gin-config==0.3.0
    /tmp/dlib-venv/bin/pip install absl-py six numpy scipy scikit-learn \
        torch==2.13.0 skorch matplotlib joblib
    /tmp/dlib-venv/bin/pip install --no-deps -e .
    /tmp/dlib-venv/bin/python benchmarks/compare_disentanglement_lib.py --seeds 5
    /tmp/dlib-venv/bin/python benchmarks/compare_disentanglement_lib.py --smoke  # seconds
    OMP_NUM_THREADS=1 /tmp/dlib-venv/bin/python benchmarks/compare_disentanglement_lib.py \
        --timing --repeats 5   # on an otherwise idle machine

(Or, with this project's virtual environment: ``pip install --target
/tmp/dlib-pkgs --no-deps disentanglement-lib==1.5 gin-config==0.3.0 six
absl-py`` and ``PYTHONPATH=/tmp/dlib-pkgs .venv/bin/python
benchmarks/compare_disentanglement_lib.py ...``.)

Its metric modules ``import gin.tf``, which would import TensorFlow; a stub
module stands in for it, created here at run time. gin-config 0.3.0 also
predates Python 3.10's removal of the ``collections`` aliases of
``collections.abc``, which are restored for it here.
"""

import argparse
import collections
import collections.abc
import os
import sys
import time
import types
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from disentangle import metrics
from disentangle.datasets import GroundTruthDataset

# The metric configs of disentanglement_lib/config/unsupervised_study_v1/metric_configs.
CONFIGS = ("beta_vae_sklearn", "factor_vae_metric", "mig", "dci", "sap_score",
           "modularity_explicitness", "unsupervised")


def load_disentanglement_lib(bindings):
    """Import disentanglement_lib's metric modules and parse its study configs.

    Parameters
    ----------
    bindings : list of str
        Extra gin bindings, applied after the config files.

    Returns
    -------
    modules : types.SimpleNamespace
        The metric modules, by name.
    """
    for name in collections.abc.__all__:
        if not hasattr(collections, name):
            setattr(collections, name, getattr(collections.abc, name))
    stub = types.ModuleType("gin.tf")
    stub.external_configurable = lambda *args, **kwargs: None
    sys.modules.setdefault("gin.tf", stub)
    import disentanglement_lib
    import gin
    from disentanglement_lib.evaluation.metrics import (
        beta_vae,
        dci,
        downstream_task,
        factor_vae,
        irs,
        mig,
        modularity_explicitness,
        sap_score,
        unsupervised_metrics,
        utils,
    )

    folder = os.path.join(os.path.dirname(disentanglement_lib.__file__), "config",
                          "unsupervised_study_v1", "metric_configs")
    files = [os.path.join(folder, f"{name}.gin") for name in CONFIGS]
    # irs.gin of the study (config/sample/irs/irs.gin in release 1.5); its discretizer
    # settings are mig.gin's. The downstream-task configs differ only in predictor_fn,
    # which is bound per call (downstream_task() below).
    irs_bindings = ["irs.num_train = 10000", "irs.batch_size = 16"]
    gin.parse_config_files_and_bindings(files, irs_bindings + bindings, skip_unknown=True)
    return types.SimpleNamespace(
        beta_vae=beta_vae, factor_vae=factor_vae, mig=mig, dci=dci, sap=sap_score,
        modularity_explicitness=modularity_explicitness, unsupervised=unsupervised_metrics,
        irs=irs, downstream_task=downstream_task, utils=utils, gin=gin)


class SyntheticDataset(GroundTruthDataset):
    """Five dSprites-like discrete factors; observation = factor values, then N(0, 1) noise."""

    factor_names = ("shape", "scale", "orientation", "pos_x", "pos_y")
    factor_sizes = (3, 6, 8, 5, 5)
    n_noise = 5
    observation_shape = (10,)

    def sample_observations_from_factors(self, factors, random_state=None):
        scale = np.maximum(np.array(self.factor_sizes) - 1, 1)
        values = np.asarray(factors, dtype=np.float32) / scale
        noise = random_state.normal(size=(len(values), self.n_noise)).astype(np.float32)
        return np.concatenate([values, noise], axis=1)


def representations():
    """Representation functions: observations (n, 10) -> codes (n, 10)."""
    mixing = np.random.RandomState(42).normal(size=(5, 5))

    def aligned(x):  # each factor in its own code, permuted, rescaled, slightly noisy
        return np.hstack([x[:, [2, 0, 4, 1, 3]] * [3, 1, 2, 5, 1] + 0.05 * x[:, 5:], x[:, 5:]])

    def entangled(x):  # a random nonlinear mixture of all factors, then noise codes
        return np.hstack([np.tanh((x[:, :5] - 0.5) @ mixing) + 0.1 * x[:, 5:], x[:, 5:]])

    def partial(x):  # shape and scale mixed, orientation twice, pos_y missing
        f = x[:, :5]
        return np.hstack([f[:, [0]] + f[:, [1]], f[:, [0]] - f[:, [1]], f[:, [2]],
                          f[:, [2]] ** 2 + 0.3 * x[:, 5:6], f[:, [3]], x[:, 5:]])

    return {"aligned": aligned, "entangled": entangled, "partial": partial}


class Recording(SyntheticDataset):
    """Records, in order, every (factors, observations) batch that a metric renders."""

    def __init__(self):
        self.factors, self.observations = [], []

    def sample_observations_from_factors(self, factors, random_state=None):
        observations = super().sample_observations_from_factors(factors, random_state)
        self.factors.append(np.array(factors))
        self.observations.append(observations)
        return observations


class Adapter:
    """disentanglement_lib's ``GroundTruthData`` interface over one of our datasets.

    With ``replay`` (a :class:`Recording`), ``sample_factors`` hands out the
    recorded factors in order, and ``sample_observations_from_factors`` their
    recorded observations, whatever the random state.
    """

    def __init__(self, dataset, replay=None):
        self.dataset = dataset
        if replay is not None:
            self.replay_factors = np.concatenate(replay.factors)
            self.replay_observations = np.concatenate(replay.observations)
        self.replay, self.cursor = replay is not None, 0

    @property
    def num_factors(self):
        return self.dataset.n_factors

    @property
    def factors_num_values(self):
        return list(self.dataset.factor_sizes)

    @property
    def observation_shape(self):
        return list(self.dataset.observation_shape)

    def sample_factors(self, num, random_state):
        if self.replay:
            return self.replay_factors[self.cursor:self.cursor + num].copy()
        return self.dataset.sample_factors(num, random_state)

    def sample_observations_from_factors(self, factors, random_state):
        if not self.replay:
            return self.dataset.sample_observations_from_factors(factors, random_state)
        rows = slice(self.cursor, self.cursor + len(factors))
        if not np.array_equal(factors, self.replay_factors[rows]):
            raise RuntimeError("disentanglement_lib asked for other factors than were recorded.")
        self.cursor += len(factors)
        return self.replay_observations[rows]

    def sample(self, num, random_state):
        factors = self.sample_factors(num, random_state)
        return factors, self.sample_observations_from_factors(factors, random_state)

    def sample_observations(self, num, random_state):
        return self.sample(num, random_state)[1]


def sizes_and_bindings(args):
    """Our keyword arguments per metric group, and the gin bindings giving theirs the same sizes.

    Default: the ``unsupervised_study_v1`` settings, but DCI at ``--dci-train`` /
    ``--dci-test`` and the downstream task at ``--downstream-sizes`` /
    ``--downstream-test``. ``--timing``: every metric defined on i.i.d. samples
    at ``--timing-train`` training and ``--timing-test`` test points (the
    β-VAE and FactorVAE scores, which draw groups, keep the study settings).
    """
    downstream = {"train_sizes": tuple(args.downstream_sizes), "n_test": args.downstream_test}
    ours = {"dci": {"n_train": args.dci_train, "n_test": args.dci_test},
            "downstream_task": downstream}
    bindings = [f"dci.num_train = {args.dci_train}", f"dci.num_test = {args.dci_test}"]
    if args.timing:
        n, t = args.timing_train, args.timing_test
        split = {"n_train": n, "n_test": t}
        jobs = {"n_jobs": args.n_jobs}
        ours = {"mig": {"n_train": n}, "dci": {**split, **jobs}, "sap": split,
                "explicitness": split, "modularity": {"n_train": n}, "irs": {"n_train": n},
                "gaussian_total_correlation": {"n_train": n},
                "downstream_task": {"train_sizes": (n,), "n_test": t, **jobs}}
        bindings = [f"{name}.num_train = {n}" for name in (
            "mig", "dci", "sap_score", "modularity_explicitness", "irs", "unsupervised_metrics")]
        bindings += [f"{name}.num_test = {t}" for name in (
            "dci", "sap_score", "modularity_explicitness")]
    return ours, bindings


def groups(dl, sizes):
    """(name, ours, theirs, replayable) for each group of compared quantities.

    ``ours(representation, dataset, seed)`` and ``theirs(adapter,
    representation, seed)`` return dicts {quantity: float} with the same
    keys, from one call of each implementation where it computes them
    together. ``replayable``: whether disentanglement_lib can be fed the
    observations ours drew (the β-VAE and FactorVAE scores draw the fixed
    factor from the random state itself). ``sizes``: our keyword arguments
    per metric (:func:`sizes_and_bindings`).
    """
    def ours_dci(rep, data, seed):
        _, d = metrics.dci_score(rep, data, random_state=seed, return_details=True,
                                 **sizes.get("dci", {}))
        return {"dci_score (disentanglement)": d["disentanglement"],
                "dci completeness": d["completeness"],
                "dci informativeness_test": d["informativeness_test"]}

    def theirs_dci(data, rep, seed):
        d = dl.dci.compute_dci(data, rep, np.random.RandomState(seed))
        return {"dci_score (disentanglement)": d["disentanglement"],
                "dci completeness": d["completeness"],
                "dci informativeness_test": d["informativeness_test"]}

    def ours_me(rep, data, seed):
        # The explicitness call draws the training then the test sample, as
        # disentanglement_lib does; modularity uses the same training sample.
        return {"explicitness_score": metrics.explicitness_score(
                    rep, data, random_state=seed, **sizes.get("explicitness", {})),
                "modularity_score": metrics.modularity_score(
                    rep, SyntheticDataset(), random_state=seed, **sizes.get("modularity", {}))}

    def theirs_me(data, rep, seed):
        d = dl.modularity_explicitness.compute_modularity_explicitness(
            data, rep, np.random.RandomState(seed))
        return {"explicitness_score": d["explicitness_score_test"],
                "modularity_score": d["modularity_score"]}

    def downstream(predictor, reference):
        options = sizes["downstream_task"]
        keys = [f"{size}:mean_test_accuracy" for size in options["train_sizes"]]

        def ours(rep, data, seed):
            _, d = metrics.downstream_task_score(rep, data, predictor=predictor,
                                                 random_state=seed, return_details=True,
                                                 **options)
            return {f"downstream {predictor} {key}": d[key] for key in keys}

        def theirs(data, rep, seed):
            with dl.gin.unlock_config():
                dl.gin.bind_parameter("predictor.predictor_fn", reference)
            d = dl.downstream_task.compute_downstream_task(
                data, rep, np.random.RandomState(seed), num_train=list(options["train_sizes"]),
                num_test=options["n_test"])
            return {f"downstream {predictor} {key}": d[key] for key in keys}

        return f"downstream_task {predictor}", ours, theirs, True

    def single(name, function, reference, key, group):
        return (name, lambda rep, data, seed: {
                    name: function(rep, data, random_state=seed, **sizes.get(group, {}))},
                lambda data, rep, seed: {
                    name: reference(data, rep, np.random.RandomState(seed))[key]})

    return [
        (*single("beta_vae_score", metrics.beta_vae_score,
                 dl.beta_vae.compute_beta_vae_sklearn, "eval_accuracy", "beta_vae"), False),
        (*single("factor_vae_score", metrics.factor_vae_score,
                 dl.factor_vae.compute_factor_vae, "eval_accuracy", "factor_vae"), False),
        (*single("mig_score", metrics.mig_score, dl.mig.compute_mig, "discrete_mig", "mig"),
         True),
        ("dci", ours_dci, theirs_dci, True),
        (*single("sap_score", metrics.sap_score, dl.sap.compute_sap, "SAP_score", "sap"), True),
        ("modularity_explicitness", ours_me, theirs_me, True),
        (*single("irs_score", metrics.irs_score, dl.irs.compute_irs, "IRS", "irs"), True),
        downstream("logistic_regression", dl.utils.logistic_regression_cv),
        downstream("boosted_trees", dl.utils.gradient_boosting_classifier),
        (*single("gaussian_total_correlation", metrics.gaussian_total_correlation,
                 dl.unsupervised.unsupervised_metrics, "gaussian_total_correlation",
                 "gaussian_total_correlation"), True),
    ]


def compare(ours, theirs, replayable, representation, seeds):
    """Per quantity: our scores, theirs, theirs on our samples (or None), and timings."""
    mine, ref, same, t_mine, t_ref = [], [], [], 0.0, 0.0
    for seed in seeds:
        recording = Recording()
        start = time.perf_counter()
        mine.append(ours(representation, recording, seed))
        mid = time.perf_counter()
        ref.append(theirs(Adapter(SyntheticDataset()), representation, seed))
        t_mine, t_ref = t_mine + mid - start, t_ref + time.perf_counter() - mid
        if replayable:
            replay = Adapter(SyntheticDataset(), recording)
            same.append(theirs(replay, representation, seed))
    n = len(seeds)
    return {key: ([m[key] for m in mine], [r[key] for r in ref],
                  [r[key] for r in same] if replayable else None, t_mine / n, t_ref / n)
            for key in mine[0]}


def timing(dl, sizes, args):
    """Print, per metric group, the median seconds a call of each side takes, and their ratio.

    The two sides alternate (ours, theirs, ours, ...) on the same representation
    and seed, ``--repeats`` times each, in this one process, so that both see
    the same machine load; run nothing else meanwhile.
    """
    rep = representations()[args.timing_representation]
    print(f"Seconds per call, median of {args.repeats}, on the {args.timing_representation!r} "
          f"representation: {args.timing_train} training / {args.timing_test} test points for "
          "every metric on i.i.d. samples (β-VAE and FactorVAE: study settings); our DCI and "
          f"downstream tasks with n_jobs={args.n_jobs}.\n")
    print("| metric | ours s/call | theirs s/call | ours / theirs |\n|---|---|---|---|")
    for name, ours, theirs, _ in groups(dl, sizes):
        if args.only and not any(name.startswith(prefix) for prefix in args.only):
            continue
        mine, ref = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            ours(rep, SyntheticDataset(), 0)
            mid = time.perf_counter()
            theirs(Adapter(SyntheticDataset()), rep, 0)
            mine.append(mid - start)
            ref.append(time.perf_counter() - mid)
        print(f"| {name} | {np.median(mine):.3f} | {np.median(ref):.3f} | "
              f"{np.median(mine) / np.median(ref):.2f} |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0 .. SEEDS - 1")
    parser.add_argument("--dci-seeds", type=int, default=3,
                        help="seeds for DCI and the downstream tasks, whose classifiers "
                        "dominate the run time")
    parser.add_argument("--dci-train", type=int, default=2000,
                        help="dci num_train for both (the study's 10,000 takes minutes a call)")
    parser.add_argument("--dci-test", type=int, default=1000, help="dci num_test for both")
    parser.add_argument("--downstream-sizes", type=int, nargs="+", default=[10, 100, 1000],
                        help="downstream_task num_train for both (the study adds 10,000)")
    parser.add_argument("--downstream-test", type=int, default=1000,
                        help="downstream_task num_test for both (the study's is 5,000)")
    parser.add_argument("--only", nargs="*", help="compare only these groups (name prefixes)")
    parser.add_argument("--edge-cases", action="store_true",
                        help="instead, show both implementations on inputs that break the "
                        "references (one seed)")
    parser.add_argument("--timing", action="store_true",
                        help="instead, time both implementations side by side")
    parser.add_argument("--timing-train", type=int, default=3000)
    parser.add_argument("--timing-test", type=int, default=1500)
    parser.add_argument("--timing-representation", default="entangled",
                        choices=sorted(representations()))
    parser.add_argument("--repeats", type=int, default=5, help="calls per side with --timing")
    parser.add_argument("--n-jobs", type=int, default=None,
                        help="with --timing, our DCI and downstream tasks fit their per-factor "
                        "classifiers on this many cores (the values do not change)")
    parser.add_argument("--smoke", action="store_true",
                        help="seconds: one seed, DCI on 200 / 100 samples, downstream on "
                        "10 and 100 / 100")
    args = parser.parse_args(argv)
    if args.smoke:
        args.seeds, args.dci_seeds, args.dci_train, args.dci_test = 1, 1, 200, 100
        args.downstream_sizes, args.downstream_test = [10, 100], 100
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    sizes, bindings = sizes_and_bindings(args)
    dl = load_disentanglement_lib(bindings)
    if args.timing:
        return timing(dl, sizes, args)
    if args.edge_cases:
        return edge_cases(dl, sizes)
    table = []
    for name, ours, theirs, replayable in groups(dl, sizes):
        if args.only and not any(name.startswith(prefix) for prefix in args.only):
            continue
        few = name == "dci" or name.startswith("downstream")
        seeds = range(args.dci_seeds if few else args.seeds)
        for rep_name, rep in representations().items():
            for key, values in compare(ours, theirs, replayable, rep, seeds).items():
                table.append((key, rep_name, len(seeds), *values))
            print(f"# {name} / {rep_name}: done", file=sys.stderr, flush=True)
    print(f"dci at num_train={args.dci_train}, num_test={args.dci_test} and the downstream "
          f"tasks at num_train={args.downstream_sizes}, num_test={args.downstream_test} on both "
          "sides; every other metric at the unsupervised_study_v1 settings.\n")
    print("| metric | representation | seeds | ours mean | theirs mean | \\|diff\\| | "
          "theirs sd | same-sample max \\|diff\\| | ours s/call | theirs s/call |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for key, rep, n, mine, ref, same, t_mine, t_ref in sorted(table, key=_order):
        gap = "n/a" if same is None else f"{np.max(np.abs(np.subtract(mine, same))):.2g}"
        print(f"| {key} | {rep} | {n} | {np.mean(mine):.4f} | {np.mean(ref):.4f} | "
              f"{abs(np.mean(mine) - np.mean(ref)):.4f} | {np.std(ref):.4f} | {gap} | "
              f"{t_mine:.2f} | {t_ref:.2f} |")


def _order(row):
    """Table rows grouped by quantity, in the order they were computed."""
    return row[0]


class ConstantFactorDataset(SyntheticDataset):
    """The synthetic dataset with a first factor of a single value, like dSprites' color."""

    factor_names = ("color", "shape", "scale", "orientation", "pos_x")
    factor_sizes = (1, 3, 6, 8, 5)


def edge_cases(dl, sizes):
    """Print what each implementation returns on inputs that break the references."""
    aligned = representations()["aligned"]

    def nan_codes(x):
        codes = aligned(x)
        codes[0, 0] = np.nan
        return codes

    cases = {
        "collapsed code": (SyntheticDataset(),
                           lambda x: np.hstack([aligned(x), np.zeros((len(x), 1))])),
        "single code": (SyntheticDataset(), lambda x: aligned(x)[:, :1]),
        "single-valued factor": (ConstantFactorDataset(), aligned),
        "NaN code": (SyntheticDataset(), nan_codes),
    }
    print("\n| case | metric | theirs | ours |\n|---|---|---|---|")
    for case, (dataset, rep) in cases.items():
        for name, ours, theirs, _ in groups(dl, sizes):
            mine, ref = _outcome(ours, rep, dataset), _outcome(theirs, Adapter(dataset), rep)
            for key in sorted((set(mine) | set(ref)) - {"*"}) or [name]:
                print(f"| {case} | {key} | {ref.get(key, ref.get('*'))} | "
                      f"{mine.get(key, mine.get('*'))} |", flush=True)


def _outcome(function, first, second):
    """{quantity: rounded value} or {"*": the exception's type and message, shortened}."""
    try:
        with np.errstate(all="ignore"):
            return {key: f"{value:.4f}" for key, value in function(first, second, 0).items()}
    except Exception as error:  # noqa: BLE001 - reporting how the reference fails
        return {"*": f"{type(error).__name__}: {str(error).splitlines()[0][:70]}"}


if __name__ == "__main__":
    main()
