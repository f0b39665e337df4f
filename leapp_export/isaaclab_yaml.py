"""Safe reader for the YAML files Isaac Lab dumps into a run's params/ folder (env.yaml, agent.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from leapp_export.errors import ExportError


class _IsaacLabLoader(yaml.SafeLoader):
    """SafeLoader plus the two Python tags Isaac Lab's ``dump_yaml`` emits; any other tag is refused."""


def _tuple(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> list[Any]:
    return loader.construct_sequence(node, deep=True)


def _apply(loader: yaml.SafeLoader, suffix: str, node: yaml.SequenceNode) -> Any:
    # Isaac Lab writes SceneEntityCfg ids as ``!!python/object/apply:builtins.slice [start, stop, step]``.
    if suffix == "builtins.slice":
        return slice(*loader.construct_sequence(node, deep=True))
    raise yaml.constructor.ConstructorError(
        None, None, f"refusing to construct Python object 'python/object/apply:{suffix}'", node.start_mark)


_IsaacLabLoader.add_constructor("tag:yaml.org,2002:python/tuple", _tuple)
_IsaacLabLoader.add_multi_constructor("tag:yaml.org,2002:python/object/apply:", _apply)


def load_isaaclab_yaml(path: str | Path) -> dict:
    """Load one Isaac Lab params YAML as plain dicts/lists (tuples become lists, slices stay slices)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ExportError(f"cannot read '{path}': {exc.strerror or exc}") from exc
    try:
        data = yaml.load(text, Loader=_IsaacLabLoader)  # noqa: S506 - safe loader subclass
    except yaml.YAMLError as exc:
        raise ExportError(f"'{path}' is not a readable Isaac Lab YAML dump: {exc}".replace("\n", " ")) from exc
    if not isinstance(data, dict):
        raise ExportError(f"'{path}' does not hold a mapping (is it an Isaac Lab params file?)")
    return data
