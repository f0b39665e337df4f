"""The key names of the deploy node's /diagnostics values: written by the node and its safety supervisor, read by
the benches and tests (one place, so that a reader cannot ask for a key nobody publishes)."""

from __future__ import annotations

# the node (leapp_ros.node.deploy)
LIFECYCLE_STATE = "lifecycle state"
ACHIEVED_RATE_HZ = "achieved rate (Hz)"
TARGET_RATE_HZ = "target rate (Hz)"
TICK_MODE = "tick mode"
TICK_LATENCY_P50_MS = "tick latency p50 (ms)"
TICK_LATENCY_P99_MS = "tick latency p99 (ms)"
TICK_LATENCY_MAX_MS = "tick latency max (ms)"
NODE_OVERHEAD_P50_US = "node overhead p50 (us)"
NODE_OVERHEAD_P99_US = "node overhead p99 (us)"
TICK_WAKE_P50_P99_US = "tick wake-up latency p50 / p99 (us)"  # deadline (timer) or message (event) to tick start
TICK_DEADLINE_MISSES = "tick deadline misses"  # ticks that ended after their period (the node's deadline loop)
TICKS = "ticks"
TRANSPORT = "transport"
BACKEND = "backend"
BACKEND_CHOICE = "backend choice"
REALTIME = "realtime"
GC = "gc"
LAST_ERROR = "last error"
ENGINE_FAULTS = "engine faults"  # "<n> <exception type>, ..." of inference errors (each held as engine_fault)


def publishers(topic: str) -> str:
    """The key of a state topic's publisher count (more than one: a warning, or HOLD by parameter)."""
    return f"publishers {topic}"


def stage_latency(stage: str) -> str:
    """The key of one tick stage's "p50 / p99" in microseconds (stages: leapp_ros.node.timing.STAGES)."""
    return f"stage {stage} p50 / p99 (us)"


# the safety supervisor (leapp_ros.safety.supervisor)
SAFETY_STATE = "safety state"
SAFETY_CAUSE = "safety cause"
SAFETY_DETAIL = "safety detail"
SAFETY_TRANSITIONS = "safety transitions"
ESTOP_ASSERTED = "e-stop asserted"
TARGETS_CLAMPED = "targets clamped"
SAFETY_DEADLINE_MISSES = "safety deadline misses"  # "<n> total, <m> in the last <w> ticks"
SAFETY_DEADLINE_BURSTS = "safety deadline bursts"
SAFETY_STALE_LIMIT_MS = "safety stale limit (ms)"
COMMANDS_WITHHELD = "commands withheld (non-finite)"
TARGETS_STEP_BOUNDED = "targets step-bounded"  # "<n> (to measured +- <max_step_rad>)"
INFERENCE_BUDGET_MS = "inference budget (ms)"
