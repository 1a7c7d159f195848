"""The one registry type, for objectives and for optimizers: a name → target table that knows where
each name comes from and loads plug-ins (see :mod:`optbench.plugins`) the same way for both.

A target is registered as an object or as a ``module:attr`` string imported on first use. A name is
registered once: registering a taken name again raises (naming both origins) unless
``replace=True`` — so two plug-ins, or a plug-in and a builtin, never silently shadow each other.
Imports nothing from optbench but the errors and the plug-in loader.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from optbench import plugins

T = TypeVar("T")

#: Where a name registered by the running program (not while a plug-in loads) comes from.
RUN_TIME = "run time"


@dataclass(frozen=True)
class Entry:
    """A registered name's target (an object, or ``module:attr`` not imported yet) and its origin:
    "builtin", "entry point DIST VERSION", "plugin MODULE", "plugin file PATH", "one-off" or "run time"."""

    target: Any
    origin: str


class Registry(Generic[T]):
    """Names of one kind (``kind``: "objective" or "optimizer") → targets checked by ``accept``.

    ``accept(name, obj)`` returns the object to keep (e.g. a factory for an instance) or raises
    ``error``; ``group`` is the entry-point group whose installed entries are registered on first use;
    ``one_off`` describes the ``module:attr`` names accepted without registration (e.g.
    "package.module:factory")."""

    def __init__(self, kind: str, group: str, error: type[Exception], accept: Callable[[str, Any], T],
                 one_off: str):
        self.kind, self.group, self.error, self.accept, self.one_off = kind, group, error, accept, one_off
        self.entries: dict[str, Entry] = {}
        self._entry_points_done = False
        self._clashes: list[str] = []  # installed entry points refused for a taken name (raised on every load)

    def register(self, name: str, target: object, *, origin: str | None = None, replace: bool = False) -> None:
        """Register ``target`` (the object or its ``module:attr``) as ``name``; ``origin`` defaults to
        the plug-in being loaded, else "run time". A taken name raises ``error`` unless ``replace``."""
        if not name or not isinstance(name, str):
            raise self.error(f"an {self.kind} name must be a non-empty string, got {name!r}")
        origin = origin or plugins.current_origin(RUN_TIME)
        refused = None if replace else self._refusal(name, origin)
        if refused:
            raise self.error(f"{refused}: choose another name, or pass replace=True to replace it")
        self.entries[name] = Entry(target if isinstance(target, str) else self.accept(name, target), origin)

    def __contains__(self, name: object) -> bool:
        """Whether ``name`` is registered now (loads nothing)."""
        return name in self.entries

    def names(self) -> list[str]:
        """Registered names, plug-ins included, in registration order."""
        self.load()
        return list(self.entries)

    def origin(self, name: str) -> str:
        """Where ``name`` comes from (see :class:`Entry`)."""
        self.load()
        return self._entry(name).origin

    def get(self, name: str) -> T:
        """The target registered as ``name`` (imported on first use); a ``module:attr`` name not
        registered is registered as a one-off; an unknown name raises ``error`` listing the known."""
        entry = self._entry(name)
        if isinstance(entry.target, str):
            try:
                obj = plugins.resolve_target(entry.target)
            except plugins.PluginError as exc:
                raise self.error(f"{self.kind} {name!r} ({entry.origin}): {exc}") from None
            entry = Entry(self.accept(name, obj), entry.origin)
            self.entries[name] = entry
        return entry.target

    def load(self) -> None:
        """Load the plug-ins of ``$OPTBENCH_PLUGINS`` and (once) the installed entry points of ``group``;
        an entry point whose name is taken raises ``error`` naming both origins."""
        plugins.load_all()
        if not self._entry_points_done:
            self._entry_points_done = True  # first: a plug-in that lists this registry must not recurse here
            for name, target, origin in plugins.entry_point_targets(self.group):
                refused = self._refusal(name, origin)
                if refused:
                    self._clashes.append(refused)
                else:
                    self.register(name, target, origin=origin)
        if self._clashes:
            raise self.error(f"{'; '.join(self._clashes)}: uninstall one of them or rename its entry point")

    def _refusal(self, name: str, origin: str) -> str | None:
        taken = self.entries.get(name)
        return None if taken is None else (f"{self.kind} name {name!r} is taken ({taken.origin}); "
                                           f"{origin} cannot register it again")

    def _entry(self, name: str) -> Entry:
        self.load()
        if name not in self.entries and ":" in name:
            self.register(name, plugins.resolve_target(name), origin="one-off")
        if name not in self.entries:
            raise self.error(f"unknown {self.kind} {name!r}; registered: {', '.join(self.entries)} "
                             f"(or give {self.one_off})")
        return self.entries[name]
