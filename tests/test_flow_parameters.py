"""The monthly flow's typed parameters."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from flows.monthly_refresh import RefreshParameters, previous_month


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
        RefreshParameters(period=period, landing="data/landing", warehouse="data/jkn.duckdb")


def test_parameters_are_typed() -> None:
    params = RefreshParameters(period="2024-07", landing="s3://bucket/jkn", warehouse="w.duckdb")
    assert params.warehouse.name == "w.duckdb"
    assert params.accept_redelivery is False
