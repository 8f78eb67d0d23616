"""A catalogue of malformed inputs, each taken the way the monthly flow takes a file: received
into the landing store, read, validated. Every one ends in a clear error naming the file (and
line or column where there is one) or in rows loaded and quarantined with reasons; row
conservation holds; no traceback, and no row value in any message."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import xlsxwriter

from jkn.ingest.errors import ExtractError
from jkn.ingest.landing import receive_extract
from jkn.ingest.readers import read_extract
from jkn.ingest.validate import validate_extract
from schemas import SCHEMAS
from tests.conftest import VALID_ROWS, rows_of, write_csv

PERIOD = "2024-07"
NIK = VALID_ROWS["bpjs_membership"]["NIK"]


@dataclass
class Outcome:
    error: ExtractError | None = None
    received: int = 0
    loaded: int = 0
    quarantined: int = 0
    reasons: list[str] | None = None


def ingest(landing: Path, source: str, tmp_path: Path) -> Outcome:
    """Receive, read and validate one source's file as the flow does."""
    schema = SCHEMAS[source]
    try:
        received = receive_extract(str(landing), PERIOD, source, tmp_path / "store")
        raw = read_extract(
            received.path,
            source,
            schema.required,
            schema.optional,
            tmp_path,
            delivered=received.delivered,
        )
        result = validate_extract(raw, schema, PERIOD)
    except ExtractError as error:
        return Outcome(error=error)
    reasons = (
        result.quarantine["reasons"].explode().drop_nulls().unique().sort().to_list()
        if result.quarantined
        else []
    )
    assert result.received == result.loaded + result.quarantined  # conservation
    return Outcome(None, result.received, result.loaded, result.quarantined, reasons)


def _csv(source: str, *changes: dict[str, str], **options: Any) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        write_csv(folder / f"{source}.csv", rows_of(source, *changes), **options)

    return build


def _bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        (folder / name).write_bytes(data)

    return build


def _valid_csv_text(source: str = "bpjs_membership", n: int = 2) -> str:
    rows = rows_of(source, *[{} for _ in range(n)])
    header = ",".join(rows[0])
    return "\n".join([header, *(",".join(r.values()) for r in rows)]) + "\n"


def _without(source: str, column: str) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        rows = [{k: v for k, v in r.items() if k != column} for r in rows_of(source, {}, {})]
        write_csv(folder / f"{source}.csv", rows)

    return build


def _xlsx(sheets: list[tuple[str, list[list[object]]]]) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        book = xlsxwriter.Workbook(str(folder / "bpjs_membership.xlsx"))
        text = book.add_format({"num_format": "@"})
        for name, rows in sheets:
            sheet = book.add_worksheet(name)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    sheet.write_string(r, c, str(value), text)
        book.close()

    return build


def _bpjs_rows_as_lists() -> list[list[object]]:
    rows = rows_of("bpjs_membership", {}, {})
    table: list[list[object]] = [list(rows[0])]
    table.extend(list(r.values()) for r in rows)
    return table


def _parquet(frame: pl.DataFrame) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        frame.write_parquet(folder / "bpjs_membership.parquet")

    return build


def _wrong_types() -> pl.DataFrame:
    rows = rows_of("bpjs_membership", {}, {})
    frame = pl.DataFrame(rows)
    return frame.with_columns(pl.col("NIK").cast(pl.Int64), pl.col("NOKA").cast(pl.Int64))


def _mixed_encoding(folder: Path) -> None:
    head = _valid_csv_text().encode("utf-8")
    row = rows_of("bpjs_membership", {"NAMA": "JOSÉ RAMÍREZ", "NOKA": "0001944358999"})[0]
    tail = (",".join(row.values()) + "\n").encode("cp1252")  # a second export appended
    (folder / "bpjs_membership.csv").write_bytes(head + tail)


