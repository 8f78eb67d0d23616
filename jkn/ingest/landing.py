"""Receive extracts from a landing root into the project's own landing store.

The landing root is a local folder or any URL fsspec opens (``file://``, ``http(s)://``,
``s3://``, ``sftp://``), laid out ``<root>/<YYYY-MM>/<source>.<csv|xlsx|parquet>``. Each file is
copied once into the store with its SHA-256, size and time received; every later run of that
period reads exactly those bytes. A file redelivered with different bytes is noticed and refused
until an operator accepts the redelivery.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import fsspec

from jkn.ingest.errors import ExtractError, SourceChangedError
from jkn.settings import EXTENSIONS

log = logging.getLogger(__name__)
_CHUNK = 8 * 1024 * 1024


@dataclass
class ReceivedFile:
    """One source's file for one period, as kept in the landing store."""

    source: str
    period: str
    url: str
    stored: str  # path in the store
    sha256: str
    size: int
    received_at: str
    status: str  # "new", "unchanged", "redelivered" or "stored-only"

    @property
    def path(self) -> Path:
        return Path(self.stored)

    @property
    def name(self) -> str:
        return Path(self.url).name


def _join(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *parts])


def find_extract(landing: str, period: str, source: str) -> str | None:
    """URL of ``<landing>/<period>/<source>.<ext>``, or None when no such file exists.

    Two files for one source (say ``.csv`` and ``.xlsx``) are refused: which one is meant?
    """
    found = []
    for ext in EXTENSIONS:
        url = _join(landing, period, f"{source}.{ext}")
        fs, path = fsspec.core.url_to_fs(url)
        if fs.exists(path) or _exists_over_http(fs, path):
            found.append(url)
    if len(found) > 1:
        raise ExtractError(
            file=f"{period}/{source}.*",
            check="single_file_per_source",
            problem=f"{len(found)} files for one source: {', '.join(Path(u).name for u in found)}",
            expected="one file per source and period",
            action="remove the files that are not the extract of this period",
        )
    return found[0] if found else None


def _exists_over_http(fs: fsspec.AbstractFileSystem, path: str) -> bool:
    """fsspec's HTTP ``exists`` says False for a 503 as for a 404: ask for one byte so that a
    server error raises (and the fetch is retried) instead of reading as "no file"."""
    if not {"http", "https"} & set(
        fs.protocol if isinstance(fs.protocol, tuple) else [fs.protocol]
    ):
        return False
    try:
        fs.cat_file(path, start=0, end=1)
    except FileNotFoundError:
        return False
    return True


def _manifest_path(store: Path, period: str) -> Path:
    return store / period / "manifest.json"


def _load_manifest(store: Path, period: str) -> dict[str, dict]:
    path = _manifest_path(store, period)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _save_manifest(store: Path, period: str, manifest: dict[str, dict]) -> None:
    path = _manifest_path(store, period)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def receive_extract(
    landing: str,
    period: str,
    source: str,
    store: Path,
    *,
    accept_redelivery: bool = False,
) -> ReceivedFile:
    """Copy one source's file for a period into the store and return what was kept.

    Raises :class:`ExtractError` when no file exists (and none was received before), and
    :class:`SourceChangedError` when the file differs from the copy already received, unless
    ``accept_redelivery``.
    """
    period_dir = store / period
    period_dir.mkdir(parents=True, exist_ok=True)
    store.chmod(0o700)
    manifest = _load_manifest(store, period)
    previous = manifest.get(source)
    url = find_extract(landing, period, source)
    if url is None:
        if previous is not None:
            log.info(
                "%s %s: not in the landing root any more; using the stored copy", source, period
            )
            return ReceivedFile(**{**_current(previous), "status": "stored-only"})
        raise ExtractError(
            file=_join(landing, period, f"{source}.<csv|xlsx|parquet>"),
            check="file_present",
            problem=f"no {source} extract for {period}",
            expected=f"a file {period}/{source}.csv, .xlsx or .parquet under the landing root",
            action="ask the provider for this period's extract, or check the landing path",
        )

    ext = url.rsplit(".", 1)[-1].lower()
    partial = period_dir / f".{source}.{ext}.partial"
    digest = hashlib.sha256()
    size = 0
    with fsspec.open(url, "rb") as src, partial.open("wb") as dst:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    sha = digest.hexdigest()
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    if previous is not None and _current(previous)["sha256"] == sha:
        partial.unlink()
        return ReceivedFile(**{**_current(previous), "status": "unchanged"})
    if previous is not None and not accept_redelivery:
        partial.unlink()
        old = _current(previous)
        raise SourceChangedError(
            file=Path(url).name,
            check="file_unchanged",
            problem=f"the {period} file differs from the copy received {old['received_at']} "
            f"(SHA-256 {old['sha256'][:12]}… then, {sha[:12]}… now)",
            expected="the same bytes for a period already received",
            action="if the provider redelivered this period on purpose, rerun with "
            "--accept-redelivery; the earlier copy is kept in the landing store",
        )
    stored = period_dir / f"{source}.{sha[:16]}.{ext}"
    partial.replace(stored)
    stored.chmod(0o600)
    received = ReceivedFile(
        source=source,
        period=period,
        url=url,
        stored=str(stored),
        sha256=sha,
        size=size,
        received_at=now,
        status="redelivered" if previous is not None else "new",
    )
    history = [*(previous or {}).get("history", []), asdict(received)]
    manifest[source] = {"history": history}
    _save_manifest(store, period, manifest)
    return received


def _current(entry: dict) -> dict:
    return dict(entry["history"][-1])
