"""Training that goes wrong, checkpoints, Ctrl-C and resumption (issue 6, parts 4 and 5)."""

import functools
import signal
import types
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from skorch.callbacks import Callback

from disentangle import VAE, InfoGANCR, ModelCentralitySelector, _base
from disentangle._budget import PhaseClock
from disentangle._checkpoint import CHECKPOINT_FILE, load_checkpoint, param_fingerprint
from disentangle._engine import BatchIterator, TrainingWarning
from disentangle.infogan_cr import DiscriminatorDominance, SampleCollapse

RNG = np.random.RandomState(0)
IMAGES = (RNG.rand(40, 32, 32) > 0.7).astype(np.uint8)  # 5 batches of 8 a pass
TABLE = RNG.randn(44, 6)  # 5 batches of 8 a pass, 4 samples dropped

#: (estimator, data): the CR term switches on (H re-initialised) before and after
#: the interruption at iteration 7, the gap ends at 9; FactorVAE has two optimisers.
CASES = {
    "infogan-cr-images": (InfoGANCR(cr_start=4, gap=0.5, gap_end=9), IMAGES),
    "infogan-cr-table": (InfoGANCR(cr_start=0.8), TABLE),
    "factor-vae-table": (VAE(objective="factor"), TABLE),
    "beta-tc-vae-images": (VAE(objective="beta_tc", beta=4.0), IMAGES),
}
COMMON = dict(max_iter=12, batch_size=8, random_state=0, device="cpu")


class InterruptAt(Callback):
    """Send SIGINT (as Ctrl-C does) at the start of iteration ``at`` (0-based)."""

    def __init__(self, at):
        self.at = at

    def on_batch_begin(self, net, **kwargs):
        if net.n_iter_ == self.at:
            signal.raise_signal(signal.SIGINT)


class Act(Callback):
    """Call ``action(net)`` at the start of iteration ``at`` (0-based), or at train begin."""

    def __init__(self, action, at=None):
        self.action = action
        self.at = at

    def on_train_begin(self, net, **kwargs):
        if self.at is None:
            self.action(net)

    def on_batch_begin(self, net, **kwargs):
        if net.n_iter_ == self.at:
            self.action(net)


def fit_quietly(model, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrainingWarning)
        return model.fit(X)


def assert_same_training_state(a, b):
    """Bit-identical modules, optimiser states, generators and per-batch losses."""
    state_a, state_b = a.net_.training_state(), b.net_.training_state()
    for name, module_state in state_a["modules"].items():
        for key, tensor in module_state.items():
            assert torch.equal(tensor, state_b["modules"][name][key]), (name, key)
    for name, optimizer_state in state_a["optimizers"].items():
        other = state_b["optimizers"][name]["state"]
        for index, values in optimizer_state["state"].items():
            for key, tensor in values.items():
                assert torch.equal(tensor, other[index][key]), (name, index, key)
    assert torch.equal(state_a["rng"]["state"], state_b["rng"]["state"])
    assert state_a["counters"] == state_b["counters"]
    for key in ("train_loss", "sample_diversity"):
        assert batch_values(a, key) == batch_values(b, key)


def batch_values(model, key):
    return [row[key] for epoch in model.history_ for row in epoch["batches"] if key in row]


def assert_same_model(a, b, X):
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    np.testing.assert_array_equal(a.sample(9, random_state=1), b.sample(9, random_state=1))
    assert_same_training_state(a, b)


# --- Training that goes wrong -----------------------------------------------------------------


def _poison_generator(net):
    with torch.no_grad():
        next(net.module_.parameters()).fill_(float("nan"))


@pytest.mark.parametrize("Estimator", [InfoGANCR, VAE])
def test_nan_losses_stop_training_with_the_iteration(Estimator, tmp_path):
    model = Estimator(**COMMON, checkpoint_dir=tmp_path, checkpoint_every=2,
                      callbacks=[("poison", Act(_poison_generator, at=5))])
    with pytest.raises(FloatingPointError, match=r"diverged at iteration 6: .*train_loss = nan"):
        model.fit(TABLE)
    with pytest.raises(NotFittedError):
        model.transform(TABLE)
    # The checkpoint keeps the last good state.
    assert load_checkpoint(tmp_path / CHECKPOINT_FILE, "cpu")["net"]["counters"]["n_iter"] == 4


