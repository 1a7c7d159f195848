"""Performance checks (``optbench perf NAME``): print figures measured side by side in one run."""