# id → (what to put in the landing folder, the source, what must happen: an error's check name,
# or the counts {"loaded": n, "quarantined": n} and a reason that must be among the quarantine's)
CATALOGUE: dict[str, tuple[Callable[[Path], object], str, str | dict]] = {
    "zero_bytes": (_bytes("bpjs_membership.csv", b""), "bpjs_membership", "file_not_empty"),
    "header_only": (
        _bytes("bpjs_membership.csv", _valid_csv_text().splitlines()[0].encode() + b"\n"),
        "bpjs_membership",
        "file_has_records",
    ),
    "blank_lines_only": (
        _bytes("bpjs_membership.csv", b"\n\n\n"),
        "bpjs_membership",
        "header_present",
    ),
    "gzip_named_csv": (
        _bytes("bpjs_membership.csv", gzip.compress(_valid_csv_text().encode())),
        "bpjs_membership",
        "file_readable",
    ),
    "html_error_page_as_csv": (
        # refused as an HTML page when received, before it is stored
        _bytes("bpjs_membership.csv", b"<html><body><h1>502 Bad Gateway</h1></body></html>\n"),
        "bpjs_membership",
        "file_readable",
    ),
    "duplicate_header_names": (
        _bytes(
            "bpjs_membership.csv",
            _valid_csv_text().replace("NAMA", "NIK", 1).encode(),
        ),
        "bpjs_membership",
        "header_unique",
    ),
    "required_column_missing": (
        _without("bpjs_membership", "STATUS_PESERTA"),
        "bpjs_membership",
        "required_columns_present",
    ),
    "headerless_file": (
        _bytes("bpjs_membership.csv", "\n".join(_valid_csv_text().splitlines()[1:]).encode()),
        "bpjs_membership",
        "required_columns_present",
    ),
    "two_files_one_source": (
        lambda f: (
            _csv("bpjs_membership", {})(f),
            _parquet(pl.DataFrame(rows_of("bpjs_membership", {})))(f),
        ),
        "bpjs_membership",
        "single_file_per_source",
    ),
    "no_file": (lambda f: None, "bpjs_membership", "file_present"),
    "not_a_zip_xlsx": (
        _bytes("bpjs_membership.xlsx", b"PK\x03\x04 broken zip"),
        "bpjs_membership",
        "file_readable",
    ),
    "xlsx_without_rows": (_xlsx([("peserta", [])]), "bpjs_membership", "header_present"),
    "xlsx_wrong_sheet_first": (
        _xlsx([("catatan", [["dibuat oleh", "BPJS"]]), ("peserta", _bpjs_rows_as_lists())]),
        "bpjs_membership",
        {"loaded": 2, "quarantined": 0},
    ),
    "truncated_parquet": (
        lambda f: (
            _parquet(pl.DataFrame(rows_of("bpjs_membership", {})))(f),
            (f / "bpjs_membership.parquet").write_bytes(
                (f / "bpjs_membership.parquet").read_bytes()[:40]
            ),
        ),
        "bpjs_membership",
        "file_readable",
    ),
    "parquet_wrong_types": (
        # numbers where text belongs: a NOKA stored as a number has lost its leading zeros
        _parquet(_wrong_types()),
        "bpjs_membership",
        {"loaded": 0, "quarantined": 2, "reason": "noka_is_13_digits"},
    ),
    "nul_bytes_in_a_field": (
        # a NUL is how a UTF-16 or binary file looks: the whole file is refused, naming the line
        _csv("bpjs_membership", {"NAMA": "SITI\x00AMINAH"}, {}),
        "bpjs_membership",
        "encoding_readable",
    ),
    "field_of_100k_characters": (
        _csv("bpjs_membership", {"NAMA": "A" * 100_000}, {}),
        "bpjs_membership",
        {"loaded": 1, "quarantined": 1, "reason": "name_not_too_long"},
    ),
    "formula_in_a_name": (
        # loaded as data (it may be how the agency typed it); neutralised on every export
        _csv("bpjs_membership", {"NAMA": '=HYPERLINK("http://x.example","KLIK")'}, {}),
        "bpjs_membership",
        {"loaded": 2, "quarantined": 0},
    ),
    "encoding_changes_midway": (
        _mixed_encoding,
        "bpjs_membership",
        {"loaded": 3, "quarantined": 0},
    ),
    "ragged_row": (
        _bytes("bpjs_membership.csv", (_valid_csv_text() + "1,2,3\n").encode()),
        "bpjs_membership",
        {"loaded": 2, "quarantined": 1},
    ),
    "unterminated_quote": (
        _bytes("bpjs_membership.csv", (_valid_csv_text() + '"0001944358913,"SITI\n').encode()),
        "bpjs_membership",
        {"loaded": 2, "quarantined": 1},
    ),
    "nik_in_scientific_notation": (
        _csv("bpjs_membership", {"NIK": "1.70701E+15"}, {}),
        "bpjs_membership",
        {"loaded": 1, "quarantined": 1, "reason": "nik_not_excel_scientific"},
    ),
    "impossible_date": (
        _csv("bpjs_membership", {"TGL_LAHIR": "31-02-1990"}, {}),
        "bpjs_membership",
        {"loaded": 1, "quarantined": 1, "reason": "dob_is_date"},
    ),
    "birth_date_in_the_future": (
        _csv("bpjs_membership", {"TGL_LAHIR": "01-01-2090"}, {}),
        "bpjs_membership",
        {"loaded": 1, "quarantined": 1, "reason": "dob_not_in_future"},
    ),
    "duplicate_card_number": (
        _csv("bpjs_membership", {"NOKA": "0001944358911"}, {"NOKA": "0001944358911"}),
        "bpjs_membership",
        {"loaded": 1, "quarantined": 1, "reason": "noka_unique_in_file"},
    ),
    "unknown_segment": (
        _csv("bpjs_membership", {"SEGMEN": "VIP"}, {}),
        "bpjs_membership",
        {"loaded": 1, "quarantined": 1, "reason": "segment_is_known"},
    ),
    "trailing_delimiter_every_line": (
        _bytes(
            "bpjs_membership.csv",
            "".join(line + ",\n" for line in _valid_csv_text().splitlines()).encode(),
        ),
        "bpjs_membership",
        {"loaded": 2, "quarantined": 0},
    ),
    "dukcapil_unknown_status": (
        _csv("dukcapil", {"STATUS": "HILANG"}, {}),
        "dukcapil",
        {"loaded": 1, "quarantined": 1, "reason": "status_is_known"},
    ),
}


