"""The landing store: exact bytes kept with their SHA-256; redeliveries noticed; HTTP pulls."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import os
import pickle
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import fsspec
import pytest

from jkn.ingest.errors import ExtractError, SourceChangedError
from jkn.ingest.landing import receive_extract
from tests.conftest import rows_of, write_csv

PERIOD = "2024-07"
SOURCE = "bpjs_membership"


def deliver(landing: Path, *changes: dict[str, str], ext: str = "csv") -> Path:
    return write_csv(landing / PERIOD / f"{SOURCE}.{ext}", rows_of(SOURCE, *changes))


def test_first_receipt_copies_the_bytes_with_their_checksum(tmp_path: Path) -> None:
    original = deliver(tmp_path / "landing", {})
    got = receive_extract(str(tmp_path / "landing"), PERIOD, SOURCE, tmp_path / "store")
    assert got.status == "new"
    assert got.sha256 == hashlib.sha256(original.read_bytes()).hexdigest()
    assert got.size == original.stat().st_size
    assert got.path.read_bytes() == original.read_bytes()
    assert got.path.parent == tmp_path / "store" / PERIOD
    assert got.path.stat().st_mode & 0o077 == 0  # personal data: owner only
    manifest = json.loads((tmp_path / "store" / PERIOD / "manifest.json").read_text())
    assert manifest[SOURCE]["history"][0]["sha256"] == got.sha256


def test_a_rerun_reuses_the_stored_copy(tmp_path: Path) -> None:
    deliver(tmp_path / "landing", {})
    first = receive_extract(str(tmp_path / "landing"), PERIOD, SOURCE, tmp_path / "store")
    again = receive_extract(str(tmp_path / "landing"), PERIOD, SOURCE, tmp_path / "store")
    assert again.status == "unchanged" and again.stored == first.stored


def test_a_redelivery_with_other_bytes_is_refused_until_accepted(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    deliver(landing, {})
    first = receive_extract(str(landing), PERIOD, SOURCE, tmp_path / "store")
    deliver(landing, {}, {})
    with pytest.raises(SourceChangedError) as caught:
        receive_extract(str(landing), PERIOD, SOURCE, tmp_path / "store")
    assert "--accept-redelivery" in str(caught.value)
    assert first.sha256[:12] in str(caught.value)
    second = receive_extract(
        str(landing), PERIOD, SOURCE, tmp_path / "store", accept_redelivery=True
    )
    assert second.status == "redelivered" and second.sha256 != first.sha256
    assert Path(first.stored).exists(), "the earlier copy is kept"


def test_the_stored_copy_serves_when_the_landing_file_is_gone(tmp_path: Path) -> None:
    original = deliver(tmp_path / "landing", {})
    first = receive_extract(str(tmp_path / "landing"), PERIOD, SOURCE, tmp_path / "store")
    original.unlink()
    again = receive_extract(str(tmp_path / "landing"), PERIOD, SOURCE, tmp_path / "store")
    assert again.status == "stored-only" and again.sha256 == first.sha256


def test_no_file_names_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ExtractError) as caught:
        receive_extract(str(tmp_path / "landing"), PERIOD, SOURCE, tmp_path / "store")
    assert caught.value.check == "file_present"
    assert f"{PERIOD}/{SOURCE}" in str(caught.value)


def test_two_files_for_one_source_are_refused(tmp_path: Path) -> None:
    deliver(tmp_path / "landing", {})
    deliver(tmp_path / "landing", {}, ext="parquet")
    with pytest.raises(ExtractError) as caught:
        receive_extract(str(tmp_path / "landing"), PERIOD, SOURCE, tmp_path / "store")
    assert caught.value.check == "single_file_per_source"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def http_landing(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a landing folder."""
    root = tmp_path / "served"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(_QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", root
    finally:
        server.shutdown()
        server.server_close()


def test_pull_over_http_from_a_loopback_server(
    http_landing: tuple[str, Path], tmp_path: Path
) -> None:
    url, root = http_landing
    original = deliver(root, {}, {})
    got = receive_extract(url, PERIOD, SOURCE, tmp_path / "store")
    assert got.url == f"{url}/{PERIOD}/{SOURCE}.csv"
    assert got.path.read_bytes() == original.read_bytes()
    with pytest.raises(ExtractError):
        receive_extract(url, PERIOD, "dukcapil", tmp_path / "store")


def test_the_received_file_knows_its_name_as_delivered(
    http_landing: tuple[str, Path], tmp_path: Path
) -> None:
    deliver(tmp_path / "landing", {})
    local = receive_extract(str(tmp_path / "landing"), PERIOD, SOURCE, tmp_path / "store")
    url, root = http_landing
    deliver(root, {})
    remote = receive_extract(url, PERIOD, SOURCE, tmp_path / "store-http")
    assert local.delivered == remote.delivered == f"{PERIOD}/{SOURCE}.csv"


def test_a_redelivery_message_names_the_file_as_delivered(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    deliver(landing, {})
    receive_extract(str(landing), PERIOD, SOURCE, tmp_path / "store")
    deliver(landing, {}, {})
    with pytest.raises(SourceChangedError) as caught:
        receive_extract(str(landing), PERIOD, SOURCE, tmp_path / "store")
    assert str(caught.value).startswith(f"{PERIOD}/{SOURCE}.csv: ")


def test_an_html_page_is_refused_before_it_is_stored(tmp_path: Path) -> None:
    """Once the real file arrives it is new, not a redelivery of the error page."""
    landing = tmp_path / "landing"
    page = landing / PERIOD / f"{SOURCE}.csv"
    page.parent.mkdir(parents=True)
    page.write_bytes(b"<!doctype html><html><body>Login</body></html>")
    with pytest.raises(ExtractError) as caught:
        receive_extract(str(landing), PERIOD, SOURCE, tmp_path / "store")
    assert caught.value.check == "file_readable" and "HTML page" in str(caught.value)
    assert [p.name for p in (tmp_path / "store" / PERIOD).iterdir()] == []
    deliver(landing, {})
    assert receive_extract(str(landing), PERIOD, SOURCE, tmp_path / "store").status == "new"


def test_a_landing_root_that_is_itself_a_symlink_or_a_file_url(tmp_path: Path) -> None:
    deliver(tmp_path / "real-landing", {})
    (tmp_path / "landing").symlink_to(tmp_path / "real-landing", target_is_directory=True)
    linked = receive_extract(str(tmp_path / "landing"), PERIOD, SOURCE, tmp_path / "s1")
    as_url = receive_extract(f"file://{tmp_path / 'landing'}", PERIOD, SOURCE, tmp_path / "s2")
    assert linked.status == as_url.status == "new" and linked.sha256 == as_url.sha256


def test_a_period_that_is_not_yyyy_mm_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    for period in ("2024-7", "../2024-07", "2024-07/..", "２０２４-０７"):
        with pytest.raises(ExtractError) as caught:
            receive_extract(str(tmp_path / "landing"), period, SOURCE, tmp_path / "store")
        assert caught.value.check == "period_format"
    assert not (tmp_path / "store").exists()


def _swap_before_open(
    monkeypatch: pytest.MonkeyPatch, target: Path, swap: Callable[[], None]
) -> None:
    """Run ``swap`` just before the landing code opens ``target``: the window between its
    checks and its ``os.open`` that a hostile writer could use."""
    real_open = os.open

    def racing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if Path(path) == target:
            swap()
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", racing_open)


def test_a_file_swapped_for_a_symlink_after_its_check_is_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = deliver(tmp_path / "outside", {"NAMA": "RAHASIA"})
    file = deliver(tmp_path / "landing", {})

    def swap() -> None:
        file.unlink()
        file.symlink_to(secret)

    _swap_before_open(monkeypatch, file.resolve(), swap)
    with pytest.raises(ExtractError) as caught:
        receive_extract(str(tmp_path / "landing"), PERIOD, SOURCE, tmp_path / "store")
    assert caught.value.check == "file_inside_landing_root", caught.value
    assert str(caught.value).startswith(f"{PERIOD}/{SOURCE}.csv: ")
    assert not any(p.is_file() for p in (tmp_path / "store" / PERIOD).iterdir())


def test_a_period_folder_swapped_for_a_symlink_after_the_check_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """O_NOFOLLOW guards only the file's own name: the folder is caught by the inode check."""
    deliver(tmp_path / "outside", {"NAMA": "RAHASIA"})
    file = deliver(tmp_path / "landing", {})
    folder = file.parent

    def swap() -> None:
        folder.rename(tmp_path / "moved")
        folder.symlink_to(tmp_path / "outside" / PERIOD, target_is_directory=True)

    _swap_before_open(monkeypatch, file.resolve(), swap)
    with pytest.raises(ExtractError) as caught:
        receive_extract(str(tmp_path / "landing"), PERIOD, SOURCE, tmp_path / "store")
    assert caught.value.check == "file_inside_landing_root", caught.value
    assert "RAHASIA" not in str(caught.value)
    assert not any(p.is_file() for p in (tmp_path / "store" / PERIOD).iterdir())


@pytest.mark.parametrize("error_type", [ExtractError, SourceChangedError])
def test_a_file_error_survives_pickling(error_type: type[ExtractError]) -> None:
    """Tasks return these errors: Prefect's result persistence and Dask pickle them."""
    error = error_type(
        file=f"{PERIOD}/{SOURCE}.csv",
        problem="the file is empty (0 bytes)",
        expected="a header row",
        action="ask the provider",
        line=3,
        column="NIK",
        check="file_not_empty",
    )
    error.add_note("received 2024-08-01")
    picklers = [pickle]
    with contextlib.suppress(ImportError):
        import cloudpickle

        picklers.append(cloudpickle)
    for pickler in picklers:
        back = pickler.loads(pickler.dumps(error))
        assert type(back) is error_type and back == error
        assert (
            str(back)
            == str(error)
            == (
                f"{PERIOD}/{SOURCE}.csv, line 3, column NIK: the file is empty (0 bytes). "
                "Expected: a header row. What to do: ask the provider."
            )
        )
        assert back.__notes__ == ["received 2024-08-01"]


def test_one_helper_says_which_landing_roots_are_http(tmp_path: Path) -> None:
    from jkn.ingest import landing

    assert landing._is_http("https://example.go.id/landing/x.csv")
    assert landing._is_http(fsspec.filesystem("http"))
    assert not landing._is_http("s3://bucket/landing/x.csv")
    assert not landing._is_http(str(tmp_path))
    assert not landing._is_http(fsspec.filesystem("file"))
