"""Benchmarks: a schema'd JSON bench bundle (engine, reference runtimes, backends, paced, end to end, sim) and diffs."""
