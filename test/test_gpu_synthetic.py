"""Synthetic large policies (the GPU benchmark's models) and the configure-time parity check on them."""

from __future__ import annotations

import numpy as np
import pytest
from gpu_helpers import require_cuda

from leapp_ros.bench.synthetic_bundles import write_bundle
from leapp_ros.bundle import load_bundle
from leapp_ros.engine import BackendOptions, Engine
from leapp_ros.engine.autoselect import random_feeds
from leapp_ros.engine.backends import create_backend
from leapp_ros.engine.backends.parity import TOLERANCE, check_node

SMALL = {"width": 64, "scan_points": 187, "hidden": 32}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    out = tmp_path_factory.mktemp("synthetic")
    return {(kind, fmt): write_bundle(out, kind, fmt, **SMALL) for kind in ("mlp", "gru") for fmt in ("onnx", "jit")}


@pytest.mark.parametrize("kind, state_shape", [("mlp", {"last_action_in": (1, 12)}),
                                               ("gru", {"last_action_in": (1, 12), "actor_state_in": (1, 1, 32)})])
def test_bundles_load_with_declared_ports(bundles, kind, state_shape):
    bundle = load_bundle(bundles[(kind, "onnx")])  # the loader verifies the recorded SHA-256 too
    node = bundle.nodes[0]
    assert {e.target.split("/")[1]: bundle.port(e.target).shape for e in bundle.feedback} == state_shape
    assert ("height_scan" in [p.name for p in node.inputs]) == (kind == "mlp")
    if kind == "mlp":
        assert node.input("height_scan").shape == (1, 187)


@pytest.mark.parametrize("kind", ["mlp", "gru"])
def test_onnx_and_torchscript_twins_agree_tick_by_tick(bundles, kind):
    onnx_engine = Engine(load_bundle(bundles[(kind, "onnx")]))
    jit_engine = Engine(load_bundle(bundles[(kind, "jit")]))
    feeds = random_feeds(onnx_engine.bundle, 6, seed=3)
    states = []
    for feed in feeds:
        a, b = onnx_engine.run(feed), jit_engine.run(feed)
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=1e-5, atol=1e-5)
        states.append(next(iter(onnx_engine.feedback_state().values())).copy())
    assert not np.allclose(states[0], states[-1])  # feedback really flows


def test_parity_check_reports_a_different_model_with_numbers(tmp_path, bundles):
    other = load_bundle(write_bundle(tmp_path, "mlp", "onnx", seed=7, **SMALL)).nodes[0]
    node = load_bundle(bundles[("mlp", "onnx")]).nodes[0]
    wrong = create_backend(other, BackendOptions())
    right = create_backend(node, BackendOptions())
    bad, good = check_node(wrong, node), check_node(right, node)
    assert not bad.ok and bad.worst.relative > TOLERANCE["fp32"] and "worst relative error" in bad.summary()
    assert good.ok and good.worst.relative == 0.0
    assert len(good.rows) == 4 * len(node.outputs)


@pytest.mark.parametrize("kind", ["mlp", "gru"])
@pytest.mark.parametrize("graph", [False, True])
def test_device_engine_matches_cpu_on_synthetic(bundles, kind, graph):
    require_cuda()
    from leapp_ros.engine.device_engine import DeviceEngine
    reference = Engine(load_bundle(bundles[(kind, "onnx")]))
    engine = DeviceEngine(load_bundle(bundles[(kind, "jit")]),
                          BackendOptions(backend="torch-cuda", device="cuda", extra={"cuda_graph": graph}))
    try:
        for feed in random_feeds(reference.bundle, 8, seed=5):
            got, want = engine.run(feed), reference.run(feed)
            for key in want:
                np.testing.assert_allclose(got[key], want[key], rtol=1e-4, atol=1e-5)
    finally:
        engine.close()
