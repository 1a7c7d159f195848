"""The core: errors, budget, instrument, record and runner (one instrumented run)."""
