"""Hostile bundles, one per attack class: each is refused with one line naming the culprit, before anything runs.

Every case is checked twice: through `load_bundle` (a BundleError from an explicit check, not the loader's
last-resort guard) and through `leapp-ros inspect` (exit code 2, one stderr line, no traceback). Pickle payloads
create a marker file when unpickled; the marker must never appear. Integrity tests prove the engine runs the
bytes that were hashed, not whatever is at the path later.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from case_deadline import case_deadline
from conftest import golden_frames, shared_path
from hostile_bundles import (
    JIT,
    NODE,
    ONNX,
    PT2,
    insert_under,
    onnx_to_external_data,
    pickle_payload,
    pt2_weight_as_pickle,
    rehash,
    rewrite_pt2,
    write_yaml_text,
)
from safety_helpers import bundle_yaml, copy_bundle, edit_yaml, only_node, port

from leapp_ros.bundle import BundleError, load_bundle
from leapp_ros.errors import UncheckedBundleError

MARKER = "PAYLOAD_RAN"
CASE_CPU_SECONDS, CASE_WALL_SECONDS = 5.0, 60.0  # the hangs this guards against never end


@dataclass(frozen=True)
class Case:
    name: str
    corrupt: Callable[[Path], None]
    culprit: str  # regex the one-line message must match
    bundle: str = "anymal_like_flat"


def params_set(key: str, value) -> Callable[[Path], None]:
    return lambda d: edit_yaml(d, lambda y: only_node(y)["parameters"].__setitem__(key, value))


def port_set(direction: str, name: str, key: str, value) -> Callable[[Path], None]:
    return lambda d: edit_yaml(d, lambda y: port(y, direction, name).__setitem__(key, value))


def frequency(value) -> Callable[[Path], None]:
    return lambda d: edit_yaml(d, lambda y: y["pipeline"]["configs"].__setitem__("frequency", value))


def raw_frequency(text: str) -> Callable[[Path], None]:
    def corrupt(d: Path) -> None:
        path = bundle_yaml(d)
        path.write_text(path.read_text().replace("frequency: 50.0", f"frequency: {text}"))
    return corrupt


def pt2_payload_weight(d: Path) -> None:
    rewrite_pt2(d, pt2_weight_as_pickle(pickle_payload(d / MARKER)))


def pt2_payload_sample_inputs(d: Path) -> None:
    payload = pickle_payload(d / MARKER)
    rewrite_pt2(d, lambda rel, data: payload if rel.startswith("data/sample_inputs/") else data)


def pt2_payload_legacy_weights(d: Path) -> None:
    rewrite_pt2(d, lambda rel, data: data, add={f"data/weights/{NODE}.pt": pickle_payload(d / MARKER)})


def pt2_native_code(d: Path) -> None:
    rewrite_pt2(d, lambda rel, data: data, add={"data/aotinductor/model/model.so": b"\x7fELF" + b"\0" * 60})


def pt2_opaque_constant(d: Path) -> None:
    def change(rel: str, data: bytes) -> bytes:
        if rel == "data/constants/model_constants_config.json":
            return b'{"config": {"c0": {"path_name": "opaque_obj_0", "is_param": false, "use_pickle": true}}}'
        return data
    rewrite_pt2(d, change, add={"data/constants/opaque_obj_0": pickle_payload(d / MARKER)})


def pt2_not_a_zip(d: Path) -> None:
    (d / PT2).write_bytes(pickle_payload(d / MARKER))
    rehash(d, PT2)


def external_unhashed(d: Path) -> None:
    onnx_to_external_data(d)


def external_wrong_hash(d: Path) -> None:
    onnx_to_external_data(d)
    edit_yaml(d, lambda y: only_node(y)["parameters"].__setitem__("external_data_sha256", {f"{ONNX}.data": "0" * 64}))


def external_escapes(d: Path) -> None:
    import onnx
    onnx_to_external_data(d)
    model = onnx.load(str(d / ONNX), load_external_data=False)
    for tensor in model.graph.initializer:
        for entry in tensor.external_data:
            if entry.key == "location":
                entry.value = "../outside.data"
    (d / ONNX).write_bytes(model.SerializeToString())
    (d.parent / "outside.data").write_bytes((d / f"{ONNX}.data").read_bytes())
    rehash(d, ONNX)
    edit_yaml(d, lambda y: only_node(y)["parameters"].__setitem__("external_data_sha256",
                                                                  {"../outside.data": "0" * 64}))


def legacy_dt(value) -> Callable[[Path], None]:
    def corrupt(d: Path) -> None:
        from bundle_factory import legacy_g1_like_bundle
        for child in d.iterdir():
            child.unlink()
        yaml_path = legacy_g1_like_bundle(d)
        text = yaml_path.read_text()
        assert "dt: 0.02" in text
        yaml_path.write_text(text.replace("dt: 0.02", f"dt: {value}"))
    return corrupt


def billion_laughs(d: Path) -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    text = "\n".join(lines) + "\nmodels: {n: *a9}\npipeline: {}\nsystem information: {}\n"
    assert len(text) < 2048
    write_yaml_text(d, text)


def deep_nesting(d: Path) -> None:
    write_yaml_text(d, "models: " + "[" * 3000 + "]" * 3000 + "\npipeline: {}\nsystem information: {}\n")


def huge_yaml(d: Path) -> None:
    path = bundle_yaml(d)
    path.write_text(path.read_text() + ("# padding " + "x" * 90 + "\n") * 11_000)


def model_path_symlink_loop(d: Path) -> None:
    os.symlink("loop_b", d / "loop_a")
    os.symlink("loop_a", d / "loop_b")
    params_set("model_path", "loop_a")(d)


def model_is_fifo(d: Path) -> None:
    (d / ONNX).unlink()
    os.mkfifo(d / ONNX)


CASES = [
    # ---- code execution and integrity
    Case("pt2_pickled_weight_payload", pt2_payload_weight,
         r"member '[^']*data/weights/weight_0' is a pickle that torch's weights-only loader refuses",
         "anymal_like_flat_pt2"),
    Case("pt2_sample_inputs_payload", pt2_payload_sample_inputs,
         r"member '[^']*data/sample_inputs/model.pt' is a pickle .* refuses", "anymal_like_flat_pt2"),
    Case("pt2_legacy_weights_payload", pt2_payload_legacy_weights,
         rf"member '[^']*data/weights/{NODE}.pt' is a pickle .* refuses", "anymal_like_flat_pt2"),
    Case("pt2_native_code", pt2_native_code, r"member '[^']*model.so' is compiled native code",
         "anymal_like_flat_pt2"),
    Case("pt2_opaque_python_constant", pt2_opaque_constant, r"opaque Python object \('opaque_obj_0'\)",
         "anymal_like_flat_pt2"),
    Case("pt2_not_a_zip", pt2_not_a_zip, rf"'{PT2}' is not a .pt2 archive", "anymal_like_flat_pt2"),
    Case("onnx_external_data_unhashed", external_unhashed,
         rf"'{ONNX}' keeps weights in external file\(s\) \['{ONNX}.data'\] that no hash covers"),
    Case("onnx_external_data_wrong_hash", external_wrong_hash, rf"SHA-256 of '{ONNX}.data' is [0-9a-f]{{64}}"),
    Case("onnx_external_data_escapes", external_escapes, r"'../outside.data' escapes the bundle directory"),
    # ---- bounds
    Case("rate_1e9_hz", frequency(1e9), r"pipeline.configs.frequency is 1000000000.0 Hz, outside .* 0.1..10000 Hz"),
    Case("rate_1e10_hz", frequency(1e10), r"pipeline.configs.frequency is 10000000000.0 Hz, outside"),
    Case("rate_1e-6_hz", frequency(1e-6), r"pipeline.configs.frequency is 1e-06 Hz, outside"),
    Case("rate_nan", raw_frequency(".nan"), r"pipeline.configs.frequency must be positive and finite, got nan"),
    Case("rate_400_digit_integer", raw_frequency("9" * 400), r"pipeline.configs.frequency must be positive and "
         r"finite, got 9+\.\.\.9+$"),
    Case("rate_as_list", frequency([50]), r"pipeline.configs.frequency must be a number, got \[50\]"),
    Case("dt_1e-300", legacy_dt("1.0e-300"), r"semantic.scene.dt is 1e-300 s, outside .*0.0001..10 s"),
    Case("dt_1e6", legacy_dt("1.0e+6"), r"semantic.scene.dt is 1000000.0 s, outside"),
    Case("shape_too_many_elements", port_set("inputs", "base_velocity", "shape", [1, 100_000, 100_000]),
         r"port 'base_velocity'.*10000000000 elements"),
    Case("shape_rank_9", port_set("inputs", "base_velocity", "shape", [1] * 9), r"port 'base_velocity'.*9 axes"),
    Case("yaml_over_1_mib", huge_yaml, r"larger than 1 MiB"),
    Case("billion_laughs_2kb", billion_laughs, r"aliases expand the YAML to more than \d+ nodes"),
    Case("deep_nesting", deep_nesting, r"malformed YAML at line 1, column \d+: nesting deeper than 32 levels"),
    Case("recursive_alias", lambda d: write_yaml_text(d, "models: &m [*m]\npipeline: {}\nsystem information: {}\n"),
         r"recursive YAML alias at line 1"),
    # ---- contradictions
    Case("kind_velocity_connection_position", port_set("inputs", "robot_joint_vel", "isaaclab_connection",
                                                       "state:robot:joint_pos"),
         r"port 'robot_joint_vel'.*kind 'state/joint/velocity' says joint velocity but isaaclab_connection "
         r"'state:robot:joint_pos' says joint position"),
    Case("target_kind_position_write_velocity", port_set("outputs", "joint_pos", "isaaclab_connection",
                                                         "write:robot:set_joint_velocity_target_index"),
         r"port 'joint_pos'.*says joint position but .* says joint velocity"),
    Case("kp_kind_writes_damping", port_set("outputs", "joint_pos_kp_gains", "isaaclab_connection",
                                            "write:robot:write_joint_damping_to_sim_index"),
         r"port 'joint_pos_kp_gains'.*kind 'kp' says gain kp but .* says gain kd"),
    Case("state_kind_command_connection", port_set("inputs", "robot_joint_pos", "isaaclab_connection",
                                                   "command:joint_pos"),
         r"port 'robot_joint_pos'.*kind 'state/joint/position' is a state port but isaaclab_connection "
         r"'command:joint_pos' is a command"),
    # ---- non-scalars, odd keys, odd paths (once tracebacks or unnamed refusals)
    Case("list_as_yaml_key", lambda d: insert_under(d, "pipeline:", "  ? [a, b]\n  : 1\n"),
         r"line 90, column \d+: mapping keys must be strings, found a sequence key"),
    Case("inf_as_yaml_key", lambda d: insert_under(d, "pipeline:", "  .inf: 1\n"),
         r"mapping keys must be strings, found a float key '.inf'"),
    Case("mixed_type_keys", lambda d: insert_under(d, "models:", "  1: x\n"),
         r"mapping keys must be strings, found a int key '1'"),
    Case("backend_is_a_list", params_set("backend", ["onnx"]), rf"node '{NODE}': unsupported backend \['onnx'\]"),
    Case("backend_is_a_mapping", params_set("backend", {"a": 1}), rf"node '{NODE}': unsupported backend \{{'a': 1\}}"),
    Case("dtype_is_a_list", port_set("inputs", "base_velocity", "dtype", ["float32"]),
         r"port 'base_velocity': dtype must be a string, got \['float32'\]"),
    Case("pipeline_inputs_nested_lists", lambda d: edit_yaml(d, lambda y: y["pipeline"]["inputs"].__setitem__(
        NODE, [["base_velocity"]])), rf"pipeline.inputs\['{NODE}'\] must be a list of port names"),
    Case("model_path_is_a_list", params_set("model_path", [ONNX]), r"model file must be a file name relative"),
    Case("model_path_symlink_loop", model_path_symlink_loop, r"model file 'loop_a' cannot be resolved"),
    Case("model_path_nul_byte", params_set("model_path", f"{ONNX}\0.txt"), r"model file '.*\\x00.txt' contains a NUL"),
    Case("model_file_is_a_fifo", model_is_fifo, rf"model file '{ONNX}' does not exist|not a regular file"),
    Case("warp_segments_not_numeric", params_set("warp_segments", "many"),
         r"parameters.warp_segments must be a whole number, got 'many'"),
    Case("node_name_with_newline", lambda d: edit_yaml(d, lambda y: y.__setitem__("models", {"a\nb": only_node(y)})),
         r"node 'a\\nb'.* control characters"),
    Case("port_name_10k_chars", port_set("inputs", "base_velocity", "name", "p" * 10_000),
         r"port 'p+\.\.\.'.*longer than 256 characters"),
    Case("yaml_not_utf8", lambda d: bundle_yaml(d).write_bytes(b"models: \xff\xfe\n"), r"not UTF-8 text \(byte 8"),
    Case("python_object_tag",
         lambda d: insert_under(d, "pipeline:", "  x: !!python/object/apply:os.system [touch x]\n"),
         r"malformed YAML at line 90, column \d+: could not determine a constructor for the tag "
         r"'tag:yaml.org,2002:python/object/apply:os.system'"),
    Case("bad_tagged_int", lambda d: insert_under(d, "pipeline:", "  x: !!int twelve\n"),
         r"malformed YAML: a tagged value cannot be built \(ValueError: invalid literal for int"),
    Case("sha256_is_a_list", params_set("sha256sum", ["0" * 64]), r"sha256sum must be a 64-digit hex string"),
]


def test_every_class_has_cases():
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_bundle_is_refused_in_one_line_naming_the_culprit(case: Case, tmp_path, capsys):
    shared_path("fixtures", "bundles", case.bundle)
    directory = copy_bundle(case.bundle, tmp_path)
    case.corrupt(directory)
    with case_deadline(CASE_CPU_SECONDS, CASE_WALL_SECONDS):
        started = time.monotonic()
        with pytest.raises(BundleError) as info:
            load_bundle(directory)
        elapsed = time.monotonic() - started
        from leapp_ros.cli.main import main
        rc = main(["inspect", str(directory), "--no-plan"])
    message = str(info.value)
    assert not isinstance(info.value, UncheckedBundleError), message
    assert "\n" not in message and len(message) <= 1000, message[:2000]
    assert re.search(case.culprit, message), message
    assert not (directory / MARKER).exists(), "the bundle's pickle payload ran"
    captured = capsys.readouterr()
    assert rc == 2 and captured.err.count("\n") == 1 and "Traceback" not in captured.err, captured.err[-2000:]
    assert re.search(case.culprit, captured.err), captured.err
    print(f"{case.name}: refused in {elapsed * 1000:.0f} ms: {message[:160]}")


def test_pickle_payload_is_live(tmp_path):
    """The payload used above really runs when unpickled (so the marker check above can fail)."""
    import pickle
    pickle.loads(pickle_payload(tmp_path / MARKER))
    assert (tmp_path / MARKER).exists()


def test_torch_export_load_runs_the_payload_the_guard_refuses(tmp_path):
    """Without the archive check, torch.export.load itself runs the payload of a pickled-weight .pt2."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    shared_path("fixtures", "bundles", "anymal_like_flat_pt2")
    directory = copy_bundle("anymal_like_flat_pt2", tmp_path)
    pt2_payload_weight(directory)
    try:
        torch.export.load(str(directory / PT2))
    except Exception:
        pass
    assert (directory / MARKER).exists()


