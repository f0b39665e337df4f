"""Receive side of the DDS adapter: subscriptions that drain raw CDR and a WaitSet thread that drives them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from leapp_ros.transport.dds_raw import any_state_mask, take_cdr

LOG = logging.getLogger("leapp_ros.transport.dds")
_ERROR_LOG_PERIOD_S = 1.0


class DdsSubscription:
    """One DataReader: takes raw samples, decodes them with rosbags and calls the user callback."""

    def __init__(self, topic: str, type_name: str, reader: Any, decode: Callable[[bytes], Any],
                 callback: Callable[[Any], None]) -> None:
        self.topic = topic
        self.type_name = type_name
        self.reader = reader
        self.invalid_samples = 0  # samples without data (e.g. remote writer left), dropped before callbacks
        self.callback_errors = 0
        self._decode = decode
        self._callback = callback
        self._mask = any_state_mask()
        self._last_error_log = 0.0
        self.closed = False
        self._close: Callable[[DdsSubscription], None] | None = None

    def drain(self) -> None:
        """Take everything available and dispatch it; errors are logged (rate-limited), never raised."""
        while not self.closed:
            samples, invalid = take_cdr(self.reader, self._mask)
            self.invalid_samples += invalid
            for cdr in samples:
                try:
                    self._callback(self._decode(cdr))
                except Exception:  # a bad message or callback must not kill the receive thread
                    self._log_callback_error()
            if not samples and not invalid:
                return

    def close(self) -> None:
        """Stop receiving and delete the reader (idempotent)."""
        if not self.closed and self._close is not None:
            self._close(self)
        self.closed = True

    def _log_callback_error(self) -> None:
        self.callback_errors += 1
        now = time.monotonic()
        if now - self._last_error_log >= _ERROR_LOG_PERIOD_S:
            self._last_error_log = now
            LOG.exception("callback for %s (%s) failed (%d failures so far)", self.topic, self.type_name,
                          self.callback_errors)


class WaitSetReceiver:
    """A daemon thread waiting on one WaitSet for every subscription; callbacks run on it, one at a time."""

    def __init__(self, participant: Any, thread_name: str = "leapp-dds-receive") -> None:
        from cyclonedds.core import GuardCondition, WaitSet

        self._waitset = WaitSet(participant)
        self._wake = GuardCondition(participant)
        self._waitset.attach(self._wake)
        # Held while callbacks run and while subscriptions change, so a reader is never deleted mid-take.
        self._dispatch = threading.RLock()
        self._conditions: dict[int, Any] = {}
        self._subs: tuple[DdsSubscription, ...] = ()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._thread.start()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def add(self, sub: DdsSubscription) -> None:
        from cyclonedds.core import ReadCondition

        cond = ReadCondition(sub.reader, any_state_mask())
        with self._dispatch:
            self._conditions[id(sub)] = cond
            self._waitset.attach(cond)
            self._subs = self._subs + (sub,)
        self._wake.set(True)  # drain anything that arrived before the condition was attached

    def remove(self, sub: DdsSubscription) -> None:
        with self._dispatch:
            cond = self._conditions.pop(id(sub), None)
            self._subs = tuple(s for s in self._subs if s is not sub)
            if cond is not None:
                self._waitset.detach(cond)
                cond.__del__()  # delete the DDS entity now, not at garbage collection

    def stop(self) -> None:
        """Stop and join the thread (not when called from a callback on that thread)."""
        self._stop.set()
        self._wake.set(True)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5.0)

    def _run(self) -> None:
        from cyclonedds.util import duration

        timeout = duration(milliseconds=500)
        while not self._stop.is_set():
            self._waitset.wait(timeout)
            self._wake.take()
            with self._dispatch:
                for sub in self._subs:
                    if self._stop.is_set():
                        break
                    try:
                        sub.drain()
                    except Exception:  # a take error; keep serving the other subscriptions
                        LOG.exception("receiving on %s failed", sub.topic)
