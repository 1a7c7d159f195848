"""The evaluation probe: what the instrument records beyond its sums, only when asked for.

The instrument installs a probe in place of the objective's ``compute``/``compute_batch`` when a
run is traced or its objective lives on a CUDA device; otherwise there is none and the
instrument's hot path is untouched. ``probe(x)`` runs ``compute(x)`` and returns the probe itself,
so the instrument's ``y.item()`` lands in :meth:`EvalProbe.item`.

- Tracing: each evaluation appends (compute start, compute end, value on the host) to a list of
  tuples; each batch, external block and named phase likewise (perf_counter seconds).
- CUDA split: on every ``sample_every``-th call two device events bracket the compute; before the
  copy, ``end.synchronize()`` makes the wait for the device explicit, so that ``.item()`` splits
  into waiting for the queued kernels and copying the value (see docs/timing.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SAMPLE_EVERY = 16  # one call in 16 is bracketed by CUDA events: ~2 µs each, ~0.1 µs per call on average


def host_values(y: Any) -> Any:
    """A batch's values copied to the host as floats (what the instrument's batch path does)."""
    return y.detach().cpu().numpy().astype(float)


@dataclass
class DeviceSplit:
    """Sums over the sampled calls: device span between the events, wait for the device, copy."""

    calls: int = 0
    samples: int = 0
    device_s: float = 0.0
    wait_s: float = 0.0
    copy_s: float = 0.0

    def estimate(self, item_s: float) -> tuple[float, float, float]:
        """(device_s, item_wait_s, item_copy_s) of the whole run: the sampled device time scaled to
        all calls, and ``item_s`` split in the sampled ratio of waiting to copying; NaNs when
        nothing was sampled."""
        if not self.samples:
            return math.nan, math.nan, math.nan
        waited = self.wait_s / (self.wait_s + self.copy_s) if self.wait_s + self.copy_s > 0 else 0.0
        return self.device_s * self.calls / self.samples, item_s * waited, item_s * (1.0 - waited)


class EvalProbe:
    """Wraps an objective's compute functions; see the module docstring."""

    def __init__(self, compute: Callable, compute_batch: Callable, clock: Callable[[], float], *, trace: bool,
                 events: Callable[[], Any] | None = None, sample_every: int = SAMPLE_EVERY):
        self._raw, self._raw_batch, self._clock = compute, compute_batch, clock
        self.trace = trace
        self.evals: list[tuple[float, float, float]] = []
        self.batches: list[tuple[float, float, float, int]] = []
        self.externals: list[tuple[float, float, int]] = []
        self.phases: list[tuple[str, float, float]] = []
        self.waits: list[tuple[float, float]] = []  # sampled calls: (compute end, device done) — traced only
        self.split = DeviceSplit()
        self._events = (events(), events()) if events is not None else None
        self._every = sample_every
        self._y: Any = None
        self._t0 = self._t1 = 0.0
        self._sampled = False

    def _start(self) -> None:
        self._t0 = self._clock()
        calls = self.split.calls
        self.split.calls = calls + 1
        self._sampled = self._events is not None and calls % self._every == 0
        if self._sampled:
            self._events[0].record()  # type: ignore[index]

    def _stop(self) -> None:
        if self._sampled:
            self._events[1].record()  # type: ignore[index]
        self._t1 = self._clock()

    def _wait(self) -> float:
        """On a sampled call: wait for the device and note the split; returns the time it was done."""
        start, end = self._events  # type: ignore[misc]
        end.synchronize()
        done = self._clock()
        self.split.samples += 1
        self.split.device_s += start.elapsed_time(end) / 1e3
        self.split.wait_s += done - self._t1
        if self.trace:
            self.waits.append((self._t1, done))
        return done

    def _copied(self, done: float, t2: float) -> None:
        self._sampled = False
        self.split.copy_s += t2 - done

    def __call__(self, x: Any) -> EvalProbe:
        self._start()
        self._y = self._raw(x)
        self._stop()
        return self

    def item(self) -> float:
        """The pending evaluation's value on the host (the instrument's ``y.item()``)."""
        sampled = self._sampled
        done = self._wait() if sampled else 0.0
        value = self._y.item()
        t2 = self._clock()
        if sampled:
            self._copied(done, t2)
        if self.trace:
            self.evals.append((self._t0, self._t1, t2))
        self._y = None
        return value

    def batch(self, xs: Any) -> Any:
        """``compute_batch(xs)``, timed; its values come to the host through :meth:`host`."""
        self._start()
        y = self._raw_batch(xs)
        self._stop()
        return y

    def host(self, y: Any) -> Any:
        sampled = self._sampled
        done = self._wait() if sampled else 0.0
        values = host_values(y)
        t2 = self._clock()
        if sampled:
            self._copied(done, t2)
        if self.trace:
            self.batches.append((self._t0, self._t1, t2, len(values)))
        return values

    def external(self, t0: float, t1: float, k: int) -> None:
        if self.trace:
            self.externals.append((t0, t1, k))

    def phase(self, name: str, t0: float, t1: float) -> None:
        if self.trace:
            self.phases.append((name, t0, t1))


def cuda_events(objective: Any) -> Callable[[], Any] | None:
    """A factory of timing CUDA events where ``objective`` declares a CUDA device, else None."""
    options = getattr(objective, "options", None) or {}
    if not str(options.get("device", "cpu")).startswith("cuda"):
        return None
    import torch

    return lambda: torch.cuda.Event(enable_timing=True)
