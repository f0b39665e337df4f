"""An offline stand-in for Isaac Lab's patched export env: annotated reads, history state, actions, writes."""

from __future__ import annotations

import torch
from leapp import TensorSemantics, annotate

from leapp_export.actions import ResolvedAction
from leapp_export.commands import CommandInput, command_input
from leapp_export.env_config import EnvConfig, ObsGroup
from leapp_export.errors import ExportError
from leapp_export.observations import observation_fn
from leapp_export.robot import Robot
from leapp_export.sensors import ray_caster_num_rays
from leapp_export.states import StateSource

XYZ = ["x", "y", "z"]
QUAT_XYZW = ["qx", "qy", "qz", "qw"]
# readable articulation properties -> (kind, element_names or None for "joint names")
ROBOT_PROPS = {
    "root_lin_vel_b": ("state/body/linear_velocity", XYZ),
    "root_ang_vel_b": ("state/body/angular_velocity", XYZ),
    "root_quat_w": ("state/body/rotation", QUAT_XYZW),
    "root_pos_w": ("state/body/position", XYZ),
    "joint_pos": ("state/joint/position", None),
    "joint_vel": ("state/joint/velocity", None),
}
RAY_CASTER_PROPS = {"pos_w": ("state/sensor/position", XYZ), "ray_hits_w": ("state/sensor/ray_hit_position", None)}


class HistoryState:
    """CircularBuffer(stack_dim=None) with Isaac Lab's LEAPP state capture and first-frame back-fill."""

    def __init__(self, node: str, name: str, length: int) -> None:
        self.node, self.name, self.length = node, name, length
        self.buf: torch.Tensor | None = None
        self.num_pushes = torch.zeros(1, dtype=torch.long)

    def reset(self) -> None:
        self.num_pushes = torch.zeros(1, dtype=torch.long)
        if self.buf is not None:
            self.buf = torch.zeros_like(self.buf)

    def append(self, frame_data: torch.Tensor) -> torch.Tensor:
        """Push one frame ([1, D]) and return the flattened history ([1, K*D], oldest first)."""
        if self.buf is None:
            self.buf = torch.zeros((self.length, *frame_data.shape), dtype=frame_data.dtype)
        buf, num_pushes = annotate.state_tensors(
            self.node, {self.name: self.buf, f"{self.name}_num_pushes": self.num_pushes})
        frame = frame_data.unsqueeze(0)
        buf = torch.cat((buf.narrow(0, 1, self.length - 1), frame), dim=0)
        mask_shape = [1] * buf.ndim
        buf = torch.where((num_pushes == 0).view(mask_shape), frame, buf)  # back-fill on the first push
        self.buf, self.num_pushes = annotate.update_state(
            self.node, {self.name: buf, f"{self.name}_num_pushes": num_pushes + 1})
        return torch.transpose(self.buf, 0, 1).reshape(frame_data.shape[0], -1)


