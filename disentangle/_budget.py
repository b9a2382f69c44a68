"""A wall-clock budget for ``fit`` (``max_time``): the schedule length that fits it.

Before training, a throwaway copy of the training engine (same networks,
fast path and device; its own weights, never used afterwards) runs each
phase of the schedule for 2 % of the budget on real batches (the first
twice: the first run warms the engine up), through
skorch's own training loop with the fit's callbacks, so that the cost of an
iteration includes the batch reads and the per-pass work; the mean iteration
after the first sets each phase's pace. The
phases are the estimator's (``_phase_starts``: for InfoGAN-CR, before H
trains, H training with alpha = 0, and alpha on, whose iterations cost
more). The schedule length is then the largest ``max_iter``
whose phases, at their measured costs, fit in what is left of the budget.
The schedule points that are fractions of ``max_iter`` follow it.

During the fit, :class:`Replanner` measures the pace of the iterations as
they run and, every 2 % of the budget, recomputes the length from it
(:func:`replan_length`): the phases not reached yet at their probed costs
times the ratio of the live pace to the probed pace of the current phase, so
that a machine that slows down or speeds up moves the end back to the
budget. The schedule stays coherent: a schedule point already passed stays
where it is, so once a point that is a fraction of ``max_iter`` is passed
(InfoGAN-CR's ``cr_start`` of a float) the length can only change within the
rounding of that fraction, and the re-plan just before it is the last.

The fitted estimator records the length (``max_iter_``): a fit with
``max_iter=max_iter_`` and no budget repeats the run exactly; and the plans
(``schedule_plans_``).
"""

import time

import numpy as np
from skorch.callbacks import Callback
from tqdm import tqdm

#: Fraction of the budget each phase's measurement takes (at least ``_PROBE_MIN_ITERATIONS``).
PROBE_FRACTION = 0.02
_PROBE_MIN_ITERATIONS = 3
_PROBE_MAX_ITERATIONS = 200
#: Share of the budget planned for iterations; the rest covers the end of ``fit``.
PLANNED_SHARE = 0.98
#: Wall time between two re-plans during the fit, as a fraction of the budget.
REPLAN_FRACTION = 0.02
#: Re-plan intervals whose iterations give the pace of a re-plan (the last ones, of the
#: current phase): one interval alone follows every flicker of a loaded machine.
PACE_INTERVALS = 3


class Budget:
    """The wall-clock budget of one ``fit``: ``max_time`` seconds from its creation.

    The one clock of the planning (``time.perf_counter``).

    Parameters
    ----------
    max_time : float or None
        Seconds; None (no budget) only for :meth:`elapsed`.
    """

    def __init__(self, max_time):
        self.max_time = max_time
        self.start = time.perf_counter()

    def elapsed(self):
        """Seconds since the fit started."""
        return time.perf_counter() - self.start

    def planned_left(self):
        """Seconds left for iterations: ``PLANNED_SHARE`` of the budget less the time elapsed."""
        return PLANNED_SHARE * self.max_time - self.elapsed()


class PhaseCost:
    """Measured cost of one phase: seconds per iteration, and the extra of its first iteration.

    Parameters
    ----------
    per_iteration : float
        Seconds per iteration once warm.
    first_extra : float
        Extra seconds of the phase's first iteration (allocations, compilation), >= 0.
    """

    def __init__(self, per_iteration, first_extra):
        self.per_iteration = per_iteration
        self.first_extra = first_extra


class PhaseClock(Callback):
    """Stamp the end of every iteration; end training once the phase is measured.

    It raises ``KeyboardInterrupt`` (skorch ends training cleanly) ``seconds``
    after the end of the first (warm-up) iteration, with at least
    ``_PROBE_MIN_ITERATIONS`` iterations after it, or after ``_PROBE_MAX_ITERATIONS``.

    Parameters
    ----------
    seconds : float
    """

    def __init__(self, seconds):
        self.seconds = seconds

    def on_train_begin(self, net, **kwargs):
        self.stamps_ = [time.perf_counter()]

    def on_batch_end(self, net, **kwargs):
        stamps = self.stamps_
        stamps.append(time.perf_counter())
        timed = len(stamps) - 2  # iterations after the first
        if timed >= _PROBE_MAX_ITERATIONS or (
                timed >= _PROBE_MIN_ITERATIONS and stamps[-1] - stamps[1] >= self.seconds):
            raise KeyboardInterrupt

    def cost(self):
        """The :class:`PhaseCost` measured: the mean iteration after the first (the per-pass
        work of the callbacks included), and the first one's extra."""
        durations = np.diff(self.stamps_)
        per_iteration = float(durations[1:].mean())
        return PhaseCost(per_iteration, max(float(durations[0]) - per_iteration, 0.0))


