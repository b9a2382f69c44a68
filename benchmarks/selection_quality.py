"""Does ModelCentrality pick good models? Pools with a real spread of quality, on dSprites.

For each pool the script trains every model (or loads it from ``--out``),
scores it against the ground truth (FactorVAE score with the paper protocol,
MIG, DCI), computes the pairwise similarity matrix of every label-free
selector (ModelCentrality under each similarity protocol of ``--protocols``,
UDR with Lasso), and compares the selectors:

* the Spearman rho between centrality and the ground-truth FactorVAE score, with
  a bootstrap 95 % confidence interval (models resampled with replacement);
* the ground-truth score of the ModelCentrality pick, the UDR (Lasso) pick, a
  random pick (the pool mean: its expected value), the pool median and the
  oracle (the best model, which needs the labels);
* over every sub-pool of 5 models (or ``--n-subpools`` random ones when there
  are more): the fraction where the ModelCentrality pick scores at or above the
  sub-pool's median, and the mean regret (oracle minus pick) of ModelCentrality
  and of UDR. A sub-pool's centralities come from the full pairwise matrices
  restricted to its models, exactly what a selector fitted on it would compute;
* for every cheaper similarity protocol: whether it picks the same medoid as the
  paper protocol and the Kendall tau between the two centrality vectors, on the
  full pools and their sub-pools (issue: "agrees" means the same medoid and
  tau >= 0.9).

Everything is resumable: models are saved as ``OUT/POOL/model_K.joblib`` as soon
as they are trained, ground-truth scores go to ``OUT/models.csv`` and pairwise
matrices to ``OUT/pairwise.csv``, a ModelCentrality matrix column by column
(the paper protocol's take hours on a CPU); a rerun skips what is there.
``--report-only`` rebuilds the tables and the scatter plot
(``OUT/selection_quality.png``: centrality against ground truth, the pick
marked) from the two CSV files alone, without torch work.

The pools of the issue (paper: Lin et al., ICML 2020, Sec. 5 and Table 3):

* ``factor_vae``: ``VAE(objective="factor")``, gamma in {1, 10, 40} x 4 seeds;
* ``beta_vae``: ``VAE(objective="beta")``, beta in {1, 4, 16} x 4 seeds;
* ``infogan_cr``: ``InfoGANCR.from_preset("cpu")`` x 6 seeds, at ``--gan-iter``
  iterations (the preset's 7,000 by default; about 15 minutes each on 2 cores).

One more pool, not in the issue, whose quality differs by construction, so that
rankings have something to agree on beyond the similarity's own noise:

* ``infogan_cr_budgets``: ``InfoGANCR.from_preset("cpu")`` stopped after 100,
  400 and 1,500 iterations (:data:`GAN_BUDGETS`) x 2 seeds.

The results in the user guide (``docs/user_guide/model_centrality.rst``) are the
CSV files in ``benchmarks/results/selection_quality/``: VAEs at 1,000 iterations,
InfoGAN-CR at 1,500 (the cpu preset's schedule compressed to 1,500 iterations, float32:
``--fast-path none``, this script's default),
ModelCentrality matrices of the fast protocol for every pool, of votes5_var2k for the
issue's three and of the paper protocol for the two InfoGAN-CR pools (the report
prefers the paper's). About 4 hours on 2 cores. ``benchmarks/protocol_agreement.py`` reads the
same folder.

Usage::

    python benchmarks/selection_quality.py --smoke                 # seconds: the pipeline
    python benchmarks/selection_quality.py --out sq --vae-iter 1000 --gan-iter 1500 \
        --pools factor_vae beta_vae --protocols fast votes5_var2k --n-jobs 2
    python benchmarks/selection_quality.py --out sq --gan-iter 1500 \
        --pools infogan_cr infogan_cr_budgets --protocols paper fast --n-jobs 2
    python benchmarks/selection_quality.py --out benchmarks/results/selection_quality \
        --report-only                                              # the guide's tables
"""

import argparse
import csv
import itertools
import json
import os
import time

import joblib
import numpy as np
from scipy.stats import kendalltau, spearmanr

from disentangle import VAE, InfoGANCR
from disentangle.datasets import DSprites
from disentangle.devices import parse_fast_path
from disentangle.metrics import dci_score, factor_vae_score, mig_score
from disentangle.selection import centrality as kind_centrality
from disentangle.selection import model_centrality, pairwise_similarity

