"""Small quaternion helpers (x, y, z, w order, Hamilton convention) for the per-message decode path."""

from __future__ import annotations

import math

Quat = tuple[float, float, float, float]


def multiply(a: Quat, b: Quat) -> Quat:
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz)


def conjugate(q: Quat) -> Quat:
    return (-q[0], -q[1], -q[2], q[3])


def rotate(q: Quat, v: tuple[float, float, float]) -> tuple[float, float, float]:
    """R(q) v for a unit quaternion q."""
    x, y, z, w = q
    vx, vy, vz = v
    # t = 2 * cross(q.xyz, v); v' = v + w t + cross(q.xyz, t)
    tx, ty, tz = 2.0 * (y * vz - z * vy), 2.0 * (z * vx - x * vz), 2.0 * (x * vy - y * vx)
    return (vx + w * tx + (y * tz - z * ty), vy + w * ty + (z * tx - x * tz), vz + w * tz + (x * ty - y * tx))


def projected_gravity(q: Quat) -> tuple[float, float, float]:
    """R(q)^T (0, 0, -1): gravity direction in the body frame, as Isaac Lab's projected_gravity_b."""
    return rotate(conjugate(q), (0.0, 0.0, -1.0))


def yaw(q: Quat) -> float:
    x, y, z, w = q
    return math.atan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def normalized(q: Quat, tolerance: float) -> Quat | None:
    """q / |q|, or None when |q| is farther than `tolerance` from 1 (or not finite)."""
    norm = math.sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3])
    if not math.isfinite(norm) or abs(norm - 1.0) > tolerance:
        return None
    return (q[0] / norm, q[1] / norm, q[2] / norm, q[3] / norm)
