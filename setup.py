"""ament_python package `leapp_ros`; installs with colcon in a ROS 2 workspace or with plain pip."""

from glob import glob

from setuptools import find_packages, setup

PACKAGE = "leapp_ros"

DDS = ["cyclonedds==11.0.1", "rosbags==0.11.9"]
SIM = ["mujoco>=3.2", "matplotlib>=3.7"]
TORCH = ["torch>=2.6"]  # install the CPU build first where no GPU is needed (see README)
EXPORT = ["leapp==0.7.2", "rsl-rl-lib==5.5.1", "onnxscript>=0.1", "tqdm>=4.60", "tensorboard>=2.15"] + TORCH
# Further policy sources. rl-games==1.6.5 and torchrl==0.14.1 declare pins that conflict with rsl-rl-lib
# (psutil<6, tensordict<0.15) yet run fine here: install them with `pip install --no-deps` (scripts/setup_env.sh).
EXPORT_LIBS = ["skrl==2.1.1", "stable-baselines3==2.9.2", "gymnasium==1.2.1", "hoptorch==0.1.4"]
# rclpy and the message packages the node uses, from the ROS 2 Python wheels (cp311 manylinux only; the rmw wheel
# provides librmw_fastrtps_cpp). Not for a colcon workspace: there ROS 2 comes from the sourced setup.
_ROS_ONLY = "; python_version == '3.11' and platform_system == 'Linux'"
ROS = [f"ros-jazzy-{name}=={version}{_ROS_ONLY}" for name, version in (
    ("rclpy", "7.1.6"), ("rmw-fastrtps-cpp", "8.4.3"), ("rcl-interfaces", "2.0.3"), ("lifecycle-msgs", "2.0.3"),
    ("std-msgs", "5.3.6"), ("std-srvs", "5.3.6"), ("sensor-msgs", "5.3.6"), ("geometry-msgs", "5.3.6"),
    ("nav-msgs", "5.3.6"), ("trajectory-msgs", "5.3.6"), ("diagnostic-msgs", "5.3.6"))]
# The same for ROS 2 Kilted (rclpy 9.1, Fast DDS 3): a separate environment, never together with `ros`.
ROS_KILTED = [f"ros-kilted-{name}=={version}{_ROS_ONLY}" for name, version in (
    ("rclpy", "9.1.2"), ("rmw-fastrtps-cpp", "9.3.3"), ("rcl-interfaces", "2.3.0"), ("lifecycle-msgs", "2.3.0"),
    ("std-msgs", "5.5.1"), ("std-srvs", "5.5.1"), ("sensor-msgs", "5.5.1"), ("geometry-msgs", "5.5.1"),
    ("nav-msgs", "5.5.1"), ("trajectory-msgs", "5.5.1"), ("diagnostic-msgs", "5.5.1"))]
GPU = ["onnxruntime-gpu>=1.20"]  # plus a CUDA build of torch; TensorRT comes from JetPack or NVIDIA's index
# scripts/check.sh (pinned: a new lint rule or type check is a choice, not a surprise)
CHECK = ["ruff==0.17.6", "mypy==2.4.1", "types-PyYAML==6.0.12.20261122"]
TEST = ["pytest>=8", "pytest-timeout>=2.3", "psutil>=5.9", "hypothesis>=6.100"] + CHECK + DDS + SIM + EXPORT \
    + EXPORT_LIBS

setup(
    name=PACKAGE,
    version="0.1.0",
    packages=find_packages(exclude=["test", "test.*", "examples", "examples.*"]),
    package_data={PACKAGE: ["transport/*.xml", "bench/schema.json"]},  # incl. the loopback DDS profiles
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml")),
        # the demo (`leapp-ros demo` finds it here in a colcon install)
        (f"share/{PACKAGE}/examples/reach_arm", [f for f in glob("examples/reach_arm/*") if not f.endswith("/")
                                                  and f.rsplit(".", 1)[-1] in ("py", "xml", "yaml", "txt", "md")]),
        (f"share/{PACKAGE}/examples/reach_arm/bundle/Leapp-Reach-Arm-v0",
         glob("examples/reach_arm/bundle/Leapp-Reach-Arm-v0/*")),
    ],
    python_requires=">=3.10",
    install_requires=["numpy>=1.24", "pyyaml>=6.0", "safetensors>=0.4", "onnx>=1.15", "onnxruntime>=1.17",
                      "psutil>=5.9", "rich>=13", "jsonschema>=4.18"],
    extras_require={"dds": DDS, "sim": SIM, "torch": TORCH, "export": EXPORT + EXPORT_LIBS, "gpu": GPU,
                    "ros": ROS, "ros-kilted": ROS_KILTED, "test": TEST},
    zip_safe=True,
    maintainer="leapp_ros maintainers",
    maintainer_email="leapp-ros@example.com",
    description="Deploy LEAPP policy bundles from Isaac Lab on ROS 2 robots, and export them.",
    license="Apache-2.0",
    tests_require=["pytest"],
    entry_points={
        "console_scripts": [
            "leapp-ros = leapp_ros.cli.main:main",
            "leapp-export = leapp_export.cli:main",
            # `ros2 run leapp_ros <name>` executables
            "deploy = leapp_ros.node.main:main",
            "sim = leapp_ros.sim.cli:main",
        ],
    },
)
