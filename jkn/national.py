"""The national run: provinces refreshed apart, then what crosses provinces found by NIK.

Each province is refreshed into its own warehouse by the monthly flow. Then each writes its
persons — one row per NIK it knows: alive in its Dukcapil extract, or written on (or resolved
from) a valid card, with what it holds there — to the **exchange**, a folder or an fsspec URL
every worker can read, split into ``partitions`` buckets by a hash of the NIK
(``warehouse/sql/models/national/persons.sql``). One task per bucket reads every province's
part of it and counts the persons found in more than one province
(``cross_partition.sql``): a bucket holds every row of its persons and no other, so buckets
add up. The national marts sum the provinces' additive counts (their published
``marts.coverage`` and ``marts.double_funding`` province rows), recompute the rates from the
sums, and add the cross-province counts (``national_coverage.sql``, ``cross_province.sql``);
they are published to the national marts file like a province's (atomic file swap).

The exchange is restricted data: the NIK never reaches it in clear — each row carries
``md5(salt || NIK)`` with a salt drawn for the run and never written anywhere — but a hash of a
NIK is still a key to a person, so the folder is created owner-only (like the linkage's fan-out
folder) and removed when the run ends. Only counts leave the tasks.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import Any

import duckdb
import fsspec
import polars as pl
from pydantic import BaseModel, Field, field_validator

from jkn.databases import (
    load_reference,
    open_marts_read_only,
    open_restricted_read_only,
    open_scratch,
    publish_marts,
)
from jkn.periods import check_month, first_day, previous_month
from jkn.quality import QualitySettings
from jkn.refresh import RefreshParameters
from warehouse import model_sql

NATIONAL_MARTS = ("national_coverage", "cross_province")
PROVINCE_FIGURES = (
    "carded_elsewhere_too",
    "residents_in_several",
    "residents_carded_elsewhere",
    "uncovered_carded_elsewhere",
    "cross_province_double_funding",
)
NATION_FIGURES = ("carded_in_several", "resident_in_several")


class ProvinceRun(BaseModel):
    """One province of a national run: where its extracts land and its warehouse."""

    code: str = Field(description="the province's Kemendagri code, two digits (e.g. 16)")
    landing: str = Field(description="the province's landing root: a folder or an fsspec URL")
    warehouse: Path = Field(description="the province's warehouse DuckDB file")

    @field_validator("code")
    @classmethod
    def _two_digits(cls, value: str) -> str:
        if len(value) != 2 or not value.isascii() or not value.isdigit():
            raise ValueError(f"province code {value!r}: two ASCII digits, e.g. 16")
        return value


class NationalParameters(BaseModel):
    """What one national run needs to know."""

    provinces: list[ProvinceRun] = Field(
        description="the provinces to refresh (a JSON list is accepted, as prefect.yaml writes "
        "it from the deploying shell)"
    )
    warehouse: Path = Field(description="the national marts DuckDB file BI tools read")
    exchange: str | None = Field(
        default=None,
        description="where provinces exchange their persons by NIK hash: a folder or an fsspec "
        "URL (s3://…, gs://…) every worker can read and write; default: a folder beside the "
        "national warehouse, <stem>.exchange (restricted: owner-only, emptied after each run)",
    )
    partitions: int = Field(
        default=8, ge=1, le=4096, description="NIK-hash buckets: one cross-province task each"
    )
    period: str | None = Field(
        default=None, description="the month, YYYY-MM; empty: the month before today"
    )
    accept_redelivery: bool = False
    quality: QualitySettings = Field(default_factory=QualitySettings)
    alert_block: str | None = None
    alert_warnings: bool = True

    @field_validator("exchange")
    @classmethod
    def _empty_is_default(cls, value: str | None) -> str | None:
        return value or None

    @field_validator("provinces", mode="before")
    @classmethod
    def _from_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("provinces")
    @classmethod
    def _distinct(cls, value: list[ProvinceRun]) -> list[ProvinceRun]:
        if not value:
            raise ValueError("give at least one province")
        codes = [p.code for p in value]
        if len(set(codes)) != len(codes):
            raise ValueError(f"a province is named twice: {', '.join(sorted(codes))}")
        files = [p.warehouse.resolve() for p in value]
        if len(set(files)) != len(files):
            raise ValueError("two provinces share a warehouse file")
        return value

    @field_validator("period")
    @classmethod
    def _period_is_month(cls, value: str | None) -> str:
        return check_month(value) if value else previous_month()

    def province_parameters(self, province: ProvinceRun, period: str) -> RefreshParameters:
        """The monthly refresh's parameters for one province."""
        return RefreshParameters(
            period=period,
            landing=province.landing,
            warehouse=province.warehouse,
            accept_redelivery=self.accept_redelivery,
            quality=self.quality,
            alert_block=self.alert_block,
            alert_warnings=self.alert_warnings,
        )

    def exchange_root(self) -> str:
        return self.exchange or str(self.warehouse.with_name(f"{self.warehouse.stem}.exchange"))


