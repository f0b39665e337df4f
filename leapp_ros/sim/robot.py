"""A MuJoCo model that behaves like a robot driver: joint PD at physics rate, joint/IMU/odometry read-out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from leapp_ros.errors import ConfigurationError
from leapp_ros.sim._mujoco import require_mujoco
from leapp_ros.sim.actuation import CommandDelay, pd_torque
from leapp_ros.sim.config import SimRobotConfig
from leapp_ros.sim.joint_map import JointMap
from leapp_ros.sim.quaternion import reorder_quat

_POS, _VEL, _FF = 0, 1, 2  # rows of the command array: position target, velocity target, feed-forward torque


@dataclass(frozen=True)
class ImuReading:
    """IMU at a site: orientation of the site frame in the world, rates and proper acceleration in the site frame."""

    orientation: np.ndarray  # quaternion, component order as requested
    angular_velocity: np.ndarray  # rad/s, site frame
    linear_acceleration: np.ndarray  # m/s^2, site frame, includes -gravity (reads +9.81 z at rest, z up)


@dataclass(frozen=True)
class BaseOdometry:
    """Pose of the base body frame in the world and its twist expressed in the base body frame."""

    position: np.ndarray
    orientation: np.ndarray  # quaternion, component order as requested
    linear_velocity: np.ndarray  # of the body frame origin, body axes
    angular_velocity: np.ndarray  # body axes


def load_model(path: str | Path) -> Any:
    """Compile an MJCF file; errors name the file."""
    mujoco = require_mujoco()
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(f"MJCF model '{path}' does not exist")
    try:
        return mujoco.MjModel.from_xml_path(str(path))
    except ValueError as exc:
        raise ConfigurationError(f"MJCF model '{path}' does not compile: {exc}") from exc


class SimRobot:
    """One simulated robot: PD joint control at the physics rate plus the state a real driver publishes.

    Usage::

        robot = SimRobot("fr3_reach.xml", SimRobotConfig(kp=400.0, kd=40.0, gravity_compensation=True))
        robot.set_position_targets(q_target)          # robot joint order (robot.joint_names)
        robot.step_policy(4)                          # 4 physics steps holding the targets
        q, qd = robot.joint_positions(), robot.joint_velocities()
    """

    def __init__(self, model: str | Path | Any, config: SimRobotConfig | None = None) -> None:
        self._mj = require_mujoco()
        mj = self._mj
        self.config = config or SimRobotConfig()
        cfg = self.config
        self.model_label = f"MJCF model '{model}'" if isinstance(model, (str, Path)) else "MJCF model"
        self.model = load_model(model) if isinstance(model, (str, Path)) else model
        if cfg.physics_dt is not None:
            if not cfg.physics_dt > 0.0:
                raise ConfigurationError(f"physics_dt must be > 0, got {cfg.physics_dt}")
            self.model.opt.timestep = float(cfg.physics_dt)
        self.data = mj.MjData(self.model)
        self.joints = JointMap.build(self.model, cfg.joint_names, cfg.mjcf_joints, self.model_label)
        n = self.joints.size
        self.kp = self.joints.per_joint(cfg.kp, "kp")
        self.kd = self.joints.per_joint(cfg.kd, "kd")
        self._check_gains(self.kp, self.kd)
        self.effort_limits = (self._mjcf_effort_limits() if cfg.effort_limits is None
                              else self.joints.per_joint(cfg.effort_limits, "effort_limits", allow_inf=True))
        if np.any(self.effort_limits <= 0.0):
            bad = self.joint_names[int(np.flatnonzero(self.effort_limits <= 0.0)[0])]
            raise ConfigurationError(f"effort limit of joint '{bad}' must be > 0")
        self._actuator_ids, self._actuator_gears = self._torque_channels()
        self._keyframe_id = self._find(mj.mjtObj.mjOBJ_KEY, cfg.keyframe, "keyframe")
        self._initial = self.joints.per_joint(cfg.initial_joint_positions, "initial_joint_positions") \
            if cfg.initial_joint_positions else None
        self._imu_site = self._find(mj.mjtObj.mjOBJ_SITE, cfg.imu_site, "site")
        self._base_body = self._resolve_base_body(cfg.base_body)
        self._command = np.zeros((3, n))
        self._delay = CommandDelay(cfg.delay_steps, (3, n))
        self._torque = np.zeros(n)
        self._synced = False
        self.reset()

    # ------------------------------------------------------------------ configuration helpers

    def _find(self, obj: Any, name: str | None, what: str) -> int | None:
        return None if name is None else self._id(obj, name, what)

    def _id(self, obj: Any, name: str, what: str) -> int:
        oid = int(self._mj.mj_name2id(self.model, obj, name))
        if oid < 0:
            raise ConfigurationError(f"{self.model_label} has no {what} '{name}'")
        return oid

    @staticmethod
    def _check_gains(kp: np.ndarray, kd: np.ndarray) -> None:
        if np.any(kp < 0.0) or np.any(kd < 0.0):
            raise ConfigurationError("PD gains must be >= 0")

    def _joint_actuators(self) -> dict[int, list[int]]:
        """MJCF joint id -> ids of the actuators with a joint transmission on it."""
        m = self.model
        out: dict[int, list[int]] = {}
        for a in range(m.nu):
            if int(m.actuator_trntype[a]) == int(self._mj.mjtTrn.mjTRN_JOINT):
                out.setdefault(int(m.actuator_trnid[a, 0]), []).append(a)
        return out

    def _mjcf_effort_limits(self) -> np.ndarray:
        """Per joint: the joint's actuatorfrcrange if limited, else its motor's ctrlrange x gear, else inf."""
        m, by_joint = self.model, self._joint_actuators()
        limits = np.full(self.joints.size, np.inf)
        for k, jid in enumerate(self.joints.joint_ids):
            if m.jnt_actfrclimited[jid]:
                lo, hi = m.jnt_actfrcrange[jid]
                limits[k] = min(-lo, hi)
                continue
            for a in by_joint.get(int(jid), []):
                if m.actuator_ctrllimited[a]:
                    lo, hi = m.actuator_ctrlrange[a] * abs(m.actuator_gear[a, 0])
                    limits[k] = min(limits[k], min(-lo, hi))
        return limits

    def _torque_channels(self) -> tuple[np.ndarray, np.ndarray]:
        """Per driven joint: its motor actuator (id, gear) or -1 (torque goes to qfrc_applied).

        A joint driven by any other actuator type (position servo, velocity, muscle ...) is an error:
        the bridge computes the PD law itself, so a servo in the MJCF would fight it.
        """
        mj, m = self._mj, self.model
        ids = np.full(self.joints.size, -1, dtype=np.int64)
        gears = np.ones(self.joints.size)
        by_joint = self._joint_actuators()
        for k, (jid, name) in enumerate(zip(self.joints.joint_ids, self.joints.mjcf_names)):
            for a in by_joint.get(int(jid), []):
                act = mj.mj_id2name(m, mj.mjtObj.mjOBJ_ACTUATOR, a) or f"#{a}"
                is_motor = (int(m.actuator_gaintype[a]) == int(mj.mjtGain.mjGAIN_FIXED)
                            and int(m.actuator_biastype[a]) == int(mj.mjtBias.mjBIAS_NONE)
                            and int(m.actuator_dyntype[a]) == int(mj.mjtDyn.mjDYN_NONE)
                            and m.actuator_gainprm[a, 0] == 1.0)
                if not is_motor:
                    raise ConfigurationError(
                        f"joint '{name}' of {self.model_label} is driven by actuator '{act}', which is not a "
                        "plain <motor>; the sim bridge applies the PD law itself, so replace it with "
                        f"<motor joint=\"{name}\"/> or remove it")
                if ids[k] >= 0:
                    raise ConfigurationError(f"joint '{name}' of {self.model_label} has two motor actuators")
                ids[k], gears[k] = a, m.actuator_gear[a, 0]
        return ids, gears

    def _resolve_base_body(self, name: str | None) -> int:
        mj, m = self._mj, self.model
        if name is not None:
            return self._id(mj.mjtObj.mjOBJ_BODY, name, "body")
        for j in range(m.njnt):
            if int(m.jnt_type[j]) == int(mj.mjtJoint.mjJNT_FREE):
                return int(m.jnt_bodyid[j])
        roots = [b for b in range(1, m.nbody) if m.body_parentid[b] == 0 and m.body_mocapid[b] < 0]
        if not roots:
            raise ConfigurationError(f"{self.model_label} has no body to use as the base")
        return roots[0]

    # ------------------------------------------------------------------ properties

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Robot joint order of every joint-indexed array this class takes or returns."""
        return self.joints.robot_names

    @property
    def physics_dt(self) -> float:
        return float(self.model.opt.timestep)

    @property
    def time(self) -> float:
        """Simulated time since the last reset, seconds."""
        return float(self.data.time)

    # ------------------------------------------------------------------ commands

    def set_gains(self, kp: np.ndarray | None = None, kd: np.ndarray | None = None) -> None:
        """Replace the PD gains (robot joint order); e.g. from a bundle's kp/kd outputs."""
        new_kp = self.kp if kp is None else self.joints.per_joint(kp, "kp")
        new_kd = self.kd if kd is None else self.joints.per_joint(kd, "kd")
        self._check_gains(new_kp, new_kd)
        self.kp, self.kd = new_kp, new_kd

    def set_targets(self, position: np.ndarray | None = None, velocity: np.ndarray | None = None,
                    effort: np.ndarray | None = None, indices: np.ndarray | None = None) -> None:
        """Set joint targets, held until changed; ``indices`` selects robot joints (default all, in order)."""
        sel = slice(None) if indices is None else indices
        width = self.joints.size if indices is None else len(indices)
        rows = []
        for row, value, what in ((_POS, position, "position"), (_VEL, velocity, "velocity"),
                                 (_FF, effort, "effort")):
            if value is None:
                continue
            arr = np.asarray(value, dtype=float)
            if arr.shape != (width,):
                raise ConfigurationError(f"joint {what} target has shape {arr.shape}, expected ({width},)")
            if not np.all(np.isfinite(arr)):
                raise ConfigurationError(f"joint {what} target contains a non-finite value")
            rows.append((row, arr))
        for row, arr in rows:  # all validated: apply together
            self._command[row, sel] = arr

    def set_position_targets(self, position: np.ndarray) -> None:
        """Shorthand for ``set_targets(position=...)`` over all joints."""
        self.set_targets(position=position)

    @property
    def targets(self) -> np.ndarray:
        """Current (undelayed) command rows: position target, velocity target, feed-forward torque."""
        return self._command.copy()

    # ------------------------------------------------------------------ stepping

    def step(self) -> None:
        """One physics step: PD torque from the (delayed) command and the current state, then integrate."""
        mj, m, d, jm = self._mj, self.model, self.data, self.joints
        mj.mj_step1(m, d)  # positions/velocities and qfrc_bias of the current state
        cmd = self._delay.push(self._command)
        tau = cmd[_FF] + (d.qfrc_bias[jm.dof_adr] if self.config.gravity_compensation else 0.0)
        tau = pd_torque(d.qpos[jm.qpos_adr], d.qvel[jm.dof_adr], cmd[_POS], cmd[_VEL],
                        self.kp, self.kd, tau, self.effort_limits)
        self._torque[:] = tau
        motor = self._actuator_ids >= 0
        d.ctrl[self._actuator_ids[motor]] = tau[motor] / self._actuator_gears[motor]
        d.qfrc_applied[jm.dof_adr[~motor]] = tau[~motor]
        mj.mj_step2(m, d)
        self._synced = False

    def step_policy(self, n_substeps: int) -> None:
        """``n_substeps`` physics steps holding the current targets (one policy period = dt x decimation)."""
        for _ in range(int(n_substeps)):
            self.step()

    def reset(self, joint_positions: np.ndarray | None = None) -> None:
        """Back to the keyframe (or qpos0), optional joint positions on top; targets hold that pose."""
        mj, m, d, jm = self._mj, self.model, self.data, self.joints
        if self._keyframe_id is None:
            mj.mj_resetData(m, d)
        else:
            mj.mj_resetDataKeyframe(m, d, self._keyframe_id)
        pose = joint_positions if joint_positions is not None else self._initial
        if pose is not None:
            d.qpos[jm.qpos_adr] = self.joints.per_joint(pose, "reset joint positions")
        mj.mj_forward(m, d)
        self._command[:] = 0.0
        self._command[_POS] = d.qpos[jm.qpos_adr]
        self._delay.reset(self._command)
        self._torque[:] = 0.0
        self._synced = True

    def reset_joints(self, indices: np.ndarray, positions: np.ndarray,
                     velocities: np.ndarray | None = None) -> None:
        """Teleport some robot joints (e.g. one environment of a batched model) and hold them there."""
        jm = self.joints
        self.data.qpos[jm.qpos_adr[indices]] = positions
        self.data.qvel[jm.dof_adr[indices]] = 0.0 if velocities is None else velocities
        self._command[:, indices] = 0.0
        self._command[_POS, indices] = positions
        self._delay.reset(self._command, columns=indices)
        self._torque[indices] = 0.0
        self._synced = False

    # ------------------------------------------------------------------ read-out

    def _sync(self) -> None:
        # After mj_step2 the derived quantities (frames, velocities of bodies) describe the state
        # before integration; recompute them for the current state before reading frames out.
        if not self._synced:
            self._mj.mj_forward(self.model, self.data)
            self._synced = True

    def joint_positions(self) -> np.ndarray:
        return self.data.qpos[self.joints.qpos_adr].copy()

    def joint_velocities(self) -> np.ndarray:
        return self.data.qvel[self.joints.dof_adr].copy()

    def joint_efforts(self) -> np.ndarray:
        """Torque commanded on the last physics step (PD + feed-forward + compensation, after limits)."""
        return self._torque.copy()

    def _frame_quat_wxyz(self, xmat: np.ndarray) -> np.ndarray:
        q = np.empty(4)
        self._mj.mju_mat2Quat(q, np.asarray(xmat, dtype=float).reshape(9))
        return q

    def imu(self, quat_order: str = "xyzw") -> ImuReading:
        """Reading of the IMU at ``config.imu_site`` (orientation in world, rates/acceleration in site frame)."""
        if self._imu_site is None:
            raise ConfigurationError("no imu_site configured for this robot")
        mj, m, d = self._mj, self.model, self.data
        self._sync()
        mj.mj_rnePostConstraint(m, d)  # body accelerations (cacc) for the accelerometer
        sid = self._imu_site
        vel, acc = np.empty(6), np.empty(6)
        mj.mj_objectVelocity(m, d, mj.mjtObj.mjOBJ_SITE, sid, vel, 1)
        mj.mj_objectAcceleration(m, d, mj.mjtObj.mjOBJ_SITE, sid, acc, 1)
        quat = reorder_quat(self._frame_quat_wxyz(d.site_xmat[sid]), "wxyz", quat_order)
        return ImuReading(quat, vel[:3].copy(), acc[3:].copy())

    def base_odometry(self, quat_order: str = "xyzw") -> BaseOdometry:
        """Pose of the base body in the world and its twist in the base body frame."""
        mj, m, d = self._mj, self.model, self.data
        self._sync()
        b = self._base_body
        vel = np.empty(6)
        mj.mj_objectVelocity(m, d, mj.mjtObj.mjOBJ_XBODY, b, vel, 1)
        quat = reorder_quat(d.xquat[b], "wxyz", quat_order)
        return BaseOdometry(d.xpos[b].copy(), np.array(quat), vel[3:].copy(), vel[:3].copy())

    def site_pose(self, site: str, quat_order: str = "xyzw") -> tuple[np.ndarray, np.ndarray]:
        """World position and orientation of a named site (e.g. an end-effector frame)."""
        sid = self._id(self._mj.mjtObj.mjOBJ_SITE, site, "site")
        self._sync()
        quat = reorder_quat(self._frame_quat_wxyz(self.data.site_xmat[sid]), "wxyz", quat_order)
        return self.data.site_xpos[sid].copy(), quat

    def site_pose_in_base(self, site: str, quat_order: str = "xyzw") -> tuple[np.ndarray, np.ndarray]:
        """Position and orientation of a named site expressed in the base body frame."""
        mj = self._mj
        pos_w, _ = self.site_pose(site)
        sid = self._id(mj.mjtObj.mjOBJ_SITE, site, "site")
        b = self._base_body
        rot_b = self.data.xmat[b].reshape(3, 3)
        pos_b = rot_b.T @ (pos_w - self.data.xpos[b])
        rel = rot_b.T @ self.data.site_xmat[sid].reshape(3, 3)
        return pos_b, reorder_quat(self._frame_quat_wxyz(rel), "wxyz", quat_order)
