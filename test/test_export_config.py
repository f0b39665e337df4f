"""Unit tests of the offline exporter's config readers: YAML tags, name matching, discovery, rates, sensors."""

from __future__ import annotations

import pytest

from leapp_export.errors import ExportError


def test_isaaclab_yaml_tags(tmp_path):
    from leapp_export.isaaclab_yaml import load_isaaclab_yaml

    ok = tmp_path / "ok.yaml"
    ok.write_text("a: !!python/tuple [1, 2]\nb: !!python/object/apply:builtins.slice [null, 3, null]\n")
    assert load_isaaclab_yaml(ok) == {"a": [1, 2], "b": slice(None, 3, None)}
    evil = tmp_path / "evil.yaml"
    evil.write_text("a: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ExportError, match="evil.yaml"):
        load_isaaclab_yaml(evil)


NAMES = ["LF_HAA", "LH_HAA", "RF_HAA", "RH_HAA", "LF_HFE", "LH_HFE"]


@pytest.mark.parametrize("patterns, preserve, expected", [
    ([".*"], False, [0, 1, 2, 3, 4, 5]),
    ([".*HFE", "LF_HAA"], False, [0, 4, 5]),
    ([".*HFE", "LF_HAA"], True, [4, 5, 0]),
    ("R.*", False, [2, 3]),
])
def test_match_names(patterns, preserve, expected):
    from leapp_export.names import match_names

    assert match_names(patterns, NAMES, preserve, "t") == expected


@pytest.mark.parametrize("patterns, message", [
    (["LF_.*", ".*HAA"], "matched by several patterns"),
    (["XX_.*"], r"pattern\(s\) \['XX_.\*'\] match no joint"),
])
def test_match_names_refuses(patterns, message):
    from leapp_export.names import match_names

    with pytest.raises(ExportError, match=message):
        match_names(patterns, NAMES, False, "t")


def test_checkpoint_discovery_follows_isaaclab_ordering(tmp_path):
    from leapp_export.run_dir import find_checkpoint

    for run in ("2026-01-01_10-00-00", "2026-01-02_10-00-00_other"):
        (tmp_path / run).mkdir()
        for it in (9, 10, 100):
            (tmp_path / run / f"model_{it}.pt").write_bytes(b"")
    (tmp_path / "2026-01-02_10-00-00_other" / "model_1000.pt").write_bytes(b"")
    assert find_checkpoint(str(tmp_path), None, None, None).name == "model_1000.pt"
    picked = find_checkpoint(str(tmp_path), "2026-01-01.*", None, None)
    assert picked.parent.name == "2026-01-01_10-00-00" and picked.name == "model_100.pt"
    assert find_checkpoint(str(tmp_path / "2026-01-01_10-00-00"), None, "model_9.pt", None).name == "model_9.pt"
    with pytest.raises(ExportError, match="no run directory matching --load_run 'zzz'"):
        find_checkpoint(str(tmp_path), "zzz", None, None)


def _env(**overrides):
    from leapp_export.env_config import parse_env_config

    raw = {"class_type": "isaaclab.envs.manager_based_rl_env:ManagerBasedRLEnv", "sim": {"dt": 0.005},
           "decimation": 4,
           "scene": {"robot": {"joint_ordering": None, "init_state": {"joint_pos": {".*": 0.1}}},
                     "scan": {"pattern_cfg": {"func": "isaaclab.sensors.ray_caster.patterns.patterns:grid_pattern",
                                              "resolution": 0.1, "size": [1.6, 1.0]}}},
           "observations": {"policy": {"history_length": None, "q": {
               "func": "isaaclab.envs.mdp.observations:joint_pos_rel", "params": {}, "history_length": 2}}},
           "actions": {"a": {"class_type": "isaaclab.envs.mdp.actions.joint_actions:JointPositionAction",
                             "asset_name": "robot", "joint_names": [".*"], "scale": 0.5}},
           "commands": {}}
    raw.update(overrides)
    return parse_env_config(raw, "env.yaml")


def test_env_config_rates_history_and_rays():
    from leapp_export.sensors import ray_caster_num_rays

    env = _env()
    assert env.frequency == 50.0
    assert env.groups["policy"].terms[0].history_length == 2
    assert ray_caster_num_rays(env, "scan") == 187  # 17 x 11 grid, as Isaac Lab's grid_pattern


def test_group_history_overrides_terms():
    env = _env(observations={"policy": {"history_length": 4, "flatten_history_dim": True, "q": {
        "func": "isaaclab.envs.mdp.observations:joint_pos_rel", "params": {}, "history_length": 2}}})
    assert env.groups["policy"].terms[0].history_length == 4


def test_direct_env_is_refused():
    with pytest.raises(ExportError, match="not manager-based"):
        _env(class_type="my.tasks:DirectRLEnv")


def test_joint_ordering_recorded_in_env_wins_and_is_checked():
    from leapp_export.robot import resolve_joint_order

    env = _env()
    env.raw["scene"]["robot"]["joint_ordering"] = ["b", "a"]
    assert resolve_joint_order(env, "robot", None, None) == ["b", "a"]
    with pytest.raises(ExportError, match="differ from scene.robot.joint_ordering"):
        resolve_joint_order(env, "robot", "a,b", None)


def test_urdf_order_only_when_asked(tmp_path):
    from leapp_export.robot import resolve_joint_order

    urdf = tmp_path / "r.urdf"
    urdf.write_text('<robot name="r"><joint name="j2" type="revolute"/><joint name="f" type="fixed"/>'
                    '<joint name="j1" type="revolute"/></robot>')
    env = _env()
    assert resolve_joint_order(env, "robot", "urdf", str(urdf)) == ["j2", "j1"]
    assert resolve_joint_order(env, "robot", "j1,j2", str(urdf)) == ["j1", "j2"]
    with pytest.raises(ExportError, match="joint .j3. from --joint_names is not a movable joint of URDF"):
        resolve_joint_order(env, "robot", "j1,j3", str(urdf))
    with pytest.raises(ExportError, match="joint order of 'robot' is unknown"):
        resolve_joint_order(env, "robot", None, str(urdf))
