"""The deploy node core: lifecycle transitions, the tick (inputs -> engine -> safety -> publish), reset,
e-stop and diagnostics, over any `Transport` (rclpy or DDS)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import numpy as np

from leapp_ros import diagnostic_keys as K
from leapp_ros.binding import BindingPlan, BindingSettings, compile_plan, format_binding_plan
from leapp_ros.binding.inputs import Arrival, TopicInput
from leapp_ros.bundle import load_bundle
from leapp_ros.errors import ConfigurationError, EngineError, LeappRosError
from leapp_ros.message_types import BOOL, DIAGNOSTIC_ARRAY, EMPTY, FLOAT64_MULTI_ARRAY, JOINT_STATE, STRING
from leapp_ros.node import parameters as P
from leapp_ros.node.channel import CommandChannel
from leapp_ros.node.diagnostics import ERROR, OK, WARN, age_text, build_diagnostics
from leapp_ros.node.guard import SafetyGuard
from leapp_ros.node.lifecycle import Lifecycle, State
from leapp_ros.node.realtime import (
    CpuLatencyHold,
    RealtimeReport,
    RealtimeSettings,
    ScheduledGc,
    SwitchInterval,
    apply_to_current_thread,
    lock_memory,
)
from leapp_ros.node.timing import STAGES, DeadlineLoop, EventLoop, TickProfile
from leapp_ros.safety import Cause, PolicyAction, SafetyState
from leapp_ros.text import exception_summary
from leapp_ros.transport import qos_profile
from leapp_ros.transport.base import Transport

LOG = logging.getLogger("leapp_ros.node")
_SKIP, _RESET_AND_RUN = PolicyAction.SKIP, PolicyAction.RESET_AND_RUN
SHUTDOWN_TICK_WAIT_S = 30.0  # shutdown waits this long for a tick blocked in inference before releasing the engine
# The diagnostics thread builds its message in steps of at most ~0.2 ms of Python and sleeps this long between them:
# a thread waiting for the interpreter lock (the tick) gets it then, instead of waiting for the whole message (3 ms
# in one piece at 1 kHz before; Python hands the lock over only every 5 ms otherwise).
DIAGNOSTICS_YIELD_S = 50e-6



class DeployNode:
    """Runs one bundle on one robot. Lifecycle: configure -> activate <-> deactivate -> cleanup -> shutdown."""

    def __init__(self, transport: Transport, params: Mapping[str, Any] | None = None, *,
                 topic_lifecycle: bool = True) -> None:
        self.transport = transport
        self.params = P.resolve(params or {})
        self.lifecycle = Lifecycle()
        self.plan: BindingPlan | None = None
        self.engine: Any = None
        self.engine_choice = ""
        self.channels: list[CommandChannel] = []
        self.rate_hz = 0.0
        self.stats = TickProfile()
        self.realtime = RealtimeSettings.from_params(self.params)
        self.realtime_report = RealtimeReport()
        self._memory_locked = False  # mlockall(MCL_FUTURE) lasts for the process: once is enough
        self._cpu_latency = CpuLatencyHold()
        self._switch_interval = SwitchInterval()
        self._gc = ScheduledGc()
        self._tick_lock = threading.Lock()
        self._reset_requested = False
        self._loop: DeadlineLoop | EventLoop | None = None
        self._subscriptions: list[Any] = []
        self._event_topic: Any = None
        self._rejections_logged = 0
        self._guard: SafetyGuard | None = None
        self._engine_faults: dict[str, int] = {}  # exception type -> count (each type logged once)
        self._diag_stop = threading.Event()
        self._diag_thread: threading.Thread | None = None
        self.last_error: str | None = None
        self._transition_lock = threading.Lock()
        # Always-on endpoints: reset, e-stop, diagnostics (topics work on both transports; Trigger with rclpy).
        self._diag_pub = transport.create_publisher("/diagnostics", DIAGNOSTIC_ARRAY,
                                                    qos_profile("default"))
        self._state_pub = transport.create_publisher("~/state", STRING, qos_profile("latched"))
        transport.create_subscription("~/reset", EMPTY, qos_profile("default"), lambda _m: self.request_reset())
        self._safety_pub = transport.create_publisher("~/safety_state", STRING, qos_profile("latched"))
        transport.create_subscription("~/enable", BOOL, qos_profile("default"), self._on_enable)
        if topic_lifecycle:  # DDS has no lifecycle services: `~/transition` (std_msgs/String) stands in for them
            transport.create_subscription("~/transition", STRING, qos_profile("default"), self._on_transition)
        transport.create_subscription(str(self.params["estop.topic"]), BOOL, qos_profile("default"),
                                      self._on_estop)
        transport.create_service("~/reset", "std_srvs/srv/Trigger", self._reset_service)
        transport.create_service("~/estop", "std_srvs/srv/SetBool", self._estop_service)  # rclpy only
        self._publish_state()

    # ------------------------------------------------------------------ lifecycle transitions
    def configure(self) -> None:
        """Load the bundle, compile the binding plan, warm the backend, check topics, create endpoints."""
        self.lifecycle.begin("configure")
        try:
            self._configure()
        except BaseException as exc:
            self._release()
            self.lifecycle.fail("configure")
            self._note_error(exc)
            raise
        self.lifecycle.finish("configure")
        self.last_error = None  # diagnostics' "last error" is about the failure this transition just fixed
        self._publish_state()

    def _configure(self) -> None:
        from leapp_ros.engine import BackendOptions

        params = self.params
        if not params["bundle"]:
            raise ConfigurationError("parameter 'bundle' is empty: give the path of the bundle YAML")
        bundle = load_bundle(params["bundle"])
        for tolerance in bundle.tolerances:  # what the loader assumed beyond the strict format
            LOG.warning("bundle '%s': assumed: %s", bundle.name, tolerance)
        rate = float(params["rate_hz"] or 0.0) or bundle.rate_hz
        if not rate:
            raise ConfigurationError(f"bundle '{bundle.name}' states no policy rate (no pipeline.configs.frequency "
                                     "or semantic.scene.dt): set the rate_hz parameter (leapp-ros run --rate HZ)")
        if params["tick_on"] not in ("timer", "joint_states"):
            raise ConfigurationError(f"parameter 'tick_on' must be 'timer' or 'joint_states', "
                                     f"got {params['tick_on']!r}")
        self.rate_hz = rate
        plan = compile_plan(bundle, BindingSettings.from_params(params))
        self._check_types(plan)
        self.plan = plan
        self.engine, self.engine_choice = self._build_engine(bundle, BackendOptions(
            backend=str(params["backend"]), device=str(params["device"]), intra_op_threads=int(params["threads"])))
        constant = self._warm_up()
        for gain in plan.outputs.gains:
            gain.constant = constant[gain.port.key]
        channel_params = dict(params)
        if not params["robot_description"] and not params["urdf_file"]:
            channel_params["robot_description"] = self._latched_robot_description()
        self.channels = [CommandChannel.create(target, plan, rate, channel_params, self.transport)
                         for target in plan.outputs.targets]
        if not self.channels:
            raise ConfigurationError(f"bundle '{bundle.name}' has no joint target output to publish")
        plan.inputs.future_tolerance_s = min(c.supervisor.config.future_stamp_tolerance_s for c in self.channels)
        for topic in plan.inputs.topics:
            self._subscriptions.append(self.transport.create_subscription(
                topic.topic, topic.type_name, qos_profile(topic.qos), partial(self._on_input, topic)))
        if params["tick_on"] == "joint_states":
            self._event_topic = next((t for t in plan.inputs.topics if t.type_name == JOINT_STATE),
                                     None)
            if self._event_topic is None:
                raise ConfigurationError("tick_on 'joint_states' needs a bundle with a joint-state input")
        LOG.info("configured bundle '%s' at %.1f Hz (%s); backend %s\n%s", bundle.name, rate,
                 "rate_hz parameter" if params["rate_hz"] else bundle.rate_source, self.engine.describe(),
                 format_binding_plan(plan))
        for channel in self.channels:
            for line in channel.supervisor.report:
                LOG.info("safety: %s", line)
            channel.supervisor.log.add_listener(lambda _transition: self._publish_safety_state())
        self._publish_safety_state()

    def _latched_robot_description(self) -> str:
        """The URDF from the latched robot_description topic (robot_state_publisher), or '' after the wait."""
        topic, wait_s = str(self.params["robot_description_topic"]), float(self.params["robot_description_wait_s"])
        if not topic or wait_s <= 0:
            return ""
        received: list[str] = []
        arrived = threading.Event()

        def on_description(msg: Any) -> None:
            received.append(str(msg.data))
            arrived.set()
        subscription = self.transport.create_subscription(topic, STRING, qos_profile("latched"),
                                                          on_description)
        try:
            arrived.wait(wait_s)
        finally:
            close = getattr(subscription, "close", None)
            if close is not None:
                close()
        if received:
            LOG.info("joint limits: URDF from the latched topic %s (%d characters)", topic, len(received[-1]))
        return received[-1] if received else ""

    def _check_types(self, plan: BindingPlan) -> None:
        types = {t.type_name for t in plan.inputs.topics} | {t.type_name for t in plan.outputs.targets}
        types |= {FLOAT64_MULTI_ARRAY} if plan.outputs.gains else set()
        for type_name in sorted(types):
            try:
                self.transport.message_class(type_name)
            except Exception as exc:  # noqa: BLE001 - TransportError, or rclpy import errors
                raise ConfigurationError(f"message type {type_name} is not available on the {self.transport.name} "
                                         f"transport: {exc}") from None

    def _build_engine(self, bundle: Any, options: Any) -> tuple[Any, str]:
        """The engine factory shared with `bench` and `inspect` (auto measures the candidates here)."""
        from leapp_ros.engine.autoselect import create_engine
        return create_engine(bundle, options, log=LOG.info)

    def _warm_up(self) -> dict[str, bool]:
        """Run the backend twice on different inputs (loads kernels); gains equal on both runs are constant."""
        assert self.plan is not None and self.engine is not None
        rng = np.random.default_rng(0)
        results = []
        for scale in (0.1, 0.3):
            feed = {p.key: (rng.standard_normal(p.shape) * scale).astype(p.dtype) for p in self.plan.bundle.inputs}
            try:
                results.append(self.engine.run(feed))
            except LeappRosError:
                raise
            except Exception as exc:  # noqa: BLE001 - a model that loads but cannot run: one line at configure
                raise EngineError(f"bundle '{self.plan.bundle.name}': the model fails on its warm-up run: "
                                  f"{exception_summary(exc)}") from None
        self.engine.reset()
        self.plan.outputs.gather(results[0])  # constant gains are known (and publishable) from here on
        return {g.port.key: bool(np.array_equal(results[0][g.port.key], results[1][g.port.key]))
                for g in self.plan.outputs.gains}

    def activate(self) -> None:
        """Refuse until every required input arrived; then enable safety and start ticking."""
        self.lifecycle.begin("activate")
        assert self.plan is not None
        missing = self.plan.inputs.missing()
        stale = [] if missing else self.plan.inputs.stale(self.transport.now_ns())
        if missing or stale:
            self.lifecycle.fail("activate", back_to=State.INACTIVE)
            error = ConfigurationError("cannot activate: " + (
                "required inputs have not arrived: " + "; ".join(missing) if missing else
                "inputs older than input_timeout_s: " + "; ".join(stale)))
            self._note_error(error)
            raise error
        self.stats.reset()
        if self.realtime.lock_memory and not self._memory_locked:
            lock_memory(self.realtime_report)
            self._memory_locked = True
        self._cpu_latency.engage(self.realtime.cpu_dma_latency_us, self.realtime_report)
        self._switch_interval.engage(self.realtime.switch_interval_us, self.realtime_report)
        if self.realtime.gc == "scheduled":
            self._gc.engage()  # everything configure allocated is frozen: collections never scan it again
        for channel in self.channels:
            channel.publish_constant_gains(self.transport.now_ns())
            if self.params["enable_on_activate"] or self.params["autostart"]:
                channel.supervisor.enable("enable_on_activate")
        self.lifecycle.finish("activate")
        self.last_error = None
        if self._event_topic is None:
            self._loop = DeadlineLoop(1.0 / self.rate_hz, self.tick, between_ticks=self._gc.step,
                                      on_start=self._tick_thread_settings)
        else:  # ticks on its own thread too: the receiving thread stays free for e-stop and disable
            self._loop = EventLoop(self.tick, between_ticks=self._gc.step, on_start=self._tick_thread_settings)
        self._loop.start()
        state_topics = [t.topic for t in self.plan.inputs.topics if any(not b.role.is_command for b in t.bindings)]
        self._guard = SafetyGuard(self.channels, self.transport, state_topics, 1.0 / self.rate_hz)
        self._guard.start()
        self._start_diagnostics()
        self._publish_state()
        LOG.info("activated: ticking %s", f"at {self.rate_hz:.1f} Hz" if self._event_topic is None else
                 f"on every message of {self._event_topic.topic}")

    def deactivate(self) -> None:
        self.lifecycle.begin("deactivate")
        self._stop_loop()
        for channel in self.channels:
            channel.supervisor.disable("deactivate")
        self.tick(False)  # apply the disable now: INACTIVE publishes nothing (or the configured command)
        self.lifecycle.finish("deactivate")
        self._publish_state()

    def cleanup(self) -> None:
        self.lifecycle.begin("cleanup")
        self._release()
        self.lifecycle.finish("cleanup")
        self._publish_state()

    def shutdown(self) -> None:
        """From any state: publish the safe command once (first: a tick may be blocked in inference), wait for
        that tick to finish (the engine is never closed under a running inference), release, finalize."""
        if self.lifecycle.state is State.FINALIZED:
            return
        for channel in self.channels:
            channel.publish_shutdown_command(self.transport.now_ns())
        self._stop_loop()
        if self._tick_lock.acquire(timeout=SHUTDOWN_TICK_WAIT_S):
            self._tick_lock.release()
        else:
            LOG.error("shutdown: a tick is still blocked after %.0f s; the engine is left open", SHUTDOWN_TICK_WAIT_S)
            self.engine = None
        self._release()
        self.lifecycle.finalize()
        self._publish_state()

    def _tick_thread_settings(self) -> None:
        apply_to_current_thread(self.realtime, self.realtime_report)

    def _stop_loop(self) -> None:
        if self._loop is not None:
            self._loop.stop()
            self._loop = None
        if self._guard is not None:
            self._guard.stop()
            self._guard = None
        self._gc.release()
        self._cpu_latency.release()
        self._switch_interval.release()
        self._diag_stop.set()
        if self._diag_thread is not None:
            self._diag_thread.join(timeout=2.0)
            self._diag_thread = None

    def _release(self) -> None:
        self._stop_loop()
        for sub in self._subscriptions:
            close = getattr(sub, "close", None)
            if close is not None:
                close()
        self._subscriptions.clear()
        for channel in self.channels:
            channel.close()
        self.channels = []
        if self.engine is not None:
            self.engine.close()
        self.engine, self.plan, self._event_topic = None, None, None
        self._gc.release()

    # ------------------------------------------------------------------ inputs
    def _on_input(self, topic: TopicInput, msg: Any) -> None:
        """Transport thread: the input ledger records the arrival once (safety reads ages from it)."""
        plan = self.plan
        if plan is None:
            return
        arrival = plan.inputs.receive(topic, msg, self.transport.now_ns())
        if arrival is Arrival.ACCEPTED:
            if topic is self._event_topic:
                loop = self._loop
                if isinstance(loop, EventLoop):
                    loop.notify()
        elif arrival is Arrival.REJECTED:
            self._rejections_logged += 1
            if self._rejections_logged <= 5 or self._rejections_logged % 100 == 0:
                LOG.warning("rejected message (%d so far): %s", self._rejections_logged, topic.last_rejection)

    # ------------------------------------------------------------------ the tick
    def tick(self, deadline_missed: bool) -> None:
        """Inputs -> safety gate -> engine -> safety filter -> publish. Never raises (errors go to HOLD)."""
        if not self._tick_lock.acquire(blocking=False):
            return  # a tick is still running (event mode): drop this one rather than queue
        try:
            clock = time.monotonic_ns
            start = clock()
            plan, engine = self.plan, self.engine
            if plan is None or engine is None:
                return
            now = self.transport.now_ns()
            plan.inputs.snapshot(now)
            inputs_done = clock()
            now_s = now * 1e-9
            run = False
            reset = self._reset_requested
            self._reset_requested = False
            for channel in self.channels:
                action = channel.begin(now_s, deadline_missed)
                run = run or action is not _SKIP
                reset = reset or action is _RESET_AND_RUN
            safety_done = clock()
            outputs = None
            fault = None
            if run:
                try:
                    if reset:
                        engine.reset()
                    outputs = engine.run(plan.inputs.engine_inputs)
                    plan.outputs.gather(outputs)
                except Exception as exc:  # noqa: BLE001 - any backend's error is an engine fault: HOLD
                    outputs = None
                    fault = self._engine_fault(exc)
            elif reset:
                engine.reset()
            engine_done = clock()
            ran = outputs is not None
            for channel in self.channels:
                channel.end(ran, now, fault)
            loop = self._loop
            self.stats.record(start, inputs_done, safety_done, engine_done, clock(),
                              loop.wake_late_ns if loop is not None else 0)
        except Exception as exc:  # noqa: BLE001 - the tick thread must survive; safety holds on the next tick
            self._note_error(exc)
            for channel in self.channels:
                channel.tick_started_s = None  # no tick in flight any more (the inference watchdog must not trip)
            kind = f"tick {type(exc).__name__}"
            self._engine_faults[kind] = self._engine_faults.get(kind, 0) + 1
            if self._engine_faults[kind] == 1:  # once per type: a failure that repeats every tick is counted
                LOG.exception("tick failed (further %s errors are counted in diagnostics)", type(exc).__name__)
        finally:
            self._tick_lock.release()

    # ------------------------------------------------------------------ requests
    def request_reset(self) -> None:
        """Restore the policy's feedback state from its initial values at the next tick."""
        self._reset_requested = True
        LOG.info("reset requested: feedback state restored at the next tick")

    def _reset_service(self, _request: Any, response: Any) -> Any:
        self.request_reset()
        response.success = self.plan is not None
        response.message = "feedback state reset at the next tick" if self.plan else "not configured"
        return response

    def enable(self, detail: str = "enable requested") -> None:
        """Request RAMP_IN (refused by the supervisor while the e-stop is asserted or inputs are stale)."""
        for channel in self.channels:
            channel.supervisor.enable(detail)

    def disable(self, detail: str = "disable requested") -> None:
        """INACTIVE at once, from the calling thread (a tick blocked in inference cannot publish after it)."""
        for channel in self.channels:
            channel.disable_now(detail, self.transport.now_ns())

    def _on_enable(self, msg: Any) -> None:
        if bool(msg.data):
            self.enable("~/enable true")
        else:
            self.disable("~/enable false")

    def _on_estop(self, msg: Any) -> None:
        self._set_estop(bool(msg.data), f"e-stop topic {self.params['estop.topic']}")

    def _estop_service(self, request: Any, response: Any) -> Any:
        """std_srvs/SetBool on `~/estop`: true asserts the e-stop, false releases it (ESTOP stays latched)."""
        self._set_estop(bool(request.data), "~/estop service")
        response.success = True
        response.message = ("e-stop asserted" if request.data else
                            "e-stop released; the robot stays in ESTOP until ~/enable true")
        return response

    def _set_estop(self, asserted: bool, source: str) -> None:
        """Applied and published from the receiving thread, never waiting for the tick (or its inference)."""
        for channel in self.channels:
            if asserted:
                channel.estop_now(source, self.transport.now_ns())
            else:
                channel.supervisor.release_estop(source)

    def _on_transition(self, msg: Any) -> None:
        """`~/transition` requests run on their own thread: a transition creates and closes the transport's
        endpoints, which must not happen inside the transport's receive callback."""
        name = str(msg.data).strip()
        steps = {"configure": self.configure, "activate": self.activate, "deactivate": self.deactivate,
                 "cleanup": self.cleanup, "shutdown": self.shutdown}
        if name not in steps:
            LOG.error("~/transition: unknown transition %r (known: %s)", name, ", ".join(steps))
            return

        def run() -> None:
            with self._transition_lock:
                try:
                    steps[name]()
                except LeappRosError as exc:
                    LOG.error("%s failed: %s", name, exc)
        threading.Thread(target=run, name=f"leapp-deploy-{name}", daemon=True).start()

    # ------------------------------------------------------------------ reporting
    def _note_error(self, exc: BaseException) -> None:
        self.last_error = str(exc)

    def _engine_fault(self, exc: BaseException) -> tuple[Cause, str]:
        """The HOLD cause of an inference error; each exception type is logged once, then only counted."""
        kind = type(exc).__name__
        detail = f"{kind}: {str(exc).strip()[:300]}"
        self.last_error = detail
        count = self._engine_faults[kind] = self._engine_faults.get(kind, 0) + 1
        if count == 1:
            LOG.error("inference failed (%s); the safety layer holds (engine_fault); further %s errors are counted "
                      "in diagnostics", detail, kind)
            LOG.debug("inference failure", exc_info=exc)
        return Cause.ENGINE_FAULT, detail

    def _publish_safety_state(self) -> None:
        """`~/safety_state` (latched): `STATE cause: detail`, one line per command channel when there are several."""
        texts = [c.supervisor.state_text() for c in self.channels]
        if len(texts) > 1:
            texts = [f"{c.target.port.name}: {t}" for c, t in zip(self.channels, texts)]
        self._safety_pub.publish(self.transport.new_message(STRING,
                                                            data="; ".join(texts) or "INACTIVE start: not configured"))

    def _publish_state(self) -> None:
        self._state_pub.publish(self.transport.new_message(STRING, data=self.lifecycle.state.value))

    def _start_diagnostics(self) -> None:
        self._diag_stop = threading.Event()
        period = float(self.params["diagnostics_period_s"])

        def run() -> None:
            while not self._diag_stop.wait(period):
                try:
                    self.publish_diagnostics()
                except Exception:  # noqa: BLE001 - diagnostics must never take the node down
                    LOG.exception("diagnostics failed")
        self._diag_thread = threading.Thread(target=run, name="leapp-deploy-diagnostics", daemon=True)
        self._diag_thread.start()

    def diagnostics_values(self, pause: Callable[[], None] = lambda: None) -> tuple[int, str, dict[str, str]]:
        """Everything /diagnostics shows (allocates freely: it runs on the diagnostics thread, not the tick).
        `pause` runs between the steps (the diagnostics thread lets the tick take the interpreter lock there)."""
        summary = self.stats.summary()
        pause()
        loop = self._loop
        values = {K.LIFECYCLE_STATE: self.lifecycle.state.value,
                  K.ACHIEVED_RATE_HZ: f"{summary['rate_hz']:.2f}", K.TARGET_RATE_HZ: f"{self.rate_hz:.2f}",
                  K.TICK_MODE: str(self.params["tick_on"]),
                  K.TICK_LATENCY_P50_MS: f"{summary['p50_ms']:.3f}",
                  K.TICK_LATENCY_P99_MS: f"{summary['p99_ms']:.3f}",
                  K.TICK_LATENCY_MAX_MS: f"{summary['max_ms']:.3f}",
                  K.NODE_OVERHEAD_P50_US: f"{summary['overhead_p50_us']:.1f}",
                  K.NODE_OVERHEAD_P99_US: f"{summary['overhead_p99_us']:.1f}",
                  K.TICK_WAKE_P50_P99_US: f"{summary['wake_p50_us']:.1f} / {summary['wake_p99_us']:.1f}",
                  K.TICK_DEADLINE_MISSES: str(loop.misses if loop is not None else 0),
                  K.TICKS: str(self.stats.ticks), K.TRANSPORT: self.transport.name,
                  K.REALTIME: self.realtime_report.text(),
                  K.GC: f"{self.realtime.gc} ({self._gc.collections} collections between ticks)"}
        for stage in STAGES:
            if f"{stage}_p50_us" in summary:
                values[K.stage_latency(stage)] = (f"{summary[stage + '_p50_us']:.1f} / "
                                                  f"{summary[stage + '_p99_us']:.1f}")
        if self.engine is not None:
            values[K.BACKEND] = "; ".join(f"{d.get('node')}: {d.get('backend', d.get('name', '?'))}"
                                          f"{' on ' + str(d['device']) if d.get('device') else ''}"
                                          for d in self.engine.describe())
            values[K.BACKEND_CHOICE] = self.engine_choice
        level, message = OK, "running"
        pause()
        if self.plan is not None:
            now = self.transport.now_ns()
            for binding in self.plan.inputs.bindings:
                age = (now - binding.received_ns) * 1e-9 if binding.received_ns >= 0 else float("inf")
                late = "" if binding.zero_on_timeout or age <= binding.timeout_s else \
                    f" (stale: older than {binding.timeout_s:g} s)"
                values[f"input {binding.port.name} ({binding.topic}) age"] = age_text(max(age, 0.0)) + late
            for topic in self.plan.inputs.topics:
                values[f"topic {topic.topic}"] = (f"{topic.accepted} accepted, {topic.rejected} rejected, "
                                                  f"{topic.dropped} dropped (stamp order), "
                                                  f"{topic.future} stamped in the future") + (
                    f" (last: {topic.last_rejection})" if topic.last_rejection else "")
        pause()
        for channel in self.channels:
            values.update(channel.supervisor.diagnostics())
            state = channel.supervisor.state
            if state in (SafetyState.HOLD, SafetyState.DAMP):
                level, message = WARN, channel.supervisor.state_text()
            elif state is SafetyState.ESTOP:
                level, message = ERROR, channel.supervisor.state_text()
        if self.last_error:
            values[K.LAST_ERROR] = self.last_error
        if self._engine_faults:
            values[K.ENGINE_FAULTS] = ", ".join(f"{n} {kind}" for kind, n in self._engine_faults.items())
        guard = self._guard
        if guard is not None:
            for state_topic, count in guard.publishers.items():
                values[K.publishers(state_topic)] = str(count)
            if guard.multiple_publishers and level == OK:
                level, message = WARN, "; ".join(f"state topic {t} has {n} publishers"
                                                 for t, n in guard.multiple_publishers.items())
        return level, message, values

    def publish_diagnostics(self) -> None:
        def pause() -> None:
            time.sleep(DIAGNOSTICS_YIELD_S)
        level, message, values = self.diagnostics_values(pause)
        name = f"{self.transport.node_name}: policy"
        array = build_diagnostics(self.transport.new_message, self.transport.now_ns(), name,
                                  self.plan.bundle.name if self.plan else "", level, message, values)
        pause()
        self._diag_pub.publish(array)
