"""pandera schemas of the three monthly extracts, one module per source.

Each module names its columns (required and optional), how staging parses them, which checks
are warnings (flag the row) rather than errors (quarantine it), and the pandera
``DataFrameModel`` whose checks are named after the business rules they enforce.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import pandera.polars as pa
import polars as pl

from schemas import bpjs_membership, dinsos_pbi, dukcapil
from schemas.common import first_in_file


@dataclass(frozen=True)
class SourceSchema:
    """Everything the ingestion needs to know about one source."""

    source: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: str
    warnings: frozenset[str]
    model: type[pa.DataFrameModel]
    staged: tuple[str, ...]
    module: ModuleType

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required + self.optional

    def parse(self) -> list[pl.Expr]:
        return self.module.parse()

    def file_level(self) -> list[pl.Expr]:
        """Columns judged over the whole file, not row by row: whether each row is the first
        with its key (later repeats are duplicates). Apply to the parsed frame."""
        return [pl.col(self.key).is_first_distinct().alias(first_in_file(self.key))]

    def severity(self, check: str) -> str:
        return "warning" if check in self.warnings else "error"


def _schema(module: ModuleType) -> SourceSchema:
    return SourceSchema(
        source=module.SOURCE,
        required=module.REQUIRED,
        optional=module.OPTIONAL,
        key=module.KEY,
        warnings=module.WARNINGS,
        model=module.MODEL,
        staged=module.STAGED,
        module=module,
    )


SCHEMAS: dict[str, SourceSchema] = {
    m.SOURCE: _schema(m) for m in (dukcapil, dinsos_pbi, bpjs_membership)
}
