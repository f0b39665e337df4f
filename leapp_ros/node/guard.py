"""The safety guard thread beside the tick: the inference watchdog and the publisher count of state topics."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from leapp_ros.node.channel import CommandChannel
from leapp_ros.safety import Cause
from leapp_ros.transport.base import Transport

LOG = logging.getLogger("leapp_ros.node")


class SafetyGuard:
    """Runs independently of inference, on its own thread:

    * a tick running longer than its channel's inference budget trips HOLD (`inference_overrun`) at once, and
      the stopped state's command is published every guard period while that tick stays blocked;
    * more than one publisher on a state topic is a warning (diagnostics, logged once per change), or a HOLD
      while it lasts with `safety.multiple_publishers: hold`.
    """

    def __init__(self, channels: Sequence[CommandChannel], transport: Transport, state_topics: Sequence[str],
                 period_s: float, publisher_check_s: float = 0.25) -> None:
        self.channels = tuple(channels)
        self.transport = transport
        self.state_topics = tuple(state_topics)
        self.period_s = min(max(period_s, 0.005), 0.05)
        self.publisher_check_s = publisher_check_s
        self.hold_on_publishers = any(c.supervisor.config.multiple_publishers == "hold" for c in self.channels)
        self.publishers: dict[str, int] = {}  # state topic -> publishers seen at the last check
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="leapp-deploy-guard", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(2.0)

    @property
    def multiple_publishers(self) -> dict[str, int]:
        return {topic: n for topic, n in self.publishers.items() if n > 1}

    def _run(self) -> None:
        next_check = 0.0
        while not self._stop.wait(self.period_s):
            try:
                self._watch_inference()
                now = time.monotonic()
                if now >= next_check:
                    next_check = now + self.publisher_check_s
                    self._check_publishers()
            except Exception:  # noqa: BLE001 - the guard must outlive any single failure
                LOG.exception("safety guard check failed")

    def _watch_inference(self) -> None:
        for channel in self.channels:
            started = channel.tick_started_s
            if started is None:
                continue
            elapsed = time.monotonic() - started
            # Re-read: if this thread was descheduled, the tick it saw may have ended (no false overrun).
            if elapsed > channel.supervisor.inference_budget_s and channel.tick_started_s == started:
                channel.fault_now(Cause.INFERENCE_OVERRUN,
                                  f"a tick is blocked in inference for {elapsed * 1e3:.0f} ms (budget "
                                  f"{channel.supervisor.inference_budget_s * 1e3:.0f} ms)", self.transport.now_ns())

    def _check_publishers(self) -> None:
        for topic in self.state_topics:
            count = int(self.transport.count_publishers(topic))
            previous = self.publishers.get(topic)
            self.publishers[topic] = count
            if count > 1 and count != previous:
                LOG.warning("state topic %s has %d publishers: the node may mix or follow a foreign stream%s",
                            topic, count, " (safety HOLD while this lasts)" if self.hold_on_publishers else "")
            elif count <= 1 and previous is not None and previous > 1:
                LOG.info("state topic %s has %d publisher(s) again", topic, count)
        if self.hold_on_publishers:
            crowded = self.multiple_publishers
            detail = "; ".join(f"state topic {t} has {n} publishers" for t, n in crowded.items()) or None
            for channel in self.channels:
                channel.supervisor.set_stream_fault(detail)
