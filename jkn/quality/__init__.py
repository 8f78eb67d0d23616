"""Data-quality suites on a period's marts, run with Great Expectations before publishing.

The marts are small (one row per region and category), so each suite validates a polars frame
of *check columns* computed here (the bridge's gap to `registered`, each region's change
since the previous month, whether a region of the extract has a row) written to Parquet
beside the GX project, rather than a DuckDB table through SQLAlchemy, which GX 1.x cannot
read (STACK.md). One checkpoint per run validates every suite; its Data Docs are rebuilt as a
static site that renders offline (``jkn.quality.datadocs``).

Every expectation carries a severity in its ``meta``: ``error`` stops the period from being
published and alerts at once, ``warning`` is reported in the run's summary alert.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, Field, model_validator

import jkn.settings  # noqa: F401  (Great Expectations analytics off before it is imported)
from jkn.quality.history import (
    MovementCheck,
    bounds,
    checked,
    explain,
    figures_present,
    meaning,
    wide,
)

Severity = Literal["error", "warning"]

# rates published in [0, 1]. coverage_registered may exceed 1 (Lebong, 100.71%), and so may
# activity_of_population: its numerator is BPJS's active cards, its denominator Dukcapil's
# residents (a village where cards outnumber residents shows both above 1)
BOUNDED_RATES = ("activity_of_registered", "coverage_reconciled", "activity_reconciled")
UNBOUNDED_RATES = ("coverage_registered", "activity_of_population")
# the movement marts' identities, as gaps that are 0 when they hold
CARD_GAPS = ("card_flow_gap", "cards_minus_registered")
RESIDENT_GAPS = (
    "residents_gap",
    "covered_gap",
    "active_gap",
    "residents_end_minus_population",
    "covered_end_minus_covered_residents",
    "active_end_minus_active_residents",
)
# marts.coverage_by_group against marts.coverage: what the groups of a region add up to, less
# the region's figure (0 when they add up)
GROUP_FIGURES = ("population", "covered_residents", "active_residents")
GROUP_GAPS = tuple(f"groups_minus_{figure}" for figure in GROUP_FIGURES)
# the levels the groups are built at (sql/models/marts/coverage_by_group.sql)
GROUP_LEVELS = ("kabupaten", "kecamatan")


class QualitySettings(BaseModel):
    """Thresholds of the run's data-quality checks (typed flow parameters)."""

    quarantine_rate_max: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="a source whose quarantined share of rows exceeds this fails the run",
    )
    quarantine_rate_max_by_source: dict[str, float] = Field(
        default_factory=dict,
        description="per-source overrides of quarantine_rate_max, e.g. {'dinsos_pbi': 0.1}",
    )
    movement_levels: list[str] = Field(
        default_factory=lambda: ["province", "kabupaten"],
        description="region levels whose month-on-month movement is bounded (a village of "
        "200 people moves by more than a kab/kota of 400,000)",
    )
    population_change_max: float = Field(
        default=0.05,
        ge=0,
        description="fixed bound: largest relative change of population in one month, for a "
        "region with fewer than history_min_months published months",
    )
    registered_change_max: float = Field(
        default=0.05,
        ge=0,
        description="fixed bound of the relative change of registered cards in one month",
    )
    active_change_max: float = Field(
        default=0.05,
        ge=0,
        description="fixed bound of the relative change of active cards in one month",
    )
    rate_change_max: float = Field(
        default=0.05,
        ge=0,
        description="fixed bound of the change of a coverage or activity rate in one month "
        "(0.05 = 5 pp)",
    )
    history_months: int = Field(
        default=6,
        ge=1,
        le=60,
        description="a region's bound is learned from its last this many published months",
    )
    history_min_months: int = Field(
        default=3,
        ge=2,
        description="with fewer published months holding a figure than this, the fixed bound "
        "applies (and a movement count is not bounded)",
    )
    history_spread_multiple: float = Field(
        default=4,
        gt=0,
        description="the learned band is the median ± this many robust standard deviations "
        "(1.4826 × the median absolute deviation) of the region's history",
    )
    history_floor_share: float = Field(
        default=0.2,
        ge=0,
        le=1,
        description="a learned band is never narrower than ± this share of the fixed bound "
        "(0.2: ±1% of population, ±1 pp of a rate)",
    )
    history_floor_count: int = Field(
        default=10,
        ge=0,
        description="nor narrower than a change of this many persons or cards (a movement "
        "count's band: nor than the spread multiple × √median, its counting noise)",
    )
    movement_severity: Severity = Field(
        default="error", description="severity of a movement beyond its bound"
    )
    movement_severity_by_check: dict[MovementCheck, Severity] = Field(
        default_factory=dict,
        description="per-check overrides of movement_severity, checks population, "
        "registered, active, rates, movements, e.g. {'movements': 'warning'}",
    )

    @model_validator(mode="after")
    def _history_fits(self) -> QualitySettings:
        if self.history_min_months > self.history_months:
            raise ValueError(
                f"history_min_months ({self.history_min_months}) is more than history_months "
                f"({self.history_months}): a bound cannot need more months than it reads; "
                "lower history_min_months or raise history_months"
            )
        return self

    def quarantine_limit(self, source: str) -> float:
        return self.quarantine_rate_max_by_source.get(source, self.quarantine_rate_max)

    def movement_severity_of(self, check: MovementCheck) -> Severity:
        return self.movement_severity_by_check.get(check, self.movement_severity)


