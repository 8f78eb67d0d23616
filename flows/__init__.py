"""Prefect flows. Importing this package turns Prefect's telemetry off first."""

import jkn.settings  # noqa: F401  (sets DO_NOT_TRACK and friends before prefect is imported)
