"""Input side of a binding plan and the node's one input ledger: per-port live buffers, per-topic decoders, and
for every port when its last message arrived, its header stamp order, rejections, staleness and command timeouts."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from leapp_ros.binding.roles import Role
from leapp_ros.bundle import Port

NEVER = -1  # received_ns of a port that never arrived
CLOCK_JUMP_S = 1.0  # a header stamp going back by more than this is a clock reset (sim time), not disorder


class Arrival(str, Enum):
    """What the ledger made of one message."""

    ACCEPTED = "accepted"
    DROPPED = "dropped"  # duplicate, out-of-order or future header stamp: refreshes nothing
    REJECTED = "rejected"  # refused whole by the decoder (NaN/Inf, missing joint, wrong length)


class StampVerdict(str, Enum):
    """How a message's header stamp relates to the previous accepted one on the same topic."""

    OK = "ok"
    DUPLICATE = "duplicate"  # same stamp again: drop, it refreshes nothing
    OUT_OF_ORDER = "out_of_order"  # older than the last one: drop
    JUMPED_BACK = "jumped_back"  # older by more than the jump threshold: a clock reset, accept and re-base


def stamp_seconds(msg: Any) -> float | None:
    """The message's header stamp in seconds; None without a header or with a zero stamp (drivers that leave it
    unset), which then relies on arrival time alone."""
    header = getattr(msg, "header", None)
    if header is None:
        return None
    stamp = header.stamp.sec + header.stamp.nanosec * 1e-9
    return stamp if stamp > 0.0 else None


@dataclass
class InputBinding:
    """One external bundle input and the message fields that fill it."""

    port: Port
    role: Role
    found_by: str  # how the role was decided (connection, kind, parameter)
    topic: str
    type_name: str
    qos: str
    fields: tuple[str, ...]  # message field per element, in the port's element order
    elements: tuple[str, ...]  # the port's element names (joint names for joint ports)
    required: bool  # must have arrived before activation
    timeout_s: float  # older than this: stale (state) or back to zero (commands)
    zero_on_timeout: bool  # commands fall back to zero; state goes stale
    feeds_engine: bool = True  # False: measured only (held joints' positions for the safety layer)
    value: np.ndarray = field(init=False)  # latest accepted value, port shape and dtype (guarded by the lock)
    staging: np.ndarray = field(init=False)  # float64, flat; written by the decoder
    received_ns: int = NEVER

    def __post_init__(self) -> None:
        self.value = np.zeros(self.port.shape, dtype=self.port.dtype)
        self.staging = np.zeros(self.port.size, dtype=np.float64)

    @property
    def key(self) -> str:
        return self.port.key


@dataclass
class TopicInput:
    """One subscription: a topic, its message type and the decoder that feeds its ports."""

    topic: str
    type_name: str
    qos: str
    decoder: Any  # VectorDecoder | JointStateDecoder
    bindings: list[InputBinding]
    accepted: int = 0
    rejected: int = 0
    dropped: int = 0  # duplicate / out-of-order header stamps
    future: int = 0  # header stamps ahead of arrival by more than the tolerance (dropped, also counted here)
    last_rejection: str | None = None
    last_stamp_s: float = -math.inf  # header stamp of the last accepted message

    def judge_stamp(self, stamp_s: float, clock_jump_s: float = CLOCK_JUMP_S) -> StampVerdict:
        """Judge a header stamp against the last accepted one (re-bases on a clock reset)."""
        last = self.last_stamp_s
        if stamp_s > last:
            return StampVerdict.OK
        if stamp_s < last - clock_jump_s:
            return StampVerdict.JUMPED_BACK
        return StampVerdict.DUPLICATE if stamp_s == last else StampVerdict.OUT_OF_ORDER