#: The ModelCentrality matrices of the report, the first complete one: the default (paper)
#: protocol's, else the fast protocol's (the paper's take hours on a CPU).
REPORTED = ("mc_paper", "mc_fast")

#: Ground-truth metrics, all with the InfoGAN-CR authors' protocol.
METRICS = {"factor_vae": factor_vae_score, "mig": mig_score, "dci": dci_score}

#: Similarity protocols of ModelCentrality compared with the paper's; "paper" is the reference
#: and the default, "fast" the candidate (SIMILARITY_PROTOCOLS); the others bracket it.
PROTOCOLS = {
    "paper": {"protocol": "paper"},
    "fast": {"protocol": "fast"},
    "votes20_var10k": {"protocol": "paper", "votes_per_code": 20, "n_variance": 10_000},
    "votes5_var2k": {"protocol": "fast", "votes_per_code": 5, "n_variance": 2_000},
}
UDR = {"n_samples": 10_000}

#: The pools, in the order of the report.
POOLS = ("factor_vae", "beta_vae", "infogan_cr", "infogan_cr_budgets")

#: Iterations of the ``infogan_cr_budgets`` pool: a spread of quality by construction.
GAN_BUDGETS = (100, 400, 1500)

#: Tiny settings of --smoke: the whole pipeline in seconds, scores meaningless.
SMOKE = {
    "n_train_images": 256,
    "fit": {"max_iter": 6, "batch_size": 32},
    "metrics": {"factor_vae": {"n_train": 20, "batch_size": 20, "n_variance": 500},
                "mig": {"n_train": 500}, "dci": {"n_train": 300}},
    "protocols": {"paper": {"protocol": "paper", "votes_per_code": 4, "batch_size": 20,
                            "n_variance": 500},
                  "fast": {"protocol": "fast", "votes_per_code": 2, "batch_size": 20,
                           "n_variance": 500}},
    "udr": {"n_samples": 200},
}


def pools(args):
    """name -> list of (params dict, unfitted estimator)."""
    fit = SMOKE["fit"] if args.smoke else {}
    vae_iter = {"max_iter": args.vae_iter, **fit}
    gan_iter = {"max_iter": args.gan_iter} if args.gan_iter else {}
    vae_seeds, gan_seeds = (2, 3) if args.smoke else (args.vae_seeds, args.gan_seeds)
    gan = {"device": args.device, "fast_path": parse_fast_path(args.fast_path)}
    grids = {
        "factor_vae": [{"gamma": g, "random_state": s}
                       for g in (1, 10, 40) for s in range(vae_seeds)],
        "beta_vae": [{"beta": b, "random_state": s}
                     for b in (1, 4, 16) for s in range(vae_seeds)],
        "infogan_cr": [{"random_state": s} for s in range(gan_seeds)],
        "infogan_cr_budgets": [{"max_iter": m, "random_state": s}
                               for m in GAN_BUDGETS for s in range(2)],
    }
    make = {
        "factor_vae": lambda p: VAE(objective="factor", device=args.device, **vae_iter, **p),
        "beta_vae": lambda p: VAE(objective="beta", device=args.device, **vae_iter, **p),
        "infogan_cr": lambda p: InfoGANCR.from_preset("cpu", **gan, **{**gan_iter, **fit, **p}),
        "infogan_cr_budgets": lambda p: InfoGANCR.from_preset("cpu", **gan, **{**p, **fit}),
    }
    if args.smoke:
        grids = {name: grid[:3] for name, grid in grids.items()}
    return {name: [(p, make[name](p)) for p in grids[name]] for name in args.pools}


# --- stages: train, score, similarity ------------------------------------------------------------


def train(pools, X, out, n_jobs):
    """Fit (or load) every model of every pool, ``n_jobs`` fits at a time (joblib's loky
    workers, one torch thread each); name -> list of models, a failed fit is None.

    A saved model is loaded only if it was fitted with this run's parameters (``--vae-iter``
    and the grid): ``OUT`` holding models of other settings is an error, not a silent mix.
    """
    todo, models = [], {}
    for name, pool in pools.items():
        os.makedirs(os.path.join(out, name), exist_ok=True)
        models[name] = [None] * len(pool)
        for k, (params, estimator) in enumerate(pool):
            path = os.path.join(out, name, f"model_{k}.joblib")
            if os.path.exists(path):
                models[name][k] = load_matching(path, estimator)
            else:
                todo.append((name, k, params, estimator, path))
    fits = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        joblib.delayed(fit_and_save)(*job, X) for job in todo)
    for name, k, params, model, message in fits:
        models[name][k] = model
        print(f"  {name} model {k} {params}: {message}", flush=True)
    return models


