"""Tasks of the national run: the cross-province count of one NIK-hash bucket, the national
marts built and published (:mod:`jkn.national`)."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import polars as pl
from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel

from jkn.national import Exchange, build_national_marts, cross_partition, publish
from jkn.timeline import stage


class PartitionCounts(BaseModel):
    """One bucket's cross-province counts (no row content) and where they were counted."""

    part: int
    counts: dict[str, dict[str, int]]
    process: str


def process_name() -> str:
    """host:pid of this process (which worker ran a task)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@task(name="cross_partition", cache_policy=NO_CACHE)
def cross_partition_task(
    exchange_root: str, period: str, token: str, part: int, provinces: list[str]
) -> PartitionCounts:
    """Count what crosses provinces among the persons of bucket ``part`` (every province's
    file of it, read from the exchange); runs wherever the flow's task runner puts it."""
    exchange = Exchange(exchange_root, period, token)
    with tempfile.TemporaryDirectory(prefix="jkn-cross-") as spill:
        counts = cross_partition(exchange, part, provinces, Path(spill) / "scratch")
    return PartitionCounts(part=part, counts=counts, process=process_name())


@task(name="build_national_marts", cache_policy=NO_CACHE)
def build_national_task(
    period: str, provinces: dict[str, Path], figures: dict[str, dict[str, int]], marts_file: Path
) -> dict[str, pl.DataFrame]:
    """The national marts of the period from the provinces' published marts and the
    exchange's counts."""
    with stage("national_marts"):
        return build_national_marts(period, provinces, figures, marts_file)


@task(name="publish_national_marts", cache_policy=NO_CACHE)
def publish_national_task(marts: dict[str, pl.DataFrame], marts_file: Path, period: str) -> None:
    """Replace the period in the national marts file (built beside it, renamed over it)."""
    with stage("national_publish"):
        publish(marts_file, period, marts)
