"""Checked map between the robot's joint names (topics, bundle) and the joints of an MJCF model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from leapp_ros.errors import ConfigurationError
from leapp_ros.sim._mujoco import require_mujoco


def _listing(names: Sequence[str], limit: int = 40) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


@dataclass(frozen=True)
class JointMap:
    """Robot joint order plus, per joint, its MJCF joint name, joint id, qpos address and dof address.

    ``robot_names`` is the order used on the wire (``joint_states``, Float64MultiArray commands);
    every name is mapped to exactly one 1-DoF (hinge or slide) MJCF joint, and no MJCF joint twice.
    """

    robot_names: tuple[str, ...]
    mjcf_names: tuple[str, ...]
    joint_ids: np.ndarray
    qpos_adr: np.ndarray
    dof_adr: np.ndarray

    @classmethod
    def build(cls, model: Any, robot_names: Sequence[str] = (),
              mjcf_names: Mapping[str, str] | None = None, model_label: str = "MJCF model") -> JointMap:
        """Resolve ``robot_names`` (default: every hinge/slide joint of the model, in model order).

        ``mjcf_names`` maps a robot joint name to the MJCF joint it drives; unmapped names must exist
        in the MJCF under the same name. Any inconsistency raises a ConfigurationError naming the joint.
        """
        mujoco = require_mujoco()
        hinge_slide = (int(mujoco.mjtJoint.mjJNT_HINGE), int(mujoco.mjtJoint.mjJNT_SLIDE))
        all_names = [mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, j) or f"<joint #{j}>"
                     for j in range(model.njnt)]
        drivable = [n for j, n in enumerate(all_names) if int(model.jnt_type[j]) in hinge_slide]
        mapping = dict(mjcf_names or {})
        robot = list(robot_names) if robot_names else [n for n in drivable if n not in mapping.values()]
        if not robot:
            raise ConfigurationError(f"{model_label} has no hinge or slide joint to drive")
        seen: set[str] = set()
        for name in robot:
            if name in seen:
                raise ConfigurationError(f"robot joint '{name}' is listed twice in joint_names")
            seen.add(name)
        for name in mapping:
            if name not in seen:
                raise ConfigurationError(
                    f"joint mapping names robot joint '{name}', which is not in joint_names "
                    f"({_listing(robot)})")
        mjcf: list[str] = []
        ids: list[int] = []
        for name in robot:
            target = mapping.get(name, name)
            jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, target)
            via = f" (mapped from robot joint '{name}')" if target != name else ""
            if jid < 0:
                raise ConfigurationError(
                    f"{model_label} has no joint '{target}'{via}; its hinge/slide joints are: "
                    f"{_listing(drivable)}")
            if int(model.jnt_type[jid]) not in hinge_slide:
                raise ConfigurationError(
                    f"joint '{target}'{via} of {model_label} is a "
                    f"{mujoco.mjtJoint(int(model.jnt_type[jid])).name} "
                    "joint; only hinge and slide joints can be driven")
            if target in mjcf:
                other = robot[mjcf.index(target)]
                raise ConfigurationError(
                    f"robot joints '{other}' and '{name}' both map to MJCF joint '{target}'")
            mjcf.append(target)
            ids.append(jid)
        idx = np.asarray(ids, dtype=np.int64)
        return cls(tuple(robot), tuple(mjcf), idx,
                   np.asarray(model.jnt_qposadr[idx], dtype=np.int64),
                   np.asarray(model.jnt_dofadr[idx], dtype=np.int64))

    @property
    def size(self) -> int:
        """Number of driven joints."""
        return len(self.robot_names)

    def indices(self, names: Sequence[str], what: str) -> np.ndarray:
        """Positions of ``names`` in the robot order; ``what`` (e.g. "bundle output 'joint_pos'") names the source."""
        lookup = {n: i for i, n in enumerate(self.robot_names)}
        out = np.empty(len(names), dtype=np.int64)
        seen: set[str] = set()
        for k, name in enumerate(names):
            if name in seen:
                raise ConfigurationError(f"{what} lists joint '{name}' twice")
            seen.add(name)
            if name not in lookup:
                raise ConfigurationError(
                    f"{what} names joint '{name}', which the simulated robot does not have "
                    f"(robot joints: {_listing(self.robot_names)})")
            out[k] = lookup[name]
        return out

    def require_all(self, names: Sequence[str], what: str) -> np.ndarray:
        """Like ``indices`` but ``names`` must cover every robot joint (e.g. a full joint command)."""
        idx = self.indices(names, what)
        missing = [n for n in self.robot_names if n not in set(names)]
        if missing:
            raise ConfigurationError(f"{what} does not name robot joint '{missing[0]}' "
                                     f"(missing: {_listing(missing)})")
        return idx

    def per_joint(self, value: float | Sequence[float] | Mapping[str, float] | np.ndarray,
                  what: str, allow_inf: bool = False) -> np.ndarray:
        """Expand a scalar, a sequence in robot order or a {joint: value} mapping to one float per joint."""
        if isinstance(value, Mapping):
            unknown = [k for k in value if k not in self.robot_names]
            if unknown:
                raise ConfigurationError(f"{what} names joint '{unknown[0]}', which is not a robot joint "
                                         f"(robot joints: {_listing(self.robot_names)})")
            missing = [n for n in self.robot_names if n not in value]
            if missing:
                raise ConfigurationError(f"{what} has no value for joint '{missing[0]}'")
            arr = np.array([float(value[n]) for n in self.robot_names])
        else:
            arr = np.asarray(value, dtype=float)
            if arr.ndim == 0:
                arr = np.full(self.size, float(arr))
            elif arr.shape != (self.size,):
                raise ConfigurationError(f"{what} has {arr.size} values, expected {self.size} "
                                         f"(one per joint: {_listing(self.robot_names)})")
        bad_mask = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
        if np.any(bad_mask):
            bad = self.robot_names[int(np.flatnonzero(bad_mask)[0])]
            raise ConfigurationError(f"{what} for joint '{bad}' is not finite")
        return arr.copy()