def load_matching(path, estimator):
    """The model saved at ``path``; ValueError if its parameters differ from ``estimator``'s."""
    model = joblib.load(path)
    ours, saved = estimator.get_params(deep=False), model.get_params(deep=False)
    differ = {k: (saved.get(k), v) for k, v in ours.items()
              if isinstance(v, (int, float, str)) and saved.get(k) != v}
    if differ:
        raise ValueError(f"{path} was fitted with other parameters (saved, this run): {differ}; "
                         "use another --out or the settings it was made with.")
    return model


def fit_and_save(name, k, params, estimator, path, X):
    """One fit (run in a worker); a failed candidate does not stop the benchmark."""
    start = time.perf_counter()
    try:
        model = estimator.fit(X)
    except Exception as exc:
        return name, k, params, None, f"fit failed ({type(exc).__name__}: {exc})"
    joblib.dump(model, path)
    return name, k, params, model, f"{time.perf_counter() - start:.1f} s"


def score(name, pool, models, dataset, settings, seed, rows, n_jobs, save):
    """Ground-truth metrics of every model not yet in ``rows`` (dicts of models.csv),
    ``n_jobs`` models at a time, each row saved with ``save()`` as soon as it is done."""
    done = {(r["pool"], int(r["model"])) for r in rows}
    todo = [(k, params, model) for k, ((params, _), model) in enumerate(zip(pool, models,
                                                                           strict=True))
            if (name, k) not in done and model is not None]
    scored = joblib.Parallel(n_jobs=n_jobs, return_as="generator")(
        joblib.delayed(ground_truth)(model, dataset, settings, seed) for _, _, model in todo)
    for (k, params, _), values in zip(todo, scored, strict=True):
        rows.append({"pool": name, "model": k, "params": json.dumps(params), **values})
        save()
        print(f"  {name} model {k}: " + ", ".join(f"{m} {values[m]:.3f}" for m in METRICS),
              flush=True)


def ground_truth(model, dataset, settings, seed):
    """metric -> score of one model, every metric with the paper protocol."""
    return {metric: fn(model, dataset, protocol="paper", random_state=seed,
                       **settings["metrics"].get(metric, {}))
            for metric, fn in METRICS.items()}


def similarities(name, models, X, settings, seed, entries, save):
    """Pairwise matrix of every selector not yet in ``entries`` (selector -> (matrix, s)):
    :func:`centrality_matrices` of ``settings["protocols"]``, then UDR's."""
    centrality_matrices(name, models, settings["protocols"], seed, entries, save)
    if (name, "udr_lasso") not in entries:
        alive, fitted = fitted_models(models)
        start = time.perf_counter()
        _, pairwise = model_centrality(fitted, X, similarity="udr_lasso",
                                       similarity_params=settings["udr"], random_state=seed)
        full = np.full((len(models), len(models)), np.nan)
        full[np.ix_(alive, alive)] = pairwise
        entries[name, "udr_lasso"] = (full, time.perf_counter() - start)
        save()
        print(f"  {name} udr_lasso: {entries[name, 'udr_lasso'][1]:.1f} s")


def fitted_models(models):
    """(indices, models) of the models of a pool that fitted (a failed fit is None)."""
    alive = [k for k, m in enumerate(models) if m is not None]
    return alive, [models[k] for k in alive]


