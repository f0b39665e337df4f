"""Every available backend against the fixtures' golden I/O, through Engine and (GPU) DeviceEngine."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import golden_frames, shared_path
from gpu_helpers import require_backend

from leapp_ros.bundle import load_bundle
from leapp_ros.engine import BackendOptions, Engine
from leapp_ros.errors import EngineError

ONNX = ["anymal_like_flat", "gru_recurrent", "anymal_like_history"]
TORCH = ["anymal_like_flat_jit", "anymal_like_flat_pt2"]
# (backend, extra, engine): "engine" = the lead's host Engine, "device" = DeviceEngine (state on the GPU)
ONNX_WAYS = [("onnxruntime", {}, "engine"), ("onnxruntime-cuda", {}, "engine"), ("onnxruntime-cuda", {}, "device"),
             ("onnxruntime-cuda", {"ort_user_stream": False}, "device"), ("onnxruntime-tensorrt", {}, "device"),
             ("tensorrt", {}, "engine"), ("tensorrt", {"cuda_graph": True}, "device")]
TORCH_WAYS = [("torch", {}, "engine"), ("torch-cuda", {}, "engine"), ("torch-cuda", {"cuda_graph": True}, "engine"),
              ("torch-cuda", {}, "device"), ("torch-cuda", {"cuda_graph": True}, "device")]
RECURRENT_ONNX = {"gru_recurrent"}  # onnxruntime-cuda refuses GRU/LSTM models (see test below and docs/backends.md)
CASES = [(b, *w) for b in ONNX for w in ONNX_WAYS if not (b in RECURRENT_ONNX and w[0] == "onnxruntime-cuda")]
CASES += [(b, *w) for b in TORCH for w in TORCH_WAYS]
TOLERANCE = 1e-4  # relative, FP32


def make(bundle, backend, extra, kind):
    require_backend(backend)
    device = "cpu" if backend in ("onnxruntime", "torch") else "cuda"
    options = BackendOptions(backend=backend, device=device, extra=extra)
    if kind == "device":
        from leapp_ros.engine.device_engine import DeviceEngine
        return DeviceEngine(bundle, options)
    return Engine(bundle, options)


def relative_error(got, want) -> float:
    return float(np.max(np.abs(np.asarray(got, np.float64) - want)) / (np.max(np.abs(want)) + 1e-6))


def case_id(case):
    name, backend, extra, kind = case
    tags = "".join(f"-{k}" for k, v in extra.items() if v is not False) + "".join(f"-no_{k}" for k, v in extra.items()
                                                                                if v is False)
    return f"{name}-{backend}{tags}-{kind}"


@pytest.mark.parametrize("name, backend, extra, kind", CASES, ids=[case_id(c) for c in CASES])
def test_golden_outputs_feedback_and_reset(name, backend, extra, kind):
    directory = shared_path("fixtures", "bundles", name)
    bundle = load_bundle(directory)
    inputs, outputs = golden_frames(directory, bundle)
    engine = make(bundle, backend, extra, kind)
    reference = Engine(bundle)
    try:
        for _ in range(2):  # the second pass checks that reset() restores the start state on the device too
            for step, (feed, want) in enumerate(zip(inputs, outputs)):
                got = engine.run(feed)
                reference.run(feed)
                for key, value in want.items():
                    assert relative_error(got[key], value.reshape(got[key].shape)) <= TOLERANCE, (step, key)
            state, ref_state = engine.feedback_state(), reference.feedback_state()
            assert state.keys() == ref_state.keys()
            for key in state:
                assert relative_error(state[key], ref_state[key].astype(np.float64)) <= TOLERANCE, key
            engine.reset()
            reference.reset()
    finally:
        engine.close()
        reference.close()


@pytest.mark.parametrize("backend, extra, name", [("onnxruntime-cuda", {}, "anymal_like_history"),
                                                  ("torch-cuda", {"cuda_graph": True}, "anymal_like_flat_jit")])
def test_rejected_input_leaves_device_state_untouched(backend, extra, name):
    directory = shared_path("fixtures", "bundles", name)
    bundle = load_bundle(directory)
    inputs, _ = golden_frames(directory, bundle)
    engine = make(bundle, backend, extra, "device")
    try:
        engine.run(inputs[0])
        before = engine.feedback_state()
        bad = dict(inputs[1])
        key = next(iter(bad))
        bad[key] = bad[key].astype(np.float64)
        with pytest.raises(EngineError, match=key):
            engine.run(bad)
        after = engine.feedback_state()
        assert all(np.array_equal(before[k], after[k]) for k in before)
    finally:
        engine.close()


@pytest.mark.parametrize("kind", ["engine", "device"])
def test_onnxruntime_cuda_refuses_recurrent_onnx_models(kind):
    bundle = load_bundle(shared_path("fixtures", "bundles", "gru_recurrent"))
    with pytest.raises(EngineError, match=r"refuses models with \['GRU'\]"):
        make(bundle, "onnxruntime-cuda", {}, kind)
