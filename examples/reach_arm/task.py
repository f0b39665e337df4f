"""Reach-arm task constants and its Isaac Lab-style config dumps (params/env.yaml, params/agent.yaml)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
MJCF = HERE / "reach_arm.xml"
TASK_ID = "Leapp-Reach-Arm-v0"  # gym-style task id; the exported LEAPP node is named after it
EXPERIMENT = "reach_arm"

# Articulation (public joint order pinned with ArticulationCfg.joint_ordering)
JOINT_NAMES = ["shoulder_yaw", "shoulder_pitch", "elbow_pitch"]
DEFAULT_JOINT_POS = {"shoulder_yaw": 0.0, "shoulder_pitch": -0.5, "elbow_pitch": 1.2}
STIFFNESS = {"shoulder_yaw": 60.0, "shoulder_pitch": 60.0, "elbow_pitch": 30.0}  # Nm/rad
DAMPING = {"shoulder_yaw": 4.0, "shoulder_pitch": 4.0, "elbow_pitch": 2.0}  # Nm s/rad
EFFORT_LIMIT = {"shoulder_yaw": 20.0, "shoulder_pitch": 20.0, "elbow_pitch": 12.0}  # Nm
EE_BODY = "ee_link"  # command / reward body (the MJCF site "ee" sits at its origin)

# MDP timing: 200 Hz physics, 50 Hz policy
SIM_DT = 0.005
DECIMATION = 4
STEP_DT = SIM_DT * DECIMATION
EPISODE_LENGTH_S = 12.0

# JointPositionAction(scale=0.5, use_default_offset=True) on all joints
ACTION_TERM = "arm_action"
ACTION_SCALE = 0.5

# UniformPoseCommand "ee_pose": target position in the robot base frame, fixed orientation
COMMAND_NAME = "ee_pose"
RESAMPLING_TIME_S = 4.0
POS_RANGES = {"pos_x": (0.25, 0.45), "pos_y": (-0.25, 0.25), "pos_z": (0.1, 0.45)}

# Observation noise (Unoise on the joint terms), reset event, reward weights (Isaac Lab reach env)
OBS_NOISE = 0.01
RESET_JOINT_OFFSET = (-0.5, 0.5)
REWARD_WEIGHTS = {
    "end_effector_position_tracking": -0.2,
    "end_effector_position_tracking_fine_grained": 0.5,
    "action_rate": -0.0001,
    "joint_vel": -0.0001,
}
FINE_GRAINED_STD = 0.05
CURRICULUM = {"action_rate": (-0.005, 4500), "joint_vel": (-0.001, 4500)}  # term: (weight, after num_steps)

# Evaluation: a command window counts as a success when the mean EE position error over its
# last second is below this threshold.
SUCCESS_THRESHOLD_M = 0.02


def _noise(n: float | None) -> dict | None:
    if n is None:
        return None
    return {"func": "isaaclab.utils.noise.noise_model:uniform_noise", "operation": "add",
            "n_min": -n, "n_max": n}


def _obs_term(func: str, params: dict | None = None, noise: float | None = None) -> dict:
    return {"func": func, "params": params or {}, "modifiers": None, "noise": _noise(noise), "clip": None,
            "scale": None, "delay_min_lag": 0, "delay_max_lag": 0, "delay_hold_prob": 1.0,
            "history_length": 0, "flatten_history_dim": True}


def _asset_cfg(body_names: list[str] | None = None) -> dict:
    everything = slice(None, None, None)
    return {"name": "robot", "joint_names": None, "joint_ids": everything, "fixed_tendon_names": None,
            "fixed_tendon_ids": everything, "body_names": body_names, "body_ids": everything,
            "object_collection_names": None, "object_collection_ids": everything, "preserve_order": False}


def _rew(func: str, weight: float, params: dict | None = None) -> dict:
    return {"func": func, "params": params or {}, "weight": weight}


def env_cfg(num_envs: int, seed: int, log_dir: str) -> dict:
    """The env config as Isaac Lab's ``dump_yaml(params/env.yaml)`` writes a ManagerBasedRLEnvCfg (MDP parts)."""
    reach = "isaaclab_tasks.manager_based.manipulation.reach.mdp.rewards"
    return {
        "class_type": "isaaclab.envs.manager_based_rl_env:ManagerBasedRLEnv",
        "sim": {"device": "cpu", "dt": SIM_DT, "gravity": (0.0, 0.0, -9.81), "render_interval": DECIMATION,
                "physics": {"class_type": None, "backend": "mujoco", "integrator": "implicitfast"}},
        "seed": seed,
        "decimation": DECIMATION,
        "scene": {
            "class_type": "isaaclab.scene.interactive_scene:InteractiveScene",
            "num_envs": num_envs, "env_spacing": 1.0, "replicate_physics": True,
            "robot": {
                "class_type": "isaaclab.assets.articulation.articulation:Articulation",
                "prim_path": "{ENV_REGEX_NS}/Robot",
                "spawn": {"func": None, "mjcf_path": MJCF.name,
                          "rigid_props": {"disable_gravity": True}},
                "init_state": {"pos": (0.0, 0.0, 0.0), "rot": (0.0, 0.0, 0.0, 1.0),
                               "lin_vel": (0.0, 0.0, 0.0), "ang_vel": (0.0, 0.0, 0.0),
                               "joint_pos": dict(DEFAULT_JOINT_POS), "joint_vel": {".*": 0.0}},
                "soft_joint_pos_limit_factor": 1.0,
                "joint_ordering": list(JOINT_NAMES),
                "body_ordering": None,
                "actuators": {
                    "arm": {"class_type": "isaaclab.actuators.actuator_pd:IdealPDActuator",
                            "joint_names_expr": [".*"], "effort_limit": dict(EFFORT_LIMIT),
                            "velocity_limit": None, "effort_limit_sim": None, "velocity_limit_sim": None,
                            "stiffness": dict(STIFFNESS), "damping": dict(DAMPING),
                            "armature": None, "friction": None},
                },
            },
        },
        "observations": {
            "policy": {
                "concatenate_terms": True, "concatenate_dim": -1, "enable_corruption": True,
                "history_length": None, "flatten_history_dim": True, "history_order": "term",
                "joint_pos": _obs_term("isaaclab.envs.mdp.observations:joint_pos_rel", noise=OBS_NOISE),
                "joint_vel": _obs_term("isaaclab.envs.mdp.observations:joint_vel_rel", noise=OBS_NOISE),
                "pose_command": _obs_term("isaaclab.envs.mdp.observations:generated_commands",
                                          {"command_name": COMMAND_NAME}),
                "actions": _obs_term("isaaclab.envs.mdp.observations:last_action"),
            },
        },
        "actions": {
            ACTION_TERM: {"class_type": "isaaclab.envs.mdp.actions.joint_actions:JointPositionAction",
                          "asset_name": "robot", "debug_vis": False, "clip": None, "joint_names": [".*"],
                          "scale": ACTION_SCALE, "offset": 0.0, "preserve_order": False,
                          "use_default_offset": True},
        },
        "events": {
            "reset_robot_joints": {
                "func": "isaaclab.envs.mdp.events:reset_joints_by_offset",
                "params": {"position_range": RESET_JOINT_OFFSET, "velocity_range": (0.0, 0.0)},
                "mode": "reset", "interval_range_s": None, "is_global_time": False,
                "resample_interval_on_reset": True, "min_step_count_between_reset": 0},
        },
        "is_finite_horizon": False,
        "episode_length_s": EPISODE_LENGTH_S,
        "rewards": {
            "end_effector_position_tracking": _rew(
                f"{reach}:position_command_error", REWARD_WEIGHTS["end_effector_position_tracking"],
                {"asset_cfg": _asset_cfg([EE_BODY]), "command_name": COMMAND_NAME}),
            "end_effector_position_tracking_fine_grained": _rew(
                f"{reach}:position_command_error_tanh",
                REWARD_WEIGHTS["end_effector_position_tracking_fine_grained"],
                {"asset_cfg": _asset_cfg([EE_BODY]), "std": FINE_GRAINED_STD, "command_name": COMMAND_NAME}),
            "action_rate": _rew("isaaclab.envs.mdp.rewards:action_rate_l2", REWARD_WEIGHTS["action_rate"]),
            "joint_vel": _rew("isaaclab.envs.mdp.rewards:joint_vel_l2", REWARD_WEIGHTS["joint_vel"],
                              {"asset_cfg": _asset_cfg()}),
        },
        "terminations": {"time_out": {"func": "isaaclab.envs.mdp.terminations:time_out", "params": {},
                                      "time_out": True}},
        "curriculum": {
            term: {"func": "isaaclab.envs.mdp.curriculums:modify_reward_weight",
                   "params": {"term_name": term, "weight": w, "num_steps": n}}
            for term, (w, n) in CURRICULUM.items()},
        "commands": {
            COMMAND_NAME: {
                "class_type": "isaaclab.envs.mdp.commands.pose_command:UniformPoseCommand",
                "resampling_time_range": (RESAMPLING_TIME_S, RESAMPLING_TIME_S), "debug_vis": False,
                "cmd_kind": None, "element_names": None, "asset_name": "robot", "body_name": EE_BODY,
                "make_quat_unique": False,
                "ranges": {**POS_RANGES, "roll": (0.0, 0.0), "pitch": (0.0, 0.0), "yaw": (0.0, 0.0)},
            },
        },
        "log_dir": log_dir,
    }


