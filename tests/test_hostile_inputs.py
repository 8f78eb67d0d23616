"""A catalogue of hostile and odd files, each taken the way the monthly flow takes a file:
received from a landing root into the landing store, read, validated, and (when it loads)
staged into a restricted DuckDB file.

One parametrised test runs every case. A case is a name, a one-line reason (what a good
pipeline does with it, and why), a builder that lays out the landing root, and the outcome:

- ``Loads``: received = loaded + quarantined, the damaged rows quarantined with the reasons
  named (on the lines named), and the rows staged (no cell of the file ever becomes SQL);
- ``Refused``: an :class:`ExtractError` with its ``check``, a message that starts with the file
  as delivered (``2024-07/bpjs_membership.csv``) and names the line/column where there is one,
  carries no row value, and nothing of the file staged (a file refused on receipt is not even
  stored);
- ``TransportFails``: ``receive_extract`` raises a transport error (not an ``ExtractError``:
  the flow retries it, then fails the source) within a bound, leaving nothing in the store.

Every case runs in a daemon thread joined with a timeout (nothing may hang), against a
landing root and store under ``tmp_path``; a folder outside the landing root holds a file
that must never be read into the store nor changed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.server
import os
import re
import socket
import struct
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from jkn.ingest.errors import ExtractError
from jkn.ingest.landing import FETCH_TIMEOUT_ENV, ReceivedFile, receive_extract
from jkn.ingest.readers import RawExtract, read_extract
from jkn.ingest.stage import write_validated
from jkn.ingest.validate import ValidationResult, validate_extract
from schemas import SCHEMAS
from tests.conftest import VALID_ROWS, rows_of, write_csv
from warehouse import RESTRICTED_LAYERS, connect

PERIOD = "2024-07"
BPJS = "bpjs_membership"
NIK = VALID_ROWS[BPJS]["NIK"]
CASE_SECONDS = 20  # a case still running after this is a hang
FETCH_TIMEOUT_S = 0.5  # the tests' JKN_FETCH_TIMEOUT_S (the one setting in jkn/ingest/landing.py)


# ------------------------------------------------------------------------------ outcomes


@dataclass(frozen=True)
class Loads:
    loaded: int
    quarantined: int
    reasons: tuple[str, ...] = ()  # each among the quarantine's reasons
    lines: tuple[int, ...] | None = None  # the quarantined rows' lines
    staged_lines: tuple[int, ...] | None = None
    note: str | None = None  # a substring of one of the reader's notes
    then: Callable[[Outcome], None] | None = None  # further assertions


@dataclass(frozen=True)
class Refused:
    check: str
    line: int | None = None
    column: str | None = None
    names: str | None = None  # how the message starts (default: "<period>/<source>.")
    says: str | None = None  # a substring of the message


@dataclass(frozen=True)
class TransportFails:
    within: float  # seconds
    says: str | None = None  # a substring of the error


@dataclass(frozen=True)
class Case:
    name: str
    why: str  # what a good pipeline does, and why
    build: Callable[[Env], str]  # lays out the landing root, returns it (path or URL)
    expect: Loads | Refused | TransportFails
    source: str = BPJS
    period: str = PERIOD


@dataclass
class Outcome:
    received: ReceivedFile | None = None
    raw: RawExtract | None = None
    result: ValidationResult | None = None
    error: BaseException | None = None
    stage: str = ""  # where it ended: "receive", "read", "validate" or "staged"
    database: Path | None = None


# ------------------------------------------------------------------------------ environment


@dataclass
class Env:
    tmp: Path
    landing: Path
    outside: Path  # beside the landing root, never to be read
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        folder = self.landing / PERIOD
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def http(self, mode: str, body: bytes) -> str:
        """A loopback HTTP server answering ``/<PERIOD>/bpjs_membership.csv`` in ``mode``."""
        return _serve(self, mode, body)


OUTSIDE_FILE = "outside.csv"


def _csv_text(source: str = BPJS, n: int = 2, changes: list[dict] | None = None) -> str:
    rows = rows_of(source, *(changes or [{} for _ in range(n)]))
    header = ",".join(rows[0])
    return "\n".join([header, *(",".join(r.values()) for r in rows)]) + "\n"


def raw_file(data: bytes | str, source: str = BPJS, ext: str = "csv") -> Callable[[Env], str]:
    def build(env: Env) -> str:
        payload = data.encode("utf-8") if isinstance(data, str) else data
        (env.folder / f"{source}.{ext}").write_bytes(payload)
        return str(env.landing)

    return build


def rows(*changes: dict[str, str], source: str = BPJS, **options: Any) -> Callable[[Env], str]:
    def build(env: Env) -> str:
        write_csv(env.folder / f"{source}.csv", rows_of(source, *changes), **options)
        return str(env.landing)

    return build


def headers(
    rename: dict[str, str], source: str = BPJS, extra: str | None = None
) -> Callable[[Env], str]:
    """Two valid rows under a header with some names replaced (and maybe an extra column)."""

    def build(env: Env) -> str:
        data = rows_of(source, {}, {})
        names = [rename.get(c, c) for c in data[0]]
        if extra is not None:
            data = [{**r, "EXTRA": "x"} for r in data]
            names.append(extra)
        write_csv(env.folder / f"{source}.csv", data, headers=names)
        return str(env.landing)

    return build


# ------------------------------------------------------------------------------ CSV content


def _lines(text: str) -> list[str]:
    return text.splitlines()


def _mid_file_bom_before_row() -> bytes:
    third = rows_of(BPJS, {}, {}, {})[2]
    return (_csv_text() + "\ufeff" + ",".join(third.values()) + "\n").encode()


def _second_export_appended() -> bytes:
    # a second export (with its BOM and header) pasted under the first
    third = rows_of(BPJS, {}, {}, {})[2]
    header = ",".join(VALID_ROWS[BPJS])
    return (_csv_text() + "\ufeff" + header + "\n" + ",".join(third.values()) + "\n").encode()


def _with_line_breaks(*breaks: str) -> bytes:
    lines = _lines(_csv_text(n=len(breaks) - 1))
    return "".join(line + end for line, end in zip(lines, breaks, strict=True)).encode()


def _ragged_cr_only() -> bytes:
    lines = _lines(_csv_text(n=3))
    lines[2] = "0001944358990,only,three"
    return ("\r".join(lines) + "\r").encode()


def _unbalanced_quote_mid_file() -> bytes:
    lines = _lines(_csv_text(n=3))
    lines[2] = lines[2].replace("SITI AMINAH", '"SITI AMINAH')
    return ("\n".join(lines) + "\n").encode()


def _stray_quote_inside_a_value() -> bytes:
    lines = _lines(_csv_text(n=2))
    lines[2] = lines[2].replace("SITI AMINAH", 'SITI "UPIK" AMINAH')
    return ("\n".join(lines) + "\n").encode()


def _quoted_newline_then_ragged() -> Callable[[Env], str]:
    def build(env: Env) -> str:
        path = write_csv(
            env.folder / f"{BPJS}.csv", rows_of(BPJS, {"NAMA": "SITI\nAMINAH"}, {}, {}, {})
        )
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[4] = "0001944358990,only,three\n"  # physical line 5, record 4
        path.write_text("".join(lines), encoding="utf-8")
        return str(env.landing)

    return build


def _stray_quote_and_multiline() -> Callable[[Env], str]:
    def build(env: Env) -> str:
        changes: tuple[dict[str, str], ...] = ({"NAMA": "SITI\nAMINAH"}, {"NAMA": 'BOY "X'}, {}, {})
        path = write_csv(env.folder / f"{BPJS}.csv", rows_of(BPJS, *changes))
        text = path.read_text(encoding="utf-8").replace('"BOY ""X"', 'BOY "X')
        path.write_text(text, encoding="utf-8")
        return str(env.landing)

    return build


def _stray_quote_multiline_and_ragged() -> Callable[[Env], str]:
    """The scan takes the stray quote for an opening one and disagrees with DuckDB, so the
    records are split again; a ragged record and a blank line come after it."""

    def build(env: Env) -> str:
        changes: tuple[dict[str, str], ...] = (
            {"NAMA": "SITI\nAMINAH"},
            {"NAMA": 'BOY "X'},
            {},
            {},
            {},
            {},
        )
        path = write_csv(env.folder / f"{BPJS}.csv", rows_of(BPJS, *changes))
        text = path.read_text(encoding="utf-8").replace('"BOY ""X"', 'BOY "X')
        lines = text.splitlines(keepends=True)
        lines[5] = "0001944358990,only,three\n"  # physical line 6, record 5
        lines.insert(7, "\n")  # a blank line 8
        path.write_text("".join(lines), encoding="utf-8")
        return str(env.landing)

    return build


def _utf16_broken_on_line_4() -> bytes:
    # CRLF as Excel writes "Unicode text"; a lone high surrogate in the third record's name
    lines = _lines(_csv_text(n=3))
    lines[3] = lines[3].replace("SITI AMINAH", "SITI \ud800AMINAH")
    return b"\xff\xfe" + "".join(f"{line}\r\n" for line in lines).encode(
        "utf-16-le", "surrogatepass"
    )


def _many_columns(extra: int, keep_contract: bool = True) -> bytes:
    data = rows_of(BPJS, {}, {})
    names = (list(data[0]) if keep_contract else []) + [f"KOLOM_{i}" for i in range(extra)]
    values = [(list(r.values()) if keep_contract else []) + ["v"] * extra for r in data]
    return ("\n".join([",".join(names), *(",".join(v) for v in values)]) + "\n").encode()


def _trailing_delimiters() -> bytes:
    return "".join(line + ",\n" for line in _lines(_csv_text())).encode()


# ------------------------------------------------------------------------------ XLSX


def _xlsx(
    sheets: list[tuple[str, list[list[object]], bool]],
    *,
    edit: Callable[[Path], None] | None = None,
    cells: Callable[[xlsxwriter.Workbook, Worksheet], None] | None = None,
) -> Callable[[Env], str]:
    """A workbook of (sheet name, rows as text, hidden) sheets; ``cells`` writes more on the
    last sheet; ``edit`` rewrites the saved file."""

    def build(env: Env) -> str:
        path = env.folder / f"{BPJS}.xlsx"
        book = xlsxwriter.Workbook(str(path))
        text = book.add_format({"num_format": "@"})
        sheet = None
        for name, table, hidden in sheets:
            sheet = book.add_worksheet(name)
            for r, row in enumerate(table):
                for c, value in enumerate(row):
                    sheet.write_string(r, c, str(value), text)
            if hidden:
                sheet.hide()
        visible = [i for i, (_, _, hidden) in enumerate(sheets) if not hidden]
        if visible:
            book.worksheets()[visible[0]].activate()
        if cells is not None:
            cells(book, sheet)
        book.close()
        if edit is not None:
            edit(path)
        return str(env.landing)

    return build


def _table(*changes: dict[str, str]) -> list[list[object]]:
    data = rows_of(BPJS, *changes)
    table: list[list[object]] = [list(data[0])]
    table.extend(list(r.values()) for r in data)
    return table


def _col(name: str) -> int:
    return list(VALID_ROWS[BPJS]).index(name)


def _rewrite_zip(path: Path, part: str, change: Callable[[bytes], bytes]) -> None:
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            target.writestr(info, change(data) if info.filename == part else data)


def _drop_cached_values(path: Path) -> None:
    """Formulas saved without their results (as a program that never calculates writes them)."""
    _rewrite_zip(
        path, "xl/worksheets/sheet1.xml", lambda xml: re.sub(rb"(</f>)<v>[^<]*</v>", rb"\1", xml)
    )


def _inflate_sheet(path: Path, mebibytes: int) -> None:
    """Pad the sheet's XML with whitespace (valid XML) that compresses ~1000:1: a zip bomb."""
    with zipfile.ZipFile(path) as source:
        items = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in items:
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, data)
                continue
            part = zipfile.ZipInfo(info.filename)
            part.compress_type = zipfile.ZIP_DEFLATED
            head, tail = data.split(b"<sheetData>")
            with target.open(part, "w") as stream:
                stream.write(head + b"<sheetData>")
                pad = b" " * 2**20
                for _ in range(mebibytes):
                    stream.write(pad)
                stream.write(tail)