@dataclass(frozen=True)
class Expectation:
    """One declared expectation: a GX expectation class name, its arguments, its severity and
    what it means for a BPJS analyst."""

    kind: str
    kwargs: dict[str, Any]
    severity: Severity
    meaning: str


@dataclass(frozen=True)
class Suite:
    """A suite: its frame of check columns, its expectations (which may read the frame, e.g.
    to say how many regions each bound applied to) and, optionally, how a failed
    expectation's regions are explained (one phrase per region code, counts only)."""

    name: str
    description: str
    frame: Callable[[CheckInputs], pl.DataFrame]
    expectations: Callable[[QualitySettings, pl.DataFrame], list[Expectation]]
    explain: Callable[[pl.DataFrame, str | None, list[str]], list[str]] | None = None


@dataclass
class CheckInputs:
    """What the suites look at: the period's built marts (not yet published), the published
    marts' rows before it that the month-on-month bounds read (by mart:
    :func:`jkn.quality.history.read_published`; a mart never published is absent) and the
    region codes found in the extracts."""

    period: dt.date
    marts: dict[str, pl.DataFrame]
    published: dict[str, pl.DataFrame]
    extract_regions: pl.DataFrame  # region_code, region_level


@dataclass
class CheckOutcome:
    """One expectation's result: counts and region codes only, never a person's data."""

    suite: str
    expectation: str
    column: str | None
    severity: Severity
    success: bool
    meaning: str
    unexpected_count: int | None = None
    element_count: int | None = None
    examples: list[str] = field(default_factory=list)
    # one phrase per example, when the suite explains them (the bound a region was judged by)
    details: list[str] = field(default_factory=list)


@dataclass
class CheckpointReport:
    period: dt.date
    outcomes: list[CheckOutcome]
    data_docs: Path | None

    @property
    def errors(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "error"]

    @property
    def warnings(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "warning"]


# --------------------------------------------------------------------------------------------
# check frames


def _coverage(inputs: CheckInputs) -> pl.DataFrame:
    return inputs.marts["coverage"].select(
        "region_code", "region_level", "population", "registered",
        *UNBOUNDED_RATES, *BOUNDED_RATES,
    )  # fmt: skip


def _populated(inputs: CheckInputs) -> pl.DataFrame:
    # a village can have cards and no resident (a card coded to it, nobody living there per
    # Dukcapil); a kecamatan, kab/kota or province cannot
    return _coverage(inputs).filter(pl.col("region_level") != "desa")


