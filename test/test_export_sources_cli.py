"""leapp-export skrl / sb3 / rl-games / torchrl / trt from the command line: bad input exits 2 naming the culprit."""

from __future__ import annotations

import json

import pytest
import yaml
from export_sources_helpers import JOINTS, REFERENCE, write_params

pytestmark = [pytest.mark.skipif(not REFERENCE.is_file(), reason=f"shared fixtures not found at {REFERENCE}")]

TASK = "Isaac-Velocity-Flat-Anymal-D"
LIBRARY = {"skrl": "skrl", "sb3": "stable_baselines3", "rl-games": "rl_games", "torchrl": "torchrl"}


def _run_with(tmp_path, agent_cfg, files: dict[str, bytes]):
    run = tmp_path / "run"
    write_params(run, agent_cfg)
    for name, data in files.items():
        (run / name).parent.mkdir(parents=True, exist_ok=True)
        (run / name).write_bytes(data)
    return run


# command -> (agent.yaml or None, files in the run dir, checkpoint relative to the run dir or None, expected)
CASES = {
    "skrl: no checkpoint in checkpoints/": ("skrl", {"models": {}}, {"checkpoints/notes.txt": b"x"}, None,
                                           "holds no skrl checkpoint matching"),
    "skrl: not an agent dict": ("skrl", {"models": {}, "agent": {"class": "PPO"}, "memory": {}, "trainer": {}},
                                {"checkpoints/agent_1.pt": b"not a pickle"}, None, "cannot load skrl checkpoint"),
    "skrl: asymmetric critic": ("skrl", {"models": {"value": {"network": [{"input": "STATES"}]}}, "agent": {},
                                         "memory": {}, "trainer": {}}, {"checkpoints/agent_1.pt": b"x"}, None,
                                "models.value reads STATES"),
    "sb3: not a model zip": ("sb3", {}, {"model.zip": b"not a zip"}, None, "is not a Stable-Baselines3 model archive"),
    "rl-games: discrete algo": ("rl-games", {"params": {"config": {}, "algo": {"name": "a2c_discrete"}}},
                                {"nn/x.pth": b"x"}, None, "rl_games algo 'a2c_discrete' is not supported"),
    "rl-games: GRU": ("rl-games", {"params": {"config": {}, "algo": {"name": "a2c_continuous"},
                                             "network": {"rnn": {"name": "gru"}}}},
                      {"nn/x.pth": b"x"}, None, "'gru' recurrent networks are not exportable"),
    "rl-games: missing agent.yaml": ("rl-games", None, {"nn/x.pth": b"x"}, None, "agent config"),
    "torchrl: not an actor": ("torchrl", None, {}, "actor.pt", "not a TensorDictModuleBase actor"),
    "torchrl: bad factory": ("torchrl", None, {}, "actor.pt", "--actor_factory 'nomodule' must be 'module:function'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_invalid_input_exits_2_naming_the_culprit(case, tmp_path, capsys):
    import torch

    from leapp_export.cli import main

    command, agent_cfg, files, checkpoint, expected = CASES[case]
    pytest.importorskip(LIBRARY[command], reason=f"{LIBRARY[command]} not installed")
    run = _run_with(tmp_path, agent_cfg, files)
    extra = []
    if command == "torchrl":
        torch.save({"weights": [1, 2]} if "factory" not in case else {"w": torch.zeros(1)}, run / "actor.pt")
        extra = ["--actor_factory", "nomodule"] if "factory" in case else []
    target = run / checkpoint if checkpoint else run
    rc = main(["--quiet", command, "--task", TASK, "--checkpoint", str(target), "--joint_names", JOINTS,
               "--export_save_path", str(tmp_path / "out")] + extra)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith("leapp-export: error: "), err
    assert expected in err[0]


def test_torchrl_export_from_the_command_line(tmp_path, capsys):
    """A full CLI export (TorchRL, jit-script, gains file) prints the bundle path and writes the report."""
    import torch

    pytest.importorskip("torchrl", reason="torchrl not installed")
    from export_sources_helpers import NUM_ACTIONS, OBS_DIM, make_torchrl_actor

    from leapp_export.cli import main

    run = _run_with(tmp_path, None, {})
    torch.save(make_torchrl_actor({"policy": OBS_DIM}, NUM_ACTIONS), run / "actor.pt")
    gains = tmp_path / "gains.yaml"
    gains.write_text("stiffness: 60.0\ndamping: 1.5\n")
    rc = main(["--quiet", "torchrl", "--task", TASK, "--checkpoint", str(run / "actor.pt"), "--joint_names", JOINTS,
               "--gains", str(gains), "--export_method", "jit-script", "--export_task_name", "trl",
               "--validation_steps", "2", "--disable_graph_visualization"])
    assert rc == 0
    bundle = run / "trl"  # default save path: the actor file's directory
    assert capsys.readouterr().out.strip().endswith(str(bundle))
    doc = yaml.safe_load((bundle / "trl.yaml").read_text())
    assert doc["models"][TASK]["parameters"]["backend"] == "jit"
    report = json.loads((bundle / "trl_export_report.json").read_text())
    assert report["tool"] == "leapp-export torchrl" and report["replay"]["passed"]
    assert report["baked"]["stiffness"] == [60.0] * 12 and report["policy"]["format"] == "module"


def test_trt_subcommand_delegates_to_build_engines(tmp_path, capsys):
    """`leapp-export trt` is leapp_ros.engine.build_engines (listing an empty cache needs no GPU)."""
    import importlib.util

    from leapp_export.cli import build_parser, main

    if importlib.util.find_spec("leapp_ros.engine.build_engines") is None:
        assert "trt" not in build_parser().format_help()
        pytest.skip("leapp_ros.engine.build_engines is absent: no trt subcommand")
    assert main(["trt", "--list", "--cache-dir", str(tmp_path), "bundle.yaml"]) == 0
    assert main(["trt", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
