"""The officers' workflow through the monthly flow: refresh → export the review list → answer
(same / different) → `jkn lists import` → refresh the month again: the 'same' cards are
linked and the marts count their persons as covered, the 'different' pair is gone, the list
shows only undecided pairs; the next month (lines reordered) applies the answers again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from jkn.exports import export_list
from jkn.generate import GenerateOptions, generate, linkage_truth
from jkn.generate.model import LinkageRates
from jkn.review import import_decisions
from jkn.settings import restricted_path
from tests.conftest import read_table, refresh

pytestmark = pytest.mark.slow

# more identity noise than the preset: four BPJS review pairs at 1,500 persons (seed 4) with
# linkage settings fs-2026.12-7, which leave few pairs uncertain
RATES = LinkageRates(
    nik_empty=0.15,
    nik_typo=0.10,
    dob_given_nik=0.9,
    name_variant_given_nik=0.9,
    twins=0.15,
    namesakes=0.15,
)
CSV = {"dukcapil": "csv", "dinsos_pbi": "csv", "bpjs_membership": "csv"}


def _refresh(landing: Path, period: str, warehouse: Path) -> bool:
    from jkn.quality import QualitySettings

    # the noise raised above quarantines more PBI rows than the default bound allows
    quality = QualitySettings(quarantine_rate_max=1.0)
    return refresh(landing, period, warehouse, quality=quality).published


def _generate(landing: Path, period: str) -> Path:
    options = GenerateOptions(
        regions=["17.07"],
        period=period,
        persons=1500,
        seed=4,
        linkage=True,
        messy=False,
        linkage_rates=RATES,
        formats=CSV,
    )
    return generate(options, landing).truth_dir


def _covered(warehouse: Path, period: str) -> int:
    return read_table(
        warehouse,
        "select covered_residents from marts.coverage where period = $p and region_code = '17.07'",
        p=f"{period}-01",
    )["covered_residents"][0]


def _persons(warehouse: Path, period: str) -> pl.DataFrame:
    return read_table(
        restricted_path(warehouse),
        "select p.line, p.method, p.person_key, b.noka from intermediate.row_person as p "
        "inner join staging.bpjs_membership as b using (period, line) "
        "where p.period = $p and p.source = 'bpjs_membership'",
        p=f"{period}-01",
    )


@pytest.fixture(scope="module")
def workflow(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("officers")
    landing, warehouse = root / "landing", root / "jkn.duckdb"
    truth = linkage_truth(_generate(landing, "2024-07"))
    assert _refresh(landing, "2024-07", warehouse)
    covered_before = _covered(warehouse, "2024-07")
    before = _persons(warehouse, "2024-07")
    out = root / "review.csv"
    export_list(warehouse, "link_review", "2024-07", out)
    review = pl.read_csv(out, infer_schema=False).filter(pl.col("source") == "bpjs_membership")
    assert review.height >= 4
    right = review.with_columns(pl.col("line").cast(pl.Int64)).join(
        truth.select("source", "line", "nik_true"), on=["source", "line"]
    )
    right = right.filter(pl.col("candidate_nik") == pl.col("nik_true"))
    same = right["line"].head(3).to_list()
    different = right["line"][3]
    answers = {**{str(n): "SAMA" for n in same}, str(different): "BEDA"}
    answered = review.with_columns(
        pl.col("line").replace_strict(answers, default=None).alias("decision")
    )
    answered.write_csv(out)
    report = import_decisions(warehouse, out)
    assert (report.same, report.different) == (3, 1)
    # who the 'same' cards now are: residents whose only card this was become covered
    residents = read_table(
        restricted_path(warehouse),
        "select nik from staging.dukcapil where period = '2024-07-01' and status = 'HIDUP' "
        "and kode_wilayah like '1707%'",
    )["nik"]
    judged = answered.filter(pl.col("decision") == "SAMA")["candidate_nik"]
    carded = before.filter(pl.col("person_key").is_in(judged.implode()))["person_key"]
    newly_covered = judged.filter(
        judged.is_in(residents.implode()) & ~judged.is_in(carded.implode())
    )
    assert _refresh(landing, "2024-07", warehouse)
    # the next month: the same persons (the generator derives birth dates, so NIKs, from the
    # period: the month's extracts are copied), the BPJS extract's rows in reverse order
    (landing / "2024-08").mkdir()
    for source in CSV:
        text = (landing / "2024-07" / f"{source}.csv").read_text(encoding="utf-8")
        if source == "bpjs_membership":
            header, *rows = text.splitlines()
            text = "\n".join([header, *reversed(rows)]) + "\n"
        (landing / "2024-08" / f"{source}.csv").write_text(text, encoding="utf-8")
    assert _refresh(landing, "2024-08", warehouse)
    return {
        "warehouse": warehouse,
        "answered": answered,
        "before": before,
        "same": same,
        "different": different,
        "covered_before": covered_before,
        "newly_covered": newly_covered.n_unique(),
    }


def test_the_same_cards_are_linked_by_the_officers_answer(workflow: dict[str, Any]) -> None:
    persons = _persons(workflow["warehouse"], "2024-07")
    answered = workflow["answered"].with_columns(pl.col("line").cast(pl.Int64))
    same = answered.filter(pl.col("decision") == "SAMA").join(persons, on="line")
    assert same.height == 3
    assert (same["method"] == "officer_linked").all()
    assert (same["person_key"] == same["candidate_nik"]).all()
    # before, none of them was the candidate's
    assert (
        not workflow["before"]
        .filter(pl.col("line").is_in(workflow["same"]))["method"]
        .is_in(["linked", "officer_linked"])
        .any()
    )
    different = answered.filter(pl.col("decision") == "BEDA").join(persons, on="line")
    assert different["person_key"][0] != different["candidate_nik"][0]


def test_the_marts_count_the_linked_residents_as_covered(workflow: dict[str, Any]) -> None:
    assert workflow["newly_covered"] >= 1
    after = _covered(workflow["warehouse"], "2024-07")
    assert after - workflow["covered_before"] == workflow["newly_covered"]


def test_the_review_list_shows_only_undecided_pairs(workflow: dict[str, Any]) -> None:
    review = read_table(
        restricted_path(workflow["warehouse"]),
        "select line, candidate_nik from lists.link_review where period = '2024-07-01' "
        "and source = 'bpjs_membership'",
    )
    answered = workflow["answered"].filter(pl.col("decision").is_not_null())
    pairs = set(zip(review["line"].to_list(), review["candidate_nik"].to_list(), strict=True))
    for line, nik in zip(
        answered["line"].to_list(), answered["candidate_nik"].to_list(), strict=True
    ):
        assert (int(line), nik) not in pairs
    undecided = workflow["answered"].filter(pl.col("decision").is_null())
    assert {int(n) for n in undecided["line"]} <= {line for line, _ in pairs}


def test_the_next_month_applies_the_answers_on_its_own_lines(workflow: dict[str, Any]) -> None:
    first = _persons(workflow["warehouse"], "2024-07")
    second = _persons(workflow["warehouse"], "2024-08")
    linked = first.filter(pl.col("method") == "officer_linked")
    again = linked.join(second, on="noka", suffix="_next")
    assert again.height == 3
    assert (again["line"] != again["line_next"]).all()
    assert (again["method_next"] == "officer_linked").all()
    assert (again["person_key_next"] == again["person_key"]).all()
