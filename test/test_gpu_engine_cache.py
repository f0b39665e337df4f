"""TensorRT engine-cache keys and lookups (no TensorRT needed): stale or foreign engines are never loaded."""

from __future__ import annotations

import dataclasses
import json

import pytest

from leapp_ros.engine.backends.engine_cache import CacheMiss, EngineCache, EngineKey

KEY = EngineKey(model_sha256="a" * 64, tensorrt_version="10.3.0", gpu_name="Orin (nvgpu)", compute_capability="8.7",
                precision="fp32", shapes=(("obs", (1, 48)), ("state_in", (1, 1, 16))), workspace_bytes=1 << 30)
PLAN = b"serialized-engine-bytes" * 10


@pytest.mark.parametrize("field, value", [
    ("model_sha256", "b" * 64),
    ("tensorrt_version", "10.4.0"),
    ("gpu_name", "NVIDIA H100 80GB HBM3"),
    ("compute_capability", "9.0"),
    ("precision", "fp16"),
    ("shapes", (("obs", (1, 49)), ("state_in", (1, 1, 16)))),
    ("workspace_bytes", 1 << 28),
])
def test_any_key_field_change_is_a_different_engine(tmp_path, field, value):
    cache = EngineCache(tmp_path)
    cache.store("policy", KEY, PLAN)
    other = dataclasses.replace(KEY, **{field: value})
    assert other.digest() != KEY.digest()
    assert isinstance(cache.lookup("policy", other), CacheMiss)
    assert cache.lookup("policy", KEY) == PLAN


@pytest.mark.parametrize("field, value", [("tensorrt_version", "8.6.1"), ("gpu_name", "NVIDIA RTX 4090"),
                                          ("compute_capability", "8.9")])
def test_foreign_metadata_under_the_right_name_is_refused_naming_the_field(tmp_path, field, value):
    """A plan copied from another machine (same file name, other key in its metadata) is rebuilt, not loaded."""
    cache = EngineCache(tmp_path)
    plan_path, meta_path = cache.paths("policy", KEY)
    cache.store("policy", dataclasses.replace(KEY, **{field: value}), PLAN)
    foreign_plan, foreign_meta = cache.paths("policy", dataclasses.replace(KEY, **{field: value}))
    foreign_plan.rename(plan_path)
    foreign_meta.rename(meta_path)
    miss = cache.lookup("policy", KEY)
    assert isinstance(miss, CacheMiss)
    assert field in miss.reason and value in miss.reason


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete_meta", "bad_json", "delete_plan"])
def test_damaged_cache_entries_are_misses(tmp_path, damage):
    cache = EngineCache(tmp_path)
    plan_path, meta_path = cache.paths("policy", KEY)
    cache.store("policy", KEY, PLAN)
    if damage == "truncate":
        plan_path.write_bytes(PLAN[:-5])
    elif damage == "flip":
        plan_path.write_bytes(bytes([PLAN[0] ^ 1]) + PLAN[1:])
    elif damage == "delete_meta":
        meta_path.unlink()
    elif damage == "bad_json":
        meta_path.write_text("{not json")
    else:
        plan_path.unlink()
    assert isinstance(cache.lookup("policy", KEY), CacheMiss)


def test_store_round_trip_and_listing(tmp_path):
    cache = EngineCache(tmp_path / "nested" / "dir")
    path = cache.store("Isaac/Velocity node", KEY, PLAN)
    assert path.exists() and "/" not in path.name.replace(str(path.parent), "")
    assert cache.lookup("Isaac/Velocity node", KEY) == PLAN
    [entry] = cache.entries()
    assert EngineKey.from_json(entry["key"]) == KEY
    assert json.loads(cache.paths("Isaac/Velocity node", KEY)[1].read_text())["node"] == "Isaac/Velocity node"
    assert not list(cache.directory.glob(".*.tmp"))  # atomic writes leave no temporaries


@pytest.mark.parametrize("field, value", [("precision", "int8"), ("model_sha256", "XYZ")])
def test_invalid_keys_are_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(KEY, **{field: value})


def test_build_engines_lists_the_cache_and_names_missing_tensorrt(tmp_path, capsys):
    import importlib.util

    from conftest import shared_path

    from leapp_ros.engine.build_engines import main
    from leapp_ros.errors import LeappRosError
    EngineCache(tmp_path).store("policy", KEY, PLAN)
    assert main(["unused", "--list", "--cache-dir", str(tmp_path)]) == 0
    assert "TensorRT 10.3.0, Orin (nvgpu) (sm 8.7), fp32" in capsys.readouterr().out
    if importlib.util.find_spec("tensorrt") is None:
        bundle = shared_path("fixtures", "bundles", "anymal_like_flat")
        with pytest.raises(LeappRosError, match="TensorRT is not installed"):
            main([str(bundle), "--cache-dir", str(tmp_path)])
