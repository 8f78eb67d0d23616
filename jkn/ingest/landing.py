"""Receive extracts from a landing root into the project's own landing store.

The landing root is a local folder or any URL fsspec opens (``file://``, ``http(s)://``,
``s3://``, ``sftp://``), laid out ``<root>/<YYYY-MM>/<source>.<csv|xlsx|parquet>``. Each file is
copied once into the store with its SHA-256, size and time received; every later run of that
period reads exactly those bytes. A file redelivered with different bytes is noticed and refused
until an operator accepts the redelivery.

Nothing outside the landing root is read and nothing outside the store is written: the period
must be ``YYYY-MM``; a local landing file (or period folder) that is a symlink leading out of
the root is refused, and so is anything that is not a regular file (a directory, a FIFO, a
device), before it is opened. A fetch waits at most :func:`fetch_timeout` for a server, and an
HTML page served in place of the extract is refused before it is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import re
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import fsspec

from jkn.ingest.errors import ExtractError, SourceChangedError
from jkn.ingest.readers import html_page_error, is_html_page
from jkn.periods import PERIOD_PATTERN
from jkn.settings import EXTENSIONS, SOURCES, Settings, env_name, settings

log = logging.getLogger(__name__)
_CHUNK = 8 * 1024 * 1024

FETCH_TIMEOUT_ENV = env_name("fetch_timeout_s")
DEFAULT_FETCH_TIMEOUT_S = Settings.model_fields["fetch_timeout_s"].default


def fetch_timeout() -> float:
    """Seconds a fetch from the landing root waits for the server, to connect or for the next
    bytes of an answer, before it fails (``JKN_FETCH_TIMEOUT_S``, default 60): the one place
    the bound is set. A server that stalls fails the fetch with a transport error (the flow
    retries it, then fails the source) instead of hanging the run; a large file that keeps
    arriving is never cut off, however long it takes."""
    return settings().fetch_timeout_s


def _protocols(where: str | fsspec.AbstractFileSystem) -> set[str]:
    """The protocols of a URL or of the filesystem fsspec opened for one."""
    if isinstance(where, str):
        return {fsspec.utils.get_protocol(where)}
    return set(where.protocol if isinstance(where.protocol, tuple) else (where.protocol,))


def _is_http(where: str | fsspec.AbstractFileSystem) -> bool:
    """Whether a URL, or a filesystem, is HTTP(S): the one place that says which are."""
    return bool({"http", "https"} & _protocols(where))


def _is_local(fs: fsspec.AbstractFileSystem) -> bool:
    return bool({"file", "local"} & _protocols(fs))


def _storage_options(url: str) -> dict[str, Any]:
    """fsspec options that put :func:`fetch_timeout` on each kind of landing root."""
    protocol = fsspec.utils.get_protocol(url)
    timeout = fetch_timeout()
    if _is_http(url):
        import aiohttp

        # no total: a long download is fine as long as bytes keep coming
        limits = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        return {"client_kwargs": {"timeout": limits}}
    if protocol in ("s3", "s3a"):
        return {"config_kwargs": {"connect_timeout": timeout, "read_timeout": timeout}}
    if protocol in ("sftp", "ssh"):
        return {"timeout": timeout}
    return {}


def _url_to_fs(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    return fsspec.core.url_to_fs(url, **_storage_options(url))


def delivered_name(period: str, url: str) -> str:
    """How the agency knows the file: its landing path relative to the landing root,
    ``2025-05/bpjs_membership.csv`` (the full URL is kept in the store's manifest)."""
    return f"{period}/{url.rstrip('/').rsplit('/', 1)[-1]}"


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

    @property
    def delivered(self) -> str:
        """The file as delivered, relative to the landing root: ``2025-05/dukcapil.csv``.
        Every message about the file names it so (see :func:`delivered_name`)."""
        return delivered_name(self.period, self.url)


def _join(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *parts])


