"""Running many cells: the matrix, its executors, the sandbox, claims, progress and suites."""
