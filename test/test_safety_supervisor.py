"""SafetySupervisor state machine: enable/ramp-in, every trigger, what is published, recovery, e-stop, shutdown."""

import logging
import tracemalloc

import numpy as np
import pytest
from safety_helpers import JOINTS, Driver, make_supervisor, toy_limits

from leapp_ros.errors import ConfigurationError
from leapp_ros.safety import Cause, JointLimits, SafetyConfig, SafetyState, SafetySupervisor, WatchedInput

SAFE_TARGET = np.array([0.2, -0.4, 1.0])


def test_starts_inactive_publishes_nothing_and_does_not_run_policy():
    d = Driver(make_supervisor())
    assert d.run(20) == [None] * 20
    assert d.sup.state is SafetyState.INACTIVE and d.policy_runs == 0


def test_enable_ramps_in_from_measured_pose_then_active():
    d = Driver(make_supervisor(ramp_in_duration_s=0.2, ramp_in_velocity_cap=1.0, ramp_in_tolerance=0.0))
    d.sup.enable()
    first = d.tick()
    assert d.sup.state is SafetyState.RAMP_IN and d.resets == 1 and first["mode"] == "ramp"
    # the first command is one blend step away from the measured pose, never the target itself
    assert np.abs(first["position"] - d.position).max() <= 1.0 * 0.01 + 1e-12
    trace = [first] + d.run(100)
    positions = np.array([c["position"] for c in trace])
    assert (np.abs(np.diff(positions, axis=0)) <= 1.0 * 0.01 + 1e-9).all()
    assert d.sup.state is SafetyState.ACTIVE and d.resets == 1
    np.testing.assert_allclose(trace[-1]["position"], SAFE_TARGET)
    assert trace[-1]["mode"] == "policy"
    np.testing.assert_array_equal(trace[-1]["kp"], d.kp)
    causes = [t.cause for t in d.sup.log.recent]
    assert causes == [Cause.ENABLE, Cause.RAMP_DONE]


@pytest.mark.parametrize("tolerance, ticks_to_active", [(0.0, 90), (0.05, 86), (0.5, 52)])
def test_ramp_tolerance_ends_the_ramp_near_moving_targets(tolerance, ticks_to_active):
    # targets 0.9 rad away from the measured pose, 1 rad/s cap: the ramp ends once within the tolerance
    d = Driver(make_supervisor(ramp_in_duration_s=0.5, ramp_in_velocity_cap=1.0, ramp_in_tolerance=tolerance),
               policy=lambda: np.array([1.0, -0.5, 0.0]))
    d.sup.enable()
    ticks = 0
    while d.sup.state is not SafetyState.ACTIVE:
        d.tick()
        ticks += 1
    assert ticks == ticks_to_active


def test_enable_waits_for_inputs_then_starts():
    d = Driver(make_supervisor())
    d.fresh["imu"] = False
    d.sup.enable()
    assert d.run(10) == [None] * 10 and d.sup.state is SafetyState.INACTIVE
    d.fresh["imu"] = True
    d.tick()
    assert d.sup.state is SafetyState.RAMP_IN


def test_enable_waiting_is_logged_once_per_cause_not_per_tick(caplog):
    """The waiting reason carries the input's age, which changes every tick: one line per cause, not per tick."""
    d = Driver(make_supervisor())
    d.fresh["imu"] = False
    caplog.set_level(logging.WARNING, logger="leapp_ros.safety")
    d.sup.enable()
    d.run(30)
    waiting = [r.getMessage() for r in caplog.records if "enable waiting" in r.getMessage()]
    assert len(waiting) == 1 and "imu" in waiting[0], waiting


def trip_stale_joint_states(d):
    d.fresh["joint_states"] = False


def trip_stale_imu(d):
    d.fresh["imu"] = False


def trip_rejected(d):
    d.sup.watchdog.ledger.reject("joint_states", "position of joint 'knee' is nan")


def trip_nan_measurement(d):
    d.position = np.array([0.1, np.nan, 0.0])


