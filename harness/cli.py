"""The ``optbench`` command: parses and dispatches; each verb's work lives in ``harness.commands.*``."""

from __future__ import annotations

import pkgutil
import sys
from importlib import import_module

import typer

from optbench.harness import commands

# One module per verb in harness/commands; each defines ``register(app)``. Adding a verb is adding
# a module there (modules without ``register`` are helpers). Heavy imports stay inside the verbs.
COMMANDS = [m.name for m in pkgutil.iter_modules(commands.__path__)]

app = typer.Typer(
    name="optbench",
    help="Benchmark and profile black-box optimizers on objectives with known optima, and decide "
         "which one to ship. Start with `optbench demo`; `optbench COMMAND --help` explains each verb.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for _name in COMMANDS:
    _module = import_module(f"optbench.harness.commands.{_name}")
    if hasattr(_module, "register"):
        _module.register(app)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: user mistakes (ObjectiveError, HarnessError) exit with code 2."""
    from optbench.harness.budget import HarnessError
    from optbench.objectives import ObjectiveError

    try:
        code = app(args=argv, standalone_mode=False)  # returns typer.Exit's code in this mode
        if isinstance(code, int) and code:
            sys.exit(code)
    except (ObjectiveError, HarnessError) as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        typer.secho("interrupted", fg="yellow", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code (2)
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