def centrality_matrices(name, models, protocols, seed, entries, save):
    """ModelCentrality matrix ``entries[name, "mc_" + label]`` of every ``label: params`` of
    ``protocols`` not yet complete, built a column at a time (model j's data, every encoder),
    each column saved with ``save()`` as soon as it is done: a paper-protocol matrix takes
    hours on a CPU and resumes from its last column. Each column is
    :func:`~disentangle.selection.pairwise_similarity` with ``columns=[j]`` and
    ``random_state=seed``, so the matrix equals that function's whole matrix.
    """
    alive, fitted = fitted_models(models)
    for label, params in protocols.items():
        key = (name, f"mc_{label}")
        full, seconds = entries.get(key, (np.full((len(models),) * 2, np.nan), 0.0))
        for c, j in enumerate(alive):
            if np.isfinite(full[alive, j]).all():
                continue
            start = time.perf_counter()
            full[alive, j] = pairwise_similarity(fitted, similarity_params=params,
                                                 random_state=seed, columns=[c])[:, c]
            seconds += time.perf_counter() - start
            entries[key] = (full, seconds)
            save()
        print(f"  {name} mc_{label}: {seconds:.1f} s", flush=True)


# --- CSV persistence -----------------------------------------------------------------------------


def read_models_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return [{**r, **{m: float(r[m]) for m in METRICS}} for r in csv.DictReader(f)]


def write_models_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, ["pool", "model", "params", *METRICS])
        writer.writeheader()
        writer.writerows(rows)


def read_pairwise_csv(path):
    """(pool, selector) -> (matrix, seconds) from the long-format pairwise.csv."""
    if not os.path.exists(path):
        return {}
    cells, seconds = {}, {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            key = (r["pool"], r["selector"])
            cells.setdefault(key, []).append((int(r["i"]), int(r["j"]), float(r["score"])))
            seconds[key] = float(r["seconds"])
    entries = {}
    for key, values in cells.items():
        n = 1 + max(max(i, j) for i, j, _ in values)
        matrix = np.full((n, n), np.nan)
        for i, j, value in values:
            matrix[i, j] = value
        entries[key] = (matrix, seconds[key])
    return entries


def write_pairwise_csv(path, entries):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["pool", "selector", "i", "j", "score", "seconds"])
        for (pool, selector), (matrix, seconds) in sorted(entries.items()):
            for i, j in itertools.product(range(len(matrix)), repeat=2):
                writer.writerow([pool, selector, i, j, repr(float(matrix[i, j])), seconds])


# --- statistics ----------------------------------------------------------------------------------


def centrality(pairwise, members, selector):
    """Centrality of the models ``members`` (indices into ``pairwise``) among themselves."""
    sub = pairwise[np.ix_(members, members)]
    alive = np.isfinite(np.diag(sub))  # a failed model's row and column are NaN
    kind = "udr_lasso" if selector.startswith("udr") else "factor_vae"
    return kind_centrality(np.nan_to_num(sub), kind, alive=alive)


def pick(pairwise, members, selector):
    """Index (into ``members``) of the model a selector fitted on ``members`` would keep."""
    values = centrality(pairwise, members, selector)
    return int(np.nanargmax(values))


def bootstrap_spearman(x, y, n_boot=2000, seed=0):
    """Spearman rho of (x, y) and a percentile 95 % interval over resampled models."""
    rho = spearmanr(x, y).statistic
    rng = np.random.RandomState(seed)
    boot = []
    for _ in range(n_boot):
        idx = rng.randint(len(x), size=len(x))
        if np.ptp(x[idx]) > 0 and np.ptp(y[idx]) > 0:
            boot.append(spearmanr(x[idx], y[idx]).statistic)
    low, high = np.percentile(boot, [2.5, 97.5]) if boot else (np.nan, np.nan)
    return rho, low, high


def subpools(n, size, limit, seed):
    """Every ``size``-subset of ``range(n)``, or ``limit`` distinct random ones if more."""
    size = min(size, n)
    every = list(itertools.combinations(range(n), size))
    if len(every) <= limit:
        return [list(s) for s in every]
    rng = np.random.RandomState(seed)
    return [list(every[i]) for i in rng.choice(len(every), size=limit, replace=False)]


