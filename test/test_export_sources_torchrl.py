"""leapp-export torchrl: a real TorchRL ProbabilisticActor (TanhNormal, TensorDictModule on the 'policy' group),
saved as a whole module and as a state dict + factory, exported, replayed against the actor's deterministic output."""

from __future__ import annotations

import json

import pytest
from export_sources_helpers import (
    NUM_ACTIONS,
    OBS_DIM,
    REFERENCE,
    contract_vs_rsl_rl,
    engine_vs_library,
    export_options,
    make_torchrl_actor,
    perturb,
    write_params,
)

pytestmark = [pytest.mark.skipif(not REFERENCE.is_file(), reason=f"shared fixtures not found at {REFERENCE}")]
pytest.importorskip("torchrl", reason="torchrl not installed (pip install torchrl==0.14.1)")

FORMATS = {"module": None, "state_dict": "export_sources_helpers:make_torchrl_actor"}


@pytest.fixture(scope="module")
def torchrl_actor():
    actor = make_torchrl_actor({"policy": OBS_DIM}, NUM_ACTIONS)
    perturb(actor, seed=6, scale=0.3)
    return actor.eval()


@pytest.fixture(scope="module", params=list(FORMATS))
def torchrl_bundle(request, tmp_path_factory, torchrl_actor):
    import torch

    from leapp_export.sources import TorchRlExportOptions, export_torchrl

    tmp = tmp_path_factory.mktemp(f"torchrl_{request.param}")
    run = tmp / "run"
    write_params(run, None)  # no agent.yaml: TorchRL is not one of Isaac Lab's four agent libraries
    path = run / "actor.pt"
    torch.save(torchrl_actor if request.param == "module" else torchrl_actor.state_dict(), path)
    options = TorchRlExportOptions(**export_options(tmp, path, actor_factory=FORMATS[request.param]))
    return export_torchrl(options)


def test_torchrl_contract_equals_rsl_rl_contract(torchrl_bundle):
    assert contract_vs_rsl_rl(torchrl_bundle) == []


def test_torchrl_engine_matches_deterministic_actor(torchrl_actor, torchrl_bundle):
    import torch
    from tensordict import TensorDict
    from torchrl.envs.utils import ExplorationType, set_exploration_type

    def act(obs):
        with torch.no_grad(), set_exploration_type(ExplorationType.DETERMINISTIC):
            return torchrl_actor(TensorDict({"policy": torch.from_numpy(obs)[None]}, batch_size=[1]))["action"].numpy()

    worst = engine_vs_library(torchrl_bundle, act)
    print(f"torchrl ({torchrl_bundle.parent.parent.name}): engine vs actor max abs error {worst:.3e}")
    assert worst < 1e-4
    report = json.loads((torchrl_bundle / "anymal_like_flat_export_report.json").read_text())
    assert report["replay"]["passed"] and report["policy"]["in_keys"] == ["policy"]


def test_torchrl_state_dict_without_factory_is_refused(tmp_path, torchrl_actor):
    import torch

    from leapp_export.errors import ExportError
    from leapp_export.sources import TorchRlExportOptions, export_torchrl

    write_params(tmp_path / "run", None)
    torch.save(torchrl_actor.state_dict(), tmp_path / "run" / "actor.pt")
    with pytest.raises(ExportError, match="holds a state dict; pass --actor_factory"):
        export_torchrl(TorchRlExportOptions(**export_options(tmp_path, tmp_path / "run" / "actor.pt")))
