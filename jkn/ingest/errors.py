"""Errors that speak to the person who must act: which file, where, what was expected, what to do
(and never a value from a row)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass
class ExtractError(Exception):
    """A whole-file problem: the source fails for this period and nothing of it is loaded."""

    file: str
    problem: str
    expected: str = ""
    action: str = ""
    line: int | None = None
    column: str | None = None
    check: str = "file_readable"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column {self.column}"
        parts = [f"{where}: {self.problem}"]
        if self.expected:
            parts.append(f"Expected: {self.expected}")
        if self.action:
            parts.append(f"What to do: {self.action}")
        return ". ".join(p.rstrip(".") for p in parts) + "."

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle by the fields: a task returns this error, and Prefect's result persistence
        and Dask pickle what a task returns. (``Exception`` pickles ``self.args``, which the
        dataclass's ``__init__`` leaves empty, so unpickling would call ``cls()`` and fail.)"""
        values = tuple(getattr(self, f.name) for f in fields(self))
        names = {f.name for f in fields(self)}
        extra = {k: v for k, v in self.__dict__.items() if k not in names}  # e.g. __notes__
        return (type(self), values, extra or None)


class SourceChangedError(ExtractError):
    """A period's file was redelivered with different bytes from the copy already received."""
