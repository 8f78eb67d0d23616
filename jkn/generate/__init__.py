"""Seeded, deterministic synthetic extracts (Dukcapil, Dinsos PBI, BPJS) with ground truth.

``generate`` writes ``<landing>/<YYYY-MM>/{dukcapil,dinsos_pbi,bpjs_membership}.<ext>`` as the
extract contract describes them, with injected row defects and file-level formatting mess,
and the truth under ``<landing>/_truth/<YYYY-MM>/`` (persons.parquet, rows.parquet,
summary.json). ``SCENARIOS`` reproduce the published figures of the seed articles.
``GenerateOptions(linkage=True)`` adds identity noise and hard negatives for benchmarking
record linkage; ``linkage_truth`` returns its labelled rows. ``generate_series`` writes consecutive
months moved by planted events, with the movement truth between them;
``generate_scenario_series`` a scenario as such months, the last one its period's exact counts.
"""

from jkn.domain import BRIDGE_CATEGORIES
from jkn.generate.core import generate
from jkn.generate.linkage import linkage_truth
from jkn.generate.model import (
    DEFECT_KINDS,
    DefectRates,
    GenerateOptions,
    GenerationResult,
    LinkageRates,
    RegionPlan,
    defect_destination,
)
from jkn.generate.scenarios import (
    SCENARIOS,
    Scenario,
    ScenarioRegion,
    generate_scenario,
    generate_scenario_series,
)
from jkn.generate.series import (
    EVENT_KINDS,
    SeriesRates,
    generate_series,
    lead_in,
    series_options,
)

__all__ = [
    "BRIDGE_CATEGORIES",
    "DEFECT_KINDS",
    "EVENT_KINDS",
    "SCENARIOS",
    "DefectRates",
    "GenerateOptions",
    "GenerationResult",
    "LinkageRates",
    "RegionPlan",
    "Scenario",
    "ScenarioRegion",
    "SeriesRates",
    "defect_destination",
    "generate",
    "generate_scenario",
    "generate_scenario_series",
    "generate_series",
    "lead_in",
    "linkage_truth",
    "series_options",
]
