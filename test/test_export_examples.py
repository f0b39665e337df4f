"""Real rsl-rl-lib policies in Isaac-Lab-style run dirs, exported and run through leapp_ros's engine."""

from __future__ import annotations

import json

import numpy as np
import pytest
from export_helpers import (
    ANYMAL_RUN,
    EXAMPLE_BUNDLES,
    EXAMPLE_TASK,
    agent_cfg,
    anymal_like_env,
    comparable_contract,
    contract_differences,
    write_run_dir,
)

pytestmark = pytest.mark.skipif(not EXAMPLE_BUNDLES.is_dir(), reason=f"shared fixtures not found at {EXAMPLE_BUNDLES}")

JOINTS = str(ANYMAL_RUN / "joint_names.txt")

# make_examples.py bundles: name -> (export method, actor memory, obs history length)
EXAMPLES = {
    "anymal_like_flat": ("onnx-dynamo", None, 0),
    "anymal_like_flat_jit": ("jit-script", None, 0),
    "anymal_like_flat_pt2": ("pt2", None, 0),
    "gru_recurrent": ("onnx-dynamo", "gru", 0),
    "anymal_like_history": ("onnx-dynamo", None, 3),
}


def _export(tmp, name, method, env, agent, dims, **extra):
    from leapp_export.rsl_rl import RslRlExportOptions, export_rsl_rl

    run = write_run_dir(tmp / name, env, agent, dims, 12, seed=len(name),
                        normalizer=agent["actor"]["obs_normalization"])
    options = RslRlExportOptions(task=EXAMPLE_TASK, checkpoint=str(run), joint_names=JOINTS, export_task_name=name,
                                 export_method=method, export_save_path=str(tmp / "out"), **extra)
    return run, export_rsl_rl(options)


