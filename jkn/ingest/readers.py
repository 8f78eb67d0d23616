"""Read an extract file (CSV, XLSX or Parquet) into a frame of text columns, one row per record.

Every value comes back as text (identifiers are never read as numbers), headers are mapped to
the contract's names, and each record keeps the line it was found on so that errors can name
it. Records the CSV parser cannot split (wrong number of fields, a stray quote) come back
separately as *rejects*, with their line and raw text, so that nothing received is lost.

Every :class:`ExtractError` names the file as it was delivered (``delivered``: the landing
path relative to the landing root, ``2025-05/bpjs_membership.csv``), never the landing store's
copy, and never a value from a row or an unrecognised header cell (a file without a header row
would put a person's NIK and name there).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import threading
import unicodedata
import zipfile
from array import array
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl
import yaml

from jkn.ingest.errors import ExtractError
from jkn.settings import Settings, env_name, settings

LINE = "__line"
_CHUNK = 16 * 1024 * 1024
_ALIASES = Path(__file__).with_name("aliases.yaml")
# A header row longer than this (characters, before its line break) is not a header row: a
# file without line breaks, or not a CSV at all. Thousands of columns fit well within it.
MAX_HEADER_CHARS = 1_000_000
# Decompression-bomb limits for XLSX and Parquet, in one place (see max_inflated_bytes): what
# a compressed file may inflate to when read, and how many times its compressed size a zip part
# over 1 MiB may inflate (real sheets: 5-30x; bombs: ~1000x).
MAX_INFLATED_ENV = env_name("max_inflated_mib")
DEFAULT_MAX_INFLATED_BYTES = int(Settings.model_fields["max_inflated_mib"].default * 2**20)
MAX_COMPRESSION_RATIO = 100
# A text cell of the frame read from Parquet takes polars' 16-byte view before any text: a
# column of a billion empty cells compresses to nothing and still takes 16 GB.
_CELL_BYTES = 16


def max_inflated_bytes() -> int:
    """Bytes an XLSX or Parquet file may inflate to when read (``JKN_MAX_INFLATED_MIB``,
    default 1 GiB: a third of a run's 3 GB memory budget): a workbook whose zip parts inflate
    to more in all, or a Parquet file whose contract columns decode to more (their pages'
    uncompressed bytes, or :data:`_CELL_BYTES` per cell), is refused before it is read, since
    fastexcel inflates a whole sheet into memory and polars a whole column. The one setting."""
    return int(settings().max_inflated_mib * 2**20)


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
    """`` Nama_Lgkp `` → ``NAMA_LGKP``; ``Tgl. Lahir`` → ``TGL_LAHIR``.

    Compatibility forms are folded (NFKC: full-width ``ＮＩＫ`` → ``NIK``) and invisible format
    characters dropped (a zero-width space U+200B or a BOM pasted into a header cell): both
    say nothing about which column it is. Look-alike letters from other scripts (Cyrillic
    ``А`` in ``NАMA``) are *not* folded: see :func:`map_headers`.
    """
    text = unicodedata.normalize("NFKC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf").strip().upper()
    return re.sub(r"[\s.\-/]+", "_", text).strip("_")


# Capital letters of other scripts that look like Latin ones (after upper-casing): a header
# written with them reads as a contract name to a person and as another name to a program.
_LOOKALIKES = str.maketrans(
    {
        **dict.fromkeys("АΑ", "A"),
        **dict.fromkeys("ВΒ", "B"),
        **dict.fromkeys("СϹ", "C"),
        **dict.fromkeys("Ԁ", "D"),
        **dict.fromkeys("ЕΕ", "E"),
        **dict.fromkeys("НΗ", "H"),
        **dict.fromkeys("ІΙӀ", "I"),
        **dict.fromkeys("Ј", "J"),
        **dict.fromkeys("КΚ", "K"),
        **dict.fromkeys("МΜ", "M"),
        **dict.fromkeys("Ν", "N"),
        **dict.fromkeys("ОΟ", "O"),
        **dict.fromkeys("РΡ", "P"),
        **dict.fromkeys("Ԛ", "Q"),
        **dict.fromkeys("Ѕ", "S"),
        **dict.fromkeys("ТΤ", "T"),
        **dict.fromkeys("Ԝ", "W"),
        **dict.fromkeys("ХΧ", "X"),
        **dict.fromkeys("УΥ", "Y"),
        **dict.fromkeys("Ζ", "Z"),
    }
)


@cache
def _alias_map(source: str) -> dict[str, str]:
    spec = yaml.safe_load(_ALIASES.read_text(encoding="utf-8"))[source]
    mapping: dict[str, str] = {}
    for canonical, aliases in spec.items():
        mapping[normalise_header(canonical)] = canonical
        for alias in aliases or []:
            mapping[normalise_header(alias)] = canonical
    return mapping


def recognised_columns(source: str, headers: list[str]) -> set[str]:
    """The contract's columns that the cells of a candidate header row name."""
    aliases = _alias_map(source)
    return {aliases[h] for h in map(normalise_header, headers) if h in aliases}


def map_headers(
    source: str,
    headers: list[str],
    required: tuple[str, ...],
    optional: tuple[str, ...],
    file: str,
) -> tuple[dict[int, str], list[str], list[str]]:
    """Positions of the contract's columns in a header row.

    Returns ``(position → canonical name, ignored headers, missing optional columns)``.
    Raises :class:`ExtractError` when a required column is missing, a column appears twice or
    a header imitates a contract name with letters of another script.
    """
    aliases = _alias_map(source)
    found: dict[str, int] = {}
    ignored: list[str] = []
    for position, header in enumerate(headers):
        normalised = normalise_header(str(header or ""))
        canonical = aliases.get(normalised)
        if canonical is None:
            imitated = aliases.get(normalised.translate(_LOOKALIKES))
            if imitated is not None:
                foreign = sorted({ch for ch in normalised if ord(ch) > 127})
                scripts = ", ".join(
                    f"U+{ord(ch):04X} {unicodedata.name(ch, '?')}" for ch in foreign
                )
                raise ExtractError(
                    file=file,
                    line=1,
                    column=str(position + 1),
                    check="header_latin_letters",
                    problem=f"the header cell reads as {imitated} but is written with letters "
                    f"of another script ({scripts}): it is not the column {imitated}",
                    expected="header names in Latin letters, as contracts/extracts.md gives them",
                    action=f"ask the provider to retype the header of column {position + 1} as "
                    f"{imitated} (a program or a copy-paste put look-alike letters there)",
                )
            ignored.append(str(header))
            continue
        if canonical in found:
            raise ExtractError(
                file=file,
                line=1,
                column=canonical,
                check="header_unique",
                problem=f"column {canonical} appears twice in the header "
                f"(positions {found[canonical] + 1} and {position + 1})",
                expected="each column of the contract once",
                action="remove the duplicate column and deliver the file again",
            )
        found[canonical] = position
    missing = [c for c in required if c not in found]
    if missing and not found:
        # nothing in the first row names a column: no header row, or another file. The cells
        # are not echoed: without a header they are a person's NIK and name.
        raise ExtractError(
            file=file,
            line=1,
            check="required_columns_present",
            problem=f"no cell of the first row names a column of the {source} extract "
            f"({len(headers)} cell(s), none recognised): the header row seems missing, or the "
            f"file is not the {source} extract",
            expected=f"a header row on line 1 naming {', '.join(required)}",
            action=f"check that this is the {source} extract, and ask the provider to deliver "
            "it with its header row on line 1",
        )
    if missing:
        # unrecognised header cells are counted, not echoed
        named = ", ".join(missing)
        raise ExtractError(
            file=file,
            line=1,
            check="required_columns_present",
            problem=f"required column(s) {named} not in the header row (it names "
            f"{len(found)} of the contract's columns: {', '.join(found)}; "
            f"{len(ignored)} other column(s))",
            expected=f"a header row naming {', '.join(required)}",
            action=f"ask the provider to include {named}; if the file has "
            + (
                f"it under another header name, add that name to {named}'s list"
                if len(missing) == 1
                else "them under other header names, add each name to its column's list"
            )
            + f" in the {source} section of jkn/ingest/aliases.yaml and run again",
        )
    missing_optional = [c for c in optional if c not in found]
    return {pos: name for name, pos in found.items()}, ignored, missing_optional


# --------------------------------------------------------------------------------------------
# CSV


@dataclass
class _Survey:
    encoding: str  # "utf-8", "utf-16" or "cp1252"
    mixed_newlines: bool  # lone CRs (old Mac), or CRLF and LF in one file


def _opens_with_utf16_bom(head: bytes) -> bool:
    """Whether a file's first bytes are a UTF-16 byte-order mark (and not UTF-32's, which
    starts with UTF-16 LE's)."""
    return head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and not head.startswith(
        codecs.BOM_UTF32_LE
    )


def _survey(path: Path, file: str) -> _Survey:
    """The file's encoding and line-break style, in one pass of bounded memory.

    ``utf-16`` when the file opens with a UTF-16 byte-order mark (Excel's "Unicode text"; the
    mark says the encoding, nothing is guessed); ``utf-8`` (with or without BOM) when every
    byte decodes as UTF-8; else ``cp1252``, unless a byte is undefined there too.
    """
    with path.open("rb") as handle:
        head = handle.read(4)
    if _opens_with_utf16_bom(head):
        return _Survey("utf-16", mixed_newlines=True)
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, break_at, offset = True, -1, 0
    lf = cr = crlf = 0
    last = -1
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            # ASCII is UTF-8: a chunk of it needs no decoding unless a character begun in
            # the chunk before is still open (then the decoder says so)
            if utf8 and not (chunk.isascii() and not decoder.getstate()[0]):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as err:
                    utf8, break_at = False, offset + err.start
            lf += chunk.count(b"\n")
            here = chunk.count(b"\r")
            cr += here
            crlf += (chunk.count(b"\r\n") if here else 0) + int(last == 13 and chunk[0] == 10)
            last = chunk[-1]
            offset += len(chunk)
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8, break_at = False, offset
    mixed = cr > crlf or (crlf > 0 and lf > crlf)
    if utf8:
        return _Survey("utf-8", mixed_newlines=mixed)
    # Windows-1252 leaves five bytes undefined; a file with them is in no encoding we know.
    undefined = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
    with path.open("rb") as handle:
        position = 0
        while chunk := handle.read(_CHUNK):
            found = [at for at in map(chunk.find, undefined) if at >= 0]  # memchr, per byte
            if found:
                at = min(found)
                raise ExtractError(
                    file=file,
                    line=_line_of(path, position + at),
                    check="encoding_readable",
                    problem=f"byte 0x{chunk[at]:02x} is neither UTF-8 nor Windows-1252 "
                    f"(first non-UTF-8 byte at offset {break_at})",
                    expected="a text file in UTF-8 (with or without BOM) or Windows-1252",
                    action="export the file again as CSV UTF-8",
                )
            position += len(chunk)
    return _Survey("cp1252", mixed_newlines=mixed)


def _line_of(path: Path, offset: int) -> int:
    line = 1
    with path.open("rb") as handle:
        while offset > 0 and (chunk := handle.read(min(_CHUNK, offset))):
            line += chunk.count(b"\n")
            offset -= len(chunk)
    return line


_ENCODING_NAMES = {"utf-8": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252"}


def _transcode(path: Path, encoding: str, target: Path, file: str) -> Path:
    """A copy in UTF-8 with LF line breaks (CRLF and lone CR both read as one line break, as a
    text editor shows them), for DuckDB's parser, which takes one line-break style per file.
    Text that stops decoding is refused naming its line: the line breaks before the first
    byte that does not decode, counted the same way."""
    source_encoding = "utf-8-sig" if encoding == "utf-8" else encoding
    decoder = codecs.getincrementaldecoder(source_encoding)()
    lines = io.IncrementalNewlineDecoder(decoder, translate=True)
    fed = 0  # bytes given to the decoder so far
    with path.open("rb") as src, target.open("w", encoding="utf-8", newline="") as dst:
        while True:
            chunk = src.read(_CHUNK)
            held = len(decoder.getstate()[0])  # bytes of the last chunk not decoded yet
            try:
                dst.write(lines.decode(chunk, final=not chunk))
            except UnicodeDecodeError as err:
                # err.object is the held bytes followed by this chunk
                failed_at = fed - held + err.start
                break
            fed += len(chunk)
            if not chunk:
                return target
    raise ExtractError(
        file=file,
        line=_text_line_of(path, source_encoding, failed_at),
        check="encoding_readable",
        problem=f"the text stops decoding as {_ENCODING_NAMES[encoding]} (the encoding its "
        "first bytes declare)",
        expected="a text file in UTF-8 (with or without BOM), Windows-1252, or UTF-16 with "
        "a byte-order mark",
        action="export the file again as CSV UTF-8",
    )


def _text_line_of(path: Path, encoding: str, offset: int) -> int:
    """The line (1-based, CRLF, LF and lone CR each one break) that byte ``offset`` of a text
    file starts on; the bytes before it must decode."""
    lines = io.IncrementalNewlineDecoder(codecs.getincrementaldecoder(encoding)(), translate=True)
    breaks = 0
    with path.open("rb") as handle:
        while offset > 0 and (chunk := handle.read(min(_CHUNK, offset))):
            offset -= len(chunk)
            breaks += lines.decode(chunk, final=offset <= 0).count("\n")
    return 1 + breaks + lines.decode(b"", final=True).count("\n")


def _header_line(path: Path, file: str) -> str:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        first = handle.readline(MAX_HEADER_CHARS + 1)
    if len(first) > MAX_HEADER_CHARS:
        raise ExtractError(
            file=file,
            line=1,
            check="header_present",
            problem=f"line 1 runs over {MAX_HEADER_CHARS:,} characters without a line break: "
            "it is not a header row (a file without line breaks, or not a CSV)",
            expected="a header row naming the columns on line 1, then one record per line",
            action="open the file in a text editor; ask the provider to export it again as CSV",
        )
    return first.rstrip("\r\n")


def _split_header(header: str, delimiter: str, file: str) -> list[str]:
    try:
        return next(csv.reader([header], delimiter=delimiter))
    except csv.Error:
        raise ExtractError(
            file=file,
            line=1,
            check="header_present",
            problem="line 1 cannot be read as a row of column names (a cell over "
            f"{csv.field_size_limit():,} characters, or a broken quote)",
            expected="a header row of column names separated by ',' or ';'",
            action="open the file in a text editor; ask the provider to export it again as CSV",
        ) from None


def _sniff_delimiter(header: str, file: str) -> str:
    counts = {d: len(_split_header(header, d, file)) for d in (",", ";")}
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
    # records as a CSV parser splits them (a line break inside quotes does not end one), blank
    # ones included, the header first: the physical line each starts on, and whether it is blank
    record_starts: np.ndarray
    record_blank: np.ndarray
    open_quote_line: int | None  # where a quoted value opens that the file never closes


def _scan_lines(path: Path) -> _LineScan:
    """Physical lines and quote-aware records, in bounded memory (one pass, numpy per chunk).

    A line break ends a record when an even number of '"' precede it (a quoted value's '""'
    escapes count twice), which is how DuckDB splits records: its reject line numbers are
    record numbers, and ``record_starts`` turns them back into the lines an editor shows.
    """
    pieces: list[np.ndarray] = []
    starts: list[np.ndarray] = []
    blanks: list[np.ndarray] = []
    quotes = 0
    line_no = 1  # number of the line the next byte belongs to
    length = 0  # bytes on the current line so far (excluding \r\n)
    last_byte = -1
    offset = 0  # of the chunk in the file
    record_end = -1  # offset of the line break that ended the last record
    record_end_line = 0  # the line that break ended
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            data = np.frombuffer(chunk, dtype=np.uint8)
            quote_at = np.flatnonzero(data == 34)
            newlines = np.flatnonzero(data == 10)
            if newlines.size:
                starts_at = np.concatenate(([0], newlines[:-1] + 1))
                lens = newlines - starts_at
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
                ends = (quotes + np.searchsorted(quote_at, newlines)) % 2 == 0
                if ends.any():
                    at = newlines[ends].astype(np.int64) + offset
                    lines = numbers[ends]
                    before = np.concatenate(([record_end], at[:-1]))
                    before_lines = np.concatenate(([record_end_line], lines[:-1]))
                    starts.append(before_lines + 1)
                    blanks.append(at - before - 1 - cr[ends].astype(np.int64) <= 0)
                    record_end, record_end_line = int(at[-1]), int(lines[-1])
                line_no += newlines.size
                length = data.size - (int(newlines[-1]) + 1)
            else:
                length += data.size
            quotes += quote_at.size
            last_byte = int(data[-1])
            offset += data.size
    ends_with_newline = last_byte == 10
    if not ends_with_newline and length > 0:
        pieces.append(np.array([line_no], dtype=np.int64))
    if offset - record_end - 1 > 0:  # bytes after the last record's line break
        starts.append(np.array([record_end_line + 1], dtype=np.int64))
        blanks.append(np.array([False]))
    nonblank = np.concatenate(pieces) if pieces else np.empty(0, dtype=np.int64)
    return _LineScan(
        nonblank=nonblank,
        quotes=quotes,
        ends_with_newline=ends_with_newline,
        record_starts=np.concatenate(starts) if starts else np.empty(0, dtype=np.int64),
        record_blank=np.concatenate(blanks) if blanks else np.empty(0, dtype=bool),
        open_quote_line=record_end_line + 1 if quotes % 2 else None,
    )


def _parse_csv(readable: Path, delimiter: str, width: int, file: str) -> tuple[Any, pl.DataFrame]:
    """DuckDB's split of the records (every field as text, an Arrow table) and of the records
    it could not split (``reject_errors``: their record number, reasons and raw text)."""
    columns = {f"c{i}": "VARCHAR" for i in range(width)}
    con = duckdb.connect()
    try:
        # text handed over as Arrow string views, polars' own layout: taken without a copy
        con.execute("set arrow_output_version = '1.4'")
        con.execute("set produce_arrow_string_view = true")
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
    return table, rejects


def read_csv(
    path: Path,
    source: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    workdir: Path,
    *,
    delivered: str | None = None,
) -> RawExtract:
    """Read a CSV extract: delimiter ``,`` or ``;``, UTF-8 (BOM or not), Windows-1252 or UTF-16
    with a byte-order mark; line breaks LF, CRLF, CR, or a mixture. ``delivered``: the file's
    name as delivered, for messages (default: the file's own name)."""
    file = delivered or path.name
    if path.stat().st_size == 0:
        raise ExtractError(
            file=file,
            check="file_not_empty",
            problem="the file is empty (0 bytes)",
            expected="a header row and one row per record",
            action="ask the provider to export the extract again",
        )
    survey = _survey(path, file)
    readable = path
    notes: list[str] = []
    if survey.encoding != "utf-8" or survey.mixed_newlines:
        readable = _transcode(path, survey.encoding, workdir / f"{path.stem}.utf8.csv", file)
        if survey.encoding == "cp1252":
            notes.append("read as Windows-1252")
        elif survey.encoding == "utf-16":
            notes.append("read as UTF-16 (the file opens with its byte-order mark)")
        if survey.mixed_newlines and survey.encoding != "utf-16":
            notes.append("line breaks are CR only or mixed CRLF/LF: each read as one break")
    header = _header_line(readable, file)
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
    headers = _split_header(header, delimiter, file)
    positions, ignored, missing_optional = map_headers(source, headers, required, optional, file)

    # the line scan (numpy, GIL released) runs beside DuckDB's single-threaded parse
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="jkn-line-scan") as pool:
        scanning = pool.submit(_scan_lines, readable)
        table, rejects = _parse_csv(readable, delimiter, len(headers), file)
        scan = scanning.result()

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
    # an odd quote count means a value left open only if the parser agrees: a quote that opens
    # a value drops the rest of the file into it (no more records than the quote-aware scan
    # counts), a stray literal quote inside an unquoted value does not
    scanned = int(np.count_nonzero(~scan.record_blank[1:]))
    if records < data_lines.size and scan.open_quote_line is not None and records <= scanned:
        opened = scan.open_quote_line
        raise ExtractError(
            file=file,
            line=opened,
            check="file_complete",
            problem=f"a quoted value opens on line {opened} and is never closed, so the "
            f"{last_line - opened + 1} line(s) from there to the end read as one value: the "
            "file is truncated, or a closing quote is missing",
            expected="every value that opens with a double quote closes with one",
            action="check that the whole file was transferred and look at that line; ask the "
            "provider to export it again",
        )
    if records < data_lines.size and not scan.ends_with_newline:
        raise ExtractError(
            file=file,
            line=last_line,
            check="file_complete",
            problem=f"{data_lines.size} lines hold only {records} readable records and the "
            "last line has no line break: the file is truncated or a quote is missing",
            expected="every value that opens with a double quote closes with one",
            action="check that the whole file was transferred, then ask the provider to "
            "export it again",
        )
    if data_lines.size != records:
        rejects, lines, note = _record_lines(scan, rejects, frame.height, readable, delimiter)
        notes.append(note)
    else:
        good = np.setdiff1d(data_lines, rejects[LINE].to_numpy(), assume_unique=True)
        lines = pl.Series(LINE, good, dtype=pl.Int64)
    last_rejected = int(rejects.select(pl.col(LINE).max()).item()) if rejects.height else 0
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
    frame = frame.with_columns(lines)
    return RawExtract(
        frame=frame,
        rejects=rejects,
        encoding={"cp1252": "windows-1252"}.get(survey.encoding, survey.encoding),
        delimiter=delimiter,
        ignored_columns=ignored,
        missing_optional=missing_optional,
        notes=notes,
    )


def _record_lines(
    scan: _LineScan, rejects: pl.DataFrame, readable: int, path: Path, delimiter: str
) -> tuple[pl.DataFrame, pl.Series, str]:
    """Lines of records when some values span several lines: each record's (and each
    reject's) line is the one it starts on. DuckDB numbers records, blank ones included, the
    header as 1; the quote-aware scan knows where each starts. When the two disagree (a stray
    quote inside an unquoted value, which the scan takes for an opening one), the records are
    split again by :mod:`csv`, which reads quotes as DuckDB does (a quote opens a value only at
    its start). Only if that disagrees too do the numbers count records, for loaded and
    rejected rows alike, and the note says so."""
    lined = _start_lines(scan.record_starts, scan.record_blank, rejects, readable)
    if lined is None:
        split = _csv_record_starts(path, delimiter)
        lined = _start_lines(*split, rejects, readable) if split is not None else None
    if lined is not None:
        rejects, lines = lined
        return rejects, lines, "some values span several lines; a record's line is where it starts"
    # DuckDB's numbers stay on the rejects; the loaded records take the other numbers in order
    rejected = rejects[LINE].to_numpy()
    candidates = np.arange(2, readable + rejects.height + 2, dtype=np.int64)
    good = np.setdiff1d(candidates, rejected)[:readable]
    return (
        rejects,
        pl.Series(LINE, good, dtype=pl.Int64),
        "some values span several lines and where each record starts could not be told: line "
        "numbers count records (the header is record 1), not the lines an editor shows",
    )


def _start_lines(
    starts: np.ndarray, blank: np.ndarray, rejects: pl.DataFrame, readable: int
) -> tuple[pl.DataFrame, pl.Series] | None:
    """Start lines of the rejected and the readable records, given where each record of the
    file starts (the header first, blank records included), or None if DuckDB's records are
    not these: a different number, or a reject on a blank one."""
    index = np.flatnonzero(~blank)
    index = index[index >= 1]  # the header is record 0
    rejected = rejects[LINE].to_numpy() - 1
    if index.size != readable + rejects.height or not np.isin(rejected, index).all():
        return None
    good = np.setdiff1d(index, rejected, assume_unique=True)
    return (
        rejects.with_columns(pl.Series(LINE, starts[rejected], dtype=pl.Int64)),
        pl.Series(LINE, starts[good], dtype=pl.Int64),
    )


_FIELD_LIMIT_LOCK = threading.Lock()


def _csv_record_starts(path: Path, delimiter: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Where each record starts (its physical line) and whether it is blank, the header
    first, as :mod:`csv` splits the file: a quote opens a quoted value only at a value's start,
    as in DuckDB. None if the file cannot be split so. One pass in bounded memory (a number
    per record); the field size limit is lifted meanwhile (a value over DuckDB's line limit is
    still one record), under a lock since the limit is the process's."""
    starts: array[int] = array("q")
    blank: array[int] = array("b")
    with _FIELD_LIMIT_LOCK:
        limit = csv.field_size_limit()
        csv.field_size_limit(2**31 - 1)
        try:
            with path.open("r", encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle, delimiter=delimiter, quotechar='"', strict=False)
                line = 1
                for record in reader:
                    starts.append(line)
                    blank.append(not record)
                    line = reader.line_num + 1
        except (csv.Error, UnicodeDecodeError):
            return None
        finally:
            csv.field_size_limit(limit)
    return np.frombuffer(starts, dtype=np.int64), np.frombuffer(blank, dtype=np.int8).astype(bool)


# --------------------------------------------------------------------------------------------
# XLSX and Parquet


def _sheet_states(path: Path) -> list[str] | None:
    """Each sheet's visibility (``visible``, ``hidden``, ``veryHidden``) in the workbook's
    order, from ``xl/workbook.xml``, without loading any sheet; None if it cannot be told."""
    from xml.etree import ElementTree

    states: list[str] = []
    try:
        with zipfile.ZipFile(path) as archive, archive.open("xl/workbook.xml") as stream:
            for _, element in ElementTree.iterparse(stream):
                if element.tag.rsplit("}", 1)[-1] == "sheet":
                    states.append(element.get("state", "visible"))
    except Exception:  # fastexcel's flag still decides, once a sheet is loaded
        return None
    return states


def _check_workbook_size(path: Path, file: str) -> None:
    """Refuse a zip bomb before fastexcel opens the workbook (it inflates a sheet whole, into
    memory, and ignores the sizes the zip directory declares).

    The directory's sizes are checked against :func:`max_inflated_bytes` and
    :data:`MAX_COMPRESSION_RATIO`; then every part is inflated once, in chunks, by
    :mod:`zipfile`, which stops at the declared size and checks the part's CRC, so that a
    directory that lies about its sizes is caught too. Time and memory stay bounded by the
    limits, whatever the file holds.
    """
    limit = max_inflated_bytes()

    def bomb(problem: str) -> ExtractError:
        return ExtractError(
            file=file,
            check="xlsx_size_bounded",
            problem=problem,
            expected=f"an .xlsx whose parts inflate to at most {limit / 2**20:,.0f} MiB in "
            f"all ({MAX_INFLATED_ENV}), none more than {MAX_COMPRESSION_RATIO}x its compressed "
            "size",
            action="do not open the file; ask the provider to export the extract again (as "
            "CSV if it is very large)",
        )

    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
            total = sum(part.file_size for part in parts)
            if total > limit:
                raise bomb(f"the workbook's parts would inflate to {total / 2**20:,.0f} MiB")
            for part in parts:
                ratio = part.file_size / max(part.compress_size, 1)
                if part.file_size > 2**20 and ratio > MAX_COMPRESSION_RATIO:
                    raise bomb(
                        f"part {part.filename} would inflate {ratio:,.0f}x, to "
                        f"{part.file_size / 2**20:,.0f} MiB: a zip bomb, not a spreadsheet"
                    )
            for part in parts:
                with archive.open(part) as stream:
                    while stream.read(_CHUNK):
                        pass
    except ExtractError:
        raise
    except Exception as err:  # BadZipFile (CRC, sizes), zlib.error, EOFError, encrypted parts
        raise _unreadable(
            file,
            f"not a readable XLSX workbook ({type(err).__name__}: the zip archive is damaged)",
            "an .xlsx workbook with the extract on one sheet, header on row 1",
            "open it in a spreadsheet program and save it again as .xlsx",
        ) from None


def read_xlsx(
    path: Path,
    source: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    *,
    delivered: str | None = None,
) -> RawExtract:
    """Read an XLSX extract, header on row 1, every cell as text: the first *visible* sheet
    whose header names the source's columns (a cover or notes sheet placed first is skipped; a
    hidden sheet is never read: what the provider sees is what is loaded). Cells show their
    cached values: a formula saved without one reads as empty, a date-formatted cell as its
    date, a bare number as the number."""
    import fastexcel

    file = delivered or path.name
    _check_workbook_size(path, file)
    try:
        reader = fastexcel.read_excel(path)
        sheet_names = reader.sheet_names
    except Exception as err:  # fastexcel raises its own hierarchy; any failure means unreadable
        raise _unreadable(
            file,
            f"not a readable XLSX workbook ({type(err).__name__})",
            "an .xlsx workbook with the extract on one sheet, header on row 1",
            "open it in a spreadsheet program and save it again as .xlsx",
        ) from None

    def load(index: int, rows: int | None = None) -> tuple[Any, pl.DataFrame, list[str]]:
        try:
            sheet = reader.load_sheet(index, header_row=None, dtypes="string", n_rows=rows)
            table = sheet.to_polars()
        except Exception as err:
            raise _unreadable(
                file,
                f"sheet '{sheet_names[index]}' is not readable ({type(err).__name__})",
                "an .xlsx workbook with the extract on one sheet, header on row 1",
                "open it in a spreadsheet program and save it again as .xlsx",
            ) from None
        headers = [str(v) if v is not None else "" for v in table.row(0)] if table.height else []
        return sheet, table, headers

    # a sheet the workbook marks hidden is not loaded at all (unless no visible sheet holds
    # the extract: then only its first row, to say so)
    states = _sheet_states(path)
    if states is None or len(states) != len(sheet_names):
        states = ["visible"] * len(sheet_names)  # fastexcel's own flag, once loaded, decides
    refused: list[tuple[int, int, ExtractError]] = []  # (columns recognised, -index, error)
    hidden: list[int] = []
    filled = 0
    chosen = None
    for index, sheet_name in enumerate(sheet_names):
        if states[index] != "visible":
            hidden.append(index)
            continue
        sheet, table, headers = load(index)
        if sheet.visible != "visible":
            hidden.append(index)
            continue
        if not table.height:
            continue
        filled += 1
        label = f"{file}, sheet '{sheet_name}'"
        try:
            chosen = (sheet_name, table, *map_headers(source, headers, required, optional, label))
        except ExtractError as err:
            refused.append((len(recognised_columns(source, headers)), -index, err))
            continue
        break
    hidden_with_extract = [
        sheet_names[index]
        for index in (hidden if chosen is None else [])
        if set(required) <= recognised_columns(source, load(index, rows=1)[2])
    ]
    if hidden_with_extract:
        raise ExtractError(
            file=file,
            check="sheet_visible",
            problem=f"the extract's header is on hidden sheet(s) "
            f"{', '.join(repr(n) for n in hidden_with_extract)} and on no visible sheet",
            expected="the extract on a visible sheet (hidden sheets are not read: they are "
            "not what the provider sees)",
            action="ask the provider which sheet is this period's extract; unhide it (and "
            "delete stale copies) and deliver the workbook again",
        )
    if chosen is None and not filled:
        skipped = f" ({len(hidden)} hidden sheet(s) not read)" if hidden else ""
        raise ExtractError(
            file=file,
            check="header_present",
            problem=f"every visible sheet is empty{skipped}",
            expected="a header row on row 1 and one row per record below it",
            action=f"check the workbook (sheets: {', '.join(sheet_names)})",
        )
    if chosen is None:
        raise max(refused, key=lambda r: r[:2])[2]
    sheet_name, table, positions, ignored, missing_optional = chosen
    names = table.columns
    frame = (
        table.slice(1)
        .select([pl.col(names[pos]).alias(name) for pos, name in sorted(positions.items())])
        .with_columns(pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias(LINE))
    )
    # a row with every cell empty is spreadsheet padding, not a record
    content = pl.any_horizontal([pl.col(c).is_not_null() for c in frame.columns if c != LINE])
    frame = frame.filter(content)
    notes = [f"sheet '{sheet_name}'"]
    if hidden:
        notes.append(f"{len(hidden)} hidden sheet(s) not read")
    return RawExtract(
        frame=frame,
        rejects=_no_rejects(),
        encoding="xlsx",
        ignored_columns=ignored,
        missing_optional=missing_optional,
        notes=notes,
    )


def read_parquet(
    path: Path,
    source: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    *,
    delivered: str | None = None,
) -> RawExtract:
    """Read a Parquet extract, all columns as strings or typed; typed values become text.

    Only the contract's columns are read. An integer NIK reads back exactly (int64 holds every
    16-digit number, and a NIK never starts with 0); a NOKA stored as an integer has lost its
    leading zeros and a float NIK may have lost digits: both are left as the file holds them,
    for the checks to quarantine, never repaired. A nested (struct or list) contract column,
    text that is not UTF-8, and columns that would decode to more than
    :func:`max_inflated_bytes` (told from the footer, before anything is decoded) refuse the
    file.
    """
    file = delivered or path.name
    try:
        schema = pl.read_parquet_schema(path)
    except Exception as err:  # polars raises several kinds for a damaged file
        raise _parquet_unreadable(file, err) from None
    names = list(schema)
    positions, ignored, missing_optional = map_headers(source, names, required, optional, file)
    for pos, name in sorted(positions.items()):
        dtype = schema[names[pos]]
        if dtype.is_nested() or dtype == pl.Object:
            raise ExtractError(
                file=file,
                column=name,
                check="column_type_plain",
                problem=f"column {name} is a nested column ({dtype.base_type()}): a cell holds "
                "several values",
                expected="one plain value per cell: text, a number or a date",
                action=f"export the file again with {name} as a text column",
            )
    selected = {names[pos]: name for pos, name in sorted(positions.items())}
    _check_parquet_size(path, file, list(selected))
    try:
        table = pl.read_parquet(path, columns=list(selected))
    except Exception as err:
        if re.search(r"utf-?8", str(err), re.IGNORECASE):
            raise _parquet_not_utf8(path, file, selected) from None
        raise _parquet_unreadable(file, err) from None
    casts = []
    for column, name in selected.items():
        dtype = table.schema[column]
        value = pl.col(column)
        if dtype == pl.Binary:
            bad = _first_not_utf8(table[column].to_arrow())
            if bad is not None:
                raise _not_utf8(file, name, bad)
        if dtype == pl.Datetime or dtype == pl.Date:
            value = value.dt.strftime("%Y-%m-%d")
        casts.append(value.cast(pl.String).alias(name))
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


def _check_parquet_size(path: Path, file: str, columns: list[str]) -> None:
    """Refuse a Parquet file whose columns to be read would decode to more than
    :func:`max_inflated_bytes`, from its footer alone, before polars decodes it whole: the
    pages' uncompressed bytes (``total_uncompressed_size``), or the frame's cells at
    :data:`_CELL_BYTES` each (a long run of one value or of nulls is a few bytes in any page)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
    except Exception as err:
        raise _parquet_unreadable(file, err) from None
    wanted = set(columns)
    data = 0
    for g in range(meta.num_row_groups):
        group = meta.row_group(g)
        for c in range(group.num_columns):
            chunk = group.column(c)
            if chunk.path_in_schema in wanted:
                data += chunk.total_uncompressed_size
    cells = meta.num_rows * len(columns)
    limit = max_inflated_bytes()
    if max(data, cells * _CELL_BYTES) > limit:
        raise ExtractError(
            file=file,
            check="parquet_size_bounded",
            problem=f"the {len(columns)} contract column(s) would decode to "
            f"{max(data, cells * _CELL_BYTES) / 2**20:,.0f} MiB ({meta.num_rows:,} rows; "
            f"{data / 2**20:,.0f} MiB of uncompressed pages) from a file of "
            f"{path.stat().st_size / 2**20:,.1f} MiB",
            expected=f"a Parquet extract that decodes to at most {limit / 2**20:,.0f} MiB "
            f"({MAX_INFLATED_ENV})",
            action="do not open the file; check it with the provider (a file that inflates "
            "this much is a decompression bomb, or more than one kab/kota's extract); if it is "
            f"genuine and the machine has the memory, raise {MAX_INFLATED_ENV} for this run",
        )


def _first_not_utf8(values: Any) -> int | None:
    """Row index of the first value that is not UTF-8 in a pyarrow binary array, if any: a
    bisection of casts to text (each cast checks UTF-8), linear in the column's size."""
    import pyarrow as pa

    def readable(part: Any) -> bool:
        try:
            part.cast(pa.large_string())
        except pa.ArrowInvalid:
            return False
        return True

    if readable(values):
        return None
    low, high = 0, len(values)  # values[low:high] holds a value that is not UTF-8
    while high - low > 1:
        middle = (low + high) // 2
        if readable(values.slice(low, middle - low)):
            low = middle
        else:
            high = middle
    return low


def _parquet_not_utf8(path: Path, file: str, selected: dict[str, str]) -> ExtractError:
    """Find the column and row whose text is not UTF-8 (pyarrow reads such a column without
    checking; polars refuses the whole file), for the message."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for column, name in selected.items():
        try:
            data = pq.read_table(path, columns=[column]).column(0)
            if not (pa.types.is_string(data.type) or pa.types.is_large_string(data.type)):
                continue
            raw = data.cast(pa.large_binary()).combine_chunks()
        except Exception:
            continue
        bad = _first_not_utf8(raw)
        if bad is not None:
            return _not_utf8(file, name, bad)
    return _not_utf8(file, None, None)


def _not_utf8(file: str, column: str | None, row: int | None) -> ExtractError:
    return ExtractError(
        file=file,
        line=row + 2 if row is not None else None,
        column=column,
        check="encoding_readable",
        problem="a text value is not UTF-8 (Parquet text must be): the writer stored bytes of "
        "another encoding" + (f" (row {row + 1} of the data)" if row is not None else ""),
        expected="Parquet text columns in UTF-8",
        action="export the file again from the source system with UTF-8 text",
    )


def _parquet_unreadable(file: str, err: Exception) -> ExtractError:
    return _unreadable(
        file,
        f"not a readable Parquet file ({type(err).__name__})",
        "a Parquet file with one column per contract field",
        "export the file again",
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
    *,
    delivered: str | None = None,
) -> RawExtract:
    """Read one extract file by its extension; see :class:`RawExtract` for what comes back.

    ``path`` is the file to read (the landing store's copy); ``delivered`` is the file's name
    as the agency delivered it, the landing path relative to the landing root
    (``2025-05/bpjs_membership.csv``, :attr:`ReceivedFile.delivered`), used in every message
    and note. It defaults to ``path``'s own name.
    """
    file = delivered or path.name
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in ("csv", "xlsx", "parquet"):
        raise ExtractError(
            file=file,
            check="file_readable",
            problem=f"unknown file type '.{suffix}'",
            expected="a .csv, .xlsx or .parquet file",
            action="deliver the extract in one of those formats",
        )
    refuse_html_page(path, file)
    if suffix == "csv":
        _refuse_binary(path, file)
        raw = read_csv(path, source, required, optional, workdir, delivered=file)
    elif suffix == "xlsx":
        raw = read_xlsx(path, source, required, optional, delivered=file)
    else:
        raw = read_parquet(path, source, required, optional, delivered=file)
    for name in optional:
        if name in raw.missing_optional:
            raw.frame = raw.frame.with_columns(pl.lit(None, dtype=pl.String).alias(name))
    if raw.received == 0:
        raise ExtractError(
            file=file,
            line=2,
            check="file_has_records",
            problem="the file has a header but no records",
            expected="one row per record below the header",
            action="ask the provider for the full extract of this period",
        )
    return raw


_HTML = re.compile(
    rb"^\s*(<!--.*?-->\s*)?<(!doctype\s+html|html|head|body|title)[\s>]", re.I | re.S
)


def is_html_page(head: bytes) -> bool:
    """Whether a file's first bytes are an HTML page: what a web server answers (often with
    status 200) when the extract is missing, access is denied or it is down for maintenance."""
    return bool(_HTML.match(head.removeprefix(codecs.BOM_UTF8)))


def refuse_html_page(path: Path, file: str) -> None:
    with path.open("rb") as handle:
        head = handle.read(4096)
    if is_html_page(head):
        raise html_page_error(file)


def html_page_error(file: str, *, every: list[str] | None = None) -> ExtractError:
    """The refusal of an HTML page served as the extract; ``every``: the names of the files
    asked for when the server answered each of them with an HTML page."""
    what = (
        f"the server answers every name asked for ({', '.join(every)}) with an HTML page"
        if every
        else "the file is an HTML page"
    )
    return ExtractError(
        file=file,
        line=1,
        check="file_readable",
        problem=f"{what} (a web server's error, login or maintenance page), not an extract",
        expected="the extract itself, as CSV, XLSX or Parquet",
        action="open the landing URL in a browser to see what the server says; ask the "
        "provider to put the extract there",
    )


_MAGIC = {
    b"\x1f\x8b": "a gzip archive",
    b"PK\x03\x04": "a ZIP archive (an .xlsx saved with a .csv name?)",
    b"PAR1": "a Parquet file",
    b"%PDF": "a PDF document",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls workbook",
}


def _refuse_binary(path: Path, file: str) -> None:
    with path.open("rb") as handle:
        head = handle.read(4096)
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            raise ExtractError(
                file=file,
                line=1,
                check="file_readable",
                problem=f"the file named .csv is {what}",
                expected="a plain-text CSV file",
                action="unpack or convert it, then deliver it with the right extension",
            )
    if b"\x00" in head and not _opens_with_utf16_bom(head):
        raise ExtractError(
            file=file,
            line=_line_of(path, head.index(b"\x00")),
            check="encoding_readable",
            problem="the file contains NUL bytes (UTF-16 without a byte-order mark, UTF-32, or "
            "a binary file?)",
            expected="a text file in UTF-8, Windows-1252, or UTF-16 with a byte-order mark",
            action="export the file again as CSV UTF-8",
        )
