"""The `leapp-ros` inspect / replay / bench commands and their error convention, run as real processes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import shared_path


def leapp_ros(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "leapp_ros.cli.main", *args], capture_output=True, text=True,
                          timeout=240)


def test_inspect_json_lists_ports_feedback_and_initial_values():
    result = leapp_ros("inspect", str(shared_path("fixtures", "bundles", "gru_recurrent")), "--json", "--no-plan")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["schema"] == "leapp-0.7" and report["rate_hz"] == 50.0
    inputs = {p["name"]: p for p in report["nodes"][0]["inputs"]}
    assert inputs["robot_root_quat_w"]["element_names"] == [None, ["qx", "qy", "qz", "qw"]]
    assert inputs["robot_joint_pos"]["connection"] == "state:robot:joint_pos"
    assert inputs["actor_state_in"]["initial_value_source"] == "initial_values file"
    assert ["Isaac-Velocity-Flat-Anymal-D/actor_state_out",
            "Isaac-Velocity-Flat-Anymal-D/actor_state_in"] in report["feedback"]


def test_inspect_text_names_rate_problem_of_rateless_bundle():
    result = leapp_ros("inspect", str(shared_path("fixtures", "bundles", "franka_fr3_reach")), "--no-plan")
    assert result.returncode == 0, result.stderr
    assert "schema   leapp-0.3" in result.stdout and "not stated (deploy needs --rate)" in result.stdout


@pytest.mark.parametrize("name", ["anymal_like_flat", "anymal_like_history", "anymal_like_flat_pt2"])
def test_replay_reproduces_golden_file(name, tmp_path):
    directory = shared_path("fixtures", "bundles", name)
    out = tmp_path / "replay.json"
    result = leapp_ros("replay", str(directory), "--inputs", str(directory / "inference_check.json"),
                       "--json", str(out))
    assert result.returncode == 0, result.stderr
    golden = json.loads((directory / "inference_check.json").read_text())["steps"]
    replayed = json.loads(out.read_text())["steps"]
    assert len(replayed) == len(golden)
    for want, got in zip(golden, replayed):
        for key, values in want["outputs"].items():
            assert np.max(np.abs(np.ravel(values) - np.asarray(got["outputs"][key]))) <= 1e-5


def test_replay_npz_inputs_and_steps_limit(tmp_path):
    directory = shared_path("fixtures", "bundles", "anymal_like_flat")
    golden = json.loads((directory / "inference_check.json").read_text())["steps"]
    arrays = {key: np.asarray([s["inputs"][key] for s in golden], np.float32) for key in golden[0]["inputs"]}
    np.savez(tmp_path / "inputs.npz", **arrays)
    result = leapp_ros("replay", str(directory), "--inputs", str(tmp_path / "inputs.npz"), "--steps", "2")
    assert result.returncode == 0, result.stderr
    steps = json.loads(result.stdout)["steps"]
    assert len(steps) == 2
    expected = golden[1]["outputs"]["Isaac-Velocity-Flat-Anymal-D/joint_pos"]
    assert np.allclose(steps[1]["outputs"]["Isaac-Velocity-Flat-Anymal-D/joint_pos"], expected, atol=1e-6)


@pytest.mark.parametrize("args, culprit", [
    (["inspect", "{tmp}/missing.yaml"], "no such file"),
    (["inspect", "{tmp}/broken.yaml"], "malformed YAML at line"),
    (["replay", "{flat}", "--inputs", "{tmp}/missing.json"], "missing.json' does not exist"),
    (["replay", "{flat}", "--inputs", "{tmp}/short.json"], "missing pipeline inputs"),
    (["bench", "{flat}", "--ticks", "0"], "--ticks must be >= 1"),
])
def test_errors_exit_2_with_one_line_and_no_traceback(args, culprit, tmp_path):
    (tmp_path / "broken.yaml").write_text("models: [unclosed\n")
    (tmp_path / "short.json").write_text(json.dumps({"steps": [{"inputs": {}}]}))
    flat = shared_path("fixtures", "bundles", "anymal_like_flat")
    result = leapp_ros(*[a.format(tmp=tmp_path, flat=flat) for a in args])
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and culprit in lines[0] and "Traceback" not in result.stderr


def test_debug_flag_shows_the_traceback(tmp_path):
    result = leapp_ros("--debug", "inspect", str(tmp_path / "missing.yaml"))
    assert result.returncode == 2 and "Traceback" in result.stderr


def test_bench_writes_versioned_json_with_side_by_side_runtimes(tmp_path):
    out = tmp_path / "bench.json"
    result = leapp_ros("bench", str(shared_path("fixtures", "bundles", "anymal_like_flat")),
                       "--ticks", "200", "--warmup", "20", "--json", str(out))
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["schema_version"] and report["session_options"]["intra_op_threads"] == 1
    runtimes = [r["runtime"] for r in report["results"]]
    assert runtimes == ["leapp_ros", "onnxruntime", "leapp.InferenceManager"]
    assert all(r["ticks"] == 200 and 0 < r["p50_us"] <= r["p99_us"] <= r["max_us"] for r in report["results"])
    assert set(report["ratios"]) == {"leapp_ros_over_onnxruntime", "inference_manager_over_leapp_ros"}


def _fixture_copy(name: str, tmp_path, edit) -> str:
    """A copy of a fixture bundle whose YAML document went through `edit(document)`."""
    import shutil

    import yaml

    directory = tmp_path / name
    shutil.copytree(shared_path("fixtures", "bundles", name), directory)
    yaml_path = directory / f"{name}.yaml"
    document = yaml.safe_load(yaml_path.read_text())
    edit(document)
    yaml_path.write_text(yaml.safe_dump(document, sort_keys=False))
    return str(directory)


def _widen_first_input(document) -> None:  # the YAML says [1, 5] where the ONNX model says [1, 3]
    port = next(iter(document["models"].values()))["inputs"][0]
    port["shape"] = [1, 5]
    port["element_names"] = [["x", "y", "z", "u", "v"]]


@pytest.mark.parametrize("command", [["inspect"], ["replay", "--inputs", "unused.json"], ["bench", "--ticks", "5"]])
def test_inspect_refuses_what_run_replay_and_bench_refuse(command, tmp_path):
    bundle = _fixture_copy("anymal_like_flat", tmp_path, _widen_first_input)
    result = leapp_ros(command[0], bundle, *command[1:])
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "port 'robot_root_lin_vel_b': the ONNX model's shape [1, 3] does not match the YAML's [1, 5]" in lines[0]


def test_inspect_text_has_no_dangling_lines_or_nested_brackets():
    result = leapp_ros("inspect", str(shared_path("fixtures", "bundles", "franka_fr3_reach")))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "feedback none" in lines and not [line for line in lines if line != line.rstrip()]
    assert not [line for line in lines if "(no isaaclab_connection))" in line or "((" in line]


@pytest.mark.parametrize("bundle, recorded", [
    (("fixtures", "bundles", "anymal_like_flat"), ("fixtures", "bundles", "anymal_like_flat", "inference_check.json")),
    (("fixtures", "bundles", "gru_recurrent"), ("fixtures", "bundles", "gru_recurrent", "inference_check.json")),
    (("fixtures", "isaaclab_runs", "anymal_d_flat", "reference", "Isaac-Velocity-Flat-AnymalD"),
     ("fixtures", "isaaclab_runs", "anymal_d_flat", "golden_io.json")),  # {'shape', 'dtype', 'values'} entries
])
def test_replay_check_passes_against_recorded_outputs(bundle, recorded):
    result = leapp_ros("replay", str(shared_path(*bundle)), "--inputs", str(shared_path(*recorded)), "--check")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("check passed: 15 recorded outputs over 5 steps")


def test_replay_check_fails_with_exit_1_naming_the_output_that_differs(tmp_path):
    directory = shared_path("fixtures", "bundles", "anymal_like_flat")
    document = json.loads((directory / "inference_check.json").read_text())
    document["steps"][3]["outputs"]["Isaac-Velocity-Flat-Anymal-D/joint_pos"][7] += 0.01
    (tmp_path / "tampered.json").write_text(json.dumps(document))
    result = leapp_ros("replay", str(directory), "--inputs", str(tmp_path / "tampered.json"), "--check")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith("check FAILED: 1 of 15 recorded outputs differ")
    assert "step 3 'Isaac-Velocity-Flat-Anymal-D/joint_pos'[7]" in lines[0]


def test_replay_check_needs_recorded_outputs(tmp_path):
    directory = shared_path("fixtures", "bundles", "anymal_like_flat")
    document = json.loads((directory / "inference_check.json").read_text())
    for step in document["steps"]:
        del step["outputs"]
    (tmp_path / "inputs_only.json").write_text(json.dumps(document))
    result = leapp_ros("replay", str(directory), "--inputs", str(tmp_path / "inputs_only.json"), "--check")
    assert result.returncode == 2 and "step 0 has no recorded 'outputs'" in result.stderr


def test_bench_prints_the_table_then_writes_json_to_the_default_path(tmp_path):
    bundle = str(shared_path("fixtures", "bundles", "anymal_like_flat"))
    result = subprocess.run([sys.executable, "-m", "leapp_ros.cli.main", "bench", bundle, "--ticks", "20",
                             "--warmup", "2", "--no-reference"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=240)
    assert result.returncode == 0, result.stdout
    written = list((tmp_path / "out" / "bench").glob("anymal_like_flat-*.json"))
    assert len(written) == 1 and json.loads(written[0].read_text())["results"][0]["ticks"] == 20
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == f"wrote {written[0].relative_to(tmp_path)}"
    assert any(line.startswith("leapp_ros ") for line in lines[:-1])


def test_transport_error_is_one_line_and_exit_2(capsys):
    from leapp_ros.cli.errors import run_guarded
    from leapp_ros.transport import TransportError

    def fail() -> int:
        raise TransportError("the DDS transport needs cyclonedds")
    assert run_guarded(fail, debug=False) == 2
    assert capsys.readouterr().err == "leapp-ros: error: the DDS transport needs cyclonedds\n"


def test_run_interrupted_before_activation_reports_the_real_wait_and_exits_0(tmp_path):
    import os
    import re
    import signal
    import time

    from transport_helpers import loopback_dds_environment

    with loopback_dds_environment() as env:  # no robot: the node waits for its inputs until interrupted
        began = time.monotonic()
        node = subprocess.Popen([sys.executable, "-m", "leapp_ros.cli.main", "run",
                                 str(shared_path("fixtures", "bundles", "anymal_like_flat")), "--transport", "dds",
                                 "--param", "safety.allow_no_joint_limits:=true", "--log-level", "warning"],
                                env={**os.environ, **env}, stderr=subprocess.PIPE, text=True)
        time.sleep(4.0)
        node.send_signal(signal.SIGINT)
        _, stderr = node.communicate(timeout=60)
        elapsed = time.monotonic() - began
    assert node.returncode == 0, stderr
    match = re.search(r"interrupted before activation after ([0-9.]+) s", stderr)
    assert match and float(match.group(1)) <= elapsed and "Traceback" not in stderr, stderr


def test_run_without_cyclonedds_is_one_line_and_exit_2():
    """A machine without cyclonedds: `leapp-ros run --transport dds` says what to install (was a traceback, exit 1)."""
    bundle = str(shared_path("fixtures", "bundles", "anymal_like_flat"))
    code = ("import sys; sys.modules['cyclonedds'] = None  # as if not installed\n"
            "from leapp_ros.cli.main import main; sys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, "run", bundle, "--transport", "dds"], capture_output=True,
                            text=True, timeout=120)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert lines[-1].startswith("leapp-ros run: error: the DDS transport needs cyclonedds: pip install cyclonedds==")
