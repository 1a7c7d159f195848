"""The one exception type for a user mistake at the harness boundary; the CLI turns it into exit code 2."""


class HarnessError(ValueError):
    """A user mistake at the harness boundary (unknown optimizer, bad option or budget)."""
