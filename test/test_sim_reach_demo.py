"""The committed reach-arm demo: its run directory, its bundle, and the bundle doing the task in MuJoCo (ROS-free)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mujoco", reason="mujoco is not installed (pip install mujoco)")
pytest.importorskip("onnxruntime", reason="onnxruntime is not installed (pip install onnxruntime)")

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "reach_arm"
BUNDLE = EXAMPLE / "bundle" / "Leapp-Reach-Arm-v0"
sys.path.insert(0, str(EXAMPLE))


def _example(module: str):
    return importlib.import_module(module)


def test_run_directory_is_laid_out_like_isaac_lab():
    runs = sorted((EXAMPLE / "logs" / "rsl_rl" / "reach_arm").glob("*/model_*.pt"))
    assert runs, "no committed checkpoint"
    run = runs[-1].parent
    for name in ("params/env.yaml", "params/agent.yaml", "run.json", "joint_names.txt"):
        assert (run / name).is_file(), name
    from leapp_export.isaaclab_yaml import load_isaaclab_yaml

    env = load_isaaclab_yaml(run / "params" / "env.yaml")
    terms = [k for k, v in env["observations"]["policy"].items() if isinstance(v, dict)]
    assert terms == ["joint_pos", "joint_vel", "pose_command", "actions"]
    assert env["sim"]["dt"] * env["decimation"] == pytest.approx(0.02)


def test_env_observation_layout_matches_the_logged_config():
    env = _example("env").ReachArmEnv(4, seed=0, train=False)
    obs = env.get_observations()["policy"]
    assert tuple(obs.shape) == (4, 3 + 3 + 7 + 3)  # joint_pos_rel, joint_vel_rel, ee_pose command, last_action
    np.testing.assert_allclose(obs[:, 9:13].numpy(), [[0.0, 0.0, 0.0, 1.0]] * 4)  # command quaternion xyzw


@pytest.mark.skipif(not BUNDLE.is_dir(), reason="the demo bundle has not been exported yet")
def test_demo_bundle_reaches_targets_in_mujoco():
    run_bundle = _example("run_bundle")
    metrics = _example("metrics")
    trace = run_bundle.run(BUNDLE, EXAMPLE / "sim.yaml", duration_s=8.0, window_s=4.0, seed=3)
    result = metrics.window_metrics(trace)
    assert result["command_windows"] == 2
    assert result["final_error_max_m"] < 0.03, result
