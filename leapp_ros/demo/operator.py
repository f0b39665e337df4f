"""The demo's operator: sends reach targets to the deploy node and records where the arm's hand went."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from leapp_ros.message_types import FLOAT64_MULTI_ARRAY, POSE_STAMPED, STRING
from leapp_ros.transport.base import Transport


class ReachOperator:
    """Publishes PoseStamped targets in the base frame and records (sim time, commanded, achieved)."""

    def __init__(self, transport: Transport, targets: np.ndarray, hold_s: float, base_frame: str,
                 ee_topic: str = "/sim/ee_pose", target_topic: str = "target_pose",
                 command_topic: str = "joint_commands",
                 orientation_xyzw: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 1.0)) -> None:
        from leapp_ros.transport import DEFAULT, LATCHED
        self._transport = transport
        self._targets = targets
        self._hold_s = hold_s
        self._base_frame = base_frame
        self._orientation = tuple(float(v) for v in orientation_xyzw)
        self._lock = threading.Lock()
        self._index = -1
        self.samples: list[tuple[float, np.ndarray, np.ndarray]] = []
        self.safety_states: list[str] = []
        self._start_s: float | None = None
        self._pub = transport.create_publisher(target_topic, POSE_STAMPED, DEFAULT)
        transport.create_subscription(ee_topic, POSE_STAMPED, DEFAULT, self._on_ee)
        transport.create_subscription("/leapp_deploy/safety_state", STRING, LATCHED, self._on_state)
        # The windows start with the first command the node sends (after its activation), not at process start.
        self._commanding = False
        transport.create_subscription(command_topic, FLOAT64_MULTI_ARRAY, DEFAULT, self._on_command)

    @property
    def finished(self) -> bool:
        with self._lock:
            return self._index >= len(self._targets)

    def _on_state(self, msg: Any) -> None:
        with self._lock:
            self.safety_states.append(str(msg.data))

    @property
    def commanding(self) -> bool:
        return self._commanding

    def _on_command(self, _msg: Any) -> None:
        self._commanding = True

    def _on_ee(self, msg: Any) -> None:
        t = msg.header.stamp.sec + msg.header.stamp.nanosec * 1e-9  # sim time of the sample
        achieved = np.array([msg.pose.position.x, msg.pose.position.y, msg.pose.position.z])
        with self._lock:
            if not self._commanding:
                return
            if self._start_s is None:
                self._start_s = t
            index = int((t - self._start_s) // self._hold_s)
            if index != self._index:
                self._index = index
                if index < len(self._targets):
                    self._send(self._targets[index])
            if 0 <= self._index < len(self._targets):
                self.samples.append((t - self._start_s, self._targets[self._index].copy(), achieved))

    def _send(self, target: np.ndarray) -> None:
        msg = self._transport.new_message(POSE_STAMPED)
        msg.header.frame_id = self._base_frame
        msg.pose.position.x, msg.pose.position.y, msg.pose.position.z = (float(v) for v in target)
        o = msg.pose.orientation
        o.x, o.y, o.z, o.w = self._orientation
        self._pub.publish(msg)

    def resend(self) -> None:
        """Repeat the current (before the start: the first) target, so a late subscriber still gets it."""
        with self._lock:
            self._send(self._targets[min(max(self._index, 0), len(self._targets) - 1)])