def _forge_sizes(path: Path) -> None:
    """Make the zip directory lie: the bomb's sheet declares its original small size."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    assert data[info.header_offset : info.header_offset + 4] == b"PK\x03\x04"
    struct.pack_into("<I", data, info.header_offset + 22, 2000)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + length]) == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, at + 24, 2000)
        at = data.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(data))


def _bomb(forged: bool) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        _inflate_sheet(path, 200)
        if forged:
            _forge_sizes(path)

    return edit


def _merged_village(book: xlsxwriter.Workbook, sheet: Worksheet) -> None:
    # two people of one village, the code typed once in a merged cell over both rows
    sheet.merge_range(1, _col("KODE_WILAYAH"), 2, _col("KODE_WILAYAH"), "17.07.01.1004")


def _formula_noka(book: xlsxwriter.Workbook, sheet: Worksheet) -> None:
    for row in (1, 2):
        sheet.write_formula(row, _col("NOKA"), f'=TEXT({row},"0000000000000")')


def _serial_dates(book: xlsxwriter.Workbook, sheet: Worksheet) -> None:
    as_date = book.add_format({"num_format": "dd-mm-yyyy"})
    sheet.write_number(1, _col("TGL_LAHIR"), 33003, as_date)  # 10-05-1990
    sheet.write_number(2, _col("TGL_LAHIR"), 45000)  # a bare number


def _first_staged(column: str, expected: object) -> Callable[[Outcome], None]:
    def then(outcome: Outcome) -> None:
        assert outcome.result is not None
        assert outcome.result.staged[column][0] == expected

    return then


# ------------------------------------------------------------------------------ Parquet


def _parquet(make: Callable[[pl.DataFrame], pl.DataFrame]) -> Callable[[Env], str]:
    def build(env: Env) -> str:
        make(pl.DataFrame(rows_of(BPJS, {}, {}))).write_parquet(env.folder / f"{BPJS}.parquet")
        return str(env.landing)

    return build


def _parquet_bomb(env: Env) -> str:
    """8M rows of nothing: a few hundred KB of Parquet that polars would decode into 2 GB (a
    16-byte view per cell), one shared array so the test itself stays small."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    empty = pa.nulls(8_000_000, pa.string())
    pq.write_table(
        pa.table({name: empty for name in VALID_ROWS[BPJS]}), env.folder / f"{BPJS}.parquet"
    )
    return str(env.landing)


