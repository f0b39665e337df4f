"""Standard ``isaaclab.envs.mdp`` observation terms re-expressed on LEAPP-annotated inputs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch

from leapp_export.env_config import ObsTerm
from leapp_export.errors import ExportError
from leapp_export.names import match_names
from leapp_export.robot import Robot


class ObservationSource(Protocol):
    """What an observation term reads: the articulation and the annotated inputs (TracedEnv provides them)."""

    robot: Robot

    def read_robot(self, entity: str, prop: str) -> torch.Tensor: ...

    def read_command(self, name: str) -> torch.Tensor: ...

    def read_last_action(self, action_name: str | None) -> torch.Tensor: ...

    def read_ray_caster(self, entity: str, prop: str) -> torch.Tensor: ...

ISAACLAB_OBS_DOC = "isaaclab.envs.mdp.observations"


def _asset(env: ObservationSource, term: ObsTerm) -> tuple[str, slice | list[int]]:
    """(entity, joint ids) of the term's ``asset_cfg`` (default SceneEntityCfg('robot'))."""
    cfg = term.params.get("asset_cfg") or {}
    entity = cfg.get("name", "robot")
    if entity != env.robot.entity:
        raise ExportError(f"observation '{term.group}.{term.name}' reads asset '{entity}'; the offline exporter "
                          f"handles the one articulation '{env.robot.entity}'")
    names = cfg.get("joint_names")
    if names is None:
        return entity, slice(None)
    ids = match_names(names, env.robot.joint_names, bool(cfg.get("preserve_order", False)),
                      f"observation '{term.group}.{term.name}' asset_cfg.joint_names")
    if ids == list(range(len(env.robot.joint_names))):
        return entity, slice(None)  # SceneEntityCfg resolves "all joints in order" to slice(None)
    return entity, ids


def base_lin_vel(env: ObservationSource, term: ObsTerm) -> torch.Tensor:
    return env.read_robot(_asset(env, term)[0], "root_lin_vel_b")


def base_ang_vel(env: ObservationSource, term: ObsTerm) -> torch.Tensor:
    return env.read_robot(_asset(env, term)[0], "root_ang_vel_b")


def base_pos_z(env: ObservationSource, term: ObsTerm) -> torch.Tensor:
    return env.read_robot(_asset(env, term)[0], "root_pos_w")[:, 2].unsqueeze(-1)


def projected_gravity(env: ObservationSource, term: ObsTerm) -> torch.Tensor:
    """Lowered as Isaac Lab's exporter does: rotate world gravity (0, 0, -1) into the base frame from root_quat_w."""
    quat = env.read_robot(_asset(env, term)[0], "root_quat_w")
    gravity_w = torch.zeros((*quat.shape[:-1], 3), dtype=quat.dtype)
    gravity_w[..., 2] = -1.0
    q_xyz, q_w = quat[..., :3], quat[..., 3:4]
    t = torch.cross(q_xyz, gravity_w, dim=-1) * 2.0
    return gravity_w - q_w * t + torch.cross(q_xyz, t, dim=-1)


def _joint_term(prop: str, default_attr: str | None) -> Callable:
    def term_fn(env: ObservationSource, term: ObsTerm) -> torch.Tensor:
        entity, ids = _asset(env, term)
        value = env.read_robot(entity, prop)[:, ids]
        if default_attr is None:
            return value
        default = torch.tensor([getattr(env.robot, default_attr)], dtype=torch.float32)
        return value - default[:, ids]  # the default pose is baked into the graph as a constant
    return term_fn


def generated_commands(env: ObservationSource, term: ObsTerm) -> torch.Tensor:
    return env.read_command(term.params.get("command_name", "commands"))


def last_action(env: ObservationSource, term: ObsTerm) -> torch.Tensor:
    return env.read_last_action(term.params.get("action_name"))


def height_scan(env: ObservationSource, term: ObsTerm) -> torch.Tensor:
    sensor = (term.params.get("sensor_cfg") or {}).get("name")
    if not sensor:
        raise ExportError(f"observation '{term.group}.{term.name}' (height_scan) has no params.sensor_cfg.name")
    offset = float(term.params.get("offset", 0.5))
    pos_w = env.read_ray_caster(sensor, "pos_w")
    hits = env.read_ray_caster(sensor, "ray_hits_w")
    return pos_w[:, 2].unsqueeze(1) - hits[..., 2] - offset


OBSERVATION_TERMS: dict[str, Callable] = {
    "base_lin_vel": base_lin_vel,
    "base_ang_vel": base_ang_vel,
    "base_pos_z": base_pos_z,
    "projected_gravity": projected_gravity,
    "joint_pos": _joint_term("joint_pos", None),
    "joint_pos_rel": _joint_term("joint_pos", "default_joint_pos"),
    "joint_vel": _joint_term("joint_vel", None),
    "joint_vel_rel": _joint_term("joint_vel", "default_joint_vel"),
    "generated_commands": generated_commands,
    "last_action": last_action,
    "height_scan": height_scan,
}


def observation_fn(term: ObsTerm) -> Callable:
    """The implementation of a standard term, or a refusal naming it and where Isaac Lab defines it."""
    fn = OBSERVATION_TERMS.get(term.func)
    if fn is None:
        raise ExportError(
            f"observation '{term.group}.{term.name}' uses {ISAACLAB_OBS_DOC}:{term.func}, which the offline "
            f"exporter does not support (supported: {', '.join(sorted(OBSERVATION_TERMS))}); export it with "
            "Isaac Lab's own exporter (isaaclab leapp export)")
    return fn
