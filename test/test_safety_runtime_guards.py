"""Supervisor rules behind the runtime guarantees: every published gain checked, faults from any source hold,
immediate stops void a tick in flight, limits required (or the step bound), untrusted streams hold."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safety_helpers import JOINTS, LOWER, UPPER, Driver, make_supervisor

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


def test_engine_fault_holds_until_enabled_then_ramp_in():
    d = Driver(make_supervisor(auto_recover=True))
    d.activate()
    d.tick()
    d.sup.begin_tick(d.now, d.position, d.velocity)
    cmd = d.sup.end_tick(None, fault=(Cause.ENGINE_FAULT, "RuntimeError: boom"))
    assert (d.sup.state, d.sup.cause, cmd.mode.value) == (SafetyState.HOLD, Cause.ENGINE_FAULT, "hold")
    d.run(300)
    assert d.sup.state is SafetyState.HOLD, "not left by itself"
    d.sup.enable()
    d.tick()
    assert d.sup.state is SafetyState.RAMP_IN and d.resets == 2  # the documented path: ramp-in, policy reset


def test_inference_overrun_recovers_like_a_deadline_burst_and_the_third_latches():
    """An overrun is a timing fault: RAMP_IN (policy reset) once deadlines were kept for deadline_recover_s; the
    deadline_latch_bursts-th timing fault since the last enable waits for the operator."""
    d = Driver(make_supervisor(deadline_recover_s=0.2, deadline_latch_bursts=3))
    d.activate()
    for overrun in (1, 2, 3):
        d.tick()
        assert d.sup.state is SafetyState.ACTIVE
        d.sup.begin_tick(d.now, d.position, d.velocity)
        cmd = d.sup.fault_now(Cause.INFERENCE_OVERRUN, "a tick is blocked in inference for 250 ms")
        assert (d.sup.state, d.sup.cause, cmd.mode.value) == (SafetyState.HOLD, Cause.INFERENCE_OVERRUN, "hold")
        assert d.sup.end_tick(np.array([0.9, 0.4, 3.0]), d.kp, d.kd).mode.value == "hold"  # the late output: void
        d.run(60)  # 0.6 s of kept deadlines: recovered (after 0.2 s) through RAMP_IN, then ACTIVE
        if overrun < 3:
            assert d.sup.state is SafetyState.ACTIVE and d.resets == overrun + 1, d.sup.state_text()
            assert any(t.cause is Cause.RECOVERED for t in list(d.sup.log.recent)[-3:])
    assert d.sup.state is SafetyState.HOLD and "latched until enabled" in d.sup.detail
    d.run(100)
    assert d.sup.state is SafetyState.HOLD
    d.activate()  # the operator's enable clears the count


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


# ---------------------------------------------------------------- property: whatever the policy outputs
HOSTILE = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=32),
                    st.sampled_from([np.nan, np.inf, -np.inf, -40.0, 0.0, 1e30, -1e30, 5000.0]))


def vectors(n: int, sane: st.SearchStrategy) -> st.SearchStrategy:
    """Mostly plausible policy outputs (so that commands get through), one in four hostile anywhere."""
    return mostly(st.lists(sane, min_size=n, max_size=n),
                  st.lists(st.one_of(sane, HOSTILE), min_size=n, max_size=n)).map(np.array)


def mostly(usual: st.SearchStrategy, rare: st.SearchStrategy) -> st.SearchStrategy:
    return st.sampled_from([False] * 9 + [True]).flatmap(lambda r: rare if r else usual)


WITHIN_MARGIN = st.tuples(st.floats(-1.05, 1.05), st.floats(-2.05, 0.55), st.floats(-20.0, 20.0)).map(np.array)
TARGETS = mostly(WITHIN_MARGIN, st.one_of(st.none(), vectors(3, st.floats(-3.0, 3.0))))
KP, KD = vectors(3, st.floats(0.0, 500.0)), vectors(3, st.floats(0.0, 50.0))
SUBSET_KD = vectors(2, st.floats(0.0, 50.0))
MEASURED = st.tuples(st.floats(-1.0, 1.0), st.floats(-2.0, 0.5), st.floats(-10.0, 10.0)).map(np.array)
TICK = st.fixed_dictionaries({"targets": TARGETS, "kp": KP, "kd": KD,
                              "subset_kd": SUBSET_KD, "measured": MEASURED, "enable": st.booleans(),
                              "stop": mostly(st.none(), st.sampled_from(["estop", "release", "disable"]))})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ticks=st.lists(TICK, min_size=1, max_size=40))
def test_every_published_number_is_checked_whatever_the_policy_outputs(ticks):
    """Hostile targets and gains (NaN, inf, negative, huge), full and partial joint sets, stops from other threads:
    every command the supervisor lets out is finite, its gains within [0, max], its targets within the limits and,
    from the policy, within the step bound; subset gains go out only with a policy command that passed them."""
    sup = make_supervisor(max_kp=500.0, max_kd=50.0, max_step_rad=0.4, ramp_in_duration_s=0.0,
                          ramp_in_velocity_cap=1e6, ramp_in_tolerance=10.0)  # ACTIVE right after one ramp tick
    d = Driver(sup)
    maxima = np.full(2, 50.0)
    for t in ticks:
        d.position = t["measured"]
        if t["enable"]:
            sup.enable()
        for name in d.fresh:
            sup.watchdog.ledger.mark(name, d.now)
        sup.watchdog.ledger.snapshot(d.now)
        action = sup.begin_tick(d.now, d.position, d.velocity)
        if t["stop"] == "estop":
            sup.estop("test")
        elif t["stop"] == "release":
            sup.release_estop()
        elif t["stop"] == "disable":
            sup.disable("test")
        ran = action is not PolicyAction.SKIP
        gains = [("kd", t["subset_kd"], maxima, SUBSET)] if ran else ()
        cmd = sup.end_tick(t["targets"] if ran else None, t["kp"] if ran else None, t["kd"] if ran else None, gains)
        d.now += 0.01
        if cmd is None:
            continue
        assert np.isfinite(cmd.position).all() and np.isfinite(cmd.kp).all() and np.isfinite(cmd.kd).all()
        assert ((cmd.kp >= 0) & (cmd.kp <= 500.0)).all() and ((cmd.kd >= 0) & (cmd.kd <= 50.0)).all(), cmd.kp
        assert ((cmd.position >= LOWER) & (cmd.position <= UPPER)).all(), cmd.position
        if cmd.mode.value == "policy":
            assert (np.abs(cmd.position - d.position) <= 0.4 + 1e-9).all()
            subset = t["subset_kd"]  # published next to this command: it passed the same bounds
            assert np.isfinite(subset).all() and ((subset >= 0) & (subset <= 50.0)).all(), subset


# ---------------------------------------------------------------- stream trust in the input ledger
@pytest.mark.parametrize("stamp_ahead_s, clock_ns, arrival", [
    (0.05, 10 * 10**9, "accepted"),  # within the 0.1 s tolerance (clock skew between computers)
    (0.5, 10 * 10**9, "dropped"),  # the spoofer
    (0.5, 0, "accepted"),  # no clock yet (sim time before the first /clock): no future check
])
def test_future_stamps_are_dropped_counted_and_never_become_the_last_stamp(tmp_path, stamp_ahead_s, clock_ns,
                                                                            arrival):
    from binding_helpers import JOINTS_12, write_passthrough_bundle

    from leapp_ros.binding import compile_plan
    from leapp_ros.bundle import load_bundle
    ros_types = pytest.importorskip("leapp_ros.transport.ros_types")
    store = ros_types.get_ros_typestore("jazzy")

    def joint_state(stamp_s):
        m = ros_types.new_message(store, "sensor_msgs/msg/JointState",
                                  {"name": JOINTS_12, "position": np.ones(12), "velocity": np.zeros(12)})
        m.header.stamp.sec, m.header.stamp.nanosec = int(stamp_s), int(round((stamp_s % 1) * 1e9))
        return m

    plan = compile_plan(load_bundle(write_passthrough_bundle(tmp_path)[0]))
    plan.inputs.future_tolerance_s = 0.1
    topic = next(t for t in plan.inputs.topics if t.type_name == "sensor_msgs/msg/JointState")
    now_s = clock_ns * 1e-9 or 10.0
    assert plan.inputs.receive(topic, joint_state(now_s + stamp_ahead_s), clock_ns).value == arrival
    assert topic.future == (arrival == "dropped")
    if arrival == "dropped":  # the real driver, stamped now, right after: accepted (the spoofed stamp is not kept)
        assert plan.inputs.receive(topic, joint_state(now_s + 0.001), clock_ns + 10**6).value == "accepted"