def _not_utf8_in(column: str) -> Callable[[Env], str]:
    def build(env: Env) -> str:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pl.DataFrame(rows_of(BPJS, {}, {})).with_columns(EXTRA=pl.lit("x")).to_arrow()
        values = [b"SITI AMINAH", b"JOS\xc9"]  # Windows-1252 bytes in a UTF-8 column
        offsets = pa.array([0, len(values[0]), len(values[0]) + len(values[1])], pa.int32())
        broken = pa.Array.from_buffers(
            pa.string(), 2, [None, offsets.buffers()[1], pa.py_buffer(b"".join(values))]
        )
        table = table.set_column(table.schema.get_field_index(column), column, broken)
        pq.write_table(table, env.folder / f"{BPJS}.parquet")
        return str(env.landing)

    return build


# ------------------------------------------------------------------------------ landing layout


def _period_folder(name: str) -> Callable[[Env], str]:
    def build(env: Env) -> str:
        write_csv(env.landing / name / f"{BPJS}.csv", rows_of(BPJS, {}, {}))
        return str(env.landing)

    return build


def _period_folder_links_outside(env: Env) -> str:
    write_csv(env.outside / PERIOD / f"{BPJS}.csv", rows_of(BPJS, {}, {}))
    env.landing.mkdir(parents=True, exist_ok=True)
    (env.landing / PERIOD).symlink_to(env.outside / PERIOD, target_is_directory=True)
    return str(env.landing)


def _file_links_outside(env: Env) -> str:
    (env.folder / f"{BPJS}.csv").symlink_to(env.outside / OUTSIDE_FILE)
    return str(env.landing)


def _file_links_inside(env: Env) -> str:
    archive = write_csv(env.landing / "arsip" / "bpjs_juli.csv", rows_of(BPJS, {}, {}))
    (env.folder / f"{BPJS}.csv").symlink_to(Path("..") / "arsip" / archive.name)
    return str(env.landing)


def _fifo(env: Env) -> str:
    os.mkfifo(env.folder / f"{BPJS}.csv")
    return str(env.landing)


def _directory(env: Env) -> str:
    (env.folder / "dukcapil.csv").mkdir()
    (env.folder / "dukcapil.csv" / "part-0.csv").write_text(_csv_text("dukcapil"))
    return str(env.landing)


def _two_files(env: Env) -> str:
    write_csv(env.folder / f"{BPJS}.csv", rows_of(BPJS, {}))
    _xlsx([("peserta", _table({}), False)])(env)
    return str(env.landing)


# ------------------------------------------------------------------------------ HTTP faults


def _valid_body(n: int = 200) -> bytes:
    return _csv_text(n=n).encode()


_HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Sedang dalam pemeliharaan</title></head>"
    b"<body><h1>Layanan tidak tersedia</h1><p>Silakan coba lagi nanti.</p></body></html>\n"
)


