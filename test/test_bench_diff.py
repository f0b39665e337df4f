"""`leapp-ros bench-diff`: a metric table between two real bench runs (exit 0), exit 2 on inputs it cannot compare."""

from __future__ import annotations

import json

import pytest
from bench_helpers import bench_json, leapp_ros
from conftest import shared_path

pytest.importorskip("jsonschema", reason="bench validation needs jsonschema (pip install jsonschema)")
pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The same policy as ONNX (A) and TorchScript (B): two real runs on this machine."""
    out = tmp_path_factory.mktemp("bench_diff")
    a = out / "onnx.json"
    b = out / "jit.json"
    bench_json(shared_path("fixtures", "bundles", "anymal_like_flat"), a, "--no-reference")
    bench_json(shared_path("fixtures", "bundles", "anymal_like_flat_jit"), b)
    return a, b


def test_diff_of_two_real_runs_tables_every_metric(two_runs, tmp_path):
    a, b = two_runs
    out = tmp_path / "diff.json"
    result = leapp_ros("bench-diff", str(a), str(b), "--json", str(out))
    assert result.returncode == 0, result.stderr
    assert "differs: bundle.name: 'anymal_like_flat' -> 'anymal_like_flat_jit'" in result.stdout
    document = json.loads(out.read_text())
    rows = {r["metric"]: r for r in document["rows"]}
    doc_a, doc_b = json.loads(a.read_text()), json.loads(b.read_text())
    p50 = rows["results[leapp_ros].p50_us"]
    assert p50["a"] == doc_a["results"][0]["p50_us"] and p50["b"] == doc_b["results"][0]["p50_us"]
    assert p50["ratio"] == pytest.approx(p50["b"] / p50["a"]) and p50["delta"] == pytest.approx(p50["b"] - p50["a"])
    assert p50["verdict"] in ("better", "worse", "same")
    assert rows["results[leapp.InferenceManager].p50_us"]["verdict"] == "only in B"
    assert rows["process.rss_bytes"]["a"] == doc_a["process"]["rss_bytes"]
    assert "results[leapp_ros].p99_us" in result.stdout


def test_diff_of_a_run_with_itself_is_all_same(two_runs):
    a, _ = two_runs
    result = leapp_ros("bench-diff", str(a), str(a))
    assert result.returncode == 0, result.stderr
    table = [line for line in result.stdout.splitlines() if line.startswith(("results[", "process.", "ratios."))]
    assert table and all(line.rstrip().endswith("same") for line in table)


@pytest.mark.parametrize("break_b, message", [
    (lambda d: d.update(kind="isaaclab.benchmark"), "not a leapp_ros bench document"),
    (lambda d: d.update(schema_version="2.0"), "is not readable by this leapp-ros"),
    (lambda d: d.pop("results"), "does not follow the bench schema"),
    (lambda d: d["results"][0].update(p50_us="fast"), "results/0/p50_us"),
])
def test_schema_incompatible_inputs_exit_2_naming_the_file(two_runs, tmp_path, break_b, message):
    a, _ = two_runs
    document = json.loads(a.read_text())
    break_b(document)
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(document))
    result = leapp_ros("bench-diff", str(a), str(broken))
    assert result.returncode == 2
    assert str(broken) in result.stderr and message in result.stderr, result.stderr


@pytest.mark.parametrize("content, message", [("{not json", "not a JSON document"),
                                              ("[1, 2]", "top level is a list")])
def test_unreadable_inputs_exit_2(two_runs, tmp_path, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    result = leapp_ros("bench-diff", str(bad), str(two_runs[0]))
    assert result.returncode == 2 and message in result.stderr and str(bad) in result.stderr, result.stderr
