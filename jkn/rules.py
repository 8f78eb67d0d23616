"""Rules kept as data: ``warehouse/rules/*.csv``, read by Python where Python needs them.

The CSVs are the one home of the JKN segments and their older names, the coverage bridge's and
the PBI reconciliation's categories and the region levels: the SQL joins them as ``ref.<file>``
(``warehouse.build.load_reference``), and the schemas, the generator and ``jkn.domain`` read
them here. The folder is found as package data of ``warehouse`` (its location only: nothing of
``warehouse`` is imported), or given (``rules_dir``, for tests).
"""

from __future__ import annotations

import csv
import hashlib
import importlib.util
from functools import cache
from pathlib import Path


class RulesError(RuntimeError):
    """A rules file is missing or does not read as its rule needs."""


def default_rules_dir() -> Path:
    """``warehouse/rules``, located without importing the ``warehouse`` package."""
    spec = importlib.util.find_spec("warehouse")
    if spec is None or not spec.submodule_search_locations:
        raise RulesError("package 'warehouse' not found: it carries the rules (rules/*.csv)")
    return Path(next(iter(spec.submodule_search_locations))) / "rules"


# where the rules are read from; tests point it at a folder of their own
RULES_DIR: Path = default_rules_dir()


@cache
def _rows(path: Path) -> tuple[dict[str, str], ...]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return tuple(csv.DictReader(handle))
    except FileNotFoundError:
        raise RulesError(f"{path}: rules file missing") from None


def rows(name: str, rules_dir: Path | None = None) -> tuple[dict[str, str], ...]:
    """The rows of ``<rules_dir>/<name>.csv`` (default :data:`RULES_DIR`), as text."""
    return _rows((rules_dir or RULES_DIR) / f"{name}.csv")


def _ordered(name: str, rules_dir: Path | None) -> tuple[str, ...]:
    ranked = sorted(rows(name, rules_dir), key=lambda row: int(row["category_order"]))
    return tuple(row["category"] for row in ranked)


def segments(rules_dir: Path | None = None) -> tuple[str, ...]:
    """The current JKN segment codes, in the file's order (``segments.csv``)."""
    return tuple(row["segment"] for row in rows("segments", rules_dir))


def segment_aliases(rules_dir: Path | None = None) -> dict[str, str]:
    """Older segment names BPJS still writes → the current code (``segment_aliases.csv``)."""
    return {row["alias"]: row["segment"] for row in rows("segment_aliases", rules_dir)}


def bridge_categories(rules_dir: Path | None = None) -> tuple[str, ...]:
    """The coverage bridge's categories, in the order they are checked."""
    return _ordered("bridge_categories", rules_dir)


def pbi_categories(rules_dir: Path | None = None) -> tuple[str, ...]:
    """The PBI reconciliation's categories, in the order they are checked."""
    return _ordered("pbi_categories", rules_dir)


def region_levels(rules_dir: Path | None = None) -> dict[str, int]:
    """Administrative level → digits of the Kemendagri code that name it (``region_levels``)."""
    return {row["region_level"]: int(row["digits"]) for row in rows("region_levels", rules_dir)}


def rules_version(rules_dir: Path | None = None) -> str:
    """Which rules a period was judged by (``marts.published.rules_version``): SHA-256 over
    every rules file's name and bytes (``<rules_dir>/*.csv``, default :data:`RULES_DIR`), the
    first 16 hex digits, like the code fingerprint. Equal values mean the same rules, to the
    byte; any edit of a rule, a premium, a target or a category changes it."""
    digest = hashlib.sha256()
    for path in sorted((rules_dir or RULES_DIR).glob("*.csv")):
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
