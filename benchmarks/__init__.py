"""optviz's benchmarks: speed measured side by side, outside the test suite (run
``python -m benchmarks`` from the repository root)."""