def find_extract(landing: str, period: str, source: str) -> str | None:
    """URL of ``<landing>/<period>/<source>.<ext>``, or None when no such file exists.

    Two files for one source (say ``.csv`` and ``.xlsx``) are refused: which one is meant?
    Over HTTP, a name answered with an HTML page (a server that answers 200 with its login or
    maintenance page for every path) is no file: it is set aside, and when every name is
    answered so the HTML page is refused, not the number of files.
    """
    _check_names(period, source)
    found = []
    for ext in EXTENSIONS:
        url = _join(landing, period, f"{source}.{ext}")
        fs, path = _url_to_fs(url)
        if fs.exists(path) or _exists_over_http(fs, path):
            found.append(url)
    if len(found) > 1 and _is_http(landing):
        pages = [url for url in found if _is_html_over_http(url)]
        if len(pages) == len(found):
            raise html_page_error(
                f"{period}/{source}.*", every=[url.rsplit("/", 1)[-1] for url in found]
            )
        if pages:
            log.info(
                "%s %s: %d name(s) answered with an HTML page, not a file: %s",
                source,
                period,
                len(pages),
                ", ".join(url.rsplit("/", 1)[-1] for url in pages),
            )
        found = [url for url in found if url not in pages]
    if len(found) > 1:
        raise ExtractError(
            file=f"{period}/{source}.*",
            check="single_file_per_source",
            problem=f"{len(found)} files for one source: {', '.join(Path(u).name for u in found)}",
            expected="one file per source and period",
            action="remove the files that are not the extract of this period",
        )
    return found[0] if found else None


def _check_names(period: str, source: str) -> None:
    """The period and source name the folder and file read, and the store's folder written:
    anything but ``YYYY-MM`` and a known source could lead outside them."""
    if source not in SOURCES:
        raise ExtractError(
            file=f"{source!r}",
            check="source_known",
            problem="not one of the sources the pipeline ingests",
            expected=", ".join(SOURCES),
            action="check the source name",
        )
    if not PERIOD_PATTERN.fullmatch(period):
        raise ExtractError(
            file=f"{source} extract",
            check="period_format",
            problem=f"the period {period[:20]!r} is not a month written YYYY-MM",
            expected="a period like 2025-05 (the landing folder's name)",
            action="run again with --period YYYY-MM",
        )


def _period_folder_hint(landing: str, period: str) -> str:
    """For a local landing root without the period's folder: the folders there that are not
    named ``YYYY-MM`` (a folder ``2025-5`` or ``Mei 2025`` is the usual reason)."""
    fs, root = _url_to_fs(landing)
    if not _is_local(fs) or (Path(root) / period).exists():
        return ""
    try:
        odd = sorted(
            entry.name
            for entry in Path(root).iterdir()
            if entry.is_dir() and not PERIOD_PATTERN.fullmatch(entry.name)
        )
    except OSError:
        return ""
    if not odd:
        return ""
    shown = ", ".join(repr(name[:40]) for name in odd[:5])
    return f"; the landing root has no folder {period}, and {len(odd)} not named YYYY-MM: {shown}"


def _exists_over_http(fs: fsspec.AbstractFileSystem, path: str) -> bool:
    """fsspec's HTTP ``exists`` says False for a 503 as for a 404: ask for one byte so that a
    server error raises (and the fetch is retried) instead of reading as "no file"."""
    if not _is_http(fs):
        return False
    try:
        fs.cat_file(path, start=0, end=1)
    except FileNotFoundError:
        return False
    return True


def _is_html_over_http(url: str) -> bool:
    """Whether the server answers ``url`` with an HTML page: its first bytes, streamed (a
    server that ignores ranges sends no more than is read before the stream is closed)."""
    fs, path = _url_to_fs(url)
    with fs.open(path, "rb", block_size=0) as stream:
        return is_html_page(stream.read(4096))


_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _open_source(landing: str, url: str, delivered: str) -> IO[bytes]:
    """Open the landing file for reading its bytes, bounded: over HTTP as one streamed GET
    under :func:`fetch_timeout`; locally only a regular file inside the landing root, checked
    before it is opened (a FIFO would block the read forever, a symlink could read anywhere).

    What is opened is what was checked: the resolved path is opened without following a
    symlink (``O_NOFOLLOW``) and the opened file must be the one the check saw (same device
    and inode), so a file or period folder swapped for a symlink in between is refused.
    """
    fs, path = _url_to_fs(url)
    if not _is_local(fs):
        return fs.open(path, "rb", **({"block_size": 0} if _is_http(fs) else {}))
    try:
        root = Path(_url_to_fs(landing)[1]).resolve()
        real = Path(path).resolve()
        checked = os.lstat(real)
        mode = checked.st_mode
    except (OSError, RuntimeError) as err:  # RuntimeError: a symlink loop
        raise ExtractError(
            file=delivered,
            check="file_readable",
            problem=f"the landing file cannot be reached ({type(err).__name__})",
            expected="a regular file under the landing root",
            action="check the landing folder and its permissions",
        ) from None
    if not real.is_relative_to(root):
        raise ExtractError(
            file=delivered,
            check="file_inside_landing_root",
            problem="the file, or its period folder, is a symbolic link that leads outside "
            "the landing root",
            expected="the extract itself (or a link to a file) inside the landing root",
            action="copy the extract into the landing root instead of linking to it",
        )
    if not stat.S_ISREG(mode):
        raise _not_regular(delivered, mode)
    try:  # never blocks, even if swapped for a FIFO; never follows a link swapped in
        fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as err:  # ELOOP: the file is a symlink now
        raise _swapped(delivered, type(err).__name__) from None
    opened = os.fstat(fd)
    if not stat.S_ISREG(opened.st_mode):
        os.close(fd)
        raise _not_regular(delivered, opened.st_mode)
    if (opened.st_dev, opened.st_ino) != (checked.st_dev, checked.st_ino):
        os.close(fd)  # a period folder swapped for a link leads here: another file was opened
        raise _swapped(delivered, "another file opened")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _swapped(delivered: str, how: str) -> ExtractError:
    return ExtractError(
        file=delivered,
        check="file_inside_landing_root",
        problem=f"the landing file changed between its check and its opening ({how}): a "
        "symbolic link or another file was put in its place",
        expected="the extract itself inside the landing root, left in place while it is read",
        action="check who writes to the landing folder; deliver the file again and rerun",
    )


