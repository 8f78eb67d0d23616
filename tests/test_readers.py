"""Every kind of file mess the contract allows, and every whole-file failure it names."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import xlsxwriter

from jkn.ingest import readers
from jkn.ingest.errors import ExtractError
from jkn.ingest.readers import RawExtract, read_extract
from jkn.ingest.validate import validate_extract
from schemas import SCHEMAS
from tests.conftest import VALID_ROWS, rows_of, write_csv

SOURCE = "bpjs_membership"
SCHEMA = SCHEMAS[SOURCE]


def read(path: Path, tmp_path: Path, source: str = SOURCE) -> RawExtract:
    schema = SCHEMAS[source]
    return read_extract(path, source, schema.required, schema.optional, tmp_path)


def staged(path: Path, tmp_path: Path) -> pl.DataFrame:
    result = validate_extract(read(path, tmp_path), SCHEMA, "2024-07")
    assert result.quarantined == 0
    return result.staged


@pytest.mark.parametrize(
    ("options", "expected_encoding"),
    [
        ({"delimiter": ","}, "utf-8"),
        ({"delimiter": ";"}, "utf-8"),
        ({"delimiter": ";", "newline": "\r\n"}, "utf-8"),
        ({"delimiter": ",", "quote_all": True}, "utf-8"),
        ({"delimiter": ";", "encoding": "utf-8-sig", "newline": "\r\n"}, "utf-8"),
        ({"delimiter": ";", "encoding": "cp1252", "newline": "\r\n"}, "windows-1252"),
    ],
)
def test_dialects_read_to_the_same_rows(
    tmp_path: Path, options: dict, expected_encoding: str
) -> None:
    rows = rows_of(SOURCE, {"NAMA": "ANDRÉ O'NEIL; JR, “BOY”"[:14]}, {"NAMA": "JOSÉ"})
    path = write_csv(tmp_path / "bpjs_membership.csv", rows, **options)
    raw = read(path, tmp_path)
    assert raw.encoding == expected_encoding
    assert raw.frame["NAMA"].to_list() == ["ANDRÉ O'NEIL; ", "JOSÉ"]
    assert raw.frame["__line"].to_list() == [2, 3]
    assert raw.frame["NOKA"].to_list() == ["0001944358911", "0001944358912"]


def test_headers_in_any_case_with_spaces_and_any_order(tmp_path: Path) -> None:
    row = VALID_ROWS[SOURCE]
    shuffled = dict(reversed(list(row.items())))
    headers = [f"  {name.title()} " for name in shuffled]
    path = write_csv(tmp_path / "b.csv", [shuffled], headers=headers)
    out = staged(path, tmp_path)
    assert out["noka"].to_list() == ["0001944358911"]
    assert out["segmen"].to_list() == ["PBI_APBN"]


def test_header_aliases_from_the_yaml_map(tmp_path: Path) -> None:
    row = dict(VALID_ROWS[SOURCE])
    headers = [
        "No Kartu" if c == "NOKA" else "Tanggal Lahir" if c == "TGL_LAHIR" else c for c in row
    ]
    path = write_csv(tmp_path / "b.csv", [row], headers=headers)
    assert staged(path, tmp_path)["noka"].to_list() == ["0001944358911"]


def test_dates_mixed_in_one_file_and_codes_dotted_or_not(tmp_path: Path) -> None:
    rows = rows_of(
        SOURCE,
        {"TGL_LAHIR": "10-05-1990", "KODE_WILAYAH": "17.07.01.1004"},
        {"TGL_LAHIR": "10/05/1990", "KODE_WILAYAH": "1707011004"},
        {"TGL_LAHIR": "1990-05-10", "KODE_WILAYAH": "17.07.01.1004"},
    )
    out = staged(write_csv(tmp_path / "b.csv", rows), tmp_path)
    assert out["tgl_lahir"].cast(pl.String).unique().to_list() == ["1990-05-10"]
    assert out["kode_wilayah"].unique().to_list() == ["1707011004"]


def test_identifiers_keep_leading_zeros_and_long_digits(tmp_path: Path) -> None:
    out = staged(write_csv(tmp_path / "b.csv", rows_of(SOURCE, {})), tmp_path)
    assert out["noka"][0] == "0001944358911"
    assert out["nik"][0] == "1707015005900001"


def test_records_that_cannot_be_split_are_quarantined_with_their_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", rows_of(SOURCE, {}, {}))
    with path.open("a", encoding="utf-8") as handle:
        handle.write("0001944358999,only,three\n")
        handle.write(",".join(rows_of(SOURCE, {}, {}, {})[2].values()) + "\n")
    result = validate_extract(read(path, tmp_path), SCHEMA, "2024-07")
    assert result.staged["line"].to_list() == [2, 3, 5]
    bad = result.quarantine.row(0, named=True)
    assert bad["line"] == 4
    assert bad["reasons"] == ["record_readable"]
    assert "0001944358999,only,three" in bad["record"]
    assert result.received == 4 == result.loaded + result.quarantined


def test_blank_lines_are_skipped_and_line_numbers_stay_true(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", rows_of(SOURCE, {}, {}))
    text = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([text[0], text[1], "", text[2]]) + "\n", encoding="utf-8")
    assert read(path, tmp_path).frame["__line"].to_list() == [2, 4]


def test_xlsx_first_sheet_with_text_identifiers(tmp_path: Path) -> None:
    path = tmp_path / "bpjs_membership.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("Peserta")
    rows = rows_of(SOURCE, {}, {"NOKA": "1944358912"})
    sheet.write_row(0, 0, list(rows[0]))
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row.values()):
            sheet.write_string(r, c, value)
    workbook.add_worksheet("Catatan").write(0, 0, "not data")
    workbook.close()
    result = validate_extract(read(path, tmp_path), SCHEMA, "2024-07")
    assert result.staged["line"].to_list() == [2]
    assert result.quarantine["line"].to_list() == [3]
    assert result.quarantine["reasons"][0].to_list() == ["noka_is_13_digits"]


def test_parquet_typed_columns_become_text(tmp_path: Path) -> None:
    row = VALID_ROWS[SOURCE]
    frame = pl.DataFrame([row]).with_columns(
        pl.col("NIK").cast(pl.Int64),
        pl.col("TGL_LAHIR").str.strptime(pl.Date, "%d-%m-%Y"),
        pl.col("BULAN_TUNGGAKAN").cast(pl.Int32),
    )
    path = tmp_path / "bpjs_membership.parquet"
    frame.write_parquet(path)
    out = staged(path, tmp_path)
    assert out["nik"].to_list() == ["1707015005900001"]
    assert out["tgl_lahir"].cast(pl.String).to_list() == ["1990-05-10"]


# ---------------------------------------------------------------------- whole-file failures


def failure(path: Path, tmp_path: Path) -> ExtractError:
    with pytest.raises(ExtractError) as caught:
        read(path, tmp_path)
    message = str(caught.value)
    assert path.name in message and "What to do" in message
    return caught.value


def test_missing_required_column_names_it(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "SEGMEN"} for r in rows_of(SOURCE, {})]
    error = failure(write_csv(tmp_path / "b.csv", rows), tmp_path)
    assert error.check == "required_columns_present" and error.line == 1
    assert error.problem.startswith("required column(s) SEGMEN not in the header row")
    # the header is there: the action is to add the column or map its name, not "add a header"
    assert "include SEGMEN" in error.action and "aliases.yaml" in error.action
    assert "header row seems missing" not in str(error)


def test_a_misnamed_required_column_says_to_map_it_without_echoing_it(tmp_path: Path) -> None:
    row = dict(VALID_ROWS[SOURCE])
    headers = ["KODE_DESA_BPJS" if c == "KODE_WILAYAH" else c for c in row]
    error = failure(write_csv(tmp_path / "b.csv", [row], headers=headers), tmp_path)
    assert error.check == "required_columns_present" and "KODE_WILAYAH not in" in error.problem
    assert "aliases.yaml" in str(error) and "KODE_DESA_BPJS" not in str(error)
    assert "1 other column(s)" in error.problem


def test_messages_name_the_file_as_delivered(tmp_path: Path) -> None:
    rows = [{k: v for k, v in r.items() if k != "SEGMEN"} for r in rows_of(SOURCE, {})]
    stored = write_csv(tmp_path / "bpjs_membership.fccb3304bb505dca.csv", rows)
    schema = SCHEMAS[SOURCE]
    with pytest.raises(ExtractError) as caught:
        read_extract(
            stored,
            SOURCE,
            schema.required,
            schema.optional,
            tmp_path,
            delivered="2025-05/bpjs_membership.csv",
        )
    assert str(caught.value).startswith("2025-05/bpjs_membership.csv, line 1: required column")
    assert "fccb3304" not in str(caught.value)


def test_a_file_without_a_header_fails_without_echoing_personal_data(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", rows_of(SOURCE, {}, {}))
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    error = failure(path, tmp_path)
    assert error.check == "required_columns_present"
    assert "1707015005900001" not in str(error) and "SITI" not in str(error)
    # nothing in the first row is a contract column: say the header seems missing
    assert "header row seems missing" in error.problem and error.column is None


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_bytes(b"")
    assert failure(path, tmp_path).check == "file_not_empty"


def test_header_only(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    path.write_text(",".join(VALID_ROWS[SOURCE]) + "\r\n", encoding="utf-8")
    error = failure(path, tmp_path)
    assert error.check == "file_has_records" and error.line == 2


def test_truncated_inside_a_quoted_value(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", rows_of(SOURCE, {}, {}, {}), quote_all=True)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 30])
    error = failure(path, tmp_path)
    assert error.check == "file_complete" and error.line == 4


def test_truncated_mid_line_without_quotes(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", rows_of(SOURCE, {}, {}, {}))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    error = failure(path, tmp_path)
    assert error.check == "file_complete" and error.line == 4


def test_unreadable_encoding(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", rows_of(SOURCE, {}, {}))
    path.write_bytes(path.read_bytes() + b"0001944358999,\x81\x8d\n")
    error = failure(path, tmp_path)
    assert error.check == "encoding_readable" and error.line == 4


def test_utf16_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    # the mark declares the encoding (Excel's "Unicode text"): nothing is guessed
    for encoding in ("utf-16", "utf-16-be"):
        data = write_csv(tmp_path / "b.csv", rows_of(SOURCE, {"NAMA": "JOSÉ"}, {})).read_text()
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(("\ufeff" + data).encode(encoding))
        raw = read(path, tmp_path)
        assert raw.encoding == "utf-16" and any("UTF-16" in n for n in raw.notes)
        assert raw.frame["NAMA"].to_list() == ["JOSÉ", "SITI AMINAH"]
        assert raw.frame["__line"].to_list() == [2, 3]


def test_utf16_without_a_byte_order_mark_is_refused(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "b.csv", rows_of(SOURCE, {}), encoding="utf-16-le")
    assert failure(path, tmp_path).check == "encoding_readable"


def test_gzip_pretending_to_be_csv(tmp_path: Path) -> None:
    plain = write_csv(tmp_path / "plain.csv", rows_of(SOURCE, {}))
    path = tmp_path / "bpjs_membership.csv"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    error = failure(path, tmp_path)
    assert "gzip" in str(error)


def test_duplicate_header_names(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    row = VALID_ROWS[SOURCE]
    path.write_text(
        ",".join([*row, "NIK"]) + "\n" + ",".join([*row.values(), "x"]) + "\n", encoding="utf-8"
    )
    error = failure(path, tmp_path)
    assert error.check == "header_unique" and "NIK" in str(error)


def test_broken_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "bpjs_membership.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a workbook")
    assert failure(path, tmp_path).check == "file_readable"


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_utf16_that_stops_decoding_names_its_line_across_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, newline: str
) -> None:
    """The line is counted up to the byte that fails, not per chunk written: 5-byte chunks
    split UTF-16 units and CRLFs between reads."""
    monkeypatch.setattr(readers, "_CHUNK", 5)
    text = write_csv(tmp_path / "b.csv", rows_of(SOURCE, {}, {}, {})).read_text()
    lines = text.splitlines()
    lines[3] = lines[3].replace("SITI AMINAH", "SITI \ud800AMINAH")
    path = tmp_path / "utf16.csv"
    path.write_bytes(
        b"\xff\xfe" + "".join(line + newline for line in lines).encode("utf-16-le", "surrogatepass")
    )
    error = failure(path, tmp_path)
    assert (error.check, error.line) == ("encoding_readable", 4), error
    assert "SITI" not in str(error)


def test_only_a_utf16_byte_order_mark_reads_as_utf16(tmp_path: Path) -> None:
    assert readers._opens_with_utf16_bom(b"\xff\xfeN\x00")
    assert readers._opens_with_utf16_bom(b"\xfe\xff\x00N")
    assert not readers._opens_with_utf16_bom(b"\xff\xfe\x00\x00N\x00\x00\x00")  # UTF-32 LE
    path = tmp_path / "utf32.csv"
    path.write_bytes(
        write_csv(tmp_path / "b.csv", rows_of(SOURCE, {})).read_text().encode("utf-32")
    )
    assert failure(path, tmp_path).check == "encoding_readable"


def _stray_quote_multiline_and_ragged(tmp_path: Path) -> Path:
    """Records: header, a two-line value (lines 2-3), a stray quote, a plain row, a ragged
    row (line 6), a plain row."""
    changes: tuple[dict[str, str], ...] = ({"NAMA": "SITI\nAMINAH"}, {"NAMA": 'BOY "X'}, {}, {}, {})
    path = write_csv(tmp_path / "bpjs_membership.csv", rows_of(SOURCE, *changes))
    lines = path.read_text(encoding="utf-8").replace('"BOY ""X"', 'BOY "X').splitlines(True)
    lines[5] = "0001944358990,only,three\n"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_records_split_again_when_the_line_scan_and_duckdb_disagree(tmp_path: Path) -> None:
    raw = read(_stray_quote_multiline_and_ragged(tmp_path), tmp_path)
    assert raw.frame["__line"].to_list() == [2, 4, 5, 7]
    assert raw.rejects["__line"].to_list() == [6]
    assert raw.notes == ["some values span several lines; a record's line is where it starts"]


def test_when_where_records_start_cannot_be_told_numbers_count_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last resort: loaded and rejected rows numbered as records, distinct and in order."""
    monkeypatch.setattr(readers, "_csv_record_starts", lambda path, delimiter: None)
    raw = read(_stray_quote_multiline_and_ragged(tmp_path), tmp_path)
    loaded, rejected = raw.frame["__line"].to_list(), raw.rejects["__line"].to_list()
    assert (loaded, rejected) == ([2, 3, 4, 6], [5])
    assert any("line numbers count records (the header is record 1)" in n for n in raw.notes)
    result = validate_extract(raw, SCHEMA, "2024-07")
    assert result.received == 5 == result.loaded + result.quarantined


