"""Show that a change leaves the marts identical: the same month, run by two versions of the code.

    ./dev marts-diff [REV] [--right REV2] [--restricted] [...]     (REV defaults to HEAD)

1. Generates, with the working tree's generator and once per set of parameters (cached in
   ``.cache/marts-diff/``), a multi-region landing: by default the five seed districts (kab/kota
   in three provinces: 16 Sumatera Selatan, 17 Bengkulu, 52 NTB), 3,000 residents each, for
   two consecutive months.
2. Runs the monthly flow on it, the months oldest first, twice: with the code of REV (a
   detached ``git worktree`` in a temporary folder) and with the working tree (or with the
   code of REV2 under ``--right``). Both use this interpreter (``.venv``); each side imports
   its own tree (``PYTHONPATH`` and the working directory point at it, and every module of
   jkn, flows, tasks and warehouse the run loaded is checked to come from there) and writes
   its own warehouse.
3. Compares every table of schema ``marts`` of the two warehouses (with ``--restricted`` also
   schema ``lists`` of the restricted files; counts only, never their rows: they hold NIK and
   names): the same tables, the same columns (names, types, order), the same rows as multisets
   (``EXCEPT ALL`` both ways). Exit 0 when all are identical, 1 when something differs, 2 when
   the comparison could not be made (a run failed, a revision is unknown, ...).

Both sides run with the same interpreter and installed packages: a REV whose ``uv.lock`` differs
from the working tree's runs against the working tree's dependencies.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
CACHE = REPO / ".cache" / "marts-diff"

# The five seed districts (jkn/generate/scenarios.py): Lubuklinggau, Banyuasin, OKU Timur (16),
# Lebong (17), Lombok Timur (52).
DEFAULT_REGIONS = ("16.73", "16.07", "16.08", "17.07", "52.03")
DEFAULT_PERIODS = ("2025-04", "2025-05")
DEFAULT_PERSONS = 3_000
DEFAULT_SEED = 20261124

MART_SCHEMA = "marts"
LIST_SCHEMA = "lists"
ROW_SAMPLE = 5  # differing rows shown per mart table (counts only: marts hold no personal data)

# Columns that legitimately differ between two runs of the same data, never compared. Matched
# by column name in every compared table. None of them is in marts.* or lists.* at the time of
# writing (they are in audit.*, which is not compared); listed so that a mart or list that
# gains one is not reported as different.
IGNORED_COLUMNS: dict[str, str] = {
    "published_at": "when the run published (a timestamp)",
    "received_at": "when the run took the file into its landing store (a timestamp)",
    "run_at": "when the run validated the file (a timestamp)",
    "flow_run": "the Prefect flow run's generated name",
    "flow_run_id": "the Prefect flow run's id",
    "run_id": "a run's id",
    "code_version": "fingerprint of the logic files (jkn/version.py): any edit changes it",
    "fingerprint": "fingerprint of the logic files and inputs: any edit changes it",
}
# Columns compared after a rewrite that removes the part that legitimately differs.
# Each entry: column name -> (SQL expression over the quoted column {c}, why).
NORMALISED_COLUMNS: dict[str, tuple[str, str]] = {
    "population_snapshot": (
        r"regexp_replace({c}, 'received \d{{4}}-\d{{2}}-\d{{2}}', 'received <date>')",
        "'Dukcapil extract <period>: <file>, sha256 <hash>, received <date>': the date is the "
        "day the run took the file into its landing store (tasks/marts.py); file and hash "
        "are compared",
    ),
}
# Key-like types: rows that differ are paired by their values of these columns, so that only
# the counts and rates that changed are shown.
KEY_TYPES = ("DATE", "VARCHAR", "TINYINT", "SMALLINT", "INTEGER")


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def warn(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


class Failed(Exception):
    """The comparison could not be made (exit 2)."""


# -- running a version of the code ---------------------------------------------------------------

# Runs `jkn <args>` with the code of the tree in MARTS_DIFF_ROOT: the entry point is read from
# that tree's pyproject.toml ([project.scripts] jkn), so it works whether jkn.cli is a module or
# a package and whether or not `python -m jkn` exists. At exit it records which files the jkn,
# flows, tasks and warehouse modules came from.
BOOTSTRAP = r"""
import atexit, importlib, json, os, sys, tomllib
root = os.path.realpath(os.environ["MARTS_DIFF_ROOT"])
TOPS = ("jkn", "flows", "tasks", "warehouse")