def trip_overspeed(d):
    d.velocity = np.array([0.0, 3.5, 0.0])


def trip_nan_policy(d):
    d.policy = lambda: np.array([0.2, np.nan, 1.0])


def trip_inf_gain(d):
    d.kp = np.array([20.0, np.inf, 20.0])


def trip_beyond_margin(d):
    d.policy = lambda: np.array([1.5, -0.4, 1.0])


def trip_no_output(d):
    d.policy = lambda: None


def trip_estop(d):
    d.sup.estop("estop topic")


def trip_clock_jump(d):
    d.now -= 5.0


# trigger, ticks to apply, state, cause, published mode on the tripping tick, recovers by itself
FAULTS = [
    (trip_stale_joint_states, 4, SafetyState.HOLD, Cause.STALE_INPUT, "hold", True),
    (trip_stale_imu, 4, SafetyState.HOLD, Cause.STALE_INPUT, "hold", True),
    (trip_rejected, 1, SafetyState.HOLD, Cause.REJECTED_INPUT, "hold", True),
    (trip_nan_measurement, 1, SafetyState.HOLD, Cause.NON_FINITE_MEASUREMENT, "hold", True),
    (trip_clock_jump, 1, SafetyState.HOLD, Cause.CLOCK_JUMP, "hold", True),
    (trip_overspeed, 1, SafetyState.DAMP, Cause.JOINT_OVERSPEED, "damp", False),
    (trip_nan_policy, 1, SafetyState.HOLD, Cause.NON_FINITE_OUTPUT, "hold", False),
    (trip_inf_gain, 1, SafetyState.HOLD, Cause.NON_FINITE_OUTPUT, "hold", False),
    (trip_beyond_margin, 1, SafetyState.HOLD, Cause.LIMIT_MARGIN, "hold", False),
    (trip_no_output, 1, SafetyState.HOLD, Cause.MISSING_OUTPUT, "hold", False),
    (trip_estop, 1, SafetyState.ESTOP, Cause.ESTOP, "damp", False),
]


@pytest.mark.parametrize("trigger, ticks, state, cause, mode, recovers", FAULTS,
                         ids=[f[0].__name__ for f in FAULTS])
def test_fault_publishes_safe_command_within_one_tick(trigger, ticks, state, cause, mode, recovers):
    d = Driver(make_supervisor())
    d.activate()
    good = d.tick()
    saved = (d.position.copy(), d.velocity.copy(), d.policy, d.kp.copy(), dict(d.fresh))
    trigger(d)
    trace = d.run(ticks)
    tripped = trace[-1]
    assert d.sup.state is state and d.sup.cause is cause, d.sup.state_text()
    assert tripped is not None and tripped["mode"] == mode
    assert all(np.isfinite(c["position"]).all() for c in trace if c is not None)
    if mode == "hold":  # the last safe targets (measured pose only if none)
        np.testing.assert_allclose(tripped["position"], good["position"])
        np.testing.assert_array_equal(tripped["kp"], good["kp"])
    if mode == "damp":
        assert (tripped["kp"] == 0).all() and (tripped["kd"] == 2.0).all()
    if cause in (Cause.STALE_INPUT,):
        assert all(c["mode"] in ("policy", "hold") for c in trace)  # no tick ran on stale data after the trip
    # clear the fault
    d.position, d.velocity, d.policy, d.kp, d.fresh = saved
    runs_before = d.policy_runs
    d.run(30)
    if recovers:
        assert d.sup.state is SafetyState.ACTIVE and d.resets == 2  # through RAMP_IN, policy state reset
        assert [t.cause for t in d.sup.log.recent][-2:] == [Cause.RECOVERED, Cause.RAMP_DONE]
    else:
        assert d.sup.state is state and d.policy_runs == runs_before
        d.sup.release_estop()
        d.sup.enable()
        d.run(30)
        assert d.sup.state is SafetyState.ACTIVE and d.resets == 2


