"""Building a cell's objective once where the cell runs, and its reference from that same build.

A factory may take long (data, tensors, a plug-in's cache): a cell builds its objective once, and
the reference value comes from that build (:func:`reference_value` with ``objective``), not from a
second one. The matrix builds each objective configuration once in its own process to check the
options before anything runs (:func:`prebuild`); the workers are forked from that process after, so
the first cell of that configuration in each worker's sandbox takes that build instead of making
its own (:func:`build`) — unless the construction drew from the global random generators: a cell
builds after they are seeded with its seed, and a build made before would differ. A build is taken
by one cell only (a later cell gets a fresh one: values never depend on what ran before in a
process). Construction time is never run time: it is the record's ``construction_s``.
"""

from __future__ import annotations

import json
import pickle
import random
import time
from typing import Any

import numpy as np
import torch

from optbench import objectives

PREBUILT_MAX = 64  # builds kept for the workers; configurations past this many are built by their cells

_prebuilt: dict[str, tuple[objectives.Objective, float]] = {}  # key -> (pristine build, its seconds)
_references: dict[str, float | None] = {}


def _key(name: str, options: dict[str, Any]) -> str:
    return json.dumps([name, options], sort_keys=True, default=str)


def build(name: str, options: dict[str, Any]) -> tuple[objectives.Objective, float]:
    """Objective ``name`` with ``options`` and the seconds its construction took: the pristine build
    :func:`prebuild` left in this process (or the one it was forked from), taken once, else a new one."""
    taken = _prebuilt.pop(_key(name, options), None)
    if taken is not None:
        return taken
    t0 = time.perf_counter()
    objective = objectives.get(name, **options)
    return objective, time.perf_counter() - t0


def prebuild(name: str, options: dict[str, Any]) -> objectives.Objective:
    """Build ``name`` here (to check its options) and keep the build for :func:`build` under its full
    options, when its construction left the global random generators as they were."""
    before = _global_rng_state()
    objective, seconds = build(name, options)
    if _global_rng_state() == before and len(_prebuilt) < PREBUILT_MAX:
        _prebuilt[_key(name, objective.options)] = (objective, seconds)
    return objective


def _global_rng_state() -> bytes:
    """What a construction drawing from Python's, numpy's or torch's global generator would change."""
    return pickle.dumps((random.getstate(), np.random.get_state(), torch.get_rng_state().numpy()))


def reference_value(name: str, options: dict[str, Any], objective: objectives.Objective | None = None) -> float | None:
    """The objective's reference value, computed once per process per (name, options): from
    ``objective`` (that configuration, already built) when given, else from a build of its own.
    None when it cannot be computed (quality is then unknown; the run has not failed)."""
    key = _key(name, options)
    if key not in _references:
        try:
            reference = (objective if objective is not None else objectives.get(name, **options)).reference()
        except Exception:
            return None
        _references[key] = None if reference is None else reference.value
    return _references[key]
