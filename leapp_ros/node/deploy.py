"""The deploy node core: lifecycle transitions, the tick (inputs -> engine -> safety -> publish), reset,
e-stop and diagnostics, over any `Transport` (rclpy or DDS)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Mapping

import numpy as np

from leapp_ros.binding import BindingPlan, BindingSettings, compile_plan, format_binding_plan
from leapp_ros.bundle import load_bundle
from leapp_ros.errors import ConfigurationError, EngineError, LeappRosError
from leapp_ros.message_types import BOOL, DIAGNOSTIC_ARRAY, EMPTY, FLOAT64_MULTI_ARRAY, JOINT_STATE, STRING
from leapp_ros.node import parameters as P
from leapp_ros.node.channel import CommandChannel
from leapp_ros.node.diagnostics import ERROR, OK, WARN, age_text, build_diagnostics
from leapp_ros.node.lifecycle import Lifecycle, State
from leapp_ros.node.timing import DeadlineLoop, LatencyStats
from leapp_ros.safety.watchdog import StampVerdict
from leapp_ros.text import exception_summary
from leapp_ros.transport import qos_profile

LOG = logging.getLogger("leapp_ros.node")
_DROPPED_STAMPS = (StampVerdict.DUPLICATE, StampVerdict.OUT_OF_ORDER)



def _stamp_seconds(msg: Any) -> float | None:
    """The message's header stamp in seconds; None without a header or with a zero stamp (drivers that leave it
    unset), which then relies on receipt time alone."""
    header = getattr(msg, "header", None)
    if header is None:
        return None
    stamp = header.stamp.sec + header.stamp.nanosec * 1e-9
    return stamp if stamp > 0.0 else None


class DeployNode:
    """Runs one bundle on one robot. Lifecycle: configure -> activate <-> deactivate -> cleanup -> shutdown."""

    def __init__(self, transport: Any, params: Mapping[str, Any] | None = None, *,
                 topic_lifecycle: bool = True) -> None:
        self.transport = transport
        self.params = P.resolve(params or {})
        self.lifecycle = Lifecycle()
        self.plan: BindingPlan | None = None
        self.engine: Any = None
        self.channels: list[CommandChannel] = []
        self.rate_hz = 0.0
        self.stats = LatencyStats()
        self._tick_lock = threading.Lock()
        self._reset_requested = False
        self._loop: DeadlineLoop | None = None
        self._subscriptions: list[Any] = []
        self._event_topic: Any = None
        self._rejections_logged = 0
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
        self._publish_state()

    def _configure(self) -> None:
        from leapp_ros.engine import BackendOptions, Engine

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
            raise ConfigurationError(f"parameter 'tick_on' must be 'timer' or 'joint_states', got {params['tick_on']!r}")
        self.rate_hz = rate
        plan = compile_plan(bundle, BindingSettings.from_params(params))
        self._check_types(plan)
        self.engine = Engine(bundle, BackendOptions(backend=str(params["backend"]), device=str(params["device"])))
        self.plan = plan
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
        for topic in plan.inputs.topics:
            self._subscriptions.append(self.transport.create_subscription(
                topic.topic, topic.type_name, qos_profile(topic.qos), lambda msg, t=topic: self._on_input(t, msg)))
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
        if missing:
            self.lifecycle.fail("activate", back_to=State.INACTIVE)
            error = ConfigurationError("cannot activate: required inputs have not arrived: " + "; ".join(missing))
            self._note_error(error)
            raise error
        self.stats.reset()
        for channel in self.channels:
            channel.publish_constant_gains(self.transport.now_ns())
            if self.params["enable_on_activate"] or self.params["autostart"]:
                channel.supervisor.enable("enable_on_activate")
        self.lifecycle.finish("activate")
        if self._event_topic is None:
            self._loop = DeadlineLoop(1.0 / self.rate_hz, self.tick)
            self._loop.start()
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
        """From any state: publish the safe command once, release everything, finalize."""
        if self.lifecycle.state is State.FINALIZED:
            return
        self._stop_loop()
        for channel in self.channels:
            channel.publish_shutdown_command(self.transport.now_ns())
        self._release()
        self.lifecycle.finalize()
        self._publish_state()

    def _stop_loop(self) -> None:
        if self._loop is not None:
            self._loop.stop()
            self._loop = None
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

    # ------------------------------------------------------------------ inputs
    def _on_input(self, topic: Any, msg: Any) -> None:
        plan = self.plan
        if plan is None:
            return
        now = self.transport.now_ns()
        stamp_s = _stamp_seconds(msg)
        if stamp_s is not None and not self._stamp_in_order(topic, stamp_s):
            return  # a duplicated or out-of-order stamp refreshes nothing (counted as dropped)
        reason = plan.inputs.on_message(topic, msg, now)
        now_s = now * 1e-9
        for channel in self.channels:
            watchdog = channel.supervisor.watchdog
            for binding in topic.bindings:
                if reason is not None:
                    watchdog.reject(binding.port.name, reason)
                elif binding.received_ns == now:
                    watchdog.mark(binding.port.name, now_s, stamp_s)
        if reason is not None:
            self._rejections_logged += 1
            if self._rejections_logged <= 5 or self._rejections_logged % 100 == 0:
                LOG.warning("rejected message (%d so far): %s", self._rejections_logged, reason)
            return
        if topic is self._event_topic and self.lifecycle.state is State.ACTIVE:
            self.tick(False)

    # ------------------------------------------------------------------ the tick
    def tick(self, deadline_missed: bool) -> None:
        """Inputs -> safety gate -> engine -> safety filter -> publish. Never raises (errors go to HOLD)."""
        if not self._tick_lock.acquire(blocking=False):
            return  # a tick is still running (event mode): drop this one rather than queue
        try:
            start = time.monotonic_ns()
            plan, engine = self.plan, self.engine
            if plan is None or engine is None:
                return
            now = self.transport.now_ns()
            plan.inputs.snapshot(now)
            now_s = now * 1e-9
            run = False
            reset = self._reset_requested
            self._reset_requested = False
            for channel in self.channels:
                action = channel.begin(now_s, deadline_missed)
                run = run or action.value != "skip"
                reset = reset or action.value == "reset_and_run"
            outputs = None
            if run:
                try:
                    if reset:
                        engine.reset()
                    outputs = engine.run(plan.inputs.engine_inputs)
                    plan.outputs.gather(outputs)
                except LeappRosError as exc:
                    outputs = None
                    self._note_error(exc)
            elif reset:
                engine.reset()
            for channel in self.channels:
                channel.end(outputs is not None, now)
            self.stats.record(time.monotonic_ns() - start)
        except Exception as exc:  # noqa: BLE001 - the tick thread must survive; safety holds on the next tick
            self._note_error(exc)
            LOG.exception("tick failed")
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

    def _stamp_in_order(self, topic: Any, stamp_s: float) -> bool:
        """Ask every channel's watchdog about the stamp of each port `topic` feeds; False drops the message."""
        ok = True
        for channel in self.channels:
            for binding in topic.bindings:
                verdict = channel.supervisor.watchdog.check_stamp(binding.port.name, stamp_s)
                if verdict in _DROPPED_STAMPS:
                    ok = False
        return ok

    def enable(self, detail: str = "enable requested") -> None:
        """Request RAMP_IN (refused by the supervisor while the e-stop is asserted or inputs are stale)."""
        for channel in self.channels:
            channel.supervisor.enable(detail)

    def disable(self, detail: str = "disable requested") -> None:
        for channel in self.channels:
            channel.supervisor.disable(detail)

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
        for channel in self.channels:
            if asserted:
                channel.supervisor.estop(source)
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

    def diagnostics_values(self) -> tuple[int, str, dict[str, str]]:
        summary = self.stats.summary()
        misses = self._loop.misses if self._loop is not None else 0
        values = {"lifecycle state": self.lifecycle.state.value,
                  "achieved rate (Hz)": f"{summary['rate_hz']:.2f}", "target rate (Hz)": f"{self.rate_hz:.2f}",
                  "tick mode": str(self.params["tick_on"]),
                  "tick latency p50 (ms)": f"{summary['p50_ms']:.3f}",
                  "tick latency p99 (ms)": f"{summary['p99_ms']:.3f}",
                  "tick latency max (ms)": f"{summary['max_ms']:.3f}",
                  "tick deadline misses": str(misses), "ticks": str(self.stats.ticks),
                  "transport": self.transport.name}
        if self.engine is not None:
            values["backend"] = "; ".join(f"{d.get('node')}: {d.get('backend', d.get('name', '?'))}"
                                          for d in self.engine.describe())
        level, message = OK, "running"
        if self.plan is not None:
            for binding, age in zip(self.plan.inputs.bindings, self.plan.inputs.ages_s):
                values[f"input {binding.port.name} ({binding.topic}) age"] = age_text(float(age))
            for topic in self.plan.inputs.topics:
                values[f"topic {topic.topic}"] = f"{topic.accepted} accepted, {topic.rejected} rejected" + (
                    f" (last: {topic.last_rejection})" if topic.last_rejection else "")
        for channel in self.channels:
            values.update(channel.supervisor.diagnostics())
            state = channel.supervisor.state.value
            if state in ("HOLD", "DAMP"):
                level, message = WARN, channel.supervisor.state_text()
            elif state == "ESTOP":
                level, message = ERROR, channel.supervisor.state_text()
        if self.last_error:
            values["last error"] = self.last_error
        return level, message, values

    def publish_diagnostics(self) -> None:
        level, message, values = self.diagnostics_values()
        name = f"{self.transport.node_name}: policy"
        self._diag_pub.publish(build_diagnostics(self.transport.new_message, self.transport.now_ns(), name,
                                                 self.plan.bundle.name if self.plan else "", level, message, values))
