"""Read a sim robot description (YAML): the MJCF path, the SimRobotConfig and the node's own settings."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from leapp_ros.errors import ConfigurationError
from leapp_ros.sim.config import SimRobotConfig

_ROBOT_KEYS = {f.name for f in fields(SimRobotConfig)}


@dataclass(frozen=True)
class SimFile:
    """Contents of a sim YAML: ``robot:`` (model + SimRobotConfig fields) and ``node:`` (topics, rates ...)."""

    path: Path
    model: Path
    robot: SimRobotConfig
    node: dict[str, Any]


def load_sim_file(path: str | Path, node_keys: frozenset[str] | None = None) -> SimFile:
    """Parse and check a sim YAML; relative ``robot.model`` paths are relative to the YAML file.

    ``node_keys``, when given, is the set of keys the node accepts under ``node:``; others are errors.
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigurationError(f"cannot read sim config '{path}': {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"sim config '{path}' is not valid YAML: {exc}".replace("\n", " ")) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("robot"), dict):
        raise ConfigurationError(f"sim config '{path}' needs a 'robot:' mapping")
    unknown = set(doc) - {"robot", "node"}
    if unknown:
        raise ConfigurationError(f"sim config '{path}': unknown top-level key '{sorted(unknown)[0]}'")
    robot = dict(doc["robot"])
    model = robot.pop("model", None)
    if not isinstance(model, str):
        raise ConfigurationError(f"sim config '{path}': robot.model (path of the MJCF file) is required")
    bad = set(robot) - _ROBOT_KEYS
    if bad:
        raise ConfigurationError(f"sim config '{path}': unknown key 'robot.{sorted(bad)[0]}' "
                                 f"(known: model, {', '.join(sorted(_ROBOT_KEYS))})")
    node = doc.get("node") or {}
    if not isinstance(node, dict):
        raise ConfigurationError(f"sim config '{path}': 'node:' must be a mapping")
    if node_keys is not None and set(node) - node_keys:
        raise ConfigurationError(f"sim config '{path}': unknown key 'node.{sorted(set(node) - node_keys)[0]}' "
                                 f"(known: {', '.join(sorted(node_keys))})")
    model_path = Path(model).expanduser()
    if not model_path.is_absolute():
        model_path = (path.parent / model_path).resolve()
    try:
        config = SimRobotConfig(**robot)
    except TypeError as exc:  # pragma: no cover - keys are checked above
        raise ConfigurationError(f"sim config '{path}': {exc}") from exc
    return SimFile(path, model_path, config, node)