def test_hold_persists_with_one_log_line(caplog):
    d = Driver(make_supervisor(auto_recover=False))
    d.activate()
    d.fresh["joint_states"] = False
    with caplog.at_level(logging.INFO, logger="leapp_ros.safety"):
        trace = d.run(50)
    assert len({tuple(c["position"]) for c in trace[4:]}) == 1
    lines = [r.getMessage() for r in caplog.records if "ACTIVE -> HOLD" in r.getMessage()]
    assert lines == ["safety ACTIVE -> HOLD (stale_input: input 'joint_states' is 40 ms old (limit 30 ms))"]


def test_optional_command_input_timeout_is_not_a_trip():
    d = Driver(make_supervisor())
    d.activate()
    d.fresh["cmd_vel"] = False
    d.run(100)
    assert d.sup.state is SafetyState.ACTIVE  # the ledger feeds zeros instead (test_binding_decode)


def test_within_margin_is_clamped_and_counted():
    d = Driver(make_supervisor(), policy=lambda: np.array([1.05, -0.4, 1.0]))
    d.activate()
    cmd = d.tick()
    assert d.sup.state is SafetyState.ACTIVE and cmd["position"][0] == 1.0
    assert d.sup.clamp.counts[0] > 0 and d.sup.diagnostics()["clamped hip"] == str(d.sup.clamp.counts[0])


def test_deadline_burst_holds():
    d = Driver(make_supervisor(deadline_burst=3, deadline_window=10))
    d.activate()
    d.tick(missed=True)
    d.tick(missed=True)
    assert d.sup.state is SafetyState.ACTIVE
    assert d.tick(missed=True)["mode"] == "hold" and d.sup.cause is Cause.DEADLINE_BURST


def test_deadline_burst_recovers_through_ramp_in_after_healthy_timing():
    d = Driver(make_supervisor(deadline_burst=3, deadline_window=10, deadline_recover_s=0.2))
    d.activate()
    d.run(3, missed=True)
    assert d.sup.state is SafetyState.HOLD and d.sup.cause is Cause.DEADLINE_BURST
    d.run(15)  # 20 healthy ticks are needed (0.2 s at 100 Hz): still holding
    assert d.sup.state is SafetyState.HOLD
    d.run(60)
    assert d.sup.state is SafetyState.ACTIVE and d.resets == 2  # back through RAMP_IN with the policy state reset
    assert [t.cause for t in d.sup.log.recent][-3:] == [Cause.DEADLINE_BURST, Cause.RECOVERED, Cause.RAMP_DONE]


@pytest.mark.parametrize("latch_after", [1, 3])
def test_repeated_deadline_bursts_latch_until_enabled(latch_after):
    d = Driver(make_supervisor(deadline_burst=2, deadline_window=5, deadline_recover_s=0.05,
                               deadline_latch_bursts=latch_after))
    d.activate()
    for burst in range(1, latch_after + 1):
        d.run(2, missed=True)
        assert d.sup.state is SafetyState.HOLD and d.sup.bursts == burst
        d.run(50)
    assert d.sup.state is SafetyState.HOLD and "latched until enabled" in d.sup.detail
    d.sup.enable()
    d.run(50)
    assert d.sup.state is SafetyState.ACTIVE and d.sup.bursts == 0  # an explicit enable starts the count again


def test_default_burst_ignores_scheduling_noise_but_holds_a_loop_at_half_rate():
    d = Driver(make_supervisor())  # defaults: half of one second of ticks missed
    d.activate()
    for _ in range(20):  # a 12-deadline stall every 25 ticks: scheduling noise on a busy machine
        d.run(13)
        d.run(12, missed=True)
    assert d.sup.state is SafetyState.ACTIVE
    d.run(150, missed=True)  # more than half the deadlines of one second missed
    assert d.sup.state is SafetyState.HOLD and d.sup.cause is Cause.DEADLINE_BURST


def test_stale_floor_holds_within_the_floor_at_any_rate():
    d = Driver(make_supervisor(stale_floor_ms=100.0))
    d.activate()
    d.fresh["imu"] = False
    d.run(10)  # 100 ms: at the limit, still fresh (30 ms of periods would have tripped on noise)
    assert d.sup.state is SafetyState.ACTIVE
    d.run(1)
    assert d.sup.state is SafetyState.HOLD and d.sup.cause is Cause.STALE_INPUT
    assert "limit 100 ms" in d.sup.detail


