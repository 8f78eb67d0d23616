"""Rules kept as data have one home, ``warehouse/rules/*.csv``: a rule changed there alone is the
rule everywhere (loaded rows, quarantined rows, marts, reports)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import warehouse
from jkn import domain, rules
from tests.conftest import rows_of
from tests.test_schemas import outcome, validate_rows

RULES = Path(warehouse.__file__).parent / "rules"


def use_rules_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file: str, line: str) -> None:
    """Readers use a copy of the rules with ``line`` added to ``file`` (the repository's rules
    stay as they are; files are read once per folder, so the copy is a new folder)."""
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    with (folder / file).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    monkeypatch.setattr(rules, "RULES_DIR", folder)


def test_an_alias_added_to_the_csv_alone_is_accepted_for_a_loaded_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = rows_of("bpjs_membership", {"SEGMEN": "jamkesda"})
    before = validate_rows(tmp_path / "before", "bpjs_membership", row)
    assert outcome(before, 2)[:2] == ("quarantined", ["segment_is_known"])

    use_rules_with(tmp_path, monkeypatch, "segment_aliases.csv", "JAMKESDA,PBI_APBD,a test's")
    after = validate_rows(tmp_path / "after", "bpjs_membership", row)
    assert outcome(after, 2) == ("loaded", [], [])
    assert after.staged["segmen"].to_list() == ["PBI_APBD"]


def test_a_segment_added_to_the_csv_alone_is_known(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    line = "PBI_TEST,a test's own,nobody,true,false,false,test"
    use_rules_with(tmp_path, monkeypatch, "segments.csv", line)
    row = rows_of("bpjs_membership", {"SEGMEN": "pbi_test"})
    result = validate_rows(tmp_path / "extract", "bpjs_membership", row)
    assert outcome(result, 2) == ("loaded", [], [])
    assert rules.segments()[-1] == "PBI_TEST"


def test_python_reads_the_lists_the_sql_joins() -> None:
    assert domain.SEGMENTS == ("PBI_APBN", "PBI_APBD", "PPU_PEMERINTAH", "PPU_BU", "PBPU", "BP")
    assert rules.segment_aliases() == {"PBPU_PEMDA": "PBI_APBD"}
    assert domain.BRIDGE_CATEGORIES[0] == "quarantined"
    assert domain.BRIDGE_CATEGORIES[-1] == "resident"
    assert domain.PBI_CATEGORIES[-1] == "pbi_not_listed"
    assert rules.region_levels() == {"province": 2, "kabupaten": 4, "kecamatan": 6, "desa": 10}


def test_the_report_pivots_on_the_bridge_categories_of_the_csv() -> None:
    sql = warehouse.report_sql("uhc_summary", {"bridge_categories": domain.BRIDGE_CATEGORIES})
    quoted = ", ".join(f"'{c}'" for c in domain.BRIDGE_CATEGORIES)
    assert quoted in sql
    assert "/* categories of" not in sql


def test_no_sql_file_spells_out_a_segment_code() -> None:
    """Segments are joined from ``ref.segments`` (flags ``is_pbi``, ``is_ppu``, ``is_apbd``),
    never listed: a segment added to the CSV needs no SQL edit."""
    codes = "|".join(map(re.escape, (*domain.SEGMENTS, *rules.segment_aliases())))
    literal = re.compile(rf"'({codes})'")
    found = [
        f"{path.relative_to(RULES.parent)}: {match.group(0)}"
        for path in sorted((RULES.parent / "sql").rglob("*.sql"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("--")
        for match in literal.finditer(line)
    ]
    assert found == []
