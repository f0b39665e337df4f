"""leapp-export CLI: invalid input exits 2 with one line naming the culprit; a minimal valid run succeeds."""

from __future__ import annotations

import json

import pytest
import yaml
from export_helpers import ANYMAL_RUN, ANYMAL_RUN_DIR, load_fixture_agent_yaml, load_fixture_env_yaml

pytestmark = pytest.mark.skipif(not ANYMAL_RUN.is_dir(), reason=f"shared fixtures not found at {ANYMAL_RUN}")

TASK = "Isaac-Velocity-Flat-AnymalD"
JOINTS = str(ANYMAL_RUN / "joint_names.txt")


def _edited_run(tmp_path, edit) -> str:
    """A copy of the fixture run with an edited env.yaml (the checkpoint is the fixture's)."""
    env = load_fixture_env_yaml()
    edit(env)
    run = tmp_path / "run"
    (run / "params").mkdir(parents=True)
    (run / "params" / "env.yaml").write_text(yaml.dump(env, sort_keys=False))
    (run / "params" / "agent.yaml").write_text(yaml.dump(load_fixture_agent_yaml(), sort_keys=False))
    (run / "model_0.pt").write_bytes((ANYMAL_RUN_DIR / "model_0.pt").read_bytes())
    return str(run)


def _set(path, value):
    def edit(env):
        node = env
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