def test_a_real_divergence_is_caught_at_once():
    with pytest.raises(FloatingPointError, match="iteration 2: reconstruction = nan"):
        VAE(lr=1e6, max_iter=50, batch_size=16, random_state=0, device="cpu").fit(TABLE)


def test_a_winning_discriminator_gives_a_warning_with_the_iteration():
    X = 100 + RNG.randn(64, 4)  # far from what G makes; G barely learns
    model = InfoGANCR(max_iter=60, batch_size=16, lr_generator=1e-9, lr_discriminator=0.1,
                      random_state=0, device="cpu",
                      callbacks=[("discriminator_dominance", DiscriminatorDominance(patience=20))])
    with pytest.warns(TrainingWarning, match=r"At iteration \d+: the discriminator has won"):
        model.fit(X)
    assert min(batch_values(model, "adversarial_loss")) < 0.01


def _collapse_generator(net):
    last = [m for m in net.module_.modules() if isinstance(m, torch.nn.Linear)][-1]
    torch.nn.init.zeros_(last.weight)  # every latent renders the same sample


def test_collapsed_samples_give_a_warning_with_the_iteration():
    model = InfoGANCR(**COMMON, lr_generator=1e-12, callbacks=[
        ("collapse", Act(_collapse_generator)), ("sample_collapse", SampleCollapse(patience=5))])
    with pytest.warns(TrainingWarning, match="At iteration 5: the generated samples have"):
        model.fit(TABLE)
    assert max(batch_values(model, "sample_diversity")) < 0.02


@pytest.mark.parametrize("X", [TABLE, IMAGES], ids=["table", "images"])
def test_healthy_training_is_silent(X):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        VAE(**COMMON).fit(X)
        model = InfoGANCR(**COMMON).fit(X)
    assert 0.1 < min(batch_values(model, "sample_diversity"))


def test_a_monitor_warns_once_per_stretch():
    monitor = SampleCollapse(threshold=1.0, patience=3).initialize()
    values = [0.5, 0.5, 2.0, 0.5, 0.5, 0.5, 0.5, 0.5]  # the first stretch is too short
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n_iter, value in enumerate(values, start=1):
            history = [{"batches": [{"sample_diversity": value}]}]
            monitor.on_batch_end(SimpleNamespace(history=history, n_iter_=n_iter))
    assert [str(w.message)[:15] for w in caught] == ["At iteration 6:"]


def test_default_monitors_can_be_replaced_or_removed():
    model = InfoGANCR(**COMMON, callbacks=[("sample_collapse", None),
                                           ("finite_losses", None)])
    model.fit(TABLE)
    names = [name for name, _ in model.net_.callbacks_]
    assert "sample_collapse" not in names and "finite_losses" not in names
    assert "discriminator_dominance" in names


# --- Checkpoints ------------------------------------------------------------------------------


def test_checkpoints_every_n_iterations_and_at_the_end(tmp_path):
    seen = []

    def read(net):
        seen.append(load_checkpoint(tmp_path / CHECKPOINT_FILE, "cpu")["net"]["counters"])

    model = VAE(**{**COMMON, "max_iter": 7}, checkpoint_dir=tmp_path, checkpoint_every=3,
                callbacks=[("read", Act(read, at=4)), ("read_late", Act(read, at=6))])
    model.fit(TABLE)
    assert seen == [{"n_iter": 3}, {"n_iter": 6}]
    assert load_checkpoint(tmp_path / CHECKPOINT_FILE, "cpu")["net"]["counters"]["n_iter"] == 7
    assert not (tmp_path / (CHECKPOINT_FILE + ".tmp")).exists()