def inside(path):
    return os.path.realpath(path).startswith(root + os.sep)

def record():
    files = {n: getattr(m, "__file__", None) for n, m in list(sys.modules.items())
             if n.split(".")[0] in TOPS}
    outside = sorted(f"{n} ({f})" for n, f in files.items() if f and not inside(f))
    with open(os.environ["MARTS_DIFF_REPORT"], "w") as fh:
        json.dump({"jkn": sys.modules["jkn"].__file__, "modules": len(files),
                   "outside": outside}, fh)

import jkn
print(f"marts-diff: jkn imported from {jkn.__file__}", file=sys.stderr, flush=True)
if not inside(jkn.__file__):
    sys.exit(f"marts-diff: jkn comes from {jkn.__file__}, not from {root}")
atexit.register(record)
with open(os.path.join(root, "pyproject.toml"), "rb") as fh:
    target = tomllib.load(fh)["project"]["scripts"]["jkn"]
module, _, attr = target.partition(":")
main = importlib.import_module(module)
for part in attr.split("."):
    main = getattr(main, part)
sys.argv = ["jkn", *sys.argv[1:]]
main()
"""


def child_env(root: Path, prefect_home: Path, report: Path) -> dict[str, str]:
    """The environment of a run: this one without JKN_* and PREFECT_* (both sides alike; no
    Prefect server, alert block, failpoint or timeline of the caller's), its own temporary
    Prefect server state, and the tree it imports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JKN_", "PREFECT_"))}
    env.update(
        PYTHONPATH=str(root),
        PYTHONDONTWRITEBYTECODE="1",
        PREFECT_HOME=str(prefect_home),
        PREFECT_LOGGING_LEVEL="WARNING",
        # a fresh Prefect home migrates its database when the temporary server first starts:
        # Prefect's 20 s are not always enough with the other side starting at the same time
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        MARTS_DIFF_ROOT=str(root),
        MARTS_DIFF_REPORT=str(report),
    )
    return env


# the runs under way, stopped on Ctrl-C or SIGTERM (each its own process group: the run and the
# temporary Prefect server it started)
RUNNING: set[subprocess.Popen[bytes]] = set()
RUNNING_LOCK = threading.Lock()
STOPPING = threading.Event()


def stop_runs() -> None:
    STOPPING.set()
    with RUNNING_LOCK:
        children = list(RUNNING)
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + 5  # a run may take long to handle SIGTERM: throwaway runs
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)


