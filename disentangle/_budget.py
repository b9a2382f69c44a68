"""A wall-clock budget for ``fit`` (``max_time``): the schedule length that fits it.

Before training, a throwaway copy of the training engine (same networks,
fast path and device; its own weights, never used afterwards) runs each
phase of the schedule for 2 % of the budget on real batches, through
skorch's own training loop with the fit's callbacks, so that the cost of an
iteration includes the batch reads and the per-pass work; the mean iteration
after the first sets each phase's pace. The
phases are the estimator's (``_phase_starts``: for InfoGAN-CR, before H
trains, H training with alpha = 0, and alpha on, whose iterations cost
more). The schedule length is then the largest ``max_iter``
whose phases, at their measured costs, fit in what is left of the budget.
The schedule points that are fractions of ``max_iter`` follow it.

The fitted estimator records the length (``max_iter_``): a fit with
``max_iter=max_iter_`` and no budget repeats the run exactly.
"""

import time

import numpy as np
from skorch.callbacks import Callback

#: Fraction of the budget each phase's measurement takes (at least ``_PROBE_MIN_ITERATIONS``).
PROBE_FRACTION = 0.02
_PROBE_MIN_ITERATIONS = 3
_PROBE_MAX_ITERATIONS = 200
#: Share of the remaining budget planned for iterations; the rest covers the end of ``fit``.
PLANNED_SHARE = 0.98


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
    for start in starts:
        net.n_iter_ = start
        net.partial_fit(X)
        costs.append(clock.cost())
    return costs


def schedule_seconds(n_iter, phase_starts, costs):
    """Planned seconds of a schedule of ``n_iter`` iterations.

    Parameters
    ----------
    n_iter : int
    phase_starts : callable
        ``phase_starts(n_iter)``: the first iteration of each phase, in the order of ``costs``.
    costs : list of PhaseCost
    """
    bounds = [min(max(start, 0), n_iter) for start in phase_starts(n_iter)] + [n_iter]
    total = 0.0
    for cost, begin, end in zip(costs, bounds[:-1], bounds[1:], strict=True):
        if end > begin:
            total += cost.first_extra + (end - begin) * cost.per_iteration
    return total


def fitting_length(seconds, max_iter, phase_starts, costs):
    """The largest schedule length in [1, ``max_iter``] planned to take at most ``seconds``.

    Planned seconds grow with the length (every phase costs more than zero), so a
    bisection finds it. A budget too small for one iteration gives 1.
    """
    low, high = 1, max_iter
    if schedule_seconds(high, phase_starts, costs) <= seconds:
        return high
    while low < high:
        middle = (low + high + 1) // 2
        if schedule_seconds(middle, phase_starts, costs) <= seconds:
            low = middle
        else:
            high = middle - 1
    return low


def plan_length(max_time, clock_start, max_iter, phase_starts, measure):
    """The schedule length that fits what remains of ``max_time`` seconds.

    Parameters
    ----------
    max_time : float
        The fit's budget in seconds, counted from ``clock_start`` (``time.perf_counter``).
    clock_start : float
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
    left = (max_time - (time.perf_counter() - clock_start)) * PLANNED_SHARE
    return fitting_length(left, max_iter, phase_starts, costs), costs


def describe(costs):
    """Iterations per second of each phase, for messages: e.g. ``'4.3, 2.1 it/s'``."""
    return ", ".join(f"{1 / cost.per_iteration:.3g}" for cost in costs) + " it/s"

