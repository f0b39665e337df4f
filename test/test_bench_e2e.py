"""`bench --e2e`: a real deploy node process over loopback DDS, timed state in -> target out; and the pairing
of arrivals with joint states, table-driven."""

from __future__ import annotations

import numpy as np
import pytest
from bench_helpers import bench_json
from conftest import shared_path

from leapp_ros.bench.e2e import NODE_DIAGNOSTICS, match
from leapp_ros.bench.schema import schema_errors

MS = 1_000_000


@pytest.mark.timeout(180)
def test_e2e_through_dds_with_the_real_node(tmp_path):
    pytest.importorskip("cyclonedds", reason="cyclonedds not installed (pip install cyclonedds==11.0.1)")
    pytest.importorskip("rosbags", reason="rosbags not installed (pip install rosbags==0.11.9)")
    pytest.importorskip("jsonschema", reason="bench validation needs jsonschema (pip install jsonschema)")
    document = bench_json(shared_path("fixtures", "bundles", "gru_recurrent"), tmp_path / "e2e.json",
                          "--no-reference", "--e2e", "--rate", "100", "--seconds", "1.5")
    assert schema_errors(document) == []
    e2e = document["e2e"]
    assert e2e["transport"] == "dds" and e2e["target_topic"] == "joint_commands"
    assert set(e2e["input_topics"]) >= {"joint_states", "imu/data"} and e2e["input_topics"][-1] == "joint_states"
    assert 100 <= e2e["states_sent"] <= 160  # 1.5 s at 100 Hz, give or take a loaded machine
    assert e2e["matched"] >= 0.8 * e2e["states_sent"]  # the node answered (nearly) every joint state
    latency = e2e["latency"]
    assert 0 < latency["p50_us"] <= latency["p99_us"] <= latency["max_us"] < 1e6
    node = e2e["node_process"]
    assert node["pid"] != e2e["robot_process"]["pid"] and node["rss_bytes"] > 20 * 2**20
    assert e2e["node_diagnostics"].get("safety state")
    assert set(e2e["node_diagnostics"]) == set(NODE_DIAGNOSTICS)  # every key the bench reads is one the node publishes


@pytest.mark.parametrize("sent_ms, arrivals_ms, matched, latencies_ms, missed, unmatched", [
    ([0, 10, 20], [1, 11, 21], 3, [1, 1, 1], 0, 0),            # every state answered within its period
    ([0, 10, 20], [1, 21], 2, [1, 1], 1, 0),                    # state 10 lost: unanswered, later pairs unshifted
    ([0, 10, 20, 30], [1, 31], 2, [1, 1], 2, 0),                # two states lost in a row
    ([0, 10, 20], [12, 13, 22], 2, [2, 2], 1, 1),               # a backlog: the target at 13 reflects no newer state
    ([0, 10], [1, 2, 11], 2, [1, 1], 0, 1),                     # a second target for state 0: not matched
    ([0, 10, 20], [], 0, [], 3, 0),                             # the node said nothing
    ([10, 20], [5], 0, [], 2, 1),                               # an arrival before any state (from the warm-up)
    ([0, 10, 20], [15, 25], 2, [5, 5], 1, 0),                   # half a period late: on time, state 0 unanswered
])
def test_match_pairs_each_arrival_with_the_newest_state_before_it(sent_ms, arrivals_ms, matched, latencies_ms,
                                                                  missed, unmatched):
    result = match(np.array(sent_ms, dtype=np.int64) * MS, np.array(arrivals_ms, dtype=np.int64) * MS, 10 * MS)
    assert result["matched"] == matched and result["missed_deadlines"] == missed
    assert result["unmatched_targets"] == unmatched and result["states_sent"] == len(sent_ms)
    if latencies_ms:
        assert result["latency"]["max_us"] == max(latencies_ms) * 1e3
        assert result["latency"]["mean_us"] == pytest.approx(np.mean(latencies_ms) * 1e3)
    else:
        assert result["latency"] == {"ticks": 0}