class TracedEnv:
    """Computes the actor's observation groups from annotated inputs and applies actions as annotated writes.

    One policy step is one LEAPP pass: observation reads (inputs), policy, action processing and
    ``output_tensors`` — the same call order Isaac Lab's patched ManagerBasedRLEnv produces.
    """

    def __init__(self, env: EnvConfig, robot: Robot, node: str, groups: list[str],
                 actions: list[ResolvedAction], export_method: str, states: StateSource,
                 clip_actions: float | None) -> None:
        self.env, self.robot, self.node = env, robot, node
        missing = [g for g in groups if g not in env.groups]
        if missing:
            raise ExportError(f"{env.path}: the actor reads observation group(s) {missing}, which env.yaml "
                              f"does not define (groups: {sorted(env.groups)})")
        self.groups: list[ObsGroup] = [env.groups[g] for g in groups]
        self.term_fns = {(t.group, t.name): observation_fn(t) for g in self.groups for t in g.terms}
        self.actions, self.export_method, self.states, self.clip_actions = actions, export_method, states, clip_actions
        self.num_actions = sum(a.dim for a in actions)
        self.history = {(t.group, t.name): HistoryState(node, f"h_{t.group}_{t.name}", t.history_length)
                        for g in self.groups for t in g.terms if t.history_length > 0}
        self._commands: dict[str, CommandInput] = {}
        self.step_index = 0
        self.records: list[dict] = []  # per step: {"inputs": {port: tensor}, "outputs": {port: tensor}}

    # ---- reads (one LEAPP input per property and pass) -------------------------------------------------
    def _input(self, name: str, value: torch.Tensor, kind: str | None, element_names, connection: str):
        if name in self._read_cache:
            return self._read_cache[name]
        self._pass_inputs[name] = value.clone()
        traced = annotate.input_tensors(self.node, TensorSemantics(
            name=name, ref=value, kind=kind, element_names=element_names,
            extra={"isaaclab_connection": connection}))
        self._read_cache[name] = traced
        return traced

    def read_robot(self, entity: str, prop: str) -> torch.Tensor:
        kind, names = ROBOT_PROPS[prop]
        value = self.states.robot_state(self.step_index, prop)
        return self._input(f"{entity}_{prop}", value, kind, names or list(self.robot.joint_names),
                           f"state:{entity}:{prop}")

    def read_ray_caster(self, entity: str, prop: str) -> torch.Tensor:
        kind, names = RAY_CASTER_PROPS[prop]
        value = self.states.ray_caster_state(self.step_index, entity, prop, ray_caster_num_rays(self.env, entity))
        return self._input(f"{entity}_{prop}", value, kind, names, f"state:{entity}:{prop}")

    def read_command(self, name: str) -> torch.Tensor:
        if name not in self._commands:
            self._commands[name] = command_input(self.env, name)
        cmd = self._commands[name]
        return self._input(name, self.states.command(self.step_index, name, cmd.ranges), cmd.kind,
                           cmd.element_names, f"command:{name}")

    def read_last_action(self, action_name: str | None) -> torch.Tensor:
        if action_name is None:
            key, value = "last_action", self._last_action
        else:
            if action_name not in self._raw_actions:
                raise ExportError(f"{self.env.path}: last_action reads action term '{action_name}', which is not "
                                  f"in actions ({[a.term.name for a in self.actions]})")
            key, value = f"last_action_{action_name}", self._raw_actions[action_name]
        if key not in self._read_cache:
            self._read_cache[key] = annotate.state_tensors(self.node, {key: value})
            self._pass_states.append(key)
        return self._read_cache[key]

    # ---- observation pass ---------------------------------------------------------------------------
    def _observe(self) -> dict[str, torch.Tensor]:
        self._read_cache: dict[str, torch.Tensor] = {}
        self._pass_inputs: dict[str, torch.Tensor] = {}
        self._pass_states: list[str] = []
        out = {}
        for group in self.groups:
            parts = []
            for term in group.terms:
                obs = self.term_fns[(term.group, term.name)](self, term).clone()
                if term.clip is not None:
                    obs = obs.clip_(min=term.clip[0], max=term.clip[1])
                if term.scale is not None:
                    scale = term.scale if isinstance(term.scale, (int, float)) else torch.tensor(term.scale)
                    obs = obs.mul_(scale)
                if term.history_length > 0:
                    obs = self.history[(term.group, term.name)].append(obs)
                parts.append(obs)
            if not group.concatenate_terms:
                raise ExportError(f"{self.env.path}: observation group '{group.name}' has concatenate_terms=false; "
                                  "the exported actors read concatenated groups")
            out[group.name] = torch.cat(parts, dim=group.concatenate_dim)
        return out

    def reset(self) -> dict[str, torch.Tensor]:
        self.step_index = 0
        self._last_action = torch.zeros(1, self.num_actions)
        self._raw_actions = {a.term.name: torch.zeros(1, a.dim) for a in self.actions}
        for h in self.history.values():
            h.reset()
        return self._observe()

    # ---- action pass --------------------------------------------------------------------------------
    def step(self, actions: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.clip_actions is not None:  # RslRlVecEnvWrapper / RlGamesVecEnvWrapper clip_actions
            actions = torch.clamp(actions, -self.clip_actions, self.clip_actions)
        outputs, static, written = [], [], {}
        index = 0
        for action in self.actions:
            raw = torch.zeros(1, action.dim)
            raw[:] = actions[:, index:index + action.dim]
            index += action.dim
            self._raw_actions[action.term.name] = raw
            written[action.term.name] = action.process(raw)
        self._last_action = actions.clone()  # ActionManager.action (the export patch keeps a clone)
        updates = {key: (self._last_action if key == "last_action" else self._raw_actions[key[len("last_action_"):]])
                   for key in self._pass_states}
        if updates:
            annotate.update_state(self.node, updates)
        entity = self.robot.entity
        for action in self.actions:
            target = written[action.term.name]
            outputs.append(TensorSemantics(
                name=action.term.name, ref=target.clone(), kind=action.kind, element_names=list(action.joint_names),
                extra={"isaaclab_connection": f"write:{entity}:{action.method}"}))
        for action in self.actions:
            for kind, gains, method in (("kp", action.kp, "write_joint_stiffness_to_sim_index"),
                                        ("kd", action.kd, "write_joint_damping_to_sim_index")):
                static.append(TensorSemantics(
                    name=f"{action.term.name}_{kind}_gains", ref=gains, kind=kind,
                    element_names=list(action.joint_names), extra={"isaaclab_connection": f"write:{entity}:{method}"}))
        self.records.append({
            "inputs": self._pass_inputs,
            "outputs": {**{a.term.name: written[a.term.name].detach().clone() for a in self.actions},
                        **{s.name: s.ref.detach().clone() for s in static}}})
        annotate.output_tensors(self.node, outputs, static_outputs=static, export_with=self.export_method)
        self.step_index += 1
        return self._observe()
