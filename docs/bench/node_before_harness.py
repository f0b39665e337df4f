"""Before/after harness: runs the pre-change deploy node (commit f5db64f, checked out on PYTHONPATH) against the same
stand-in robot as `leapp-ros bench --node`, timing engine.run inside it; usage: BUNDLE RATES SECONDS OUT.json."""
import json, os, signal, subprocess, sys, time
import numpy as np
from pathlib import Path

REPO = str(Path(__file__).resolve().parents[2])  # this checkout: its stand-in robot publishes the inputs


def pct(a, q):
    return float(np.percentile(a, q) / 1e3) if len(a) else None
from leapp_ros.node.deploy import DeployNode
from leapp_ros.node import timing
from leapp_ros.transport import make_transport
from leapp_ros.transport.loopback import loopback_environment

bundle, rates, seconds, out = sys.argv[1], [float(r) for r in sys.argv[2].split(",")], float(sys.argv[3]), sys.argv[4]
results = []
for rate in rates:
    env = loopback_environment()
    robot = subprocess.Popen([sys.executable, "-m", "leapp_ros.bench.node_overhead", "--robot", bundle, "--rate", str(rate)],
                             cwd=REPO, env={**os.environ, **env, "PYTHONPATH": REPO}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = make_transport("dds", "before_node", "/", discovery="loopback", domain_id=int(env["ROS_DOMAIN_ID"]))
    load0 = os.getloadavg()
    node = DeployNode(t, {"bundle": bundle, "rate_hz": rate, "enable_on_activate": True, "robot_description_topic": ""})
    node.configure()
    n = int(seconds * rate * 1.5) + 1000
    node.stats = timing.LatencyStats(capacity=n)
    eng = np.zeros(n, np.int64); k = [0]
    run = node.engine.run
    def timed(feed):
        s = time.monotonic_ns(); r = run(feed); eng[k[0] % n] = time.monotonic_ns() - s; k[0] += 1; return r
    node.engine.run = timed
    give_up = time.monotonic() + 30
    while True:
        try:
            node.activate(); break
        except Exception:
            if time.monotonic() > give_up: raise
            time.sleep(0.05)
    sup = node.channels[0].supervisor
    while sup.state.value != "ACTIVE" and time.monotonic() < give_up:
        time.sleep(0.05)
    time.sleep(1.0)
    m0, tr0 = node._loop.misses, sup.log.count
    node.stats.reset(); node.stats.ticks = 0; k[0] = 0
    began = time.monotonic(); time.sleep(seconds); window = time.monotonic() - began
    ticks = node.stats.ticks; total = node.stats._ring[:min(ticks, n)].copy(); e = eng[:min(k[0], n)].copy()
    misses = node._loop.misses - m0
    end_state = sup.state_text()
    trans = [str(x) for x in list(sup.log.recent)[-(sup.log.count - tr0):]] if sup.log.count > tr0 else []
    node.shutdown(); t.shutdown(); robot.send_signal(signal.SIGINT); robot.wait(10)
    deadlines = int(round(window * rate))
    results.append({"rate_hz": rate, "seconds": round(window, 2), "ticks": int(ticks), "deadlines": deadlines,
                    "tick_p50_us": pct(total, 50), "tick_p99_us": pct(total, 99),
                    "engine_p50_us": pct(e, 50), "engine_p99_us": pct(e, 99), "engine_runs": int(k[0]),
                    "overhead_p50_us_approx": (pct(total, 50) - pct(e, 50)) if len(e) and len(total) else None,
                    "safety_state_end": end_state,
                    "late_ticks": int(misses), "late_fraction": round(misses / max(deadlines, 1), 6),
                    "safety_transitions": len(trans), "transitions": trans,
                    "load_before": [round(x, 2) for x in load0], "load_after": [round(x, 2) for x in os.getloadavg()]})
    print(json.dumps(results[-1]))
json.dump({"code": "before (f5db64f)", "bundle": bundle, "results": results}, open(out, "w"), indent=1)
