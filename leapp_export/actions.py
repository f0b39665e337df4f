"""Standard joint action terms (position / velocity / effort) as graph operations plus their write outputs."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from leapp_export.env_config import ActionTerm
from leapp_export.errors import ExportError
from leapp_export.names import match_names, match_values
from leapp_export.robot import Robot

# class name -> (write method on the articulation, output kind, default-offset attribute of the robot)
ACTION_KINDS = {
    "JointPositionAction": ("set_joint_position_target_index", "target/joint/position", "default_joint_pos"),
    "JointVelocityAction": ("set_joint_velocity_target_index", "target/joint/velocity", "default_joint_vel"),
    "JointEffortAction": ("set_joint_effort_target_index", "target/joint/effort", None),
}


@dataclass
class ResolvedAction:
    """An action term with every constant resolved on the robot's joint order."""

    term: ActionTerm
    joint_ids: slice | list[int]  # slice(None) or a list of indices
    joint_names: list[str]
    scale: float | torch.Tensor
    offset: float | torch.Tensor
    clip: torch.Tensor | None  # [1, J, 2]
    method: str
    kind: str
    kp: torch.Tensor
    kd: torch.Tensor

    @property
    def dim(self) -> int:
        return len(self.joint_names)

    def process(self, raw: torch.Tensor) -> torch.Tensor:
        """raw * scale + offset, then clip: the tensor JointAction writes as the target."""
        processed = raw * self.scale
        processed.add_(self.offset)
        if self.clip is not None:
            processed = torch.clamp(processed, min=self.clip[:, :, 0], max=self.clip[:, :, 1])
        return processed


def _per_joint(value, names: list[str], fill: float, where: str) -> float | torch.Tensor:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        out = torch.full((1, len(names)), fill)
        for index, v in match_values(value, names, where).items():
            out[0, index] = float(v)
        return out
    raise ExportError(f"{where}: expected a number or a {{joint regex: value}} map, got {value!r}")


def resolve_action(term: ActionTerm, robot: Robot, env_path: str) -> ResolvedAction:
    where = f"{env_path}: actions.{term.name}"
    if term.asset_name != robot.entity:
        raise ExportError(f"{where}: acts on asset '{term.asset_name}'; the offline exporter handles the one "
                          f"articulation '{robot.entity}'")
    ids = match_names(term.joint_names, robot.joint_names, term.preserve_order, where + ".joint_names")
    names = [robot.joint_names[i] for i in ids]
    joint_ids: slice | list[int] = ids
    if len(ids) == len(robot.joint_names) and not term.preserve_order:
        joint_ids = slice(None)
    method, kind, default_attr = ACTION_KINDS[term.class_name]
    scale = _per_joint(term.scale, names, 1.0, where + ".scale")
    if term.use_default_offset and default_attr is not None:
        offset: float | torch.Tensor = torch.tensor([getattr(robot, default_attr)])[:, joint_ids].clone()
    else:
        offset = _per_joint(term.offset, names, 0.0, where + ".offset")
    clip = None
    if term.clip is not None:
        if not isinstance(term.clip, dict):
            raise ExportError(f"{where}.clip: expected a {{joint regex: (min, max)}} map, got {term.clip!r}")
        clip = torch.tensor([[-float("inf"), float("inf")]]).repeat(len(names), 1).unsqueeze(0)
        for index, bounds in match_values(term.clip, names, where + ".clip").items():
            clip[0, index] = torch.tensor([float(bounds[0]), float(bounds[1])])
    kp = torch.tensor([robot.stiffness])[:, joint_ids]
    kd = torch.tensor([robot.damping])[:, joint_ids]
    return ResolvedAction(term, joint_ids, names, scale, offset, clip, method, kind, kp, kd)
