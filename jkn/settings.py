"""Process-wide settings resolved in one place: telemetry off, paths, limits.

The one module that reads or writes the process environment. Import it before Prefect: it sets
the environment variables that keep Prefect and Great Expectations from making outbound calls
(a government data pipeline makes no call it was not asked to). Every ``JKN_*`` setting of a
run is a field of :class:`Settings`, typed and checked, read once per process by
:func:`settings`; the code asks that object, never the environment.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Prefect phones home unless told not to (STACK.md); set before prefect is imported anywhere.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY", "false")
os.environ.setdefault("PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT", "false")
# Great Expectations sends usage statistics unless told not to.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# pandera's polars backend validates only the schema of LazyFrames unless told otherwise.
os.environ.setdefault("PANDERA_VALIDATION_DEPTH", "SCHEMA_AND_DATA")

ENV_PREFIX = "JKN_"


class Settings(BaseSettings):
    """What a run may be told through its environment, ``JKN_<FIELD NAME>`` (for example
    ``JKN_FETCH_TIMEOUT_S=120``). Where data lives and where alerts go are not here: they are
    the flows' parameters, written into each deployment by prefect.yaml."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    fetch_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="seconds a fetch from the landing root waits for the server, to connect "
        "or for the next bytes; a stalled server then fails the fetch (retried) instead of "
        "hanging the run",
    )
    max_inflated_mib: float = Field(
        default=1024,
        gt=0,
        description="MiB an XLSX or Parquet file may inflate to when read (decompression bombs "
        "refused before reading)",
    )
    validate_chunk_rows: int = Field(
        default=250_000, ge=1, description="rows validated at a time (bounds pandera's memory)"
    )
    duckdb_memory_limit: str = Field(
        default="1.5GB", description="DuckDB's memory limit; beyond it DuckDB spills to disk"
    )
    duckdb_threads: int | None = Field(
        default=None, ge=1, description="DuckDB's threads (default: every core)"
    )
    storage_version: str = Field(
        default="v1.0.0",
        description="DuckDB storage version of the published warehouse (1.x BI clients read it)",
    )
    timeline: Path | None = Field(
        default=None, description="benchmark: append each stage's start and end to this file"
    )
    failpoint: str | None = Field(
        default=None, description="crash tests: SIGKILL the process at this named step"
    )
    pausepoint: str | None = Field(
        default=None, description="tests: '<step>=<seconds>' sleeps that long at that step"
    )


def env_name(field: str) -> str:
    """The environment variable of a :class:`Settings` field (for messages)."""
    assert field in Settings.model_fields, field
    return f"{ENV_PREFIX}{field.upper()}"


@cache
def settings() -> Settings:
    """The process's settings, read from the environment once. (A test that changes the
    environment calls ``settings.cache_clear()``.)"""
    return Settings()


def secret(variable: str) -> str | None:
    """A secret a user keeps in the environment under a name they chose (never in argv,
    which other users can read in ``ps``)."""
    return os.environ.get(variable) or None


def set_for_child_processes(variable: str, value: str) -> None:
    """Put a value in the environment the processes this one starts will inherit."""
    os.environ[variable] = value


@contextmanager
def for_child_processes(variable: str, value: str) -> Iterator[None]:
    """Inside: a value in the environment the processes this one starts inherit; the
    variable is as it was afterwards."""
    previous = os.environ.get(variable)
    os.environ[variable] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = previous


def child_environment() -> dict[str, str]:
    """A copy of this process's environment, for a child process started with changes."""
    return dict(os.environ)


def prefect_server() -> str | None:
    """The Prefect API this process talks to (``PREFECT_API_URL``), None when unset (Prefect
    would then start a temporary server of its own)."""
    from prefect.settings import get_current_settings

    return get_current_settings().api.url


def quiet_prefect() -> None:
    """Prefect logs warnings only (a command that prints its own tables)."""
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


SOURCES: tuple[str, ...] = ("dukcapil", "dinsos_pbi", "bpjs_membership")
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