def run_jkn(root: Path, args: list[str], workdir: Path, log: Path) -> dict[str, Any]:
    """`jkn <args>` with the code of `root`, output to `log`; the import report, or Failed."""
    workdir.mkdir(parents=True, exist_ok=True)
    report = workdir / f"{log.stem}.imports.json"
    env = child_env(root, workdir / "prefect", report)
    if STOPPING.is_set():
        raise Failed("stopped")
    with log.open("w") as out:
        # its own process group, so that a stop ends the run and the Prefect server it started
        child = subprocess.Popen(
            [str(PYTHON), "-c", BOOTSTRAP, *args],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        with RUNNING_LOCK:
            RUNNING.add(child)
        try:
            returncode = child.wait()
        finally:
            with RUNNING_LOCK:
                RUNNING.discard(child)
    if returncode != 0:
        if STOPPING.is_set():
            raise Failed("stopped")
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise Failed(f"`jkn {' '.join(args)}` (code of {root}) exited {returncode}:\n{tail}")
    imports: dict[str, Any] = json.loads(report.read_text())
    if imports["outside"]:
        raise Failed(
            f"the run with the code of {root} imported modules from elsewhere: "
            + ", ".join(imports["outside"])
        )
    return imports


@dataclass
class Side:
    name: str  # "left" or "right"
    label: str  # what the user sees: "HEAD (095c433)" or "working tree"
    root: Path  # the tree whose code runs
    workdir: Path  # the run's warehouse, logs and Prefect state
    worktree: bool  # root is a temporary git worktree (removed at the end)
    jkn_file: str = ""
    seconds: float = 0.0
    periods: list[float] = field(default_factory=list)

    @property
    def warehouse(self) -> Path:
        return self.workdir / "warehouse" / "jkn.duckdb"

    @property
    def restricted(self) -> Path:
        return self.workdir / "warehouse" / "jkn.restricted.duckdb"


def run_side(side: Side, landing: Path, periods: list[str]) -> Side:
    started = time.monotonic()
    side.warehouse.parent.mkdir(parents=True, exist_ok=True)
    for period in periods:
        t0 = time.monotonic()
        args = ["run", "--period", period, "--landing", str(landing)]
        imports = run_jkn(
            side.root,
            [*args, "--warehouse", str(side.warehouse)],
            side.workdir,
            side.workdir / f"run-{period}.log",
        )
        side.jkn_file = imports["jkn"]
        side.periods.append(time.monotonic() - t0)
    side.seconds = time.monotonic() - started
    return side


def git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise Failed(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout.strip()


def resolve(rev: str) -> str:
    try:
        return git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except Failed:
        raise Failed(f"{rev!r} is not a commit of {REPO}") from None


def add_worktree(path: Path, sha: str) -> None:
    git("worktree", "add", "--detach", "--quiet", str(path), sha)


def remove_worktree(path: Path) -> None:
    done = subprocess.run(
        ["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        warn(f"marts-diff: git worktree remove {path}: {done.stderr.strip()}; pruning")
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run(["git", "-C", str(REPO), "worktree", "prune"], check=False)


# -- the landing ---------------------------------------------------------------------------------


def landing_for(
    regions: list[str], periods: list[str], persons: int, seed: int, fresh: bool
) -> tuple[Path, float]:
    """The cached landing for these parameters, generated by the working tree when missing."""
    params = {"regions": regions, "periods": periods, "persons": persons, "seed": seed}
    key = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:12]
    folder = CACHE / key
    landing = folder / "landing"
    done = folder / "params.json"
    if done.exists() and not fresh:
        say(f"landing: {landing} (cached; --regenerate to make it again)")
        return landing, 0.0
    t0 = time.monotonic()
    shutil.rmtree(folder, ignore_errors=True)
    staging = CACHE / f"{key}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    say(
        f"landing: generating {len(regions)} regions × {persons:,} residents for "
        f"{', '.join(periods)} with the working tree's generator ..."
    )
    for period in periods:
        args = ["generate", "--period", period, "--persons", str(persons), "--seed", str(seed)]
        for region in regions:
            args += ["--region", region]
        log = staging / f"generate-{period}.log"
        run_jkn(REPO, [*args, "--out", str(staging / "landing")], staging, log)
    shutil.rmtree(staging / "prefect", ignore_errors=True)
    (staging / "params.json").write_text(json.dumps(params, indent=2) + "\n")
    staging.rename(folder)
    seconds = time.monotonic() - t0
    say(f"landing: {landing} ({seconds:.1f} s)")
    return landing, seconds


# -- comparing -----------------------------------------------------------------------------------


@dataclass
class TableDiff:
    schema: str
    table: str
    rows_left: int | None = None
    rows_right: int | None = None
    only_left: int | None = None
    only_right: int | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # not counted as a difference
    ignored: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.problems and self.only_left == 0 and self.only_right == 0

    @property
    def verdict(self) -> str:
        if self.identical:
            return "identical"
        if self.rows_left is None:
            return "only in right"
        if self.rows_right is None:
            return "only in left"
        parts = []
        if self.only_left or self.only_right:
            parts.append("rows differ")
        if self.problems:
            parts.append("columns differ")
        return "DIFFERENT: " + ", ".join(parts)


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def tables(con: duckdb.DuckDBPyConnection, db: str, schema: str) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables "
        "where table_catalog = ? and table_schema = ? order by table_name",
        [db, schema],
    ).fetchall()
    return [r[0] for r in rows]


def columns(
    con: duckdb.DuckDBPyConnection, db: str, schema: str, table: str
) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [db, schema, table],
    ).fetchall()


