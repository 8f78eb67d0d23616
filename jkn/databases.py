"""The one way to open each DuckDB file, named after what it is.

A warehouse is two files (ARCHITECTURE.md): the **marts** file BI tools read (the path a user
gives as ``warehouse``: counts and rates only) and the **restricted** file beside it
(``staging``, ``audit``, ``intermediate``, ``lists``: personal data, owner-only). Besides them
the pipeline opens in-memory **scratch** databases that spill to a folder of their own.

Each opener computes its file's path (:func:`jkn.settings.restricted_path`) and DuckDB's memory
limit and threads (:func:`jkn.settings.settings`) and calls :mod:`warehouse`, which does the
opening and is told everything it needs. Nothing else in the pipeline opens these files.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

import warehouse.build
import warehouse.publish
from jkn.faults import failpoint
from jkn.reference import regions
from jkn.settings import restricted_path, settings
from warehouse import RESTRICTED_LAYERS, DuckDBConfig, connect


def duckdb_config(path: Path) -> DuckDBConfig:
    """DuckDB's configuration under the settings' memory limit and threads, spilling to a
    folder beside ``path`` (``<stem>.tmp``)."""
    return warehouse.duckdb_config(
        path, memory_limit=settings().duckdb_memory_limit, threads=settings().duckdb_threads
    )


@contextmanager
def open_restricted(marts_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """The restricted file beside the marts file ``marts_file``, read-write, created
    owner-only if needed, with every restricted layer's tables."""
    with connect(
        restricted_path(marts_file),
        RESTRICTED_LAYERS,
        private=True,
        memory_limit=settings().duckdb_memory_limit,
        threads=settings().duckdb_threads,
    ) as con:
        yield con


def open_restricted_read_only(marts_file: Path) -> duckdb.DuckDBPyConnection:
    """The restricted file beside the marts file, read-only (it must exist; raises
    ``duckdb.IOException`` while a refresh is writing it), bounded and spilling like the
    read-write connection."""
    path = restricted_path(marts_file)
    return duckdb.connect(str(path), read_only=True, config=duckdb_config(path))


def open_marts_read_only(marts_file: Path) -> duckdb.DuckDBPyConnection | None:
    """The published marts file, read-only, as BI tools open it (None when nothing is
    published yet): how the pipeline reads published marts without ever blocking a reader."""
    if not marts_file.exists():
        return None
    con = duckdb.connect(str(marts_file), read_only=True)
    warehouse.define_report_macros(con)  # the report queries' (sql/reports/macros)
    return con


def open_scratch(spill_beside: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory database, bounded and spilling like the files' own connections, to a
    folder beside ``spill_beside`` (``<stem>.tmp``)."""
    return duckdb.connect(config=duckdb_config(spill_beside))


def load_reference(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)load the reference tables into an open restricted file: Kemendagri regions
    (:func:`jkn.reference.regions`) and the rules kept as data."""
    warehouse.build.load_reference(con, regions())


def publish_marts(
    marts_file: Path,
    period: dt.date,
    marts: dict[str, pl.DataFrame],
    layer: str = "marts",
    also_replaces: dict[str, list[dt.date]] | None = None,
) -> None:
    """Replace ``period`` in every mart of the marts file (:mod:`warehouse.publish`: the next
    file is built beside it and renamed over it), in the settings' storage version; a crash
    test may stop the process before the swap (failpoint ``before_swap``). ``layer``: the DDL
    of the file's tables, ``national`` for the national marts file (``jkn.national``);
    ``also_replaces``: further periods whose slice a mart's rows replace in the same file."""
    warehouse.publish.publish_period(
        marts_file,
        period,
        marts,
        also_replaces=also_replaces,
        storage_version=settings().storage_version,
        memory_limit=settings().duckdb_memory_limit,
        threads=settings().duckdb_threads,
        checkpoint=failpoint,
        layer=layer,
    )