def test_a_corrupted_checkpoint_gives_a_clear_error(tmp_path):
    (tmp_path / CHECKPOINT_FILE).write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="Could not read the checkpoint .* corrupted"):
        VAE(**COMMON, checkpoint_dir=tmp_path, warm_start=True).fit(TABLE)


# --- Ctrl-C and resumption --------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_interrupted_and_resumed_fit_equals_uninterrupted_fit_bit_for_bit(case, tmp_path):
    estimator, X = CASES[case]
    uninterrupted = estimator.set_params(**COMMON).fit(X)
    handler = signal.getsignal(signal.SIGINT)  # SIG_IGN in a background job, else Python's
    # Ctrl-C at the start of iteration 7 (mid-pass): the iteration ends, then training stops.
    model = estimator.__class__(**estimator.get_params()).set_params(
        checkpoint_dir=tmp_path, checkpoint_every=5, callbacks=[("ctrl_c", InterruptAt(6))])
    with pytest.warns(TrainingWarning, match="stopped at iteration 7 of 12 .*warm_start=True"):
        model.fit(X)
    assert signal.getsignal(signal.SIGINT) is handler
    assert model.n_iter_ == 7 and model.transform(X[:3]).shape == (3, model.n_codes_)
    checkpoint = load_checkpoint(tmp_path / CHECKPOINT_FILE, "cpu")
    assert checkpoint["net"]["counters"]["n_iter"] == 7

    from_disk = estimator.__class__(**model.get_params()).set_params(callbacks=None,
                                                                     warm_start=True)
    from_disk.fit(X)  # a new process: continues from the checkpoint
    model.set_params(callbacks=None, warm_start=True).fit(X)  # continues in memory
    for resumed in (model, from_disk):
        assert resumed.n_iter_ == 12
        assert_same_model(resumed, uninterrupted, X)


def _ctrl_c(net):
    raise KeyboardInterrupt  # as Ctrl-C without our SIGINT handler: skorch catches it


@pytest.mark.parametrize("estimator", [VAE(), InfoGANCR(cr_start=3)], ids=["vae", "infogan-cr"])
def test_keyboard_interrupt_inside_an_iteration_resumes_from_the_checkpoint(estimator, tmp_path):
    # InfoGAN-CR: the interruption comes after the CR schedule re-initialised H.
    model = estimator.set_params(**COMMON, checkpoint_dir=tmp_path, checkpoint_every=2,
                                 callbacks=[("ctrl_c", Act(_ctrl_c, at=3))])
    with pytest.warns(TrainingWarning, match="stopped at iteration 3 of 12 .*inside iteration 4"):
        model.fit(TABLE)
    assert model.transform(TABLE).shape == (44, model.n_codes_) and model.n_iter_ == 3
    # The half-done iteration is not saved: the checkpoint stays at iteration 2.
    assert load_checkpoint(tmp_path / CHECKPOINT_FILE, "cpu")["net"]["counters"]["n_iter"] == 2
    model.set_params(callbacks=None, warm_start=True).fit(TABLE)
    uninterrupted = estimator.__class__(**model.get_params()).set_params(
        checkpoint_dir=None, warm_start=False).fit(TABLE)
    assert_same_model(model, uninterrupted, TABLE)


def test_keyboard_interrupt_inside_an_iteration_without_checkpoint_continues_with_a_warning():
    model = fit_quietly(VAE(**COMMON, callbacks=[("ctrl_c", Act(_ctrl_c, at=3))]), TABLE)
    with pytest.warns(TrainingWarning, match="interrupted inside an iteration"):
        model.set_params(callbacks=None, warm_start=True).fit(TABLE)
    assert model.n_iter_ == 12


class CtrlCInTraining(Callback):
    """SIGINT (as Ctrl-C) at the start of iteration ``at`` of the ``nth`` training of this process.

    The count is the class's: a selector fits a copy of the callback per candidate.
    """

    trainings = 0

    def __init__(self, nth, at):
        self.nth = nth
        self.at = at

    def on_train_begin(self, net, **kwargs):
        type(self).trainings += 1
        self.current_ = type(self).trainings

    def on_batch_begin(self, net, **kwargs):
        if self.current_ == self.nth and net.n_iter_ == self.at:
            signal.raise_signal(signal.SIGINT)


