"""`leapp-ros bench BUNDLE --node`: the deploy node's own cost per tick (tick minus engine), late ticks and safety
transitions, at several rates, with the real node, real engine and real DDS.

The node runs in this process (so its per-stage tick profile is read exactly, not sampled from diagnostics) on its
own deadline timer; a stand-in robot in a second process (`python -m leapp_ros.bench.node_overhead --robot ...`)
publishes every input topic of the bundle at the rate over loopback DDS. Safety runs with its defaults: every
transition after the initial enable and ramp-in is counted. The machine's load is recorded before and after each
rate: figures from a busy machine are not idle figures.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import numpy as np

from leapp_ros.bench.process import interrupt
from leapp_ros.bundle import Bundle, load_bundle
from leapp_ros.engine import BackendOptions
from leapp_ros.errors import LeappRosError
from leapp_ros.node.timing import DeadlineLoop
from leapp_ros.percentiles import percentiles
from leapp_ros.safety import SafetyState

QS = (50, 90, 99, 99.9)
ACTIVATE_TIMEOUT_S = 30.0


def machine_state() -> dict[str, Any]:
    """Load and the busiest other processes right now (a shared or loaded machine skews every figure)."""
    state: dict[str, Any] = {"load_average": [round(x, 2) for x in os.getloadavg()],
                             "logical_cores": os.cpu_count()}
    try:
        out = subprocess.run(["ps", "-eo", "pcpu,comm", "--sort=-pcpu", "--no-headers"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.splitlines()
        state["busiest_processes"] = [line.strip() for line in out[:6]]
    except (OSError, subprocess.SubprocessError):
        state["busiest_processes"] = None
    return state


def _us(samples_ns: np.ndarray) -> dict[str, float | None]:
    values = percentiles(samples_ns / 1e3, QS)
    return {f"{k}_us": (round(v, 1) if v is not None else None) for k, v in values.items()}


def measure_rate(bundle: Bundle, options: BackendOptions, rate_hz: float, seconds: float, mode: str,
                 settle_s: float = 1.0, params: dict[str, Any] | None = None,
                 robot_priority: int = 0) -> dict[str, Any]:
    """One rate: start the robot, configure + activate the node, wait for safety ACTIVE, measure `seconds`."""
    from leapp_ros.node.deploy import DeployNode
    from leapp_ros.node.timing import STAGES, TickProfile
    from leapp_ros.transport import make_transport
    from leapp_ros.transport.loopback import loopback_environment

    env = loopback_environment()
    domain = int(env["ROS_DOMAIN_ID"])
    robot = subprocess.Popen([sys.executable, "-m", "leapp_ros.bench.node_overhead", "--robot", str(bundle.yaml_path),
                              "--rate", str(rate_hz), "--priority", str(robot_priority)], env={**os.environ, **env},
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    transport = make_transport("dds", "leapp_bench_node", "/", discovery="loopback", domain_id=domain)
    node = None
    before = machine_state()
    try:
        node = DeployNode(transport, {"bundle": str(bundle.yaml_path), "rate_hz": rate_hz, "backend": options.backend,
                                      "device": options.device, "threads": options.intra_op_threads,
                                      "tick_on": "joint_states" if mode == "event" else "timer",
                                      "enable_on_activate": True, "robot_description_topic": "",
                                      "safety.allow_no_joint_limits": True,  # the stand-in robot has no URDF
                                      **(params or {})})
        node.configure()
        node.stats = TickProfile(capacity=int(seconds * rate_hz * 1.5) + 1000)  # the whole window, not a ring
        give_up = time.monotonic() + ACTIVATE_TIMEOUT_S
        while True:
            try:
                node.activate()
                break
            except LeappRosError:
                if time.monotonic() > give_up or robot.poll() is not None:
                    tail = (robot.stderr.read() if robot.poll() is not None and robot.stderr else "")[-300:]
                    raise LeappRosError(f"the node never saw every input at {rate_hz:g} Hz: {node.last_error}; "
                                        f"robot: {robot.poll()} {tail}") from None
                time.sleep(0.05)
        supervisor = node.channels[0].supervisor
        stale_evidence: list[dict[str, Any]] = []
        supervisor.log.add_listener(lambda transition: _stale_evidence(node, transition, stale_evidence))
        while supervisor.state is not SafetyState.ACTIVE:
            if time.monotonic() > give_up:
                raise LeappRosError(f"safety never reached ACTIVE at {rate_hz:g} Hz: {supervisor.state_text()}")
            time.sleep(0.05)
        time.sleep(settle_s)
        loop = node._loop if isinstance(node._loop, DeadlineLoop) else None  # event mode: no deadline of its own
        misses0, ticks0, skipped0 = (loop.misses, loop.ticks, loop.skipped) if loop is not None else (0, 0, 0)
        transitions0 = supervisor.log.count
        node.stats.reset()
        began = time.monotonic()
        time.sleep(seconds)
        window_s = time.monotonic() - began
        stages, total, wake = node.stats.rows()
        misses = (loop.misses - misses0) if loop is not None else None
        ticks = (loop.ticks - ticks0) if loop is not None else len(total)
        skipped = (loop.skipped - skipped0) if loop is not None else None
        transitions = [str(t) for t in list(supervisor.log.recent)[-(supervisor.log.count - transitions0):]] \
            if supervisor.log.count > transitions0 else []
        state_end = supervisor.state_text()
        gc_runs = node._gc.collections
        describe = node.engine.describe()
        choice = node.engine_choice
        realtime = node.realtime_report.text()
    finally:
        if node is not None:
            node.shutdown()
        transport.shutdown()
        robot_out = interrupt(robot)
    engine = stages[:, STAGES.index("engine")]
    window_ns = (int(began * 1e9), int((began + window_s) * 1e9))
    robot_gaps = [round(gap / 1e6, 1) for at, gap in _robot_gaps(robot_out) if window_ns[0] <= at <= window_ns[1]]
    result: dict[str, Any] = {
        "rate_hz": rate_hz, "mode": mode, "seconds": round(window_s, 2), "ticks": int(ticks),
        "achieved_hz": round(len(total) / window_s, 2),
        "node_overhead": _us(total - engine), "engine": _us(engine), "tick": _us(total),
        "stages": {name: _us(stages[:, i]) for i, name in enumerate(STAGES)},
        # how late the OS woke the tick thread: after its deadline (timer) or after the joint state's arrival (event)
        "wake_up": _us(wake),
        # late: deadlines skipped plus ticks that ended after their period, over every deadline in the window
        "late_ticks": misses,
        "late_fraction": round(misses / (ticks + skipped), 6) if misses is not None and skipped is not None and ticks
        else None,
        "skipped_deadlines": skipped,
        "safety_transitions": len(transitions), "transitions": transitions,
        "stale_evidence": stale_evidence,
        # the stand-in robot's own stalls (publish cycles more than 50 ms apart, ms) in the window: a stale-input
        # HOLD with a robot gap above the limit is the safety layer catching a silent sender, as it must
        "robot_publish_gaps_over_50ms": robot_gaps,
        "safety_state_end": state_end,
        "robot_priority": robot_priority or None,
        "gc_collections_between_ticks": gc_runs, "backend": describe, "backend_choice": choice,
        "realtime": realtime, "machine_before": before, "machine_after": machine_state()}
    if mode == "event":
        result["late_ticks"] = result["late_fraction"] = None  # timed at the robot: python -m leapp_ros.bench.e2e
    return result


def _robot_gaps(output: str) -> list[tuple[int, int]]:
    for line in reversed(output.strip().splitlines()):
        try:
            return [tuple(g) for g in json.loads(line)["publish_gaps_over_50ms"]]
        except (ValueError, KeyError, TypeError):
            continue
    return []


def _stale_evidence(node: Any, transition: Any, found: list[dict[str, Any]]) -> None:
    """At a stale-input HOLD: per topic, the newest message's age since arrival, since the sender's header stamp, and
    its transit time (arrival minus stamp; one clock on one machine). A short transit means the message was sent
    late (the sender stalled); a long one that it was late on its way in (transport or the node's receive side)."""
    if transition.cause.value != "stale_input" or node.plan is None:
        return
    now = node.transport.now_ns()
    found.append({"transition": str(transition), "topics": {
        t.topic: {"arrival_age_ms": round((now - t.bindings[0].received_ns) / 1e6, 1),
                  "stamp_age_ms": round((now * 1e-9 - t.last_stamp_s) * 1e3, 1) if t.last_stamp_s > 0 else None,
                  "transit_ms": round((t.bindings[0].received_ns * 1e-9 - t.last_stamp_s) * 1e3, 1)
                  if t.last_stamp_s > 0 else None}
        for t in node.plan.inputs.topics}})


def platform_floor(rate_hz: float, seconds: float) -> dict[str, Any]:
    """The same deadline loop with an empty tick, alone in this process: the late ticks and wake-up latency this
    machine gives any Python thread at this rate, right now. The node's figures are read against it."""
    wakes: list[int] = []
    loop: DeadlineLoop

    def tick(_missed: bool) -> None:
        wakes.append(loop.wake_late_ns)
    loop = DeadlineLoop(1.0 / rate_hz, tick, name="leapp-bench-floor")
    before = machine_state()
    loop.start()
    time.sleep(seconds)
    loop.stop()
    deadlines = loop.ticks + loop.skipped
    return {"rate_hz": rate_hz, "seconds": seconds, "ticks": loop.ticks, "late_ticks": loop.misses,
            "late_fraction": round(loop.misses / deadlines, 6) if deadlines else None,
            "wake_up": _us(np.array(wakes, dtype=np.float64)), "machine_before": before}


def run_node_overhead(bundle: Bundle, options: BackendOptions, rates: list[float], seconds: float,
                      mode: str = "timer", params: dict[str, Any] | None = None, robot_priority: int = 0,
                      floor_seconds: float = 0.0) -> dict[str, Any]:
    """Every rate in turn; with `floor_seconds`, each rate's platform floor first (timer mode)."""
    results = []
    for rate in rates:
        floor = platform_floor(rate, floor_seconds) if floor_seconds > 0 else None
        result = measure_rate(bundle, options, rate, seconds, mode, params=params, robot_priority=robot_priority)
        results.append({**result, "platform_floor": floor} if floor is not None else result)
    return {"mode": mode, "seconds_per_rate": seconds, "parameters": dict(params or {}),
            "robot_priority": robot_priority or None, "rates": results}


def format_node(section: dict[str, Any]) -> list[str]:
    lines = [f"deploy node ({section['mode']} mode), {section['seconds_per_rate']:g} s per rate: "
             "node overhead = tick minus engine"]
    lines.append(f"{'rate':>7} {'ticks':>7} {'overhead p50/p99 us':>20} {'engine p50/p99 us':>18} "
                 f"{'late':>13} {'floor late':>11} {'safety':>7}  load")
    for r in section["rates"]:
        late = "-" if r["late_ticks"] is None else f"{r['late_ticks']} ({100 * r['late_fraction']:.3f}%)"
        floor = r.get("platform_floor")
        floor_late = "-" if not floor or floor["late_fraction"] is None else f"{100 * floor['late_fraction']:.3f}%"
        lines.append(f"{r['rate_hz']:>7g} {r['ticks']:>7} {r['node_overhead']['p50_us']:>9.1f}/"
                     f"{r['node_overhead']['p99_us']:<10.1f} {r['engine']['p50_us']:>8.1f}/"
                     f"{r['engine']['p99_us']:<9.1f}"
                     f" {late:>13} {floor_late:>11} {r['safety_transitions']:>7}"
                     f"  {r['machine_before']['load_average']}")
    return lines


# ---------------------------------------------------------------- the stand-in robot (its own process)
def run_robot(bundle_path: str, rate_hz: float, priority: int = 0) -> int:
    """Publish every input topic of the bundle at `rate_hz` until SIGINT (deadline-paced, stamped); with
    `priority`, under SCHED_FIFO like a robot's driver (set before DDS starts its threads, which inherit it)."""
    from leapp_ros.bench.fake_robot import set_stamp, topic_messages
    from leapp_ros.binding import BindingSettings, compile_plan
    from leapp_ros.transport import DEFAULT, make_transport

    if priority:
        try:
            os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
        except (OSError, AttributeError) as exc:
            print(f"stand-in robot: SCHED_FIFO priority {priority} refused: {exc} (needs root or CAP_SYS_NICE)",
                  file=sys.stderr, flush=True)
            return 2
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    plan = compile_plan(load_bundle(bundle_path), BindingSettings.from_params({}))
    transport = make_transport("dds", "leapp_bench_robot", "/", discovery="loopback",
                               domain_id=int(os.environ["ROS_DOMAIN_ID"]))
    try:
        publishers = [(transport.create_publisher(topic, type_name, DEFAULT), msg)
                      for topic, type_name, msg in topic_messages(plan, transport.new_message)]
        period = int(1e9 / rate_hz)
        deadline = time.monotonic_ns()
        last = deadline
        gaps: list[tuple[int, int]] = []  # (monotonic ns, gap ns) of publish cycles more than 50 ms apart
        while not stop:
            cycle = time.monotonic_ns()
            if cycle - last > 50_000_000:
                gaps.append((cycle, cycle - last))
            last = cycle
            stamp = transport.now_ns()
            for publisher, msg in publishers:
                set_stamp(msg, stamp)
                publisher.publish(msg)
            deadline += period
            delay = deadline - time.monotonic_ns()
            if delay > 0:
                time.sleep(delay / 1e9)
            elif delay < -10 * period:
                deadline = time.monotonic_ns()  # far behind (the machine stalled): realign, do not burst
    finally:
        transport.shutdown()
    print(json.dumps({"publish_gaps_over_50ms": gaps}), flush=True)  # the bench reads the ones in its window
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leapp_ros.bench.node_overhead", description=__doc__)
    parser.add_argument("--robot", metavar="BUNDLE", required=True, help="run the stand-in robot for BUNDLE")
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--priority", type=int, default=0, help="SCHED_FIFO priority 1-99 (0: normal scheduling)")
    args = parser.parse_args(argv)
    return run_robot(args.robot, args.rate, args.priority)


if __name__ == "__main__":
    sys.exit(main())
