"""Build small real LEAPP bundles with the leapp package at test time (feed-forward, GRU, LSTM, history, 2-node)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

JOINTS = ["j_hip", "j_knee", "j_ankle", "j_toe"]


def _joint_input(node: str, name: str, tensor, kind: str):
    from leapp import TensorSemantics, annotate
    return annotate.input_tensors(node, TensorSemantics(
        name=name, ref=tensor, kind=kind, element_names=list(JOINTS),
        extra={"isaaclab_connection": f"state:robot:{name.removeprefix('robot_')}"}))


def _target_output(node: str, target, export_with: str) -> None:
    from leapp import TensorSemantics, annotate
    annotate.output_tensors(node, [TensorSemantics(
        name="joint_pos", ref=target, kind="target/joint/position", element_names=list(JOINTS),
        extra={"isaaclab_connection": "write:robot:set_joint_position_target_index"})], export_with=export_with)


def build_bundle(kind: str, out_dir: Path, export_with: str = "onnx-dynamo", steps: int = 4) -> Path:
    """Trace a tiny policy of `kind` ('mlp', 'gru', 'lstm', 'history', 'two_node') and return its YAML path."""
    import leapp
    import torch
    from leapp import GraphConfigs

    torch.manual_seed({"mlp": 1, "gru": 2, "lstm": 3, "history": 4, "two_node": 5}[kind])
    name = f"{kind}_{export_with.replace('-', '_')}"
    node = "Policy"
    step_fn = BUILDERS[kind](node, export_with)
    leapp.start(name, save_path=str(out_dir), max_cached_io=steps)
    try:
        with torch.inference_mode():
            for k in range(steps):
                pos = torch.randn(1, len(JOINTS)) * 0.3 + 0.1 * k
                vel = torch.randn(1, len(JOINTS))
                step_fn(pos, vel)
    finally:
        leapp.stop()
    leapp.compile_graph(visualize=False, validate=True, graph_configs=GraphConfigs(frequency=50.0))
    return out_dir / name / f"{name}.yaml"


def _mlp(node: str, export_with: str) -> Callable:
    import torch
    from leapp import annotate
    net = torch.nn.Sequential(torch.nn.Linear(12, 16), torch.nn.ELU(), torch.nn.Linear(16, 4))
    state = {"last": torch.zeros(1, 4)}

    def step(pos, vel):
        q = _joint_input(node, "robot_joint_pos", pos, "state/joint/position")
        v = _joint_input(node, "robot_joint_vel", vel, "state/joint/velocity")
        last = annotate.state_tensors(node, {"last_action": state["last"]})
        action = net(torch.cat([q, v, last], dim=-1))
        state["last"] = annotate.update_state(node, {"last_action": action})
        _target_output(node, action * 0.5 + 0.2, export_with)
    return step


def _recurrent(cell: str) -> Callable:
    def build(node: str, export_with: str) -> Callable:
        import torch
        from leapp import annotate
        rnn = (torch.nn.GRU if cell == "gru" else torch.nn.LSTM)(8, 6, num_layers=1)
        head = torch.nn.Linear(6, 4)
        hidden = {"h": torch.zeros(1, 1, 6), "c": torch.zeros(1, 1, 6)}

        def step(pos, vel):
            q = _joint_input(node, "robot_joint_pos", pos, "state/joint/position")
            v = _joint_input(node, "robot_joint_vel", vel, "state/joint/velocity")
            x = torch.cat([q, v], dim=-1).unsqueeze(0)
            if cell == "gru":
                h = annotate.state_tensors(node, {"actor_state": hidden["h"]})
                out, h_new = rnn(x, h)
                hidden["h"] = annotate.update_state(node, {"actor_state": h_new})
            else:
                h, c = annotate.state_tensors(node, {"actor_state_0": hidden["h"], "actor_state_1": hidden["c"]})
                out, (h_new, c_new) = rnn(x, (h, c))
                hidden["h"], hidden["c"] = annotate.update_state(
                    node, {"actor_state_0": h_new, "actor_state_1": c_new})
            _target_output(node, head(out.squeeze(0)), export_with)
        return step
    return build


def _history(node: str, export_with: str) -> Callable:
    """Isaac Lab's CircularBuffer with first-frame back-fill and an int64 push counter."""
    import torch
    from leapp import annotate
    k = 3
    net = torch.nn.Linear(4 * k + 4, 4)
    buf = {"b": torch.zeros(k, 1, 4), "n": torch.zeros(1, dtype=torch.long)}

    def step(pos, vel):
        q = _joint_input(node, "robot_joint_pos", pos, "state/joint/position")
        v = _joint_input(node, "robot_joint_vel", vel, "state/joint/velocity")
        b, n = annotate.state_tensors(node, {"h_policy_joint_pos": buf["b"], "h_policy_joint_pos_num_pushes": buf["n"]})
        frame = q.unsqueeze(0)
        b = torch.cat((b.narrow(0, 1, k - 1), frame), dim=0)
        b = torch.where((n == 0).view(1, 1, 1), frame, b)
        buf["b"], buf["n"] = annotate.update_state(
            node, {"h_policy_joint_pos": b, "h_policy_joint_pos_num_pushes": n + 1})
        stacked = torch.transpose(buf["b"], 0, 1).reshape(1, -1)
        _target_output(node, net(torch.cat([stacked, v], dim=-1)), export_with)
    return step


def _two_node(node: str, export_with: str) -> Callable:
    """An encoder node feeding an actor node through a data_flow edge; the actor keeps a last-action state."""
    import torch
    from leapp import TensorSemantics, annotate
    encoder = torch.nn.Linear(8, 5)
    actor = torch.nn.Linear(5 + 4, 4)
    state = {"last": torch.zeros(1, 4)}

    def step(pos, vel):
        q = _joint_input("Encoder", "robot_joint_pos", pos, "state/joint/position")
        v = _joint_input("Encoder", "robot_joint_vel", vel, "state/joint/velocity")
        latent = torch.tanh(encoder(torch.cat([q, v], dim=-1)))
        annotate.output_tensors("Encoder", {"latent": latent}, export_with=export_with)
        z = annotate.input_tensors(node, TensorSemantics(name="latent", ref=latent))
        last = annotate.state_tensors(node, {"last_action": state["last"]})
        action = actor(torch.cat([z, last], dim=-1))
        state["last"] = annotate.update_state(node, {"last_action": action})
        _target_output(node, action, export_with)
    return step


BUILDERS: dict[str, Callable] = {"mlp": _mlp, "gru": _recurrent("gru"), "lstm": _recurrent("lstm"),
                                 "history": _history, "two_node": _two_node}
