"""leapp-export skrl: a real skrl PPO agent (skrl's Runner, untrained) saved with Agent.save, exported, replayed."""

from __future__ import annotations

import copy
import json

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
skrl = pytest.importorskip("skrl", reason="skrl not installed (pip install skrl==2.1.1)")

# What Isaac Lab dumps as params/agent.yaml for its skrl_cfg_entry_point (skrl_flat_ppo_cfg.yaml of the
# locomotion tasks; skrl-1.x field names, which skrl 2's Runner maps: state_preprocessor -> observation_preprocessor).
SKRL_AGENT = yaml.safe_load("""
seed: 42
models:
  separate: false
  policy:
    class: GaussianMixin
    clip_actions: false
    clip_log_std: true
    min_log_std: -20.0
    max_log_std: 2.0
    initial_log_std: 0.0
    network:
    - name: net
      input: OBSERVATIONS
      layers: [32, 32]
      activations: elu
    output: ACTIONS
  value:
    class: DeterministicMixin
    clip_actions: false
    network:
    - name: net
      input: OBSERVATIONS
      layers: [32, 32]
      activations: elu
    output: ONE
memory:
  class: RandomMemory
  memory_size: -1
agent:
  class: PPO
  rollouts: 24
  learning_epochs: 5
  mini_batches: 4
  discount_factor: 0.99
  lambda: 0.95
  learning_rate: 0.001
  learning_rate_scheduler: KLAdaptiveLR
  learning_rate_scheduler_kwargs: {kl_threshold: 0.01}
  state_preprocessor: RunningStandardScaler
  state_preprocessor_kwargs: null
  value_preprocessor: RunningStandardScaler
  value_preprocessor_kwargs: null
  random_timesteps: 0
  learning_starts: 0
  grad_norm_clip: 1.0
  ratio_clip: 0.2
  value_clip: 0.2
  clip_predicted_values: true
  entropy_loss_scale: 0.005
  value_loss_scale: 1.0
  kl_threshold: 0.0
  rewards_shaper_scale: 1.0
  time_limit_bootstrap: false
  experiment:
    directory: anymal_like_flat
    experiment_name: ''
    write_interval: auto
    checkpoint_interval: auto
trainer:
  class: SequentialTrainer
  timesteps: 36000
  environment_info: log
""")


class _Spaces:
    """skrl Runner's view of SkrlVecEnvWrapper(ManagerBasedRLEnv): unbounded boxes, no critic states."""

    def __init__(self):
        import gymnasium as gym
        import torch

        self.device, self.num_envs, self.num_agents, self.state_space = torch.device("cpu"), 1, 1, None
        self.observation_space = gym.spaces.Box(-float("inf"), float("inf"), (OBS_DIM,))
        self.action_space = gym.spaces.Box(-float("inf"), float("inf"), (NUM_ACTIONS,))

    def close(self):
        pass


def _agent(cfg: dict):
    from skrl.utils.runner.torch import Runner

    cfg = copy.deepcopy(cfg)
    cfg["trainer"]["close_environment_at_exit"] = False
    cfg["agent"]["experiment"].update(write_interval=0, checkpoint_interval=0)
    return Runner(_Spaces(), cfg).agent


@pytest.fixture(scope="module")
def skrl_run(tmp_path_factory):
    """<run>/checkpoints/best_agent.pt written by skrl's Agent.save (the dict write_checkpoint writes)."""
    import torch

    tmp = tmp_path_factory.mktemp("skrl")
    run = tmp / "logs" / "skrl" / "anymal_like_flat" / "2026-01-01_00-00-00_ppo_torch"
    write_params(run, SKRL_AGENT)
    agent = _agent(SKRL_AGENT)
    perturb(agent.policy, seed=1)
    scaler = agent.checkpoint_modules["observation_preprocessor"]
    with torch.no_grad():
        scaler.running_mean.copy_(0.2 * torch.randn(OBS_DIM, dtype=scaler.running_mean.dtype))
        scaler.running_variance.copy_(0.5 + torch.rand(OBS_DIM, dtype=scaler.running_variance.dtype))
    (run / "checkpoints").mkdir()
    agent.save(str(run / "checkpoints" / "best_agent.pt"))
    agent.save(str(run / "checkpoints" / "agent_12000.pt"))
    return tmp, run


@pytest.fixture(scope="module")
def skrl_bundle(skrl_run):
    from leapp_export.sources import SkrlExportOptions, export_skrl

    tmp, run = skrl_run
    return export_skrl(SkrlExportOptions(**export_options(tmp, run)))  # a run dir: the checkpoint is discovered


def test_skrl_checkpoint_is_skrl_format(skrl_run):
    import torch

    data = torch.load(skrl_run[1] / "checkpoints" / "best_agent.pt", weights_only=False)
    assert {"policy", "value", "optimizer", "observation_preprocessor", "value_preprocessor"} <= set(data)
    assert {"running_mean", "running_variance", "current_count"} <= set(data["observation_preprocessor"])


def test_skrl_contract_equals_rsl_rl_contract(skrl_bundle):
    assert contract_vs_rsl_rl(skrl_bundle) == []


def test_skrl_engine_matches_skrl_mean_actions(skrl_run, skrl_bundle):
    import torch

    agent = _agent(SKRL_AGENT)
    agent.load(str(skrl_run[1] / "checkpoints" / "best_agent.pt"))
    agent.enable_training_mode(False, apply_to_models=True)

    def act(obs):
        with torch.no_grad():
            _, outputs = agent.act(torch.from_numpy(obs)[None], None, timestep=0, timesteps=0)
        return outputs["mean_actions"].numpy()

    worst = engine_vs_library(skrl_bundle, act)
    print(f"skrl: engine vs skrl mean_actions max abs error {worst:.3e}")
    assert worst < 1e-4
    report = json.loads((skrl_bundle / "anymal_like_flat_export_report.json").read_text())
    assert report["replay"]["passed"] and report["policy"]["library"] == "skrl"
    # Isaac Lab's get_checkpoint_path ordering (names zero-padded to 15) puts agent_12000.pt after best_agent.pt
    assert report["checkpoint"].endswith("checkpoints/agent_12000.pt")


def test_recurrent_skrl_policy_is_refused_by_its_weights(skrl_run, tmp_path):
    """skrl's Runner builds feed-forward models only; a recurrent policy (custom model code with an LSTM) shows in
    its checkpoint's weights, and is refused with the documented line instead of a state-dict size mismatch."""
    import shutil

    import torch

    from leapp_export.errors import ExportError
    from leapp_export.sources import SkrlExportOptions, export_skrl

    tmp, run = skrl_run
    recurrent_run = tmp_path / "logs" / "skrl" / "anymal_like_flat" / run.name
    shutil.copytree(run, recurrent_run)
    for path in (recurrent_run / "checkpoints").glob("*.pt"):
        data = torch.load(path, weights_only=False)
        lstm = torch.nn.LSTM(OBS_DIM, 32, batch_first=True)
        data["policy"] = {**{f"lstm.{k}": v for k, v in lstm.state_dict().items()}, **data["policy"]}
        torch.save(data, path)
    with pytest.raises(ExportError, match=r"recurrent skrl policies are not supported offline yet \(the policy has "
                                          r"recurrent weights \['lstm.weight_hh_l0'\]"):
        export_skrl(SkrlExportOptions(**export_options(tmp_path, recurrent_run)))
