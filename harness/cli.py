"""The ``optbench`` command: parses and dispatches; each verb's work lives in ``harness.commands.*``.

Every usage error, whichever layer raises it (typer 0.29's vendored click, click itself, or the
code's own ``OptbenchError``: objectives', the harness's, plug-ins'), ends as one ``error: …`` line on stderr and exit
code 2; Ctrl-C ends with one ``interrupted`` line and exit 130 (a second one in quick succession is
ignored), SIGTERM the same way (a run's finished cells are kept and it is marked interrupted) with
exit 143.
"""

from __future__ import annotations

import pkgutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module

import typer
from typer.core import TyperCommand, TyperGroup

from optbench.errors import OptbenchError
from optbench.harness import commands


class _FlagsShownAsFlags:
    """typer labels a boolean flag ``<bool>`` in ``--help``, which invites ``--force true``: show
    flags bare (a mixin for the app's group and commands)."""

    def get_params(self, ctx):
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if getattr(param, "is_flag", False):
                param.metavar = ""
        return params


class FlagsGroup(_FlagsShownAsFlags, TyperGroup):
    """The app's group, with flags shown as flags."""


class FlagsCommand(_FlagsShownAsFlags, TyperCommand):
    """A verb, with flags shown as flags."""


# One module per verb in harness/commands; each defines ``register(app)``. Adding a verb is adding
# a module there (modules without ``register`` are helpers). Heavy imports stay inside the verbs.
COMMANDS = [m.name for m in pkgutil.iter_modules(commands.__path__)]

app = typer.Typer(
    name="optbench",
    help="Benchmark and profile black-box optimizers on built-in objectives (some with proven optima) and "
         "your own (plug-ins, with or without a known optimum), and decide which one to ship. "
         "Start with `optbench demo`; `optbench COMMAND --help` explains each verb.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=FlagsGroup,
)


@app.callback()
def load_plugins(
    plugin: list[str] | None = typer.Option(
        None, "--plugin", metavar="MODULE_OR_FILE",
        help="import a plug-in module or .py file that registers objectives/optimizers (repeatable; "
             "also $OPTBENCH_PLUGINS, comma-separated; installed entry points load by themselves)"),
) -> None:
    """Options before the verb: plug-ins to load for this command and the processes it starts."""
    from optbench import plugins

    for spec in plugin or []:
        plugins.add(spec)


for _name in COMMANDS:
    _module = import_module(f"optbench.harness.commands.{_name}")
    if hasattr(_module, "register"):
        _module.register(app)
for _info in app.registered_commands:
    if _info.cls in (None, TyperCommand):  # a verb that chose its own class keeps it
        _info.cls = FlagsCommand


def _click_errors() -> tuple[type[Exception], ...]:
    """The usage-error base classes of every CLI layer present: typer's vendored click (typer ≥ 0.29,
    not a subclass of click's) and click itself (older typer, or a plug-in built on click)."""
    found: list[type[Exception]] = []
    for module in ("typer._click.exceptions", "click.exceptions"):
        try:
            found.append(import_module(module).ClickException)
        except ImportError:
            pass
    return tuple(found)


def usage_line(exc: Exception, argv: list[str]) -> str:
    """One line for a click/typer usage error: what was wrong, and where the allowed forms are."""
    message = " ".join(exc.format_message().split())  # type: ignore[attr-defined]
    names = [c.name for c in app.registered_commands]
    verb = next((a for a in argv[:1] if a in names), None)  # the verb whose --help lists the allowed forms
    if "unexpected extra argument" in message:
        message += "; flags such as --force take no value, and each option takes one value"
    elif "No such command" in message:
        message += f" Commands: {', '.join(n or '' for n in names)}."
    return f"{message} (see `optbench{' ' + verb if verb else ''} --help`)"


REPEAT_IGNORED_S = 5.0  # after a first Ctrl-C or SIGTERM, more of them are ignored this long


@contextmanager
def signals_as_interrupt() -> Iterator[list[int]]:
    """Inside the block SIGINT (Ctrl-C) and SIGTERM raise ``KeyboardInterrupt``, so both unwind alike
    (a run keeps its finished cells and is marked interrupted). Those that follow the first within
    ``REPEAT_IGNORED_S`` are ignored: a second Ctrl-C in quick succession does not cut the unwinding
    or the interpreter's exit short (with a traceback). Main thread only; a signal the process was
    started ignoring (a background job's SIGINT) stays ignored. The list it gives holds the signals
    received; the handlers are restored after, unless one was: the process is then exiting, and both
    signals are ignored from here on (Python's own exit would restore their defaults, and a late
    Ctrl-C would kill it with SIGINT instead of exit 130)."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    first_at: list[float] = []

    def interrupt(signum, frame):
        received.append(signum)
        if first_at and time.monotonic() - first_at[0] < REPEAT_IGNORED_S:
            return
        first_at[:] = [time.monotonic()]
        raise KeyboardInterrupt

    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(sig, interrupt)
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_IGN if received else handler)


def main(argv: list[str] | None = None) -> None:
    """Console entry point: usage errors exit 2 with one line, Ctrl-C 130, SIGTERM 143, no tracebacks."""
    with signals_as_interrupt() as received:
        try:
            code = app(args=argv, standalone_mode=False)  # typer turns Ctrl-C into code 130 in this mode
        except (typer.Abort, KeyboardInterrupt):
            code = 130
        except Exception as exc:
            if isinstance(exc, OptbenchError):
                _fail(f"error: {exc}", 2)
            if isinstance(exc, _click_errors()):
                _fail(f"error: {usage_line(exc, sys.argv[1:] if argv is None else argv)}", getattr(exc, "exit_code", 2))
            raise
    if code == 130 and received[:1] == [signal.SIGTERM]:
        _fail("terminated (SIGTERM)", 143, "yellow")
    if code == 130:
        _fail("interrupted", 130, "yellow")
    if isinstance(code, int) and code:
        sys.exit(code)


def _fail(line: str, code: int, color: str = "red") -> None:
    typer.secho(line, fg=color, err=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