@pytest.mark.parametrize("case", list(CATALOGUE))
def test_bad_input(case: str, tmp_path: Path) -> None:
    build, source, expected = CATALOGUE[case]
    landing = tmp_path / "landing"
    (landing / PERIOD).mkdir(parents=True)
    build(landing / PERIOD)
    outcome = ingest(landing, source, tmp_path)
    if isinstance(expected, str):
        assert outcome.error is not None, f"{case}: loaded {outcome}"
        assert outcome.error.check == expected, str(outcome.error)
        message = str(outcome.error)
        assert message.startswith(f"{PERIOD}/{source}."), message  # the file as delivered
        assert "landing-store" not in message and "store/" not in message
        assert "Traceback" not in message
        assert NIK not in message and "SITI" not in message  # no row value
    else:
        assert outcome.error is None, f"{case}: {outcome.error}"
        assert outcome.loaded == expected["loaded"], outcome
        assert outcome.quarantined == expected["quarantined"], outcome
        if "reason" in expected:
            assert expected["reason"] in (outcome.reasons or []), outcome.reasons


def test_the_catalogue_has_at_least_25_inputs() -> None:
    assert len(CATALOGUE) >= 25


def test_a_redelivery_with_different_bytes_is_refused(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / PERIOD).mkdir(parents=True)
    _csv("bpjs_membership", {})(landing / PERIOD)
    receive_extract(str(landing), PERIOD, "bpjs_membership", tmp_path / "store")
    _csv("bpjs_membership", {}, {})(landing / PERIOD)
    with pytest.raises(ExtractError) as refused:
        receive_extract(str(landing), PERIOD, "bpjs_membership", tmp_path / "store")
    assert refused.value.check == "file_unchanged"
    assert "accept-redelivery" in str(refused.value) or "accept_redelivery" in str(refused.value)


def test_a_future_period_is_refused() -> None:
    from pydantic import ValidationError

    from jkn.refresh import RefreshParameters

    with pytest.raises(ValidationError, match="future"):
        RefreshParameters(period="2099-01", landing="x", warehouse=Path("w.duckdb"))