def measure_phases(net, X, starts, clock):
    """Train the throwaway ``net`` on ``X`` from each schedule point in ``starts``; their costs.

    The first phase is trained twice and measured the second time: the first
    run warms the engine up (allocations, caches, the first optimiser steps),
    which would otherwise make the first phase measured look slower than the
    others and the later phases too cheap beside it, as the re-plans, which
    scale the phases ahead by the live pace of the current one, would inherit.

    Parameters
    ----------
    net : TrainingNet
        An initialised engine with ``clock`` among its callbacks: its weights,
        counters and history are changed.
    X : array-like
    starts : list of int
        The first iteration of each phase.
    clock : PhaseClock

    Returns
    -------
    costs : list of PhaseCost
    """
    costs = []
    for start in [starts[0], *starts]:
        net.n_iter_ = start
        net.partial_fit(X)
        costs.append(clock.cost())
    return costs[1:]


def schedule_seconds(n_iter, phase_starts, costs, done=0):
    """Planned seconds of the iterations ``done`` to ``n_iter`` of a schedule of ``n_iter``.

    Parameters
    ----------
    n_iter : int
    phase_starts : callable
        ``phase_starts(n_iter)``: the first iteration of each phase, in the order of ``costs``.
    costs : list of PhaseCost
    done : int, default=0
        Iterations already trained: a phase begun before them has had its first iteration.
    """
    bounds = [min(max(start, 0), n_iter) for start in phase_starts(n_iter)] + [n_iter]
    total = 0.0
    for cost, begin, end in zip(costs, bounds[:-1], bounds[1:], strict=True):
        first = max(begin, done)
        if end > first:
            extra = cost.first_extra if begin >= done else 0.0
            total += extra + (end - first) * cost.per_iteration
    return total


def _last(holds, low, high):
    """The largest n in [``low``, ``high``] where ``holds(n)``, which holds at ``low`` and, once
    false, stays false (a bisection)."""
    while low < high:
        middle = (low + high + 1) // 2
        if holds(middle):
            low = middle
        else:
            high = middle - 1
    return low


def fitting_length(seconds, max_iter, phase_starts, costs):
    """The largest schedule length in [1, ``max_iter``] planned to take at most ``seconds``.

    Planned seconds grow with the length (every phase costs more than zero), so a
    bisection finds it. A budget too small for one iteration gives 1.
    """
    return _last(lambda n: schedule_seconds(n, phase_starts, costs) <= seconds, 1, max_iter)


def plan_length(budget, max_iter, phase_starts, measure):
    """The schedule length that fits what remains of the budget.

    Parameters
    ----------
    budget : Budget
    max_iter : int
        The longest schedule allowed.
    phase_starts : callable
        ``phase_starts(n_iter)``, the first iteration of each phase.
    measure : callable
        ``measure(starts)``: the :class:`PhaseCost` of the phases beginning at ``starts``.

    Returns
    -------
    n_iter : int
    costs : list of PhaseCost
    """
    costs = measure(phase_starts(max_iter))
    return fitting_length(budget.planned_left(), max_iter, phase_starts, costs), costs


def _points(n_iter, phase_starts, schedule_points):
    """The schedule points and phase starts of a schedule of ``n_iter``, by name."""
    return {**schedule_points(n_iter),
            **{("phase", k): start for k, start in enumerate(phase_starts(n_iter))}}


def replan_length(n_iter, done, seconds, max_iter, phase_starts, schedule_points, costs):
    """The length to which a fit of ``n_iter`` iterations, ``done`` of them trained, continues.

    The largest length in [``done``, ``max_iter``] whose remaining iterations
    take at most ``seconds`` at ``costs`` (the shortest allowed where none
    does), among the lengths that keep the schedule coherent: every schedule
    point and phase start already passed (before ``done``) stays where it is,
    every other one stays at ``done`` or later. Those lengths form an interval
    around ``n_iter`` (the points grow with the length).

    Parameters
    ----------
    n_iter, done : int
    seconds : float
    max_iter : int
        The longest schedule allowed.
    phase_starts, schedule_points : callable
        The estimator's ``_phase_starts`` and ``_schedule_points`` (points by name).
    costs : list of PhaseCost
        The remaining phases' costs.

    Returns
    -------
    n_iter : int
    """
    before = _points(n_iter, phase_starts, schedule_points)

    def keeps(n):
        after = _points(n, phase_starts, schedule_points)
        return all(after[name] == point if point < done else after[name] >= done
                   for name, point in before.items())

    low = n_iter - _last(lambda k: keeps(n_iter - k), 0, n_iter - done)
    high = _last(keeps, n_iter, max_iter)
    return _last(lambda n: n == low or schedule_seconds(n, phase_starts, costs, done) <= seconds,
                 low, high)


