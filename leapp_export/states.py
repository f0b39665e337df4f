"""Deterministic synthetic robot states that drive the offline capture (the simulator's role in Isaac Lab)."""

from __future__ import annotations

import math
import zlib

import torch

from leapp_export.robot import Robot


def _quat_xyzw(roll: float, pitch: float, yaw: float) -> list[float]:
    """Quaternion (x, y, z, w) of Rz(yaw) Ry(pitch) Rx(roll); Isaac Lab 3.0 stores quaternions xyzw."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return [sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy, cr * cp * cy + sr * sp * sy]


class StateSource:
    """Plausible per-step values for every readable property, reproducible from (seed, step, entity, prop)."""

    def __init__(self, robot: Robot, seed: int = 0) -> None:
        self.robot = robot
        self.seed = seed

    def _gen(self, step: int, key: str) -> torch.Generator:
        return torch.Generator().manual_seed(zlib.crc32(f"{self.seed}/{step}/{key}".encode()))

    def robot_state(self, step: int, prop: str) -> torch.Tensor:
        g = self._gen(step, f"{self.robot.entity}/{prop}")
        n = len(self.robot.joint_names)
        if prop == "joint_pos":
            return torch.tensor([self.robot.default_joint_pos]) + 0.1 * torch.randn(1, n, generator=g)
        if prop == "joint_vel":
            return torch.tensor([self.robot.default_joint_vel]) + 0.5 * torch.randn(1, n, generator=g)
        if prop == "root_quat_w":
            roll, pitch, yaw = (0.1 * torch.randn(3, generator=g)).tolist()
            return torch.tensor([_quat_xyzw(roll, pitch, yaw + 6.0 * torch.rand(1, generator=g).item())])
        if prop == "root_pos_w":
            return torch.tensor([[0.0, 0.0, 0.6]]) + 0.05 * torch.randn(1, 3, generator=g)
        return 0.3 * torch.randn(1, 3, generator=g)  # body-frame linear / angular velocities

    def ray_caster_state(self, step: int, entity: str, prop: str, num_rays: int) -> torch.Tensor:
        g = self._gen(step, f"{entity}/{prop}")
        if prop == "pos_w":
            return torch.tensor([[0.0, 0.0, 0.6]]) + 0.05 * torch.randn(1, 3, generator=g)
        hits = 0.5 * torch.randn(1, num_rays, 3, generator=g)
        hits[..., 2] = 0.05 * torch.randn(1, num_rays, generator=g)
        return hits

    def command(self, step: int, name: str, ranges: list[tuple[float, float]]) -> torch.Tensor:
        g = self._gen(step // 3, f"command/{name}")  # commands are held for a few steps, as when resampled
        u = torch.rand(1, len(ranges), generator=g)
        low = torch.tensor([[r[0] for r in ranges]])
        high = torch.tensor([[r[1] for r in ranges]])
        return low + u * (high - low)