def _bridge(inputs: CheckInputs) -> pl.DataFrame:
    keys = ["region_code", "region_level"]
    sums = inputs.marts["coverage_bridge"].group_by(keys).agg(pl.col("rows").sum().alias("bridge"))
    registered = inputs.marts["coverage"].select(*keys, "registered")
    return (
        registered.join(sums, on=keys, how="full", coalesce=True)
        .with_columns(
            (pl.col("bridge").fill_null(0) - pl.col("registered").fill_null(0)).alias(
                "bridge_minus_registered"
            )
        )
        .sort(keys)
    )


def _regions(inputs: CheckInputs) -> pl.DataFrame:
    published = inputs.marts["coverage"].select("region_code", "region_level").unique()
    return (
        inputs.extract_regions.join(
            published.with_columns(pl.lit(True).alias("has_row")),
            on=["region_code", "region_level"],
            how="left",
        )
        .with_columns(pl.col("has_row").fill_null(False))
        .sort("region_code")
    )


def _movement_at_levels(settings: QualitySettings) -> Callable[[CheckInputs], pl.DataFrame]:
    def frame(inputs: CheckInputs) -> pl.DataFrame:
        banded = bounds(inputs.period, inputs.marts, inputs.published, settings)
        return wide(banded, figures_present(inputs.marts))

    return frame


def _card_identities(inputs: CheckInputs) -> pl.DataFrame:
    """marts.card_movements' two identities as gaps (0 when they hold; null where one does not
    apply: the flow without a previous month, the registered rows for a recomputed month
    after, whose activity_by_segment is not built here)."""
    keys = ["region_code", "region_level", "segment"]
    if "card_movements" not in inputs.marts:  # marts built without movements
        return pl.DataFrame(
            schema={**dict.fromkeys(keys, pl.String), **dict.fromkeys(CARD_GAPS, pl.Int64)}
        )
    cards = inputs.marts["card_movements"]
    now = cards.filter(pl.col("period") == inputs.period)
    activity = inputs.marts.get("activity_by_segment")
    if activity is None:  # nothing to hold the cards against: no second identity
        now = now.with_columns(cards_minus_registered=pl.lit(None, dtype=pl.Int64))
    else:
        now = now.join(
            activity.select(*keys, "registered"), on=keys, how="full", coalesce=True
        ).with_columns(
            cards_minus_registered=pl.col("cards_end").fill_null(0)
            + pl.col("cards_untracked").fill_null(0)
            - pl.col("registered").fill_null(0)
        )
    later = cards.filter(pl.col("period") != inputs.period)
    flow = (
        pl.col("cards_start") + pl.col("cards_new") - pl.col("cards_ended")
        + pl.col("cards_moved_in") - pl.col("cards_moved_out") - pl.col("cards_end")
    )  # fmt: skip
    return (
        pl.concat([now, later], how="diagonal_relaxed")
        .select(*keys, flow.alias("card_flow_gap"), "cards_minus_registered")
        .sort(keys)
    )


def _resident_identities(inputs: CheckInputs) -> pl.DataFrame:
    """marts.resident_movements' identities as gaps, and its `_end` columns against this
    period's marts.coverage (population, covered_residents, active_residents)."""
    keys = ["region_code", "region_level"]
    if "resident_movements" not in inputs.marts:
        return pl.DataFrame(
            schema={**dict.fromkeys(keys, pl.String), **dict.fromkeys(RESIDENT_GAPS, pl.Int64)}
        )
    moves = inputs.marts["resident_movements"]
    coverage = inputs.marts["coverage"].select(
        *keys, "population", "covered_residents", "active_residents"
    )
    now = (
        moves.filter(pl.col("period") == inputs.period)
        .join(coverage.filter(pl.col("population") > 0), on=keys, how="full", coalesce=True)
        .with_columns(this_period=pl.lit(True))
    )
    later = moves.filter(pl.col("period") != inputs.period)
    both = pl.concat([now, later], how="diagonal_relaxed")

    def balance(stock: str, gained: str, lost: str, entered: str, left: str) -> pl.Expr:
        return (
            pl.col(f"{stock}_start") + pl.col(gained) - pl.col(lost) + pl.col(entered)
            - pl.col(left) - pl.col(f"{stock}_end")
        )  # fmt: skip

    def against(column: str, published: str) -> pl.Expr:
        return (pl.col(column).fill_null(0) - pl.col(published).fill_null(0)).alias(
            f"{column}_minus_{published}"
        )

    is_now = pl.col("this_period").fill_null(False)
    return both.select(
        *keys,
        (
            pl.col("residents_start") + pl.col("residents_entered") - pl.col("residents_left")
            - pl.col("residents_end")
        ).alias("residents_gap"),
        balance("covered", "newly_covered", "lost_coverage", "covered_entered", "covered_left")
        .alias("covered_gap"),
        balance("active", "newly_active", "lapsed", "active_entered", "active_left")
        .alias("active_gap"),
        *[
            pl.when(is_now).then(against(c, p)).alias(f"{c}_minus_{p}")
            for c, p in (
                ("residents_end", "population"),
                ("covered_end", "covered_residents"),
                ("active_end", "active_residents"),
            )
        ],
    ).sort(keys)  # fmt: skip


