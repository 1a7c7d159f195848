"""``optbench asv-publish``: ``asv publish``, then the pages rewritten to load their scripts and styles
from vendored copies, so they work offline."""

from __future__ import annotations

from pathlib import Path

import typer

from optbench.harness.commands.common import console


def register(app: typer.Typer) -> None:
    app.command("asv-publish", help="Run `asv publish` and make its pages work offline (jQuery, flot, bootstrap, "
                                    "stupidtable and md5 served from the published folder); preview with "
                                    "`python -m http.server --bind 127.0.0.1 -d html`.")(asv_publish)


def asv_publish(
    config: Path = typer.Option(Path("asv.conf.json"), "--config", help="asv configuration file"),
    asv_args: list[str] | None = typer.Argument(None, help="more arguments for `asv publish` (after --)"),
) -> None:
    from optbench.harness.asv.publish import publish

    html_dir = publish(config, list(asv_args or []))
    console.print(f"published offline to {html_dir}; preview: python -m http.server --bind 127.0.0.1 -d {html_dir}",
                  highlight=False)