def select_list(cols: list[tuple[str, str]]) -> str:
    parts = []
    for name, _ in cols:
        if name in NORMALISED_COLUMNS:
            parts.append(f"{NORMALISED_COLUMNS[name][0].format(c=q(name))} as {q(name)}")
        else:
            parts.append(q(name))
    return ", ".join(parts)


def compare_table(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, in_left: bool, in_right: bool,
    show_rows: bool,
) -> TableDiff:  # fmt: skip
    diff = TableDiff(schema, table)
    left, right = f"l.{q(schema)}.{q(table)}", f"r.{q(schema)}.{q(table)}"

    def count(sql: str) -> int:
        return int(con.execute(sql).fetchall()[0][0])

    if in_left:
        diff.rows_left = count(f"select count(*) from {left}")
    if in_right:
        diff.rows_right = count(f"select count(*) from {right}")
    if not (in_left and in_right):
        diff.problems.append("the table is in one warehouse only")
        return diff
    cols_l, cols_r = columns(con, "l", schema, table), columns(con, "r", schema, table)
    if cols_l != cols_r:
        types_l, types_r = dict(cols_l), dict(cols_r)
        if missing := [c for c in types_l if c not in types_r]:
            diff.problems.append("columns only in left: " + ", ".join(missing))
        if extra := [c for c in types_r if c not in types_l]:
            diff.problems.append("columns only in right: " + ", ".join(extra))
        for name in (c for c in types_l if c in types_r and types_l[c] != types_r[c]):
            diff.problems.append(f"column {name}: {types_l[name]} left, {types_r[name]} right")
        common_l = [c for c in types_l if c in types_r]
        common_r = [c for c in types_r if c in types_l]
        if common_l != common_r:
            diff.problems.append("column order differs")
    # rows are compared on the columns both sides have with the same type, less the ignored
    types_r = dict(cols_r)
    compared = []
    for name, dtype in cols_l:
        if name in IGNORED_COLUMNS:
            diff.ignored.append(name)
        elif types_r.get(name) == dtype:
            compared.append((name, dtype))
    if not compared:
        diff.problems.append("no column to compare rows on")
        return diff
    cols = select_list(compared)
    only_l = f"select {cols} from {left} except all select {cols} from {right}"
    only_r = f"select {cols} from {right} except all select {cols} from {left}"
    diff.only_left = count(f"select count(*) from ({only_l})")
    diff.only_right = count(f"select count(*) from ({only_r})")
    if diff.only_left or diff.only_right:
        if show_rows:
            diff.samples = sample_rows(con, compared, only_l, only_r)
        else:
            diff.notes.append(explaining_columns(con, compared, left, right))
    return diff


def explaining_columns(con, compared, left: str, right: str) -> str:  # type: ignore[no-untyped-def]
    """Which single columns, left out, make the two sides equal: column names only, for tables
    whose rows must not be shown."""
    names = []
    for i, (name, _) in enumerate(compared):
        rest = select_list(compared[:i] + compared[i + 1 :])
        if not rest:
            continue
        sql = f"select {rest} from {left} except all select {rest} from {right}"
        back = f"select {rest} from {right} except all select {rest} from {left}"
        gone = con.execute(
            f"select (select count(*) from ({sql})) + (select count(*) from ({back}))"
        ).fetchall()[0][0]
        if gone == 0:
            names.append(name)
    if names:
        return "rows not shown (personal data); equal when leaving out any one of: " + ", ".join(
            names
        )
    return "rows not shown (personal data); no single column accounts for the difference"


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return repr(value)
    return "NULL" if value is None else str(value)