@pytest.fixture(scope="module")
def example_bundles(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("examples")
    bundles = {}
    for name, (method, memory, history) in EXAMPLES.items():
        hidden = [32] if memory else [32, 32]
        dims = {"policy": 48 + 24 * max(history - 1, 0)}
        bundles[name] = _export(tmp, name, method, anymal_like_env(history), agent_cfg(memory, True, hidden), dims)[1]
    return bundles


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_contract_matches_isaaclab_export_layer(example_bundles, name):
    ours = comparable_contract(example_bundles[name] / f"{name}.yaml")
    ref = comparable_contract(EXAMPLE_BUNDLES / name / f"{name}.yaml")
    assert contract_differences(ours, ref) == []


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_replay_through_engine_reproduces_capture(example_bundles, name):
    report = json.loads((example_bundles[name] / f"{name}_export_report.json").read_text())
    assert report["leapp_validation"] == {EXAMPLE_TASK: True}
    assert report["replay"]["runtime"] == "leapp_ros.engine.Engine"
    assert report["replay"]["passed"], report["replay"]["max_abs_error"]
    assert report["baked"]["stiffness"] == [40.0] * 12 and report["baked"]["damping"] == [5.0] * 12


# ---- an LSTM actor on a rough-terrain style group, checked against an independent reference ---------------

def _rough_env():
    env = anymal_like_env(0)
    env["scene"]["height_scanner"] = {
        "class_type": "isaaclab.sensors.ray_caster.ray_caster:RayCaster", "prim_path": "{ENV_REGEX_NS}/Robot/base",
        "pattern_cfg": {"func": "isaaclab.sensors.ray_caster.patterns.patterns:grid_pattern", "resolution": 0.1,
                        "size": [1.6, 1.0], "direction": [0.0, 0.0, -1.0], "ordering": "xy"}}
    policy = env["observations"]["policy"]
    policy["base_ang_vel"]["scale"] = 0.25
    policy["joint_vel"]["clip"] = [-2.0, 2.0]
    policy["height_scan"] = {**policy["actions"], "func": "isaaclab.envs.mdp.observations:height_scan",
                             "params": {"sensor_cfg": {"name": "height_scanner"}}, "clip": [-1.0, 1.0]}
    return env


@pytest.fixture(scope="module")
def lstm_export(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lstm")
    return _export(tmp, "rough_lstm", "onnx-dynamo", _rough_env(), agent_cfg("lstm", True, [32]),
                   {"policy": 48 + 187})


def _quat_rotate_inverse(q_xyzw, v):
    x, y, z, w = q_xyzw
    r = np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                  [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                  [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])
    return r.T @ v


def test_lstm_height_scan_contract(lstm_export):
    import yaml

    doc = yaml.safe_load((lstm_export[1] / "rough_lstm.yaml").read_text())
    node = doc["models"][EXAMPLE_TASK]
    inputs = {p["name"]: p for p in node["inputs"]}
    assert inputs["height_scanner_pos_w"]["isaaclab_connection"] == "state:height_scanner:pos_w"
    assert inputs["height_scanner_ray_hits_w"]["shape"] == [1, 187, 3]
    assert inputs["height_scanner_ray_hits_w"]["kind"] == "state/sensor/ray_hit_position"
    assert inputs["actor_state_0_in"]["shape"] == [1, 1, 16] and inputs["actor_state_1_in"]["shape"] == [1, 1, 16]
    assert doc["pipeline"]["feedback_flow"] == {
        f"{EXAMPLE_TASK}/{s}_out": [f"{EXAMPLE_TASK}/{s}_in"]
        for s in ("actor_state_0", "actor_state_1", "last_action")}


def test_lstm_height_scan_matches_independent_reference(lstm_export):
    """Engine outputs vs the rsl_rl actor (loaded by OnPolicyRunner.load) on observations computed here by hand."""
    import torch
    from export_helpers import _ShapeOnlyEnv
    from export_helpers import agent_cfg as make_agent
    from rsl_rl.runners import OnPolicyRunner
    from tensordict import TensorDict

    from leapp_ros.engine import Engine

    run, bundle = lstm_export
    cfg = make_agent("lstm", True, [32])
    cfg["device"] = "cpu"
    runner = OnPolicyRunner(_ShapeOnlyEnv({"policy": 48 + 187}, 12), cfg, log_dir=None, device="cpu")
    runner.load(str(run / "model_0.pt"))
    actor = runner.get_inference_policy()
    actor.reset()
    default = np.array([0.0] * 4 + [0.4, -0.4, 0.4, -0.4] + [-0.8, 0.8, -0.8, 0.8], dtype=np.float32)
    engine = Engine.load(bundle)
    engine.reset()
    rng = np.random.default_rng(7)
    last = np.zeros(12, dtype=np.float32)
    worst = 0.0
    for _ in range(6):
        q = rng.normal(size=4).astype(np.float32)
        q /= np.linalg.norm(q)
        x = {"robot_root_lin_vel_b": rng.normal(size=3), "robot_root_ang_vel_b": rng.normal(size=3),
             "robot_root_quat_w": q, "base_velocity": rng.uniform(-1, 1, 3),
             "robot_joint_pos": default + 0.2 * rng.normal(size=12), "robot_joint_vel": 2 * rng.normal(size=12),
             "height_scanner_pos_w": np.array([0.1, 0.2, 0.6]) + 0.05 * rng.normal(size=3),
             "height_scanner_ray_hits_w": 0.3 * rng.normal(size=(187, 3))}
        x = {k: np.asarray(v, dtype=np.float32) for k, v in x.items()}
        obs = np.concatenate([
            x["robot_root_lin_vel_b"], 0.25 * x["robot_root_ang_vel_b"],
            _quat_rotate_inverse(x["robot_root_quat_w"].astype(np.float64), np.array([0.0, 0.0, -1.0])),
            x["base_velocity"], x["robot_joint_pos"] - default, np.clip(x["robot_joint_vel"], -2, 2), last,
            np.clip(x["height_scanner_pos_w"][2] - x["height_scanner_ray_hits_w"][:, 2] - 0.5, -1, 1)])
        with torch.no_grad():
            action = actor(TensorDict({"policy": torch.tensor(obs[None], dtype=torch.float32)}, batch_size=[1]))
        action = action.numpy()[0]
        expected = 0.5 * action + default
        out = engine.run({f"{EXAMPLE_TASK}/{k}": v.reshape((1, *v.shape)) for k, v in x.items()})
        worst = max(worst, float(np.abs(out[f"{EXAMPLE_TASK}/joint_pos"][0] - expected).max()))
        np.testing.assert_allclose(out[f"{EXAMPLE_TASK}/joint_pos_kp_gains"], 40.0)
        last = action.astype(np.float32)
    engine.close()
    print(f"LSTM + height scan: engine vs independent reference max abs error {worst:.3e}")
    assert worst < 1e-4


# ---- two action terms (position with preserve_order, per-joint scale and clip; velocity), jit-trace -----------

def test_two_action_terms_jit_trace(tmp_path):
    import yaml

    env = anymal_like_env(0)
    base = env["actions"].pop("joint_pos")
    env["actions"]["legs_pos"] = {**base, "joint_names": [".*HFE", ".*KFE"], "preserve_order": True,
                                  "scale": {".*HFE": 0.5, ".*KFE": 0.25}, "clip": {".*": [-1.0, 1.0]}}
    env["actions"]["haa_vel"] = {**base, "class_type": "isaaclab.envs.mdp.actions.joint_actions:JointVelocityAction",
                                 "joint_names": [".*HAA"], "use_default_offset": False, "scale": 2.0}
    env["observations"]["policy"]["actions"]["params"] = {"action_name": "haa_vel"}
    _, bundle = _export(tmp_path, "two_terms", "jit-trace", env, agent_cfg(None, False, [32]), {"policy": 40})
    doc = yaml.safe_load((bundle / "two_terms.yaml").read_text())
    outputs = {p["name"]: p for p in doc["models"][EXAMPLE_TASK]["outputs"]}
    hfe_kfe = [f"{leg}_{j}" for j in ("HFE", "KFE") for leg in ("LF", "LH", "RF", "RH")]
    assert outputs["legs_pos"]["element_names"] == [hfe_kfe]
    assert outputs["haa_vel"]["kind"] == "target/joint/velocity"
    assert outputs["haa_vel"]["isaaclab_connection"] == "write:robot:set_joint_velocity_target_index"
    assert doc["pipeline"]["outputs"][EXAMPLE_TASK] == [
        "legs_pos", "haa_vel", "legs_pos_kp_gains", "legs_pos_kd_gains", "haa_vel_kp_gains", "haa_vel_kd_gains"]
    assert doc["pipeline"]["feedback_flow"] == {
        f"{EXAMPLE_TASK}/last_action_haa_vel": [f"{EXAMPLE_TASK}/last_action_haa_vel"]}
    report = json.loads((bundle / "two_terms_export_report.json").read_text())
    assert report["replay"]["passed"]


def test_export_leaves_torchscript_switched_on(example_bundles):
    """Exporting turns TorchScript off while tracing (as Isaac Lab does) and must switch it back on afterwards:
    the switch is process-wide, and a caller scripting its own models would silently get plain modules."""
    import torch

    assert example_bundles  # at least one export ran in this process
    assert bool(torch.jit._state._enabled)
    scripted = torch.jit.trace(torch.nn.Linear(2, 2), torch.zeros(1, 2))
    assert hasattr(scripted, "save")
