"""Read an extract file (CSV, XLSX or Parquet) into a frame of text columns, one row per record.

Every value comes back as text (identifiers are never read as numbers), headers are mapped to
the contract's names, and each record keeps the line it was found on so that errors can name
it. Records the CSV parser cannot split (wrong number of fields, a stray quote) come back
separately as *rejects*, with their line and raw text, so that nothing received is lost.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import yaml

from jkn.ingest.errors import ExtractError

LINE = "__line"
_CHUNK = 16 * 1024 * 1024
_ALIASES = Path(__file__).with_name("aliases.yaml")


@dataclass
class RawExtract:
    """What a reader got out of one file: the records as text, plus what it could not split."""

    frame: pl.DataFrame  # canonical column names (str) + LINE (Int64)
    rejects: pl.DataFrame  # LINE, reason, raw
    encoding: str
    delimiter: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    missing_optional: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def received(self) -> int:
        """Records received: the ones read plus the ones that could not be split."""
        return self.frame.height + self.rejects.height


def normalise_header(name: str) -> str:
    """`` Nama_Lgkp `` → ``NAMA_LGKP``; ``Tgl. Lahir`` → ``TGL_LAHIR``."""
    text = name.replace("\ufeff", "").strip().upper()
    return re.sub(r"[\s.\-/]+", "_", text).strip("_")


@cache
def _alias_map(source: str) -> dict[str, str]:
    spec = yaml.safe_load(_ALIASES.read_text(encoding="utf-8"))[source]
    mapping: dict[str, str] = {}
    for canonical, aliases in spec.items():
        mapping[normalise_header(canonical)] = canonical
        for alias in aliases or []:
            mapping[normalise_header(alias)] = canonical
    return mapping


def map_headers(
    source: str,
    headers: list[str],
    required: tuple[str, ...],
    optional: tuple[str, ...],
    file: str,
) -> tuple[dict[int, str], list[str], list[str]]:
    """Positions of the contract's columns in a header row.

    Returns ``(position → canonical name, ignored headers, missing optional columns)``.
    Raises :class:`ExtractError` when a required column is missing or a column appears twice.
    """
    aliases = _alias_map(source)
    found: dict[str, int] = {}
    ignored: list[str] = []
    for position, header in enumerate(headers):
        canonical = aliases.get(normalise_header(str(header or "")))
        if canonical is None:
            ignored.append(str(header))
            continue
        if canonical in found:
            raise ExtractError(
                file=file,
                line=1,
                column=str(header),
                check="header_unique",
                problem=f"column {canonical} appears twice in the header "
                f"(positions {found[canonical] + 1} and {position + 1})",
                expected="each column of the contract once",
                action="remove the duplicate column and deliver the file again",
            )
        found[canonical] = position
    missing = [c for c in required if c not in found]
    if missing:
        raise ExtractError(
            file=file,
            line=1,
            check="required_columns_present",
            # unrecognised headers are not echoed: a file without a header row would put a
            # person's NIK and name into the message
            problem=f"required column(s) {', '.join(missing)} not found in the header row "
            f"(recognised: {', '.join(found) or 'none'}; {len(ignored)} other column(s))",
            expected=f"a header row naming {', '.join(required)}",
            action="deliver the file with its header row, or add the provider's header name "
            "to jkn/ingest/aliases.yaml",
        )
    missing_optional = [c for c in optional if c not in found]
    return {pos: name for name, pos in found.items()}, ignored, missing_optional


# --------------------------------------------------------------------------------------------
# CSV


def _detect_encoding(path: Path) -> str:
    """``utf-8`` (with or without BOM) when every byte decodes as UTF-8, else ``cp1252``."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:
                break_at = offset + err.start
                break
            offset += len(chunk)
        else:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                pass
            else:
                return "utf-8"
            break_at = offset
    # Windows-1252 leaves five bytes undefined; a file with them is in no encoding we know.
    undefined = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
    with path.open("rb") as handle:
        position = 0
        while chunk := handle.read(_CHUNK):
            hit = undefined.search(chunk)
            if hit:
                line = _line_of(path, position + hit.start())
                raise ExtractError(
                    file=path.name,
                    line=line,
                    check="encoding_readable",
                    problem=f"byte 0x{hit.group()[0]:02x} is neither UTF-8 nor Windows-1252 "
                    f"(first non-UTF-8 byte at offset {break_at})",
                    expected="a text file in UTF-8 (with or without BOM) or Windows-1252",
                    action="export the file again as CSV UTF-8",
                )
            position += len(chunk)
    return "cp1252"


