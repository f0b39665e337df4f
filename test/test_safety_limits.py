"""Joint limits: URDF parsing (soft limits, continuous, fixed), parameter limits, resolution and reports."""

import math

import numpy as np
import pytest
from safety_helpers import JOINTS, URDF

from leapp_ros.errors import ConfigurationError
from leapp_ros.safety import (
    JointLimits,
    WatchedInput,
    build_supervisor,
    parse_parameter_limits,
    parse_urdf_limits,
    resolve_limits,
)


@pytest.mark.parametrize("joint, lower, upper, velocity, effort, continuous, source", [
    ("hip", -1.0, 1.0, 2.0, 40.0, False, "urdf"),
    ("knee", -2.0, 0.5, 3.0, 40.0, False, "urdf safety_controller"),  # soft limits tighten
    ("wheel", -math.inf, math.inf, 10.0, 5.0, True, "urdf"),
])
def test_urdf_joint_limits(joint, lower, upper, velocity, effort, continuous, source):
    limit = parse_urdf_limits(URDF)[joint]
    assert (limit.lower, limit.upper, limit.velocity, limit.effort) == (lower, upper, velocity, effort)
    assert (limit.continuous, limit.source) == (continuous, source)


def test_urdf_skips_fixed_joints_and_can_ignore_soft_limits():
    limits = parse_urdf_limits(URDF, use_soft_limits=False)
    assert set(limits) == {"hip", "knee", "wheel"}
    assert (limits["knee"].lower, limits["knee"].upper) == (-2.5, 0.8)


@pytest.mark.parametrize("urdf, message", [
    ("<robot><joint", "not valid XML"),
    ("<model/>", "expected <robot>"),
    ('<robot><joint name="a" type="revolute"><limit lower="x" upper="1" velocity="1" effort="1"/></joint></robot>',
     "joint 'a'"),
])
def test_bad_urdf_names_the_problem(urdf, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_urdf_limits(urdf)


def test_urdf_inverted_limits_refused_only_for_commanded_joints():
    urdf = ('<robot><joint name="bad" type="revolute"><limit lower="1" upper="-1" velocity="1" effort="1"/></joint>'
            '<joint name="ok" type="revolute"><limit lower="-1" upper="1" velocity="1" effort="1"/></joint></robot>')
    limits = parse_urdf_limits(urdf)
    JointLimits.resolve(["ok"], urdf=limits)  # an unused broken joint is not our business
    with pytest.raises(ConfigurationError, match="joint 'bad': lower limit 1.0 is above upper limit -1.0"):
        JointLimits.resolve(["bad"], urdf=limits)


@pytest.mark.parametrize("raw, message", [
    ([1, 2], "must be a mapping"),
    ({"hip": 3}, "joint 'hip' must be a mapping"),
    ({"hip": {"lower": -1, "uper": 1}}, "unknown keys \\['uper'\\]"),
    ({"hip": {"lower": "low"}}, "'lower' must be a number"),
    ({"hip": {"lower": 1, "upper": 0}}, "lower limit 1.0 is above upper limit 0.0"),
    ({"hip": {"velocity": 0}}, "velocity limit must be positive"),
    ({"hip": {"effort": -1}}, "effort limit must not be negative"),
])
def test_bad_parameter_limits(raw, message):
    with pytest.raises(ConfigurationError, match=message):
        parse_parameter_limits(raw)


def test_resolution_prefers_urdf_then_parameters_and_reports_gaps():
    params = parse_parameter_limits({"hip": {"lower": -0.1, "upper": 0.1, "velocity": 1},
                                     "ankle": {"lower": -1, "upper": 1}})
    limits, report = JointLimits.resolve(["hip", "ankle", "toe", "wheel"], urdf=parse_urdf_limits(URDF),
                                         parameters=params)
    assert limits.names == ("hip", "ankle", "toe", "wheel")
    np.testing.assert_array_equal(limits.lower, [-1.0, -1.0, -np.inf, -np.inf])  # hip from the URDF
    np.testing.assert_array_equal(limits.velocity, [2.0, np.inf, np.inf, 10.0])
    assert report == ["joint 'ankle' has no velocity limit (parameters)",
                      "joint 'toe' has no limits: in neither the URDF nor the joint_limits parameter"]


def test_factory_reads_urdf_file_and_reports(tmp_path):
    path = tmp_path / "robot.urdf"
    path.write_text(URDF)
    limits, report = resolve_limits(JOINTS, urdf_file=path)
    assert limits.upper[1] == 0.5 and report[0].startswith("joint limits from URDF file")
    with pytest.raises(ConfigurationError, match="cannot be read"):
        resolve_limits(JOINTS, urdf_file=tmp_path / "missing.urdf")
    hip_only = {"hip": {"lower": -1, "upper": 1, "velocity": 2}}
    with pytest.raises(ConfigurationError, match=r"joints \['elbow'\] have no position limits.*allow_no_joint_limits"):
        build_supervisor(["hip", "elbow"], 50.0, [WatchedInput("joint_states")], joint_limits=hip_only)
    sup = build_supervisor(["hip", "elbow"], 50.0, [WatchedInput("joint_states")],
                           {"limit_margin": 0.2, "allow_no_joint_limits": True}, joint_limits=hip_only)
    assert sup.report[:2] == ["joint limits from the joint_limits parameter",
                              "joint 'elbow' has no limits: not in the joint_limits parameter (no URDF)"]
    assert "allow_no_joint_limits" in sup.report[2] and "['elbow']" in sup.report[2]
    assert sup.config.limit_margin == 0.2


def test_joints_without_limits_are_reported_in_one_line():
    joints = [f"j{i}" for i in range(12)]
    _, report = JointLimits.resolve(joints, parameters=parse_parameter_limits({"j0": {"lower": -1, "upper": 1}}))
    assert report == ["joint 'j0' has no velocity limit (parameters)",
                      "11 joints have no limits: not in the joint_limits parameter (no URDF): "
                      + ", ".join(joints[1:])]