def test_one_setting_bounds_what_xlsx_and_parquet_inflate_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jkn.settings import settings

    monkeypatch.delenv(readers.MAX_INFLATED_ENV, raising=False)
    settings.cache_clear()
    assert readers.max_inflated_bytes() == readers.DEFAULT_MAX_INFLATED_BYTES == 1024**3
    parquet = tmp_path / "bpjs_membership.parquet"
    pl.DataFrame(rows_of(SOURCE, {}, {})).write_parquet(parquet)
    xlsx = tmp_path / "bpjs_membership.xlsx"
    workbook = xlsxwriter.Workbook(xlsx)
    workbook.add_worksheet("Peserta").write_row(0, 0, list(VALID_ROWS[SOURCE]))
    workbook.close()
    monkeypatch.setenv(readers.MAX_INFLATED_ENV, "0.0001")  # about 100 bytes
    settings.cache_clear()
    for path, check in ((parquet, "parquet_size_bounded"), (xlsx, "xlsx_size_bounded")):
        error = failure(path, tmp_path)
        assert error.check == check and readers.MAX_INFLATED_ENV in str(error), error


def test_hidden_sheets_are_not_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Visibility is read from the workbook first: a hidden sheet (here a big stale copy) is
    not inflated into memory; only when no visible sheet holds the extract is a hidden one's
    first row looked at, to say so."""
    import fastexcel

    loaded: list[tuple[int, int | None]] = []
    open_workbook = fastexcel.read_excel

    class Recording:
        def __init__(self, path: Path) -> None:
            self.reader = open_workbook(path)
            self.sheet_names = self.reader.sheet_names

        def load_sheet(self, index: int, **options: Any) -> Any:
            loaded.append((index, options.get("n_rows")))
            return self.reader.load_sheet(index, **options)

    monkeypatch.setattr(fastexcel, "read_excel", Recording)

    def workbook(name: str, visible_extract: bool) -> Path:
        path = tmp_path / name
        book = xlsxwriter.Workbook(path)
        stale = book.add_worksheet("lama")
        for r, row in enumerate(
            [list(VALID_ROWS[SOURCE]), *map(dict.values, rows_of(SOURCE, {}, {}))]
        ):
            stale.write_row(r, 0, list(row))
        stale.hide()
        shown = book.add_worksheet("peserta")
        table = [list(VALID_ROWS[SOURCE]), list(VALID_ROWS[SOURCE].values())]
        for r, row in enumerate(table if visible_extract else [["catatan"]]):
            shown.write_row(r, 0, row)
        shown.activate()
        book.close()
        return path

    raw = read(workbook("bpjs_membership.xlsx", visible_extract=True), tmp_path)
    assert raw.frame.height == 1 and loaded == [(1, None)]
    assert "1 hidden sheet(s) not read" in raw.notes
    loaded.clear()
    error = failure(workbook("bpjs_membership_2.xlsx", visible_extract=False), tmp_path)
    assert error.check == "sheet_visible" and loaded == [(1, None), (0, 1)]
