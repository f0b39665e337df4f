"""Soak benchmark: the deploy node (`leapp-ros run`, own process) at a high rate over DDS with a fake robot for
minutes; reports the node's RSS growth, missed deadlines, tick latency p99, command gaps and safety transitions.

`leapp-ros bench --soak` (or `python -m leapp_ros.bench.soak`) - a benchmark command, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from leapp_ros import diagnostic_keys as K
from leapp_ros.message_types import DIAGNOSTIC_ARRAY
from leapp_ros.node.lifecycle import State as LifecycleState
from leapp_ros.percentiles import percentiles
from leapp_ros.safety import SafetyState

DEFAULT_OUTPUT = Path("out") / "soak.json"  # out/ is git-ignored
DEFAULT_BUNDLE = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "bundles" / "anymal_like_flat"
# Staleness and deadline bursts at their defaults: the stale floor and burst size keep scheduling noise out.
SAFETY = {"ramp_in_duration_s": 0.5, "ramp_in_velocity_cap": 2.0,
          "allow_no_joint_limits": True}  # the stand-in robot has no URDF


def _number(values: dict[str, str], key: str) -> float:
    try:
        return float(str(values.get(key, "nan")).split()[0])
    except ValueError:
        return float("nan")


class DiagnosticsLog:
    """Keeps the node's latest /diagnostics values and the worst p99 seen."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.worst_p99_ms = 0.0
        self.samples = 0
        self._lock = threading.Lock()

    def __call__(self, msg: Any) -> None:
        values = {kv.key: kv.value for status in msg.status for kv in status.values}
        with self._lock:
            self.values = values
            self.samples += 1
            p99 = _number(values, K.TICK_LATENCY_P99_MS)
            if p99 == p99 and values.get(K.LIFECYCLE_STATE) == LifecycleState.ACTIVE:
                self.worst_p99_ms = max(self.worst_p99_ms, p99)

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self.values)


