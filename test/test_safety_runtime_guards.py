"""Supervisor rules behind the runtime guarantees: every published gain checked, faults from any source hold,
immediate stops void a tick in flight, limits required (or the step bound), untrusted streams hold."""

import numpy as np
import pytest
from safety_helpers import JOINTS, Driver, make_supervisor

from leapp_ros.errors import ConfigurationError
from leapp_ros.safety import Cause, JointLimits, SafetyState, SafetySupervisor, WatchedInput
from leapp_ros.safety.supervisor import PolicyAction

SUBSET = ("hip", "knee")  # a gain output covering 2 of the 3 joints


def subset_gain(values, role="kd", maxima=200.0):
    return [(role, np.asarray(values, float), np.full(len(SUBSET), maxima), SUBSET)]


# (id, kp of the command joints, extra subset gains, cause)
BAD_GAINS = [
    ("negative_kp", [20.0, -40.0, 20.0], [], Cause.GAIN_OUT_OF_RANGE),
    ("kp_above_max", [20.0, 20.0, 5000.0], [], Cause.GAIN_OUT_OF_RANGE),
    ("nan_kp", [20.0, np.nan, 20.0], [], Cause.NON_FINITE_OUTPUT),
    ("nan_subset_kd", [20.0] * 3, subset_gain([0.5, np.nan]), Cause.NON_FINITE_OUTPUT),
    ("negative_subset_kd", [20.0] * 3, subset_gain([-1.0, 0.5]), Cause.GAIN_OUT_OF_RANGE),
    ("subset_kp_above_max", [20.0] * 3, subset_gain([5000.0, 1.0], "kp", 1000.0), Cause.GAIN_OUT_OF_RANGE),
    ("short_subset", [20.0] * 3, [("kd", np.ones(1), np.full(2, 200.0), SUBSET)], Cause.MISSING_OUTPUT),
]


@pytest.mark.parametrize("kp, gains, cause", [g[1:] for g in BAD_GAINS], ids=[g[0] for g in BAD_GAINS])
def test_bad_gain_holds_and_is_never_in_the_command(kp, gains, cause):
    d = Driver(make_supervisor())
    d.activate()
    good = d.tick()
    d.sup.begin_tick(d.now, d.position, d.velocity)
    cmd = d.sup.end_tick(np.array([0.2, -0.4, 1.0]), np.array(kp), d.kd, gains)
    assert d.sup.state is SafetyState.HOLD and d.sup.cause is cause, d.sup.state_text()
    assert cmd.mode.value == "hold" and np.isfinite(cmd.kp).all() and (cmd.kp >= 0).all()
    np.testing.assert_array_equal(cmd.kp, good["kp"])  # the last published (checked) gains
    d.run(20)
    assert d.sup.state is SafetyState.HOLD, "a bad policy output waits for an operator"


def test_gain_maxima_per_joint_and_hold_gains_checked():
    sup = make_supervisor(max_kp={"hip": 10.0, "knee": 20.0, "wheel": 30.0})
    np.testing.assert_array_equal(sup.gain_maxima("kp", ("wheel", "hip")), [30.0, 10.0])
    with pytest.raises(ConfigurationError, match="max_kp' lacks joints"):
        sup.gain_maxima("kp", ("elbow",))
    with pytest.raises(ConfigurationError, match="'damping_kd' is above safety.max_kd"):
        make_supervisor(damping_kd=500.0)
    with pytest.raises(ConfigurationError, match="'max_kp' must be >= 0"):
        make_supervisor(max_kp=-1.0)


@pytest.mark.parametrize("cause", [Cause.ENGINE_FAULT, Cause.INFERENCE_OVERRUN])
def test_engine_fault_and_overrun_hold_until_enabled_then_ramp_in(cause):
    d = Driver(make_supervisor(auto_recover=True))
    d.activate()
    d.tick()
    d.sup.begin_tick(d.now, d.position, d.velocity)
    cmd = d.sup.end_tick(None, fault=(cause, "RuntimeError: boom"))
    assert (d.sup.state, d.sup.cause, cmd.mode.value) == (SafetyState.HOLD, cause, "hold")
    d.run(50)
    assert d.sup.state is SafetyState.HOLD, "not left by itself"
    d.sup.enable()
    d.tick()
    assert d.sup.state is SafetyState.RAMP_IN and d.resets == 2  # the documented path: ramp-in, policy reset


@pytest.mark.parametrize("stop, state, mode", [("estop", SafetyState.ESTOP, "damp"),
                                               ("disable", SafetyState.INACTIVE, None),
                                               ("fault_now", SafetyState.HOLD, "hold")])
def test_immediate_stop_voids_the_tick_in_flight(stop, state, mode):
    d = Driver(make_supervisor())
    d.activate()
    d.tick()
    assert d.sup.begin_tick(d.now, d.position, d.velocity) is PolicyAction.RUN
    # ... inference running on the tick thread; the stop arrives on another thread:
    args = (Cause.INFERENCE_OVERRUN, "blocked") if stop == "fault_now" else ("test",)
    now_cmd = getattr(d.sup, stop)(*args)
    assert d.sup.state is state and (now_cmd and now_cmd.mode.value) == mode
    late = d.sup.end_tick(np.array([0.9, 0.4, 3.0]), d.kp, d.kd)  # the late tick's policy output
    assert (late and late.mode.value) == mode, "the late tick publishes the stopped state's command only"
    if late is not None:
        assert not np.allclose(late.position, [0.9, 0.4, 3.0])


def test_estop_drops_an_earlier_pending_enable():
    d = Driver(make_supervisor())
    d.sup.enable()
    d.sup.estop("button")
    d.sup.release_estop()
    d.run(5)
    assert d.sup.state is SafetyState.ESTOP


def test_limits_required_unless_opted_out_then_step_bound_caps_targets():
    unlimited = JointLimits.unlimited(JOINTS)
    with pytest.raises(ConfigurationError, match="no position limits.*allow_no_joint_limits: true"):
        SafetySupervisor(JOINTS, unlimited, 100.0, [WatchedInput("joint_states")])
    sup = make_supervisor(limits=unlimited, allow_no_joint_limits=True, max_step_rad=0.3, ramp_in_duration_s=0.0,
                          ramp_in_velocity_cap=1e6)
    d = Driver(sup, policy=lambda: np.array([1e30, -7.7e27, 0.05]))
    d.sup.enable()
    trace = d.run(5)
    assert d.sup.state is SafetyState.ACTIVE
    np.testing.assert_allclose(trace[-1]["position"], d.position + [0.3, -0.3, 0.05])
    assert d.sup.step_bounded >= 2 and "step-bounded" in " ".join(d.sup.diagnostics())


def test_step_bound_also_applies_within_limits():
    d = Driver(make_supervisor(max_step_rad=0.1), policy=lambda: np.array([0.9, -1.9, 0.0]))
    d.activate(max_ticks=400)
    np.testing.assert_allclose(d.tick()["position"], d.position + [0.1, -0.1, -0.0])


def test_stream_fault_holds_while_it_lasts_and_blocks_enable():
    d = Driver(make_supervisor())
    d.activate()
    d.sup.set_stream_fault("state topic /joint_states has 2 publishers")
    d.tick()
    assert (d.sup.state, d.sup.cause) == (SafetyState.HOLD, Cause.MULTIPLE_PUBLISHERS)
    d.sup.enable()
    d.run(20)
    assert d.sup.state is SafetyState.HOLD, "enable waits while the stream is untrusted"
    d.sup.set_stream_fault(None)
    d.run(3)
    assert d.sup.state in (SafetyState.RAMP_IN, SafetyState.ACTIVE)
