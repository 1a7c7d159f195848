"""One module per ``optbench`` verb; see ``harness.cli.COMMANDS``."""