class _FaultyHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``/<PERIOD>/bpjs_membership.csv`` with the server's fault; 404 for the rest
    (``html_everywhere``: the HTML page for every path; ``soft_404``: the body for the CSV,
    the HTML page with status 200 for every other path)."""

    protocol_version = "HTTP/1.1"
    server: _FaultyServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, head: bool) -> None:
        mode, body = self.server.mode, self.server.body
        served = self.path.endswith(f"/{PERIOD}/{BPJS}.csv")
        if mode == "html_everywhere" or (mode == "soft_404" and not served):
            mode, body, served = "html", _HTML_PAGE, True
        elif mode == "soft_404":
            mode = "plain"
        if not served:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            return
        if mode == "slow":
            self.server.stop.wait(10)  # answers after 10 s (or when the test ends)
        self.send_response(200)
        self.send_header("Connection", "close")
        if mode == "html":
            self.send_header("Content-Type", "text/html; charset=utf-8")
        if mode in ("html", "drop", "slow", "plain"):
            self.send_header("Content-Length", str(len(body)))
        if mode == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if head:
            return
        if mode in ("html", "slow", "plain"):
            self.wfile.write(body)
        elif mode == "drop":
            self.wfile.write(body[: len(body) // 2])  # then the connection drops
        elif mode == "close_delimited":
            self.wfile.write(body[: len(body) // 2])  # no length said: the close ends it
        elif mode == "chunked":
            half = body[: len(body) // 2]
            self.wfile.write(f"{len(half):x}\r\n".encode() + half + b"\r\n")  # no last chunk
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class _FaultyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    mode: str
    body: bytes
    stop: threading.Event

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # the client hanging up on a faulty answer is the point, not an error


def _serve(env: Env, mode: str, body: bytes) -> str:
    server = _FaultyServer(("127.0.0.1", 0), _FaultyHandler)
    server.mode, server.body, server.stop = mode, body, threading.Event()
    server.timeout = 0.05
    deadline = time.monotonic() + 3 * CASE_SECONDS

    def loop() -> None:  # bounded: stops when told, or by itself at the deadline
        while not server.stop.is_set() and time.monotonic() < deadline:
            server.handle_request()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()

    def stop() -> None:
        server.stop.set()
        thread.join(2)
        server.server_close()

    env.cleanups.append(stop)
    return f"http://127.0.0.1:{server.server_address[1]}"


def _http(mode: str, body: bytes) -> Callable[[Env], str]:
    return lambda env: env.http(mode, body)


# ------------------------------------------------------------------------------ the catalogue

FW = str.maketrans("0123456789", "０１２３４５６７８９")  # full-width digits
AR = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")  # Arabic-Indic digits
NAMA_AT = str(_col("NAMA") + 1)
DUK_DATES = {"STATUS": "MATI"}

CASES: list[Case] = [
    # --- encodings and BOMs
    Case(
        "utf16_le_with_bom",
        "read: the byte-order mark declares the encoding (Excel's Unicode text), nothing guessed",
        raw_file(b"\xff\xfe" + _csv_text().encode("utf-16-le")),
        Loads(2, 0, note="UTF-16"),
    ),
    Case(
        "utf16_be_with_bom",
        "read, as LE: the mark says which byte order",
        raw_file(b"\xfe\xff" + _csv_text().encode("utf-16-be")),
        Loads(2, 0, note="UTF-16"),
    ),
    Case(
        "utf16_without_bom",
        "refused: NUL bytes and no mark, so the encoding would be a guess",
        raw_file(_csv_text().encode("utf-16-le")),
        Refused("encoding_readable", line=1),
    ),
    Case(
        "utf16_that_stops_decoding_on_line_4",
        "refused naming the line where the text stops decoding (lines counted up to that byte)",
        raw_file(_utf16_broken_on_line_4()),
        Refused("encoding_readable", line=4, says="stops decoding as UTF-16"),
    ),
    Case(
        "utf8_bom_mid_file_before_a_row",
        "loads: a BOM at a value's end is encoding noise, trimmed like white space",
        raw_file(_mid_file_bom_before_row()),
        Loads(3, 0, then=_first_staged("noka", "0001944358911")),
    ),
    Case(
        "second_export_appended_with_its_bom_and_header",
        "the pasted header row is quarantined (not a record), the rows around it load",
        raw_file(_second_export_appended()),
        Loads(3, 1, reasons=("noka_is_13_digits",), lines=(4,), staged_lines=(2, 3, 5)),
    ),
    Case(
        "windows_1252",
        "read as Windows-1252 (the contract allows it), names decoded right",
        rows({"NAMA": "JOSÉ MUÑOZ"}, {}, encoding="cp1252"),
        Loads(2, 0, note="Windows-1252", then=_first_staged("nama", "JOSÉ MUÑOZ")),
    ),
    # --- line endings
    Case(
        "cr_only_line_breaks",
        "read: a lone CR is a line break (old Mac), and line numbers stay what an editor shows",
        raw_file(_with_line_breaks("\r", "\r", "\r")),
        Loads(2, 0, staged_lines=(2, 3), note="CR only"),
    ),
    Case(
        "mixed_crlf_and_lf",
        "read (DuckDB alone refuses the mix): each break counts once, lines stay true",
        raw_file(_with_line_breaks("\r\n", "\n", "\r\n", "\n")),
        Loads(3, 0, staged_lines=(2, 3, 4)),
    ),
    Case(
        "cr_only_with_a_ragged_row",
        "the ragged record is quarantined on its true line, the others load",
        raw_file(_ragged_cr_only()),
        Loads(2, 1, reasons=("record_readable",), lines=(3,), staged_lines=(2, 4)),
    ),
    # --- quoting
    Case(
        "unbalanced_quote_mid_file",
        "refused, naming the line the quote opens on: where the value ends cannot be known",
        raw_file(_unbalanced_quote_mid_file()),
        Refused("file_complete", line=3, says="opens on line 3"),
    ),
    Case(
        "quoted_newlines_and_delimiters_in_values",
        "loads with the values whole; a record's line is the line it starts on",
        rows({"NAMA": 'SITI\nAMINAH, "UPIK"; BINTI'}, {}, {}),
        Loads(
            3,
            0,
            staged_lines=(2, 4, 5),
            then=_first_staged("nama", 'SITI\nAMINAH, "UPIK"; BINTI'),
        ),
    ),
    Case(
        "quoted_newline_then_a_ragged_row",
        "the ragged record is quarantined on its physical line, not its record number",
        _quoted_newline_then_ragged(),
        Loads(3, 1, reasons=("record_readable",), lines=(5,), staged_lines=(2, 4, 6)),
    ),
    Case(
        "stray_quote_inside_an_unquoted_value",
        "loads: a quote inside an unquoted value is a character of the value",
        raw_file(_stray_quote_inside_a_value()),
        Loads(2, 0),
    ),
    Case(
        "stray_quote_and_a_multiline_value",
        "loads (the parser reads the stray quote as a character); a record's line is its start",
        _stray_quote_and_multiline(),
        Loads(4, 0, staged_lines=(2, 4, 5, 6), note="where it starts"),
    ),
    Case(
        "stray_quote_multiline_value_then_a_ragged_row_and_a_blank_line",
        "the ragged record is quarantined on its start line; no loaded row shares or shifts it",
        _stray_quote_multiline_and_ragged(),
        Loads(
            5,
            1,
            reasons=("record_readable",),
            lines=(6,),
            staged_lines=(2, 4, 5, 7, 9),
            note="where it starts",
        ),
    ),
    # --- shape
    Case(
        "a_single_5_mb_line",
        "refused at once: 5 MB without a line break is not a header row",
        raw_file(b"NOKA," * 1_000_000),
        Refused("header_present", line=1),
    ),
    Case(
        "a_5_mb_field_in_one_row",
        "that record is quarantined as unreadable (over the parser's line limit), others load",
        rows({}, {"NAMA": "A" * 5_000_000}),
        Loads(1, 1, reasons=("record_readable",), lines=(3,)),
    ),
    Case(
        "thousands_of_columns",
        "loads: columns outside the contract are counted and ignored",
        raw_file(_many_columns(5000)),
        Loads(2, 0, then=lambda o: _ignored(o, 5000)),
    ),
    Case(
        "thousands_of_columns_none_of_the_contract",
        "refused: nothing in line 1 is a contract column (a header row missing, or another file)",
        raw_file(_many_columns(5000, keep_contract=False)),
        Refused("required_columns_present", line=1, says="header row seems missing"),
    ),
    Case(
        "trailing_delimiter_on_every_line",
        "loads: the trailing empty column has no name and is ignored",
        raw_file(_trailing_delimiters()),
        Loads(2, 0),
    ),
    # --- hostile header names
    Case(
        "sql_in_an_extra_header",
        "loads; the header is only ever a name compared with the contract's, never SQL",
        headers({}, source="dukcapil", extra='nik"; drop table staging.dukcapil; --'),
        Loads(2, 0, then=lambda o: _ignored(o, 1)),
        source="dukcapil",
    ),
    Case(
        "sql_as_the_nik_header",
        "refused: NIK is missing; the hostile header is not echoed",
        headers({"NIK": 'nik"; drop table staging.dukcapil; --'}, source="dukcapil"),
        Refused("required_columns_present", line=1, says="required column(s) NIK not in"),
        source="dukcapil",
    ),
    Case(
        "sql_in_cells",
        "loads: values are data, bound as data, staged verbatim",
        rows({"NAMA_LGKP": "X'); DROP TABLE staging.dukcapil; --"}, {}, source="dukcapil"),
        Loads(2, 0, then=_first_staged("nama", "X'); DROP TABLE staging.dukcapil; --")),
        source="dukcapil",
    ),
    Case(
        "zero_width_characters_in_headers",
        "loads: an invisible character in a header says nothing about the column; dropped",
        headers({"NIK": "N\u200bIK", "NAMA": "NAMA\u200b", "NOKA": "\u2060NOKA"}),
        Loads(2, 0),
    ),
    Case(
        "full_width_header",
        "loads: NFKC folds full-width Latin letters, the same letters in another width",
        headers({"NIK": "ＮＩＫ"}),
        Loads(2, 0),
    ),
    Case(
        "look_alike_cyrillic_in_a_header",
        "refused: 'NАMA' with a Cyrillic А reads as NAMA to a person but is another name",
        headers({"NAMA": "NАMA"}),
        Refused("header_latin_letters", line=1, column=NAMA_AT, says="CYRILLIC CAPITAL LETTER A"),
    ),
    # --- non-ASCII digits: quarantined, never converted into another (valid) NIK
    Case(
        "full_width_digits_in_nik",
        "quarantined: a NIK in other digits is not the string the agency holds",
        rows({"NIK": NIK.translate(FW)}, {}),
        Loads(1, 1, reasons=("nik_is_16_digits",), lines=(2,)),
    ),
    Case(
        "arabic_indic_digits_in_nik",
        "quarantined (NFKC would not even convert these: no normalisation is consistent)",
        rows({"NIK": NIK.translate(AR)}, {}, source="dukcapil"),
        Loads(1, 1, reasons=("nik_is_16_digits",), lines=(2,)),
        source="dukcapil",
    ),
    Case(
        "non_ascii_digits_in_noka_codes_and_counts",
        "each damaged field quarantines its row with its own check",
        rows(
            {"NOKA": "0001944358911".translate(AR)},
            {"KODE_WILAYAH": "17.07.01.1004".translate(FW)},
            {"KELAS": "３"},
            {"BULAN_TUNGGAKAN": "٢"},
            {"TGL_LAHIR": "10-05-1990".translate(AR)},
            {},
        ),
        Loads(
            1,
            5,
            reasons=(
                "noka_is_13_digits",
                "village_code_is_10_digits",
                "kelas_is_1_2_3",
                "arrears_is_count",
                "dob_is_date",
            ),
            lines=(2, 3, 4, 5, 6),
        ),
    ),
    Case(
        "zero_width_space_at_the_end_and_inside_a_nik",
        "at the end it is trimmed (loads); inside it damages the NIK (quarantined)",
        rows({"NIK": NIK + "\u200b"}, {"NIK": NIK[:8] + "\u200b" + NIK[8:]}),
        Loads(1, 1, reasons=("nik_is_16_digits",), lines=(3,), then=_first_staged("nik", NIK)),
    ),
    # --- impossible and extreme dates
    Case(
        "impossible_and_placeholder_dates",
        "31-02-2024 and 00-00-0000 are no dates: quarantined, not guessed",
        rows({"TGL_LAHIR": "31-02-2024"}, {"TGL_LAHIR": "00-00-0000"}, {}),
        Loads(1, 2, reasons=("dob_is_date",), lines=(2, 3)),
    ),
    Case(
        "year_2999",
        "a birth or membership start after the period is impossible: quarantined",
        rows({"TGL_LAHIR": "01-01-2999"}, {"TMT": "2999-01-01"}, {}),
        Loads(1, 2, reasons=("dob_not_in_future", "tmt_is_date"), lines=(2, 3)),
    ),
    Case(
        "death_before_birth_and_death_in_2999",
        "one of the two dates is wrong and which cannot be told: quarantined",
        rows(
            {**DUK_DATES, "TGL_STATUS": "01-01-1980"},
            {**DUK_DATES, "TGL_STATUS": "01-01-2999"},
            {**DUK_DATES, "TGL_STATUS": "01-01-2020"},
            source="dukcapil",
        ),
        Loads(
            1,
            2,
            reasons=("status_date_not_before_birth", "status_date_is_date"),
            lines=(2, 3),
        ),
        source="dukcapil",
    ),
    Case(
        "negative_arrears",
        "months in arrears cannot be negative: quarantined",
        rows({"BULAN_TUNGGAKAN": "-3"}, {}),
        Loads(1, 1, reasons=("arrears_is_count",), lines=(2,)),
    ),
    # --- codes that look like paths
    Case(
        "path_as_region_code",
        "quarantined as not a village code; a code is never used as a path",
        rows({"KODE_WILAYAH": "../../etc/passwd"}, {}),
        Loads(1, 1, reasons=("village_code_is_10_digits",), lines=(2,)),
    ),
    Case(
        "path_as_facility_code",
        "loads as opaque text: KODE_FASKES has no format in the contract, and is never a path",
        rows({"KODE_FASKES": "../../etc/passwd"}, {}),
        Loads(2, 0, then=_first_staged("kode_faskes", "../../etc/passwd")),
    ),
    # --- landing layout
    Case(
        "period_folder_not_yyyy_mm",
        "refused as absent, naming the folder that is not YYYY-MM (nothing is guessed)",
        _period_folder("2024-7"),
        Refused("file_present", says="'2024-7'"),
    ),
    Case(
        "period_argument_is_a_path",
        "refused before anything is read or written: the period names folders",
        _period_folder(PERIOD),
        Refused("period_format", names="bpjs_membership extract"),
        period="../../outside",
    ),
    Case(
        "period_folder_symlink_outside_the_root",
        "refused: the bytes would come from outside the landing root",
        _period_folder_links_outside,
        Refused("file_inside_landing_root"),
    ),
    Case(
        "landing_file_symlink_outside_the_root",
        "refused before it is opened",
        _file_links_outside,
        Refused("file_inside_landing_root"),
    ),
    Case(
        "landing_file_symlink_inside_the_root",
        "loads: a link that stays inside the landing root is the provider's own layout",
        _file_links_inside,
        Loads(2, 0),
    ),
    Case(
        "fifo_named_like_the_file",
        "refused without opening it: reading a FIFO would block the run forever",
        _fifo,
        Refused("file_is_regular", says="FIFO"),
    ),
    Case(
        "directory_named_dukcapil_csv",
        "refused: a directory is not an extract (say, a Spark export folder)",
        _directory,
        Refused("file_is_regular", says="a directory"),
        source="dukcapil",
    ),
    Case(
        "two_files_for_one_source",
        "refused: which of .csv and .xlsx is the extract cannot be told",
        _two_files,
        Refused("single_file_per_source"),
    ),
    # --- XLSX oddities
    Case(
        "xlsx_hidden_first_sheet",
        "the visible sheet loads; a hidden sheet (a stale copy here) is never read",
        _xlsx([("lama", _table({}, {}, {}, {}), True), ("peserta", _table({}, {}), False)]),
        Loads(2, 0, note="hidden sheet"),
    ),
    Case(
        "xlsx_extract_only_on_a_hidden_sheet",
        "refused: what the provider sees is not the extract; ask which sheet is",
        _xlsx([("lama", _table({}, {}), True), ("catatan", [["dibuat oleh", "BPJS"]], False)]),
        Refused("sheet_visible", names=f"{PERIOD}/{BPJS}.xlsx"),
    ),
    Case(
        "xlsx_merged_cells",
        "only the merge's first cell holds the value: the row below is quarantined, not filled",
        _xlsx([("peserta", _table({}, {"KODE_WILAYAH": ""}), False)], cells=_merged_village),
        Loads(1, 1, reasons=("village_code_is_10_digits",), lines=(3,)),
    ),
    Case(
        "xlsx_formulas_without_cached_values",
        "a formula with no saved result reads empty: quarantined (formulas are not evaluated)",
        _xlsx([("peserta", _table({}, {}), False)], cells=_formula_noka, edit=_drop_cached_values),
        Loads(0, 2, reasons=("noka_is_13_digits",), lines=(2, 3)),
    ),
    Case(
        "xlsx_excel_serial_dates",
        "a date-formatted serial is the date Excel shows; a bare 45000 is no date: quarantined",
        _xlsx([("peserta", _table({}, {}), False)], cells=_serial_dates),
        Loads(
            1,
            1,
            reasons=("dob_is_date",),
            lines=(3,),
            then=_first_staged("tgl_lahir", dt.date(1990, 5, 10)),
        ),
    ),
    Case(
        "xlsx_zip_bomb",
        "refused from the zip directory, before fastexcel inflates 200 MB into memory",
        _xlsx([("peserta", _table({}, {}), False)], edit=_bomb(forged=False)),
        Refused("xlsx_size_bounded", names=f"{PERIOD}/{BPJS}.xlsx"),
    ),
    Case(
        "xlsx_zip_bomb_with_a_lying_directory",
        "refused: inflating within the declared size fails the CRC (fastexcel ignores sizes)",
        _xlsx([("peserta", _table({}, {}), False)], edit=_bomb(forged=True)),
        Refused("file_readable", names=f"{PERIOD}/{BPJS}.xlsx", says="damaged"),
    ),
    # --- Parquet oddities
    Case(
        "parquet_nested_contract_column",
        "refused: a struct in NAMA holds several values; flattening it would be a guess",
        _parquet(lambda f: f.with_columns(pl.struct("NAMA", "NIK").alias("NAMA"))),
        Refused("column_type_plain", column="NAMA", names=f"{PERIOD}/{BPJS}.parquet"),
    ),
    Case(
        "parquet_nested_column_outside_the_contract",
        "loads: only the contract's columns are read",
        _parquet(lambda f: f.with_columns(pl.concat_list("NAMA", "NIK").alias("EXTRA"))),
        Loads(2, 0),
    ),
    Case(
        "parquet_nik_as_int64",
        "loads exactly: int64 holds 16 digits and a NIK never starts with 0 (no damage)",
        _parquet(lambda f: f.with_columns(pl.col("NIK").cast(pl.Int64))),
        Loads(2, 0, then=_first_staged("nik", NIK)),
    ),
    Case(
        "parquet_nik_as_float64",
        "quarantined: a float NIK may have lost digits; it is never rounded back into one",
        _parquet(lambda f: f.with_columns(pl.col("NIK").cast(pl.Int64).cast(pl.Float64))),
        Loads(0, 2, reasons=("nik_is_16_digits",), lines=(2, 3)),
    ),
    Case(
        "parquet_noka_as_int64",
        "quarantined: the leading zeros are gone from the file and cannot be guessed back",
        _parquet(lambda f: f.with_columns(pl.col("NOKA").cast(pl.Int64))),
        Loads(0, 2, reasons=("noka_is_13_digits",)),
    ),
    Case(
        "parquet_decompression_bomb",
        "refused from the footer (rows, uncompressed sizes) before polars decodes 2 GB",
        _parquet_bomb,
        Refused("parquet_size_bounded", names=f"{PERIOD}/{BPJS}.parquet", says="8,000,000 rows"),
    ),
    Case(
        "parquet_invalid_utf8_in_a_contract_column",
        "refused, naming column and row: Parquet text must be UTF-8, the encoding is unknown",
        _not_utf8_in("NAMA"),
        Refused("encoding_readable", line=3, column="NAMA", names=f"{PERIOD}/{BPJS}.parquet"),
    ),
    Case(
        "parquet_binary_column_not_utf8",
        "refused, naming column and row: bytes typed as binary are text of an unknown encoding",
        _parquet(
            lambda f: f.with_columns(pl.Series("NAMA", [b"SITI", b"JOS\xc9"], dtype=pl.Binary))
        ),
        Refused("encoding_readable", line=3, column="NAMA", names=f"{PERIOD}/{BPJS}.parquet"),
    ),
    Case(
        "parquet_invalid_utf8_outside_the_contract",
        "loads: a column the pipeline does not read cannot fail it",
        _not_utf8_in("EXTRA"),
        Loads(2, 0),
    ),
    # --- HTTP landing faults (loopback server)
    Case(
        "http_html_page_with_status_200",
        "refused on receipt, before it is stored: the real file will then be 'new'",
        _http("html", _HTML_PAGE),
        Refused("file_readable", line=1, says="HTML page"),
    ),
    Case(
        "http_same_html_page_for_every_name",
        "refused as an HTML page, not as three files: .csv, .xlsx and .parquet all 'exist'",
        _http("html_everywhere", _HTML_PAGE),
        Refused("file_readable", line=1, says="every name asked for"),
    ),
    Case(
        "http_html_page_for_every_other_name",
        "loads the CSV: a name answered with an HTML page (a soft 404) is no second file",
        _http("soft_404", _valid_body(2)),
        Loads(2, 0),
    ),
    Case(
        "http_connection_dropped_mid_file",
        "a transport error (retried by the flow), nothing stored",
        _http("drop", _valid_body()),
        TransportFails(within=5),
    ),
    Case(
        "http_no_content_length_stops_early",
        "the transfer looks complete; the reader refuses the cut last line as truncated",
        _http("close_delimited", _valid_body()),
        Refused("file_complete"),
    ),
    Case(
        "http_chunked_stops_before_the_last_chunk",
        "a transport error (the stream never ended), nothing stored",
        _http("chunked", _valid_body()),
        TransportFails(within=5),
    ),
    Case(
        "http_server_answers_after_10_s",
        "the fetch fails after JKN_FETCH_TIMEOUT_S of silence instead of hanging",
        _http("slow", _valid_body(2)),
        TransportFails(within=5, says="JKN_FETCH_TIMEOUT_S"),
    ),
]


def _ignored(outcome: Outcome, count: int) -> None:
    assert outcome.raw is not None and len(outcome.raw.ignored_columns) == count


# ------------------------------------------------------------------------------ harness


def _ingest(case: Case, landing: str, store: Path, workdir: Path, database: Path) -> Outcome:
    """Receive, read, validate and stage one source's file as the flow does."""
    outcome = Outcome()
    schema = SCHEMAS[case.source]
    try:
        outcome.stage = "receive"
        outcome.received = receive_extract(landing, case.period, case.source, store)
        outcome.stage = "read"
        outcome.raw = read_extract(
            outcome.received.path,
            case.source,
            schema.required,
            schema.optional,
            workdir,
            delivered=outcome.received.delivered,
        )
        outcome.stage = "validate"
        outcome.result = validate_extract(outcome.raw, schema, case.period)
    except BaseException as error:  # the case says which were expected
        outcome.error = error
        return outcome
    _stage(outcome.result, case, outcome.received, database)
    outcome.stage, outcome.database = "staged", database
    return outcome


