"""Configuration of one simulated robot: model, joint naming, actuation and sensor frames."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

Gains = float | Sequence[float] | Mapping[str, float]


@dataclass
class SimRobotConfig:
    """What the MuJoCo bridge needs besides the MJCF file (all joint-indexed values by robot joint name).

    Attributes:
        joint_names: robot joint order used on the wire; empty = every hinge/slide joint of the MJCF.
        mjcf_joints: robot joint name -> MJCF joint name, for robots whose names differ from the MJCF.
        kp, kd: PD gains (scalar, list in ``joint_names`` order, or {joint: gain}).
        effort_limits: |torque| limits; None = the MJCF's (joint ``actuatorfrcrange`` or motor ``ctrlrange``).
        gravity_compensation: add MuJoCo's bias force (gravity + Coriolis) of the driven joints to the
            PD torque, as torque-controlled arms (Franka) do in their own controller.
        delay_steps: actuator delay in physics steps (commands reach the PD law this many steps late).
        physics_dt: physics time step in seconds; None = the MJCF's ``<option timestep>``.
        keyframe: MJCF keyframe used as reset pose; None = the model's ``qpos0``.
        initial_joint_positions: {robot joint: position} applied on top of the reset pose.
        imu_site: MJCF site carrying the IMU; None = no IMU.
        base_body: body whose pose/twist is the odometry; None = the free-joint body or the first root body.
    """

    joint_names: Sequence[str] = ()
    mjcf_joints: Mapping[str, str] = field(default_factory=dict)
    kp: Gains = 0.0
    kd: Gains = 0.0
    effort_limits: Gains | None = None
    gravity_compensation: bool = False
    delay_steps: int = 0
    physics_dt: float | None = None
    keyframe: str | None = None
    initial_joint_positions: Mapping[str, float] = field(default_factory=dict)
    imu_site: str | None = None
    base_body: str | None = None
