"""The monthly flow's typed parameters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import ValidationError

from jkn.periods import previous_month
from jkn.refresh import RefreshParameters


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2025, 1, 3), "2024-12"),
        (dt.date(2024, 3, 31), "2024-02"),
        (dt.date(2025, 6, 1), "2025-05"),
    ],
)
def test_an_empty_period_means_the_month_before(today: dt.date, expected: str) -> None:
    assert previous_month(today) == expected


@pytest.mark.parametrize("period", ["2024-13", "2024-7", "24-07", "2024/07", "juli"])
def test_period_must_be_a_month(period: str) -> None:
    with pytest.raises(ValidationError, match="YYYY-MM"):
        RefreshParameters(period=period, landing="data/landing", warehouse=Path("data/jkn.duckdb"))


def test_parameters_are_typed() -> None:
    params = RefreshParameters.model_validate(
        {"period": "2024-07", "landing": "s3://bucket/jkn", "warehouse": "w.duckdb"}
    )
    assert params.warehouse.name == "w.duckdb"
    assert params.accept_redelivery is False


def test_period_arithmetic_has_one_home() -> None:
    from jkn.periods import PeriodError, first_day, last_day, month_before, months

    assert first_day("2024-02") == dt.date(2024, 2, 1)
    assert [last_day(p) for p in ("2024-02", "2023-02", "2024-12")] == [
        dt.date(2024, 2, 29),
        dt.date(2023, 2, 28),
        dt.date(2024, 12, 31),
    ]
    assert month_before("2025-01") == "2024-12"
    assert months("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    assert months("2025-05", "2025-05") == ["2025-05"]
    with pytest.raises(PeriodError, match="give the older month first"):
        months("2025-05", "2025-04")
    with pytest.raises(PeriodError, match="YYYY-MM"):
        months("٢٠٢٥-05", "2025-06")  # Arabic-Indic digits are not a period