def sample_rows(con, compared, only_l: str, only_r: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Up to ROW_SAMPLE differences: rows paired by their key-like columns show only the values
    that differ; unpaired rows are shown whole."""
    names = [n for n, _ in compared]
    keys = [i for i, (_, t) in enumerate(compared) if t in KEY_TYPES]
    fetch = 1_000
    rows_l = con.execute(f"select * from ({only_l}) order by all limit {fetch}").fetchall()
    rows_r = con.execute(f"select * from ({only_r}) order by all limit {fetch}").fetchall()

    def key(row: tuple) -> tuple:
        return tuple(row[i] for i in keys)

    right_by_key: dict[tuple, list[tuple]] = {}
    for row in rows_r:
        right_by_key.setdefault(key(row), []).append(row)
    lines: list[str] = []
    paired_right: set[int] = set()
    for row in rows_l:
        if len(lines) >= ROW_SAMPLE:
            break
        k = key(row)
        match = right_by_key.get(k)
        if keys and match:
            other = match.pop(0)
            paired_right.add(id(other))
            where = ", ".join(f"{names[i]}={fmt(row[i])}" for i in keys)
            changed = ", ".join(
                f"{n}: {fmt(a)} → {fmt(b)}"
                for n, a, b in zip(names, row, other, strict=True)
                if a != b
            )
            lines.append(f"    {where}\n        left → right: {changed}")
        else:
            whole = ", ".join(f"{n}={fmt(v)}" for n, v in zip(names, row, strict=True))
            lines.append(f"    only left:  {whole}")
    for row in rows_r:
        if len(lines) >= ROW_SAMPLE:
            break
        if id(row) not in paired_right:
            whole = ", ".join(f"{n}={fmt(v)}" for n, v in zip(names, row, strict=True))
            lines.append(f"    only right: {whole}")
    return lines


def compare_files(left: Path, right: Path, schema: str, show_rows: bool) -> list[TableDiff]:
    for path in (left, right):
        if not path.exists():
            raise Failed(f"{path} was not written")
    con = duckdb.connect()
    try:
        con.execute(f"attach {sql_str(str(left))} as l (read_only)")
        con.execute(f"attach {sql_str(str(right))} as r (read_only)")
        names_l, names_r = tables(con, "l", schema), tables(con, "r", schema)
        if not names_l and not names_r:
            raise Failed(f"neither {left} nor {right} has a table in schema {schema}")
        return [
            compare_table(con, schema, t, t in names_l, t in names_r, show_rows)
            for t in sorted(set(names_l) | set(names_r))
        ]
    finally:
        con.close()


def n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def print_diffs(title: str, diffs: list[TableDiff], show_rows: bool) -> None:
    header = ("table", "rows left", "rows right", "only left", "only right", "verdict")
    body = [
        (
            f"{d.schema}.{d.table}",
            n(d.rows_left),
            n(d.rows_right),
            n(d.only_left),
            n(d.only_right),
            d.verdict,
        )
        for d in diffs
    ]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i in (0, 5) else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    say()
    say(title)
    say(line(header))
    say("  ".join("-" * w for w in widths))
    for row in body:
        say(line(row))
    for d in diffs:
        if d.problems or d.notes or d.samples:
            say()
            say(f"  {d.schema}.{d.table}:")
            for problem in d.problems + d.notes:
                say(f"    {problem}")
            if d.samples:
                shown = len(d.samples)
                say(f"    first {shown} differing rows (sorted; paired by key where possible):")
                for sample in d.samples:
                    say(sample)
    ignored = sorted({c for d in diffs for c in d.ignored})
    if ignored:
        say()
    for name in ignored:
        say(f"  ignored column {name}: {IGNORED_COLUMNS[name]}")


# -- main ----------------------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="./dev marts-diff",
        description="Run the monthly flow with the code of REV and with the working tree (or "
        "REV2) on the same generated multi-region months and compare every mart table.",
        epilog="Exit 0: every table identical; 1: something differs; 2: no comparison made. "
        "Ignored columns (by name): "
        + "; ".join(f"{k} ({v})" for k, v in IGNORED_COLUMNS.items())
        + ". Normalised: "
        + "; ".join(f"{k} ({v[1]})" for k, v in NORMALISED_COLUMNS.items())
        + ".",
    )
    p.add_argument("rev", nargs="?", default="HEAD", help="left side: a git revision (HEAD)")
    p.add_argument(
        "--right",
        metavar="REV2",
        help="right side: the code of this revision instead of the working tree",
    )
    p.add_argument(
        "--restricted",
        action="store_true",
        help=f"also compare schema {LIST_SCHEMA} of jkn.restricted.duckdb (counts only)",
    )
    p.add_argument(
        "--regions",
        default=",".join(DEFAULT_REGIONS),
        help="comma-separated kab/kota codes (default: the five seed districts: %(default)s)",
    )
    p.add_argument(
        "--periods",
        default=",".join(DEFAULT_PERIODS),
        help="comma-separated months, run oldest first into one warehouse (%(default)s)",
    )
    p.add_argument("--persons", type=int, default=DEFAULT_PERSONS, help="residents per region")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generator seed")
    p.add_argument("--regenerate", action="store_true", help="generate the landing again")
    p.add_argument(
        "--jobs",
        type=int,
        choices=(1, 2),
        default=2,
        help="run the two sides at the same time (2, default) or one after the other (1)",
    )
    p.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary folder with both warehouses and the run logs "
        "(the git worktrees are removed in any case)",
    )
    return p.parse_args(argv)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    # a SIGTERM cleans up like Ctrl-C does
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    periods = sorted(p.strip() for p in args.periods.split(",") if p.strip())
    tmp = Path(tempfile.mkdtemp(prefix="marts-diff-"))
    sides: list[Side] = []
    try:
        left_sha = resolve(args.rev)
        sides.append(
            Side("left", f"{args.rev} ({left_sha[:9]})", tmp / "left" / "tree", tmp / "left", True)
        )
        if args.right:
            right_sha = resolve(args.right)
            right = Side(
                "right", f"{args.right} ({right_sha[:9]})", tmp / "right" / "tree", tmp / "right",
                True,
            )  # fmt: skip
        else:
            dirty = git("status", "--porcelain", "--untracked-files=no")
            state = f"{len(dirty.splitlines())} files changed" if dirty else "no changes"
            right = Side("right", f"working tree ({state})", REPO, tmp / "right", False)
        sides.append(right)
        for side, sha in zip(sides, [left_sha, right_sha if args.right else None], strict=True):
            if side.worktree and sha:
                side.workdir.mkdir(parents=True)
                add_worktree(side.root, sha)
        say(f"left:  {sides[0].label}")
        say(f"right: {sides[1].label}")

        landing, gen_seconds = landing_for(
            regions, periods, args.persons, args.seed, args.regenerate
        )
        say(f"running {', '.join(periods)} on both sides (jobs={args.jobs}) ...")
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(run_side, side, landing, periods) for side in sides]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                stop_runs()  # the other side's run too: no waiting for it
                raise
        run_seconds = time.monotonic() - t0
        for side in sides:
            per = ", ".join(f"{p} {s:.1f} s" for p, s in zip(periods, side.periods, strict=True))
            say(f"  {side.name}: {side.seconds:.1f} s ({per}); jkn from {side.jkn_file}")

        t0 = time.monotonic()
        diffs = compare_files(sides[0].warehouse, sides[1].warehouse, MART_SCHEMA, True)
        print_diffs(f"Schema {MART_SCHEMA} (jkn.duckdb): left vs right", diffs, True)
        if args.restricted:
            lists = compare_files(sides[0].restricted, sides[1].restricted, LIST_SCHEMA, False)
            print_diffs(
                f"Schema {LIST_SCHEMA} (jkn.restricted.duckdb): left vs right, counts only",
                lists,
                False,
            )
            diffs += lists
        compare_seconds = time.monotonic() - t0

        differing = [d for d in diffs if not d.identical]
        say()
        say(
            f"timings: generate {gen_seconds:.1f} s, runs {run_seconds:.1f} s, "
            f"compare {compare_seconds:.1f} s, total {time.monotonic() - started:.1f} s"
        )
        if differing:
            say(f"RESULT: {len(differing)} of {len(diffs)} tables differ")
            return 1
        say(f"RESULT: all {len(diffs)} tables identical")
        return 0
    except Failed as failed:
        warn(f"marts-diff: {failed}")
        return 2
    except KeyboardInterrupt:
        stop_runs()
        warn("marts-diff: interrupted")
        return 2
    finally:
        for side in sides:
            if side.worktree and side.root.exists():
                remove_worktree(side.root)
        if args.keep:
            say(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
