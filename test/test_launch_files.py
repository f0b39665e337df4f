"""The launch files and the shipped parameter file (launch/launch_ros are not installable here: the launch files
are parsed, not run; the parameter file is read the way the node reads it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["deploy.launch.py", "sim2sim.launch.py"])
def test_launch_file_parses_and_declares_its_arguments(name: str) -> None:
    tree = ast.parse((REPO / "launch" / name).read_text())
    functions = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert "generate_launch_description" in functions


def test_sim2sim_gives_the_deploy_node_the_sims_base_frame() -> None:
    source = (REPO / "launch" / "sim2sim.launch.py").read_text()
    assert '"base_frame": _sim_base_frame(' in source
    assert '"base_frame"' in (REPO / "launch" / "deploy.launch.py").read_text()


def test_shipped_params_file_matches_any_namespace() -> None:
    from leapp_ros.node import parameters as P

    data = yaml.safe_load((REPO / "config" / "deploy.yaml").read_text())
    assert list(data) == ["/**"], "a node-name key would not match under a namespace"
    params = P.load_params_file(REPO / "config" / "deploy.yaml", "any_name")
    assert P.validate(P.resolve(params)) is None
