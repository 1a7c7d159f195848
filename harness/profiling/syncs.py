"""Synchronizations per evaluation, counted on a few evaluations outside the measured run.

Each evaluation is made the way the instrument makes it (``compute(x).item()``) under a
``TorchFunctionMode`` that counts every host transfer a tensor makes (``.item()``, ``.tolist()``,
``.cpu()``, ``.numpy()``, ``float()``/``int()``/``bool()`` of a tensor, ``.to("cpu")``): on a GPU
each is a device synchronization, on the CPU it is the call that would be one. On CUDA,
``torch.cuda.set_sync_debug_mode("warn")`` also counts the synchronizations torch makes inside an
op (a boolean mask, ``nonzero``), and the larger of the two counts is kept. One is the minimum (the
value itself); more means the objective waits for the device inside its own math.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

HOST_TRANSFERS = frozenset({"item", "tolist", "cpu", "numpy", "__float__", "__int__", "__bool__", "__index__"})
SYNC_EVALS = 20


class HostTransferCounter(TorchFunctionMode):
    """Counts tensor calls that bring data to the host, by name."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, int] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name in HOST_TRANSFERS or (name == "to" and _to_host(args, kwargs)):
            self.calls[name] = self.calls.get(name, 0) + 1
        return func(*args, **kwargs)


def _to_host(args: tuple, kwargs: dict) -> bool:
    target = kwargs.get("device", args[1] if len(args) > 1 else None)
    return isinstance(target, (str, torch.device)) and str(target).startswith("cpu")


@dataclass(frozen=True)
class SyncCount:
    """Synchronizations over ``evals`` evaluations: host transfers by call name, and the CUDA
    synchronizations torch reported (0 on the CPU)."""

    evals: int
    host_transfers: dict[str, int]
    cuda_syncs: int = 0

    @property
    def per_eval(self) -> float:
        return max(sum(self.host_transfers.values()), self.cuda_syncs) / max(self.evals, 1)

    def warning(self) -> str:
        """A one-line flag where the objective syncs more than once per evaluation, else ""."""
        if self.per_eval <= 1.0:
            return ""
        calls = ", ".join(f"{name} ×{n / self.evals:g}" for name, n in sorted(self.host_transfers.items()))
        return (f"the objective synchronizes {self.per_eval:g}× per evaluation (one is its value): {calls}; "
                "each extra one waits for the device inside the objective's math")

    def to_dict(self) -> dict:
        return {"evals": self.evals, "host_transfers": self.host_transfers, "cuda_syncs": self.cuda_syncs,
                "per_eval": self.per_eval}


def count_syncs(objective, evals: int = SYNC_EVALS, seed: int = 0) -> SyncCount:
    """Evaluate ``objective`` at ``evals`` seeded points of its space and count the syncs."""
    lower, upper = objective.space.relaxed_bounds()
    points = [objective.space.snap(x) for x in np.random.default_rng(seed).uniform(lower, upper, (evals, len(lower)))]
    cuda = torch.cuda.is_available() and str(objective.options.get("device", "cpu")).startswith("cuda")
    counter = HostTransferCounter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if cuda:
            torch.cuda.synchronize()
            torch.cuda.set_sync_debug_mode("warn")
        try:
            with counter:
                for x in points:
                    objective.compute(x).item()
        finally:
            if cuda:
                torch.cuda.set_sync_debug_mode("default")
    cuda_syncs = sum("synchroniz" in str(w.message) for w in caught) if cuda else 0
    return SyncCount(evals, dict(counter.calls), cuda_syncs)
