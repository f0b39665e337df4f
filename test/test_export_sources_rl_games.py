"""leapp-export rl-games: real rl_games continuous A2C networks (MLP and LSTM, rl_games' ModelBuilder, untrained)
with a running mean/std normaliser, saved in rl_games' .pth layout, exported, replayed against rl_games' player."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import yaml
from export_sources_helpers import (
    NUM_ACTIONS,
    OBS_DIM,
    REFERENCE,
    contract_vs_rsl_rl,
    engine_vs_library,
    export_options,
    perturb,
    write_params,
)

pytestmark = [pytest.mark.skipif(not REFERENCE.is_file(), reason=f"shared fixtures not found at {REFERENCE}")]
pytest.importorskip("rl_games", reason="rl_games not installed (pip install rl-games==1.6.5)")

# What Isaac Lab dumps as params/agent.yaml for its rl_games_cfg_entry_point (rl_games_ppo_cfg.yaml of the classic
# and locomotion tasks, after train.py filled train_dir / full_experiment_name).
RL_GAMES_AGENT = yaml.safe_load("""
params:
  seed: 42
  env:
    clip_observations: 5.0
    clip_actions: 1.0
    obs_groups: {obs: [policy]}
  algo: {name: a2c_continuous}
  model: {name: continuous_a2c_logstd}
  network:
    name: actor_critic
    separate: false
    space:
      continuous:
        mu_activation: None
        sigma_activation: None
        mu_init: {name: default}
        sigma_init: {name: const_initializer, val: 0}
        fixed_sigma: true
    mlp:
      units: [32, 32]
      activation: elu
      d2rl: false
      initializer: {name: default}
      regularizer: {name: None}
  load_checkpoint: false
  load_path: ''
  config:
    name: anymal_like_flat
    env_name: rlgpu
    device: cuda:0
    device_name: cuda:0
    multi_gpu: false
    ppo: true
    mixed_precision: true
    normalize_input: true
    normalize_value: true
    value_bootstrap: true
    num_actors: -1
    reward_shaper: {scale_value: 1.0}
    normalize_advantage: true
    gamma: 0.99
    tau: 0.95
    learning_rate: 0.001
    lr_schedule: adaptive
    schedule_type: legacy
    kl_threshold: 0.01
    score_to_win: 20000
    max_epochs: 1500
    save_best_after: 100
    save_frequency: 50
    grad_norm: 1.0
    entropy_coef: 0.005
    truncate_grads: true
    e_clip: 0.2
    horizon_length: 24
    minibatch_size: 24576
    mini_epochs: 5
    critic_coef: 2.0
    clip_value: true
    seq_length: 4
    bounds_loss_coef: 0.0
    train_dir: logs/rl_games/anymal_like_flat
    full_experiment_name: 2026-01-01_00-00-00