class ProvinceOutcome(BaseModel):
    """One province's part of a national run (counts and timings only)."""

    code: str
    published: bool
    message: str | None = None
    persons_exchanged: int = 0
    refresh_s: float = 0.0
    export_s: float = 0.0
    process: str = ""  # host:pid of the worker that ran it


class NationalSummary(BaseModel):
    """What the national run did."""

    period: str
    provinces: list[ProvinceOutcome]
    partitions: int
    published: bool = False
    seconds: dict[str, float] = Field(
        default_factory=dict,
        description="wall time of each step: provinces (refresh and export, in parallel), "
        "cross (the partition tasks), marts (build and publish)",
    )
    processes: dict[str, int] = Field(
        default_factory=dict, description="worker processes that ran the provinces, partitions"
    )
    figures: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="the cross-province counts, per province and 'ID'"
    )

    @property
    def failed(self) -> list[ProvinceOutcome]:
        return [p for p in self.provinces if not p.published]


def new_salt() -> str:
    """A run's salt for the NIK hash (kept in memory, never written)."""
    return secrets.token_hex(16)


class Exchange:
    """The run's exchange folder: ``<root>/<period>/<run token>/part-<k>/<province>.parquet``
    on a local folder (owner-only) or any fsspec filesystem (DuckDB reads and writes through
    it)."""

    def __init__(self, root: str, period: str, token: str) -> None:
        self.fs, base = fsspec.core.url_to_fs(root)
        self.local = "file" in _protocols(self.fs)
        self.base = f"{base.rstrip('/')}/{period}/{token}"
        self.url = self.base if self.local else self.fs.unstrip_protocol(self.base)

    def file(self, part: int, province: str) -> str:
        return f"{self.url}/part-{part:04d}/{province}.parquet"

    def prepare(self, partitions: int) -> None:
        """Create the run's folders (locally owner-only: the root when it is created here,
        the period's and the run's folders always)."""
        if not self.local:
            for part in range(partitions):
                self.fs.makedirs(f"{self.base}/part-{part:04d}", exist_ok=True)
            return
        base = Path(self.base)
        base.parents[1].mkdir(mode=0o700, parents=True, exist_ok=True)
        for folder in (base.parent, base):
            folder.mkdir(mode=0o700, exist_ok=True)
            folder.chmod(0o700)
        for part in range(partitions):
            (base / f"part-{part:04d}").mkdir(mode=0o700, exist_ok=True)

    def attach(self, con: duckdb.DuckDBPyConnection) -> None:
        """Let DuckDB read and write the exchange (a remote one through fsspec)."""
        if not self.local:
            con.register_filesystem(self.fs)

    def remove(self) -> None:
        """Remove the run's folder (restricted data is not kept), and the period's folder
        when no other run's is left in it."""
        if self.fs.exists(self.base):
            self.fs.rm(self.base, recursive=True)
        period = self.base.rsplit("/", 1)[0]
        if self.local and Path(period).is_dir() and not any(Path(period).iterdir()):
            Path(period).rmdir()


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def export_province(
    marts_file: Path, period: str, province: str, exchange: Exchange, partitions: int, salt: str
) -> int:
    """Write the province's persons, by NIK-hash bucket, to the exchange (one Parquet file
    per bucket, empty ones too: a partition task expects every province's file). Returns the
    persons written."""
    exchange.prepare(partitions)
    con = open_restricted_read_only(marts_file)
    try:
        exchange.attach(con)
        con.execute(
            "create temp table national_persons as " + model_sql("national", "persons"),
            {"period": first_day(period), "salt": salt, "partitions": partitions},
        )
        for part in range(partitions):
            target = exchange.file(part, province)
            con.execute(
                "copy (select person, resident, carded, apbd, other_cover "
                "from national_persons where part = $part) "
                "to '{}' (format parquet, compression zstd)".format(target.replace("'", "''")),
                {"part": part},
            )
            if exchange.local:  # inside owner-only folders; the file itself owner-only too
                Path(target).chmod(0o600)
        return int(con.execute("select count(*) from national_persons").fetchall()[0][0])
    finally:
        con.close()


