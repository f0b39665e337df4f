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
