"""What version of the logic produced a result: a fingerprint of the code and rules.

A rerun can skip work only when both its inputs (the files' SHA-256) and this fingerprint are
unchanged: a new rule, check, model or linkage setting changes the fingerprint and makes every
period's results stale.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# everything that decides what a period's staging, marts and lists contain
LOGIC = ("schemas", "jkn/ingest", "jkn/resolve", "jkn/link", "jkn/reference", "jkn/domain.py",
         "warehouse", "tasks")  # fmt: skip
SUFFIXES = {".py", ".sql", ".csv", ".json", ".yaml"}


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """sha256 over the package version and every logic file's path and bytes (16 hex)."""
    digest = hashlib.sha256()
    try:
        digest.update(version("jkn-uhc").encode())
    except PackageNotFoundError:
        digest.update(b"unversioned")
    for entry in LOGIC:
        path = ROOT / entry
        files = [path] if path.is_file() else sorted(path.rglob("*"))
        for file in files:
            if file.is_file() and file.suffix in SUFFIXES and "__pycache__" not in file.parts:
                digest.update(file.relative_to(ROOT).as_posix().encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def inputs_fingerprint(code: str, files: dict[str, str]) -> str:
    """sha256 of the code fingerprint and each source's file checksum (16 hex)."""
    text = code + "".join(f"|{s}={files[s]}" for s in sorted(files))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
