"""Reusable test helpers for real DDS on loopback: environment fixture, message <-> dict, a FakePeer process."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
PEER_SCRIPT = Path(__file__).with_name("transport_peer.py")


@contextlib.contextmanager
def loopback_dds_environment(domain_id: int | None = None) -> Iterator[dict[str, str]]:
    """Set CYCLONEDDS_URI (loopback config) and a fresh ROS_DOMAIN_ID in os.environ; restore afterwards."""
    pytest.importorskip("cyclonedds", reason="cyclonedds not installed (pip install cyclonedds==11.0.1)")
    pytest.importorskip("rosbags", reason="rosbags not installed (pip install rosbags==0.11.9)")
    from leapp_ros.transport.loopback import loopback_environment

    env = loopback_environment(domain_id)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def dds_env() -> Iterator[dict[str, str]]:
    """Module-wide loopback DDS environment (import this fixture into a test module to use it)."""
    with loopback_dds_environment() as env:
        yield env


def message_from_dict(typestore: Any, type_name: str, data: dict[str, Any]) -> Any:
    """Build a rosbags message of ``type_name`` from nested dicts/lists (missing fields take ROS defaults)."""
    from leapp_ros.transport.ros_types import new_message

    fields: dict[str, Any] = {}
    for name, desc in typestore.fielddefs[type_name][1]:
        if name not in data:
            continue
        value = data[name]
        nested = _nested_type(desc)
        if nested is not None and int(desc[0]) == 2:
            value = message_from_dict(typestore, nested, value)
        elif nested is not None:
            value = [message_from_dict(typestore, nested, item) for item in value]
        fields[name] = value
    unknown = set(data) - {name for name, _ in typestore.fielddefs[type_name][1]}
    if unknown:
        raise KeyError(f"{type_name} has no fields {sorted(unknown)}")
    return new_message(typestore, type_name, fields)


def _nested_type(desc: Any) -> str | None:
    kind, rest = int(desc[0]), desc[1]
    if kind == 2:
        return rest
    if kind in (3, 4) and int(rest[0][0]) == 2:
        return rest[0][1]
    return None


def message_to_dict(msg: Any) -> Any:
    """Plain JSON-able structure of a message object (works for rosbags and rclpy-like objects)."""
    if isinstance(msg, np.ndarray):
        return msg.tolist()
    if isinstance(msg, (list, tuple)):
        return [message_to_dict(item) for item in msg]
    if hasattr(msg, "__dataclass_fields__"):
        return {name: message_to_dict(getattr(msg, name)) for name in msg.__dataclass_fields__
                if not name.startswith("__")}
    if isinstance(msg, np.generic):
        return msg.item()
    return msg


def assert_fields_equal(expected: Any, actual: Any, path: str = "msg") -> None:
    """Recursive comparison of dict/list structures, floats with a tight tolerance, naming the differing path."""
    if isinstance(expected, dict):
        for key, value in expected.items():
            assert key in actual, f"{path}.{key} missing"
            assert_fields_equal(value, actual[key], f"{path}.{key}")
    elif isinstance(expected, (list, tuple)):
        assert len(expected) == len(actual), f"{path}: length {len(actual)} != {len(expected)}"
        for i, (e, a) in enumerate(zip(expected, actual)):
            assert_fields_equal(e, a, f"{path}[{i}]")
    elif isinstance(expected, float):
        assert abs(expected - actual) <= 1e-12 * max(1.0, abs(expected)), f"{path}: {actual} != {expected}"
    else:
        assert expected == actual, f"{path}: {actual!r} != {expected!r}"


class FakePeer:
    """Another OS process running ``transport_peer.py`` with a JSON spec (publishers, subscribers).

    It prints JSON lines: ``{"event": "ready", ...}``, ``{"event": "msg", "topic": ..., "msg": {...}}`` and
    ``{"event": "done", ...}``; it exits when its stdin closes (``stop()``) or after ``duration_s``.
    """

    def __init__(self, spec: dict[str, Any], env: dict[str, str] | None = None) -> None:
        full_env = dict(os.environ)
        full_env.update(env or {})
        full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), full_env.get("PYTHONPATH")]))
        self.events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.proc = subprocess.Popen([sys.executable, str(PEER_SCRIPT), json.dumps(spec)], env=full_env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if line.startswith("{"):
                self.events.put(json.loads(line))

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 15.0) -> dict[str, Any]:
        """First event (already seen or upcoming) matching ``predicate``; fails with the peer's stderr on timeout."""
        for event in self.seen:
            if predicate(event):
                return event
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=max(0.0, min(0.2, deadline - time.monotonic())))
            except queue.Empty:
                if self.proc.poll() is not None and self.events.empty():
                    break
                continue
            self.seen.append(event)
            if predicate(event):
                return event
        raise AssertionError(f"peer event not seen within {timeout:.0f}s; peer rc={self.proc.poll()}, "
                             f"stderr:\n{self._stderr_tail()}")

    def wait_ready(self, timeout: float = 30.0) -> dict[str, Any]:
        return self.wait_for(lambda e: e["event"] == "ready", timeout)

    def stop(self, timeout: float = 10.0) -> int:
        """Close stdin (the peer shuts its transport down cleanly) and wait for exit; returns the exit code."""
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            with contextlib.suppress(BrokenPipeError, OSError):
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._reader.join(timeout=2.0)
        while not self.events.empty():
            self.seen.append(self.events.get())
        return self.proc.returncode

    def stderr_text(self) -> str:
        """All of the peer's stderr (call after ``stop``)."""
        assert self.proc.stderr is not None
        return self.proc.stderr.read()

    def _stderr_tail(self) -> str:
        if self.proc.poll() is None:
            return "(peer still running)"
        return self.stderr_text()[-3000:]


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0, period: float = 0.02) -> bool:
    """Poll ``predicate`` until true or ``timeout``; returns its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(period)
    return bool(predicate())
