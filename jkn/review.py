"""Officers' answers on the linkage's review list come back: ``jkn lists import FILE``.

``jkn lists export link_review`` writes each review pair with a ``decision`` column left
empty and a ``pair_fingerprint`` (``jkn_pair_fingerprint``, ``warehouse/sql/macros``: the
row's period, source and line and both sides' identity columns). The officer writes
``SAMA`` (same person) or ``BEDA`` (different persons) — or ``same`` / ``different``, any case
— and leaves undecided rows empty. :func:`import_decisions` reads the file back (CSV or XLSX,
header case and spaces tolerated), checks every row and stores the answers in
``audit.review_decisions`` only if the whole file is valid. Refused, each naming the file as
delivered, the line and the column: a row that is not on a review list, a row whose identity
cells (or fingerprint) were changed, an unknown answer, two answers for one pair (or two
'same' for one record) in the file, and an answer that contradicts one already stored unless
``replace`` is given. Messages carry line numbers, column names and counts, never a value.

An answer is stored under the record's ``jkn_record_key`` (a card's NOKA; a PBI-list row's
name, birth date, sex and village) and the candidate's NIK, so :mod:`jkn.link` applies it in
that month and every later one, whatever line the record is on.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from jkn.databases import open_restricted
from jkn.exports import FORMULA_START
from jkn.settings import restricted_path
from schemas.common import date_value, text
from warehouse.build import define_macros

# The column the officer fills in, and the answers it takes (lower-cased first): the
# officers' own words and the English ones, each to the answer stored.
DECISION_COLUMN = "decision"
ANSWERS = {"sama": "same", "same": "same", "beda": "different", "different": "different"}
# What identifies a review row: its place and both sides, hashed into pair_fingerprint.
IDENTITY_COLUMNS = (
    "period",
    "source",
    "line",
    "record_nik",
    "record_nama",
    "record_tgl_lahir",
    "candidate_nik",
    "candidate_nama",
    "candidate_tgl_lahir",
)
FINGERPRINT_COLUMN = "pair_fingerprint"
REQUIRED_COLUMNS = (*IDENTITY_COLUMNS, FINGERPRINT_COLUMN, DECISION_COLUMN)
SOURCES = ("bpjs_membership", "dinsos_pbi")
SHOWN = 10  # problems spelled out in one refusal; the rest are counted

_EXPECTED_ANSWER = "SAMA or same (the same person), BEDA or different, or empty (undecided)"
_PUT_BACK = (
    "put back the value as exported (the answer goes in the decision column only), or export "
    "the list again and answer on the new file; a CSV saved by Excel may have turned a NIK into "
    "a number or changed a date: answer on the XLSX export instead"
)


@dataclass(frozen=True)
class Problem:
    """What is wrong with one row (or the header) of an answers file."""

    line: int
    column: str
    problem: str
    expected: str = ""
    action: str = ""


class DecisionsRefused(RuntimeError):
    """The answers file was refused (nothing stored): what, where, and what to do."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = sorted(problems, key=lambda p: (p.line, p.column))
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = []
        for p in self.problems[:SHOWN]:
            parts = [f"{self.file}, line {p.line}, column {p.column}: {p.problem}"]
            if p.expected:
                parts.append(f"Expected: {p.expected}")
            if p.action:
                parts.append(f"What to do: {p.action}")
            lines.append(". ".join(part.rstrip(".") for part in parts) + ".")
        more = len(self.problems) - SHOWN
        if more > 0:
            lines.append(f"… and {more} more problem(s) in {self.file}.")
        lines.append("Nothing was stored.")
        return "\n".join(lines)


@dataclass
class ImportReport:
    """What an import stored (counts only)."""

    file: str
    sha256: str
    same: int
    different: int
    undecided: int
    unchanged: int
    """answers already stored exactly so (a file imported again)"""
    replaced: int
    """stored answers the file changed (``replace``)"""