def test_cli_processes_exit_2_without_traceback(tmp_path):
    """The installed command as a real process, for the classes that once hung or printed a traceback."""
    names = ["pt2_pickled_weight_payload", "billion_laughs_2kb", "deep_nesting", "list_as_yaml_key",
             "model_path_symlink_loop", "backend_is_a_list", "rate_1e10_hz"]
    for case in (c for c in CASES if c.name in names):
        directory = copy_bundle(case.bundle, tmp_path / case.name)
        case.corrupt(directory)
        result = subprocess.run([sys.executable, "-m", "leapp_ros.cli.main", "inspect", str(directory)],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 2, (case.name, result.stderr[-2000:])
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, (case.name, result.stderr)
        assert re.search(case.culprit, result.stderr), (case.name, result.stderr)
        assert not (directory / MARKER).exists()


def test_bundle_yaml_symlink_loop_and_nul_path_at_the_cli(tmp_path, capsys):
    from leapp_ros.cli.main import main
    os.symlink("b.yaml", tmp_path / "a.yaml")
    os.symlink("a.yaml", tmp_path / "b.yaml")
    assert main(["inspect", str(tmp_path / "a.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and re.search(r"a.yaml': a symbolic link that does not resolve", err), err
    with pytest.raises(BundleError, match=r"the path contains a NUL byte"):
        load_bundle(f"{tmp_path}/x\0.yaml")


# ---------------------------------------------------------------------------- the bytes that run are the bytes hashed
def _golden_step(bundle_name: str):
    directory = shared_path("fixtures", "bundles", bundle_name)
    bundle = load_bundle(directory)
    inputs, outputs = golden_frames(directory, bundle)
    return inputs[0], outputs[0]


@pytest.mark.parametrize("bundle_name,model", [("anymal_like_flat", ONNX), ("anymal_like_flat_jit", JIT),
                                               ("anymal_like_flat_pt2", PT2)])
def test_model_swapped_after_the_hash_check_is_not_what_runs(bundle_name, model, tmp_path):
    """The file is replaced right after load_bundle verified it: the engine still runs the verified bytes."""
    from leapp_ros.engine import Engine
    directory = copy_bundle(bundle_name, tmp_path)
    bundle = load_bundle(directory)
    (directory / model).write_bytes(b"swapped after the hash check" * 100)
    feed, expected = _golden_step(bundle_name)
    with Engine(bundle) as engine:
        result = engine.run(feed)
    for key, value in expected.items():
        np.testing.assert_allclose(result[key].reshape(-1), np.ravel(value), rtol=1e-5, atol=1e-5)


def test_model_swapped_for_a_working_model_is_not_what_runs(tmp_path):
    """A valid model with other weights swapped in after the check: outputs stay those of the verified model."""
    import onnx
    from onnx import numpy_helper

    from leapp_ros.engine import Engine
    directory = copy_bundle("anymal_like_flat", tmp_path)
    bundle = load_bundle(directory)
    model = onnx.load(str(directory / ONNX))
    for tensor in model.graph.initializer:
        array = numpy_helper.to_array(tensor)
        if array.dtype == np.float32 and array.size > 100:
            tensor.CopyFrom(numpy_helper.from_array(array * 3.0, tensor.name))
    onnx.save(model, str(directory / ONNX))
    feed, expected = _golden_step("anymal_like_flat")
    with Engine(bundle) as engine:
        verified = engine.run(feed)
    with Engine(load_bundle(directory, verify_hashes=False)) as engine:
        swapped = engine.run(feed)
    key = f"{NODE}/joint_pos"
    np.testing.assert_allclose(verified[key].reshape(-1), np.ravel(expected[key]), rtol=1e-5, atol=1e-5)
    assert not np.allclose(swapped[key].reshape(-1), np.ravel(expected[key]), atol=1e-3), \
        "the swapped model should differ"


def test_hashed_external_data_is_inlined_and_runs(tmp_path):
    """External data listed in parameters.external_data_sha256 is verified and loaded from memory."""
    from leapp_ros.engine import Engine
    directory = copy_bundle("anymal_like_flat", tmp_path)
    digest = onnx_to_external_data(directory)
    edit_yaml(directory, lambda y: only_node(y)["parameters"].__setitem__(
        "external_data_sha256", {f"{ONNX}.data": digest}))
    bundle = load_bundle(directory)
    (directory / f"{ONNX}.data").write_bytes(b"\0" * 16)  # swapped after the check: must not matter
    feed, expected = _golden_step("anymal_like_flat")
    with Engine(bundle) as engine:
        result = engine.run(feed)
    for key, value in expected.items():
        np.testing.assert_allclose(result[key].reshape(-1), np.ravel(value), rtol=1e-5, atol=1e-5)


def test_weights_only_safe_pickled_weight_is_accepted(tmp_path):
    """A pickled weight that torch's weights-only loader accepts is not refused: the check is by content."""
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    from leapp_ros.engine import Engine
    directory = copy_bundle("anymal_like_flat_pt2", tmp_path)
    import io
    import zipfile
    with zipfile.ZipFile(directory / PT2) as archive:
        raw = next(archive.read(n) for n in archive.namelist() if n.endswith("data/weights/weight_0"))
    buffer = io.BytesIO()
    torch.save(torch.frombuffer(bytearray(raw), dtype=torch.float32).reshape(1, 3), buffer)
    rewrite_pt2(directory, pt2_weight_as_pickle(buffer.getvalue()))
    feed, expected = _golden_step("anymal_like_flat_pt2")
    with Engine(load_bundle(directory)) as engine:
        result = engine.run(feed)
    for key, value in expected.items():
        np.testing.assert_allclose(result[key].reshape(-1), np.ravel(value), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("command", [["replay", "{dir}", "--inputs", "{dir}/none.json"],
                                     ["bench", "{dir}", "--ticks", "1", "--warmup", "0"]])
@pytest.mark.parametrize("name", ["pt2_pickled_weight_payload", "billion_laughs_2kb", "backend_is_a_list",
                                  "kind_velocity_connection_position", "rate_1e10_hz"])
def test_replay_and_bench_refuse_in_one_line_with_exit_2(name, command, tmp_path, capsys):
    from leapp_ros.cli.main import main
    case = next(c for c in CASES if c.name == name)
    directory = copy_bundle(case.bundle, tmp_path)
    case.corrupt(directory)
    rc = main([part.format(dir=directory) for part in command])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err[-2000:]
    assert re.search(case.culprit, err), err
    assert not (directory / MARKER).exists()


def test_model_swapped_back_and_forth_during_loading_never_runs_unverified(tmp_path):
    """A thread swaps the model file between the real one and another valid model (other weights) while the
    bundle is loaded again and again: each load either refuses (hash mismatch) or runs the verified model."""
    import threading

    import onnx
    from onnx import numpy_helper

    from leapp_ros.engine import Engine
    directory = copy_bundle("anymal_like_flat", tmp_path)
    good = (directory / ONNX).read_bytes()
    model = onnx.load(str(directory / ONNX))
    for tensor in model.graph.initializer:
        array = numpy_helper.to_array(tensor)
        if array.dtype == np.float32 and array.size > 100:
            tensor.CopyFrom(numpy_helper.from_array(array * 3.0, tensor.name))
    (tmp_path / "good").write_bytes(good)
    (tmp_path / "bad").write_bytes(model.SerializeToString())
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            for name in ("bad", "good"):
                os.link(tmp_path / name, directory / "swap.tmp")
                os.replace(directory / "swap.tmp", directory / ONNX)  # atomic, as an attacker would do it
    swapper = threading.Thread(target=swap, daemon=True)
    feed, expected = _golden_step("anymal_like_flat")
    key = f"{NODE}/joint_pos"
    outcomes = {"refused": 0, "ran_verified": 0}
    swapper.start()
    try:
        for _ in range(40):
            try:
                bundle = load_bundle(directory)
            except BundleError as exc:
                assert "SHA-256 of" in str(exc), str(exc)
                outcomes["refused"] += 1
                continue
            with Engine(bundle) as engine:
                result = engine.run(feed)
            np.testing.assert_allclose(result[key].reshape(-1), np.ravel(expected[key]), rtol=1e-5, atol=1e-5)
            outcomes["ran_verified"] += 1
    finally:
        stop.set()
        swapper.join(5)
    print(f"swap race: {outcomes}")
    assert outcomes["refused"] + outcomes["ran_verified"] == 40


def test_bundle_yaml_that_is_a_fifo_is_refused_without_waiting(tmp_path):
    """A FIFO named like a bundle would block a plain read forever; it is refused at once."""
    os.mkfifo(tmp_path / "bundle.yaml")
    with case_deadline(CASE_CPU_SECONDS, CASE_WALL_SECONDS):
        with pytest.raises(BundleError, match=r"bundle YAML 'bundle.yaml' is not a regular file") as info:
            load_bundle(tmp_path / "bundle.yaml")
    assert not isinstance(info.value, UncheckedBundleError)
