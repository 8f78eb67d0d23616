"""Process-wide settings resolved in one place: telemetry off, paths, limits.

Import this module before Prefect: it sets the environment variables that keep Prefect from
making outbound calls (a government data pipeline makes no call it was not asked to).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# Prefect phones home unless told not to (STACK.md); set before prefect is imported anywhere.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY", "false")
os.environ.setdefault("PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT", "false")
# pandera's polars backend validates only the schema of LazyFrames unless told otherwise.
os.environ.setdefault("PANDERA_VALIDATION_DEPTH", "SCHEMA_AND_DATA")

SOURCES: tuple[str, ...] = ("dukcapil", "dinsos_pbi", "bpjs_membership")
# A period is a month written YYYY-MM in ASCII digits (``\d`` would take Arabic-Indic ones too)
PERIOD_PATTERN = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
EXTENSIONS: tuple[str, ...] = ("csv", "xlsx", "parquet")

DEFAULT_WAREHOUSE = Path("data/jkn.duckdb")
DEFAULT_LANDING = Path("data/landing")


def restricted_path(warehouse: Path) -> Path:
    """The restricted DuckDB file beside the warehouse: staging, quarantine and officers' lists.

    It holds personal data and is created owner-only; BI users never open it.
    """
    return warehouse.with_name(f"{warehouse.stem}.restricted.duckdb")


def store_path(warehouse: Path) -> Path:
    """The landing store beside the warehouse: the exact bytes received for every period."""
    return warehouse.with_name(f"{warehouse.stem}.landing-store")