def _header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def read_answers(path: Path, shown_as: str) -> tuple[pl.DataFrame, bytes]:
    """The file's cells as text with normalised header names and ``file_line`` (the line a
    spreadsheet or text editor shows; the header is line 1), and the file's bytes."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise DecisionsRefused(
            shown_as,
            [
                Problem(
                    1,
                    "-",
                    "not a review file",
                    "the .csv or .xlsx file `jkn lists export link_review` wrote",
                    "answer on the exported file and import that",
                )
            ],
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise DecisionsRefused(
            shown_as, [Problem(1, "-", f"cannot be read ({reason})", "", "check the path")]
        ) from None
    try:
        if suffix == ".csv":
            frame = pl.read_csv(data, infer_schema=False, encoding="utf8-lossy")
        else:
            import fastexcel

            book = fastexcel.read_excel(data)
            names = book.sheet_names
            sheet = "link_review" if "link_review" in names else names[0]
            frame = book.load_sheet(sheet, dtypes="string").to_polars()
    except Exception as error:  # any reader failure is the same refusal
        raise DecisionsRefused(
            shown_as,
            [
                Problem(
                    1,
                    "-",
                    f"cannot be read as {suffix[1:].upper()} ({type(error).__name__})",
                    "the file as `jkn lists export link_review` wrote it",
                    "export the list again and answer on the new file",
                )
            ],
        ) from None
    headers = [_header(c) for c in frame.columns]
    repeated = sorted({h for h in headers if headers.count(h) > 1})
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    problems = [Problem(1, c, "this column appears twice") for c in repeated]
    problems += [
        Problem(
            1,
            c,
            "missing from the header",
            f"the columns of the exported review list ({', '.join(REQUIRED_COLUMNS)})",
            "keep the exported columns; write answers in the decision column only",
        )
        for c in missing
    ]
    if problems:
        raise DecisionsRefused(shown_as, problems)
    frame = frame.rename(dict(zip(frame.columns, headers, strict=True)))
    frame = frame.select(pl.col(c).cast(pl.String) for c in REQUIRED_COLUMNS)
    frame = frame.with_row_index("file_line", offset=2)
    # a row left wholly empty (a spreadsheet's trailing rows) is no row
    blank = pl.all_horizontal(text(c).is_null() for c in REQUIRED_COLUMNS)
    return frame.filter(~blank), data


# a text cell a spreadsheet would run as a formula was exported with a leading apostrophe
_UNNEUTRALISE = ("^'" + FORMULA_START.removeprefix("^"), "$1")


def parse_answers(frame: pl.DataFrame) -> pl.DataFrame:
    """The cells read as the list holds them (trimmed; dates in any of the extracts' three
    forms, an Excel time part dropped; the period as YYYY-MM or its first day)."""
    period = text("period")
    return frame.select(
        pl.col("file_line").cast(pl.Int64),
        pl.when(period.str.contains(r"^[0-9]{4}-[0-9]{2}$"))
        .then(period.str.strptime(pl.Date, "%Y-%m", strict=False))
        .otherwise(date_value("period"))
        .alias("period"),
        text("period").alias("period_cell"),
        text("source").str.to_lowercase().alias("source"),
        text("line").str.replace(r"\.0+$", "").cast(pl.Int64, strict=False).alias("line"),
        text("line").alias("line_cell"),
        text("record_nik").alias("record_nik"),
        text("record_nama").str.replace(*_UNNEUTRALISE).alias("record_nama"),
        date_value("record_tgl_lahir").alias("record_tgl_lahir"),
        text("candidate_nik").alias("candidate_nik"),
        text("candidate_nama").str.replace(*_UNNEUTRALISE).alias("candidate_nama"),
        date_value("candidate_tgl_lahir").alias("candidate_tgl_lahir"),
        text(FINGERPRINT_COLUMN).str.to_lowercase().alias("fingerprint"),
        text(DECISION_COLUMN).str.to_lowercase().alias("answer_cell"),
        text(DECISION_COLUMN)
        .str.to_lowercase()
        .replace_strict(ANSWERS, default=None, return_dtype=pl.String)
        .alias("answer"),
    )


def _cell_problems(rows: pl.DataFrame) -> list[Problem]:
    """Cells that do not read at all: period, source, line, answer."""
    problems = []
    checks = [
        (
            "period",
            pl.col("period").is_null(),
            "not a month",
            "the period as exported (YYYY-MM-DD or YYYY-MM)",
        ),
        (
            "source",
            ~pl.col("source").is_in(SOURCES) | pl.col("source").is_null(),
            "not a source of the review list",
            " or ".join(SOURCES),
        ),
        ("line", pl.col("line").is_null(), "not a line number", "the line number as exported"),
        (
            DECISION_COLUMN,
            pl.col("answer_cell").is_not_null() & pl.col("answer").is_null(),
            "not an answer",
            _EXPECTED_ANSWER,
        ),
    ]
    for column, bad, problem, expected in checks:
        for line in rows.filter(bad)["file_line"].to_list():
            action = (
                "write one of these answers, or leave the cell empty"
                if column == DECISION_COLUMN
                else "put back the value as exported"
            )
            problems.append(Problem(line, column, problem, expected, action))
    return problems


# The file's rows against the review lists and the stored answers (one query: no per-row
# Python). ``known``: fingerprints exported for (period, source, line), on the list now or
# stored with an answer; ``computed``: the fingerprint of the row's own identity cells.
_CHECK_SQL = """
with rows as (
    select *, jkn_pair_fingerprint(
        period, source, line, record_nik, record_nama, record_tgl_lahir,
        candidate_nik, candidate_nama, candidate_tgl_lahir
    ) as computed
    from _rows
    where period is not null and line is not null and source in ('bpjs_membership', 'dinsos_pbi')
),