def cross_partition(
    exchange: Exchange, part: int, provinces: list[str], spill_beside: Path
) -> dict[str, dict[str, int]]:
    """Count what crosses provinces among the persons of one bucket: per province code the
    figures of :data:`PROVINCE_FIGURES`, and under ``ID`` those of :data:`NATION_FIGURES`
    (each person once)."""
    files = [exchange.file(part, code) for code in provinces]
    con = open_scratch(spill_beside)
    try:
        exchange.attach(con)
        # province codes are two digits (ProvinceRun), file names the exchange's own
        union = " union all ".join(
            "select *, '{}' as province from read_parquet('{}')".format(
                code, file.replace("'", "''")
            )
            for file, code in zip(files, provinces, strict=True)
        )
        con.execute(f"create temp table exchange as {union}")
        rows = con.sql(model_sql("national", "cross_partition")).pl()
    finally:
        con.close()
    out = {row["province"]: {k: int(row[k]) for k in PROVINCE_FIGURES} for row in rows.to_dicts()}
    first = rows.to_dicts()[0] if rows.height else {}
    out["ID"] = {k: int(first.get(k) or 0) for k in NATION_FIGURES}
    return out


def add_counts(parts: list[dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    """The buckets' counts added up (the buckets hold disjoint persons)."""
    total: dict[str, dict[str, int]] = {}
    for counts in parts:
        for region, figures in counts.items():
            into = total.setdefault(region, {})
            for key, value in figures.items():
                into[key] = into.get(key, 0) + value
    return total


class ProvinceMartsMissing(RuntimeError):
    """A province's published marts hold no row for it this period."""


def build_national_marts(
    period: str,
    provinces: dict[str, Path],
    figures: dict[str, dict[str, int]],
    spill_beside: Path,
) -> dict[str, pl.DataFrame]:
    """The national marts of ``period`` from each province's published marts file
    (``provinces``: code → marts file) and the exchange's ``figures``."""
    coverage, funding = [], []
    for code, marts_file in provinces.items():
        con = open_marts_read_only(marts_file)
        if con is None:
            raise ProvinceMartsMissing(f"province {code}: nothing published in {marts_file}")
        try:
            query = (
                "select * from marts.{} where period = $period and region_level = 'province' "
                "and region_code = $code"
            )
            params = {"period": first_day(period), "code": code}
            rows = con.sql(query.format("coverage"), params=params).pl()
            funding.append(con.sql(query.format("double_funding"), params=params).pl())
        finally:
            con.close()
        if rows.height != 1:
            raise ProvinceMartsMissing(
                f"province {code}: {marts_file} holds no province row {code} for {period} "
                "(are its extracts of this province?)"
            )
        coverage.append(rows)
    crossed = pl.DataFrame(
        [
            {"province": code, **{k: counts.get(k, 0) for k in PROVINCE_FIGURES}}
            for code, counts in figures.items()
            if code != "ID"
        ],
        schema={"province": pl.String, **dict.fromkeys(PROVINCE_FIGURES, pl.Int64)},
    )
    nation = pl.DataFrame(
        [{k: figures.get("ID", {}).get(k, 0) for k in NATION_FIGURES}],
        schema=dict.fromkeys(NATION_FIGURES, pl.Int64),
    )
    frames = {
        "province_coverage": pl.concat(coverage, how="diagonal_relaxed"),
        "province_double_funding": pl.concat(funding, how="diagonal_relaxed"),
        "crossed": crossed,
        "nation_crossed": nation,
    }
    con = open_scratch(spill_beside)
    try:
        load_reference(con)
        for name, frame in frames.items():
            con.register(name, frame)
        return {
            name: con.sql(model_sql("national", name), params={"period": first_day(period)}).pl()
            for name in NATIONAL_MARTS
        }
    finally:
        con.close()


def publish(marts_file: Path, period: str, marts: dict[str, pl.DataFrame]) -> None:
    """Replace the period in the national marts file (atomic swap: :mod:`warehouse.publish`)."""
    publish_marts(marts_file, first_day(period), marts, layer="national")


def timed() -> Any:
    """A monotonic stopwatch: ``lap()`` returns the seconds since it started."""
    start = time.monotonic()
    return lambda: round(time.monotonic() - start, 3)


def period_of(params: NationalParameters, period: str | None) -> str:
    return check_month(period) if period else (params.period or previous_month())
