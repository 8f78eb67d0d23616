"""Month-on-month bounds learned from each region's own published history.

The ``month_on_month`` suite bounds, per region at the movement levels, each figure of
:data:`FIGURES` — a list of (mart, column, kind) — by what that region did in its last
``history_months`` published months:

- ``level`` (population, registered, active_registered): the relative change from the
  calendar month before;
- ``rate`` (the coverage and activity rates): the change in percentage points;
- ``flow`` (the movement marts' counts): the count itself, summed over segments.

With at least ``history_min_months`` of those months holding the figure, the allowed band is
``median ± history_spread_multiple × σ̂`` (σ̂ = 1.4826 × the median absolute deviation),
never narrower than a floor; with fewer, a level or a rate gets the fixed bound (±5% or
±5 pp by default, centred on no change) and a flow is not bounded. Everything is computed in
polars over one row per region × figure × month (counts and rates only).

A figure whose mart is absent from the built period is not checked; a mart absent from the
published file only leaves the figure without history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

if TYPE_CHECKING:
    import duckdb

    from jkn.quality import QualitySettings

Kind = Literal["level", "rate", "flow"]
# the checks a figure belongs to, each with its own severity (QualitySettings)
MovementCheck = Literal["population", "registered", "active", "rates", "movements"]
MOVEMENT_CHECKS: tuple[MovementCheck, ...] = (
    "population",
    "registered",
    "active",
    "rates",
    "movements",
)
KEYS = ["region_code", "region_level"]
# the median absolute deviation of a normal sample times this estimates its σ
MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class Figure:
    """One checked figure: the mart and column it is read from, how it is compared and the
    check (severity) it belongs to. ``base``: the column of the same mart that a change of
    ``history_floor_count`` persons or cards is measured against (the floor), if any."""

    mart: str
    column: str
    kind: Kind
    check: MovementCheck
    base: str | None = None

    @property
    def name(self) -> str:
        """The check column: ``<column>_change`` for a level or a rate, the column for a flow."""
        return self.column if self.kind == "flow" else f"{self.column}_change"


_CARD_FLOWS = (
    "cards_new", "cards_ended", "cards_moved_in", "cards_moved_out", "activated",
    "deactivated_arrears", "deactivated_pbi", "deactivated_other", "new_active",
)  # fmt: skip
_RESIDENT_FLOWS = (
    "residents_entered", "residents_left", "newly_covered", "lost_coverage", "newly_active",
    "lapsed",
)  # fmt: skip
# the rates bounded month on month (their denominator is the population)
MOVING_RATES = ("coverage_registered", "activity_of_population", "coverage_reconciled")

FIGURES: tuple[Figure, ...] = (
    Figure("coverage", "population", "level", "population", base="population"),
    Figure("coverage", "registered", "level", "registered", base="registered"),
    Figure("coverage", "active_registered", "level", "active", base="active_registered"),
    *(Figure("coverage", rate, "rate", "rates", base="population") for rate in MOVING_RATES),
    *(Figure("card_movements", flow, "flow", "movements") for flow in _CARD_FLOWS),
    *(Figure("resident_movements", flow, "flow", "movements") for flow in _RESIDENT_FLOWS),
)


def fixed_bound(figure: Figure, settings: QualitySettings) -> float | None:
    """The bound used without enough history (None: a flow, not bounded then)."""
    return {
        "population": settings.population_change_max,
        "registered": settings.registered_change_max,
        "active": settings.active_change_max,
        "rates": settings.rate_change_max,
    }.get(figure.check)


def figures_present(marts: dict[str, pl.DataFrame]) -> list[Figure]:
    """The figures this period can be checked on: their mart was built, with the column."""
    return [f for f in FIGURES if f.mart in marts and f.column in marts[f.mart].columns]


# --------------------------------------------------------------------------------------------
# reading the published history


def read_published(
    con: duckdb.DuckDBPyConnection, period: dt.date, levels: list[str], months: int
) -> dict[str, pl.DataFrame]:
    """The published rows the bounds need, by mart: each region's last ``months + 1``
    published months before ``period`` (one more than the history, for the first month's
    change) at ``levels``. A mart the published file does not have is left out."""
    marts = sorted({f.mart for f in FIGURES})
    present = {
        row[0]
        for row in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts' "
            "and list_contains($marts, table_name)",
            {"marts": marts},
        ).fetchall()
    }
    out = {}
    for mart in marts:
        if mart not in present:
            continue
        out[mart] = con.sql(
            "select * from query_table($table) "
            "where period < $period and list_contains($levels, region_level) "
            "qualify dense_rank() over (partition by region_code, region_level "
            "order by period desc) <= $months",
            params={
                "table": f"marts.{mart}",
                "period": period,
                "levels": levels,
                "months": months + 1,
            },
        ).pl()
    return out


# --------------------------------------------------------------------------------------------
# the bounds


def _observations(
    frames: dict[str, pl.DataFrame], figures: list[Figure], levels: list[str]
) -> pl.DataFrame:
    """One row per period × region × figure: ``value`` (a flow summed over the mart's other
    keys, e.g. segments; null when every row is null, a month with no month before) and
    ``base`` (the floor's denominator)."""
    parts = []
    schema = pl.Schema(
        {
            "period": pl.Date,
            "region_code": pl.String,
            "region_level": pl.String,
            "figure": pl.String,
            "value": pl.Float64,
            "base": pl.Float64,
        }
    )
    for figure in figures:
        frame = frames.get(figure.mart)
        if frame is None or figure.column not in frame.columns or frame.is_empty():
            continue
        frame = frame.filter(pl.col("region_level").is_in(levels))
        value = pl.col(figure.column).cast(pl.Float64)
        base = pl.col(figure.base).cast(pl.Float64) if figure.base else pl.lit(None, pl.Float64)
        parts.append(
            frame.group_by("period", *KEYS)
            .agg(
                pl.when(value.is_not_null().any()).then(value.sum()).alias("value"),
                base.sum().alias("base") if figure.base else base.first().alias("base"),
            )
            .select("period", *KEYS, pl.lit(figure.name).alias("figure"), "value", "base")
            .cast(schema)
        )
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def _checked(obs: pl.DataFrame, figures: list[Figure]) -> pl.DataFrame:
    """``x``, the quantity bounded each month: a level's relative change and a rate's change
    from the calendar month before (null when that month was not published), a flow's count;
    and ``base_before``, the base of the month before."""
    kinds = pl.DataFrame(
        {"figure": [f.name for f in figures], "kind": [f.kind for f in figures]},
        schema={"figure": pl.String, "kind": pl.String},
    )
    before = obs.select(
        # first days of months: the month after a row's period is the one it comes before
        pl.col("period").dt.offset_by("1mo"),
        *KEYS,
        "figure",
        pl.col("value").alias("value_before"),
        pl.col("base").alias("base_before"),
    )
    joined = obs.join(kinds, on="figure").join(before, on=["period", *KEYS, "figure"], how="left")
    kind = pl.col("kind")
    return joined.select(
        "period",
        *KEYS,
        "figure",
        "kind",
        pl.when(kind == "flow")
        .then(pl.col("value"))
        .when(kind == "rate")
        .then(pl.col("value") - pl.col("value_before"))
        .when(pl.col("value_before") > 0)
        .then(pl.col("value") / pl.col("value_before") - 1)
        .alias("x"),
        "base_before",
    )


def bounds(
    period: dt.date,
    current: dict[str, pl.DataFrame],
    published: dict[str, pl.DataFrame],
    settings: QualitySettings,
) -> pl.DataFrame:
    """One row per region (at the movement levels) × checked figure of ``period``: ``x``, the
    history it was judged by (``months``, ``median``), the band (``low``, ``high``; null: not
    bounded), whether it was learned, and ``beyond`` — how far ``x`` lies outside the band
    (0 inside; null when not checked: no month before, or a flow without history).

    ``current``: the period's built marts; ``published``: the published rows before it
    (:func:`read_published`)."""
    figures = figures_present(current)
    levels = settings.movement_levels
    now = {m: f.with_columns(pl.lit(period).alias("period")) for m, f in current.items()}
    earlier = {m: f.filter(pl.col("period") < period) for m, f in published.items()}
    obs = pl.concat([_observations(now, figures, levels), _observations(earlier, figures, levels)])
    x = _checked(obs, figures)
    group = [*KEYS, "figure"]
    history = (
        x.filter(pl.col("period") < period)
        # the region's last K published months (a month not published is not one of them)
        .filter(
            pl.col("period").rank("dense", descending=True).over(group) <= settings.history_months
        )
        .drop_nulls("x")
        .group_by(group)
        .agg(
            pl.len().alias("months"),
            pl.col("x").median().alias("median"),
            (pl.col("x") - pl.col("x").median()).abs().median().alias("mad"),
        )
    )
    rules = pl.DataFrame(
        {
            "figure": [f.name for f in figures],
            "fixed": [fixed_bound(f, settings) for f in figures],
        },
        schema={"figure": pl.String, "fixed": pl.Float64},
    )
    multiple = settings.history_spread_multiple
    floor_count = float(settings.history_floor_count)
    floor = (
        pl.when(pl.col("kind") == "flow")
        .then(pl.max_horizontal(pl.lit(floor_count), multiple * pl.col("median").sqrt()))
        .otherwise(
            pl.max_horizontal(
                settings.history_floor_share * pl.col("fixed"),
                pl.lit(floor_count) / pl.col("base_before"),
            )
        )
    )
    learned = pl.col("months").fill_null(0) >= settings.history_min_months
    half = pl.max_horizontal(multiple * MAD_TO_SIGMA * pl.col("mad"), floor)
    banded = (
        x.filter(pl.col("period") == period)
        .join(history, on=group, how="left")
        .join(rules, on="figure")
        .with_columns(
            pl.col("months").fill_null(0).cast(pl.Int64),
            learned.alias("learned"),
            pl.when(learned).then(pl.col("median") - half).otherwise(-pl.col("fixed")).alias("low"),
            pl.when(learned).then(pl.col("median") + half).otherwise(pl.col("fixed")).alias("high"),
        )
    )
    beyond = (
        pl.when(pl.col("x").is_null() | pl.col("low").is_null())
        .then(None)
        .when(pl.col("x") < pl.col("low"))
        .then(pl.col("x") - pl.col("low"))
        .when(pl.col("x") > pl.col("high"))
        .then(pl.col("x") - pl.col("high"))
        .otherwise(0.0)
    )
    return banded.select(
        *group, "kind", "x", "months", "median", "learned", "low", "high", "fixed",
        beyond.alias("beyond"),
    ).sort(group)  # fmt: skip


def wide(banded: pl.DataFrame, figures: list[Figure]) -> pl.DataFrame:
    """The suite's frame: one row per region, for each figure ``<name>`` (x), ``<name>_low``,
    ``<name>_high``, ``<name>_months``, ``<name>_median`` and ``<name>_beyond_bound`` (what
    is expected to be 0)."""
    regions = banded.select(KEYS).unique()
    out = regions
    for figure in figures:
        name = figure.name
        part = banded.filter(pl.col("figure") == name).select(
            *KEYS,
            pl.col("x").alias(name),
            pl.col("low").alias(f"{name}_low"),
            pl.col("high").alias(f"{name}_high"),
            pl.col("months").alias(f"{name}_months"),
            pl.col("median").alias(f"{name}_median"),
            pl.col("beyond").alias(f"{name}_beyond_bound"),
        )
        out = out.join(part, on=KEYS, how="left")
    return out.sort("region_code")


# --------------------------------------------------------------------------------------------
# the words


def _signed(value: float, kind: str) -> str:
    if kind == "level":
        text = f"{value:+.1%}"
    elif kind == "rate":
        text = f"{value * 100:+.1f} pp"
    else:
        text = f"{value:,.0f}"
    return text.replace("-", "−")


def _fixed(value: float, kind: str) -> str:
    return f"±{value * 100:g}%" if kind == "level" else f"±{value * 100:g} pp"


def describe(figure: Figure, row: dict[str, Any], settings: QualitySettings) -> str:
    """Which bound one region's figure was judged by, in words (counts and rates only), from
    its row of :func:`wide`: ``+3.1%, learned from 6 months: median +0.4%, allowed −1.2% …
    +2.0%`` or ``+10.0%, fixed ±5%: fewer than 3 published months``."""
    name, kind = figure.name, figure.kind
    x, months = row.get(name), row.get(f"{name}_months") or 0
    now = "not known" if x is None else _signed(x, kind)
    if months >= settings.history_min_months:
        low, high, median = row[f"{name}_low"], row[f"{name}_high"], row[f"{name}_median"]
        if kind == "flow":  # a count is never negative
            low = max(low, 0.0)
        return (
            f"{now}, learned from {months} months: median {_signed(median, kind)}, "
            f"allowed {_signed(low, kind)} … {_signed(high, kind)}"
        )
    fewer = f"fewer than {settings.history_min_months} published months"
    fixed = fixed_bound(figure, settings)
    if fixed is None:
        return f"{now}, not bounded: {fewer}"
    return f"{now}, fixed {_fixed(fixed, kind)}: {fewer}"


def checked(frame: pl.DataFrame) -> list[Figure]:
    """The figures the suite's frame (:func:`wide`) carries, in :data:`FIGURES` order."""
    return [f for f in FIGURES if f"{f.name}_beyond_bound" in frame.columns]


def _floor(figure: Figure, settings: QualitySettings) -> str:
    count = settings.history_floor_count
    multiple = f"{settings.history_spread_multiple:g}"
    if figure.kind == "flow":
        return f"±{count} or ±{multiple} × √median"
    fixed = fixed_bound(figure, settings) or 0.0
    unit = "cards" if figure.column in ("registered", "active_registered") else "persons"
    return f"{_fixed(settings.history_floor_share * fixed, figure.kind)} or ±{count} {unit}"


def meaning(figure: Figure, frame: pl.DataFrame, settings: QualitySettings) -> str:
    """The expectation's sentence: the rule, and how many regions each bound applied to."""
    name = figure.name
    months, beyond = pl.col(f"{name}_months"), pl.col(f"{name}_beyond_bound")
    enough = months >= settings.history_min_months
    counts = frame.select(
        (enough & beyond.is_not_null()).sum().alias("learned"),
        (~enough & beyond.is_not_null()).sum().alias("fixed"),
        beyond.is_null().sum().alias("unchecked"),
    ).row(0, named=True)
    what = (
        f"{figure.column} (summed over segments)"
        if figure.mart == "card_movements"
        else figure.column
    )
    verb = "counted this month" if figure.kind == "flow" else "changed from the month before"
    rule = (
        f"{what} {verb} within its region's band: learned from the region's last "
        f"{settings.history_months} published months (median ± "
        f"{settings.history_spread_multiple:g} × robust spread, never narrower than "
        f"{_floor(figure, settings)}) when it has {settings.history_min_months} or more"
    )
    fewer = f"fewer than {settings.history_min_months} published months"
    fixed = fixed_bound(figure, settings)
    if fixed is None:
        return (
            f"{rule}, not bounded with {fewer}; this month's regions: {counts['learned']} "
            "learned, "
            f"{counts['fixed'] + counts['unchecked']} not bounded"
        )
    return (
        f"{rule}, else fixed {_fixed(fixed, figure.kind)}; this month's regions: "
        f"{counts['learned']} learned, {counts['fixed']} fixed ({fewer}), "
        f"{counts['unchecked']} not checked (the month before was not published)"
    )


def explain(
    frame: pl.DataFrame, column: str | None, codes: list[str], settings: QualitySettings
) -> list[str]:
    """For a failed expectation on ``<name>_beyond_bound``: per region code, its figure and
    the bound it was judged by (:func:`describe`)."""
    figure = next((f for f in checked(frame) if column == f"{f.name}_beyond_bound"), None)
    if figure is None:
        return []
    rows = {
        r["region_code"]: r for r in frame.filter(pl.col("region_code").is_in(codes)).to_dicts()
    }
    return [describe(figure, rows[code], settings) if code in rows else "" for code in codes]