exported as (
    select period, source, line, pair_fingerprint as fingerprint, record_nik, record_nama,
           record_tgl_lahir, candidate_nik, candidate_nama, candidate_tgl_lahir
    from lists.link_review
),

known as (
    select period, source, line, fingerprint from exported
    union
    select period, source, line, pair_fingerprint from audit.review_decisions
),

staged as (
    -- the record's key across months (jkn_record_key), from the row as staged
    select r.file_line, jkn_record_key(
        r.source, b.noka, coalesce(b.nama, d.nama), coalesce(b.tgl_lahir, d.tgl_lahir),
        coalesce(b.jenis_kelamin, d.jenis_kelamin), coalesce(b.kode_wilayah, d.kode_wilayah)
    ) as record_key
    from rows as r
    left join staging.bpjs_membership as b
        on r.source = 'bpjs_membership' and b.period = r.period and b.line = r.line
    left join staging.dinsos_pbi as d
        on r.source = 'dinsos_pbi' and d.period = r.period and d.line = r.line
    where b.line is not null or d.line is not null
)

select
    r.file_line,
    r.source,
    r.candidate_nik,
    r.answer,
    r.period,
    r.line,
    r.fingerprint,
    exists (
        select 1 from known as k
        where k.period = r.period and k.source = r.source and k.line = r.line
    ) as line_known,
    exists (
        select 1 from known as k
        where k.period = r.period and k.source = r.source and k.line = r.line
          and k.fingerprint = r.fingerprint
    ) as fingerprint_known,
    r.computed = r.fingerprint as cells_match,
    -- which identity cell differs from the list as it stands (when the row is still on it)
    case
        when e.line is null then null
        when r.record_nik is distinct from e.record_nik then 'record_nik'
        when r.record_nama is distinct from e.record_nama then 'record_nama'
        when r.record_tgl_lahir is distinct from e.record_tgl_lahir then 'record_tgl_lahir'
        when r.candidate_nik is distinct from e.candidate_nik then 'candidate_nik'
        when r.candidate_nama is distinct from e.candidate_nama then 'candidate_nama'
        when r.candidate_tgl_lahir is distinct from e.candidate_tgl_lahir
            then 'candidate_tgl_lahir'
    end as changed_column,
    s.record_key
