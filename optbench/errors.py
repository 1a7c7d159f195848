"""The base of every user-mistake exception (objectives', the harness's, plug-ins'): the CLI turns
any of them into one ``error:`` line and exit code 2. Imports nothing."""


class OptbenchError(ValueError):
    """A user mistake: a bad name, option, value, plug-in or file."""
