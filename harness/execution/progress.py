"""The matrix's live progress bar (done/total, failures, elapsed, ETA) and its one-line summaries."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from optbench.harness.core.record import STATUSES, RunRecord


class MatrixProgress:
    """A rich bar on stderr (none when ``quiet``); the summary lines are printed either way."""

    def __init__(self, total: int, *, skipped: int = 0, quiet: bool = False, store: Path | None = None):
        self.total, self.skipped, self.store = total, skipped, store
        self.console = Console(stderr=True)
        self.statuses: Counter[str] = Counter()
        self.by_others = 0  # cells a concurrent run on the same store ran
        self.t0 = time.perf_counter()
        self.bar = Progress(TextColumn("cells"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("[red]{task.fields[failed]} failed"), TextColumn("elapsed"),
                            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                            console=self.console, disable=quiet, transient=False)
        self.task = self.bar.add_task("cells", total=total, failed=0)

    def __enter__(self) -> MatrixProgress:
        self.t0 = time.perf_counter()
        self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def advance(self, record: RunRecord, ran: bool = True) -> None:
        """One cell finished here (``ran``), or was found stored by another run on the same store."""
        if ran:
            self.statuses[record.status] += 1
        else:
            self.by_others += 1
        self.bar.update(self.task, advance=1, failed=self.failed)

    @property
    def ran(self) -> int:
        return sum(self.statuses.values())

    @property
    def failed(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != "ok")

    def counts(self) -> dict[str, int]:
        """Cells per status, plus ``skipped`` and ``to_run`` (stored with the run)."""
        return {**{s: self.statuses[s] for s in STATUSES if self.statuses[s]}, "skipped": self.skipped,
                "by_other_runs": self.by_others, "to_run": self.total}

    def note(self, line: str) -> None:
        """One line above the bar (it stays in the log)."""
        self.console.print(line, style="dim", highlight=False, soft_wrap=True)

    def report_done(self) -> None:
        statuses = ", ".join(f"{n} {s}" for s, n in self.statuses.items()) or "nothing to run"
        where = f"; store {self.store}" if self.store else ""
        others = f"; {self.by_others} run by another run on the same store" if self.by_others else ""
        self.console.print(f"matrix: {self.total + self.skipped} cells — {statuses}; {self.skipped} skipped "
                           f"(already ok in the store){others}; {time.perf_counter() - self.t0:.1f} s{where}",
                           highlight=False, soft_wrap=True)

    def report_interrupted(self) -> None:
        done = self.ran + self.by_others
        kept = "finished and stored" if self.store else "finished"
        self.console.print(f"stopped: {done} of {self.total} cells {kept}, the running ones dropped; run the "
                           f"same command again to finish the other {self.total - done}",
                           style="yellow", highlight=False, soft_wrap=True)
