"""Output filters: finiteness, clamp with counting and margin trip, ramp-in blend with velocity caps."""

import numpy as np
import pytest
from safety_helpers import toy_limits

from leapp_ros.safety import LimitClamp, RampIn, first_non_finite


@pytest.mark.parametrize("values, index", [
    ([0.0, 1.0, 2.0], -1), ([0.0, np.nan, 2.0], 1), ([np.inf, 0.0, 0.0], 0), ([0.0, 0.0, -np.inf], 2),
])
def test_first_non_finite(values, index):
    assert first_non_finite(np.array(values)) == index


@pytest.mark.parametrize("target, expected, trip, counts", [
    ([0.5, 0.0, 100.0], [0.5, 0.0, 100.0], -1, [0, 0, 0]),  # inside; the continuous joint is unlimited
    ([1.05, -2.05, 0.0], [1.0, -2.0, 0.0], -1, [1, 1, 0]),  # within the 0.1 margin: clamped and counted
    ([1.0, 0.5, 0.0], [1.0, 0.5, 0.0], -1, [0, 0, 0]),  # exactly on the limits
    ([0.0, 0.61, 0.0], None, 1, [0, 0, 0]),  # beyond the margin: trip, nothing written
    ([-1.2, 0.0, 0.0], None, 0, [0, 0, 0]),
])
def test_clamp(target, expected, trip, counts):
    clamp = LimitClamp(toy_limits(), margin=0.1)
    out = np.full(3, 7.0)
    assert clamp.apply(np.array(target), out) == trip
    if expected is not None:
        np.testing.assert_allclose(out, expected)
    np.testing.assert_array_equal(clamp.counts, counts)
    assert clamp.total == sum(counts)


def ramp_trace(start, target, cap, duration, period, ticks):
    ramp = RampIn(np.array(cap), duration, period)
    ramp.begin(np.array(start, dtype=float), 0.0)
    out = np.array(start, dtype=float)
    trace, done_at = [out.copy()], None
    for k in range(1, ticks + 1):
        done = ramp.apply(k * period, np.array(target, dtype=float), out, out)
        trace.append(out.copy())
        if done and done_at is None:
            done_at = k
    return np.array(trace), done_at


@pytest.mark.parametrize("start, target, cap, duration, done_at", [
    ([0.0, 0.0], [1.0, -0.5], [10.0, 10.0], 0.5, 50),  # blend-limited: done when the blend ends
    ([0.0, 0.0], [1.0, -0.5], [1.0, 1.0], 0.1, 99),  # cap-limited: 1 rad at 1 rad/s, done within one step
    ([0.3, 0.3], [0.3, 0.3], [1.0, 1.0], 0.2, 20),  # already there: done at the end of the blend
    ([0.0, 0.0], [1.0, 1.0], [2.0, 2.0], 0.0, 49),  # no blend time: only the caps
])
def test_ramp_in_respects_caps_and_reaches_target(start, target, cap, duration, done_at):
    period = 0.01
    trace, got = ramp_trace(start, target, cap, duration, period, 400)
    steps = np.abs(np.diff(trace, axis=0))
    assert (steps <= np.array(cap) * period + 1e-12).all()
    assert got == done_at
    np.testing.assert_allclose(trace[-1], target)
    np.testing.assert_allclose(trace[0], start)


def test_ramp_first_step_starts_at_measured_pose_not_target():
    trace, _ = ramp_trace([0.0], [2.0], [1.0], 1.0, 0.01, 1)
    assert trace[1][0] == pytest.approx(0.01)  # blend 1% of the way, well under the cap step
