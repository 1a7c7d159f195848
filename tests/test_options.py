"""One coercion rule for options, objectives' and optimizers' alike: what each default's type accepts
and refuses, the same through both registries and through the console script."""

from __future__ import annotations

import pytest

from optbench import objectives
from optbench.harness import optimizers
from optbench.harness.core.errors import HarnessError
from optbench.options import coerce

from .harness.test_cli_usage import run_script


@pytest.mark.parametrize("value, default, expected", [
    ("3", 1, 3), ("3.0", 1, 3), (3.0, 1, 3), ("1e3", 1, 1000), (" 7 ", 1, 7), (12, 1, 12),
    ("12345678901234567890", 1, 12345678901234567890),  # exact: not through a float
    ("0.5", 1.0, 0.5), (2, 1.0, 2.0), ("inf", 1.0, float("inf")),
    ("yes", False, True), ("OFF", True, False), ("1", False, True), (0, True, False), (True, False, True),
    ("goog", "ar200", "goog"), (3, "ar200", "3"),
    ("10", None, 10), ("0.25", None, 0.25), ("cuda", None, "cuda"), (7.5, None, 7.5),
    ("0.7", (0.5, 1.0), 0.7), ("0.4,0.9", (0.5, 1.0), (0.4, 0.9)), ([0.1, 0.2], (0.5, 1.0), (0.1, 0.2)),
])
def test_accepted_values_become_the_defaults_type(value, default, expected):
    got = coerce(value, default)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize("value, default", [
    ("3.5", 1), (3.5, 1), (True, 1), ("nan", 1), ("inf", 1), ("many", 1), (None, 1),
    ("x", 1.0), (False, 1.0), ("maybe", False), (2, False), (None, "a"), ("a,b", (0.5, 1.0)),
])
def test_refused_values_raise_value_error(value, default):
    with pytest.raises(ValueError):
        coerce(value, default)


def test_objectives_and_optimizers_follow_the_same_rule():
    assert objectives.get("sphere", dim="3.0").space.dim == 3
    assert optimizers.make("random", batch_size="32.0").options["batch_size"] == 32
    with pytest.raises(objectives.ObjectiveError, match=r"option dim='3.5' of objective 'sphere' must be int"):
        objectives.get("sphere", dim="3.5")
    with pytest.raises(HarnessError, match=r"option batch_size='3.5' of optimizer 'random' must be int"):
        optimizers.make("random", batch_size="3.5")
    with pytest.raises(HarnessError, match=r"option batch_size=3.5 of optimizer 'random' must be int"):
        optimizers.make("random", batch_size=3.5)  # a Python float too: not handed to the library as is


@pytest.mark.parametrize("args, words", [
    (["--optimizer", "random", "--option", "dim=3.5"], "option dim=3.5 of objective 'sphere' must be int (default 2)"),
    (["--optimizer", "random", "--opt", "batch_size=3.5"],
     "option batch_size=3.5 of optimizer 'random' must be int (default 64)"),
])
def test_a_non_integral_int_option_is_one_error_line_through_the_console_script(tmp_path, args, words):
    done = run_script(["run", "--objective", "sphere", "--budget", "5", "--store", str(tmp_path / "s.sqlite"),
                       *args], tmp_path)
    assert done.returncode == 2 and done.stderr.startswith("error: ") and words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "s.sqlite").exists()
