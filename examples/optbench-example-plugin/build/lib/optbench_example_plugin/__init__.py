"""An optbench plug-in: the ``bollinger_goog`` objective and the ``example.halton`` optimizer,
registered through this distribution's entry points (see pyproject.toml)."""
