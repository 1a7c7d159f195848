"""The repository stands alone: nothing cites documents outside it, every relative link in the
docs resolves, and CI runs exactly the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCANNED = ["harness", "objectives", "optbench", "benchmarks", "tests", "docs", "examples"]
TOP_FILES = ["README.md", "CONTRIBUTING.md", "CHANGELOG.md", "asv.conf.json", "pyproject.toml"]
OUTSIDE = re.compile(r"SPEC ?§|\.\./shared|\bissue #?\d+\b", re.IGNORECASE)
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _text_files() -> list[Path]:
    roots = [REPO / name for name in SCANNED]
    files = [REPO / name for name in TOP_FILES]
    for root in roots:
        if root.is_symlink():  # optbench/harness -> ../harness: scanned once, as itself
            continue
        files += [p for p in root.rglob("*") if p.suffix in {".py", ".md", ".toml", ".j2", ".txt"}
                  and "build" not in p.parts and not any(part.startswith(".") for part in p.relative_to(REPO).parts)]
    return [f for f in files if f.is_file() and f.resolve() != Path(__file__).resolve()]


def test_nothing_cites_documents_outside_the_repository():
    hits = [f"{f.relative_to(REPO)}:{n}: {line.strip()}" for f in _text_files()
            for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1) if OUTSIDE.search(line)]
    assert hits == []


@pytest.mark.parametrize("page", ["README.md", "CONTRIBUTING.md", *sorted(
    str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md"))])
def test_every_relative_link_resolves(page):
    path = REPO / page
    targets = [t for t in LINK.findall(path.read_text()) if not re.match(r"[a-z]+:", t)]
    missing = [t for t in targets if not (path.parent / t).exists()]
    assert missing == []


def test_ci_runs_the_readmes_test_command_verbatim():
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()[-1]
    commands = [line.split("  #")[0].strip() for line in (REPO / "README.md").read_text().splitlines()
                if line.startswith("python -m pip install")]
    assert ci in commands and len(commands) == 2
