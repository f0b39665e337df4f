"""Typed view of a run's ``params/env.yaml`` (Isaac Lab manager-based env config as dumped by Isaac Lab)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from leapp_export.errors import ExportError

OBS_MODULE = "isaaclab.envs.mdp.observations"
ACTION_MODULE = "isaaclab.envs.mdp.actions.joint_actions"
COMMAND_MODULES = ("isaaclab.envs.mdp.commands.velocity_command", "isaaclab.envs.mdp.commands.pose_command",
                   "isaaclab.envs.mdp.commands.pose_2d_command")


@dataclass
class ObsTerm:
    """One observation term of a group (func short name + the post-processing Isaac Lab applies)."""

    group: str
    name: str
    func: str  # short name inside isaaclab.envs.mdp.observations, e.g. "joint_pos_rel"
    params: dict
    clip: tuple[float, float] | None
    scale: float | list[float] | None
    history_length: int
    flatten_history_dim: bool


@dataclass
class ObsGroup:
    name: str
    terms: list[ObsTerm]
    concatenate_terms: bool
    concatenate_dim: int


@dataclass
class ActionTerm:
    """A standard joint action term (JointPositionAction, JointVelocityAction, JointEffortAction)."""

    name: str
    class_name: str
    asset_name: str
    joint_names: list[str]
    scale: Any
    offset: Any
    clip: dict | None
    preserve_order: bool
    use_default_offset: bool


@dataclass
class CommandTerm:
    name: str
    class_name: str
    cmd_kind: str | None
    element_names: list[str] | None


@dataclass
class EnvConfig:
    """What the exporter needs from env.yaml; ``raw`` keeps the whole dump for scene lookups."""

    path: str
    sim_dt: float
    decimation: int
    groups: dict[str, ObsGroup]
    actions: list[ActionTerm]
    commands: dict[str, CommandTerm]
    raw: dict = field(repr=False)

    @property
    def frequency(self) -> float:
        """Policy rate in Hz exactly as Isaac Lab computes it: 1 / (sim.dt * decimation)."""
        return 1.0 / (self.sim_dt * self.decimation)

    def scene_entity(self, key: str) -> dict:
        scene = self.raw.get("scene") or {}
        entity = scene.get(key)
        if not isinstance(entity, dict):
            raise ExportError(f"{self.path}: scene has no entity '{key}' (scene keys: {sorted(scene)})")
        return entity


def _split_callable(value: Any, where: str) -> tuple[str, str]:
    if not isinstance(value, str) or ":" not in value:
        raise ExportError(f"{where}: expected an Isaac Lab 'module:name' string, got {value!r}")
    module, name = value.rsplit(":", 1)
    return module, name


def _obs_term(group: str, name: str, cfg: dict, group_cfg: dict, path: str) -> ObsTerm:
    where = f"{path}: observations.{group}.{name}"
    module, func = _split_callable(cfg.get("func"), where + ".func")
    if module != OBS_MODULE:
        raise ExportError(
            f"{where}: observation function '{module}:{func}' is not a standard isaaclab.envs.mdp term; "
            "export this task with Isaac Lab's own exporter (isaaclab leapp export)")
    if cfg.get("modifiers"):
        raise ExportError(f"{where}: observation modifiers are not supported offline; use isaaclab leapp export")
    if int(cfg.get("delay_max_lag") or 0) > 0:
        raise ExportError(f"{where}: observation delay buffers (delay_max_lag > 0) cannot be exported")
    history = int(cfg.get("history_length") or 0)
    flatten = bool(cfg.get("flatten_history_dim", True))
    if group_cfg.get("history_length") is not None:  # a group-level history overrides every term
        history = int(group_cfg["history_length"])
        flatten = bool(group_cfg.get("flatten_history_dim", True))
    if history and not flatten:
        raise ExportError(f"{where}: flatten_history_dim=false is not supported offline")
    clip = cfg.get("clip")
    if clip is not None and (not isinstance(clip, (list, tuple)) or len(clip) != 2):
        raise ExportError(f"{where}.clip: expected (min, max), got {clip!r}")
    return ObsTerm(group=group, name=name, func=func, params=dict(cfg.get("params") or {}),
                   clip=None if clip is None else (float(clip[0]), float(clip[1])),
                   scale=cfg.get("scale"), history_length=history, flatten_history_dim=flatten)


_GROUP_KEYS = {"concatenate_terms", "concatenate_dim", "enable_corruption", "history_length",
               "flatten_history_dim", "history_order"}


def _groups(raw: dict, path: str) -> dict[str, ObsGroup]:
    observations = raw.get("observations")
    if not isinstance(observations, dict) or not observations:
        raise ExportError(f"{path}: no 'observations' section (is this a manager-based Isaac Lab env.yaml?)")
    groups = {}
    for group_name, group_cfg in observations.items():
        if not isinstance(group_cfg, dict):
            continue  # a group disabled with None
        terms = [_obs_term(group_name, term_name, term_cfg, group_cfg, path)
                 for term_name, term_cfg in group_cfg.items()
                 if term_name not in _GROUP_KEYS and isinstance(term_cfg, dict)]
        order = group_cfg.get("history_order", "term")
        if order not in (None, "term"):
            raise ExportError(f"{path}: observations.{group_name}.history_order={order!r} is not supported "
                              "offline (only 'term')")
        groups[group_name] = ObsGroup(group_name, terms, bool(group_cfg.get("concatenate_terms", True)),
                                      int(group_cfg.get("concatenate_dim", -1)))
    return groups


def _actions(raw: dict, path: str) -> list[ActionTerm]:
    actions = raw.get("actions")
    if not isinstance(actions, dict) or not actions:
        raise ExportError(f"{path}: no 'actions' section")
    terms = []
    for name, cfg in actions.items():
        if cfg is None:
            continue
        where = f"{path}: actions.{name}"
        module, class_name = _split_callable(cfg.get("class_type"), where + ".class_type")
        if module != ACTION_MODULE or class_name not in ("JointPositionAction", "JointVelocityAction",
                                                         "JointEffortAction"):
            raise ExportError(
                f"{where}: action term '{module}:{class_name}' is not supported offline (supported: "
                "JointPositionAction, JointVelocityAction, JointEffortAction); use isaaclab leapp export")
        names = cfg.get("joint_names")
        terms.append(ActionTerm(
            name=name, class_name=class_name, asset_name=cfg.get("asset_name", "robot"),
            joint_names=[names] if isinstance(names, str) else list(names or []),
            scale=cfg.get("scale", 1.0), offset=cfg.get("offset", 0.0), clip=cfg.get("clip"),
            preserve_order=bool(cfg.get("preserve_order", False)),
            use_default_offset=bool(cfg.get("use_default_offset", False))))
    return terms


def _commands(raw: dict, path: str) -> dict[str, CommandTerm]:
    result = {}
    for name, cfg in (raw.get("commands") or {}).items():
        if not isinstance(cfg, dict) or "class_type" not in cfg:
            continue
        module, class_name = _split_callable(cfg["class_type"], f"{path}: commands.{name}.class_type")
        result[name] = CommandTerm(name, class_name, cfg.get("cmd_kind"), cfg.get("element_names"))
    return result


def parse_env_config(raw: dict, path: str) -> EnvConfig:
    """Validate the parts of an Isaac Lab env.yaml dump the exporter uses."""
    if "class_type" in raw and "ManagerBased" not in str(raw["class_type"]):
        raise ExportError(f"{path}: env class '{raw['class_type']}' is not manager-based; direct-workflow envs "
                          "declare their own LEAPP I/O and need isaaclab leapp export")
    try:
        sim_dt = float(raw["sim"]["dt"])
        decimation = int(raw["decimation"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ExportError(f"{path}: missing sim.dt or decimation ({exc})") from exc
    return EnvConfig(path=path, sim_dt=sim_dt, decimation=decimation, groups=_groups(raw, path),
                     actions=_actions(raw, path), commands=_commands(raw, path), raw=raw)
