"""Hostile bundles that get past the loader and fail later: one line and exit code 2 from the node and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import shared_path
from hostile_bundles import jit_model_failing_every_run, onnx_second_target_output
from safety_helpers import copy_bundle


def run_node(directory, *params: str) -> subprocess.CompletedProcess:
    from transport_helpers import loopback_dds_environment
    with loopback_dds_environment() as env:
        return subprocess.run([sys.executable, "-m", "leapp_ros.node.run_cli", str(directory), "--transport", "dds",
                               "--discovery", "loopback", "--activate-timeout", "2",
                               *(f"--param={p}" for p in params)],
                              capture_output=True, text=True, timeout=90, env={**os.environ, **env})


def assert_one_line_exit_2(result: subprocess.CompletedProcess, pattern: str) -> None:
    import re
    output = result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert result.returncode == 2, output[-2000:]
    assert len(errors) == 1 and re.search(pattern, errors[0]), output[-2000:]
    assert "Traceback" not in output and "activated" not in output and "RAMP_IN" not in output, output[-2000:]


@pytest.mark.timeout(120)
def test_model_failing_every_run_is_refused_at_warm_up(tmp_path):
    shared_path("fixtures", "bundles", "anymal_like_flat_jit")
    directory = copy_bundle("anymal_like_flat_jit", tmp_path)
    jit_model_failing_every_run(directory)
    assert_one_line_exit_2(run_node(directory),
                           r"bundle 'anymal_like_flat_jit': the model fails on its warm-up run: .*fails on every run")


@pytest.mark.timeout(120)
def test_target_output_making_an_invalid_topic_is_one_line(tmp_path):
    shared_path("fixtures", "bundles", "anymal_like_flat")
    directory = copy_bundle("anymal_like_flat", tmp_path)
    onnx_second_target_output(directory, "1st_target")
    result = run_node(directory, "safety.allow_no_joint_limits:=true")  # get past the limits check to the topics
    assert_one_line_exit_2(result, r"invalid ROS topic name '[^']*1st_target'")


def test_replay_of_a_model_failing_every_run_is_one_line(tmp_path):
    shared_path("fixtures", "bundles", "anymal_like_flat_jit")
    directory = copy_bundle("anymal_like_flat_jit", tmp_path)
    jit_model_failing_every_run(directory)
    result = subprocess.run([sys.executable, "-m", "leapp_ros.cli.main", "replay", str(directory), "--inputs",
                             str(directory / "inference_check.json"), "--steps", "1"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.count("\n") == 1 and "fails on every run" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