def _groups(inputs: CheckInputs) -> pl.DataFrame:
    """marts.coverage_by_group's groups summed per region, less the region's marts.coverage
    figures, at the levels the groups are built for (a region missing on either side counts
    as 0 there)."""
    keys = ["region_code", "region_level"]
    if "coverage_by_group" not in inputs.marts:  # marts built without the groups
        return pl.DataFrame(
            schema={**dict.fromkeys(keys, pl.String), **dict.fromkeys(GROUP_GAPS, pl.Int64)}
        )
    groups = inputs.marts["coverage_by_group"]
    sums = groups.group_by(keys).agg(pl.col(f).sum().alias(f"groups_{f}") for f in GROUP_FIGURES)
    coverage = (
        inputs.marts["coverage"]
        .filter(pl.col("region_level").is_in(GROUP_LEVELS))
        .select(*keys, *GROUP_FIGURES)
    )
    return (
        coverage.join(sums, on=keys, how="full", coalesce=True)
        .select(
            *keys,
            *[
                (pl.col(f"groups_{f}").fill_null(0) - pl.col(f).fill_null(0)).alias(gap)
                for f, gap in zip(GROUP_FIGURES, GROUP_GAPS, strict=True)
            ],
        )
        .sort(keys)
    )


# --------------------------------------------------------------------------------------------
# suites


