"""Vectorised reach-arm environment: N arms in one MuJoCo model, Isaac Lab MDP semantics, rsl-rl VecEnv API."""

from __future__ import annotations

import sys
from pathlib import Path

import mujoco
import numpy as np
import torch
from rsl_rl.env import VecEnv
from tensordict import TensorDict

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # repo root: leapp_ros.sim
import task  # noqa: E402

from leapp_ros.sim import SimRobot, SimRobotConfig  # noqa: E402


def build_batched_model(num_envs: int, spacing: float = 1.0) -> mujoco.MjModel:
    """One MjModel holding ``num_envs`` independent copies of the arm (names prefixed ``e<i>/``)."""
    arm = mujoco.MjSpec.from_file(str(task.MJCF))
    for key in list(arm.keys):
        arm.delete(key)
    world = mujoco.MjSpec()
    world.option.timestep = task.SIM_DT
    world.option.integrator = arm.option.integrator
    side = int(np.ceil(np.sqrt(num_envs)))
    for i in range(num_envs):
        frame = world.worldbody.add_frame(pos=[(i % side) * spacing, (i // side) * spacing, 0.0])
        frame.attach_body(arm.copy().body("base"), f"e{i}/", "")
    return world.compile()


class ReachArmEnv(VecEnv):
    """Reach a target position with the end effector (UniformPoseCommand in the base frame).

    Per policy step, in Isaac Lab's ManagerBasedRLEnv order: action -> ``DECIMATION`` PD physics
    steps -> episode counter -> terminations -> rewards -> resets -> command resampling -> observations.
    """

    def __init__(self, num_envs: int, seed: int = 42, device: str = "cpu", train: bool = True) -> None:
        self.num_envs = num_envs
        self.num_actions = len(task.JOINT_NAMES)
        self.device = device
        self.train = train
        self.cfg = task.env_cfg(num_envs, seed, "")
        self.max_episode_length = int(round(task.EPISODE_LENGTH_S / task.STEP_DT))
        self.rng = np.random.default_rng(seed)
        names = [f"e{i}/{j}" for i in range(num_envs) for j in task.JOINT_NAMES]
        per_env = lambda d: [d[j] for _ in range(num_envs) for j in task.JOINT_NAMES]  # noqa: E731
        self.robot = SimRobot(build_batched_model(num_envs), SimRobotConfig(
            joint_names=names, kp=per_env(task.STIFFNESS), kd=per_env(task.DAMPING),
            effort_limits=per_env(task.EFFORT_LIMIT), gravity_compensation=True))
        m = self.robot.model
        self.ee_site = np.array([mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, f"e{i}/ee") for i in range(num_envs)])
        base = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, f"e{i}/base") for i in range(num_envs)]
        self.base_pos = self.robot.data.xpos[base].copy()
        self.default_q = np.array([task.DEFAULT_JOINT_POS[j] for j in task.JOINT_NAMES])
        self.actions = np.zeros((num_envs, self.num_actions))
        self.prev_actions = np.zeros_like(self.actions)
        self.command = np.zeros((num_envs, 7))
        self.command[:, 6] = 1.0  # quaternion (x, y, z, w) = identity: orientation ranges are zero
        self.command_time_left = np.zeros(num_envs)
        self.episode_length_buf = torch.zeros(num_envs, dtype=torch.long)
        self.common_step_counter = 0
        self.weights = dict(task.REWARD_WEIGHTS)
        self.episode_sums = {k: np.zeros(num_envs) for k in self.weights}
        self._reset_envs(np.arange(num_envs))
        self.obs = self._observe()

    # ------------------------------------------------------------------ state helpers

    def _joint_state(self) -> tuple[np.ndarray, np.ndarray]:
        shape = (self.num_envs, self.num_actions)
        return self.robot.joint_positions().reshape(shape), self.robot.joint_velocities().reshape(shape)

    def ee_pos_b(self) -> np.ndarray:
        """End-effector positions in each arm's base frame (bases are not rotated)."""
        return self.robot.data.site_xpos[self.ee_site] - self.base_pos

    def _resample_commands(self, env_ids: np.ndarray) -> None:
        for axis, key in enumerate(("pos_x", "pos_y", "pos_z")):
            lo, hi = task.POS_RANGES[key]
            self.command[env_ids, axis] = self.rng.uniform(lo, hi, len(env_ids))
        self.command_time_left[env_ids] = task.RESAMPLING_TIME_S

    def _reset_envs(self, env_ids: np.ndarray) -> None:
        if len(env_ids) == 0:
            return
        lo, hi = task.RESET_JOINT_OFFSET
        q = self.default_q + self.rng.uniform(lo, hi, (len(env_ids), self.num_actions))
        idx = (env_ids[:, None] * self.num_actions + np.arange(self.num_actions)).ravel()
        self.robot.reset_joints(idx, q.ravel())
        self.actions[env_ids] = 0.0
        self.prev_actions[env_ids] = 0.0
        self.episode_length_buf[torch.as_tensor(env_ids)] = 0
        self._resample_commands(env_ids)
        mujoco.mj_kinematics(self.robot.model, self.robot.data)

    def _observe(self) -> TensorDict:
        q, qd = self._joint_state()
        q_rel, qd_rel = q - self.default_q, qd
        if self.train:  # Unoise(n_min=-0.01, n_max=0.01) on the joint terms (enable_corruption)
            q_rel = q_rel + self.rng.uniform(-task.OBS_NOISE, task.OBS_NOISE, q_rel.shape)
            qd_rel = qd_rel + self.rng.uniform(-task.OBS_NOISE, task.OBS_NOISE, qd_rel.shape)
        obs = np.concatenate([q_rel, qd_rel, self.command, self.actions], axis=1)
        policy = torch.as_tensor(obs, dtype=torch.float32, device=self.device)
        return TensorDict({"policy": policy}, batch_size=[self.num_envs], device=self.device)

    def get_observations(self) -> TensorDict:
        return self.obs

    # ------------------------------------------------------------------ MDP step

    def _rewards(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        err = np.linalg.norm(self.command[:, :3] - self.ee_pos_b(), axis=1)
        _, qd = self._joint_state()
        terms = {
            "end_effector_position_tracking": err,
            "end_effector_position_tracking_fine_grained": 1.0 - np.tanh(err / task.FINE_GRAINED_STD),
            "action_rate": np.sum((self.actions - self.prev_actions) ** 2, axis=1),
            "joint_vel": np.sum(qd ** 2, axis=1),
        }
        total = np.zeros(self.num_envs)
        for name, value in terms.items():
            r = self.weights[name] * value * task.STEP_DT  # RewardManager scales by the step dt
            self.episode_sums[name] += r
            total += r
        return total, {"ee_position_error": err}

    def step(self, actions: torch.Tensor) -> tuple[TensorDict, torch.Tensor, torch.Tensor, dict]:
        self.prev_actions[:] = self.actions
        self.actions[:] = actions.detach().cpu().numpy()
        target = self.default_q + task.ACTION_SCALE * self.actions  # JointPositionAction
        self.robot.set_position_targets(target.ravel())
        self.robot.step_policy(task.DECIMATION)
        mujoco.mj_kinematics(self.robot.model, self.robot.data)
        self.episode_length_buf += 1
        self.common_step_counter += 1
        for term, (weight, after) in task.CURRICULUM.items():  # modify_reward_weight
            if self.common_step_counter > after:
                self.weights[term] = weight
        time_outs = (self.episode_length_buf >= self.max_episode_length).numpy()
        reward, metrics = self._rewards()
        extras: dict = {"time_outs": torch.as_tensor(time_outs),
                        "ee_position_error": metrics["ee_position_error"], "log": {
            "Metrics/ee_pose/position_error": float(metrics["ee_position_error"].mean())}}
        done_ids = np.flatnonzero(time_outs)
        if len(done_ids):
            for name, sums in self.episode_sums.items():
                extras["log"][f"Episode_Reward/{name}"] = float(sums[done_ids].mean() / task.EPISODE_LENGTH_S)
                sums[done_ids] = 0.0
            self._reset_envs(done_ids)
        self.command_time_left -= task.STEP_DT
        self._resample_commands(np.flatnonzero(self.command_time_left <= 0.0))
        self.obs = self._observe()
        return (self.obs, torch.as_tensor(reward, dtype=torch.float32), torch.as_tensor(time_outs),
                extras)
