"""The marts are the product's public interface: their tables and columns are pinned.

``tests/snapshots/marts_columns.json`` holds the published marts' tables and columns (with
their types) as of the first release (``baseline``) and now (``current``). The published
marts of a generated month must equal ``current``; and every table or column that differs
from the baseline — added, dropped or retyped — must be named (``marts.<table>`` or
``marts.<table>.<column>``) in a "Marts contract" section of CHANGELOG.md, because a BI
report built on the old names breaks (contracts: "change these only with a migration note in
the changelog").
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from jkn.generate import GenerateOptions, generate
from tests.conftest import read_table, refresh
from warehouse import apply_layer, column_comments, document_marts

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = Path(__file__).parent / "snapshots" / "marts_columns.json"
Columns = dict[str, dict[str, str]]  # table → column → type


def published_columns(warehouse: Path) -> Columns:
    rows = read_table(
        warehouse,
        "select table_name, column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' order by table_name, ordinal_position",
    )
    tables: Columns = {}
    for table, column, kind in rows.iter_rows():
        tables.setdefault(table, {})[column] = kind
    return tables


def changes(before: Columns, after: Columns) -> list[str]:
    """What a BI user would see change, as ``marts.<table>[.<column>]`` names."""
    named = []
    for table in sorted(before.keys() | after.keys()):
        if table not in before or table not in after:
            named.append(f"marts.{table}")
            continue
        old, new = before[table], after[table]
        named += [
            f"marts.{table}.{column}"
            for column in sorted(old.keys() | new.keys())
            if old.get(column) != new.get(column)
        ]
    return named


def contract_notes() -> str:
    """The text of every "Marts contract" section of CHANGELOG.md."""
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.split(r"^(#+ .*)$", text, flags=re.MULTILINE)
    return "\n".join(
        body for head, body in zip(sections[1::2], sections[2::2], strict=True)
        if "marts contract" in head.lower()
    )  # fmt: skip


@pytest.fixture(scope="module")
def published_warehouse(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("contract")
    generate(GenerateOptions(regions=["17.02", "17.05"], period="2024-07", persons=800), root)
    refresh(root, "2024-07", root / "jkn.duckdb")
    return root / "jkn.duckdb"


@pytest.fixture(scope="module")
def published(published_warehouse: Path) -> Columns:
    return published_columns(published_warehouse)


def _undocumented(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    tables = con.execute(
        "select table_name from duckdb_tables() where database_name = $c and schema_name = "
        "'marts' and coalesce(comment, '') = '' order by 1",
        {"c": catalog},
    ).fetchall()
    columns = con.execute(
        "select table_name || '.' || column_name from duckdb_columns() where database_name = $c "
        "and schema_name = 'marts' and coalesce(comment, '') = '' order by 1",
        {"c": catalog},
    ).fetchall()
    return [f"marts.{t}" for (t,) in tables] + [f"marts.{c}" for (c,) in columns]


def test_every_published_table_and_column_has_a_comment(published_warehouse: Path) -> None:
    with duckdb.connect(str(published_warehouse), read_only=True) as con:
        assert _undocumented(con, published_warehouse.stem) == []
        rates = con.execute(
            "select column_name, comment from duckdb_columns() where schema_name = 'marts' "
            "and table_name = 'coverage' and (column_name like 'coverage_%' "
            "or column_name like 'activity_%')"
        ).fetchall()
    assert len(rates) == 5
    # a rate's comment names its numerator and denominator, and the Indonesian term
    for column, comment in rates:
        assert " / " in comment, column
    assert any("cakupan kepesertaan" in c for _, c in rates)
    assert any("keaktifan" in c for _, c in rates)


@pytest.mark.parametrize("layer", ["marts", "national"])
def test_every_table_of_each_marts_file_is_documented(layer: str) -> None:
    with duckdb.connect() as con:
        con.execute("attach ':memory:' as nxt")
        con.execute("use nxt")
        apply_layer(con, layer)
        document_marts(con, "nxt")
        assert _undocumented(con, "nxt") == []


def test_no_comment_names_a_table_or_column_that_does_not_exist() -> None:
    with duckdb.connect() as con:
        for layer in ("marts", "national"):
            apply_layer(con, layer)
        known = set(
            con.execute(
                "select table_name, column_name from duckdb_columns() where schema_name = 'marts'"
            ).fetchall()
        )
    tables = {t for t, _ in known}
    columns = {c for _, c in known}
    stale = [
        f"{t}.{c}"
        for t, c in column_comments()
        if not ((t == "*" and c in columns) or (t in tables and c == "") or (t, c) in known)
    ]
    assert stale == []


def test_the_published_marts_are_the_snapshot(published: Columns) -> None:
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert published == snapshot["current"], (
        "the published marts differ from tests/snapshots/marts_columns.json: "
        f"{changes(snapshot['current'], published)}. If the change is meant, write the new "
        "columns into the snapshot's 'current' and name each one in CHANGELOG.md's "
        "'Marts contract' section with what a BI user must change."
    )


def test_every_change_since_the_first_release_is_in_the_changelog() -> None:
    snapshot = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    notes = contract_notes()
    assert notes.strip(), "CHANGELOG.md has no 'Marts contract' section"
    undocumented = [
        name
        for name in changes(snapshot["baseline"], snapshot["current"])
        if not re.search(rf"`{re.escape(name)}`", notes)
    ]
    assert undocumented == [], f"not in CHANGELOG.md's Marts contract notes: {undocumented}"
    # the first release's tables are listed where the contract starts
    for table in snapshot["baseline"]:
        assert f"`marts.{table}`" in notes


def test_a_change_is_named_by_table_and_column() -> None:
    before = {"coverage": {"population": "BIGINT", "registered": "BIGINT"}}
    after = {
        "coverage": {"population": "BIGINT", "registered": "INTEGER", "new": "DOUBLE"},
        "uhc_tiers": {"tier": "VARCHAR"},
    }
    assert changes(before, after) == [
        "marts.coverage.new",
        "marts.coverage.registered",
        "marts.uhc_tiers",
    ]
