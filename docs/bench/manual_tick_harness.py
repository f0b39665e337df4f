"""Hot-tick harness: the real deploy node (engine, safety, DDS) configured against the stand-in robot at 200 Hz,
its deadline loop stopped, then 20000 ticks driven by hand (a 0.5 ms pause every 4th tick) with the node's own
stage counters. Separates the tick's CPU cost from the timer loop's wake-up and interpreter-lock effects.
`python docs/bench/manual_tick_harness.py [stages|prof|micro]` inside `netns-run`, with PYTHONPATH at the tree
under test (docs/performance.md, "lean tick, second pass")."""
import cProfile
import os
import pstats
import subprocess
import sys
import time

import numpy as np
from leapp_ros.bundle import load_bundle
from leapp_ros.node.deploy import DeployNode
from leapp_ros.node.timing import STAGES, TickProfile
from leapp_ros.safety import SafetyState
from leapp_ros.transport import make_transport
from leapp_ros.transport.loopback import loopback_environment

mode = sys.argv[1] if len(sys.argv) > 1 else "stages"
bundle = load_bundle("../shared/fixtures/bundles/anymal_like_flat")
env = loopback_environment()
domain = int(env["ROS_DOMAIN_ID"])
robot = subprocess.Popen([sys.executable, "-m", "leapp_ros.bench.node_overhead", "--robot", str(bundle.yaml_path),
                          "--rate", "200"], env={**os.environ, **env})
transport = make_transport("dds", "leapp_bench_node", "/", discovery="loopback", domain_id=domain)
node = DeployNode(transport, {"bundle": str(bundle.yaml_path), "rate_hz": 200.0, "enable_on_activate": True,
                              "robot_description_topic": "", "safety.allow_no_joint_limits": True})
try:
    node.configure()
    while True:
        try:
            node.activate(); break
        except Exception:
            time.sleep(0.05)
    sup = node.channels[0].supervisor
    while sup.state is not SafetyState.ACTIVE:
        time.sleep(0.05)
    time.sleep(0.5)
    node._loop.stop(); node._loop = None
    node.stats = TickProfile(capacity=100000)
    N = 20000
    for i in range(500):
        node.tick(False)
    node.stats.reset()
    if mode == "prof":
        pr = cProfile.Profile(); pr.enable()
    for i in range(N):
        node.tick(False)
        if i % 4 == 0:
            time.sleep(0.0005)
    if mode == "prof":
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(35)
    if mode == "micro":
        ch = node.channels[0]
        import time as T
        def tm(label, f, n=3000):
            f()
            t = T.perf_counter_ns()
            for _ in range(n): f()
            print(f"{label:28s} {(T.perf_counter_ns()-t)/n/1e3:7.2f} us")
        sup = ch.supervisor
        now = transport.now_ns()
        tm("plan.inputs.snapshot", lambda: node.plan.inputs.snapshot(transport.now_ns()))
        tm("channel.begin", lambda: ch.begin(transport.now_ns() * 1e-9, False))
        tm("engine.run", lambda: node.engine.run(node.plan.inputs.engine_inputs))
        outs = node.engine.run(node.plan.inputs.engine_inputs)
        tm("outputs.gather", lambda: node.plan.outputs.gather(outs))
        tm("supervisor.end_tick", lambda: sup.end_tick(ch.target.values, ch._kp, ch._kd, ch._gain_checks, None))
        cmd = sup.end_tick(ch.target.values, ch._kp, ch._kd, ch._gain_checks, None)
        tm("channel._publish", lambda: ch._publish(cmd, now))
        tm("publisher.publish target", lambda: ch.publisher.publish(ch.encoder.encode(cmd.position, now)))
        tm("encoder.encode", lambda: ch.encoder.encode(cmd.position, now))
        if getattr(ch.publisher, "_fixed", None) is not None:  # the fixed-layout CDR (absent before it existed)
            tm("fixed.encode", lambda: ch.publisher._fixed.encode(ch.encoder.message))
        from leapp_ros.transport.dds_raw import write_cdr, pad4
        b = bytes(ch.publisher._typestore.serialize_cdr(ch.encoder.message, ch.publisher.type_name))
        tm("rosbags serialize", lambda: ch.publisher._typestore.serialize_cdr(ch.encoder.message, ch.publisher.type_name))
        tm("write_cdr", lambda: write_cdr(ch.publisher.writer, b))
        tm("channel.end", lambda: (setattr(ch, 'tick_started_s', T.monotonic()), ch.end(True, now)))
        from leapp_ros.safety.filters import first_non_finite
        tm("first_non_finite", lambda: first_non_finite(cmd.position))
        tm("gain_fault", lambda: sup.gain_fault("kp", ch._kp, sup._max_kp, sup.joint_names))
        tm("_bound_step", lambda: sup._bound_step())
        tm("clamp.apply", lambda: sup.clamp.apply(ch.target.values, sup._target))
        tm("is_finite", lambda: cmd.is_finite())
        tm("_input_fault", lambda: sup._input_fault(sup.now_s, sup._measured, None))
        tm("watchdog.first_stale", lambda: sup.watchdog.first_stale())
        tm("deadlines.update", lambda: sup.deadlines.update(False))
        tm("position.refresh", lambda: ch.position.refresh())
    stages, total = node.stats.window()
    eng = stages[:, 2]
    print("state", sup.state_text())
    print("overhead p50/p99 us", np.percentile((total - eng) / 1e3, [50, 99]).round(1))
    for i, s in enumerate(STAGES):
        print(s, np.percentile(stages[:, i] / 1e3, [50, 99]).round(1))
finally:
    node.shutdown(); transport.shutdown(); robot.terminate(); robot.wait()
