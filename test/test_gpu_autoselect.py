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


@pytest.mark.parametrize("name, options, expected", [
    ("anymal_like_flat", {"backend": "onnxruntime"}, "onnxruntime on cpu (as configured)"),
    ("anymal_like_flat_jit", {"backend": "torch", "intra_op_threads": 2}, "torch on cpu (as configured)"),
])
def test_engine_factory_builds_an_explicit_backend_as_asked(name, options, expected):
    from leapp_ros.engine import BackendOptions
    from leapp_ros.engine.autoselect import create_engine

    engine, choice = create_engine(load_bundle(shared_path("fixtures", "bundles", name)), BackendOptions(**options))
    with engine:
        assert choice == expected
        if options["backend"] == "torch":
            assert engine.describe()[0]["threads"] == 2  # torch's thread count is set, not torch's default


@pytest.mark.parametrize("name", ["anymal_like_flat", "anymal_like_flat_jit"])
def test_auto_measures_what_this_machine_can_run_and_says_why_others_are_out(name):
    """On a CUDA machine auto times every GPU candidate against the CPU reference and keeps the fastest p99; on a
    CPU-only machine there is one candidate and the choice names why the GPU ones are out."""
    from leapp_ros.engine import BackendOptions
    from leapp_ros.engine.autoselect import available_candidates, create_engine

    bundle = load_bundle(shared_path("fixtures", "bundles", name))
    candidates, skipped = available_candidates(bundle)
    logged: list[str] = []
    engine, choice = create_engine(bundle, BackendOptions(), log=logged.append, warmup=2, ticks=20)
    with engine:
        assert choice.startswith("auto: ")
        if len(candidates) == 1:
            assert "the only candidate here" in choice and skipped and skipped[0] in choice
            assert not logged  # nothing was timed
            print(f"no GPU candidate here: {skipped[0]}")
        else:
            assert "fastest of" in choice and logged and all(c.label in logged[0] for c in candidates)
            assert any(c.label in choice for c in candidates)
