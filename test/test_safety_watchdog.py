"""Input watchdog (staleness in periods, rejections, stamp order, clock jumps) and deadline-burst detector."""

import math

import pytest

from leapp_ros.safety import DeadlineBurstDetector, InputWatchdog, StampVerdict


def watchdog():
    return InputWatchdog(["js", "imu", "cmd"], [True, True, False], period_s=0.01, stale_periods=3,
                         timeout_s=[None, None, 0.5])


@pytest.mark.parametrize("js_age, imu_age, stale", [
    (0.0, 0.0, -1), (0.03, 0.03, -1), (0.031, 0.0, 0), (0.0, 0.05, 1), (None, 0.0, 0), (0.0, None, 1),
])
def test_first_stale(js_age, imu_age, stale):
    w = watchdog()
    now = 100.0
    for name, age in (("js", js_age), ("imu", imu_age)):
        if age is not None:
            w.mark(name, now - age)
    assert w.first_stale(now) == stale  # the optional 'cmd' never counts as stale


def test_optional_input_times_out():
    w = watchdog()
    assert w.timed_out("cmd", 1.0)
    w.mark("cmd", 1.0)
    assert not w.timed_out("cmd", 1.4) and w.timed_out("cmd", 1.6)


@pytest.mark.parametrize("stamps, verdicts", [
    ([1.0, 1.01, 1.02], ["ok", "ok", "ok"]),
    ([1.0, 1.0], ["ok", "duplicate"]),
    ([1.0, 0.99], ["ok", "out_of_order"]),
    ([10.0, 2.0, 2.01], ["ok", "jumped_back", "ok"]),  # sim-time reset: accept and re-base
])
def test_stamp_verdicts(stamps, verdicts):
    w = watchdog()
    got = []
    for stamp in stamps:
        verdict = w.check_stamp("js", stamp)
        got.append(verdict.value)
        if verdict in (StampVerdict.OK, StampVerdict.JUMPED_BACK):
            w.mark("js", stamp, stamp)
    assert got == verdicts
    assert w.dropped[0] == sum(v in ("duplicate", "out_of_order") for v in verdicts)


def test_rejections_are_taken_once_and_forget_clears():
    w = watchdog()
    w.reject("imu", "orientation has NaN")
    w.reject("js", "joint 'knee' missing")
    assert w.take_rejection() == ("js", "joint 'knee' missing")
    assert w.take_rejection() is None
    w.mark("js", 5.0)
    w.forget()
    assert w.first_stale(5.0) == 0 and math.isinf(w.age(0, 5.0))


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


def test_deadline_burst_rejects_bad_sizes():
    with pytest.raises(ValueError):
        DeadlineBurstDetector(6, 5)
