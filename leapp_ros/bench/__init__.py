"""Benchmarks: engine tick latency against raw runtimes, with a versioned JSON report."""