def pool_report(name, rows, entries, args):
    """The selector comparison of one pool, as printed lines and a dict (None for the dict
    while no ModelCentrality matrix or the UDR one is complete: a run was interrupted)."""
    rows = sorted((r for r in rows if r["pool"] == name), key=lambda r: int(r["model"]))
    index = [int(r["model"]) for r in rows]
    truth = np.array([r["factor_vae"] for r in rows])
    reported = next((s for s in REPORTED if complete(entries, name, s, index)), None)
    if reported is None or not complete(entries, name, "udr_lasso", index):
        return [f"\n### {name}: similarity matrices incomplete (rerun to resume)"], None
    mc = entries[name, reported][0][np.ix_(index, index)]
    udr = entries[name, "udr_lasso"][0][np.ix_(index, index)]
    members = list(range(len(index)))
    cent = centrality(mc, members, reported)
    rho, low, high = bootstrap_spearman(cent, truth)
    picks = {"ModelCentrality": int(np.nanargmax(cent)), "UDR (Lasso)": pick(udr, members, "udr"),
             "oracle": int(np.argmax(truth))}
    subs = subpools(len(index), 5, args.n_subpools, args.seed)
    at_median, regret_mc, regret_udr = [], [], []
    for s in subs:
        t = truth[s]
        mc_pick, udr_pick = t[pick(mc, s, "mc")], t[pick(udr, s, "udr")]
        at_median.append(mc_pick >= np.median(t))
        regret_mc.append(t.max() - mc_pick)
        regret_udr.append(t.max() - udr_pick)
    lines = [f"\n### {name}: {len(index)} models, ModelCentrality = {reported}, ground truth "
             f"FactorVAE (paper protocol) "
             f"{truth.mean():.3f} ± {truth.std():.3f} (min {truth.min():.3f}, "
             f"max {truth.max():.3f})",
             f"Spearman rho(centrality, ground truth) = {rho:.2f} "
             f"(95 % bootstrap CI {low:.2f} to {high:.2f})",
             "| pick | FactorVAE | MIG | DCI |", "|---|---|---|---|"]
    for label, k in picks.items():
        lines.append(f"| {label}: {rows[k]['params']} | {truth[k]:.3f} | {rows[k]['mig']:.3f} "
                     f"| {rows[k]['dci']:.3f} |")
    for label, fn in (("random (pool mean)", np.mean), ("pool median", np.median)):
        lines.append(f"| {label} | " + " | ".join(f"{fn([r[m] for r in rows]):.3f}"
                                                 for m in METRICS) + " |")
    lines.append(f"sub-pools of 5 ({len(subs)}): ModelCentrality pick >= sub-pool median in "
                 f"{np.mean(at_median):.0%}; mean regret ModelCentrality "
                 f"{np.mean(regret_mc):.3f}, UDR {np.mean(regret_udr):.3f}")
    self_rho = spearmanr(np.diag(mc), truth).statistic
    lines.append(f"Spearman rho(self-score: encoder on its own generated data, ground truth) "
                 f"= {self_rho:.2f}")
    lines += agreement_lines(name, index, entries, subs, reported)
    lines.append(f"similarity matrix ({reported}) {entries[name, reported][1]:.1f} s, "
                 f"UDR {entries[name, 'udr_lasso'][1]:.1f} s")
    return lines, {"truth": truth, "centrality": cent, "pick": picks["ModelCentrality"],
                   "reported": reported}


def complete(entries, name, selector, index):
    """True when the ``(name, selector)`` matrix has every entry among the models ``index``."""
    return (name, selector) in entries and bool(
        np.isfinite(entries[name, selector][0][np.ix_(index, index)]).all())


def compare_centralities(a, b, subs):
    """(same medoid, Kendall tau) of the ModelCentrality centralities of the pairwise
    matrices ``a`` and ``b``, one row per sub-pool of ``subs``; array of shape
    (len(subs), 2), the first column 1.0 or 0.0."""
    rows = []
    for s in subs:
        ca, cb = centrality(a, s, "mc"), centrality(b, s, "mc")
        rows.append((np.nanargmax(ca) == np.nanargmax(cb), kendalltau(ca, cb).statistic))
    return np.array(rows, dtype=float)


def agreement_lines(name, index, entries, subs, reference):
    """Same medoid and Kendall tau of every other complete ModelCentrality matrix against
    ``reference`` (the paper protocol's when complete: the issue's agreement criterion;
    else the reported one, which measures how much the cheaper protocols' votes agree
    with each other, not with the paper)."""
    ref = entries[name, reference][0][np.ix_(index, index)]
    lines = [] if reference == "mc_paper" else [
        f"paper-protocol matrix of {name} incomplete: agreement with {reference} instead"]
    for (pool, selector), (matrix, _) in sorted(entries.items()):
        if (pool != name or not selector.startswith("mc_") or selector == reference
                or not complete(entries, name, selector, index)):
            continue
        same, taus = compare_centralities(ref, matrix[np.ix_(index, index)],
                                          [list(range(len(index)))] + subs).T
        lines.append(f"{selector} against {reference}: full pool same medoid "
                     f"{bool(same[0])}, tau {taus[0]:.2f}; sub-pools same medoid "
                     f"{np.mean(same[1:]):.0%}, tau min {np.nanmin(taus[1:]):.2f} median "
                     f"{np.nanmedian(taus[1:]):.2f}")
    return lines