def _stage(result: ValidationResult, case: Case, received: ReceivedFile, database: Path) -> None:
    """Staging by the flow's own writer (frames registered and inserted, never SQL text)."""
    with connect(database, RESTRICTED_LAYERS, private=True) as con:
        con.execute("begin transaction")
        write_validated(con, result, case.period, received.sha256)
        con.execute("commit")


def _bounded(run: Callable[[], Outcome], seconds: float) -> tuple[Outcome, float]:
    box: dict[str, Outcome] = {}
    started = time.monotonic()
    worker = threading.Thread(target=lambda: box.setdefault("outcome", run()), daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"still running after {seconds} s: this input would hang the flow")
    return box["outcome"], time.monotonic() - started


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    monkeypatch.setenv(FETCH_TIMEOUT_ENV, str(FETCH_TIMEOUT_S))
    outside = tmp_path / "outside"
    outside.mkdir()
    write_csv(outside / OUTSIDE_FILE, rows_of(BPJS, {"NAMA": "RAHASIA DI LUAR"}, {}))
    environment = Env(tmp=tmp_path, landing=tmp_path / "landing", outside=outside)
    try:
        yield environment
    finally:
        for cleanup in environment.cleanups:
            cleanup()


def _tree(folder: Path) -> dict[str, bytes | None]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
        for p in sorted(folder.rglob("*"))
    }


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_input(case: Case, env: Env) -> None:
    landing = case.build(env)
    store, workdir = env.tmp / "store", env.tmp / "work"
    workdir.mkdir()
    outside_before = _tree(env.outside)
    outcome, elapsed = _bounded(
        lambda: _ingest(case, landing, store, workdir, env.tmp / "r.duckdb"), CASE_SECONDS
    )
    expect = case.expect

    # nothing read from, or written to, outside the landing root and the store
    assert _tree(env.outside) == outside_before
    secret = (env.outside / OUTSIDE_FILE).read_bytes()
    kept = [p for p in store.rglob("*") if p.is_file()] if store.exists() else []
    assert all(p.read_bytes() != secret for p in kept), "bytes from outside the landing root"
    assert not (env.tmp.parent / "outside").exists()  # what store/"../../outside" would be
    assert not any(p.name.endswith(".partial") for p in kept), "a transfer left a partial file"

    if isinstance(expect, TransportFails):
        assert outcome.stage == "receive", f"{case.name}: {outcome.stage} {outcome.error!r}"
        assert outcome.error is not None and not isinstance(outcome.error, ExtractError), (
            f"{case.name}: expected a transport error, got {outcome.error!r}"
        )
        assert elapsed < expect.within, f"{case.name}: took {elapsed:.1f} s"
        assert expect.says is None or expect.says in str(outcome.error), outcome.error
        assert not any(p.name.startswith(case.source) for p in kept), "a failed fetch was stored"
        return

    if isinstance(expect, Refused):
        error = outcome.error
        assert isinstance(error, ExtractError), f"{case.name}: {outcome.stage} {error!r}"
        message = str(error)
        assert error.check == expect.check, message
        assert outcome.result is None and outcome.database is None  # nothing of it staged
        names = expect.names or f"{case.period}/{case.source}."
        assert message.startswith(names), message  # the file as delivered
        assert "landing-store" not in message and str(store) not in message
        if expect.line is not None:
            assert error.line == expect.line, message
        if expect.column is not None:
            assert error.column == expect.column, message
        if expect.says is not None:
            assert expect.says in message, message
        assert "What to do" in message and "Traceback" not in message
        assert NIK not in message and "SITI" not in message and "drop table" not in message
        if outcome.stage == "receive":  # refused on receipt: not even stored
            assert not any(p.name.startswith(case.source) for p in kept), kept
        return

    assert outcome.error is None, f"{case.name}: {outcome.stage}: {outcome.error}"
    result, raw = outcome.result, outcome.raw
    assert result is not None and raw is not None
    assert result.received == result.loaded + result.quarantined  # row conservation
    assert (result.loaded, result.quarantined) == (expect.loaded, expect.quarantined), (
        result.quarantine.select("line", "reasons")
    )
    reasons = set(result.quarantine["reasons"].explode().drop_nulls().to_list())
    assert set(expect.reasons) <= reasons, reasons
    if expect.lines is not None:
        assert tuple(result.quarantine["line"].to_list()) == expect.lines
    if expect.staged_lines is not None:
        assert tuple(result.staged["line"].to_list()) == expect.staged_lines
    if expect.note is not None:
        assert any(expect.note in note for note in raw.notes), raw.notes
    # staged: every staging table is still there, holding exactly what was validated
    with connect(env.tmp / "r.duckdb", RESTRICTED_LAYERS, private=True) as con:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        assert {"dukcapil", "dinsos_pbi", "bpjs_membership", "quarantine"} <= tables
        staged = con.execute(f"select count(*) from staging.{case.source}").fetchone()
        quarantined = con.execute("select count(*) from audit.quarantine").fetchone()
    assert staged == (expect.loaded,) and quarantined == (expect.quarantined,)
    if expect.then is not None:
        expect.then(outcome)


def test_every_case_says_why_and_the_families_are_covered() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert all(case.why for case in CASES)
    for family in ("utf16", "line", "quote", "5_mb", "sql", "digits", "date", "path", "symlink"):
        assert any(family in name for name in names), family
    for family in ("fifo", "xlsx", "parquet", "http"):
        assert any(name.startswith(family) or family in name for name in names), family


def test_the_fetch_timeout_is_the_one_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from jkn.ingest import landing
    from jkn.settings import settings

    monkeypatch.delenv(FETCH_TIMEOUT_ENV, raising=False)
    settings.cache_clear()
    assert landing.fetch_timeout() == landing.DEFAULT_FETCH_TIMEOUT_S
    monkeypatch.setenv(FETCH_TIMEOUT_ENV, "2.5")
    settings.cache_clear()
    options = landing._storage_options("http://127.0.0.1:1/x.csv")
    limits = options["client_kwargs"]["timeout"]
    assert (limits.sock_connect, limits.sock_read, limits.total) == (2.5, 2.5, None)