from rows as r
left join exported as e
    on e.period = r.period and e.source = r.source and e.line = r.line
    and e.fingerprint = r.fingerprint
left join staged as s on s.file_line = r.file_line
"""


def _row_problems(checked: pl.DataFrame) -> list[Problem]:
    problems = []
    wrong = checked.filter(
        ~pl.col("line_known")
        | ~pl.col("cells_match").fill_null(False)
        | ~pl.col("fingerprint_known")
        | (pl.col("answer").is_not_null() & pl.col("record_key").is_null())
    )
    for row in wrong.iter_rows(named=True):  # the refused rows only: their messages
        where = f"{row['source']} {row['period']:%Y-%m} line {row['line']}"
        if not row["line_known"]:
            problems.append(
                Problem(
                    row["file_line"],
                    "line",
                    f"no review row {where} was ever exported",
                    "a row of an exported review list, its period, source and line as exported",
                    "answer on rows of the exported file only",
                )
            )
        elif not row["cells_match"]:
            problems.append(
                Problem(
                    row["file_line"],
                    row["changed_column"] or FINGERPRINT_COLUMN,
                    "changed since export (the row's fingerprint does not match its "
                    "identity columns)",
                    "the record's and the candidate's columns exactly as exported",
                    _PUT_BACK,
                )
            )
        elif not row["fingerprint_known"]:
            problems.append(
                Problem(
                    row["file_line"],
                    FINGERPRINT_COLUMN,
                    f"review row {where} now holds another pair (the list was rebuilt "
                    "since this file was exported)",
                    "the pair the list holds for this line",
                    "export the list again and answer on the new file",
                )
            )
        elif row["answer"] is not None and row["record_key"] is None:
            problems.append(
                Problem(
                    row["file_line"],
                    "line",
                    f"the record of {where} is no longer staged",
                    "a period whose extracts are still in the restricted file",
                    "answer on a review list of a period still staged",
                )
            )
    return problems


def _conflicts(answered: pl.DataFrame, stored: pl.DataFrame, replace: bool) -> list[Problem]:
    """Two answers for one pair, or 'same' for two candidates of one record: within the file
    always refused; against the stored answers refused unless ``replace``."""
    problems = []
    pair = ["source", "record_key", "candidate_nik"]
    record = ["source", "record_key"]
    opposite = answered.join(answered, on=pair, suffix="_other").filter(
        pl.col("answer") != pl.col("answer_other")
    )
    for line, other in opposite.select("file_line", "file_line_other").unique("file_line").rows():
        problems.append(
            Problem(
                line,
                DECISION_COLUMN,
                f"line {other} of this file gives the opposite answer for the same pair",
                "one answer per pair",
                "keep the right answer on one of the two lines and empty the other",
            )
        )
    same = answered.filter(pl.col("answer") == "same")
    twice = same.join(same, on=record, suffix="_other").filter(
        pl.col("candidate_nik") != pl.col("candidate_nik_other")
    )
    for line, other in twice.select("file_line", "file_line_other").unique("file_line").rows():
        problems.append(
            Problem(
                line,
                DECISION_COLUMN,
                f"line {other} of this file says the same record is another candidate",
                "SAMA for at most one candidate of a record",
                "keep SAMA on the right candidate only",
            )
        )
    if replace:
        return problems
    action = "to change a stored answer import again with --replace; else empty this answer"
    against = answered.join(stored, on=pair, suffix="_stored").filter(
        pl.col("answer") != pl.col("answer_stored")
    )
    for line, answer, name in against.select("file_line", "answer_stored", "file_name").rows():
        problems.append(
            Problem(
                line,
                DECISION_COLUMN,
                f"the answer {answer!r} is already stored for this pair (from {name})",
                "the stored answer, or --replace",
                action,
            )
        )
    stored_same = stored.filter(pl.col("answer") == "same")
    elsewhere = same.join(stored_same, on=record, suffix="_stored").filter(
        pl.col("candidate_nik") != pl.col("candidate_nik_stored")
    )
    for line, name in elsewhere.select("file_line", "file_name").unique("file_line").rows():
        problems.append(
            Problem(
                line,
                DECISION_COLUMN,
                f"this record is already stored as the same person as another candidate "
                f"(from {name})",
                "SAMA for at most one candidate of a record, or --replace",
                action,
            )
        )
    return problems


def import_decisions(
    warehouse: Path, path: Path, *, replace: bool = False, shown_as: str | None = None
) -> ImportReport:
    """Check an answered review file and store its answers in ``audit.review_decisions``
    (all or nothing). ``shown_as``: the file's name as delivered (default: ``path``)."""
    shown = shown_as or str(path)
    frame, data = read_answers(path, shown)
    rows = parse_answers(frame)
    problems = _cell_problems(rows)
    restricted = restricted_path(warehouse)
    if not restricted.exists():
        raise DecisionsRefused(
            shown,
            [
                Problem(
                    1,
                    "-",
                    f"there is no restricted file {restricted} to store answers in",
                    "the warehouse the review list was exported from",
                    "give the same --warehouse as for `jkn lists export`",
                )
            ],
        )
    with ExitStack() as stack:
        try:
            con = stack.enter_context(open_restricted(warehouse))
        except duckdb.IOException:
            raise DecisionsRefused(
                shown,
                [
                    Problem(
                        1,
                        "-",
                        f"{restricted} is being written by a refresh",
                        "",
                        "import when the refresh ends",
                    )
                ],
            ) from None
        define_macros(con)
        con.register("_rows", rows)
        checked = con.sql(_CHECK_SQL).pl()
        problems += _row_problems(checked)
        answered = checked.filter(
            pl.col("answer").is_not_null()
            & pl.col("line_known")
            & pl.col("cells_match")
            & pl.col("fingerprint_known")
            & pl.col("record_key").is_not_null()
        )
        stored = con.sql(
            "select source, record_key, candidate_nik, answer, file_name "
            "from audit.review_decisions"
        ).pl()
        problems += _conflicts(answered, stored, replace)
        if problems:
            raise DecisionsRefused(shown, problems)
        return _store(con, answered, stored, rows, shown, data)


