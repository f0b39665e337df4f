"""TensorRT engine cache: a key that pins everything an engine depends on, and loads that refuse mismatches.

An engine plan is only valid for the exact model, TensorRT version, GPU model (name and compute capability),
precision and shapes it was built for. Each plan `<stem>.plan` sits beside `<stem>.json` holding the full key and
the plan's SHA-256; `lookup` returns a plan only when every field matches and the bytes are intact, so a stale or
foreign engine is rebuilt, never loaded.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

PRECISIONS = ("fp32", "fp16")
KEY_FORMAT = 1  # bump when the key's meaning changes


@dataclass(frozen=True)
class EngineKey:
    """Everything a serialised engine depends on."""

    model_sha256: str
    tensorrt_version: str
    gpu_name: str
    compute_capability: str  # "major.minor"
    precision: str  # "fp32" | "fp16"
    shapes: tuple[tuple[str, tuple[int, ...]], ...]  # every input, in model order
    workspace_bytes: int
    key_format: int = KEY_FORMAT

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got '{self.precision}'")
        if not re.fullmatch(r"[0-9a-f]{64}", self.model_sha256):
            raise ValueError(f"model_sha256 must be 64 lowercase hex digits, got '{self.model_sha256}'")

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["shapes"] = [[name, list(shape)] for name, shape in self.shapes]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EngineKey:
        fields = dict(data)
        fields["shapes"] = tuple((str(name), tuple(int(d) for d in shape)) for name, shape in fields["shapes"])
        return cls(**fields)

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(self.as_json(), sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class CacheMiss:
    """Why no cached engine was used (reported, then the engine is rebuilt)."""

    reason: str


class EngineCache:
    """A directory of `<node>-<digest16>.plan` + `.json` pairs."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def stem(self, node_name: str, key: EngineKey) -> str:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", node_name)
        return f"{safe}-{key.digest()[:16]}"

    def paths(self, node_name: str, key: EngineKey) -> tuple[Path, Path]:
        stem = self.stem(node_name, key)
        return self.directory / f"{stem}.plan", self.directory / f"{stem}.json"

    def lookup(self, node_name: str, key: EngineKey) -> bytes | CacheMiss:
        """The cached plan for exactly `key`, or the reason there is none usable."""
        plan_path, meta_path = self.paths(node_name, key)
        if not plan_path.exists() or not meta_path.exists():
            return CacheMiss(f"no cached engine at {plan_path}")
        try:
            meta = json.loads(meta_path.read_text())
            cached = EngineKey.from_json(meta["key"])
        except (ValueError, KeyError, TypeError) as exc:
            return CacheMiss(f"unreadable cache metadata {meta_path.name}: {exc}")
        if cached != key:
            return CacheMiss(f"{meta_path.name} was built for another configuration: "
                             f"{describe_difference(cached, key)}")
        plan = plan_path.read_bytes()
        if hashlib.sha256(plan).hexdigest() != meta.get("plan_sha256"):
            return CacheMiss(f"{plan_path.name} does not match the SHA-256 recorded when it was built")
        return plan

    def store(self, node_name: str, key: EngineKey, plan: bytes) -> Path:
        """Write plan then metadata atomically (a crash never leaves a plan that `lookup` would accept)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        plan_path, meta_path = self.paths(node_name, key)
        _atomic_write(plan_path, plan)
        meta = {"key": key.as_json(), "plan_sha256": hashlib.sha256(plan).hexdigest(), "node": node_name}
        _atomic_write(meta_path, json.dumps(meta, indent=1, sort_keys=True).encode())
        return plan_path

    def entries(self) -> list[dict[str, Any]]:
        """Metadata of every cached engine, for `build-engines --list`."""
        found = []
        for meta_path in sorted(self.directory.glob("*.json")):
            try:
                found.append({"file": meta_path.with_suffix(".plan").name, **json.loads(meta_path.read_text())})
            except ValueError:
                continue
        return found


def describe_difference(cached: EngineKey, wanted: EngineKey) -> str:
    a, b = cached.as_json(), wanted.as_json()
    return "; ".join(f"{k}: cached {a[k]!r}, needed {b[k]!r}" for k in sorted(a) if a[k] != b[k]) or "identical"


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def default_cache_dir() -> Path:
    env = os.environ.get("LEAPP_ROS_ENGINE_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "leapp_ros" / "tensorrt"