def suites(settings: QualitySettings) -> list[Suite]:
    """The marts' data-quality suites, in the order they are reported."""

    def rates(_: QualitySettings, __: pl.DataFrame) -> list[Expectation]:
        bounded = [
            Expectation(
                "ExpectColumnValuesToBeBetween",
                {"column": rate, "min_value": 0, "max_value": 1},
                "error",
                f"{rate} is a share and lies in [0, 1]",
            )
            for rate in BOUNDED_RATES
        ]
        unbounded = [
            Expectation(
                "ExpectColumnValuesToBeBetween",
                {"column": rate, "min_value": 0},
                "error",
                f"{rate} is never negative (it may exceed 1: BPJS cards over Dukcapil residents)",
            )
            for rate in UNBOUNDED_RATES
        ]
        return [*bounded, *unbounded]

    def populated(_: QualitySettings, __: pl.DataFrame) -> list[Expectation]:
        return [
            Expectation(
                "ExpectColumnValuesToBeBetween",
                {"column": "population", "min_value": 1},
                "error",
                "every kecamatan, kab/kota and province published has residents",
            ),
            Expectation(
                "ExpectTableRowCountToBeBetween",
                {"min_value": 1},
                "error",
                "the period publishes at least one region",
            ),
        ]

    def bridge(_: QualitySettings, __: pl.DataFrame) -> list[Expectation]:
        return [
            Expectation(
                "ExpectColumnValuesToBeBetween",
                {"column": "bridge_minus_registered", "min_value": 0, "max_value": 0},
                "error",
                "each region's coverage bridge adds up to its registered cards",
            )
        ]

    def regions(_: QualitySettings, __: pl.DataFrame) -> list[Expectation]:
        return [
            Expectation(
                "ExpectColumnValuesToBeInSet",
                {"column": "has_row", "value_set": [True]},
                "error",
                "every region found in the Dukcapil extract has a row in marts.coverage",
            )
        ]

    def movement(s: QualitySettings, frame: pl.DataFrame) -> list[Expectation]:
        return [
            Expectation(
                "ExpectColumnValuesToBeBetween",
                {"column": f"{figure.name}_beyond_bound", "min_value": 0, "max_value": 0},
                s.movement_severity_of(figure.check),
                meaning(figure, frame, s),
            )
            for figure in checked(frame)
        ]

    def explain_movement(frame: pl.DataFrame, column: str | None, codes: list[str]) -> list[str]:
        return explain(frame, column, codes, settings)

    def identities(columns: tuple[str, ...], meaning: str) -> Callable[..., list[Expectation]]:
        def declared(_: QualitySettings, __: pl.DataFrame) -> list[Expectation]:
            return [
                Expectation(
                    "ExpectColumnValuesToBeBetween",
                    {"column": column, "min_value": 0, "max_value": 0},
                    "error",
                    f"{meaning}: {column} is 0",
                )
                for column in columns
            ]

        return declared

    return [
        Suite("coverage_rates", "rates of marts.coverage", _coverage, rates),
        Suite("populated_regions", "marts.coverage above village level", _populated, populated),
        Suite("coverage_bridge", "marts.coverage_bridge against registered", _bridge, bridge),
        Suite("extract_regions", "regions of the extract in marts.coverage", _regions, regions),
        Suite(
            "month_on_month",
            f"movement from the previous month at levels {', '.join(settings.movement_levels)}",
            _movement_at_levels(settings),
            movement,
            explain_movement,
        ),
        Suite(
            "card_movements",
            "marts.card_movements balances, and adds up to registered",
            _card_identities,
            identities(
                CARD_GAPS,
                "cards at the start, plus new, less ended, plus moved in, less moved out, are "
                "the cards at the end; tracked and untracked cards are the registered rows",
            ),
        ),
        Suite(
            "resident_movements",
            "marts.resident_movements balances, and ends at marts.coverage",
            _resident_identities,
            identities(
                RESIDENT_GAPS,
                "residents at the start, plus those who entered, less those who left, are the "
                "residents at the end (likewise covered and active); the end is marts.coverage's",
            ),
        ),
        Suite(
            "coverage_by_group",
            "marts.coverage_by_group adds up to marts.coverage",
            _groups,
            identities(
                GROUP_GAPS,
                "the sex and age groups of a kab/kota or kecamatan add up to its residents, "
                "covered residents and active residents in marts.coverage",
            ),
        ),
    ]


# --------------------------------------------------------------------------------------------
# running the checkpoint


def gx_root(warehouse: Path) -> Path:
    """The GX project beside the warehouse: suites, validation results and Data Docs."""
    return warehouse.with_name(f"{warehouse.stem}.gx")


_preloaded = threading.Lock()  # held while Great Expectations is being loaded


def preload(background: bool = False) -> None:
    """Import Great Expectations and compile its Data Docs templates now (about two seconds
    here) rather than when the checks run — for a caller that is waiting anyway (e.g. for
    Prefect's temporary server). ``background``: in a thread of its own, so the flow can
    start meanwhile (its stages run mostly in DuckDB and polars, which release the GIL); the
    checks then wait for it to finish."""
    if background:
        if "great_expectations.checkpoint" not in sys.modules:
            threading.Thread(target=preload, name="jkn-preload-gx", daemon=True).start()
        return
    with _preloaded:
        import great_expectations
        import great_expectations.expectations  # noqa: F401
        from great_expectations.checkpoint import UpdateDataDocsAction  # noqa: F401

        from jkn.quality.datadocs import compile_templates_once

        compile_templates_once()


