"""leapp-export sb3: a real SB3 PPO (model.save .zip) with VecNormalize statistics (pickle), exported, replayed
and compared with SB3's own numpy path (VecNormalize.normalize_obs + model.predict(deterministic=True))."""

from __future__ import annotations

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
pytest.importorskip("stable_baselines3",
                    reason="stable-baselines3 not installed (pip install stable-baselines3==2.9.2)")

# What Isaac Lab dumps as params/agent.yaml for its sb3_cfg_entry_point (sb3_ppo_cfg.yaml; dumped before
# process_sb3_cfg, so activation_fn stays the string "nn.ELU").
SB3_AGENT = yaml.safe_load("""
seed: 42
n_timesteps: 10000000.0
policy: MlpPolicy
n_steps: 16
batch_size: 4096
gae_lambda: 0.95
gamma: 0.99
n_epochs: 5
ent_coef: 0.005
learning_rate: 0.001
clip_range: 0.2
policy_kwargs:
  activation_fn: nn.ELU
  net_arch: [32, 32]
vf_coef: 1.0
max_grad_norm: 1.0
device: cuda:0
normalize_input: true
normalize_value: false
clip_obs: 5.0
""")


def _spaces_env():
    """A gymnasium env with Sb3VecEnvWrapper's spaces (unbounded obs; actions bounded to +-100); never stepped."""
    import gymnasium as gym

    class SpacesOnly(gym.Env):
        observation_space = gym.spaces.Box(-np.inf, np.inf, (OBS_DIM,), np.float32)
        action_space = gym.spaces.Box(-100.0, 100.0, (NUM_ACTIONS,), np.float32)

        def reset(self, *, seed=None, options=None):
            return np.zeros(OBS_DIM, np.float32), {}

        def step(self, action):
            return np.zeros(OBS_DIM, np.float32), 0.0, False, False, {}

    return SpacesOnly()


@pytest.fixture(scope="module")
def sb3_run(tmp_path_factory):
    """<run>/model.zip (PPO.save) + model_vecnormalize.pkl (VecNormalize.save), as Isaac Lab's sb3 train.py."""
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    tmp = tmp_path_factory.mktemp("sb3")
    run = tmp / "logs" / "sb3" / "Isaac-Velocity-Flat-Anymal-D" / "2026-01-01_00-00-00"
    write_params(run, SB3_AGENT)
    venv = VecNormalize(DummyVecEnv([_spaces_env]), norm_obs=True, norm_reward=False, clip_obs=SB3_AGENT["clip_obs"],
                        gamma=SB3_AGENT["gamma"])
    rng = np.random.default_rng(5)
    venv.obs_rms.mean = 0.2 * rng.normal(size=OBS_DIM)
    venv.obs_rms.var = 0.5 + rng.random(OBS_DIM)
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=16, seed=0, device="cpu",
                policy_kwargs={"activation_fn": torch.nn.ELU, "net_arch": [32, 32]})
    perturb(model.policy, seed=2)
    model.save(run / "model")
    venv.save(str(run / "model_vecnormalize.pkl"))
    return tmp, run


@pytest.fixture(scope="module")
def sb3_bundle(sb3_run):
    from leapp_export.sources import Sb3ExportOptions, export_sb3

    tmp, run = sb3_run
    return export_sb3(Sb3ExportOptions(**export_options(tmp, run)))


def test_sb3_contract_equals_rsl_rl_contract(sb3_bundle):
    assert contract_vs_rsl_rl(sb3_bundle) == []


def test_sb3_engine_matches_sb3_predict(sb3_run, sb3_bundle):
    from stable_baselines3 import PPO
    from stable_baselines3.common.save_util import load_from_pkl

    run = sb3_run[1]
    model = PPO.load(run / "model.zip", device="cpu")
    normalizer = load_from_pkl(str(run / "model_vecnormalize.pkl"))

    def act(obs):
        action, _ = model.predict(normalizer.normalize_obs(obs[None]), deterministic=True)
        return action

    worst = engine_vs_library(sb3_bundle, act)
    print(f"sb3: engine vs SB3 predict (numpy VecNormalize) max abs error {worst:.3e}")
    assert worst < 1e-4
    report = json.loads((sb3_bundle / "anymal_like_flat_export_report.json").read_text())
    assert report["replay"]["passed"] and report["policy"]["vec_normalize"].endswith("model_vecnormalize.pkl")


def test_sb3_missing_normalizer_is_refused(sb3_run, tmp_path):
    from leapp_export.errors import ExportError
    from leapp_export.sources import Sb3ExportOptions, export_sb3

    run = tmp_path / "run"
    write_params(run, SB3_AGENT)
    (run / "model.zip").write_bytes((sb3_run[1] / "model.zip").read_bytes())
    with pytest.raises(ExportError, match="normalize_input but the VecNormalize statistics .*model_vecnormalize.pkl"):
        export_sb3(Sb3ExportOptions(**export_options(tmp_path, run)))


def test_sb3_recurrent_ppo_is_refused_with_the_isaaclab_bug(sb3_run, tmp_path):
    """A model.zip whose policy class comes from sb3_contrib (RecurrentPPO) is refused before unpickling."""
    import zipfile

    from leapp_export.errors import ExportError
    from leapp_export.sources import Sb3ExportOptions, export_sb3

    run = tmp_path / "run"
    write_params(run, {**SB3_AGENT, "policy": "MlpLstmPolicy"})
    with zipfile.ZipFile(sb3_run[1] / "model.zip") as src, zipfile.ZipFile(run / "model.zip", "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "data":
                doc = json.loads(data)
                doc["policy_class"]["__module__"] = "sb3_contrib.common.recurrent.policies"
                data = json.dumps(doc).encode()
            dst.writestr(item, data)
    with pytest.raises(ExportError, match="RecurrentPPO.*update_state .*after env.step"):
        export_sb3(Sb3ExportOptions(**export_options(tmp_path, run)))