def test_ctrl_c_stops_a_selector_and_warm_start_resumes_it_to_the_uninterrupted_result(tmp_path):
    # Issue 29: a Ctrl-C cut one candidate short, the search went on and crowned it.
    def grid(folder):
        return [{"random_state": [k], "checkpoint_dir": [str(folder / f"candidate{k}")]}
                for k in range(3)]

    def selector(folder, **params):
        vae = VAE(n_latent=2, **{**COMMON, "random_state": None}, checkpoint_every=5,
                  warm_start=True)
        return ModelCentralitySelector(vae.set_params(**params), grid(folder), random_state=0,
                                       similarity_params={"votes_per_code": 5,
                                                          "n_variance": 500})

    handler = signal.getsignal(signal.SIGINT)
    CtrlCInTraining.trainings = 0
    interrupted = selector(tmp_path / "run", callbacks=[("ctrl_c", CtrlCInTraining(2, at=6))])
    with pytest.raises(KeyboardInterrupt):
        interrupted.fit(TABLE)
    assert signal.getsignal(signal.SIGINT) is handler and not hasattr(interrupted, "cv_results_")
    saved = [tmp_path / "run" / f"candidate{k}" / CHECKPOINT_FILE for k in range(3)]
    # The finished candidate is kept, the interrupted one ended its iteration, the third never ran.
    assert [load_checkpoint(path, "cpu")["net"]["counters"]["n_iter"]
            for path in saved[:2]] == [12, 7]
    assert not saved[2].exists()

    resumed = selector(tmp_path / "run").fit(TABLE)
    whole = selector(tmp_path / "whole", warm_start=False).fit(TABLE)
    np.testing.assert_array_equal(resumed.cv_results_["n_iter"], [12, 12, 12])
    np.testing.assert_array_equal(resumed.pairwise_scores_, whole.pairwise_scores_)
    assert resumed.best_index_ == whole.best_index_


def test_ctrl_c_while_max_time_measures_the_schedule_stops_the_fit(monkeypatch):
    class CtrlCClock(PhaseClock):  # Ctrl-C during the probe that max_time trains first
        def on_batch_end(self, net, **kwargs):
            if len(self.stamps_) == 2:
                signal.raise_signal(signal.SIGINT)
            super().on_batch_end(net, **kwargs)

    monkeypatch.setattr(_base, "PhaseClock", CtrlCClock)
    started = []
    model = VAE(**COMMON, max_time=30.0,
                callbacks=[("started", Act(lambda net: started.append(net.n_iter_)))])
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        model.fit(TABLE)
    assert not started and signal.getsignal(signal.SIGINT) is handler


def test_warm_start_trains_longer_to_the_same_result():
    short = VAE(**{**COMMON, "max_iter": 5}).fit(TABLE)
    short.set_params(max_iter=12, warm_start=True).fit(TABLE)
    assert short.n_iter_ == 12
    assert_same_model(short, VAE(**COMMON).fit(TABLE), TABLE)
    short.fit(TABLE)  # nothing left to do
    assert short.n_iter_ == 12


def test_extending_a_fit_past_a_fractional_schedule_point_warns():
    # Issue 29: cr_start=0.5 of 8 iterations is 4, passed; extended to 16 it becomes 8, so the
    # CR term switches off again until then, unlike a straight fit of 16 iterations.
    short = fit_quietly(InfoGANCR(**{**COMMON, "max_iter": 8}, cr_start=0.5), TABLE)
    with pytest.warns(UserWarning, match=r"max_iter=8 \(8 iterations trained\) to max_iter=16, "
                      r"which moves cr_start from iteration 4 to 8 .* differ from a straight fit"):
        short.set_params(max_iter=16, warm_start=True).fit(TABLE)
    in_iterations = fit_quietly(InfoGANCR(**{**COMMON, "max_iter": 8}, cr_start=4), TABLE)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        in_iterations.set_params(max_iter=16, warm_start=True).fit(TABLE)
    assert_same_model(in_iterations, InfoGANCR(**{**COMMON, "max_iter": 16}, cr_start=4).fit(TABLE),
                      TABLE)


