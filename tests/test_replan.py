"""max_time re-planned during the fit (disentangle._budget.Replanner), on a fake clock.

The budget's clock (``disentangle._budget.time``) is replaced by one that moves only when
an iteration trains, by the seconds a test gives each iteration: the probe, the plan and
the re-plans then see exactly that pace, on any machine.
"""

import pickle
import types

import numpy as np
import pytest
import torch

from disentangle import VAE, InfoGANCR, _budget
from disentangle._budget import PhaseCost, replan_length, schedule_seconds
from disentangle.infogan_cr import InfoGANCRNet
from disentangle.vae import VAENet

TABLE = np.random.RandomState(0).standard_normal((128, 6)).astype(np.float32)


def tenth(n_iter):
    return [0, round(0.9 * n_iter)]


def points(n_iter):
    return {"cr_start": round(0.9 * n_iter)}


def test_schedule_seconds_counts_only_what_is_left():
    costs = [PhaseCost(1.0, 5.0), PhaseCost(3.0, 2.0)]
    # 100 iterations: 90 at 1 s (+5 for the first), 10 at 3 s (+2). 40 done: 50 + 30 + 2 left.
    assert schedule_seconds(100, tenth, costs) == pytest.approx(5 + 90 + 2 + 30)
    assert schedule_seconds(100, tenth, costs, done=40) == pytest.approx(50 + 2 + 30)
    # Inside the second phase: its first iteration's extra is spent.
    assert schedule_seconds(100, tenth, costs, done=95) == pytest.approx(15)


def test_replan_before_a_fractional_point_moves_it_with_the_length():
    costs = [PhaseCost(1.0, 0.0), PhaseCost(1.0, 0.0)]
    # 100 planned, 40 done, 80 s left at 1 s: 120 in all, cr_start 108.
    assert replan_length(100, 40, 80.0, 10**6, tenth, points, costs) == 120
    # Slower than planned: 30 s left for 60 + ... shortens to 70, cr_start 63 (> 40).
    assert replan_length(100, 40, 30.0, 10**6, tenth, points, costs) == 70
    # max_iter caps it.
    assert replan_length(100, 40, 80.0, 110, tenth, points, costs) == 110


def test_replan_never_moves_a_point_into_the_iterations_trained():
    costs = [PhaseCost(1.0, 0.0), PhaseCost(1.0, 0.0)]
    # 85 done of 100 (cr_start 90): no time left would end at 85, which puts cr_start at
    # 76, already trained without CR: the shortest coherent length keeps it >= 85, i.e. 95
    # (round(0.9 * 94) = 85 too: 94).
    n_iter = replan_length(100, 85, 0.0, 10**6, tenth, points, costs)
    assert points(n_iter)["cr_start"] >= 85 and points(n_iter - 1)["cr_start"] < 85


def test_replan_after_a_fractional_point_keeps_it():
    costs = [PhaseCost(1.0, 0.0), PhaseCost(1.0, 0.0)]
    # 95 done of 100: cr_start = 90 is passed; only the lengths that round to 90 remain.
    for seconds in (0.0, 5.0, 1000.0):
        n_iter = replan_length(100, 95, seconds, 10**6, tenth, points, costs)
        assert points(n_iter)["cr_start"] == 90
    assert replan_length(100, 95, 1000.0, 10**6, tenth, points, costs) == 100
    # The same point in iterations moves with nothing: the length follows the time left.
    assert replan_length(100, 95, 50.0, 10**6, lambda n: [0, 90], lambda n: {"cr_start": 90},
                         costs) == 145


