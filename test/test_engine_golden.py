"""Golden parity on the shared fixtures, reset semantics, and the engine's input/ownership contract."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import GOLDEN_BUNDLES, golden_frames, shared_path

from leapp_ros.bundle import load_bundle
from leapp_ros.engine import Engine, EngineError

TOLERANCE = {"onnx": 1e-6, "jit": 1e-5, "pt2": 1e-5}


def _engine(name: str) -> tuple[Engine, list, list]:
    directory = shared_path("fixtures", "bundles", name)
    engine = Engine(load_bundle(directory))
    inputs, outputs = golden_frames(directory, engine.bundle)
    return engine, inputs, outputs


def _max_error(engine: Engine, inputs, expected) -> float:
    worst = 0.0
    for frame, want in zip(inputs, expected):
        got = engine.run(frame)
        assert set(got) == set(want)
        for key, value in want.items():
            worst = max(worst, float(np.max(np.abs(got[key].astype(np.float64).ravel() - value.ravel()))))
    return worst


@pytest.mark.parametrize("name", GOLDEN_BUNDLES)
def test_golden_parity_fresh_and_after_reset(name):
    engine, inputs, expected = _engine(name)
    tolerance = TOLERANCE[engine.bundle.nodes[0].backend]
    assert _max_error(engine, inputs, expected) <= tolerance
    engine.reset()  # leapp's InferenceManager zeroes jit/pt2 kp/kd here (spec §9.2); we must not
    assert _max_error(engine, inputs, expected) <= tolerance


def test_franka_reach_bundle_loads_and_runs():
    engine = Engine(load_bundle(shared_path("fixtures", "bundles", "franka_fr3_reach")))
    frame = {p.key: np.zeros(p.shape, dtype=p.dtype) for p in engine.bundle.inputs}
    frame["policy/target_rot"][0, 0] = 1.0  # identity quaternion, w first
    out = engine.run(frame)
    assert out["policy/joint_targets"].shape == (1, 7)
    assert np.all(np.isfinite(out["policy/joint_targets"]))
    assert np.all(out["policy/joint_targets_kp_gains"] > 0)


def test_reset_restores_initial_state_and_failed_tick_keeps_state():
    engine, inputs, _ = _engine("gru_recurrent")
    initial = engine.feedback_state()
    engine.run(inputs[0])
    advanced = engine.feedback_state()
    assert any(not np.array_equal(initial[k], advanced[k]) for k in initial)
    bad = dict(inputs[1])
    bad[next(iter(bad))] = bad[next(iter(bad))].astype(np.float64)
    with pytest.raises(EngineError):
        engine.run(bad)
    assert all(np.array_equal(advanced[k], v) for k, v in engine.feedback_state().items())
    engine.reset()
    assert all(np.array_equal(initial[k], v) for k, v in engine.feedback_state().items())


@pytest.mark.parametrize("name", ["anymal_like_flat", "anymal_like_flat_jit"])
def test_engine_never_mutates_or_aliases_caller_arrays(name):
    engine, inputs, expected = _engine(name)
    frame = {k: v.copy() for k, v in inputs[0].items()}
    snapshot = {k: v.copy() for k, v in frame.items()}
    first = engine.run(frame)
    kept = {k: v.copy() for k, v in first.items()}
    for value in first.values():  # a caller scribbling on what it received must not reach the model
        value.fill(123.0)
    engine.reset()
    again = engine.run(frame)
    assert all(np.array_equal(frame[k], snapshot[k]) for k in frame)
    assert all(np.array_equal(again[k], kept[k]) for k in kept)
    engine.reset()
    assert all(np.array_equal(frame[k], snapshot[k]) for k in frame)


def _mutate(kind: str, frame: dict) -> dict:
    key = next(iter(frame))
    changed = dict(frame)
    if kind == "missing":
        del changed[key]
    elif kind == "unknown":
        changed["Isaac-Velocity-Flat-Anymal-D/typo"] = frame[key]
    elif kind == "dtype":
        changed[key] = frame[key].astype(np.float64)
    elif kind == "shape":
        changed[key] = frame[key].reshape(-1)
    elif kind == "none":
        changed[key] = None
    return changed


@pytest.mark.parametrize("kind, message", [
    ("missing", "missing"), ("unknown", "unknown"), ("dtype", "must be float32[1, 3]"),
    ("shape", "must be float32[1, 3]"), ("none", "not a numpy array"),
])
def test_wrong_inputs_are_errors_never_stale_values(kind, message):
    engine, inputs, _ = _engine("anymal_like_flat")
    with pytest.raises(EngineError, match=message.replace("[", r"\[").replace("]", r"\]")):
        engine.run(_mutate(kind, inputs[0]))
