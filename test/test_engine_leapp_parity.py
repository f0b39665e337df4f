"""Bundles traced by the real leapp package at test time run step by step like leapp's InferenceManager."""

from __future__ import annotations

import numpy as np
import pytest

from leapp_ros.bundle import load_bundle
from leapp_ros.engine import Engine

KINDS = ["mlp", "gru", "lstm", "history", "two_node", "mlp_jit"]


def _frames(bundle, steps: int, seed: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [{p.key: rng.standard_normal(p.shape).astype(p.dtype) for p in bundle.inputs} for _ in range(steps)]


def _inference_manager_outputs(yaml_path, frames) -> list[dict[str, np.ndarray]]:
    import torch
    from leapp import InferenceManager
    manager = InferenceManager(str(yaml_path))
    results = []
    for frame in frames:
        out = manager.run_policy({k: torch.from_numpy(v.copy()) for k, v in frame.items()})
        results.append({k: v.detach().cpu().numpy().copy() for k, v in out.items()})
    return results


@pytest.mark.parametrize("kind", KINDS)
def test_matches_inference_manager_step_by_step(kind, leapp_bundles):
    bundle = load_bundle(leapp_bundles[kind])
    frames = _frames(bundle, steps=8, seed=len(kind))
    reference = _inference_manager_outputs(bundle.yaml_path, frames)
    engine = Engine(bundle)
    for step, (frame, want) in enumerate(zip(frames, reference)):
        got = engine.run(frame)
        assert set(got) == set(want), step
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=0, atol=1e-6, err_msg=f"step {step} {key}")


@pytest.mark.parametrize("kind", ["gru", "history", "two_node"])
def test_reset_gives_the_same_outputs_as_a_fresh_load(kind, leapp_bundles):
    bundle = load_bundle(leapp_bundles[kind])
    frames = _frames(bundle, steps=5, seed=7)
    engine = Engine(bundle)
    first = [engine.run(f) for f in frames]
    engine.reset()
    second = [engine.run(f) for f in frames]
    fresh = Engine(load_bundle(leapp_bundles[kind]))
    third = [fresh.run(f) for f in frames]
    for a, b, c in zip(first, second, third):
        for key in a:
            assert np.array_equal(a[key], b[key]) and np.array_equal(a[key], c[key])


def test_two_node_graph_routes_data_flow_and_feedback(leapp_bundles):
    bundle = load_bundle(leapp_bundles["two_node"])
    assert [n.name for n in bundle.nodes] == ["Encoder", "Policy"]
    assert [(e.source, e.target) for e in bundle.data_flow] == [("Encoder/latent", "Policy/latent")]
    assert [(e.source, e.target) for e in bundle.feedback] == [("Policy/last_action_out", "Policy/last_action_in")]
    assert [p.key for p in bundle.inputs] == ["Encoder/robot_joint_pos", "Encoder/robot_joint_vel"]


def test_history_counter_is_int64_and_backfills(leapp_bundles):
    bundle = load_bundle(leapp_bundles["history"])
    counter = bundle.port("Policy/h_policy_joint_pos_num_pushes_in")
    assert counter.dtype == np.int64 and counter.is_state
    engine = Engine(bundle)
    frame = _frames(bundle, 1, seed=3)[0]
    engine.run(frame)
    state = engine.feedback_state()
    history = state["Policy/h_policy_joint_pos_in"]
    assert state["Policy/h_policy_joint_pos_num_pushes_in"].tolist() == [1]
    # first frame back-fills every slot with the current joint positions
    for slot in history:
        np.testing.assert_array_equal(slot, frame["Policy/robot_joint_pos"])