def test_warm_start_without_a_previous_fit_starts_afresh(tmp_path):
    model = VAE(**COMMON, checkpoint_dir=tmp_path, warm_start=True).fit(TABLE)
    assert_same_model(model, VAE(**COMMON).fit(TABLE), TABLE)


@pytest.mark.parametrize("source", ["memory", "checkpoint"])
def test_resuming_another_fit_is_refused(source, tmp_path):
    model = fit_quietly(VAE(**COMMON, checkpoint_dir=tmp_path,
                            callbacks=[("ctrl_c", InterruptAt(4))]), TABLE)
    if source == "checkpoint":
        model = VAE(**model.get_params())
    model.set_params(callbacks=None, warm_start=True, lr=1e-3)
    with pytest.raises(ValueError, match=r"other parameters: lr=0.0001 \(now 0.001\)"):
        model.fit(TABLE)
    model.set_params(lr=1e-4)
    with pytest.raises(ValueError, match=r"other data: shape \(44, 6\), dtype <f8 then, "
                       r"shape \(40, 6\), dtype <f8 now"):
        model.fit(TABLE[:40])
    # Issue 29: the same shape and dtype read as if nothing differed.
    with pytest.raises(ValueError, match=r"other data: the same shape \(44, 6\) and dtype <f8, "
                       "but other values"):
        model.fit(TABLE + 1)
    with pytest.raises(ValueError, match="belongs to a VAE, not to this InfoGANCR"):
        InfoGANCR(**COMMON, checkpoint_dir=tmp_path, warm_start=True).fit(TABLE)


def test_a_partial_parameter_fingerprints_alike_in_another_session():
    # The fingerprint of a functools.partial held its function's memory address, which differs
    # in the session that resumes: the two reprs in the refusal differed by that address only.
    from disentangle.networks import build_generator

    same_function = types.FunctionType(build_generator.__code__, build_generator.__globals__)
    first, second = (param_fingerprint(functools.partial(f, width=2))
                     for f in (build_generator, same_function))
    assert first == second and "build_generator" in first and "0x" not in first


def _take(batch_iterator, k):
    """The next ``k`` batches, over as many passes as needed (the last one left suspended)."""
    taken = []
    while len(taken) < k:
        for batch in batch_iterator:
            taken.append(batch)
            if len(taken) == k:
                break
    return taken


def test_batch_iterator_resumes_mid_pass():
    X = np.arange(10)[:, None]  # 3 batches of 3 a pass
    whole = BatchIterator(X, 3, n_iter=8, seed=0)
    batches = [b for _ in range(BatchIterator.n_passes(10, 3, 8)) for b in whole]
    first = BatchIterator(X, 3, n_iter=8, seed=0)
    head = _take(first, 4)  # one batch into the second pass
    second = BatchIterator(X, 3, n_iter=8, seed=0)
    second.load_state_dict(first.state_dict())
    passes = BatchIterator.n_passes(10, 3, 8, first.state_dict())
    tail = [b for _ in range(passes) for b in second]
    assert passes == 2 and len(tail) == 4
    assert all(torch.equal(a, b) for a, b in zip(head + tail, batches, strict=True))


def test_a_failed_fit_leaves_the_estimator_as_it_was():
    model = VAE(**COMMON).fit(TABLE)
    codes = model.transform(TABLE)
    model.set_params(callbacks=[("poison", Act(_poison_generator, at=2))])
    with pytest.raises(FloatingPointError):
        model.fit(IMAGES)
    assert model.input_shape_ == (6,) and model.n_iter_ == 12
    np.testing.assert_array_equal(model.transform(TABLE), codes)
