"""`bench --sim`: a real rollout in the MuJoCo demo scene; aggregation over completed episodes only and the
mapping of the demo's reach windows to episodes (table-driven); a clear refusal for bundles the scene cannot run."""

from __future__ import annotations

import pytest
from bench_helpers import REPO, bench_json, leapp_ros
from conftest import shared_path

from leapp_ros.bench.schema import schema_errors
from leapp_ros.bench.sim_rollout import Episode, aggregate, episodes_from_demo

DEMO_BUNDLE = REPO / "examples" / "reach_arm" / "bundle" / "Leapp-Reach-Arm-v0"


@pytest.mark.timeout(180)
def test_sim_rollout_of_the_demo_bundle(tmp_path):
    pytest.importorskip("mujoco", reason="mujoco not installed (pip install mujoco)")
    pytest.importorskip("cyclonedds", reason="cyclonedds not installed (pip install cyclonedds==11.0.1)")
    pytest.importorskip("jsonschema", reason="bench validation needs jsonschema (pip install jsonschema)")
    if not DEMO_BUNDLE.is_dir():
        pytest.skip(f"the demo bundle {DEMO_BUNDLE} is not in this checkout")
    document = bench_json(DEMO_BUNDLE, tmp_path / "sim.json", "--no-reference", "--sim", "--episodes", "1")
    assert schema_errors(document) == []
    sim = document["sim"]
    assert sim["episodes_requested"] == 1 and sim["episodes_completed"] == 1
    assert sim["task_metric"]["name"] == "final_ee_position_error_m" and sim["task_metric"]["count"] == 1
    assert 0 <= sim["task_metric"]["mean"] < 1.0  # metres: the arm is within reach of its target
    assert sim["success_rate"] in (0.0, 1.0) and sim["episode_length"]["mean"] == 200  # 4 s at 50 Hz


def test_sim_refuses_a_bundle_the_demo_scene_cannot_run_before_any_timing():
    result = leapp_ros("bench", str(shared_path("fixtures", "bundles", "gru_recurrent")), "--sim", "--ticks", "5")
    assert result.returncode == 2
    assert "bench --sim rolls out in the demo's MuJoCo scene" in result.stderr and "gru_recurrent" in result.stderr
    assert "ticks per runtime" not in result.stdout  # refused up front, nothing was timed


@pytest.mark.parametrize("episodes, completed, success_rate, mean_length, mean_metric", [
    ([Episode(True, 100, 1.0, 0.02, True), Episode(True, 50, 3.0, 0.04, False)], 2, 0.5, 75.0, 0.03),
    # a crashed (incomplete) episode counts in requested, not in any aggregate
    ([Episode(True, 100, 1.0, 0.02, True), Episode(False, 3, -50.0, 9.0, False)], 1, 1.0, 100.0, 0.02),
    ([Episode(False, 3, None, None, False)], 0, None, None, None),
    ([Episode(True, 10, None, None, True)], 1, 1.0, 10.0, None),  # no reward or metric reported
])
def test_aggregate_counts_completed_episodes_only(episodes, completed, success_rate, mean_length, mean_metric):
    result = aggregate(episodes, requested=len(episodes), metric_name="ee_position_error_m",
                       success_criterion="error < 0.05 m")
    assert result["episodes_requested"] == len(episodes) and result["episodes_completed"] == completed
    assert result["success_rate"] == success_rate
    assert result["episode_length"]["mean"] == mean_length and result["task_metric"]["mean"] == mean_metric
    assert result["task_metric"]["name"] == "ee_position_error_m"


@pytest.mark.parametrize("finals, requested, successes, completed", [
    ([0.01, 0.03, 0.019], 3, [True, False, True], 3),
    ([0.01], 3, [True, False, False], 1),          # the demo stopped early: two windows never measured
    ([0.01, 0.01, 0.01, 0.05], 2, [True, True], 2),  # more windows than asked for: only the requested ones
])
def test_demo_windows_become_episodes(finals, requested, successes, completed):
    result = {"final_error_per_window_m": finals, "success_threshold_m": 0.02}
    episodes = episodes_from_demo(result, requested, steps=200)
    assert [e.success for e in episodes] == successes and len(episodes) == requested
    assert sum(e.completed for e in episodes) == completed
    assert all(e.length == 200 for e in episodes if e.completed) and all(e.reward is None for e in episodes)
