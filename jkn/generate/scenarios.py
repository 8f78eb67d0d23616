"""The five seed scenarios: published figures reproduced exactly (scaled: within 1e-4)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from jkn.generate.model import (
    DEFAULT_MIX,
    GenerateOptions,
    GenerationResult,
    RegionPlan,
    levers_for,
)
from jkn.generate.population import exact_population
from jkn.generate.series import SeriesRates, generate_series, lead_in
from jkn.generate.writer import Progress
from jkn.periods import month_before

DEFAULT_SEED = 20261124


@dataclass(frozen=True)
class ScenarioRegion:
    """One kab/kota of a scenario: published population and rates, and its BPJS-row mix."""

    code: str
    population: int
    coverage: float
    activity: float
    registered: int | None = None  # exact figure at scale 1 where one was published
    exact: bool = True  # hold the rates to 1e-4 when scaled (False for context slices)
    mix: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """A published situation: period, regions, file formats, and where the figures come from."""

    name: str
    period: str
    regions: tuple[ScenarioRegion, ...]
    formats: dict[str, str]
    source: str

    def plans(self, scale: float = 1.0) -> list[RegionPlan]:
        """Region plans at ``scale``: exact counts at 1.0, a searched population below."""
        out = []
        for r in self.regions:
            if scale == 1.0:
                pop = r.population
                reg = r.registered if r.registered is not None else round(r.coverage * pop)
            else:
                target = max(50, round(r.population * scale))
                pop = exact_population(target, r.coverage, r.activity) if r.exact else target
                reg = round(r.coverage * pop)
            act = round(r.activity * pop)
            out.append(RegionPlan(r.code, pop, reg, act, dict(r.mix), levers_for(r.code)))
        return out


# Lebong: 100.71% registered of population comes from cards that are not residents' first
# cards: further cards, cards of the deceased and moved-out, of Rejang Lebong residents
# (the province office delivers a slice of 17.02 in the same files), of persons unknown to
# Dukcapil, and quarantined copies. Fractions of population.
LEBONG_MIX = {
    "duplicate": 0.022,
    "deceased": 0.014,
    "moved_out": 0.016,
    "domiciled_elsewhere": 0.009,
    "not_in_population": 0.011,
    "dead_persons": 0.018,
    "moved_persons": 0.02,
}

SCENARIOS: dict[str, Scenario] = {
    "lubuklinggau-2018-06": Scenario(
        name="lubuklinggau-2018-06",
        period="2018-06",
        regions=(ScenarioRegion("16.73", 226_720, 0.70, 0.60, registered=158_704),),
        formats={"dukcapil": "csv", "dinsos_pbi": "xlsx", "bpjs_membership": "csv"},
        source="seed 003: 70% = 158,704 against a 95% target; activity chosen (60%)",
    ),
    "banyuasin-2023-09": Scenario(
        name="banyuasin-2023-09",
        period="2023-09",
        regions=(ScenarioRegion("16.07", 837_062, 0.9763, 0.782, registered=817_221),),
        formats={"dukcapil": "csv", "dinsos_pbi": "csv", "bpjs_membership": "parquet"},
        source="seed 002: 817,221 members = 97.63%; activity chosen (78.2%)",
    ),
    "lebong-2024-07": Scenario(
        name="lebong-2024-07",
        period="2024-07",
        regions=(
            ScenarioRegion("17.07", 112_982, 1.0071, 0.7541, registered=113_784, mix=LEBONG_MIX),
            ScenarioRegion("17.02", 15_000, 0.90, 0.70, exact=False),
        ),
        formats={"dukcapil": "csv", "dinsos_pbi": "xlsx", "bpjs_membership": "csv"},
        source="seed 004: 100.71% coverage, 75.41% active; 17.02 is a context slice",
    ),
    "lombok-timur-2025-03": Scenario(
        name="lombok-timur-2025-03",
        period="2025-03",
        regions=(ScenarioRegion("52.03", 1_404_343, 0.9840, 0.7656),),
        formats={"dukcapil": "csv", "dinsos_pbi": "csv", "bpjs_membership": "parquet"},
        source="seed 001: >98% (98.40% chosen) and 76.56% active",
    ),
    "oku-timur-2025-05": Scenario(
        name="oku-timur-2025-05",
        period="2025-05",
        regions=(ScenarioRegion("16.08", 694_832, 0.9823, 0.8004, registered=682_534),),
        formats={"dukcapil": "csv", "dinsos_pbi": "csv", "bpjs_membership": "csv"},
        source="seed 000: 98.23% of 694,832, 80.04% active",
    ),
}


def scenario_options(
    name: str, scale: float = 1.0, seed: int = DEFAULT_SEED, messy: bool = True
) -> GenerateOptions:
    """The ``GenerateOptions`` of a scenario at ``scale``."""
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    if not 0 < scale <= 1.0:
        raise ValueError("scale must be in (0, 1]")
    sc = SCENARIOS[name]
    plans = sc.plans(scale)
    for plan in plans:
        plan.mix = {**DEFAULT_MIX, **plan.mix}
    return GenerateOptions(
        regions=[p.code for p in plans],
        period=sc.period,
        persons=plans[0].population,
        seed=seed,
        formats=dict(sc.formats),
        messy=messy,
        plans=plans,
        scenario=name,
    )


def generate_scenario(
    name: str,
    landing: Path,
    scale: float = 1.0,
    seed: int = DEFAULT_SEED,
    *,
    messy: bool = True,
    linkage: bool = False,
    progress: Progress | None = None,
) -> GenerationResult:
    """Generate a named scenario (see ``SCENARIOS``) at ``scale`` under ``landing``."""
    from jkn.generate.core import generate

    options = scenario_options(name, scale, seed, messy)
    options.linkage = linkage
    return generate(options, Path(landing), progress)


def generate_scenario_series(
    name: str,
    landing: Path,
    scale: float = 1.0,
    months: int = 2,
    seed: int = DEFAULT_SEED,
    *,
    messy: bool = True,
    rates: SeriesRates | None = None,
    progress: Progress | None = None,
) -> list[GenerationResult]:
    """A scenario as ``months`` consecutive months ending on its period: the last month has
    the scenario's counts exactly (``generate_series(land_on=...)``: the rates of
    ``generate_scenario``'s month, at any scale), the months before lead into it
    (``lead_in``: a little lower coverage and activity) and moved by planted events. Identity
    damage is off, as in every series (``series_options``)."""
    options = scenario_options(name, scale, seed, messy)
    plans = options.plans or []
    first = options.period
    for _ in range(months - 1):
        first = month_before(first)
    rates = rates or SeriesRates()
    start = lead_in(plans, rates, months - 1) if months > 1 else plans
    options = dataclasses.replace(options, period=first, plans=start, persons=start[0].population)
    land_on = plans if months > 1 else None
    return generate_series(options, months, Path(landing), rates, progress, land_on)