def agent_cfg(max_iterations: int, seed: int, num_steps_per_env: int = 24) -> dict:
    """RSL-RL runner config (rsl-rl-lib 5.x schema, as Isaac Lab dumps it to params/agent.yaml)."""
    return {
        "seed": seed, "device": "cpu", "num_steps_per_env": num_steps_per_env,
        "init_at_random_ep_len": True, "max_iterations": max_iterations, "empirical_normalization": {},
        "obs_groups": {"actor": ["policy"], "critic": ["policy"]}, "clip_actions": None,
        "check_for_nan": True, "save_interval": max_iterations, "experiment_name": EXPERIMENT,
        "run_name": "", "logger": "tensorboard", "resume": False, "load_run": ".*",
        "load_checkpoint": "model_.*.pt", "class_name": "OnPolicyRunner",
        "actor": {"class_name": "MLPModel", "hidden_dims": [64, 64], "activation": "elu",
                  "obs_normalization": False,
                  "distribution_cfg": {"class_name": "GaussianDistribution", "init_std": 1.0,
                                       "std_type": "scalar", "std_range": (1.0e-6, 1.0e6)}},
        "critic": {"class_name": "MLPModel", "hidden_dims": [64, 64], "activation": "elu",
                   "obs_normalization": False, "distribution_cfg": None},
        "algorithm": {"class_name": "PPO", "num_learning_epochs": 8, "num_mini_batches": 4,
                      "learning_rate": 0.001, "schedule": "adaptive", "gamma": 0.99, "lam": 0.95,
                      "entropy_coef": 0.001, "desired_kl": 0.01, "max_grad_norm": 1.0, "optimizer": "adam",
                      "value_loss_coef": 1.0, "use_clipped_value_loss": True, "clip_param": 0.2,
                      "normalize_advantage_per_mini_batch": False, "share_cnn_encoders": False,
                      "use_mixed_precision": False, "rnd_cfg": None, "symmetry_cfg": None},
        "torch_compile_mode": None,
    }
