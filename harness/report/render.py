"""One report, two renderings: Markdown (figures linked) and a self-contained HTML page rendered from
the jinja2 templates in ``templates/`` (figures inlined as PNG data). A report is the decision block
followed by sections of text, tables and figures; a section may be collapsed (``<details>``)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape


@dataclass(frozen=True)
class Table:
    """A display table (cells already formatted) with a caption."""

    frame: pd.DataFrame
    caption: str = ""


@dataclass(frozen=True)
class Figure:
    """A figure saved as ``plots/<stem>.png`` and ``.svg``."""

    stem: str
    caption: str = ""


@dataclass
class Section:
    """A titled part of the report; ``items`` are strings (paragraphs, ``**bold**`` and `` `code` ``
    allowed), Tables, Figures and nested Sections (shown collapsed when ``collapsed``)."""

    title: str
    level: int = 2
    items: list = field(default_factory=list)
    collapsed: bool = False


@dataclass(frozen=True)
class ClassDecision:
    """One objective class in the decision block: the shipped configuration and what it was weighed against."""

    family: str
    choice: str
    verdict: str
    summary: str  # one sentence: quality, time, seeds
    comparison: Table
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    """The report's opening block."""

    classes: tuple[ClassDecision, ...]
    rule: str
    scale: str
    link: str  # DECISION.md, relative to the page


TEMPLATES = Path(__file__).parent / "templates"  # packaged as package data


def _cells(frame: pd.DataFrame) -> list[list[str]]:
    return [[str(v) for v in row] for row in frame.itertuples(index=False)]


def _table_md(table: Table) -> list[str]:
    head = [str(c) for c in table.frame.columns]
    lines = [f"*{table.caption}*", ""] if table.caption else []
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in _cells(table.frame)]


def _section_md(sec: Section) -> list[str]:
    lines = [f"{'#' * sec.level} {sec.title}", ""]
    for item in sec.items:
        if isinstance(item, Section):
            lines += _section_md(item)
            continue
        if isinstance(item, Table):
            lines += _table_md(item)
        elif isinstance(item, Figure):
            lines.append(f"![{item.caption}](plots/{item.stem}.png)  \n*{item.caption}* ([SVG](plots/{item.stem}.svg))")
        else:
            lines.append(str(item))
        lines.append("")
    return lines


def markdown(title: str, sections: list[Section], decision: Decision | None = None) -> str:
    """The report as Markdown (GitHub tables; figures as relative links to the PNGs)."""
    lines = [f"# {title}", ""]
    if decision is not None:
        lines += ["## Decision", "", f"Rule: {decision.rule} Full decision: [DECISION.md]({decision.link}).", "",
                  decision.scale, ""]
        for c in decision.classes:
            lines += [f"### {c.family}: `{c.choice}` — {c.verdict}", "", c.summary, "",
                      *_table_md(c.comparison), "", *[f"- {n}" for n in c.notes], ""]
    for sec in sections:
        lines += _section_md(sec)
    return "\n".join(lines)


def inline(text: str) -> Markup:
    """Escape ``text`` and render its ``**bold**``, `` `code` `` and ``[text](link)`` spans."""
    out = str(escape(text))
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    out = re.sub(r"\[([^\]]+)\]\(([^)\s]+)\)", r'<a href="\2">\1</a>', out)
    return Markup(re.sub(r"`(.+?)`", r"<code>\1</code>", out))


def _environment(plots: Path) -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["inline"] = inline
    env.filters["png"] = lambda stem: base64.b64encode((plots / f"{stem}.png").read_bytes()).decode()
    env.filters["cells"] = _cells
    env.filters["slug"] = lambda text: re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    env.tests["table"] = lambda item: isinstance(item, Table)
    env.tests["figure"] = lambda item: isinstance(item, Figure)
    env.tests["section"] = lambda item: isinstance(item, Section)
    return env


def page(title: str, sections: list[Section], plots: Path, decision: Decision | None = None) -> str:
    """The report as one HTML page: the decision block first, a table of contents, then the sections;
    PNGs under ``plots`` are embedded so the file stands alone."""
    return _environment(plots).get_template("report.html.j2").render(title=title, sections=sections,
                                                                      decision=decision)
