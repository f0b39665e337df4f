"""Small graph configs written in Isaac ROS Deploy's YAML dialect (our own models and numbers), with the
numpy reference of what they compute."""

from __future__ import annotations

from pathlib import Path

import numpy as np

JOINTS = ["hip", "knee", "ankle"]
KP, KD = [30.0, 40.0, 50.0], [1.0, 1.5, 2.0]

SINGLE = """\
# robot metadata beside the graph, as Isaac ROS Deploy configs carry it
nn_joint_order: &joints [hip, knee, ankle]

models:
  walker:
    formatting:
      input_format: [base_ang_vel, joint_pos, {prev_targets: prev}]
      output_format: {joint_targets: targets, stiffness: stiffness, damping: damping}
    inputs:
    - name: joint_pos
      kind: state/joint/position
      shape: [1, 3]
      type: tensor
      element_names: [[], *joints]
    - name: base_ang_vel
      kind: state/body/angular_velocity
      shape: [1, 3]
      type: tensor
    - name: prev_targets
      kind: feedback/joint_targets
      shape: [1, 3]
      type: tensor
    outputs:
    - name: joint_targets
      kind: joint_pos_targets
      shape: [1, 3]
      type: tensor
      element_names: [[], *joints]
    - name: stiffness
      kind: stiffness_targets
      shape: [1, 3]
      type: tensor
      element_names: [[], *joints]
    - name: damping
      kind: damping_targets
      shape: [1, 3]
      type: tensor
      element_names: [[], *joints]
    parameters:
      model_path: walker.onnx
      backend: triton
      device: cuda
pipeline:
  inputs:
    walker: [joint_pos, base_ang_vel]
  outputs:
    walker: [joint_targets, stiffness, damping]
  feedback_connections:
    walker/joint_targets: [walker/prev_targets]
  data_flow: {}
"""

MULTI = """\
models:
  encoder:
    inputs:
    - name: q
      kind: state/joint/position
      shape: [1, 2]
      type: tensor
      element_names: [[], [j1, j2]]
    - name: mem
      kind: feedback/carry
      shape: [1, 2]
      type: tensor
    outputs:
    - name: z
      kind: z
      shape: [1, 2]
      type: tensor
    parameters:
      model_path: encoder.onnx
      backend: onnx
  decoder:
    inputs:
    - name: z_in
      kind: data_flow/z
      shape: [1, 2]
      type: tensor
    - name: acc
      kind: feedback/acc_out
      shape: [1, 2]
      type: tensor
    outputs:
    - name: action
      kind: joint_pos_targets
      shape: [1, 2]
      type: tensor
      element_names: [[], [j1, j2]]
    - name: acc_out
      kind: acc_out
      shape: [1, 2]
      type: tensor
    - name: carry
      kind: carry
      shape: [1, 2]
      type: tensor
    parameters:
      model_path: decoder.onnx
      backend: onnx
pipeline:
  inputs:
    encoder: [q]
  outputs:
    decoder: [action]
  feedback_flow:
    decoder/acc_out: [decoder/acc]
    decoder/carry: [encoder/mem]
  data_flow:
    encoder/z: [decoder/z_in]
"""


def _save(model_graph, path: Path) -> None:
    import onnx
    from onnx import helper
    model = helper.make_model(model_graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))


def _graph(name, nodes, inputs, outputs, initializers=()):
    from onnx import TensorProto, helper
    f32 = TensorProto.FLOAT
    return helper.make_graph(nodes, name, [helper.make_tensor_value_info(n, f32, s) for n, s in inputs],
                             [helper.make_tensor_value_info(n, f32, s) for n, s in outputs], list(initializers))


def _const(name, values):
    from onnx import TensorProto, helper
    return helper.make_tensor(name, TensorProto.FLOAT, [1, len(values)], values)


def write_single(directory: Path, text: str = SINGLE) -> Path:
    """walker: targets = joint_pos + 0.5 * prev + sum(base_ang_vel); constant stiffness and damping."""
    from onnx import helper
    directory.mkdir(parents=True, exist_ok=True)
    _save(_graph("walker", [
        helper.make_node("ReduceSum", ["base_ang_vel"], ["spin"], keepdims=1),
        helper.make_node("Mul", ["prev", "half"], ["decayed"]),
        helper.make_node("Add", ["joint_pos", "decayed"], ["partial"]),
        helper.make_node("Add", ["partial", "spin"], ["targets"]),
        helper.make_node("Identity", ["kp"], ["stiffness"]),
        helper.make_node("Identity", ["kd"], ["damping"])],
        [("base_ang_vel", [1, 3]), ("joint_pos", [1, 3]), ("prev", [1, 3])],
        [("targets", [1, 3]), ("stiffness", [1, 3]), ("damping", [1, 3])],
        [_const("half", [0.5, 0.5, 0.5]), _const("kp", KP), _const("kd", KD)]), directory / "walker.onnx")
    path = directory / "walker_graph.yaml"
    path.write_text(text)
    return path


def single_reference(joint_pos: np.ndarray, ang_vel: np.ndarray) -> list[np.ndarray]:
    """Targets per step for per-step inputs [steps, 1, 3]."""
    prev, result = np.zeros((1, 3), np.float32), []
    for q, w in zip(joint_pos, ang_vel):
        prev = (q + prev * np.float32(0.5)) + w.sum(axis=-1, keepdims=True)
        result.append(prev.copy())
    return result


def write_multi(directory: Path) -> Path:
    """encoder: z = 2 q + mem; decoder: action = z_in + acc, acc_out = 0.5 action, carry = 0.25 z_in."""
    from onnx import helper
    directory.mkdir(parents=True, exist_ok=True)
    _save(_graph("encoder", [helper.make_node("Mul", ["q", "two"], ["q2"]),
                             helper.make_node("Add", ["q2", "mem"], ["z"])],
                 [("q", [1, 2]), ("mem", [1, 2])], [("z", [1, 2])], [_const("two", [2.0, 2.0])]),
          directory / "encoder.onnx")
    _save(_graph("decoder", [helper.make_node("Add", ["z_in", "acc"], ["action"]),
                             helper.make_node("Mul", ["action", "half"], ["acc_out"]),
                             helper.make_node("Mul", ["z_in", "quarter"], ["carry"])],
                 [("z_in", [1, 2]), ("acc", [1, 2])], [("action", [1, 2]), ("acc_out", [1, 2]), ("carry", [1, 2])],
                 [_const("half", [0.5, 0.5]), _const("quarter", [0.25, 0.25])]), directory / "decoder.onnx")
    path = directory / "multi_graph.yaml"
    path.write_text(MULTI)
    return path


def multi_reference(q: np.ndarray, acc0: np.ndarray | None = None) -> list[np.ndarray]:
    mem, result = np.zeros((1, 2), np.float32), []
    acc = np.zeros((1, 2), np.float32) if acc0 is None else acc0.astype(np.float32)
    for frame in q:
        z = frame * np.float32(2) + mem
        action = z + acc
        acc, mem = action * np.float32(0.5), z * np.float32(0.25)
        result.append(action)
    return result
