"""Shared test settings: slow tests run only with OPTBENCH_SLOW=1; torch kept to one thread."""

import os

import pytest
import torch

torch.set_num_threads(1)


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: long-running; run with OPTBENCH_SLOW=1")


def pytest_collection_modifyitems(config, items):
    if os.environ.get("OPTBENCH_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set OPTBENCH_SLOW=1 to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