def _store(
    con: duckdb.DuckDBPyConnection,
    answered: pl.DataFrame,
    stored: pl.DataFrame,
    rows: pl.DataFrame,
    shown: str,
    data: bytes,
) -> ImportReport:
    pair = ["source", "record_key", "candidate_nik"]
    sha256 = hashlib.sha256(data).hexdigest()
    answers = answered.unique(pair, keep="first", maintain_order=True)
    unchanged = answers.join(stored, on=[*pair, "answer"], how="semi")
    new = answers.join(unchanged, on=pair, how="anti").select(
        *pair,
        "answer",
        pl.lit(dt.datetime.now(dt.UTC)).alias("decided_at"),
        pl.lit(shown).alias("file_name"),
        pl.lit(sha256).alias("file_sha256"),
        "period",
        "line",
        pl.col("fingerprint").alias("pair_fingerprint"),
    )
    replaced = new.join(stored, on=pair, how="semi").height
    con.execute("begin transaction")
    con.register("_new", new)
    # a changed answer replaces the stored one; a record's new 'same' replaces its old 'same'
    # for another candidate (only reached with --replace: otherwise refused above)
    con.execute(
        "delete from audit.review_decisions as d using _new as n "
        "where d.source = n.source and d.record_key = n.record_key "
        "and (d.candidate_nik = n.candidate_nik "
        "or (n.answer = 'same' and d.answer = 'same'))"
    )
    con.execute("insert into audit.review_decisions by name select * from _new")
    con.execute("commit")
    return ImportReport(
        file=shown,
        sha256=sha256,
        same=new.filter(pl.col("answer") == "same").height,
        different=new.filter(pl.col("answer") == "different").height,
        undecided=rows.filter(pl.col("answer").is_null()).height,
        unchanged=unchanged.height,
        replaced=replaced,
    )
