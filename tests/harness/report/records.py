"""Hand-made run records with known answers, shared by the report tests."""

from __future__ import annotations

from optbench.harness.core.record import RunRecord
from optbench.harness.core.runner import declared

VERSIONS = {"git_commit": "abc123", "machine": "test-box 2 cpus", "platform": "Linux", "python": "3.11.7",
            "numpy": "2.4.6", "scipy": "1.17.1"}


def rec(optimizer: str, seed: int, value: float | None, wall_s: float = 1.0, *, objective: str = "maxdiff",
        options: dict | None = None, reference: float = -1.0, budget: int = 100, status: str = "ok",
        trace: list | None = None, n_evals: int = 100, optimizer_options: dict | None = None,
        knowledge: str | None = None, warm_wall_s: float = float("nan")) -> RunRecord:
    """One record; by default a MaxDiff-like objective with reference −1 (profit ratio = −value). The
    objective's class, gain and knowledge are what the registered objective declares, as the runner
    records them (``knowledge`` overrides; "none" drops the reference)."""
    traits = declared(objective)
    knowledge = knowledge or traits.get("knowledge", "optimum")
    if trace is None and value is not None:
        trace = [(1, wall_s / 10, value + 0.5), (n_evals // 2, wall_s / 2, value)]
    return RunRecord(objective=objective, options=dict(options or {}), optimizer=optimizer,
                     optimizer_options=dict(optimizer_options or {}), budget={"max_evals": budget, "max_seconds": None},
                     seed=seed, status=status, message="" if status == "ok" else "boom", value=value,
                     n_evals=n_evals if value is not None else 0, wall_s=wall_s, compute_s=0.4 * wall_s,
                     item_s=0.1 * wall_s, overhead_s=0.5 * wall_s, versions=dict(VERSIONS), trace=trace or [],
                     reference_value=None if knowledge == "none" else reference,
                     family=traits.get("family", objective),
                     gain=traits.get("gain", False), knowledge=knowledge, warm_wall_s=warm_wall_s,
                     option_defaults=traits.get("option_defaults"))


def class_records(qualities: dict[str, list[float]], walls: dict[str, list[float]],
                  objectives_options: tuple[dict, ...] = ({}, {"data": "goog"})) -> list[RunRecord]:
    """The same per-seed quality and wall time on each MaxDiff objective given (reference −1)."""
    return [rec(opt, seed, -q, walls[opt][seed], options=o)
            for opt, qs in qualities.items() for seed, q in enumerate(qs) for o in objectives_options]


def instance_records(qualities: dict[str, list[float]], walls: dict[str, list[float]], seeds: int = 1,
                     noise: float = 0.0) -> list[RunRecord]:
    """Per-instance profit ratio and wall time on MaxDiff windows 0, 1, … (one instance per list
    entry), each run at ``seeds`` seeds (seed s adds ``noise``·s to the ratio, alternating in sign)."""
    return [rec(opt, seed, -(q + noise * seed * (-1) ** seed), walls[opt][i], options={"data": "goog", "window": i})
            for opt, qs in qualities.items() for i, q in enumerate(qs) for seed in range(seeds)]
