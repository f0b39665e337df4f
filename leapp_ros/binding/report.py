"""Human- and machine-readable views of a binding plan (for `leapp-ros inspect` and the node's log)."""

from __future__ import annotations

from typing import Any

from leapp_ros.binding.plan import BindingPlan, compile_plan
from leapp_ros.binding.settings import BindingSettings, load_params_file
from leapp_ros.errors import ConfigurationError


def _elements(names: tuple[str, ...], limit: int = 12) -> str:
    shown = ", ".join(names[:limit])
    return f"[{shown}{', ...' if len(names) > limit else ''}] ({len(names)})" if len(names) > limit else f"[{shown}]"


def binding_plan_dict(plan: BindingPlan) -> dict[str, Any]:
    """Plain data (JSON-ready) describing every binding of the plan."""
    inputs = [{
        "port": b.port.name, "kind": b.role.value, "bound_by": b.found_by, "topic": b.topic, "type": b.type_name,
        "qos": b.qos, "fields": list(b.fields), "element_order": list(b.elements), "required": b.required,
        "timeout_s": b.timeout_s if b.timeout_s < 1e8 else None,
        "on_timeout": "zero" if b.zero_on_timeout else "stale",
    } for b in plan.inputs.bindings]
    outputs = []
    held = []
    for t in plan.outputs.targets:
        outputs.append({"port": t.port.name, "kind": t.role.value, "bound_by": t.found_by, "topic": t.topic,
                        "type": t.type_name, "qos": t.qos, "field": _target_field(t.type_name, t.field),
                        "joint_order": list(t.joints), "joint_sources": _joint_sources(t)})
        held += [{"joint": h.name, "position": h.position, "kp": h.kp, "kd": h.kd, "source": h.source,
                  "published_on": t.topic} for h in t.held]
    for g in plan.outputs.gains:
        outputs.append({"port": g.port.name, "kind": g.role.value, "bound_by": g.found_by, "topic": g.topic,
                        "type": g.type_name, "qos": g.qos if g.constant is not None else "latched if constant",
                        "field": "data", "joint_order": list(g.joints)})
    return {
        "bundle": plan.bundle.name,
        "base_frame": plan.settings.base_frame,
        "subscriptions": [{"topic": t.topic, "type": t.type_name, "qos": t.qos,
                           "ports": [b.port.name for b in t.bindings]} for t in plan.inputs.topics],
        "inputs": inputs,
        "outputs": outputs,
        "ignored_outputs": [{"port": p.name, "reason": why} for p, why in plan.outputs.ignored],
        "held_joints": held,
        "uncommanded_joints": _uncommanded(plan),
    }


def _uncommanded(plan: BindingPlan) -> list[str]:
    """Joints the policy reads but nothing commands (neither the policy nor a held joint)."""
    commanded = {j for t in plan.outputs.targets for j in t.joints}
    measured = [j for b in plan.inputs.bindings if b.role.is_joint_state and b.feeds_engine for j in b.elements]
    return [j for j in dict.fromkeys(measured) if j not in commanded]


def _joint_sources(target: Any) -> dict[str, str]:
    """Where each published joint's command comes from: the policy's port, or a held joint's source."""
    held = {h.name: f"held at {h.position:g} ({h.source})" for h in target.held}
    return {j: held.get(j, f"policy output '{target.port.name}'") for j in target.joints}


def _target_field(type_name: str, field: str) -> str:
    if type_name.endswith("Float64MultiArray"):
        return "data"
    if type_name.endswith("JointTrajectory"):
        return {"position": "points[0].positions", "velocity": "points[0].velocities",
                "effort": "points[0].effort"}[field]
    return field


def format_binding_plan(plan: BindingPlan) -> str:
    """A readable table: port -> topic, message type, field and element order."""
    data = binding_plan_dict(plan)
    lines = [f"Binding plan for bundle '{data['bundle']}' (base frame '{data['base_frame']}')", "", "Inputs:"]
    for i in data["inputs"]:
        timeout = f", {i['on_timeout']} after {i['timeout_s']} s" if i["timeout_s"] else ", held until replaced"
        lines.append(f"  {i['port']:<28} <- {i['topic']} [{i['type']}] qos={i['qos']}"
                     f"{'' if i['required'] else ' (optional)'}{timeout}")
        lines.append(f"  {'':<28}    kind {i['kind']} (bound by {i['bound_by']})")
        lines.append(f"  {'':<28}    order {_elements(tuple(i['element_order']))}")
        if not i["kind"].startswith("state/joint"):
            lines.append(f"  {'':<28}    fields {_elements(tuple(i['fields']))}")
    lines += ["", "Outputs:"]
    for o in data["outputs"]:
        lines.append(f"  {o['port']:<28} -> {o['topic']} [{o['type']}] .{o['field']} qos={o['qos']}")
        lines.append(f"  {'':<28}    kind {o['kind']} (bound by {o['bound_by']})")
        lines.append(f"  {'':<28}    joints {_elements(tuple(o['joint_order']))}")
    for ignored in data["ignored_outputs"]:
        lines.append(f"  {ignored['port']:<28} -> (not published: {ignored['reason']})")
    if data["uncommanded_joints"]:
        names = data["uncommanded_joints"]
        lines += ["", f"Not commanded (the policy reads them, nothing drives or holds them): {_elements(tuple(names))}",
                  f"  hold them with parameters, e.g.  held_joints.{names[0]}.position: <rad>, "
                  f"held_joints.{names[0]}.kp: <value>, held_joints.{names[0]}.kd: <value>"]
    if data["held_joints"]:
        lines += ["", "Joint sources (the node commands the whole robot):"]
        for o in data["outputs"]:
            for joint, source in o.get("joint_sources", {}).items():
                lines.append(f"  {joint:<28} {source}")
        lines += ["", "Held joints (not driven by the policy; ramped in and held with these gains):"]
        for h in data["held_joints"]:
            gains = ", ".join(f"{k} {h[k]:g}" for k in ("kp", "kd") if h[k] is not None) or "no gains"
            lines.append(f"  {h['joint']:<28} position {h['position']:g}, {gains}  ({h['source']})")
    return "\n".join(lines)


def binding_plan_for_inspect(bundle: Any, params_file: str | None = None) -> tuple[str, dict[str, Any]]:
    """Text and data of the plan `leapp-ros inspect` shows; a refusal is reported, not raised."""
    try:
        params = load_params_file(params_file) if params_file else {}
        plan = compile_plan(bundle, BindingSettings.from_params(params))
    except ConfigurationError as exc:
        fix = getattr(exc, "fix", None)
        if fix is None:
            return f"Binding plan: refused: {exc}", {"error": str(exc)}
        return (f"Binding plan: refused: {exc}\nAdd to the deploy parameters (ros__parameters):\n  {fix}",
                {"error": str(exc), "fix": fix})
    return format_binding_plan(plan), binding_plan_dict(plan)
