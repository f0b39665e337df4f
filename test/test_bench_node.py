"""`bench --node`: the real deploy node in the bench process against a stand-in robot over loopback DDS; its
overhead, wake-up latency, late ticks, safety transitions and the platform floor (an empty tick on the same loop)."""

from __future__ import annotations

import pytest
from bench_helpers import bench_json
from conftest import shared_path

from leapp_ros.bench.schema import schema_errors


@pytest.mark.timeout(240)
def test_node_section_reports_overhead_wake_up_and_the_platform_floor(tmp_path):
    pytest.importorskip("cyclonedds", reason="cyclonedds not installed (pip install cyclonedds==11.0.1)")
    pytest.importorskip("jsonschema", reason="bench validation needs jsonschema (pip install jsonschema)")
    document = bench_json(shared_path("fixtures", "bundles", "anymal_like_flat"), tmp_path / "node.json",
                          "--no-reference", "--ticks", "50", "--warmup", "5", "--node", "--rates", "100",
                          "--seconds", "1.5", "--floor", "0.5")
    assert schema_errors(document) == []
    (rate,) = document["node"]["rates"]
    assert rate["rate_hz"] == 100 and 50 <= rate["ticks"] <= 200  # 1.5 s at 100 Hz, give or take a busy machine
    for section in ("node_overhead", "engine", "tick", "wake_up"):
        assert rate[section]["p50_us"] > 0 and rate[section]["p99_us"] >= rate[section]["p50_us"], section
    assert rate["tick"]["p50_us"] > rate["engine"]["p50_us"]  # the tick holds the engine and the node's own work
    assert isinstance(rate["safety_transitions"], int) and rate["safety_state_end"]
    floor = rate["platform_floor"]
    assert floor["rate_hz"] == 100 and 25 <= floor["ticks"] <= 60 and floor["wake_up"]["p50_us"] > 0
    assert 0 <= floor["late_fraction"] <= 1