def run_checkpoint(inputs: CheckInputs, settings: QualitySettings, root: Path) -> CheckpointReport:
    """Validate every suite in one checkpoint run, rebuild Data Docs offline, and report."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.checkpoint import UpdateDataDocsAction
    from great_expectations.data_context.types.base import ProgressBarsConfig

    from jkn.quality.datadocs import make_offline

    preload()  # or wait for a preload under way

    for noisy in ("great_expectations", "great_expectations.core", "tzlocal"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    batches = root / "batches"
    batches.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=root)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.config.analytics_enabled = False
    context.variables.save()
    source = context.data_sources.add_or_update_pandas_filesystem(
        name="marts", base_directory=batches
    )
    declared = suites(settings)
    definitions = []
    meanings: dict[tuple[str, str, str | None], tuple[Severity, str]] = {}
    frames: dict[str, pl.DataFrame] = {}
    for suite in declared:
        frame = frames[suite.name] = suite.frame(inputs)
        frame.write_parquet(batches / f"{suite.name}.parquet")
        try:
            asset = source.get_asset(suite.name)
        except LookupError:
            asset = source.add_parquet_asset(name=suite.name)
        try:
            batch = asset.get_batch_definition(suite.name)
        except KeyError:
            batch = asset.add_batch_definition_path(name=suite.name, path=f"{suite.name}.parquet")
        gx_suite = gx.ExpectationSuite(name=suite.name, meta={"description": suite.description})
        for expectation in suite.expectations(settings, frame):
            cls = getattr(gxe, expectation.kind)
            gx_suite.add_expectation(
                cls(
                    **expectation.kwargs,
                    meta={"severity": expectation.severity, "meaning": expectation.meaning},
                )
            )
            column = expectation.kwargs.get("column")
            meanings[(suite.name, _snake(expectation.kind), column)] = (
                expectation.severity,
                expectation.meaning,
            )
        gx_suite = context.suites.add_or_update(gx_suite)
        definitions.append(
            context.validation_definitions.add_or_update(
                gx.ValidationDefinition(name=suite.name, data=batch, suite=gx_suite)
            )
        )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name="marts",
            validation_definitions=definitions,
            actions=[UpdateDataDocsAction(name="data_docs")],
            result_format={
                "result_format": "SUMMARY",
                "partial_unexpected_count": 10,
                "unexpected_index_column_names": ["region_code"],
            },
        )
    )
    result = checkpoint.run(
        run_id=gx.RunIdentifier(run_name=f"{inputs.period:%Y-%m}", run_time=dt.datetime.now(dt.UTC))
    )
    outcomes = []
    explainers = {suite.name: suite.explain for suite in declared}
    for validation in result.run_results.values():
        suite_name = validation.suite_name
        explainer = explainers.get(suite_name)
        for r in validation.results:
            config = r.expectation_config
            assert config is not None  # every result of a checkpoint names its expectation
            column = config.kwargs.get("column")
            severity, meaning = meanings.get(
                (suite_name, config.type, column), ("error", config.type)
            )
            details = r.result or {}
            # the regions that failed (codes only), else the values that did
            indexed = details.get("partial_unexpected_index_list") or []
            examples = [
                str(i["region_code"]) if isinstance(i, dict) and "region_code" in i else str(i)
                for i in indexed
            ] or [str(v) for v in details.get("partial_unexpected_list") or []]
            examples = examples[:10]
            explained = (
                explainer(frames[suite_name], column, examples)
                if explainer is not None and not r.success and indexed
                else []
            )
            outcomes.append(
                CheckOutcome(
                    suite=suite_name,
                    expectation=config.type,
                    column=column,
                    severity=severity,
                    success=bool(r.success),
                    meaning=meaning,
                    unexpected_count=details.get("unexpected_count"),
                    element_count=details.get("element_count"),
                    examples=examples,
                    details=explained,
                )
            )
    site = _local_site(context)
    if site is not None:
        make_offline(site.parent)
    return CheckpointReport(period=inputs.period, outcomes=outcomes, data_docs=site)


def _local_site(context: Any) -> Path | None:
    for site in context.get_docs_sites_urls():
        url = site.get("site_url") or ""
        if url.startswith("file://"):
            return Path(url.removeprefix("file://"))
    return None


def _snake(name: str) -> str:
    """ExpectColumnValuesToBeBetween → expect_column_values_to_be_between (GX's type)."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
