"""One report, two renderings: Markdown (figures linked) and a self-contained HTML page rendered from
the jinja2 templates in ``templates/`` (figures inlined as PNG data). A report is the decision block
followed by sections of text, tables and figures; a section may be collapsed (``<details>``).

Names are data, whoever chose them (a store's objectives and optimizers): section titles and table
cells are escaped by both renderings; paragraphs, captions and notes are the report's own Markdown,
into which a name goes only through :func:`md_text` or :func:`md_code`. Of that Markdown the page
renders ``**bold**``, code spans, backslash escapes and ``[text](link)`` — the link only when it is
http(s) or relative (a ``javascript:`` or ``data:`` link stays text)."""

from __future__ import annotations

import base64
import html
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
class ClassBlock:
    """One objective class in the decision block: the shipped configuration and what it was weighed against."""

    family: str
    choice: str
    verdict: str
    summary: str  # one sentence: quality, time, seeds
    comparison: Table
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DecisionBlock:
    """The report's opening block."""

    classes: tuple[ClassBlock, ...]
    rule: str
    scale: str
    link: str  # DECISION.md, relative to the page


TEMPLATES = Path(__file__).parent / "templates"  # packaged as package data

_CONTROL = re.compile(r"[\x00-\x1f\x7f\ue000\ue001]")  # line breaks would end a table row or heading
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|!#~&])")
_SPAN = re.compile(r"(?<!`)(?P<fence>`+)(?!`)(?P<body>.+?)(?<!`)(?P=fence)(?!`)|\\(?P<esc>[!-/:-@\[-`{-~])")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_HOLE = re.compile("\ue000(\\d+)\ue001")  # a placeholder for an already rendered span


def md_text(text: object) -> str:
    """``text`` as literal Markdown: every character Markdown or HTML could read as markup is
    backslash-escaped, line breaks and control characters become spaces."""
    return _MD_SPECIAL.sub(r"\\\1", _CONTROL.sub(" ", str(text)))


def md_code(text: object) -> str:
    """``text`` as a Markdown code span, fenced with more backticks than any run inside it."""
    text = _CONTROL.sub(" ", str(text))
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def safe_link(url: str) -> bool:
    """True for the links a report may render: http(s) and relative ones."""
    url = html.unescape(url).strip()
    return bool(re.match(r"https?://", url, re.I)) or not (_SCHEME.match(url) or url.startswith("//"))


def _cells(frame: pd.DataFrame) -> list[list[str]]:
    return [[str(v) for v in row] for row in frame.itertuples(index=False)]


def _table_md(table: Table) -> list[str]:
    head = [md_text(c) for c in table.frame.columns]
    lines = [f"*{table.caption}*", ""] if table.caption else []
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return lines + ["| " + " | ".join(md_text(c) for c in row) + " |" for row in _cells(table.frame)]


def _section_md(sec: Section) -> list[str]:
    lines = [f"{'#' * sec.level} {md_text(sec.title)}", ""]
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


def markdown(title: str, sections: list[Section], decision: DecisionBlock | None = None) -> str:
    """The report as Markdown (GitHub tables; figures as relative links to the PNGs)."""
    lines = [f"# {title}", ""]
    if decision is not None:
        lines += ["## Decision", "", f"Rule: {decision.rule} Full decision: [DECISION.md]({decision.link}).", "",
                  decision.scale, ""]
        for c in decision.classes:
            lines += [f"### {md_text(c.family)}: {md_code(c.choice)} — {md_text(c.verdict)}", "", c.summary, "",
                      *_table_md(c.comparison), "", *[f"- {n}" for n in c.notes], ""]
    for sec in sections:
        lines += _section_md(sec)
    return "\n".join(lines)


def inline(text: str) -> Markup:
    """The report's Markdown ``text`` as HTML: escaped, with its code spans, backslash escapes,
    ``**bold**`` and safe ``[text](link)`` spans rendered (see the module docstring)."""
    done: list[str] = []

    def hole(rendered: str) -> str:
        done.append(rendered)
        return f"\ue000{len(done) - 1}\ue001"

    def span(m: re.Match) -> str:
        if m["esc"] is not None:
            return hole(str(escape(m["esc"])))
        body = m["body"]
        if len(body) > 1 and body.startswith(" ") and body.endswith(" "):
            body = body[1:-1]
        return hole(f"<code>{escape(body)}</code>")

    def fill(part: str) -> str:
        return _HOLE.sub(lambda m: done[int(m[1])], part)

    def link(m: re.Match) -> str:
        url = fill(m[2])
        return f'<a href="{url}">{m[1]}</a>' if safe_link(url) else m[0]

    out = str(escape(_SPAN.sub(span, _CONTROL.sub(" ", str(text)))))
    out = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)
    return Markup(fill(_LINK.sub(link, out)))


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


def page(title: str, sections: list[Section], plots: Path, decision: DecisionBlock | None = None) -> str:
    """The report as one HTML page: the decision block first, a table of contents, then the sections;
    PNGs under ``plots`` are embedded so the file stands alone."""
    return _environment(plots).get_template("report.html.j2").render(title=title, sections=sections,
                                                                      decision=decision)
