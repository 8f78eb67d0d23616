"""The DuckDB side: SQL files by layer, connections, and period-replacing loads.

Two files: the warehouse BI opens (``marts``: counts and rates only) and the restricted file
beside it (``staging``, ``audit``: personal data, owner-only). SQL lives in ``sql/<layer>/``,
each file with a header naming the table, its grain and its columns.

This package imports nothing of ours (ARCHITECTURE.md; ``lint-imports`` checks it): what it
needs to know — which file, DuckDB's memory limit and threads — it is told by its caller,
:mod:`jkn.databases`, which is the one way the pipeline opens each file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

SQL_DIR = Path(__file__).parent / "sql"
RULES_DIR = Path(__file__).parent / "rules"
RESTRICTED_LAYERS = ("staging", "audit", "intermediate", "lists")


def ddl_files(layer: str) -> list[Path]:
    """The layer's table definitions (``sql/ddl/<layer>/*.sql``) in the order they run."""
    return sorted((SQL_DIR / "ddl" / layer).glob("*.sql"))


def model_files(layer: str) -> list[Path]:
    """The layer's models (``sql/models/<layer>/*.sql``) in the order they run."""
    return sorted((SQL_DIR / "models" / layer).glob("*.sql"))


def model_sql(layer: str, name: str) -> str:
    """The text of one model, ``sql/models/<layer>/<name>.sql``."""
    return (SQL_DIR / "models" / layer / f"{name}.sql").read_text(encoding="utf-8")


def execute(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]) -> None:
    """Run a model, binding only the ``$name`` parameters it uses (DuckDB refuses extras)."""
    con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})


def report_sql(name: str, categories: Mapping[str, Sequence[str]]) -> str:
    """The text of one report query, ``sql/reports/<name>.sql`` (reads published marts).

    A comment ``/* categories of rules/<file>.csv */`` in it is replaced by ``categories[<file>]``
    quoted, in order (the caller reads the rules, ``jkn.rules``): a ``pivot … in (…)`` must name
    its columns, and DuckDB refuses parameters in a pivot whose columns come from a subquery.
    """
    sql = (SQL_DIR / "reports" / f"{name}.sql").read_text(encoding="utf-8")

    def quoted(found: re.Match[str]) -> str:
        values = categories[found.group(1)]
        return ", ".join("'{}'".format(value.replace("'", "''")) for value in values)

    return _RULE_CATEGORIES.sub(quoted, sql)


_RULE_CATEGORIES = re.compile(r"/\* categories of rules/(\w+)\.csv \*/")


def define_report_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define the report queries' temp macros (``sql/reports/macros/*.sql``) on a connection
    to the published marts (read-only is fine: temp macros live in the connection)."""
    for path in sorted((SQL_DIR / "reports" / "macros").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))


def check_sql(name: str) -> str:
    """The text of one data-quality query, ``sql/checks/<name>.sql``."""
    return (SQL_DIR / "checks" / f"{name}.sql").read_text(encoding="utf-8")


def apply_layer(con: duckdb.DuckDBPyConnection, layer: str) -> None:
    """Run every DDL file of a layer (idempotent: ``create … if not exists``)."""
    for path in ddl_files(layer):
        con.execute(path.read_text(encoding="utf-8"))


COMMENTS_FILE = SQL_DIR / "ddl" / "comments.csv"


def column_comments() -> dict[tuple[str, str], str]:
    """What every published table and column means, for BI tools (``ddl/comments.csv``):
    ``(table, column) → comment``; ``column`` empty for the table's own comment and ``table``
    ``*`` for a column that means the same in every table that has it."""
    import csv

    with COMMENTS_FILE.open(encoding="utf-8", newline="") as handle:
        return {(row["table"], row["column"]): row["comment"] for row in csv.DictReader(handle)}


def document_marts(con: duckdb.DuckDBPyConnection, catalog: str) -> None:
    """Give every table and column of ``<catalog>.marts`` its comment (DuckDB ``COMMENT ON``:
    Metabase, DBeaver and Superset show them). A column with none keeps none: a test checks
    that none is missing."""
    comments = column_comments()
    columns = con.execute(
        "select table_name, column_name from duckdb_columns() "
        "where database_name = $catalog and schema_name = 'marts' order by all",
        {"catalog": catalog},
    ).fetchall()
    statements = []
    for table in sorted({t for t, _ in columns}):
        if text := comments.get((table, "")):
            statements.append(f"comment on table {catalog}.marts.{table} is {_literal(text)}")
    for table, column in columns:
        text = comments.get((table, column)) or comments.get(("*", column))
        if text:
            statements.append(
                f'comment on column {catalog}.marts.{table}."{column}" is {_literal(text)}'
            )
    if statements:
        con.execute(";\n".join(statements))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


DuckDBConfig = dict[str, str | bool | int | float | list[str]]


def duckdb_config(
    path: Path, *, memory_limit: str | None = None, threads: int | None = None
) -> DuckDBConfig:
    """Bounded memory: DuckDB spills to a folder beside the file (``<stem>.tmp``) rather than
    grow with the input. ``memory_limit`` and ``threads``: None leaves DuckDB's own default
    (the pipeline passes its settings: :mod:`jkn.databases`)."""
    config: DuckDBConfig = {
        "temp_directory": str(path.with_name(f"{path.stem}.tmp")),
        "preserve_insertion_order": "false",
    }
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    return config


@contextmanager
def connect(
    path: Path,
    layers: tuple[str, ...],
    *,
    private: bool,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open (creating if needed) a DuckDB file with the given layers' tables.

    ``private`` files hold personal data: created with owner-only permissions.
    ``memory_limit``, ``threads``: as for :func:`duckdb_config`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    config = duckdb_config(path, memory_limit=memory_limit, threads=threads)
    # files holding personal data — the database, its WAL, its spill folder — are created
    # owner-only: the umask holds for as long as the connection may write them
    previous_umask = os.umask(0o077) if private else None
    Path(str(config["temp_directory"])).mkdir(mode=0o700 if private else 0o777, exist_ok=True)
    con = duckdb.connect(str(path), config=config)
    try:
        if private:
            path.chmod(0o600)
        for layer in layers:
            apply_layer(con, layer)
        yield con
    finally:
        con.close()
        if previous_umask is not None:
            os.umask(previous_umask)


def replace_slice(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame,
    where: dict[str, object],
) -> None:
    """Delete the slice ``where`` selects and insert ``frame`` in its place (one statement
    pair; call inside a transaction so that a rerun replaces the slice whole). The rows go to
    DuckDB as polars' own Arrow arrays (string views), without a copy into Arrow's older
    string layout (which held the peak of staging a large extract)."""
    condition = " and ".join(f"{column} = ${column}" for column in where)
    con.execute(f"delete from {table} where {condition}", where)
    if frame.height:
        con.register("_incoming", frame.to_arrow(compat_level=pl.CompatLevel.newest()))
        try:
            con.execute(f"insert into {table} by name select * from _incoming")
        finally:
            con.unregister("_incoming")
