"""Bundles written by every published leapp release replay through leapp_ros like the writer's InferenceManager.

The fixtures under test/fixtures/leapp_versions/<version>/ were exported by that leapp release itself
(test/fixtures/leapp_versions/make_fixtures.py), with its InferenceManager's outputs on recorded inputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from leapp_ros.bundle import SchemaVersion, load_bundle
from leapp_ros.bundle.dialects import CONFIG_VERSIONS
from leapp_ros.engine import Engine

ROOT = Path(__file__).resolve().parent / "fixtures" / "leapp_versions"
VERSIONS = ("0.5.1", "0.5.2", "0.6.0", "0.6.1", "0.7.0", "0.7.1", "0.7.2")
KINDS = ("mlp", "mlp_jit", "mlp_pt2", "gru", "history", "two_node")
PT2_FROM = "0.6.0"  # leapp 0.5.x has no pt2 (torch.export) backend
CASES = [(v, k) for v in VERSIONS for k in KINDS if k != "mlp_pt2" or v >= PT2_FROM]


def _replay(version: str, kind: str) -> tuple[Path, dict[str, np.ndarray]]:
    directory = ROOT / version / kind
    with np.load(directory / "replay.npz") as data:
        return directory / f"{kind}.yaml", {name: data[name] for name in data.files}


def test_every_published_writer_is_covered_by_fixtures():
    writers = sorted(w for c in CONFIG_VERSIONS.values() for w in c.writers)
    assert writers == sorted(VERSIONS)
    assert sorted(p.name for p in ROOT.iterdir() if p.is_dir()) == sorted(VERSIONS)


@pytest.mark.parametrize("version, kind", CASES, ids=[f"{v}-{k}" for v, k in CASES])
def test_replay_matches_the_writing_versions_inference_manager(version, kind):
    yaml_path, record = _replay(version, kind)
    bundle = load_bundle(yaml_path)
    assert bundle.leapp_version == version
    inputs = {k[3:]: v for k, v in record.items() if k.startswith("in:")}
    outputs = {k[4:]: v for k, v in record.items() if k.startswith("out:")}
    assert set(inputs) == {p.key for p in bundle.inputs}
    assert set(outputs) == {p.key for p in bundle.outputs}
    engine = Engine(bundle)
    steps = len(next(iter(inputs.values())))
    worst = 0.0
    for step in range(steps):
        got = engine.run({k: v[step] for k, v in inputs.items()})
        for key, want in outputs.items():
            assert got[key].shape == want[step].shape and got[key].dtype == want[step].dtype, key
            worst = max(worst, float(np.max(np.abs(got[key].astype(np.float64) - want[step]))))
    assert worst <= 1e-6, f"leapp {version} {kind}: max abs error {worst:.3g}"


@pytest.mark.parametrize("version", VERSIONS)
def test_config_version_and_schema_per_writer(version):
    bundle = load_bundle(ROOT / version / "mlp" / "mlp.yaml")
    expected = "1.1" if version.startswith("0.5.") else "1.3"
    assert bundle.config_version == expected
    assert bundle.schema is CONFIG_VERSIONS[expected].schema
    # 1.1 states no policy rate; 1.3 writes pipeline.configs.frequency
    assert bundle.rate_hz == (None if expected == "1.1" else 50.0)
    # a non-zero start value of the feedback state comes from the writer's initial-values file
    start = bundle.initial_value("Policy/last_action_in")
    np.testing.assert_array_equal(start, np.full((1, 4), 0.25, np.float32))


@pytest.mark.parametrize("version", VERSIONS)
def test_history_feedback_is_five_frames_with_an_int64_counter(version):
    bundle = load_bundle(ROOT / version / "history" / "history.yaml")
    history = bundle.port("Policy/h_policy_joint_pos_in")
    counter = bundle.port("Policy/h_policy_joint_pos_num_pushes_in")
    assert history.shape == (5, 1, 4) and history.is_state
    assert counter.dtype == np.int64 and counter.is_state
    assert {(e.source, e.target) for e in bundle.feedback} == {
        ("Policy/h_policy_joint_pos_out", "Policy/h_policy_joint_pos_in"),
        ("Policy/h_policy_joint_pos_num_pushes_out", "Policy/h_policy_joint_pos_num_pushes_in")}


@pytest.mark.parametrize("version", VERSIONS)
def test_two_node_graph_routes_data_flow(version):
    bundle = load_bundle(ROOT / version / "two_node" / "two_node.yaml")
    assert [n.name for n in bundle.nodes] == ["Encoder", "Policy"]
    assert [(e.source, e.target) for e in bundle.data_flow] == [("Encoder/latent", "Policy/latent")]


def test_unknown_config_version_is_refused_naming_the_known_ones(tmp_path):
    import shutil

    from leapp_ros.bundle import BundleError
    directory = tmp_path / "mlp"
    shutil.copytree(ROOT / "0.5.2" / "mlp", directory)
    yaml_path = directory / "mlp.yaml"
    yaml_path.write_text(yaml_path.read_text().replace("leapp config version: '1.1'", "leapp config version: '1.2'"))
    with pytest.raises(BundleError, match=r"unknown leapp config version '1.2' .*config versions 1.1, 1.3"):
        load_bundle(directory)


def test_schema_enum_names_the_0_5_dialect():
    assert SchemaVersion.LEAPP_0_5.value == "leapp-0.5"


@pytest.mark.parametrize("version", ["0.5.2", "0.7.2"])
def test_vendor_block_beside_a_leapp_bundle_holds_joints_and_changes_no_output(version, tmp_path):
    import shutil

    from leapp_ros.binding import compile_plan
    directory = tmp_path / "mlp"
    shutil.copytree(ROOT / version / "mlp", directory)
    yaml_path = directory / "mlp.yaml"
    yaml_path.write_text(yaml_path.read_text() + "\nrobot_defaults:\n  joints:\n"
                         "    j_wrist: {default_pos: 0.1, stiffness: 20.0, damping: 0.5}\n"
                         "    j_hip: {default_pos: 9.0, stiffness: 1.0, damping: 1.0}\n")
    bundle = load_bundle(yaml_path)
    assert list(bundle.vendor) == ["robot_defaults"]
    _, record = _replay(version, "mlp")
    engine = Engine(bundle)
    for step in range(len(record["out:Policy/joint_pos"])):
        got = engine.run({k[3:]: v[step] for k, v in record.items() if k.startswith("in:")})
        np.testing.assert_array_equal(got["Policy/joint_pos"], record["out:Policy/joint_pos"][step])
    target = compile_plan(bundle).outputs.targets[0]
    assert target.joints == ("j_hip", "j_knee", "j_ankle", "j_toe", "j_wrist")  # j_hip stays the policy's
    assert [(h.name, h.position) for h in target.held] == [("j_wrist", 0.1)]
