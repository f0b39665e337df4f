"""Measured backend selection: every candidate is reported, unavailable ones with a reason, fastest p99 wins."""

from __future__ import annotations

import pytest
from conftest import shared_path

from leapp_ros.bundle import load_bundle
from leapp_ros.engine.autoselect import Candidate, default_candidates, measure, select
from leapp_ros.errors import LeappRosError


@pytest.mark.parametrize("name, expected_labels", [
    ("anymal_like_flat", {"cpu (natural, 1 thread)", "onnxruntime-cuda", "onnxruntime-cuda (ort stream)",
                          "onnxruntime-tensorrt", "tensorrt fp32 + graph", "tensorrt fp16 + graph"}),
    ("anymal_like_flat_jit", {"cpu (natural, 1 thread)", "torch-cuda", "torch-cuda + graph"}),
])
def test_candidates_follow_the_model_format(name, expected_labels):
    bundle = load_bundle(shared_path("fixtures", "bundles", name))
    assert {c.label for c in default_candidates(bundle)} == expected_labels


def test_select_picks_the_fastest_p99_among_working_candidates():
    bundle = load_bundle(shared_path("fixtures", "bundles", "gru_recurrent"))
    logged = []
    selection = select(bundle, warmup=5, ticks=40, log=logged.append)
    ok = [r for r in selection.rows if r.status == "ok"]
    assert ok and selection.chosen.label == min(ok, key=lambda r: r.p99_us).label
    assert all(r.p50_us <= r.p99_us <= r.max_us for r in ok)
    assert all(r.parity_rel is not None and r.parity_rel <= 1e-4 for r in ok)
    for row in selection.rows:
        assert row.status in ("ok", "unavailable", "parity-failed", "error")
        if row.status != "ok":
            assert row.detail  # every refusal says why
    assert all(r.label in logged[0] for r in selection.rows)
    assert selection.as_dict()["chosen"] == selection.chosen.label


def test_a_candidate_that_cannot_run_the_format_is_reported_not_fatal():
    bundle = load_bundle(shared_path("fixtures", "bundles", "anymal_like_flat"))
    selection = measure(bundle, [Candidate("torch on onnx", "torch"), Candidate("cpu", "auto")], warmup=2, ticks=10)
    bad, good = selection.rows
    assert bad.status == "unavailable" and "cannot run 'onnx'" in bad.detail
    assert good.status == "ok" and selection.chosen.label == "cpu"


def test_no_working_candidate_is_an_error_with_the_table():
    bundle = load_bundle(shared_path("fixtures", "bundles", "anymal_like_flat"))
    with pytest.raises(LeappRosError, match="no backend can run bundle 'anymal_like_flat'") as err:
        select(bundle, warmup=1, ticks=2, candidates=[Candidate("torch on onnx", "torch")])
    assert "torch on onnx" in str(err.value) and "unavailable" in str(err.value)