def run_soak(bundle: Path, duration_s: float, rate_hz: float, warmup_s: float, output: Path | None,
             sample_s: float = 5.0, safety: dict[str, Any] | None = None) -> dict[str, Any]:
    import psutil

    from leapp_ros.bench.fake_robot import FakeRobot
    from leapp_ros.bundle import load_bundle
    from leapp_ros.transport import DEFAULT
    from leapp_ros.transport.dds import DdsTransport
    from leapp_ros.transport.loopback import loopback_environment

    os.environ.update(loopback_environment(None))  # loopback only, a fresh domain id
    loaded = load_bundle(bundle)
    joints = next(p.last_axis_names for p in loaded.outputs if p.connection is not None
                  and p.connection.attribute.startswith("set_joint_position_target"))
    workdir = Path(tempfile.mkdtemp(prefix="leapp_soak_"))
    params = workdir / "params.yaml"
    params.write_text(yaml.safe_dump({"leapp_deploy": {"ros__parameters": {
        "diagnostics_period_s": 1.0, "safety": {**SAFETY, **(safety or {})}}}}))
    transport = DdsTransport("soak_robot", "/")
    diagnostics = DiagnosticsLog()
    transport.create_subscription("/diagnostics", DIAGNOSTIC_ARRAY, DEFAULT, diagnostics)
    robot = FakeRobot(transport, joints or (), rate_hz, keep=1000).start()
    log_path = workdir / "node.log"
    with log_path.open("w") as log:
        node = subprocess.Popen([sys.executable, "-m", "leapp_ros.node.run_cli", str(bundle), "--transport", "dds",
                                 "--discovery", "loopback", "--rate", str(rate_hz), "--params-file", str(params),
                                 "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT, env=os.environ)
    process = psutil.Process(node.pid)
    rss: list[tuple[float, int]] = []
    load: list[float] = []  # 1-minute load average of the host: other processes skew every timing figure
    started = time.monotonic()
    try:
        while diagnostics.snapshot().get(K.SAFETY_STATE) != SafetyState.ACTIVE:
            if node.poll() is not None or time.monotonic() - started > 60:
                raise RuntimeError(f"the node did not reach ACTIVE:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.1)
        active_at = time.monotonic()
        commands_at_active = robot.received.count
        print(f"soak: node ACTIVE after {active_at - started:.1f} s; running {duration_s:.0f} s at {rate_hz:.0f} Hz",
              flush=True)
        next_sample = active_at
        while time.monotonic() - active_at < duration_s:
            if node.poll() is not None:
                raise RuntimeError(f"the node exited during the soak:\n{log_path.read_text()[-3000:]}")
            now = time.monotonic()
            if now >= next_sample:
                rss.append((now - active_at, process.memory_info().rss))
                load.append(os.getloadavg()[0])
                next_sample += sample_s
                if len(rss) % 12 == 0:
                    v = diagnostics.snapshot()
                    print(f"soak: t={now - active_at:5.0f} s rss={rss[-1][1] / 2**20:.1f} MiB "
                          f"state={v.get(K.SAFETY_STATE)} p99={v.get(K.TICK_LATENCY_P99_MS)} ms "
                          f"misses={v.get(K.TICK_DEADLINE_MISSES)} transitions={v.get(K.SAFETY_TRANSITIONS)}",
                          flush=True)
            time.sleep(0.2)
        final = diagnostics.snapshot()
        rss.append((time.monotonic() - active_at, process.memory_info().rss))
        commands = robot.received.count - commands_at_active
    finally:
        if node.poll() is None:
            node.send_signal(signal.SIGINT)
        rc = node.wait(30)
        robot.stop()
        transport.shutdown()
    gaps_ms = robot.received.gaps()[-max(commands - 1, 1):] / 1e6
    after_warmup = [r for t, r in rss if t >= warmup_s] or [r for _, r in rss]
    node_log = log_path.read_text()
    report = {
        "bundle": str(bundle), "rate_hz": rate_hz, "safety_parameters": {**SAFETY, **(safety or {})},
        "cpu_count": os.cpu_count(), "host_load_1min_mean": float(np.mean(load)) if load else None,
        "host_load_1min_max": float(np.max(load)) if load else None, "duration_s": duration_s, "warmup_s": warmup_s,
        "node_exit_code": rc, "traceback_in_node_log": "Traceback" in node_log,
        "rss_mib_start": rss[0][1] / 2**20, "rss_mib_after_warmup": after_warmup[0] / 2**20,
        "rss_mib_end": rss[-1][1] / 2**20, "rss_growth_mib_after_warmup": (after_warmup[-1] - after_warmup[0]) / 2**20,
        "deadline_misses": _number(final, K.TICK_DEADLINE_MISSES),
        "safety_deadline_misses": final.get(K.SAFETY_DEADLINE_MISSES),
        "ticks": _number(final, K.TICKS), "achieved_rate_hz": _number(final, K.ACHIEVED_RATE_HZ),
        "tick_latency_p50_ms_last_window": _number(final, K.TICK_LATENCY_P50_MS),
        "tick_latency_p99_ms_last_window": _number(final, K.TICK_LATENCY_P99_MS),
        "tick_latency_p99_ms_worst_window": diagnostics.worst_p99_ms,
        "tick_latency_max_ms": _number(final, K.TICK_LATENCY_MAX_MS),
        "safety_state_end": final.get(K.SAFETY_STATE), "safety_transitions": _number(final, K.SAFETY_TRANSITIONS),
        "targets_clamped": _number(final, K.TARGETS_CLAMPED),
        "commands_received": commands, "commands_non_finite": robot.received.non_finite,
        **{f"command_gap_ms_{q}": v for q, v in percentiles(gaps_ms).items()},
        "command_gap_ms_max": float(gaps_ms.max()) if len(gaps_ms) else None,
        "rss_samples_mib": [(round(t, 1), round(r / 2**20, 2)) for t, r in rss],
        "node_log": str(log_path),
    }
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(report, indent=2))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="leapp-ros bench --soak", description=__doc__)
    parser.add_argument("--bundle", type=Path, default=DEFAULT_BUNDLE, help="bundle directory or YAML")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of ACTIVE running (default 600)")
    parser.add_argument("--rate", type=float, default=500.0, help="node tick and robot publish rate (default 500 Hz)")
    parser.add_argument("--warmup", type=float, default=30.0, help="RSS growth is measured after this (default 30 s)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"JSON report (default {DEFAULT_OUTPUT})")
    parser.add_argument("--safety", action="append", default=[], metavar="NAME=VALUE",
                        help="override a safety parameter of the node (repeatable), e.g. deadline_burst=10")
    args = parser.parse_args(argv)
    overrides = {}
    for text in args.safety:
        name, _, value = text.partition("=")
        overrides[name.strip()] = yaml.safe_load(value)
    report = run_soak(args.bundle, args.duration, args.rate, args.warmup, args.output, safety=overrides)
    summary = {k: v for k, v in report.items() if k != "rss_samples_mib"}
    print(json.dumps(summary, indent=2))
    ok = (report["node_exit_code"] == 0 and not report["traceback_in_node_log"]
          and report["commands_non_finite"] == 0 and report["safety_state_end"] == SafetyState.ACTIVE)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
