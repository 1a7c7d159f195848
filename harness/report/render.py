"""One report, two renderings: Markdown (figures linked) and a self-contained HTML page
(figures inlined as PNG data). A report is a list of sections of text, tables and figures."""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


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
    """A titled part of the report; ``items`` are strings (paragraphs), Tables and Figures."""

    title: str
    level: int = 2
    items: list = field(default_factory=list)


def _cells(frame: pd.DataFrame) -> list[list[str]]:
    return [[str(v) for v in row] for row in frame.itertuples(index=False)]


def markdown(title: str, sections: list[Section]) -> str:
    """The report as Markdown (GitHub tables; figures as relative links to the PNGs)."""
    lines = [f"# {title}", ""]
    for sec in sections:
        lines += [f"{'#' * sec.level} {sec.title}", ""]
        for item in sec.items:
            if isinstance(item, Table):
                if item.caption:
                    lines += [f"*{item.caption}*", ""]
                head = [str(c) for c in item.frame.columns]
                lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in _cells(item.frame)]
            elif isinstance(item, Figure):
                lines.append(f"![{item.caption}](plots/{item.stem}.png)  \n*{item.caption}* "
                             f"([SVG](plots/{item.stem}.svg))")
            else:
                lines.append(str(item))
            lines.append("")
    return "\n".join(lines)


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}
table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right;white-space:nowrap}
td:first-child,th:first-child{text-align:left}
th{background:#f0f0f0}img{max-width:100%;border:1px solid #eee}figure{margin:1em 0}
figcaption,.caption{font-size:12px;color:#555}nav ul{list-style:none;padding:0;font-size:13px}"""


def page(title: str, sections: list[Section], plots: Path) -> str:
    """The report as one HTML page with a table of contents (anchors ``#s0``, ``#s1``, …); PNGs under
    ``plots`` are embedded so the file stands alone."""
    esc = html.escape
    out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{esc(title)}</title>"
           f"<style>{_CSS}</style></head><body><h1>{esc(title)}</h1><nav><ul>"]
    out += [f"<li style='margin-left:{sec.level - 2}em'><a href='#s{i}'>{esc(sec.title)}</a></li>"
            for i, sec in enumerate(sections)]
    out.append("</ul></nav>")
    for i, sec in enumerate(sections):
        out.append(f"<h{sec.level} id='s{i}'>{esc(sec.title)}</h{sec.level}>")
        for item in sec.items:
            if isinstance(item, Table):
                out.append(f"<div class='caption'>{esc(item.caption)}</div><table><tr>"
                           + "".join(f"<th>{esc(str(c))}</th>" for c in item.frame.columns) + "</tr>")
                out += ["<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in _cells(item.frame)]
                out.append("</table>")
            elif isinstance(item, Figure):
                data = base64.b64encode((plots / f"{item.stem}.png").read_bytes()).decode()
                out.append(f"<figure><img alt='{esc(item.caption)}' src='data:image/png;base64,{data}'>"
                           f"<figcaption>{esc(item.caption)} (<a href='plots/{item.stem}.svg'>SVG</a>)"
                           f"</figcaption></figure>")
            else:
                out.append(f"<p>{esc(str(item))}</p>")
    out.append("</body></html>")
    return "\n".join(out)
