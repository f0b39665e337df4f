"""The layer rule: the ROS-free core (bundle/ engine/ binding/ safety/) imports no middleware and no upper layer."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "leapp_ros"
CORE = ("bundle", "engine", "binding", "safety")
# the middleware, and the layers built on top of the core (the core must work without any of them)
FORBIDDEN = ("leapp_ros.transport", "leapp_ros.node", "leapp_ros.sim", "leapp_ros.demo", "leapp_ros.cli",
             "leapp_ros.bench", "rclpy", "cyclonedds", "rosbags")


def imported_modules(source: str, module: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in `source`, at any depth (lazy imports included)."""
    package = module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def violations(source: str, module: str) -> list[str]:
    """One line per offending import statement (its first forbidden name)."""
    found: dict[int, str] = {}
    for line, name in imported_modules(source, module):
        if line not in found and any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN):
            found[line] = f"{module}:{line} imports {name}"
    return list(found.values())


def core_modules() -> list[tuple[str, Path]]:
    return [(".".join(("leapp_ros", *path.relative_to(PACKAGE).with_suffix("").parts)), path)
            for layer in CORE for path in sorted((PACKAGE / layer).rglob("*.py"))]


@pytest.mark.parametrize("layer", CORE)
def test_core_layer_imports_no_middleware_and_no_upper_layer(layer):
    modules = [(name, path) for name, path in core_modules() if name.startswith(f"leapp_ros.{layer}.")]
    assert modules, f"no modules found under leapp_ros/{layer}"
    found = [v for name, path in modules for v in violations(path.read_text(), name)]
    assert not found, "the core must not import middleware or upper layers:\n" + "\n".join(found)


@pytest.mark.parametrize("source,module,expected", [
    ("import rclpy", "leapp_ros.safety.x", ["leapp_ros.safety.x:1 imports rclpy"]),
    ("from cyclonedds.domain import DomainParticipant", "leapp_ros.engine.x",
     ["leapp_ros.engine.x:1 imports cyclonedds.domain"]),
    ("def f():\n    from leapp_ros.transport import DEFAULT", "leapp_ros.binding.x",
     ["leapp_ros.binding.x:2 imports leapp_ros.transport"]),
    ("from ...node import deploy", "leapp_ros.engine.backends.x",
     ["leapp_ros.engine.backends.x:1 imports leapp_ros.node"]),
    ("from .. import bench", "leapp_ros.safety.x", ["leapp_ros.safety.x:1 imports leapp_ros.bench"]),
    ("import rosbags_extra\nfrom leapp_ros.transportation import x", "leapp_ros.bundle.x", []),  # prefixes, not names
    ("from leapp_ros.errors import LeappRosError\nimport numpy", "leapp_ros.safety.x", []),
])
def test_rule_catches_every_import_form(source, module, expected):
    assert violations(source, module) == expected


def _contract_names() -> tuple[dict[str, str], set[str]]:
    """String contracts that live in one module: message type names, and the multi-word /diagnostics keys."""
    from leapp_ros import diagnostic_keys, message_types

    types = {v for k, v in vars(message_types).items() if k.isupper()}
    keys = {v for k, v in vars(diagnostic_keys).items()
            if k.isupper() and isinstance(v, str) and (" " in v or "(" in v)}  # one-word keys are plain words
    return types, keys


def _key_positions(tree: ast.AST) -> set[int]:
    """ids of the string constants used as a mapping key: d["k"], {"k": v}, d.get("k")."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            found.add(id(node.slice))
        elif isinstance(node, ast.Dict):
            found.update(id(k) for k in node.keys if k is not None)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                and node.args:
            found.add(id(node.args[0]))
    return found


def test_message_types_and_diagnostics_keys_are_spelt_in_one_place():
    types, keys = _contract_names()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("message_types.py", "diagnostic_keys.py"):
            continue
        tree = ast.parse(path.read_text())
        as_key = _key_positions(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
                continue
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno} spells {node.value!r}"
            if node.value in types:
                found.append(f"{where}: use leapp_ros.message_types")
            elif node.value in keys and id(node) in as_key:
                found.append(f"{where} as a key: use leapp_ros.diagnostic_keys")
    assert not found, "\n".join(found)


def test_percentiles_are_computed_by_the_one_helper():
    """Every p50/p99 of the node, the backend selection and the benches comes from leapp_ros.percentiles."""
    found = [f"{path.relative_to(PACKAGE.parent)}:{node.lineno} calls {node.func.attr}"
             for path in sorted(PACKAGE.rglob("*.py")) if path.name != "percentiles.py"
             for node in ast.walk(ast.parse(path.read_text()))
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
             and node.func.attr in ("percentile", "nanpercentile", "quantile", "nanquantile", "median")]
    assert not found, "use leapp_ros.percentiles.percentiles:\n" + "\n".join(found)
