"""Shared test fixtures: the ../shared fixtures (skipped with a reason when absent) and leapp-built bundles."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURE_BUNDLES = SHARED / "fixtures" / "bundles"
GOLDEN_BUNDLES = ["anymal_like_flat", "anymal_like_flat_jit", "anymal_like_flat_pt2", "gru_recurrent",
                  "anymal_like_history"]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # test helper modules


def shared_path(*parts: str) -> Path:
    """A path under ../shared; skips the test with a printed reason when shared/ is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        reason = f"../shared is not present next to the repository ({path} missing)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    return path


def golden_frames(bundle_dir: Path, bundle) -> tuple[list[dict[str, np.ndarray]], list[dict[str, np.ndarray]]]:
    """Inputs and expected outputs per step from a fixture's inference_check.json."""
    document = json.loads((bundle_dir / "inference_check.json").read_text())
    inputs, outputs = [], []
    for step in document["steps"]:
        inputs.append({k: np.asarray(v, dtype=bundle.port(k).dtype).reshape(bundle.port(k).shape)
                       for k, v in step["inputs"].items()})
        outputs.append({k: np.asarray(v, dtype=np.float64) for k, v in step["outputs"].items()})
    return inputs, outputs


@pytest.fixture(scope="session")
def leapp_bundles(tmp_path_factory) -> dict[str, Path]:
    """Real bundles traced by leapp at test time, built once per session."""
    pytest.importorskip("leapp", reason="leapp is not installed (pip install -e .[test])")
    from leapp_builders import build_bundle
    out = tmp_path_factory.mktemp("leapp_bundles")
    bundles = {kind: build_bundle(kind, out) for kind in ("mlp", "gru", "lstm", "history", "two_node")}
    bundles["mlp_jit"] = build_bundle("mlp", out, export_with="jit-script")
    return bundles


# ------------------------------------------------------------------ the node test matrix: dds and rclpy
@pytest.fixture(params=["dds", "rclpy"])
def node_transport(request) -> str:
    """The deploy node's transport; tests taking it run once per transport (rclpy skipped, with a reason,
    when the ROS 2 wheels are not installed)."""
    if request.param == "rclpy":
        from node_helpers import rclpy_or_skip
        rclpy_or_skip()
    return request.param


def _transport_of(item) -> str | None:
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec else {}
    for name in ("node_transport", "harness", "bench"):  # harness, bench: the safety scenarios' module fixtures
        if params.get(name) in ("dds", "rclpy"):
            return str(params[name])
    marker = item.get_closest_marker("transport")
    return str(marker.args[0]) if marker else None


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "transport(name): the test exercises that transport only (counted in the "
                                       "transport matrix summary)")
    config._transport_matrix = {}  # transport -> {outcome: count}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    transport = _transport_of(item)
    if transport is None:
        return
    counts = item.config._transport_matrix.setdefault(transport, {})
    if report.when == "setup" and report.outcome != "passed":
        counts[report.outcome] = counts.get(report.outcome, 0) + 1
    elif report.when == "call":
        counts[report.outcome] = counts.get(report.outcome, 0) + 1


SUMMARY = pytest.StashKey[list]()  # lines a test module adds to the end-of-run summary (e.g. the fuzz case count)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    for line in config.stash.get(SUMMARY, []):
        terminalreporter.write_line(line)
    matrix = getattr(config, "_transport_matrix", {})
    if matrix:
        parts = [f"{transport} " + " ".join(f"{counts.get(k, 0)} {k}" for k in ("passed", "failed", "skipped"))
                 for transport, counts in sorted(matrix.items())]
        terminalreporter.write_line("transport matrix: " + "; ".join(parts))