def test_estop_is_latched_until_released_and_enabled():
    d = Driver(make_supervisor())
    d.activate()
    d.sup.estop("button")
    d.sup.enable()  # refused while asserted
    d.run(5)
    assert d.sup.state is SafetyState.ESTOP and d.sup.estop_asserted
    d.sup.disable()  # ignored while asserted
    d.sup.release_estop()
    d.run(5)
    assert d.sup.state is SafetyState.ESTOP and not d.sup.estop_asserted
    d.sup.enable()
    d.tick()
    assert d.sup.state is SafetyState.RAMP_IN


def test_estop_from_inactive_and_estop_commands():
    for choice, mode in (("damp", "damp"), ("hold", "hold"), ("none", None)):
        d = Driver(make_supervisor(estop_command=choice))
        d.tick()
        d.sup.estop("topic")
        out = d.tick()
        assert d.sup.state is SafetyState.ESTOP
        assert (out and out["mode"]) == mode
        if mode:
            np.testing.assert_allclose(out["position"], d.position)  # the measured pose


def test_disable_goes_inactive_and_publishes_nothing():
    d = Driver(make_supervisor())
    d.activate()
    d.sup.disable("~/enable false")
    assert d.run(3) == [None] * 3 and d.sup.state is SafetyState.INACTIVE
    assert d.sup.log.last.cause is Cause.DISABLE


def test_inactive_damp_command():
    d = Driver(make_supervisor(inactive_command="damp"))
    d.sup.estop()
    d.sup.release_estop()
    d.sup.enable()
    d.run(40)
    d.sup.disable()
    out = d.tick()
    assert out["mode"] == "damp" and (out["kp"] == 0).all()


def test_position_only_interface_damp_falls_back_to_hold_at_measured_pose():
    d = Driver(make_supervisor(command_interface="position"))
    assert any("position-only" in line for line in d.sup.report)
    d.activate()
    d.velocity = np.array([5.0, 0.0, 0.0])
    out = d.tick()
    assert d.sup.state is SafetyState.DAMP and out["mode"] == "hold"
    np.testing.assert_allclose(out["position"], d.position)


def test_clock_jump_does_not_turn_a_latched_hold_into_a_recoverable_one():
    d = Driver(make_supervisor(), policy=lambda: np.array([5.0, 0.0, 0.0]))  # beyond the hip margin
    d.sup.enable()
    d.run(3)
    assert d.sup.cause is Cause.LIMIT_MARGIN
    d.now -= 5.0
    d.run(20)
    assert d.sup.state is SafetyState.HOLD and d.sup.cause is Cause.LIMIT_MARGIN


def test_overspeed_while_holding_escalates_to_damp():
    d = Driver(make_supervisor(auto_recover=False))
    d.activate()
    d.fresh["imu"] = False
    d.run(5)
    d.velocity = np.array([0.0, 0.0, 11.0])
    assert d.tick()["mode"] == "damp" and d.sup.cause is Cause.JOINT_OVERSPEED


def test_reenable_ramps_from_measured_pose_not_stale_targets():
    d = Driver(make_supervisor(ramp_in_velocity_cap=0.5))
    d.activate()
    d.sup.disable()
    d.tick()
    d.position = np.array([-0.8, -1.5, 0.0])  # the robot was moved while inactive
    d.sup.enable()
    first = d.tick()
    assert np.abs(first["position"] - d.position).max() <= 0.5 * 0.01 + 1e-12
    assert d.resets == 2


def test_shutdown_publishes_safe_command_once_and_goes_inactive():
    d = Driver(make_supervisor())
    d.activate()
    last = d.tick()
    cmd = d.sup.shutdown("SIGTERM")
    assert cmd.mode.value == "damp" and (cmd.kp == 0).all()
    np.testing.assert_allclose(cmd.position, last["position"])
    assert d.sup.state is SafetyState.INACTIVE and d.sup.log.last.cause is Cause.SHUTDOWN
    assert d.tick() is None


