"""Joint limits of a simulated robot (its MJCF joint ranges) as deploy-node parameters: sims publish no URDF."""

from __future__ import annotations

from pathlib import Path


def mjcf_joint_limit_params(sim_config: str | Path) -> dict[str, float]:
    """`joint_limits.<joint>.{lower,upper}` for every range-limited joint of the sim config's robot."""
    import mujoco

    from leapp_ros.sim.config_file import load_sim_file

    sim = load_sim_file(sim_config)
    model = mujoco.MjModel.from_xml_path(str(sim.model))
    names = list(sim.robot.joint_names) or [model.joint(j).name for j in range(model.njnt)]
    params: dict[str, float] = {}
    for name in names:
        joint = model.joint(name)
        if model.jnt_limited[joint.id]:
            lower, upper = (float(v) for v in model.jnt_range[joint.id])
            params[f"joint_limits.{name}.lower"] = lower
            params[f"joint_limits.{name}.upper"] = upper
    return params


def limit_arguments(sim_config: str | Path) -> list[str]:
    """The same as `leapp-ros run --param` arguments."""
    return [arg for key, value in mjcf_joint_limit_params(sim_config).items()
            for arg in ("--param", f"{key}:={value!r}")]
