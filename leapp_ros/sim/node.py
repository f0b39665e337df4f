"""The sim node: a SimRobot on ROS topics, behaving like a robot driver (state out, joint commands in, /clock)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from leapp_ros.message_types import CLOCK, EMPTY, FLOAT64_MULTI_ARRAY, IMU, JOINT_STATE, ODOMETRY, POSE_STAMPED
from leapp_ros.sim.commands import CommandDecoder, CommandRejected, JointCommand
from leapp_ros.sim.robot import SimRobot
from leapp_ros.sim.settings import SimNodeSettings
from leapp_ros.transport import qos_profile
from leapp_ros.transport.base import Transport

LOG = logging.getLogger("leapp_ros.sim")



class SimNode:
    """Steps ``robot`` at its physics rate, applies received commands between physics steps and
    publishes joint_states, IMU, odometry, /clock (and optionally the EE pose) at ``state_rate_hz``.

    Subscription callbacks (transport thread) only validate and queue; the physics thread applies the
    latest queued command at the next step boundary, so a bad message never reaches the PD law.

    Usage::

        node = SimNode(make_transport("dds", "sim"), SimRobot("arm.xml", cfg), SimNodeSettings())
        node.run(duration_s=20.0)   # or run(stop=threading.Event())
        node.close()
    """

    def __init__(self, transport: Transport, robot: SimRobot, settings: SimNodeSettings) -> None:
        self.transport = transport
        self.robot = robot
        self.settings = s = settings
        self.decoder = CommandDecoder(s.targets_type, robot.joints, s.command_joints, s.targets_topic)
        self._lock = threading.Lock()
        self._pending_command: JointCommand | None = None
        self._pending_gains: dict[str, np.ndarray] = {}
        self._reset_requested = False
        self._warned: set[str] = set()
        self.rejected = 0  # messages refused (bad size, unknown joint, non-finite ...)
        self.applied = 0  # commands applied to the robot
        self._time_offset = 0.0  # sim time before the last reset: /clock never goes backwards
        self.publish_every = max(1, int(round(1.0 / (s.state_rate_hz * robot.physics_dt))))
        if s.ee_site:
            robot.site_pose_in_base(s.ee_site)  # fail now when the site does not exist
        sensor, default = qos_profile("sensor_data"), qos_profile("default")
        new = transport.new_message
        self._js_pub = transport.create_publisher(s.joint_states_topic, JOINT_STATE, sensor)
        self._js_msg = new(JOINT_STATE, name=list(robot.joint_names))
        self._imu_pub: Any = None
        self._imu_msg: Any = None
        if robot.config.imu_site:
            self._imu_pub = transport.create_publisher(s.imu_topic, IMU, sensor)
            self._imu_msg = new(IMU)
            self._imu_msg.header.frame_id = s.imu_frame or robot.config.imu_site
        self._odom_pub = transport.create_publisher(s.odom_topic, ODOMETRY, sensor)
        self._odom_msg = new(ODOMETRY)
        self._odom_msg.header.frame_id, self._odom_msg.child_frame_id = s.odom_frame, s.base_frame
        self._clock_pub: Any = None
        self._clock_msg: Any = None
        if s.publish_clock:
            self._clock_pub = transport.create_publisher("/clock", CLOCK, qos_profile("default"))
            self._clock_msg = new(CLOCK)
        self._ee_pub: Any = None
        self._ee_msg: Any = None
        if s.ee_site and s.ee_pose_topic:
            self._ee_pub = transport.create_publisher(s.ee_pose_topic, POSE_STAMPED, default)
            self._ee_msg = new(POSE_STAMPED)
            self._ee_msg.header.frame_id = s.base_frame
        targets = s.targets_topic.rstrip("/")
        gains_qos = qos_profile(s.gains_qos)
        self._subs = [
            transport.create_subscription(targets, s.targets_type, default, self._on_command),
            transport.create_subscription(f"{targets}/kp", FLOAT64_MULTI_ARRAY, gains_qos,
                                          lambda m: self._on_gains(m, "kp")),
            transport.create_subscription(f"{targets}/kd", FLOAT64_MULTI_ARRAY, gains_qos,
                                          lambda m: self._on_gains(m, "kd")),
            transport.create_subscription("~/reset", EMPTY, default, lambda _m: self.request_reset()),
        ]
        self._service = transport.create_service("~/reset", "std_srvs/srv/Trigger", self._reset_service)

    # ------------------------------------------------------------------ inbound (transport thread)

    def _reject(self, topic: str, exc: Exception) -> None:
        self.rejected += 1
        key = f"{topic}: {exc}"
        if key not in self._warned and len(self._warned) < 100:
            self._warned.add(key)
            LOG.warning("dropped a message on '%s': %s", topic, exc)

    def _on_command(self, msg: Any) -> None:
        try:
            command = self.decoder.decode(msg)
        except CommandRejected as exc:
            self._reject(self.settings.targets_topic, exc)
            return
        with self._lock:
            self._pending_command = command

    def _on_gains(self, msg: Any, which: str) -> None:
        try:
            values = self.decoder.decode_gains(msg, which)
        except CommandRejected as exc:
            self._reject(f"{self.settings.targets_topic}/{which}", exc)
            return
        with self._lock:
            self._pending_gains[which] = values

    def request_reset(self) -> None:
        """Reset the robot to its configured pose at the next step boundary."""
        with self._lock:
            self._reset_requested = True

    def _reset_service(self, _request: Any, response: Any) -> Any:
        self.request_reset()
        response.success = True
        response.message = "sim robot reset at the next physics step"
        return response

    # ------------------------------------------------------------------ physics thread

    def _apply_pending(self) -> None:
        with self._lock:
            command, gains, reset = self._pending_command, self._pending_gains, self._reset_requested
            self._pending_command, self._pending_gains, self._reset_requested = None, {}, False
        robot = self.robot
        if reset:
            self._time_offset += robot.time
            robot.reset()
            LOG.info("sim robot reset")
        for which, values in gains.items():
            full = (robot.kp if which == "kp" else robot.kd).copy()
            full[self.decoder.array_indices] = values
            robot.set_gains(**{which: full})
        if command is not None and not reset:  # a command sent before a reset is stale after it
            robot.set_targets(command.position, command.velocity, command.effort, indices=command.indices)
            self.applied += 1

    @property
    def sim_time(self) -> float:
        """Seconds of simulated time since start (continues across resets)."""
        return self._time_offset + self.robot.time

    def run(self, duration_s: float = 0.0, stop: threading.Event | None = None,
            on_state: Callable[[SimNode], None] | None = None) -> None:
        """Step until ``duration_s`` of sim time passed (0 = forever) or ``stop`` is set."""
        rtf = self.settings.real_time_factor
        wall_start, sim_start = time.monotonic(), self.sim_time
        self.publish_state()
        steps = 0
        while not (stop is not None and stop.is_set()):
            if duration_s and self.sim_time - sim_start >= duration_s - 1e-9:
                break
            self._apply_pending()
            self.robot.step()
            steps += 1
            if steps % self.publish_every == 0:
                self.publish_state()
                if on_state is not None:
                    on_state(self)
                if rtf > 0.0:
                    ahead = (self.sim_time - sim_start) / rtf - (time.monotonic() - wall_start)
                    if ahead > 0.0:
                        time.sleep(ahead)

    # ------------------------------------------------------------------ outbound

    def _stamp(self, header: Any, sec: int, nanosec: int) -> None:
        header.stamp.sec, header.stamp.nanosec = sec, nanosec

    def _seq(self, values: np.ndarray) -> Any:
        # rclpy's sequence setters want Python sequences; the DDS adapter wants float64 numpy arrays
        return values.tolist() if getattr(self.transport, "name", "") == "rclpy" else np.asarray(values, np.float64)

    def publish_state(self) -> None:
        """Publish one sample of every state topic, stamped with the sim time."""
        robot = self.robot
        sec, nanosec = divmod(int(round(self.sim_time * 1e9)), 1_000_000_000)
        if self._clock_pub is not None:
            self._clock_msg.clock.sec, self._clock_msg.clock.nanosec = sec, nanosec
            self._clock_pub.publish(self._clock_msg)
        js = self._js_msg
        self._stamp(js.header, sec, nanosec)
        js.position = self._seq(robot.joint_positions())
        js.velocity = self._seq(robot.joint_velocities())
        js.effort = self._seq(robot.joint_efforts())
        self._js_pub.publish(js)
        if self._imu_pub is not None:
            imu, reading = self._imu_msg, robot.imu("xyzw")
            self._stamp(imu.header, sec, nanosec)
            o = imu.orientation
            o.x, o.y, o.z, o.w = (float(v) for v in reading.orientation)
            _set_vec(imu.angular_velocity, reading.angular_velocity)
            _set_vec(imu.linear_acceleration, reading.linear_acceleration)
            self._imu_pub.publish(imu)
        odom, base = self._odom_msg, robot.base_odometry("xyzw")
        self._stamp(odom.header, sec, nanosec)
        _set_vec(odom.pose.pose.position, base.position)
        q = odom.pose.pose.orientation
        q.x, q.y, q.z, q.w = (float(v) for v in base.orientation)
        _set_vec(odom.twist.twist.linear, base.linear_velocity)
        _set_vec(odom.twist.twist.angular, base.angular_velocity)
        self._odom_pub.publish(odom)
        if self._ee_pub is not None:
            pos, quat = robot.site_pose_in_base(self.settings.ee_site, "xyzw")
            ee = self._ee_msg
            self._stamp(ee.header, sec, nanosec)
            _set_vec(ee.pose.position, pos)
            e = ee.pose.orientation
            e.x, e.y, e.z, e.w = (float(v) for v in quat)
            self._ee_pub.publish(ee)

    def close(self) -> None:
        """Destroy this node's endpoints (the transport itself belongs to the caller)."""
        for endpoint in (*self._subs, self._js_pub, self._imu_pub, self._odom_pub, self._clock_pub, self._ee_pub):
            close = getattr(endpoint, "close", None)
            if close is not None:
                close()


def _set_vec(msg: Any, values: np.ndarray) -> None:
    msg.x, msg.y, msg.z = (float(v) for v in values)