def test_transition_listener_and_state_text():
    d = Driver(make_supervisor())
    seen = []
    d.sup.log.add_listener(seen.append)
    d.sup.log.add_listener(lambda t: 1 / 0)  # a broken listener does not break the machine
    d.activate()
    assert [str(t) for t in seen] == ["INACTIVE -> RAMP_IN (enable: enabled)",
                                      "RAMP_IN -> ACTIVE (ramp_done: reached the policy targets after 0.19 s)"]
    assert d.sup.state_text() == "ACTIVE ramp_done: reached the policy targets after 0.19 s"
    diag = d.sup.diagnostics()
    assert diag["safety state"] == "ACTIVE" and diag["safety transitions"] == "2"
    assert diag["input cmd_vel"].startswith("age ")


@pytest.mark.parametrize("kwargs, message", [
    ({"command_interface": "torque"}, "'command_interface'"),
    ({"inactive_command": "hold"}, "'inactive_command'"),
    ({"estop_command": "freeze"}, "'estop_command'"),
    ({"stale_periods": 0}, "'stale_periods' must be > 0"),
    ({"limit_margin": -0.1}, "'limit_margin' must be >= 0"),
    ({"deadline_burst": 6, "deadline_window": 5}, "'deadline_burst'"),
    ({"recover_periods": 0}, "'recover_periods'"),
    ({"ramp_in_velocity_cap": 0.0}, "'ramp_in_velocity_cap' must be > 0"),
    ({"damping_kd": {"hip": float("nan")}}, "'damping_kd'"),
])
def test_config_validation(kwargs, message):
    with pytest.raises(ConfigurationError, match=message):
        SafetyConfig(**kwargs)


@pytest.mark.parametrize("parameters, message", [
    ({"stale_period": 3}, "unknown safety parameters \\['stale_period'\\]"),
    ({"auto_recover": "yes"}, "'auto_recover' has the wrong type"),
    ({"deadline_burst": 2.5}, "'deadline_burst' has the wrong type"),
    ({"limit_margin": "wide"}, "'limit_margin' has the wrong type"),
])
def test_config_from_parameters_errors(parameters, message):
    with pytest.raises(ConfigurationError, match=message):
        SafetyConfig.from_parameters(parameters)


def test_config_from_parameters_values_and_per_joint():
    config = SafetyConfig.from_parameters({"stale_periods": 5, "auto_recover": False,
                                           "damping_kd": {"hip": 1.0, "knee": 2.0, "wheel": 0.1}})
    assert config.stale_periods == 5.0 and config.auto_recover is False
    sup = SafetySupervisor(JOINTS, toy_limits(), 100.0, [WatchedInput("joint_states")], config)
    np.testing.assert_array_equal(sup._damping_kd, [1.0, 2.0, 0.1])
    with pytest.raises(ConfigurationError, match="lacks joints \\['wheel'\\]"):
        SafetySupervisor(JOINTS, toy_limits(), 100.0, [], SafetyConfig(damping_kd={"hip": 1.0, "knee": 2.0}))
    with pytest.raises(ConfigurationError, match="joint limits are for"):
        SafetySupervisor(JOINTS, JointLimits.unlimited(["a"]), 100.0, [])
    with pytest.raises(ConfigurationError, match="control rate"):
        SafetySupervisor(JOINTS, toy_limits(), 0.0, [])


def test_tick_path_does_not_leak():
    d = Driver(make_supervisor())
    d.activate()
    target = np.array([0.2, -0.4, 1.0])
    d.policy = lambda: target
    tracemalloc.start()
    d.run(3000)  # traced: numpy's and Python's allocation caches fill here (bounded; not what this test is after)
    before = tracemalloc.take_snapshot()
    d.run(3000)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = sum(s.size_diff for s in after.compare_to(before, "filename")
                 if "leapp_ros/safety" in str(s.traceback))
    assert growth < 4096, growth
