"""TensorRT binding plans (no TensorRT needed): engine tensors matched to YAML ports by name, shape, dtype."""

from __future__ import annotations

import numpy as np
import pytest

from leapp_ros.bundle import ModelNode, Port
from leapp_ros.engine.backends.trt_plan import EngineTensor, input_shapes, plan_bindings
from leapp_ros.errors import EngineError


def port(name, direction, shape, dtype=np.float32):
    return Port(node="policy", name=name, direction=direction, dtype=np.dtype(dtype), shape=tuple(shape))


NODE = ModelNode(name="policy", backend="onnx", model_path=None, sha256="0" * 64, parameters={},
                 inputs=(port("obs", "input", (1, 48)), port("count_in", "input", (1,), np.int64),
                         port("state_in", "input", (1, 1, 16))),
                 outputs=(port("action", "output", (1, 12)), port("state_out", "output", (1, 1, 16))))
GOOD = [EngineTensor("state_out", False, (1, 1, 16), np.dtype(np.float32)),
        EngineTensor("obs", True, (1, 48), np.dtype(np.float32)),
        EngineTensor("count_in", True, (1,), np.dtype(np.int64)),
        EngineTensor("action", False, (1, 12), np.dtype(np.float32)),
        EngineTensor("state_in", True, (1, 1, 16), np.dtype(np.float32))]


def with_change(target, **change):
    return [EngineTensor(**{**t.__dict__, **change}) if t.name == target else t for t in GOOD]


def test_plan_follows_yaml_order_whatever_the_engine_order():
    plan = plan_bindings(NODE, GOOD)
    assert [b.name for b in plan.inputs] == ["obs", "count_in", "state_in"]
    assert [b.name for b in plan.outputs] == ["action", "state_out"]
    assert plan.casts == ()


def test_int64_narrowed_to_int32_is_bound_through_a_cast():
    plan = plan_bindings(NODE, with_change("count_in", dtype=np.dtype(np.int32)))
    [cast] = plan.casts
    assert cast.name == "count_in" and cast.port_dtype == np.int64 and cast.engine_dtype == np.int32


@pytest.mark.parametrize("tensors, message", [
    (with_change("obs", shape=(-1, 48)), "dynamic shape"),
    (with_change("obs", shape=(1, 47)), "shape \\[1, 47\\] differs"),
    (with_change("action", dtype=np.dtype(np.float16)), "dtype float16 differs"),
    (with_change("count_in", dtype=np.dtype(np.float32)), "dtype float32 differs"),
    (with_change("obs", name="observations"), "inputs are \\['count_in', 'observations', 'state_in'\\]"),
    (with_change("state_out", is_input=True), "inputs are"),
    ([t for t in GOOD if t.name != "action"], "outputs are \\['state_out'\\]"),
    (GOOD + [GOOD[1]], "lists tensor 'obs' twice"),
])
def test_mismatches_are_refused_naming_the_port(tensors, message):
    with pytest.raises(EngineError, match=message) as err:
        plan_bindings(NODE, tensors)
    assert "node 'policy'" in str(err.value)


def test_input_shapes_are_the_cache_key_shapes():
    assert input_shapes(NODE) == (("obs", (1, 48)), ("count_in", (1,)), ("state_in", (1, 1, 16)))