def _not_regular(delivered: str, mode: int) -> ExtractError:
    return ExtractError(
        file=delivered,
        check="file_is_regular",
        problem=f"the landing path is {_KINDS.get(stat.S_IFMT(mode), 'not a regular file')}, "
        "not a file",
        expected="a regular file holding the extract",
        action="replace it with the extract file itself",
    )


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
    _check_names(period, source)
    period_dir = store / period
    period_dir.mkdir(parents=True, exist_ok=True)
    store.chmod(0o700)
    manifest = _load_manifest(store, period)
    previous = manifest.get(source)
    try:
        url = find_extract(landing, period, source)
    except TimeoutError as err:
        raise _timed_out(f"{period}/{source}.*") from err
    if url is None:
        if previous is not None:
            log.info(
                "%s %s: not in the landing root any more; using the stored copy", source, period
            )
            return ReceivedFile(**{**_current(previous), "status": "stored-only"})
        raise ExtractError(
            file=f"{period}/{source}.<csv|xlsx|parquet>",
            check="file_present",
            problem=f"no {source} extract for {period} under the landing root "
            f"{_shown_root(landing)}{_period_folder_hint(landing, period)}",
            expected=f"a file {period}/{source}.csv, .xlsx or .parquet under the landing root",
            action="ask the provider for this period's extract, or check the landing path",
        )

    delivered = delivered_name(period, url)
    ext = url.rsplit(".", 1)[-1].lower()
    partial = period_dir / f".{source}.{ext}.partial"
    digest = hashlib.sha256()
    size = 0
    try:
        with _open_source(landing, url, delivered) as src, partial.open("wb") as dst:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
        with partial.open("rb") as kept:
            if is_html_page(kept.read(4096)):
                # refused before it is stored: the real file, once there, is then "new"
                raise html_page_error(delivered)
    except BaseException as err:
        partial.unlink(missing_ok=True)  # a dropped or refused transfer leaves nothing behind
        if isinstance(err, TimeoutError):
            raise _timed_out(delivered) from err
        raise
    sha = digest.hexdigest()
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")

    if previous is not None and _current(previous)["sha256"] == sha:
        partial.unlink()
        return ReceivedFile(**{**_current(previous), "status": "unchanged"})
    if previous is not None and not accept_redelivery:
        partial.unlink()
        old = _current(previous)
        raise SourceChangedError(
            file=delivered,
            check="file_unchanged",
            problem=f"the {period} file differs from the copy received {old['received_at']} "
            f"(SHA-256 {old['sha256'][:12]}… then, {sha[:12]}… now)",
            expected="the same bytes for a period already received",
            action="if the provider redelivered this period on purpose, run the month again "
            f"taking the new file: `jkn run --period {period} --accept-redelivery`, or through "
            f"the deployment `prefect deployment run monthly-refresh/monthly-refresh --param "
            f"period={period} --param accept_redelivery=true`; the earlier copy is kept in "
            "the landing store",
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


def _timed_out(file: str) -> TimeoutError:
    """A transport failure, not an ExtractError (the flow retries it), that says what stalled."""
    return TimeoutError(
        f"{file}: the landing server sent nothing for {fetch_timeout():g} s "
        f"({FETCH_TIMEOUT_ENV}); the fetch was abandoned"
    )


def _shown_root(landing: str) -> str:
    """The landing root for a message, without any credentials in its URL."""
    return re.sub(r"//[^/@]*@", "//", landing)


def _current(entry: dict) -> dict:
    return dict(entry["history"][-1])