class FakeTime:
    """``time`` for ``disentangle._budget``: perf_counter moves only when a test moves it."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self):
        return self.now


def paced(monkeypatch, net_class, seconds):
    """Make each training iteration of ``net_class`` take ``seconds(net, clock)`` on a fake
    clock; return the clock."""
    clock = FakeTime()
    monkeypatch.setattr(_budget, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))
    train_iteration = net_class.train_iteration

    def timed(net, batch):
        clock.now += seconds(net, clock)
        return train_iteration(net, batch)

    monkeypatch.setattr(net_class, "train_iteration", timed)
    return clock


def gan_pace(slow_from, slowdown=1.6):
    """0.05 s an iteration before CR, 0.1 s with alpha on; ``slowdown`` times that from
    ``slow_from`` seconds on (another job takes the cores)."""
    def seconds(net, clock):
        base = 0.1 if net.config["cr_schedule"].state(net.n_iter_).cr_weight > 0 else 0.05
        return base * (slowdown if clock.now >= slow_from else 1.0)
    return seconds


def batches(model):
    return [row for epoch in model.history_ for row in epoch["batches"]]


def budgeted_gan(**params):
    return InfoGANCR(**{"max_iter": 10**6, "max_time": 15.0, "batch_size": 16,
                        "cr_start": 0.5, "random_state": 0, **params})


def test_a_slowdown_before_cr_moves_the_end_back_to_the_budget(monkeypatch):
    clock = paced(monkeypatch, InfoGANCRNet, gan_pace(slow_from=3.0))
    model = budgeted_gan().fit(TABLE)
    first, last = model.schedule_plans_[0], model.schedule_plans_[-1]
    # Planned at the probed pace (0.075 s an iteration on average, about 190 iterations),
    # it would overrun at 1.6 times that pace from 3 s on: the re-plans shorten it.
    assert first["max_iter"] > model.max_iter_ == model.n_iter_ == last["max_iter"]
    assert 0.95 * 15 <= clock.now <= 15
    # CR starts at its share of the final schedule: H trains (cr_loss) from cr_start.
    rows = batches(model)
    trains_h = [i for i, row in enumerate(rows) if "cr_loss" in row]
    assert trains_h[0] == round(0.5 * model.max_iter_) and trains_h[-1] == len(rows) - 1
    # The fit is the straight fit of max_iter_ iterations, bit for bit.
    again = InfoGANCR(max_iter=model.max_iter_, batch_size=16, cr_start=0.5,
                      random_state=0).fit(TABLE)
    for mine, theirs in zip(model.net_.module_.parameters(), again.net_.module_.parameters(),
                            strict=True):
        assert torch.equal(mine, theirs)


def test_a_speedup_lengthens_the_schedule(monkeypatch):
    clock = paced(monkeypatch, InfoGANCRNet, gan_pace(slow_from=3.0, slowdown=0.6))
    model = budgeted_gan().fit(TABLE)
    assert model.schedule_plans_[0]["max_iter"] < model.max_iter_ == model.n_iter_
    assert 0.95 * 15 <= clock.now <= 15


def test_passed_schedule_points_do_not_move(monkeypatch):
    # The slowdown comes after cr_start = 0.5 of the plan (about 5 s in): that point is
    # passed, so the length stays where it was (within the rounding of 0.5 * max_iter to
    # cr_start) and the fit ends late.
    clock = paced(monkeypatch, InfoGANCRNet, gan_pace(slow_from=10.0))
    model = budgeted_gan().fit(TABLE)
    plans = model.schedule_plans_
    cr_start = model._schedule_points(model.max_iter_)["cr_start"]
    for before, after in zip(plans[:-1], plans[1:], strict=True):
        old = model._schedule_points(before["max_iter"])
        new = model._schedule_points(after["max_iter"])
        assert all(new[name] == old[name] for name in old if old[name] < after["iteration"])
    late = [plan["max_iter"] for plan in plans if plan["iteration"] > cr_start]
    assert late and all(model._schedule_points(n)["cr_start"] == cr_start for n in late)
    assert clock.now > 1.1 * 15
    rows = batches(model)
    assert [i for i, row in enumerate(rows) if "cr_loss" in row][0] == cr_start


def test_a_schedule_point_in_iterations_leaves_the_length_free(monkeypatch):
    # cr_start=75 does not follow the length: a slowdown in the CR phase is absorbed.
    clock = paced(monkeypatch, InfoGANCRNet, gan_pace(slow_from=10.0))
    model = budgeted_gan(cr_start=75).fit(TABLE)
    assert model.schedule_plans_[0]["max_iter"] > model.max_iter_ > 75
    assert 0.95 * 15 <= clock.now <= 15


def test_vae_ends_within_five_percent_after_a_slowdown(monkeypatch, capsys):
    clock = paced(monkeypatch, VAENet,
                  lambda net, clock: 0.02 if clock.now < 10 else 0.05)
    model = VAE(max_iter=10**6, max_time=30.0, batch_size=16, random_state=0,
                verbose=1).fit(TABLE)
    assert model.n_iter_ == model.max_iter_ < model.schedule_plans_[0]["max_iter"]
    assert 0.95 * 30 <= clock.now <= 30
    plans = model.schedule_plans_
    assert [plan["iteration"] for plan in plans] == sorted(plan["iteration"] for plan in plans)
    assert plans[-1]["pace"] == [pytest.approx(20.0)]  # 0.05 s an iteration at the end
    out = capsys.readouterr().out
    assert "re-planned at iteration" in out
    assert f"{model.n_iter_:,} iterations in" in out
    # The fitted net keeps the replanner among its callbacks: it pickles.
    assert pickle.loads(pickle.dumps(model)).schedule_plans_ == plans


def test_a_probe_slower_than_the_fit_no_longer_leaves_the_budget_unused(monkeypatch):
    # The demo: the probe measured about half the pace the fit then ran at, and the
    # fit ended after 777 s of 900. Here the probe's iterations take twice as long; CR starts
    # at 0.893 of the schedule, as in the cpu preset.
    def seconds(net, clock):
        probing = any(name == "phase_clock" for name, _ in net.callbacks_)
        return (2.0 if probing else 1.0) * gan_pace(slow_from=np.inf)(net, clock)

    clock = paced(monkeypatch, InfoGANCRNet, seconds)
    model = budgeted_gan(cr_start=0.893).fit(TABLE)
    assert model.schedule_plans_[0]["max_iter"] < 0.7 * model.max_iter_
    assert 0.95 * 15 <= clock.now <= 15
    trains_h = [i for i, row in enumerate(batches(model)) if "cr_loss" in row]
    assert trains_h[0] == round(0.893 * model.max_iter_)
