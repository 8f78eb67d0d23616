"""The national exchange on its own: provinces' persons bucketed by NIK hash on an fsspec
filesystem (``memory://``, as object storage would be) and counted bucket by bucket."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import fsspec
import pytest

from jkn.national import Exchange, add_counts, cross_partition, export_province
from jkn.settings import restricted_path
from warehouse import RULES_DIR

PERIOD = "2025-05"
PERSONS = 3000


def _province(folder: Path, code: str, guest_of: str) -> Path:
    """A restricted file with what the exchange reads: living residents ``<code>000…<i>``, one
    card each (segments in turn), and cards of every 30th resident of ``guest_of`` here."""
    marts = folder / code / "jkn.duckdb"
    marts.parent.mkdir(parents=True)
    con = duckdb.connect(str(restricted_path(marts)))
    try:
        con.execute("create schema staging; create schema intermediate; create schema ref")
        nik = "lpad(i::varchar, 14, '0')"
        con.execute(
            f"create table staging.dukcapil as select date '{PERIOD}-01' as period, "
            f"'{code}' || {nik} as nik, 'HIDUP' as status from range({PERSONS}) t(i)"
        )
        segments = "['PBI_APBD', 'PBI_APBN', 'PPU_BU', 'PBPU'][i % 4 + 1]"
        con.execute(
            f"create table staging.bpjs_membership as select date '{PERIOD}-01' as period, "
            f"i + 2 as line, '{code}' || {nik} as nik, {segments} as segmen "
            f"from range({PERSONS}) t(i) union all select date '{PERIOD}-01', {PERSONS} + i + 2, "
            f"'{guest_of}' || {nik}, 'PPU_BU' from range(0, {PERSONS}, 30) t(i)"
        )
        con.execute(
            "create table intermediate.row_person as select period, 'bpjs_membership' as source, "
            "line, nik as person_key from staging.bpjs_membership"
        )
        con.execute(
            "create table ref.segments as select * from read_csv($path)",
            {"path": str(RULES_DIR / "segments.csv")},
        )
    finally:
        con.close()
    return marts


@pytest.mark.parametrize("where", ["memory", "folder"])
def test_buckets_on_an_fsspec_filesystem_add_up_to_the_whole(where: str, tmp_path: Path) -> None:
    codes = ["16", "17"]
    files = {
        "16": _province(tmp_path, "16", guest_of="17"),
        "17": _province(tmp_path, "17", guest_of="16"),
    }
    root = f"memory://jkn-{uuid.uuid4().hex}" if where == "memory" else str(tmp_path / "exchange")
    exchange = Exchange(root, PERIOD, "run")
    assert exchange.local == (where == "folder")
    partitions = 4
    written = [export_province(files[c], PERIOD, c, exchange, partitions, "salt") for c in codes]
    guests = len(range(0, PERSONS, 30))
    assert written == [PERSONS + guests] * 2  # residents, and the other province's guests
    fs, _ = fsspec.core.url_to_fs(root)
    sizes = [fs.size(exchange.file(part, "16")) for part in range(partitions)]
    assert all(size > 1000 for size in sizes)  # every bucket holds persons
    if where == "folder":
        assert (tmp_path / "exchange").stat().st_mode & 0o077 == 0
        assert Path(exchange.file(0, "16")).stat().st_mode & 0o077 == 0
    parts = [cross_partition(exchange, k, codes, tmp_path / "scratch") for k in range(partitions)]
    total = add_counts(parts)
    for code in codes:
        assert total[code]["carded_elsewhere_too"] == guests * 2  # its own and the guests'
        assert total[code]["residents_carded_elsewhere"] == guests
        assert total[code]["uncovered_carded_elsewhere"] == 0
        # a guest's card is PPU_BU: the residents with a PBI_APBD card at home (i % 4 == 0),
        # and no other cover there, are funded twice
        assert total[code]["cross_province_double_funding"] == len(range(0, PERSONS, 60))
    assert total["ID"] == {"carded_in_several": guests * 2, "resident_in_several": 0}
    exchange.remove()
    assert not fs.exists(exchange.base)