class Replanner(Callback):
    """Re-plan the schedule length during the fit from the pace of its own iterations.

    Every ``REPLAN_FRACTION`` of the budget (with at least
    ``_PROBE_MIN_ITERATIONS`` iterations of the current phase since the last
    re-plan), the mean iteration of the current phase over the last
    ``PACE_INTERVALS`` intervals (its first iteration left out) is its pace;
    the phases ahead keep their probed costs scaled by the same ratio to the
    probe. :func:`replan_length` then gives the
    length that ends the fit at ``PLANNED_SHARE`` of the budget, and
    ``retarget(net, n_iter)`` moves the fit in progress to it. Training ends
    at the end of the pass that reaches the length (skorch's passes are
    counted for ``max_iter``, the longest).

    Parameters
    ----------
    budget : Budget
    n_iter : int
        The length planned before training.
    max_iter : int
        The longest schedule allowed.
    phase_starts, schedule_points : callable
        The estimator's ``_phase_starts`` and ``_schedule_points``.
    costs : list of PhaseCost
        The probed cost of each phase.
    retarget : callable
        ``retarget(net, n_iter)``.
    verbose : int
        Print the length when it changes by 1 % or more, and a summary at the end.

    Attributes
    ----------
    n_iter_ : int
        The length planned now.
    plans_ : list of dict
        One per plan, the first made before training: ``iteration`` (trained
        when planned), ``seconds`` (since ``fit`` began), ``max_iter`` (the
        length planned) and ``pace`` (iterations per second of each phase, as planned).
    """

    def __init__(self, budget, n_iter, max_iter, phase_starts, schedule_points, costs, retarget,
                 verbose):
        self.budget = budget
        self.n_iter = n_iter
        self.max_iter = max_iter
        self.phase_starts = phase_starts
        self.schedule_points = schedule_points
        self.costs = costs
        self.retarget = retarget
        self.verbose = verbose

    def initialize(self):
        self.n_iter_ = self._printed = self.n_iter
        self.plans_ = []
        self._record(0, self.budget.elapsed(), self.costs)
        return self

    def _record(self, iteration, seconds, costs):
        self.plans_.append({"iteration": iteration, "seconds": seconds, "max_iter": self.n_iter_,
                            "pace": [1 / cost.per_iteration for cost in costs]})

    def on_train_begin(self, net, **kwargs):
        self._stamp = self._replanned = self.budget.elapsed()
        self._phase = None

    def on_batch_end(self, net, **kwargs):
        now = self.budget.elapsed()
        duration, self._stamp = now - self._stamp, now
        iteration = net.n_iter_ - 1
        starts = self.phase_starts(self.n_iter_)
        phase = sum(start <= iteration for start in starts) - 1
        if phase != self._phase:  # durations of the phase's iterations; where each re-plan was
            self._phase, self._durations, self._marks = phase, [], [0]
        if iteration != starts[phase]:
            self._durations.append(duration)
        if (now - self._replanned >= REPLAN_FRACTION * self.budget.max_time
                and len(self._durations) - self._marks[-1] >= _PROBE_MIN_ITERATIONS):
            self._replan(net, now)

    def _replan(self, net, now):
        pace = float(np.mean(self._durations[self._marks[-PACE_INTERVALS:][0]:]))
        scale = pace / self.costs[self._phase].per_iteration
        costs = [PhaseCost(cost.per_iteration * scale, cost.first_extra * scale)
                 for cost in self.costs]
        n_iter = replan_length(self.n_iter_, net.n_iter_, self.budget.planned_left(),
                               self.max_iter, self.phase_starts, self.schedule_points, costs)
        if n_iter != self.n_iter_:
            self.retarget(net, n_iter)
            self.n_iter_ = n_iter
        self._record(net.n_iter_, now, costs)
        self._marks.append(len(self._durations))
        self._replanned = now
        if self.verbose and abs(n_iter - self._printed) >= 0.01 * self._printed:
            self._printed = n_iter
            tqdm.write(f"max_time={self.budget.max_time:g} s: re-planned at iteration "
                       f"{net.n_iter_:,} ({now:.0f} s): {n_iter:,} iterations "
                       f"({describe(costs)})")

    def on_epoch_end(self, net, **kwargs):
        if net.n_iter_ >= self.n_iter_:
            raise KeyboardInterrupt  # skorch ends training: the passes left were for max_iter

    def on_train_end(self, net, **kwargs):
        if self.verbose:
            tqdm.write(f"max_time={self.budget.max_time:g} s: {net.n_iter_:,} iterations in "
                       f"{self.budget.elapsed():.1f} s (planned {self.plans_[0]['max_iter']:,} "
                       f"before training, {len(self.plans_) - 1} re-plans)")
        # The fitted net keeps its callbacks (and is pickled with them): drop the estimator's.
        self.phase_starts = self.schedule_points = self.retarget = None


def describe(costs):
    """Iterations per second of each phase, for messages: e.g. ``'4.3, 2.1 it/s'``."""
    return ", ".join(f"{1 / cost.per_iteration:.3g}" for cost in costs) + " it/s"
