"""Plug-ins: objectives and optimizers from outside optbench's source, the same way for both (each
:class:`optbench.registry.Registry` asks this module to load them; imports nothing from optbench
but the errors).

Three ways in, each loaded once per process (matrix workers, sandboxes and Dask workers too):

- **entry points** of installed distributions, groups ``optbench.objectives`` and
  ``optbench.optimizers``: the entry's name is the registered name, its value ``module:attr`` an
  objective factory (a class or function returning an ``Objective``) or an ``OptimizerAdapter``
  subclass; imported on first use of that name;
- **plug-in modules or ``.py`` files** named by ``--plugin`` or ``$OPTBENCH_PLUGINS``
  (comma-separated): imported; they call ``optbench.register_objective`` / ``register_optimizer``;
- **one-offs** ``package.module:factory`` or ``path/file.py:factory`` given wherever an objective
  name is accepted (the name travels with the cell; each worker resolves it itself).

``--plugin`` adds its module to ``$OPTBENCH_PLUGINS`` so that child processes inherit it, and the
matrix sends :func:`specs` with every cell so remote Dask workers load the same plug-ins. What a
plug-in prints while it is imported goes to stderr (:func:`stdout_to_stderr`): stdout is the
command's own output.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from optbench.errors import OptbenchError

ENV = "OPTBENCH_PLUGINS"

_loaded: dict[str, str] = {}  # plug-in spec -> its origin label, in load order
_loading: list[str] = []  # origin labels of the plug-ins being imported (innermost last)


class PluginError(OptbenchError):
    """A plug-in that cannot be found or imported (the CLI turns it into one line, exit code 2)."""


def current_origin(default: str) -> str:
    """Where a registration made now comes from: the plug-in being imported, else ``default``."""
    return _loading[-1] if _loading else default


def specs() -> list[str]:
    """The plug-in modules and files loaded in this process (to send to other processes)."""
    return list(_loaded)


def env_specs() -> list[str]:
    """The plug-ins named in ``$OPTBENCH_PLUGINS``."""
    return [s.strip() for s in os.environ.get(ENV, "").split(",") if s.strip()]


def add(spec: str) -> None:
    """Load the plug-in ``spec`` (module or ``.py`` file) now and name it in ``$OPTBENCH_PLUGINS``
    so child processes load it too (files by absolute path: children may start elsewhere)."""
    spec = _normalized(spec)
    load(spec)
    if spec not in env_specs():
        os.environ[ENV] = ",".join([*env_specs(), spec])


def load_all(extra: Sequence[str] = ()) -> None:
    """Load every plug-in of ``$OPTBENCH_PLUGINS`` and ``extra`` (each once per process)."""
    for spec in [*env_specs(), *extra]:
        load(spec)


def load(spec: str) -> None:
    """Import one plug-in module or ``.py`` file (once per process); its registrations get its origin."""
    spec = _normalized(spec)
    if spec in _loaded:
        return
    is_file = spec.endswith(".py")
    origin = f"plugin file {spec}" if is_file else f"plugin {spec}"
    _loaded[spec] = origin
    try:
        with _origin(origin), stdout_to_stderr():
            _import_file(spec) if is_file else import_module(spec)
    except Exception as exc:
        del _loaded[spec]
        raise PluginError(f"plug-in {spec!r} could not be loaded: {type(exc).__name__}: {exc}") from None


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """Inside the block, whatever is written to stdout goes to stderr: ``print`` (``sys.stdout``) and,
    where stdout is a real file, C code and child processes writing to file descriptor 1."""
    sys.stdout.flush()
    saved = _dup_stdout()
    previous, sys.stdout = sys.stdout, sys.stderr
    try:
        yield
    finally:
        sys.stderr.flush()
        sys.stdout = previous
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def _dup_stdout() -> int | None:
    """A copy of file descriptor 1, which then points at stderr; None where there is none."""
    try:
        saved = os.dup(1)
    except OSError:  # no file descriptor 1 at all
        return None
    os.dup2(2, 1)
    return saved


def resolve_target(target: str) -> Any:
    """The object named by ``module:attr`` or ``path/file.py:attr`` (a one-off objective factory)."""
    where, sep, attr = target.rpartition(":")
    if not sep or not where or not attr:
        raise PluginError(f"{target!r} must look like package.module:factory or path/file.py:factory")
    try:
        with stdout_to_stderr():
            module = _import_file(_normalized(where)) if where.endswith(".py") else import_module(where)
        obj = module
        for part in attr.split("."):
            obj = getattr(obj, part)
    except Exception as exc:
        raise PluginError(f"cannot load {target!r}: {type(exc).__name__}: {exc}") from None
    return obj


def entry_point_targets(group: str) -> list[tuple[str, str, str]]:
    """``(name, module:attr, origin)`` of every installed entry point in ``group``."""
    return [(ep.name, ep.value, f"entry point {_dist(ep)}") for ep in entry_points(group=group)]


def _dist(ep: Any) -> str:
    dist = getattr(ep, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "(unknown distribution)"


def _normalized(spec: str) -> str:
    spec = spec.strip()
    return str(Path(spec).expanduser().resolve()) if spec.endswith(".py") else spec


def _import_file(path: str) -> Any:
    """Import a ``.py`` file under a name derived from its path (stable across processes, so
    objects defined there pickle by reference in forked and Dask workers alike)."""
    name = f"optbench_plugin_{Path(path).stem}_{hashlib.sha1(path.encode()).hexdigest()[:8]}"
    if name in sys.modules:
        return sys.modules[name]
    if not Path(path).is_file():
        raise FileNotFoundError(f"no such file: {path}")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


@contextmanager
def _origin(label: str) -> Iterator[None]:
    _loading.append(label)
    try:
        yield
    finally:
        _loading.pop()