""")

LSTM = {"name": "lstm", "units": 16, "layers": 1, "before_mlp": False, "concat_input": False, "layer_norm": False}


def _agent_cfg(lstm: bool) -> dict:
    cfg = copy.deepcopy(RL_GAMES_AGENT)
    if lstm:
        cfg["params"]["network"]["rnn"] = dict(LSTM)
    return cfg


def _write_run(tmp, lstm: bool):
    """<run>/nn/<name>.pth holding what A2CAgent.save writes (get_full_state_weights) for a ModelBuilder model."""
    import torch
    from rl_games.algos_torch import model_builder, torch_ext

    cfg = _agent_cfg(lstm)
    params = cfg["params"]
    run = tmp / "logs" / "rl_games" / "anymal_like_flat" / "2026-01-01_00-00-00"
    write_params(run, cfg)
    torch.manual_seed(4)
    model = model_builder.ModelBuilder().load(params).build({  # A2CAgent's build_config
        "actions_num": NUM_ACTIONS, "input_shape": (OBS_DIM,), "num_seqs": 1, "value_size": 1,
        "normalize_value": True, "normalize_input": True})
    perturb(model.a2c_network, seed=3, scale=0.3)  # large enough that the player's clamp(mu, -1, 1) acts
    rms = model.running_mean_std
    with torch.no_grad():
        rms.running_mean.copy_(0.2 * torch.randn(OBS_DIM, dtype=torch.float64))
        rms.running_var.copy_(0.5 + torch.rand(OBS_DIM, dtype=torch.float64))
        rms.count.fill_(1000.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    state = {"model": model.state_dict(), "epoch": 50, "frame": 1200, "optimizer": optimizer.state_dict(),
             "last_mean_rewards": -1e9, "env_state": None,
             "scaler": torch.amp.GradScaler("cuda", enabled=False).state_dict()}
    (run / "nn").mkdir()
    torch_ext.save_checkpoint(str(run / "nn" / params["config"]["name"]), state)
    torch_ext.save_checkpoint(str(run / "nn" / "last_anymal_like_flat_ep_50_rew_-3.2"), state)
    return run


def _player(cfg: dict, checkpoint):
    """rl_games' own inference: PpoPlayerContinuous with RlGamesVecEnvWrapper's spaces, restored from the file."""
    import gymnasium as gym
    import torch
    from rl_games.algos_torch.players import PpoPlayerContinuous

    params = copy.deepcopy(cfg["params"])
    env = params["env"]
    params["config"].update(device="cpu", device_name="cpu", vec_env=None, env_info={
        "observation_space": gym.spaces.Box(-env["clip_observations"], env["clip_observations"], (OBS_DIM,)),
        "action_space": gym.spaces.Box(-env["clip_actions"], env["clip_actions"], (NUM_ACTIONS,)),
        "agents": 1, "value_size": 1})
    player = PpoPlayerContinuous(params)
    player.restore(str(checkpoint))
    player.reset()
    player.get_batch_size(torch.zeros(1, OBS_DIM), 1)
    player.init_rnn()
    return player


@pytest.fixture(scope="module", params=[False, True], ids=["mlp", "lstm"])
def rl_games_export(request, tmp_path_factory):
    from leapp_export.sources import RlGamesExportOptions, export_rl_games

    tmp = tmp_path_factory.mktemp("rl_games_lstm" if request.param else "rl_games")
    run = _write_run(tmp, request.param)
    bundle = export_rl_games(RlGamesExportOptions(**export_options(tmp, run)))
    return request.param, run, bundle


def _without_lstm_state(tree):
    """The contract minus every port, edge and value of the recurrent state ``actor_state_*``."""
    if isinstance(tree, dict):
        return {k: _without_lstm_state(v) for k, v in tree.items() if "actor_state" not in str(k)}
    if isinstance(tree, list):
        return [_without_lstm_state(v) for v in tree
                if "actor_state" not in (v.get("name", "") if isinstance(v, dict) else str(v))]
    return tree


def test_rl_games_contract(rl_games_export):
    from export_helpers import comparable_contract, contract_differences

    lstm, _, bundle = rl_games_export
    if not lstm:
        assert contract_vs_rsl_rl(bundle) == []
        return
    doc = yaml.safe_load((bundle / "anymal_like_flat.yaml").read_text())
    node = "Isaac-Velocity-Flat-Anymal-D"
    inputs = {p["name"]: p for p in doc["models"][node]["inputs"]}
    assert inputs["actor_state_0_in"]["shape"] == [1, 1, 16] and inputs["actor_state_1_in"]["shape"] == [1, 1, 16]
    assert doc["pipeline"]["feedback_flow"] == {
        f"{node}/{s}_out": [f"{node}/{s}_in"] for s in ("actor_state_0", "actor_state_1", "last_action")}
    # apart from the LSTM state (Isaac Lab's rl_games naming actor_state_0/1) it is the rsl-rl contract
    ours = _without_lstm_state(comparable_contract(bundle / "anymal_like_flat.yaml"))
    assert contract_differences(ours, comparable_contract(REFERENCE)) == []


def test_rl_games_engine_matches_rl_games_player(rl_games_export):
    import torch

    lstm, run, bundle = rl_games_export
    player = _player(_agent_cfg(lstm), run / "nn" / "anymal_like_flat.pth")

    def act(obs):  # RlGamesVecEnvWrapper clamps observations, the player normalises, clamps mu and rescales
        x = torch.from_numpy(np.clip(obs, -5.0, 5.0))[None]
        return player.get_action(player.obs_to_torch(x), is_deterministic=True).numpy()

    worst = engine_vs_library(bundle, act, env_clip_actions=1.0)
    print(f"rl_games ({'lstm' if lstm else 'mlp'}): engine vs rl_games player max abs error {worst:.3e}")
    assert worst < 1e-4
    report = json.loads((bundle / "anymal_like_flat_export_report.json").read_text())
    assert report["replay"]["passed"] and report["checkpoint"].endswith("nn/anymal_like_flat.pth")


def test_rl_games_unset_clip_actions_is_refused(tmp_path):
    from leapp_export.errors import ExportError
    from leapp_export.sources import RlGamesExportOptions, export_rl_games

    run = _write_run(tmp_path, False)
    cfg = _agent_cfg(False)
    del cfg["params"]["env"]["clip_actions"]
    write_params(run, cfg)
    with pytest.raises(ExportError, match="clip_actions is not set .*NaN"):
        export_rl_games(RlGamesExportOptions(**export_options(tmp_path, run)))
