"""Synthetic large LEAPP bundles for GPU benchmarks: a rough-terrain MLP with a height-scan encoder, and a GRU.

Each policy is written twice with the same weights: an ONNX bundle (graph built with onnx.helper, ports named
`<state>_in`/`<state>_out` as the ONNX exporters do) and a TorchScript bundle (state ports share one name, as
jit exports do). Weights are random but seeded, so runs are reproducible.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import yaml

NODE = "Synthetic-Rough-Policy"
JOINTS = 12
PROPRIO = (("robot_joint_pos", JOINTS), ("robot_joint_vel", JOINTS), ("robot_root_ang_vel_b", 3),
           ("base_velocity", 3))
OPSET = 20


def _linear(rng, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    scale = np.sqrt(2.0 / n_in)
    return (rng.standard_normal((n_out, n_in)) * scale).astype(np.float32), \
        (rng.standard_normal(n_out) * 0.01).astype(np.float32)


def mlp_weights(width: int, scan_points: int, seed: int) -> dict[str, list]:
    rng = np.random.default_rng(seed)
    n_obs = sum(n for _, n in PROPRIO) + JOINTS  # + last action
    encoder = [_linear(rng, scan_points, 256), _linear(rng, 256, 128)]
    sizes = [n_obs + 128, width, width, width // 2, JOINTS]
    body = [_linear(rng, a, b) for a, b in zip(sizes[:-1], sizes[1:])]
    return {"encoder": encoder, "body": body}


def gru_weights(hidden: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    n_obs = sum(n for _, n in PROPRIO) + JOINTS
    k = 1.0 / np.sqrt(hidden)
    gru = {name: rng.uniform(-k, k, shape).astype(np.float32) for name, shape in
           (("w_ih", (3 * hidden, n_obs)), ("w_hh", (3 * hidden, hidden)), ("b_ih", (3 * hidden,)),
            ("b_hh", (3 * hidden,)))}  # PyTorch gate order r, z, n
    sizes = [hidden, 512, 256, JOINTS]
    return {"gru": gru, "body": [_linear(rng, a, b) for a, b in zip(sizes[:-1], sizes[1:])]}


# ---------------------------------------------------------------------------------------------- ONNX graphs
def _onnx_mlp_chain(helper, numpy_helper, inits, nodes, x: str, layers, prefix: str, last_linear: bool) -> str:
    for i, (w, b) in enumerate(layers):
        inits += [numpy_helper.from_array(w, f"{prefix}{i}.w"), numpy_helper.from_array(b, f"{prefix}{i}.b")]
        y = f"{prefix}{i}.gemm"
        nodes.append(helper.make_node("Gemm", [x, f"{prefix}{i}.w", f"{prefix}{i}.b"], [y], transB=1))
        if not (last_linear and i == len(layers) - 1):
            nodes.append(helper.make_node("Elu", [y], [f"{prefix}{i}.elu"]))
            y = f"{prefix}{i}.elu"
        x = y
    return x


def _onnx_outputs(helper, numpy_helper, inits, nodes, action: str) -> None:
    inits += [numpy_helper.from_array(np.full((1, JOINTS), 0.5, np.float32), "action_scale"),
              numpy_helper.from_array(np.tile(np.array([0.0, 0.4, -0.8], np.float32), 4)[None], "default_pos"),
              numpy_helper.from_array(np.full((1, JOINTS), 40.0, np.float32), "kp")]
    nodes += [helper.make_node("Mul", [action, "action_scale"], ["scaled"]),
              helper.make_node("Add", ["scaled", "default_pos"], ["joint_pos"]),
              helper.make_node("Identity", [action], ["last_action_out"]),
              helper.make_node("Identity", ["kp"], ["joint_pos_kp_gains"])]


def onnx_model(kind: str, weights: dict, scan_points: int, hidden: int):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    f32 = TensorProto.FLOAT
    inputs = [helper.make_tensor_value_info(n, f32, [1, d]) for n, d in PROPRIO]
    inits: list[Any] = []  # onnx TensorProto initialisers
    nodes: list[Any] = []  # onnx NodeProto
    proprio = [n for n, _ in PROPRIO] + ["last_action_in"]
    inputs.append(helper.make_tensor_value_info("last_action_in", f32, [1, JOINTS]))
    nodes.append(helper.make_node("Concat", proprio, ["obs"], axis=1))
    if kind == "mlp":
        inputs.insert(len(PROPRIO), helper.make_tensor_value_info("height_scan", f32, [1, scan_points]))
        enc = _onnx_mlp_chain(helper, numpy_helper, inits, nodes, "height_scan", weights["encoder"], "enc", False)
        nodes.append(helper.make_node("Concat", ["obs", enc], ["features"], axis=1))
        action = _onnx_mlp_chain(helper, numpy_helper, inits, nodes, "features", weights["body"], "mlp", True)
        state_outputs = []
    else:
        inputs.append(helper.make_tensor_value_info("actor_state_in", f32, [1, 1, hidden]))
        g = weights["gru"]

        def reorder(a: np.ndarray) -> np.ndarray:  # gate order r,z,n -> z,r,n
            return np.concatenate([a[hidden:2 * hidden], a[:hidden], a[2 * hidden:]])
        inits += [numpy_helper.from_array(reorder(g["w_ih"])[None], "gru.W"),
                  numpy_helper.from_array(reorder(g["w_hh"])[None], "gru.R"),
                  numpy_helper.from_array(np.concatenate([reorder(g["b_ih"]), reorder(g["b_hh"])])[None], "gru.B"),
                  numpy_helper.from_array(np.array([0], np.int64), "axis0"),
                  numpy_helper.from_array(np.array([1, hidden], np.int64), "flat")]
        nodes += [helper.make_node("Unsqueeze", ["obs", "axis0"], ["seq"]),
                  helper.make_node("GRU", ["seq", "gru.W", "gru.R", "gru.B", "", "actor_state_in"],
                                   ["", "actor_state_out"], hidden_size=hidden, linear_before_reset=1),
                  helper.make_node("Reshape", ["actor_state_out", "flat"], ["memory"])]
        action = _onnx_mlp_chain(helper, numpy_helper, inits, nodes, "memory", weights["body"], "mlp", True)
        state_outputs = [helper.make_tensor_value_info("actor_state_out", f32, [1, 1, hidden])]
    _onnx_outputs(helper, numpy_helper, inits, nodes, action)
    outputs = [helper.make_tensor_value_info(n, f32, [1, JOINTS]) for n in ("joint_pos", "last_action_out")]
    outputs += state_outputs + [helper.make_tensor_value_info("joint_pos_kp_gains", f32, [1, JOINTS])]
    graph = helper.make_graph(nodes, f"{kind}_policy", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=10)
    onnx.checker.check_model(model, full_check=True)
    return model


# ---------------------------------------------------------------------------------------------- TorchScript
def torch_module(kind: str, weights: dict, hidden: int):
    """The same policy as an nn.Module (traced to TorchScript by the writer)."""
    import torch
    from torch import nn

    def linear(w, b):
        layer = nn.Linear(w.shape[1], w.shape[0])
        layer.weight.data.copy_(torch.from_numpy(w))
        layer.bias.data.copy_(torch.from_numpy(b))
        return layer

    def chain(layers, last_linear: bool):
        mods = []
        for i, (w, b) in enumerate(layers):
            mods.append(linear(w, b))
            if not (last_linear and i == len(layers) - 1):
                mods.append(nn.ELU())
        return nn.Sequential(*mods)

    class Policy(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = chain(weights["body"], True)
            if kind == "mlp":
                self.encoder = chain(weights["encoder"], False)
            else:
                g = weights["gru"]
                self.gru = nn.GRU(g["w_ih"].shape[1], hidden)
                for name in ("w_ih", "w_hh", "b_ih", "b_hh"):
                    getattr(self.gru, f"{name.replace('w_', 'weight_').replace('b_', 'bias_')}_l0").data.copy_(
                        torch.from_numpy(g[name]))
            self.register_buffer("scale", torch.full((1, JOINTS), 0.5))
            self.register_buffer("default", torch.tensor([[0.0, 0.4, -0.8] * 4]))
            self.register_buffer("kp", torch.full((1, JOINTS), 40.0))

        def forward(self, *inputs):
            if kind == "mlp":
                *proprio, scan, last = inputs
                features = torch.cat([torch.cat([*proprio, last], 1), self.encoder(scan)], 1)
                action = self.body(features)
                return action * self.scale + self.default, action, self.kp
            *proprio, last, state = inputs
            _, new_state = self.gru(torch.cat([*proprio, last], 1).unsqueeze(0), state)
            action = self.body(new_state.reshape(1, hidden))
            return action * self.scale + self.default, action, new_state, self.kp

    return Policy().eval()


# ---------------------------------------------------------------------------------------------- bundles
def _ports(kind: str, scan_points: int, hidden: int, fmt: str) -> tuple[list, list, str, str | None]:
    state_in, state_out = ("last_action_in", "last_action_out") if fmt == "onnx" else ("last_action", "last_action")
    ins = [(n, [1, d]) for n, d in PROPRIO]
    if kind == "mlp":
        ins.append(("height_scan", [1, scan_points]))
    ins.append((state_in, [1, JOINTS]))
    outs = [("joint_pos", [1, JOINTS]), (state_out, [1, JOINTS])]
    memory = None
    if kind == "gru":
        memory = "actor_state_in" if fmt == "onnx" else "actor_state"
        ins.append((memory, [1, 1, hidden]))
        outs.append(("actor_state_out" if fmt == "onnx" else "actor_state", [1, 1, hidden]))
    outs.append(("joint_pos_kp_gains", [1, JOINTS]))
    return ins, outs, state_in, memory


def write_bundle(directory: str | Path, kind: str = "mlp", fmt: str = "onnx", width: int = 1024,
                 scan_points: int = 187, hidden: int = 256, seed: int = 0) -> Path:
    """Write `<directory>/synthetic_<kind>[_jit]/…yaml` plus model; returns the YAML path."""
    if kind not in ("mlp", "gru") or fmt not in ("onnx", "jit"):
        raise ValueError(f"kind must be mlp|gru and fmt onnx|jit, got {kind!r}, {fmt!r}")
    weights = mlp_weights(width, scan_points, seed) if kind == "mlp" else gru_weights(hidden, seed)
    name = f"synthetic_{kind}" + ("" if fmt == "onnx" else "_jit")
    out = Path(directory) / name
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / f"{NODE}.{'onnx' if fmt == 'onnx' else 'pt'}"
    if fmt == "onnx":
        model_path.write_bytes(onnx_model(kind, weights, scan_points, hidden).SerializeToString())
    else:
        import torch
        module = torch_module(kind, weights, hidden)
        ins, _, _, _ = _ports(kind, scan_points, hidden, fmt)
        with torch.no_grad():
            traced = torch.jit.trace(module, tuple(torch.zeros(shape) for _, shape in ins), check_trace=False)
        traced.save(str(model_path))
    data = model_path.read_bytes()
    ins, outs, state_in, memory = _ports(kind, scan_points, hidden, fmt)

    def port(n: str, s: list[int]) -> dict[str, Any]:
        return {"name": n, "dtype": "float32", "shape": s, "type": "tensor"}
    feedback = {f"{NODE}/{outs[1][0]}": [f"{NODE}/{state_in}"]}
    if memory is not None:
        feedback[f"{NODE}/{outs[2][0]}"] = [f"{NODE}/{memory}"]
    state_names = {state_in, memory}
    doc = {
        "models": {NODE: {
            "inputs": [port(n, s) for n, s in ins], "outputs": [port(n, s) for n, s in outs],
            "parameters": {"model_path": model_path.name, "md5sum": hashlib.md5(data).hexdigest(),
                           "sha256sum": hashlib.sha256(data).hexdigest(), "backend": fmt,
                           "warp_segments": 0, **({"opset_version": OPSET} if fmt == "onnx" else {})}}},
        "pipeline": {"configs": {"frequency": 50.0}, "data_flow": {}, "feedback_flow": feedback,
                     "inputs": {NODE: [n for n, _ in ins if n not in state_names]},
                     "outputs": {NODE: ["joint_pos", "joint_pos_kp_gains"]}},
        "system information": {"leapp config version": "1.3", "leapp version": "0.7.2",
                               "generator": "leapp_ros.bench.synthetic_bundles"},
    }
    yaml_path = out / f"{name}.yaml"
    yaml_path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return yaml_path


def write_all(directory: str | Path, width: int = 1024, scan_points: int = 187, hidden: int = 256) -> list[Path]:
    """Both policies in both formats."""
    return [write_bundle(directory, kind, fmt, width, scan_points, hidden) for kind in ("mlp", "gru")
            for fmt in ("onnx", "jit")]