CASES = {
    "no joint order": ([], None, "joint order of 'robot' is unknown"),
    "gains from USD": (["--joint_names", JOINTS], None, "no stiffness/damping for joint(s) ['LF_HAA'"),
    "unknown term": (["--joint_names", JOINTS, "--gains", "zero"],
                     _set(["observations", "policy", "joint_vel", "func"],
                          "isaaclab.envs.mdp.observations:joint_effort"),
                     "observation 'policy.joint_vel' uses isaaclab.envs.mdp.observations:joint_effort"),
    "task-specific term": (["--joint_names", JOINTS, "--gains", "zero"],
                           _set(["observations", "policy", "joint_pos", "func"], "my_tasks.mdp:feet_phase"),
                           "observations.policy.joint_pos: observation function 'my_tasks.mdp:feet_phase'"),
    "unsupported action": (["--joint_names", JOINTS, "--gains", "zero"],
                           _set(["actions", "joint_pos", "class_type"],
                                "isaaclab.envs.mdp.actions.joint_actions:RelativeJointPositionAction"),
                           "actions.joint_pos: action term"),
    "joint name typo": (["--joint_names", "LF_HAA,LH_HAA", "--gains", "zero"], None, "match no joint"),
    "bad gains file": (["--joint_names", JOINTS, "--gains", "/nonexistent/gains.yaml"], None,
                       "cannot read '/nonexistent/gains.yaml'"),
    "slash in task": (["--joint_names", JOINTS, "--gains", "zero", "--task", "ns/Task"], None, "--task 'ns/Task'"),
    "missing checkpoint": (["--checkpoint", "/nonexistent/run"], None, "checkpoint '/nonexistent/run' does not exist"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_input_exits_2_naming_the_culprit(case, tmp_path, capsys):
    from leapp_export.cli import main

    extra, edit, expected = CASES[case]
    checkpoint = _edited_run(tmp_path, edit) if edit else str(ANYMAL_RUN_DIR)
    argv = ["--quiet", "rsl-rl", "--task", TASK, "--checkpoint", checkpoint, "--export_save_path", str(tmp_path)]
    rc = main(argv + extra)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("leapp-export: error: ")
    assert expected in err[0]
    assert "Traceback" not in err[0]


def test_debug_shows_the_traceback(tmp_path):
    from leapp_export.cli import main
    from leapp_export.errors import ExportError

    with pytest.raises(ExportError):
        main(["--debug", "--quiet", "rsl-rl", "--task", TASK, "--checkpoint", "/nonexistent/run"])


def test_isaaclab_handover_without_isaaclab_exits_2(capsys, monkeypatch):
    from leapp_export.cli import main

    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["isaaclab", "--", "--task", TASK]) == 2
    assert "Isaac Lab 3.0 is not installed" in capsys.readouterr().err


def test_gains_file_and_no_validation(tmp_path):
    from leapp_export.cli import main

    gains = tmp_path / "gains.yaml"
    gains.write_text("stiffness: {'.*_HAA': 80.0, '.*_(HFE|KFE)': 60.0}\ndamping: 2.5\n")
    rc = main(["--quiet", "rsl-rl", "--task", TASK, "--checkpoint", str(ANYMAL_RUN_DIR), "--joint_names", JOINTS,
               "--gains", str(gains), "--export_save_path", str(tmp_path), "--export_task_name", "g",
               "--validation_steps", "0", "--disable_graph_visualization", "--export_method", "onnx-torchscript"])
    assert rc == 0
    bundle = tmp_path / "g"
    assert not (bundle / "g.png").exists()
    report = json.loads((bundle / "g_export_report.json").read_text())
    assert report["leapp_validation"] == "disabled" and "replay" not in report
    assert report["baked"]["stiffness"] == [80.0] * 4 + [60.0] * 8 and report["baked"]["damping"] == [2.5] * 12
    doc = yaml.safe_load((bundle / "g.yaml").read_text())
    assert doc["models"][TASK]["parameters"]["backend"] == "onnx"

    import numpy as np

    from leapp_ros.engine import Engine

    engine = Engine.load(bundle)
    inputs = {p.key: np.zeros(p.shape, dtype=p.dtype) for p in engine.bundle.inputs}
    out = engine.run(inputs)
    np.testing.assert_array_equal(out[f"{TASK}/joint_pos_kp_gains"][0], [80.0] * 4 + [60.0] * 8)
    engine.close()


def _joints() -> list[str]:
    return [line.strip() for line in (ANYMAL_RUN / "joint_names.txt").read_text().splitlines() if line.strip()]


def _urdf(names: list[str]) -> str:
    joints = "".join(f'<joint name="{n}" type="revolute"><parent link="base"/><child link="l{i}"/>'
                     f'<limit lower="-1" upper="1" effort="80" velocity="7.5"/></joint>' for i, n in enumerate(names))
    links = "".join(f'<link name="l{i}"/>' for i in range(len(names)))
    fixed = '<joint name="fixed_imu" type="fixed"><parent link="base"/><child link="l0"/></joint>'
    return f'<robot name="anymal"><link name="base"/>{links}{fixed}{joints}</robot>'


JOINT_CASES = {  # --joint_names content, URDF joints (None: no --urdf), expected culprit
    "misspelt name": (lambda j: [n if n != "LF_KFE" else "LF_KEF" for n in j], None,
                      "joint 'LF_KEF' from --joint_names matches no actuator of scene.robot.actuators"),
    "11 of 12 joints": (lambda j: j[:11], None, "--joint_names lists 11 joints, and the checkpoint does not fit"),
    "misspelt name, URDF": (lambda j: [n if n != "RF_HFE" else "RF_HEF" for n in j], _joints,
                            "joint 'RF_HEF' from --joint_names is not a movable joint of URDF"),
    "11 of 12 joints, URDF": (lambda j: j[:11], _joints, "--joint_names lists 11 of the 12 movable joints of URDF"),
}


@pytest.mark.parametrize("case", list(JOINT_CASES))
def test_joint_names_are_checked_against_the_run_and_the_urdf(case, tmp_path, capsys):
    from leapp_export.cli import main

    edit, urdf_joints, expected = JOINT_CASES[case]
    (tmp_path / "joints.txt").write_text("\n".join(edit(_joints())) + "\n")
    extra = []
    if urdf_joints is not None:
        (tmp_path / "robot.urdf").write_text(_urdf(urdf_joints()))
        extra = ["--urdf", str(tmp_path / "robot.urdf")]
    rc = main(["--quiet", "rsl-rl", "--task", TASK, "--checkpoint", str(ANYMAL_RUN_DIR), "--joint_names",
               str(tmp_path / "joints.txt"), "--gains", "zero", "--export_save_path", str(tmp_path), *extra])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and expected in err[0], err


def test_export_output_is_the_bundle_path_and_one_line_when_not_a_terminal(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "leapp_export.cli", "rsl-rl", "--task", TASK, "--checkpoint",
                             str(ANYMAL_RUN_DIR), "--joint_names", JOINTS, "--gains", "zero", "--export_save_path",
                             str(tmp_path), "--validation_steps", "2"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{tmp_path / TASK}\n"  # no library banners (rsl_rl, leapp) on stdout
    lines = result.stderr.splitlines()  # no torchvision lines, FutureWarnings, ANSI colours or progress bar
    assert len(lines) == 1 and lines[0].startswith("leapp-export: done in "), result.stderr
