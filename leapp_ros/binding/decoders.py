"""Per-message-type decoders: validate a whole message, then gather its numbers into port staging arrays.

A decoder never writes a port's live value; it fills float64 staging arrays and returns None (accepted)
or a reason (rejected, nothing usable). `InputPlan` commits accepted staging arrays under its lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from leapp_ros.binding import rotations
from leapp_ros.message_types import IMU, JOINT_STATE, ODOMETRY, POSE_STAMPED, TWIST, TWIST_STAMPED

QUATERNION_TOLERANCE = 0.05  # |q| must be within 5 % of 1 (drivers publish unit quaternions)



def _layout(*names: str) -> dict[str, int]:
    return {name: i for i, name in enumerate(names)}


_Q = ("orientation.x", "orientation.y", "orientation.z", "orientation.w")
_AV = ("angular_velocity.x", "angular_velocity.y", "angular_velocity.z")
_LV = ("linear_velocity.x", "linear_velocity.y", "linear_velocity.z")
_G = ("projected_gravity.x", "projected_gravity.y", "projected_gravity.z")
_P = ("position.x", "position.y", "position.z")
_TW = ("linear.x", "linear.y", "linear.z", "angular.x", "angular.y", "angular.z")

# Components each vector message type offers, by position in its scratch vector.
LAYOUTS: dict[str, dict[str, int]] = {
    IMU: _layout(*_Q, *_AV, *_G),
    ODOMETRY: _layout(*_Q, *_AV, *_LV, *_G, *_P),
    TWIST: _layout(*_TW),
    TWIST_STAMPED: _layout(*_TW),
    POSE_STAMPED: _layout(*_P, *_Q, "heading"),
}
for _type in (TWIST, TWIST_STAMPED):  # a twist can also carry a measured base velocity
    LAYOUTS[_type].update({"linear_velocity." + a: LAYOUTS[_type]["linear." + a] for a in "xyz"})
    LAYOUTS[_type].update({"angular_velocity." + a: LAYOUTS[_type]["angular." + a] for a in "xyz"})


@dataclass
class Slot:
    """Where one port's values come from: index array into the decoder's scratch (or the message's joints)."""

    port_key: str
    index: np.ndarray  # np.intp
    staging: np.ndarray  # float64, flat, port size
    field: str = ""  # JointState field ("position" | "velocity" | "effort")
    joints: tuple[str, ...] = ()


class VectorDecoder:
    """Decodes Imu / Odometry / Twist(Stamped) / PoseStamped into a fixed scratch layout, then gathers."""

    def __init__(self, type_name: str, slots: list[Slot], *, base_frame: str = "",
                 imu_to_base: rotations.Quat = (0.0, 0.0, 0.0, 1.0)) -> None:
        self.type_name = type_name
        self.slots = slots
        self._scratch = np.zeros(len(LAYOUTS[type_name]) if type_name in LAYOUTS else 0)
        self._used = np.unique(np.concatenate([s.index for s in slots])) if slots else np.zeros(0, np.intp)
        self._filled = [True] * len(slots)
        self._base_frame = base_frame
        self._mount = imu_to_base
        self._mount_identity = imu_to_base == (0.0, 0.0, 0.0, 1.0)
        self._gravity_at = LAYOUTS[type_name].get("projected_gravity.x", 0)
        uses = {name for name, i in LAYOUTS.get(type_name, {}).items() if i in set(self._used.tolist())}
        self._needs_orientation = any(n.startswith(("orientation", "projected_gravity", "heading")) for n in uses)
        self._fill: Callable[[Any], str | None] = {
            IMU: self._fill_imu, ODOMETRY: self._fill_odometry, TWIST: self._fill_twist,
            TWIST_STAMPED: self._fill_twist_stamped, POSE_STAMPED: self._fill_pose}[type_name]

    def decode(self, msg: Any) -> tuple[str | None, list[bool]]:
        reason = self._fill(msg)
        if reason is not None:
            return reason, self._filled
        scratch = self._scratch
        if not np.isfinite(scratch[self._used]).all():
            return "non-finite value", self._filled
        for slot in self.slots:
            scratch.take(slot.index, out=slot.staging)
        return None, self._filled

    def _orientation(self, q_msg: Any, what: str) -> tuple[rotations.Quat | None, str | None]:
        q = rotations.normalized((float(q_msg.x), float(q_msg.y), float(q_msg.z), float(q_msg.w)),
                                 QUATERNION_TOLERANCE)
        if q is None:
            return None, f"{what} is not a unit quaternion (x={q_msg.x}, y={q_msg.y}, z={q_msg.z}, w={q_msg.w})"
        return q, None

    def _put_orientation(self, q: rotations.Quat) -> None:
        s, g = self._scratch, self._gravity_at
        s[0], s[1], s[2], s[3] = q
        s[g], s[g + 1], s[g + 2] = rotations.projected_gravity(q)

    def _fill_imu(self, msg: Any) -> str | None:
        s = self._scratch
        if self._needs_orientation:
            if float(msg.orientation_covariance[0]) == -1.0:
                return "orientation_covariance[0] is -1: the IMU does not provide an orientation"
            q, reason = self._orientation(msg.orientation, "orientation")
            if q is None:
                return reason
            if not self._mount_identity:  # q_world_base = q_world_imu * conj(q_base_imu)
                q = rotations.multiply(q, rotations.conjugate(self._mount))
            self._put_orientation(q)
        w = msg.angular_velocity
        omega = (float(w.x), float(w.y), float(w.z))
        if not self._mount_identity:
            omega = rotations.rotate(self._mount, omega)
        s[4], s[5], s[6] = omega
        return None

    def _fill_odometry(self, msg: Any) -> str | None:
        s = self._scratch
        if self._needs_orientation:
            q, reason = self._orientation(msg.pose.pose.orientation, "pose.pose.orientation")
            if q is None:
                return reason
            self._put_orientation(q)
        t = msg.twist.twist
        s[4], s[5], s[6] = float(t.angular.x), float(t.angular.y), float(t.angular.z)
        s[7], s[8], s[9] = float(t.linear.x), float(t.linear.y), float(t.linear.z)
        p = msg.pose.pose.position
        s[13], s[14], s[15] = float(p.x), float(p.y), float(p.z)
        return None

    def _fill_twist(self, msg: Any) -> str | None:
        s = self._scratch
        s[0], s[1], s[2] = float(msg.linear.x), float(msg.linear.y), float(msg.linear.z)
        s[3], s[4], s[5] = float(msg.angular.x), float(msg.angular.y), float(msg.angular.z)
        return None

    def _fill_twist_stamped(self, msg: Any) -> str | None:
        return self._fill_twist(msg.twist)

    def _fill_pose(self, msg: Any) -> str | None:
        frame = msg.header.frame_id
        if frame and frame != self._base_frame:
            return (f"header.frame_id '{frame}' is not the robot base frame '{self._base_frame}' "
                    "(targets must be expressed in the base frame; set the base_frame parameter or transform first)")
        s = self._scratch
        p = msg.pose.position
        s[0], s[1], s[2] = float(p.x), float(p.y), float(p.z)
        if self._needs_orientation:
            q, reason = self._orientation(msg.pose.orientation, "pose.orientation")
            if q is None:
                return reason
            s[3], s[4], s[5], s[6] = q
            s[7] = rotations.yaw(q)
        return None


class JointStateDecoder:
    """Matches joints by name (any order, extra joints ignored); empty velocity/effort arrays are 'not sent'."""

    def __init__(self, slots: list[Slot]) -> None:
        self.type_name = JOINT_STATE
        self.slots = slots
        self._names: list[str] | None = None  # names of the last accepted layout; index arrays match it
        self._filled = [False] * len(slots)

    def _reindex(self, names: list[str]) -> str | None:
        position = {}
        for i, name in enumerate(names):
            if name in position:
                return f"joint '{name}' appears twice in name[]"
            position[name] = i
        for slot in self.slots:
            missing = [j for j in slot.joints if j not in position]
            if missing:
                return (f"joint '{missing[0]}' required by port '{slot.port_key}' is missing from name[] "
                        f"({len(missing)} missing: {missing[:6]}{'...' if len(missing) > 6 else ''})")
        for slot in self.slots:
            slot.index[:] = [position[j] for j in slot.joints]
        self._names = list(names)
        return None

    def decode(self, msg: Any) -> tuple[str | None, list[bool]]:
        names = msg.name
        if names != self._names:  # a C-level list compare when the driver keeps its order (the usual case)
            reason = self._reindex(list(names))
            if reason is not None:
                self._names = None
                return reason, self._filled
        count = len(names)
        filled = self._filled
        any_filled = False
        for i, slot in enumerate(self.slots):
            values = getattr(msg, slot.field)
            length = len(values)
            if length == 0:
                filled[i] = False
                continue
            if length != count:
                return f"{slot.field}[] has {length} values for {count} names", filled
            np.take(np.asarray(values, dtype=np.float64), slot.index, out=slot.staging)
            if not np.isfinite(slot.staging).all():
                bad = slot.joints[int(np.flatnonzero(~np.isfinite(slot.staging))[0])]
                return f"non-finite {slot.field} for joint '{bad}'", filled
            filled[i] = True
            any_filled = True
        if not any_filled:
            return "no bound field (position/velocity/effort) carries values", filled
        return None, filled

