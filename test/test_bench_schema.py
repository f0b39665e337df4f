"""The bench bundle: a real run follows leapp_ros/bench/schema.json, --compare/--paced/--plot fill it, and the
schema refuses broken documents with the path of the fault."""

from __future__ import annotations

import copy
import json

import pytest
from bench_helpers import bench_json
from conftest import shared_path

from leapp_ros.bench.report import SCHEMA_VERSION
from leapp_ros.bench.schema import load_schema, schema_errors

pytest.importorskip("jsonschema", reason="bench validation needs jsonschema (pip install jsonschema)")
pytestmark = pytest.mark.timeout(240)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    """One real run with every in-process section: side by side, compare, paced, plot."""
    out = tmp_path_factory.mktemp("bench")
    bundle = shared_path("fixtures", "bundles", "anymal_like_flat")
    document = bench_json(bundle, out / "bench.json", "--compare", "--paced", "--rate", "100", "--seconds", "0.5",
                          "--plot", str(out / "latency.png"))
    return document, out


def test_real_run_follows_the_schema_and_has_every_section(full_run):
    document, _ = full_run
    assert schema_errors(document) == []
    assert document["schema_version"] == SCHEMA_VERSION and document["kind"] == "leapp_ros.bench"
    labels = [r["label"] for r in document["results"]]
    assert labels[0] == "leapp_ros" and "onnxruntime" in labels and "leapp.InferenceManager" in labels
    # every other registered backend that runs ONNX is either timed or listed as unavailable with a reason
    compared = set(labels[1:]) | {u["label"] for u in document["unavailable"]}
    assert {"leapp_ros[onnxruntime-cuda]", "leapp_ros[tensorrt]"} <= compared
    assert all(u["reason"] for u in document["unavailable"])
    assert document["backends"]["leapp_ros"][0]["backend"] == "onnxruntime"
    assert document["process"]["rss_bytes"] > 10 * 2**20 and document["process"]["cpu_share"] > 0
    paced = document["paced"]
    assert paced["rate_hz"] == 100.0 and paced["ticks"] > 10 and 0 < paced["achieved_hz"] <= 110
    assert 0 < paced["tick"]["p50_us"] <= paced["tick"]["max_us"]
    assert document["hardware"]["logical_cores"] >= 1 and document["software"]["onnxruntime"]


def test_plot_is_a_png(full_run):
    document, out = full_run
    png = out / "latency.png"
    assert document["plot"] == str(png)
    assert png.read_bytes()[:8] == PNG_MAGIC and png.stat().st_size > 5000


def test_a_1_0_document_still_validates(full_run):
    """Documents written before 1.1 (only the core keys, rows without labels) stay readable."""
    document = copy.deepcopy(full_run[0])
    for key in ("run", "backends", "unavailable", "process", "paced", "plot"):
        document.pop(key)
    for row in document["results"]:
        row.pop("label")
    document["schema_version"] = "1.0"
    assert schema_errors(document) == []


def _drop(key):
    return lambda d: d.pop(key)


def _set(path, value):
    def apply(d):
        *parents, last = path
        for part in parents:
            d = d[part]
        d[last] = value
    return apply


@pytest.mark.parametrize("mutate, where", [
    (_drop("results"), "(top level)"),
    (_drop("hardware"), "(top level)"),
    (_set(["kind"], "something.else"), "kind"),
    (_set(["schema_version"], "2.0"), "schema_version"),
    (_set(["results"], []), "results"),
    (_set(["results", 0, "p50_us"], -1.0), "results/0/p50_us"),
    (_set(["results", 0, "ticks"], "many"), "results/0/ticks"),
    (lambda d: d["results"][0].pop("p99_us"), "results/0"),
    (_set(["ratios", "leapp_ros_over_onnxruntime"], 0), "ratios/leapp_ros_over_onnxruntime"),
    (_set(["paced", "missed_deadlines"], -3), "paced/missed_deadlines"),
    (_set(["process", "rss_bytes"], None), "process/rss_bytes"),
    (_set(["bundle", "nodes"], []), "bundle/nodes"),
    (_set(["e2e"], {"transport": "dds"}), "e2e"),
    (_set(["sim"], {"episodes_requested": 3, "episodes_completed": 2, "episode_length": {"count": 2},
                    "success_rate": 1.5}), "sim/success_rate"),
])
def test_schema_refuses_broken_documents_naming_the_place(full_run, mutate, where):
    document = copy.deepcopy(full_run[0])
    mutate(document)
    errors = schema_errors(document)
    assert errors and any(e.startswith(f"{where}:") for e in errors), errors


def test_schema_file_is_a_valid_json_schema():
    import jsonschema
    jsonschema.Draft202012Validator.check_schema(load_schema())
    assert json.loads(json.dumps(load_schema()))["properties"]["kind"]["const"] == "leapp_ros.bench"
