"""Input watchdog (staleness from the ledger's ages, in periods with a floor in ms; rejections noticed without
being consumed) and the deadline-burst detector."""

import math

import numpy as np
import pytest
from safety_helpers import Arrivals

from leapp_ros.safety import DeadlineBurstDetector, InputWatchdog, stale_limit_s
from leapp_ros.safety.watchdog import burst_sizes


def watchdog(max_age_s=0.03, ledger=None):
    ledger = ledger or Arrivals(["js", "imu", "cmd"])
    return InputWatchdog(["js", "imu", "cmd"], [True, True, False], max_age_s, ledger), ledger


@pytest.mark.parametrize("js_age, imu_age, stale", [
    (0.0, 0.0, -1), (0.03, 0.03, -1), (0.031, 0.0, 0), (0.0, 0.05, 1), (None, 0.0, 0), (0.0, None, 1),
])
def test_first_stale(js_age, imu_age, stale):
    w, ledger = watchdog()
    now = 100.0
    ledger.mark("cmd", 0.0)  # the optional 'cmd' never counts as stale, however old
    for name, age in (("js", js_age), ("imu", imu_age)):
        if age is not None:
            ledger.mark(name, now - age)
    ledger.snapshot(now)
    assert w.first_stale() == stale


@pytest.mark.parametrize("period_s, periods, floor_s, limit_s", [
    (1 / 50, 3, 0.1, 0.1),  # 50 Hz: 60 ms of periods, the 100 ms floor wins
    (1 / 500, 3, 0.1, 0.1),  # 500 Hz: 6 ms would trip on scheduling noise
    (1 / 10, 3, 0.1, 0.3),  # 10 Hz: the periods win
    (1 / 100, 3, 0.0, 0.03),  # floor off: periods alone
])
def test_stale_limit_is_periods_with_a_floor(period_s, periods, floor_s, limit_s):
    assert stale_limit_s(period_s, periods, floor_s) == pytest.approx(limit_s)


def test_rejections_are_noticed_once_by_every_reader_and_described():
    w, ledger = watchdog()
    other, _ = watchdog(ledger=ledger)  # a second command channel reads the same ledger
    assert w.new_rejection() is None
    ledger.reject("imu", "orientation has NaN")
    ledger.reject("js", "joint 'knee' missing")
    assert w.new_rejection() == ("js", "joint 'knee' missing")
    assert w.new_rejection() is None
    assert other.new_rejection() == ("js", "joint 'knee' missing")  # not consumed by the first reader
    ledger.snapshot(5.0)
    assert w.first_stale() == 0 and math.isinf(w.age(0))
    assert w.describe_stale(0) == "input 'js' not received yet"
    ledger.mark("js", 4.9)
    ledger.snapshot(5.0)
    assert w.describe_stale(0) == "input 'js' is 100 ms old (limit 30 ms)"


def test_watchdog_and_ledger_must_agree_on_the_inputs():
    with pytest.raises(ValueError, match="ledger tracks 2 inputs"):
        InputWatchdog(["a", "b", "c"], [True] * 3, 0.1, Arrivals(["a", "b"]))


@pytest.mark.parametrize("burst, window, pattern, trips", [
    (3, 5, [1, 1, 1], [0, 0, 1]),
    (3, 5, [1, 0, 1, 0, 1], [0, 0, 0, 0, 1]),
    (3, 5, [1, 0, 0, 0, 0, 1, 1], [0] * 7),  # the first miss left the window
    (1, 1, [0, 1, 0], [0, 1, 0]),
])
def test_deadline_burst(burst, window, pattern, trips):
    detector = DeadlineBurstDetector(burst, window)
    assert [int(detector.update(bool(m))) for m in pattern] == trips
    assert detector.total_missed == sum(pattern)


@pytest.mark.parametrize("burst, window, rate, sizes", [
    (0, 0, 500.0, (250, 500)),  # default: half of one second of ticks
    (0, 0, 50.0, (25, 50)),
    (5, 50, 500.0, (5, 50)),  # explicit sizes are kept
    (80, 0, 50.0, (80, 80)),  # a burst larger than one second of ticks widens the window
])
def test_burst_sizes(burst, window, rate, sizes):
    assert burst_sizes(burst, window, rate) == sizes
    DeadlineBurstDetector(*sizes)


def test_deadline_burst_rejects_bad_sizes():
    with pytest.raises(ValueError):
        DeadlineBurstDetector(6, 5)
    assert np.isfinite(stale_limit_s(0.01, 3, 0.0))
