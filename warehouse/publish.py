"""Publishing a period's marts so that BI readers are never blocked and never see half of it.

DuckDB lets no process open a file another process holds for writing (STACK.md), and BI tools
hold the warehouse open for as long as a dashboard is up. So the warehouse is never written in
place: each publish builds the *next* warehouse file beside it — every mart of every period
copied from the current file (read-only, which readers allow), the period's slice replaced —
then renames it over the current one. A rename within a folder is atomic: a reader that opens
the warehouse gets the old file or the new one, whole; a reader that already has it open keeps
reading the old one (its inode lives until closed) and sees the new period when it reconnects.
A crash at any point leaves the current file untouched; the half-built next file is thrown away
by the next publish.

The file is written in a storage format DuckDB 1.x clients read (many BI drivers still embed
DuckDB 1.x): the caller says which (:func:`jkn.databases.publish_marts` passes
``JKN_STORAGE_VERSION``, default ``v1.0.0``).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl

from warehouse import apply_layer, document_marts, duckdb_config


def next_path(warehouse: Path) -> Path:
    """Where the next warehouse is built: the same folder (a rename must not cross disks)."""
    return warehouse.with_name(f".{warehouse.name}.next")


def publish_period(
    warehouse: Path,
    period: dt.date,
    marts: dict[str, pl.DataFrame],
    *,
    storage_version: str,
    memory_limit: str | None = None,
    threads: int | None = None,
    checkpoint: Callable[[str], None] | None = None,
    layer: str = "marts",
    also_replaces: dict[str, list[dt.date]] | None = None,
) -> None:
    """Replace ``period`` in every mart (``marts``: table name → the period's rows) by
    building the next warehouse file and renaming it over the current one.

    ``storage_version``: the DuckDB storage version the file is written in; ``memory_limit``,
    ``threads``: as for :func:`warehouse.duckdb_config`; ``checkpoint``: called with a step's
    name (``before_swap``) where a crash test may stop the process; ``layer``: the DDL
    folder the file's tables come from (``national``: the national marts file's, also in
    schema ``marts``); ``also_replaces``: mart → further periods whose slice its rows replace
    (the movements of the month after ``period``, recomputed with it)."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    target = next_path(warehouse)
    for stale in (target, target.with_name(target.name + ".wal")):
        stale.unlink(missing_ok=True)
    config = duckdb_config(warehouse, memory_limit=memory_limit, threads=threads)
    Path(str(config["temp_directory"])).mkdir(exist_ok=True)
    con = duckdb.connect(config=config)
    try:
        con.execute(f"attach '{target}' as nxt (storage_version '{storage_version}')")
        con.execute("use nxt")
        apply_layer(con, layer)
        document_marts(con, "nxt")
        if warehouse.exists():
            con.execute(f"attach '{warehouse}' as cur (read_only)")
            replaced = {name: [period, *(also_replaces or {}).get(name, [])] for name in marts}
            _copy_current(con, replaced)
            con.execute("detach cur")
        for name, frame in marts.items():
            con.register("_incoming", frame)
            try:
                con.execute(f"insert into nxt.marts.{name} by name select * from _incoming")
            finally:
                con.unregister("_incoming")
        con.execute("use memory")
        con.execute("detach nxt")  # checkpoints: the file is complete, no WAL beside it
    finally:
        con.close()
    _fsync(target)
    if checkpoint is not None:
        checkpoint("before_swap")
    target.replace(warehouse)  # atomic within a folder
    _fsync(warehouse.parent)


def _copy_current(con: duckdb.DuckDBPyConnection, replaced: dict[str, list[dt.date]]) -> None:
    """Every table of the current warehouse into the next one, less the replaced periods
    (``replaced``: table → its periods replaced)."""
    tables = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = 'cur' and table_type = 'BASE TABLE'"
    ).fetchall()
    for schema, table in tables:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_catalog = 'nxt' and table_schema = $s and table_name = $t",
            {"s": schema, "t": table},
        ).fetchall()[0][0]
        source = f"cur.{schema}.{table}"
        periods = replaced.get(table, []) if schema == "marts" else []
        where = " where not list_contains($periods, period)" if periods else ""
        params = {"periods": periods} if where else {}
        if exists:
            con.execute(
                f"insert into nxt.{schema}.{table} by name select * from {source}{where}", params
            )
        else:
            con.execute(f"create schema if not exists nxt.{schema}")
            con.execute(
                f"create table nxt.{schema}.{table} as select * from {source}{where}", params
            )


def _fsync(path: Path) -> None:
    """Flush a file's (or a folder's entries') bytes to disk before relying on them."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
