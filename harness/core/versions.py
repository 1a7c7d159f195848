"""Library versions, machine and git commit, recorded with every result."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path

LIBRARIES = ("numpy", "scipy", "torch", "pandas", "nevergrad", "optuna", "botorch", "evotorch", "ioh",
              "coco-experiment", "optbench")


@lru_cache(maxsize=1)
def git_commit() -> str:
    """The checkout's commit (with ``+dirty`` when uncommitted changes exist), or ``unknown``."""
    root = Path(__file__).resolve().parents[2]  # the checkout: harness/core/ -> repo
    try:
        head = subprocess.run(["git", "rev-parse", "--verify", "-q", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=5)
        sha = head.stdout.strip() if head.returncode == 0 else ""
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (sha + ("+dirty" if dirty else "")) if sha else "unknown"


@lru_cache(maxsize=1)
def versions() -> dict[str, str]:
    """python, key libraries, machine description and git commit, as strings."""
    out = {"python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = "missing"
    out["machine"] = f"{platform.node()} {platform.machine()} {os.cpu_count()} cpus"
    out["platform"] = platform.platform()
    out["processor"] = platform.processor() or platform.machine()
    out["git_commit"] = git_commit()
    out["executable"] = sys.executable
    return out
