"""How a run writes to a store it cannot write for a while (another process holds a write
transaction, the disk is full): each attempt waits SQLite's busy timeout, then the write is tried
again after a delay that doubles, a bounded number of times; after that the store is unavailable."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from optbench.harness.core.errors import HarnessError
from optbench.harness.store import BUSY_TIMEOUT_S

T = TypeVar("T")


@dataclass(frozen=True)
class Patience:
    """``retries`` more attempts after the first, ``first_delay_s`` apart and doubling; each attempt
    waits up to ``busy_timeout_s`` for another process's transaction. The defaults give up after about
    3.5 minutes."""

    busy_timeout_s: float = BUSY_TIMEOUT_S
    retries: int = 5
    first_delay_s: float = 1.0
    sleep: Callable[[float], None] = time.sleep

    def delays(self) -> list[float]:
        return [self.first_delay_s * 2**i for i in range(self.retries)]


PATIENCE = Patience()  # what runs use


class StoreUnavailable(HarnessError):
    """The store could not be written, after every retry."""


def patiently(write: Callable[[], T], what: str, path: Path, patience: Patience,
              note: Callable[[str], None]) -> T:
    """``write()``, tried again with backoff while SQLite reports the store locked, busy or full
    (``note`` says so each time); raises ``StoreUnavailable`` when the retries are spent, or at once
    for any other SQLite error."""
    delays = patience.delays()
    for attempt, delay in enumerate([*delays, None]):
        try:
            return write()
        except sqlite3.OperationalError as exc:
            if delay is None:
                raise StoreUnavailable(f"store {path}: could not {what} in {attempt + 1} tries ({exc})") from None
            note(f"store {path}: could not {what} ({exc}); trying again in {delay:g} s ({attempt + 1}/{len(delays)})")
            patience.sleep(delay)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"store {path}: could not {what} ({type(exc).__name__}: {exc})") from None
    raise AssertionError("unreachable")  # pragma: no cover  (the last attempt returns or raises)
