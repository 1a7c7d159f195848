"""Helpers shared by the verbs: ``key=value`` parsing, rich output and the ranges of shared options."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from optbench.harness.core.errors import HarnessError

console = Console()
err_console = Console(stderr=True)

MAX_SEED = 2**32 - 1  # numpy's legacy seeding takes 32 bits
MAX_SEEDS = 10_000
MAX_WORKERS = 1024
WORKERS_HELP = "worker processes (0, the default: one per core)"


def parse_pairs(pairs: list[str] | None, what: str) -> dict[str, Any]:
    """``["n=500", "data=goog"]`` -> ``{"n": 500, "data": "goog"}`` (Python literals, else strings)."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise HarnessError(f"{what} {pair!r} must look like key=value")
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw
        if key.strip() in out:  # a repeated key would silently keep the last value
            raise HarnessError(f"{what} {key.strip()!r} is given twice ({out[key.strip()]!r} and {value!r}); give it once")
        out[key.strip()] = value
    return out


def narrow_table(columns: list[str], title: str, left: tuple[str, ...] = ()) -> Table:
    """A rich table that fits 100 columns: no borders, two spaces between columns, and cells and headers
    that fold onto more lines instead of being cut with "…" when the terminal is narrower."""
    table = Table(title=title, box=None, padding=(0, 1), pad_edge=False, show_edge=False,
                  title_justify="left")
    for col in columns:
        table.add_column(col, justify="left" if col in left else "right", overflow="fold")
    return table


def add_text_row(table: Table, cells) -> None:
    """Add a row whose cells are plain text: ``scipy.direct[maxfun=100]`` is a name, not rich markup."""
    table.add_row(*(Text(str(c)) for c in cells))


def console_markup(line: str) -> str:
    """Markdown ``**bold**`` and `` `code` `` spans as rich markup (the console must not print ``**``)."""
    line = escape(line)  # brackets in the text are text, not rich markup
    return re.sub(r"`([^`]+)`", r"[cyan]\1[/cyan]", re.sub(r"\*\*(.+?)\*\*", r"[bold]\1[/bold]", line))


def invoke(verb: Callable[..., Any], **given: Any) -> int:
    """Call another verb's function as its command line would, with its option defaults for what is
    not ``given`` (how ``demo`` and ``advise`` chain verbs without the CLI app); returns its exit code."""
    import inspect

    from typer.models import ParameterInfo

    kwargs = {name: given.get(name, p.default.default if isinstance(p.default, ParameterInfo) else p.default)
              for name, p in inspect.signature(verb).parameters.items()}
    try:
        verb(**kwargs)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
    return 0
