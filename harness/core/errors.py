"""The harness's exception type for a user mistake at its boundary; the CLI turns it into exit code 2."""

from optbench.errors import OptbenchError


class HarnessError(OptbenchError):
    """A user mistake at the harness boundary (unknown optimizer, bad option or budget)."""
