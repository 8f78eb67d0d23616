"""The linkage settings are typed and checked (``jkn.link.config``), and the blocking rules are
named once: ``BLOCKING_RULES`` gives each rule of 03_blocks.sql its bit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

import jkn.link
from jkn.link import (
    BLOCKING_RULES,
    SETTINGS_PATH,
    LinkSettingsError,
    check_blocking_rules,
    install_macros,
    load_settings,
    rule_bits,
)
from warehouse import model_sql


def _raw() -> dict[str, Any]:
    return json.loads(SETTINGS_PATH.read_text(encoding="utf-8"))


def _load(tmp_path: Path, raw: dict[str, Any]) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    load_settings(path)


def test_the_model_mirrors_settings_json() -> None:
    assert load_settings().model_dump(mode="json") == _raw()


def test_every_weight_is_a_row_of_link_weights() -> None:
    rows = load_settings().weight_rows()
    expected = [(c, lvl, float(w)) for c, lv in _raw()["weights"].items() for lvl, w in lv.items()]
    assert [(r["comparison"], r["level"], r["weight"]) for r in rows] == expected


def _drop_close(raw: dict[str, Any]) -> None:
    del raw["weights"]["name"]["close"]


def _misspell(raw: dict[str, Any]) -> None:
    raw["weights"]["dob"]["swapped"] = raw["weights"]["dob"].pop("swap")


def _text_weight(raw: dict[str, Any]) -> None:
    raw["weights"]["sex"]["same"] = "1.0"


def _thresholds_crossed(raw: dict[str, Any]) -> None:
    raw["review_threshold"] = raw["link_threshold"] + 1


def _similarity_out_of_range(raw: dict[str, Any]) -> None:
    raw["levels"]["name_close"] = 1.5


def _no_margin(raw: dict[str, Any]) -> None:
    raw["margin"] = 0


def _unbounded_buckets(raw: dict[str, Any]) -> None:
    raw["max_bucket"] = 0


def _agreement_against(raw: dict[str, Any]) -> None:
    raw["weights"]["nik"]["exact"] = -1.0


@pytest.mark.parametrize(
    ("spoil", "field"),
    [
        (_drop_close, "weights.name.close"),
        (_misspell, "weights.dob.swapped"),
        (_text_weight, "weights.sex.same"),
        (_thresholds_crossed, "review_threshold"),
        (_similarity_out_of_range, "levels.name_close"),
        (_no_margin, "margin"),
        (_unbounded_buckets, "max_bucket"),
        (_agreement_against, "weights.nik"),
    ],
)
def test_invalid_settings_are_refused_naming_the_file_and_field(
    tmp_path: Path, spoil: Any, field: str
) -> None:
    raw = _raw()
    spoil(raw)
    with pytest.raises(LinkSettingsError) as refused:
        _load(tmp_path, raw)
    assert str(tmp_path / "settings.json") in str(refused.value)
    assert field in str(refused.value)


def test_the_blocking_sql_binds_exactly_the_blocking_rules() -> None:
    check_blocking_rules(model_sql("link", "03_blocks"))
    assert list(rule_bits().values()) == [1 << i for i in range(len(BLOCKING_RULES))]


def test_a_rule_added_to_the_sql_alone_is_refused() -> None:
    sql = model_sql("link", "03_blocks").replace(
        "union all", "union all select 1, 2, $rule_new_rule union all", 1
    )
    with pytest.raises(RuntimeError, match="only in the SQL \\['new_rule'\\]"):
        check_blocking_rules(sql)


def test_a_rule_added_to_blocking_rules_alone_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jkn.link, "BLOCKING_RULES", (*BLOCKING_RULES, "new_rule"))
    with pytest.raises(RuntimeError, match="only in BLOCKING_RULES \\['new_rule'\\]"):
        check_blocking_rules(model_sql("link", "03_blocks"))


def test_each_rules_bit_reads_back_as_its_name() -> None:
    con = duckdb.connect()
    install_macros(con, load_settings())
    for param, bit in rule_bits().items():
        (names,) = con.execute("select jkn_rule_names($bit)", {"bit": bit}).fetchone() or ()
        assert names == [param.removeprefix("rule_")]