def _line_of(path: Path, offset: int) -> int:
    with path.open("rb") as handle:
        return handle.read(offset).count(b"\n") + 1


def _transcode(path: Path, encoding: str, target: Path) -> Path:
    with (
        path.open("r", encoding=encoding, newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(_CHUNK):
            dst.write(chunk)
    return target


def _header_line(path: Path) -> str:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        first = handle.readline(1_000_000)
    return first.rstrip("\r\n")


def _sniff_delimiter(header: str, file: str) -> str:
    counts = {d: len(next(csv.reader([header], delimiter=d))) for d in (",", ";")}
    delimiter = max(counts, key=lambda d: counts[d])
    if counts[delimiter] < 2:
        raise ExtractError(
            file=file,
            line=1,
            check="delimiter_found",
            problem="the header row has no ',' or ';' between column names",
            expected="a header row of column names separated by ',' or ';'",
            action="export the file again as CSV with a comma or semicolon delimiter",
        )
    return delimiter


@dataclass
class _LineScan:
    nonblank: np.ndarray  # 1-based numbers of non-blank physical lines
    quotes: int  # number of '"' bytes
    ends_with_newline: bool


def _scan_lines(path: Path) -> _LineScan:
    """Numbers of the non-blank physical lines and the quote count, in bounded memory."""
    pieces: list[np.ndarray] = []
    quotes = 0
    line_no = 1  # number of the line the next byte belongs to
    length = 0  # bytes on the current line so far (excluding \r\n)
    last_byte = -1
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            data = np.frombuffer(chunk, dtype=np.uint8)
            quotes += int(np.count_nonzero(data == 34))
            newlines = np.flatnonzero(data == 10)
            if newlines.size:
                starts = np.concatenate(([0], newlines[:-1] + 1))
                lens = newlines - starts
                lens[0] += length
                # a lone "\r" before "\n" is not content
                cr = np.zeros(newlines.size, dtype=bool)
                valid = newlines > 0
                cr[valid] = data[newlines[valid] - 1] == 13
                if not valid[0] and last_byte == 13:
                    cr[0] = True
                content = lens - cr.astype(np.int64)
                numbers = np.arange(line_no, line_no + newlines.size, dtype=np.int64)
                pieces.append(numbers[content > 0])
                line_no += newlines.size
                length = data.size - (int(newlines[-1]) + 1)
            else:
                length += data.size
            last_byte = int(data[-1])
    ends = last_byte == 10
    if not ends and length > 0:
        pieces.append(np.array([line_no], dtype=np.int64))
    nonblank = np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)
    return _LineScan(nonblank=nonblank, quotes=quotes, ends_with_newline=ends)


def read_csv(
    path: Path,
    source: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    workdir: Path,
) -> RawExtract:
    """Read a CSV extract: delimiter ``,`` or ``;``, UTF-8 (BOM or not) or Windows-1252."""
    file = path.name
    if path.stat().st_size == 0:
        raise ExtractError(
            file=file,
            check="file_not_empty",
            problem="the file is empty (0 bytes)",
            expected="a header row and one row per record",
            action="ask the provider to export the extract again",
        )
    encoding = _detect_encoding(path)
    readable = path
    notes: list[str] = []
    if encoding == "cp1252":
        readable = _transcode(path, "cp1252", workdir / f"{path.stem}.utf8.csv")
        notes.append("read as Windows-1252")
    header = _header_line(readable)
    if not header.strip():
        raise ExtractError(
            file=file,
            line=1,
            check="header_present",
            problem="the first line is blank",
            expected="a header row naming the columns on line 1",
            action="remove the leading blank lines and deliver the file again",
        )
    delimiter = _sniff_delimiter(header, file)
    headers = next(csv.reader([header], delimiter=delimiter))
    positions, ignored, missing_optional = map_headers(source, headers, required, optional, file)

    scan = _scan_lines(readable)
    columns = {f"c{i}": "VARCHAR" for i in range(len(headers))}
    con = duckdb.connect()
    try:
        table = con.sql(
            "select * from read_csv($path, delim=$delim, quote='\"', escape='\"', "
            "header=true, columns=$columns, auto_detect=false, store_rejects=true, "
            "strict_mode=true, parallel=false, null_padding=false, all_varchar=true)",
            params={"path": str(readable), "delim": delimiter, "columns": columns},
        ).to_arrow_table()
        rejects = con.sql(
            "select line::BIGINT as line, string_agg(DISTINCT error_type, ', ') as reason, "
            "any_value(trim(csv_line, E'\\r\\n')) as raw "
            "from reject_errors group by line order by line"
        ).pl()
    except duckdb.Error as err:
        # DuckDB quotes the offending line in its message: keep only where, never what
        where = re.search(r"Line: (\d+)", str(err))
        raise ExtractError(
            file=file,
            line=int(where.group(1)) if where else None,
            check="file_readable",
            problem=f"the CSV parser stopped ({type(err).__name__})",
            expected="a CSV file as contracts/extracts.md describes",
            action="open the file in a text editor at the reported place, fix or re-export",
        ) from None
    finally:
        con.close()

    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    frame = frame.select([pl.col(f"c{pos}").alias(name) for pos, name in sorted(positions.items())])
    rejects = rejects.rename({"line": LINE}).with_columns(
        pl.col(LINE).cast(pl.Int64),
        ("unreadable_record: " + pl.col("reason").str.to_lowercase()).alias("reason"),
    )
    records = frame.height + rejects.height
    data_lines = scan.nonblank[scan.nonblank > 1]
    last_line = int(data_lines[-1]) if data_lines.size else 1
    if records < data_lines.size and (scan.quotes % 2 or not scan.ends_with_newline):
        raise ExtractError(
            file=file,
            line=last_line,
            check="file_complete",
            problem=f"{data_lines.size} lines hold only {records} readable records and a "
            "quoted value is never closed: the file is truncated or a quote is missing",
            expected="every value that opens with a double quote closes with one",
            action="check that the whole file was transferred, then ask the provider to "
            "export it again",
        )
    last_rejected = int(rejects[LINE].max()) if rejects.height else 0  # type: ignore[arg-type]
    if last_rejected >= last_line and not scan.ends_with_newline:
        raise ExtractError(
            file=file,
            line=last_line,
            check="file_complete",
            problem="the last line stops short of the header's columns and has no line "
            "break: the file looks truncated",
            expected=f"{len(headers)} fields on every line",
            action="check that the whole file was transferred, then deliver it again",
        )
    if data_lines.size == records:
        good = np.setdiff1d(data_lines, rejects[LINE].to_numpy(), assume_unique=True)
        lines = pl.Series(LINE, good, dtype=pl.Int64)
    else:
        # values with line breaks inside quotes: records no longer map 1:1 to lines
        notes.append("some values span several lines; line numbers count records")
        lines = pl.Series(LINE, np.arange(2, frame.height + 2), dtype=pl.Int64)
    frame = frame.with_columns(lines)
    return RawExtract(
        frame=frame,
        rejects=rejects,
        encoding="utf-8" if encoding == "utf-8" else "windows-1252",
        delimiter=delimiter,
        ignored_columns=ignored,
        missing_optional=missing_optional,
        notes=notes,
    )


# --------------------------------------------------------------------------------------------
# XLSX and Parquet


def read_xlsx(
    path: Path, source: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> RawExtract:
    """Read an XLSX extract, header on row 1, every cell as text: the first sheet whose header
    names the source's required columns (a cover or notes sheet placed first is skipped)."""
    import fastexcel

    file = path.name
    try:
        reader = fastexcel.read_excel(path)
        sheets = [
            reader.load_sheet(i, header_row=None, dtypes="string").to_polars()
            for i in range(len(reader.sheet_names))
        ]
    except Exception as err:  # fastexcel raises its own hierarchy; any failure means unreadable
        raise _unreadable(
            file,
            f"not a readable XLSX workbook ({type(err).__name__})",
            "an .xlsx workbook with the extract on one sheet, header on row 1",
            "open it in a spreadsheet program and save it again as .xlsx",
        ) from None
    filled = [(name, t) for name, t in zip(reader.sheet_names, sheets, strict=True) if t.height]
    if not filled:
        raise ExtractError(
            file=file,
            check="header_present",
            problem="every sheet is empty",
            expected="a header row on row 1 and one row per record below it",
            action=f"check the workbook (sheets: {', '.join(reader.sheet_names)})",
        )
    first_error: ExtractError | None = None
    for sheet_name, table in filled:
        headers = [str(v) if v is not None else "" for v in table.row(0)]
        try:
            positions, ignored, missing_optional = map_headers(
                source, headers, required, optional, f"{file}, sheet '{sheet_name}'"
            )
        except ExtractError as err:
            first_error = first_error or err
            continue
        break
    else:
        assert first_error is not None
        raise first_error
    names = table.columns
    frame = (
        table.slice(1)
        .select([pl.col(names[pos]).alias(name) for pos, name in sorted(positions.items())])
        .with_columns(pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias(LINE))
    )
    # a row with every cell empty is spreadsheet padding, not a record
    content = pl.any_horizontal([pl.col(c).is_not_null() for c in frame.columns if c != LINE])
    frame = frame.filter(content)
    return RawExtract(
        frame=frame,
        rejects=_no_rejects(),
        encoding="xlsx",
        ignored_columns=ignored,
        missing_optional=missing_optional,
        notes=[f"sheet '{sheet_name}'"],
    )


def read_parquet(
    path: Path, source: str, required: tuple[str, ...], optional: tuple[str, ...]
) -> RawExtract:
    """Read a Parquet extract, all columns as strings or typed; typed values become text."""
    file = path.name
    try:
        table = pl.read_parquet(path)
    except Exception as err:  # polars raises several kinds for a damaged file
        raise _unreadable(
            file,
            f"not a readable Parquet file ({type(err).__name__})",
            "a Parquet file with one column per contract field",
            "export the file again",
        ) from None
    positions, ignored, missing_optional = map_headers(
        source, table.columns, required, optional, file
    )
    casts = []
    for pos, name in sorted(positions.items()):
        column = pl.col(table.columns[pos])
        dtype = table.dtypes[pos]
        if dtype == pl.Datetime or dtype == pl.Date:
            column = column.dt.strftime("%Y-%m-%d")
        casts.append(column.cast(pl.String).alias(name))
    frame = table.select(casts).with_columns(
        pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias(LINE)
    )
    return RawExtract(
        frame=frame,
        rejects=_no_rejects(),
        encoding="parquet",
        ignored_columns=ignored,
        missing_optional=missing_optional,
    )


def _unreadable(file: str, problem: str, expected: str, action: str) -> ExtractError:
    return ExtractError(
        file=file, check="file_readable", problem=problem, expected=expected, action=action
    )


def _no_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema={LINE: pl.Int64, "reason": pl.String, "raw": pl.String})


def read_extract(
    path: Path,
    source: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    workdir: Path,
) -> RawExtract:
    """Read one extract file by its extension; see :class:`RawExtract` for what comes back."""
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "csv":
        _refuse_binary(path)
        raw = read_csv(path, source, required, optional, workdir)
    elif suffix == "xlsx":
        raw = read_xlsx(path, source, required, optional)
    elif suffix == "parquet":
        raw = read_parquet(path, source, required, optional)
    else:
        raise ExtractError(
            file=path.name,
            check="file_readable",
            problem=f"unknown file type '.{suffix}'",
            expected="a .csv, .xlsx or .parquet file",
            action="deliver the extract in one of those formats",
        )
    for name in optional:
        if name in raw.missing_optional:
            raw.frame = raw.frame.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    if raw.received == 0:
        raise ExtractError(
            file=path.name,
            line=2,
            check="file_has_records",
            problem="the file has a header but no records",
            expected="one row per record below the header",
            action="ask the provider for the full extract of this period",
        )
    return raw


_MAGIC = {
    b"\x1f\x8b": "a gzip archive",
    b"PK\x03\x04": "a ZIP archive (an .xlsx saved with a .csv name?)",
    b"PAR1": "a Parquet file",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
}


def _refuse_binary(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(4096)
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise ExtractError(
                file=path.name,
                line=1,
                check="file_readable",
                problem=f"the file named .csv is {what}",
                expected="a plain-text CSV file",
                action="unpack or convert it, then deliver it with the right extension",
            )
    if b"\x00" in head:
        raise ExtractError(
            file=path.name,
            line=_line_of(path, head.index(b"\x00")),
            check="encoding_readable",
            problem="the file contains NUL bytes (UTF-16 or a binary file?)",
            expected="a text file in UTF-8 or Windows-1252",
            action="export the file again as CSV UTF-8",
        )
