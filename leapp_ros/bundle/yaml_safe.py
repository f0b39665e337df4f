"""Read a bundle YAML with bounded size, nesting depth and alias expansion, string keys and no duplicates."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import yaml

from leapp_ros.bundle.files import read_once
from leapp_ros.text import exception_summary, quote

MAX_YAML_BYTES = 1 << 20  # real bundles are tens of KB; PyYAML parses ~0.3 MB/s in pure Python
MAX_DEPTH = 32  # real bundles nest 7 levels
MAX_EXPANDED_NODES = 50_000  # after alias expansion (a real bundle has a few thousand); a 2 KB bomb: ~1e9

Fail = Callable[[str], Exception]


def read_yaml_file(path: Path, fail: Fail) -> Any:
    """Parse `path`; every problem becomes `fail(message)` naming the line, and nothing is expanded unbounded."""
    text = _read_text(path, fail)
    try:
        loader = BoundedLoader(text)  # the reader refuses control characters here already
    except yaml.YAMLError as exc:
        raise fail(_describe(exc)) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        expanded = expanded_size(node, fail)
        if expanded > MAX_EXPANDED_NODES:
            raise fail(f"aliases expand the YAML to more than {MAX_EXPANDED_NODES} nodes "
                       "(an alias-expansion bomb); refusing to build it")
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise fail(_describe(exc)) from None
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:  # PyYAML's constructors on bad tagged
        raise fail(f"malformed YAML: a tagged value cannot be built ({exception_summary(exc, 120)})") from None
    finally:
        loader.dispose()


def _read_text(path: Path, fail: Fail) -> str:
    data = read_once(path, "bundle YAML", MAX_YAML_BYTES, fail)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"the YAML is not UTF-8 text (byte {exc.start}: {quote(data[exc.start:exc.start + 4])})") from None


def _describe(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    if isinstance(exc, yaml.reader.ReaderError):
        where = f" at character {exc.position}"
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return f"malformed YAML{where}: {problem}"


class BoundedLoader(yaml.SafeLoader):
    """SafeLoader with a nesting bound, string-only keys and refused duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._composed = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        self._composed += 1
        try:
            if self._depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(None, None, f"nesting deeper than {MAX_DEPTH} levels",
                                                  self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            if self._composed > MAX_EXPANDED_NODES:
                raise yaml.composer.ComposerError(None, None, f"more than {MAX_EXPANDED_NODES} YAML nodes "
                                                  "(a real bundle has a few thousand)",
                                                  self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def expanded_size(root: yaml.Node, fail: Fail) -> int:
    """Node count of the document with every alias expanded, capped just above the limit; refuses cycles."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in on_path:
            raise fail(f"recursive YAML alias at line {node.start_mark.line + 1}")
        on_path.add(key)
        if isinstance(node, yaml.SequenceNode):
            total = 1 + sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in node.value)
        else:
            total = 1
        on_path.discard(key)
        sizes[key] = total = min(total, MAX_EXPANDED_NODES + 1)
        return total

    return size(root)


def _construct_mapping(loader: BoundedLoader, node: yaml.MappingNode, deep: bool = False) -> dict[str, Any]:
    loader.flatten_mapping(node)  # resolve `<<` merge keys first, so their keys are checked too
    seen: set[str] = set()
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
            kind = key_node.tag.rsplit(":", 1)[-1] if isinstance(key_node, yaml.ScalarNode) else key_node.id
            raise yaml.constructor.ConstructorError(
                None, None, f"mapping keys must be strings, found a {kind} key {quote(key_node.value, 40)}"
                if isinstance(key_node, yaml.ScalarNode) else f"mapping keys must be strings, found a {kind} key",
                key_node.start_mark)
        if key_node.value in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {quote(key_node.value)} (a second entry would silently replace the first)",
                key_node.start_mark)
        seen.add(key_node.value)
    return cast(dict[str, Any], loader.construct_mapping(node, deep=deep))  # every key was checked to be a string


BoundedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
