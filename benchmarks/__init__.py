"""On-demand benchmarks: ``python -m benchmarks [--quick]`` (never part of the unit tests)."""
