"""leapp-export rsl-rl on the Isaac Lab 3.0 ANYmal-D run: same contract and outputs as Isaac Lab's own exporter."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from export_helpers import ANYMAL_RUN, ANYMAL_RUN_DIR, comparable_contract, contract_differences

pytestmark = pytest.mark.skipif(not ANYMAL_RUN.is_dir(), reason=f"shared fixtures not found at {ANYMAL_RUN}")

TASK = "Isaac-Velocity-Flat-AnymalD"
REFERENCE = ANYMAL_RUN / "reference" / TASK


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    from leapp_export.cli import main

    out = tmp_path_factory.mktemp("anymal_d")
    rc = main(["--quiet", "rsl-rl", "--task", TASK, "--checkpoint", str(ANYMAL_RUN_DIR),
               "--joint_names", str(ANYMAL_RUN / "joint_names.txt"), "--gains", "zero",
               "--export_save_path", str(out)])
    assert rc == 0
    return out / TASK


def test_contract_is_identical_field_by_field(bundle):
    ours = comparable_contract(bundle / f"{TASK}.yaml")
    ref = comparable_contract(REFERENCE / f"{TASK}.yaml")
    assert contract_differences(ours, ref) == []


def test_system_information_matches_except_warp(bundle):
    ours = yaml.safe_load((bundle / f"{TASK}.yaml").read_text())["system information"]
    ref = yaml.safe_load((REFERENCE / f"{TASK}.yaml").read_text())["system information"]
    for key in ("leapp version", "leapp config version"):
        assert ours[key] == ref[key]
    assert set(ours) == set(ref)


def test_model_bytes_identical_when_toolchain_matches(bundle):
    ours = yaml.safe_load((bundle / f"{TASK}.yaml").read_text())
    ref = yaml.safe_load((REFERENCE / f"{TASK}.yaml").read_text())
    if ours["system information"]["torch version"] != ref["system information"]["torch version"]:
        pytest.skip("different torch version than the reference export: byte identity not expected")
    assert ours["models"][TASK]["parameters"]["sha256sum"] == ref["models"][TASK]["parameters"]["sha256sum"]
    assert (bundle / f"{TASK}_initial_values.safetensors").read_bytes() == \
        (REFERENCE / f"{TASK}_initial_values.safetensors").read_bytes()


def test_golden_io_through_leapp_ros_engine(bundle):
    from leapp_ros.engine import Engine

    golden = json.loads((ANYMAL_RUN / "golden_io.json").read_text())
    engine = Engine.load(bundle)
    engine.reset()
    worst = 0.0
    for step in golden["steps"]:
        inputs = {k: np.asarray(v["values"], dtype=v["dtype"]).reshape(v["shape"]) for k, v in step["inputs"].items()}
        outputs = engine.run(inputs)
        assert set(outputs) == set(step["outputs"])
        for key, want in step["outputs"].items():
            expected = np.asarray(want["values"], dtype=want["dtype"]).reshape(want["shape"])
            worst = max(worst, float(np.abs(outputs[key] - expected).max()))
    engine.close()
    print(f"golden I/O max abs error: {worst:.3e}")
    assert worst < 1e-5


def test_artifacts_and_validation_report(bundle):
    names = {p.name for p in bundle.iterdir()}
    assert {f"{TASK}.yaml", f"{TASK}.onnx", f"{TASK}.png", "log.txt", f"{TASK}_initial_values.safetensors",
            f"{TASK}_export_report.json"} <= names
    report = json.loads((bundle / f"{TASK}_export_report.json").read_text())
    assert report["leapp_validation"] == {TASK: True}
    assert report["replay"]["runtime"] == "leapp_ros.engine.Engine"
    assert report["replay"]["passed"] and report["replay"]["steps"] == 5
    assert report["baked"]["stiffness"] == [0.0] * 12 and report["baked"]["gains_source"] == "zero"