class InputPlan:
    """Owns the input buffers and is the one record of what arrived when (the ledger safety reads its ages from).

    Transport threads call `receive` (stamp order, decode, commit, arrival time); the tick calls `snapshot`, which
    copies the values into the engine feed and computes every port's age since arrival (`ages_s`, seconds, inf
    when never received). Rejections are counted (`rejected_total`) with the last one kept (`last_rejection`), so
    any number of readers can notice new ones without consuming them.
    """

    def __init__(self, bindings: list[InputBinding], topics: list[TopicInput]) -> None:
        self.bindings = bindings
        self.topics = topics
        self.lock = threading.Lock()
        self.rejected_total = 0
        self.future_tolerance_s = math.inf  # a stamp further ahead of the node's clock at arrival is dropped
        self.last_rejection: tuple[int, str] | None = None  # (binding index, reason) of the newest rejection
        self._last_now_ns = NEVER
        # The latest accepted values and the engine's feed live in one block per dtype (views per port), so that a
        # snapshot is one copy per dtype, not one per port. The feed is written only by `snapshot`.
        feeds: dict[str, np.ndarray] = {}
        self._blocks: list[tuple[np.ndarray, np.ndarray]] = []
        for dtype in dict.fromkeys(b.port.dtype for b in bindings):
            group = [b for b in bindings if b.port.dtype == dtype]
            values = np.zeros(sum(b.port.size for b in group), dtype=dtype)
            feed = np.zeros_like(values)
            offset = 0
            for b in group:
                b.value = values[offset:offset + b.port.size].reshape(b.port.shape)
                feeds[b.key] = feed[offset:offset + b.port.size].reshape(b.port.shape)
                offset += b.port.size
            self._blocks.append((values, feed))
        self.engine_inputs: dict[str, np.ndarray] = {b.key: feeds[b.key] for b in bindings if b.feeds_engine}
        # Measured values the engine does not take (whole-robot joint state when joints are held).
        self.monitor_inputs: dict[str, np.ndarray] = {b.key: feeds[b.key] for b in bindings if not b.feeds_engine}
        self._flat_values = [b.value.reshape(-1) for b in bindings]
        self._timed_commands = [(i, feeds[b.key]) for i, b in enumerate(bindings) if b.zero_on_timeout]
        self._timeouts_ns = np.array([int(b.timeout_s * 1e9) for b in bindings], dtype=np.int64)
        self._received = np.full(len(bindings), NEVER, dtype=np.int64)
        self._ages_ns = np.zeros(len(bindings), dtype=np.int64)
        self._index = {id(b): i for i, b in enumerate(bindings)}
        self.ages_s = np.full(len(bindings), np.inf)  # per-port age at the last snapshot (safety, diagnostics)
        self._never = np.ones(len(bindings), dtype=bool)
        self._late = np.ones(len(bindings), dtype=bool)  # older than the port's timeout (or never received)
        self._required = np.array([b.required for b in bindings], dtype=bool)
        self._state = np.array([not b.zero_on_timeout for b in bindings], dtype=bool)

    def receive(self, topic: TopicInput, msg: Any, now_ns: int) -> Arrival:
        """A message arrived on `topic` at `now_ns` (node clock): judge its stamp, decode and commit it."""
        stamp_s = stamp_seconds(msg)
        if stamp_s is not None:
            if now_ns > 0 and stamp_s > now_ns * 1e-9 + self.future_tolerance_s:  # 0: no clock yet (sim time)
                topic.future += 1  # a spoofer or a wrong clock; never the last stamp (it would drop the real ones)
                topic.dropped += 1
                return Arrival.DROPPED
            verdict = topic.judge_stamp(stamp_s)
            if verdict is StampVerdict.DUPLICATE or verdict is StampVerdict.OUT_OF_ORDER:
                topic.dropped += 1
                return Arrival.DROPPED
        if self.on_message(topic, msg, now_ns) is not None:
            return Arrival.REJECTED
        if stamp_s is not None:
            topic.last_stamp_s = stamp_s
        return Arrival.ACCEPTED

    def array(self, key: str) -> np.ndarray:
        """The snapshot array of input `key` (an engine input or a measured-only input)."""
        found = self.engine_inputs.get(key)
        return found if found is not None else self.monitor_inputs[key]

    def on_message(self, topic: TopicInput, msg: Any, now_ns: int) -> str | None:
        """Decode `msg` for `topic`; commit it atomically, or reject it whole and return why."""
        reason, filled = topic.decoder.decode(msg)
        if reason is not None:
            topic.rejected += 1
            topic.last_rejection = f"{topic.topic}: {reason}"
            with self.lock:
                self.last_rejection = (self._index[id(topic.bindings[0])], topic.last_rejection)
                self.rejected_total += 1
            return topic.last_rejection
        with self.lock:
            for binding, was_filled in zip(topic.bindings, filled):
                if was_filled:
                    i = self._index[id(binding)]
                    np.copyto(self._flat_values[i], binding.staging, casting="unsafe")
                    binding.received_ns = now_ns
                    self._received[i] = now_ns
        topic.accepted += 1
        return None

    def snapshot(self, now_ns: int) -> None:
        """Copy the latest values into `engine_inputs` (commands past their timeout become zero) and compute every
        port's age since arrival. A clock that went back (sim time reset) forgets every arrival: each input counts
        as never received until its next message. `ready()` says whether the snapshot may be used."""
        with self.lock:
            if now_ns < self._last_now_ns:
                self._forget()
            self._last_now_ns = now_ns
            ages, received, never = self._ages_ns, self._received, self._never
            np.subtract(now_ns, received, out=ages)
            np.equal(received, NEVER, out=never)
            np.greater(ages, self._timeouts_ns, out=self._late)
            np.logical_or(self._late, never, out=self._late)  # a never-received port is late too
            for values, feed in self._blocks:
                np.copyto(feed, values)
            for i, feed in self._timed_commands:
                if self._late[i]:
                    feed.fill(0)
            np.multiply(ages, 1e-9, out=self.ages_s)  # may be a hair negative: a message landed after the clock read
            np.copyto(self.ages_s, np.inf, where=never)

    def ready(self) -> bool:
        """At the last snapshot: every required input had arrived and no state input was older than its timeout."""
        with self.lock:
            never, late = self._never, self._late
            return not (never & self._required).any() and not (late & self._state & ~never).any()

    def _forget(self) -> None:
        for binding in self.bindings:
            binding.received_ns = NEVER
        self._received.fill(NEVER)
        for topic in self.topics:
            topic.last_stamp_s = -math.inf

    def missing(self) -> list[str]:
        """Required inputs that never arrived, with the last rejection reason of their topic."""
        result = []
        for topic in self.topics:
            for binding in topic.bindings:
                if binding.required and binding.received_ns == NEVER:
                    why = f" (last message rejected: {topic.last_rejection})" if topic.last_rejection else ""
                    result.append(f"'{binding.port.name}' from {topic.topic} [{topic.type_name}]{why}")
        return result

    def stale(self, now_ns: int) -> list[str]:
        """State inputs (not commands) older than their timeout (`input_timeout_s`), for error messages."""
        return [f"'{b.port.name}' from {b.topic} ({(now_ns - b.received_ns) * 1e-9:.3f} s old)"
                for b in self.bindings
                if not b.zero_on_timeout and b.received_ns != NEVER and now_ns - b.received_ns > b.timeout_s * 1e9]

    def reset(self) -> None:
        """Forget every received value (used by cleanup)."""
        with self.lock:
            for binding in self.bindings:
                binding.value.fill(0)
                binding.received_ns = NEVER
            self._received.fill(NEVER)
            self._last_now_ns = NEVER
            self.rejected_total = 0
            self.last_rejection = None
            for topic in self.topics:
                topic.accepted = topic.rejected = topic.dropped = topic.future = 0
                topic.last_rejection = None
                topic.last_stamp_s = -math.inf

    def value_of(self, role: Role) -> np.ndarray | None:
        """The engine-feed array of the first input with `role` (e.g. measured joint positions), or None."""
        for binding in self.bindings:
            if binding.role is role:
                return self.engine_inputs[binding.key]
        return None