def plot(results, path):
    """Centrality against ground truth, one panel per pool, the pick marked."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4 * len(results), 3.5), layout="constrained")
    for ax, (name, r) in zip(np.atleast_1d(fig.subplots(1, len(results))), results.items(),
                             strict=True):
        ax.scatter(r["centrality"], r["truth"], color="C0", label="model")
        ax.scatter(r["centrality"][r["pick"]], r["truth"][r["pick"]], s=160,
                   facecolors="none", edgecolors="C3", linewidths=2, label="ModelCentrality pick")
        ax.set(title=name, xlabel=f"centrality ({r['reported']})",
               ylabel="FactorVAE score (ground truth)")
        ax.legend(loc="best", fontsize="small")
    fig.savefig(path, dpi=100)


# --- driver --------------------------------------------------------------------------------------


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="selection_quality_output")
    parser.add_argument("--pools", nargs="+", default=list(POOLS), choices=POOLS)
    parser.add_argument("--vae-iter", type=int, default=3000)
    parser.add_argument("--gan-iter", type=int, default=None,
                        help="InfoGAN-CR iterations (default: the cpu preset's 7,000)")
    parser.add_argument("--fast-path", default="none", metavar="PATHS",
                        help="InfoGAN-CR's training fast_path: 'none' (the float32 reference "
                             "step, default: the committed pools were trained so, before the "
                             "cpu preset took 'auto'), 'auto', or names joined by '+'")
    parser.add_argument("--vae-seeds", type=int, default=4)
    parser.add_argument("--gan-seeds", type=int, default=6)
    parser.add_argument("--protocols", nargs="+", choices=sorted(PROTOCOLS),
                        default=list(PROTOCOLS),
                        help="ModelCentrality protocols to compute (default: all; the paper "
                             "protocol's matrices take hours on a CPU, built column by column)")
    parser.add_argument("--n-subpools", type=int, default=200)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="fits at a time (one torch thread each); 2 on 2 cores trains "
                             "about 1.3x as many models an hour as 1")
    parser.add_argument("--seed", type=int, default=0, help="metrics, similarity, sub-pools")
    parser.add_argument("--report-only", action="store_true",
                        help="tables and plot from OUT's CSV files, no training or scoring")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny pools, budgets and protocols: the pipeline in seconds")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    settings = SMOKE if args.smoke else {
        "metrics": {}, "protocols": {p: PROTOCOLS[p] for p in args.protocols}, "udr": UDR}
    os.makedirs(args.out, exist_ok=True)
    models_csv = os.path.join(args.out, "models.csv")
    pairwise_csv = os.path.join(args.out, "pairwise.csv")
    rows, entries = read_models_csv(models_csv), read_pairwise_csv(pairwise_csv)
    if not args.report_only:
        dataset = DSprites()
        X = (dataset.sample(SMOKE["n_train_images"], random_state=args.seed)[1]
             if args.smoke else dataset.images)
        grids = pools(args)
        trained = train(grids, X, args.out, args.n_jobs)
        for name, pool in grids.items():
            score(name, pool, trained[name], dataset, settings, args.seed, rows, args.n_jobs,
                  save=lambda: write_models_csv(models_csv, rows))
            similarities(name, trained[name], X, settings, args.seed, entries,
                         save=lambda: write_pairwise_csv(pairwise_csv, entries))
    results = {}
    for name in args.pools:
        if any(r["pool"] == name for r in rows):
            lines, result = pool_report(name, rows, entries, args)
            print("\n".join(lines))
            if result is not None:
                results[name] = result
    if results:
        plot(results, os.path.join(args.out, "selection_quality.png"))
        print(f"\nplot: {os.path.join(args.out, 'selection_quality.png')}")


if __name__ == "__main__":
    main()
