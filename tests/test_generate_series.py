"""Tests of ``generate_series``: consecutive months moved by planted events, and their truth.

The files are read back independently of the generator (``tests.test_generate.read_extract``)
and the flows recounted here by hand-written polars, to check the truth the lead's pipeline
test compares the marts with.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from jkn.generate import (
    EVENT_KINDS,
    GenerateOptions,
    GenerationResult,
    generate,
    generate_series,
    series_options,
)
from jkn.rules import segment_aliases, segments
from tests.test_generate import read_extract

PERIODS = ("2025-03", "2025-04", "2025-05")
REGIONS = ["17.07", "17.02"]
# made by ``migrant_second_card`` in month 2, so a migrant holds two cards from month 3 only
FROM_MONTH_3 = {"migrant_card_lost"}


def _options(seed: int = 5) -> GenerateOptions:
    return GenerateOptions(regions=REGIONS, period=PERIODS[0], persons=1200, seed=seed)


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[GenerationResult]]:
    landing = tmp_path_factory.mktemp("series")
    return landing, generate_series(_options(), 3, landing)


def _truth(landing: Path, period: str, name: str) -> pl.DataFrame:
    return pl.read_parquet(landing / "_truth" / period / f"{name}.parquet")


def _tree(landing: Path) -> dict[str, str]:
    return {
        str(p.relative_to(landing)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(landing.rglob("*.*"))
    }


def _file(result: GenerationResult, source: str) -> pl.DataFrame:
    """An extract read back, with its line, undotted code and kab/kota."""
    frame = read_extract(result.files[source]).with_columns(
        line=pl.int_range(pl.len(), dtype=pl.Int64) + 2,
        code=pl.col("KODE_WILAYAH").str.strip_chars().str.replace_all(".", "", literal=True),
    )
    return frame.with_columns(
        kab=pl.col("code").str.slice(0, 2) + "." + pl.col("code").str.slice(2, 2)
    )


def _cards(result: GenerationResult, map_aliases: bool = True) -> pl.DataFrame:
    frame = _file(result, "bpjs_membership")
    seg = pl.col("SEGMEN").str.strip_chars().str.to_uppercase()
    if map_aliases:
        seg = seg.replace(segment_aliases())
    return frame.with_columns(
        noka=pl.col("NOKA").str.strip_chars(),
        segment=pl.when(seg.is_in(list(segments()))).then(seg).otherwise(pl.lit("UNKNOWN")),
    ).with_columns(tracked=pl.col("noka").str.contains(r"^\d{13}$"))


# --- determinism and month 1 -------------------------------------------------------------


def test_same_seed_same_bytes_and_month_one_is_generate(
    series: tuple[Path, list[GenerationResult]], tmp_path: Path
) -> None:
    landing, _ = series
    generate_series(_options(), 3, tmp_path / "again")
    first, again = _tree(landing), _tree(tmp_path / "again")
    assert first == again and len(first) == 3 * 3 + 3 * 5 + 2 * 1  # files, truth, events
    generate_series(_options(seed=6), 2, tmp_path / "other")
    other = _tree(tmp_path / "other")
    common = [k for k in other if k in first]
    assert common and all(other[k] != first[k] for k in common if "summary" not in k)
    generate(series_options(_options()), tmp_path / "single")
    single = _tree(tmp_path / "single")
    assert single == {k: v for k, v in first.items() if k in single}
    assert set(single) == {k for k in first if PERIODS[0] in k and "movements" not in k}


def test_series_turns_identity_damage_off(series: tuple[Path, list[GenerationResult]]) -> None:
    _, results = series
    for result in results:
        counts = result.summary["defect_counts"]
        for source in counts:
            assert not {"nik_typo", "nik_empty", "nik_truncated", "nik_excel_scientific"} & set(
                counts[source]
            )
    duk = _file(results[1], "dukcapil")
    assert duk["NIK"].str.contains(r"^\d{16}$").all()


def test_rows_are_reordered_each_month(series: tuple[Path, list[GenerationResult]]) -> None:
    _, results = series
    for source, key in (("dukcapil", "NIK"), ("bpjs_membership", "NOKA"), ("dinsos_pbi", "NIK")):
        one, two = (_file(r, source)[key] for r in results[:2])
        common = set(one) & set(two)
        assert len(common) > 0.9 * len(one)
        assert [k for k in one if k in common] != [k for k in two if k in common]


# --- planted events ----------------------------------------------------------------------


def test_every_event_kind_in_each_region_months_2_and_3(
    series: tuple[Path, list[GenerationResult]],
) -> None:
    landing, results = series
    for number, period in enumerate(PERIODS[1:], start=2):
        events = _truth(landing, period, "events")
        for region in REGIONS:
            kinds = set(events.filter(region_code=region)["kind"])
            expected = set(EVENT_KINDS) - (FROM_MONTH_3 if number == 2 else set())
            assert expected <= kinds, (period, region, expected - kinds)
            assert results[number - 1].summary["series"]["events"][region]["death"] >= 3
        # every flow shows in the truth of each kab/kota
        cards = _truth(landing, period, "card_movements").filter(region_level="kabupaten")
        people = _truth(landing, period, "resident_movements").filter(region_level="kabupaten")
        by_kab = cards.group_by("region_code").agg(pl.col("^cards_.*$", "^.*activ.*$").sum())
        for column in (
            "cards_new", "cards_ended", "cards_moved_in", "cards_moved_out", "activated",
            "deactivated_arrears", "deactivated_pbi", "deactivated_other", "new_active",
        ):  # fmt: skip
            assert (by_kab[column] > 0).all(), (period, column)
        for column in (
            "residents_entered", "residents_left", "newly_covered", "lost_coverage",
            "newly_active", "lapsed", "covered_entered", "covered_left",
        ):  # fmt: skip
            assert (people[column] > 0).all(), (period, column)


def test_person_events_reach_dukcapil(series: tuple[Path, list[GenerationResult]]) -> None:
    landing, results = series
    events = _truth(landing, PERIODS[1], "events")
    persons = _truth(landing, PERIODS[1], "persons")
    duk = _file(results[1], "dukcapil").join(
        _truth(landing, PERIODS[1], "rows").filter(source="dukcapil").select("line", "person_id"),
        on="line",
    )
    got = events.join(duk, on="person_id", how="left")
    assert (got.filter(kind="death")["STATUS"] == "MATI").all()
    assert (got.filter(kind="moved_out")["STATUS"] == "PINDAH").all()
    moved = got.filter(pl.col("kind").str.starts_with("domicile_"))
    same = moved["code"] == moved["after"].str.replace_all(".", "", literal=True)
    assert same.sum() > 0.9 * moved.height
    across = moved.filter(kind="domicile_kabupaten")
    assert (across["kab"] != across["region_code"]).all()
    born = events.filter(kind="birth").join(persons, on="person_id")
    assert born.height >= 6 and (born["dob"].dt.strftime("%Y-%m") == PERIODS[1]).all()
    assert born["nik"].is_in(duk["NIK"].implode()).all()


def test_noka_damaged_one_month_is_ended_then_new(
    series: tuple[Path, list[GenerationResult]],
) -> None:
    landing, results = series
    damaged = _truth(landing, PERIODS[1], "events").filter(kind="noka_damaged")["noka"]
    assert damaged.len() >= 6
    nokas = [set(_cards(r).filter("tracked")["noka"]) for r in results]
    ended_2 = nokas[0] - nokas[1]
    new_3 = nokas[2] - nokas[1]
    assert set(damaged) <= ended_2 and set(damaged) <= new_3
    rows = _truth(landing, PERIODS[1], "rows").filter(source="bpjs_membership")
    stripped = damaged.str.strip_chars_start("0")
    assert (rows.filter(pl.col("key").is_in(stripped.implode()))["expected"] == "quarantined").all()


def test_old_segment_name_is_not_a_move(series: tuple[Path, list[GenerationResult]]) -> None:
    landing, results = series
    old = _truth(landing, PERIODS[1], "events").filter(kind="segment_old_name")["noka"]
    written = _cards(results[1], map_aliases=False).filter(pl.col("noka").is_in(old.implode()))
    assert written.height == old.len() >= 6
    assert set(written["SEGMEN"].str.strip_chars()) == {"PBPU_PEMDA"}
    truth = _truth(landing, PERIODS[1], "card_movements").filter(region_level="kabupaten")
    assert _moved(results, True).equals(_moved_truth(truth))
    # read without the alias, the same cards would have moved out of PBI_APBD
    assert not _moved(results, False).equals(_moved_truth(truth))


def _moved(results: list[GenerationResult], map_aliases: bool) -> pl.DataFrame:
    """cards_moved_out per kab/kota × segment of month 2, recounted from the files."""
    a, b = (
        _cards(r, map_aliases).filter("tracked").group_by("kab", "segment", "noka").len()
        for r in results[:2]
    )
    both = a.join(b, on=["kab", "segment", "noka"], how="full", coalesce=True, suffix="_b")
    both = both.with_columns(pl.col("len", "len_b").fill_null(0).cast(pl.Int64))
    stay = pl.col("noka").is_in(a["noka"].implode()) & pl.col("noka").is_in(b["noka"].implode())
    out = (
        both.filter(stay)
        .group_by("kab", "segment")
        .agg(moved_out=(pl.col("len") - pl.col("len_b")).clip(lower_bound=0).sum())
    )
    return out.filter(pl.col("moved_out") > 0).sort("kab", "segment")


def _moved_truth(truth: pl.DataFrame) -> pl.DataFrame:
    return (
        truth.select(kab="region_code", segment="segment", moved_out="cards_moved_out")
        .filter(pl.col("moved_out") > 0)
        .sort("kab", "segment")
    )


# --- the truth's identities --------------------------------------------------------------


def test_card_identities(series: tuple[Path, list[GenerationResult]]) -> None:
    landing, results = series
    for result in results:
        truth = _truth(landing, result.period, "card_movements")
        if result.period != PERIODS[0]:
            balance = (
                pl.col("cards_start") + pl.col("cards_new") - pl.col("cards_ended")
                + pl.col("cards_moved_in") - pl.col("cards_moved_out")
            )  # fmt: skip
            assert truth.filter(balance != pl.col("cards_end")).height == 0
            assert truth["previous_published"].all()
        registered = _cards(result).group_by("kab", "segment").agg(registered=pl.len())
        kab = truth.filter(region_level="kabupaten").join(
            registered,
            left_on=["region_code", "segment"],
            right_on=["kab", "segment"],
            how="full",
        )
        assert (kab["cards_end"] + kab["cards_untracked"] == kab["registered"]).all()
        for code in REGIONS:
            mine = kab.filter(region_code=code)
            assert mine["registered"].sum() == result.summary["figures"][code]["registered"]
        # every level holds the same cards (all codes of the files are in the list up to kecamatan)
        totals = truth.group_by("region_level").agg(pl.col("cards_end").sum())
        kec = totals.filter(region_level="kecamatan")["cards_end"].item()
        assert totals.filter(region_level="province")["cards_end"].item() == kec
        assert totals.filter(region_level="desa")["cards_end"].item() < kec  # unknown villages


def test_resident_identities(series: tuple[Path, list[GenerationResult]]) -> None:
    landing, results = series
    for result in results[1:]:
        truth = _truth(landing, result.period, "resident_movements")
        checks = {
            "residents": pl.col("residents_start") + pl.col("residents_entered")
            - pl.col("residents_left") - pl.col("residents_end"),
            "covered": pl.col("covered_start") + pl.col("newly_covered")
            - pl.col("lost_coverage") + pl.col("covered_entered") - pl.col("covered_left")
            - pl.col("covered_end"),
            "active": pl.col("active_start") + pl.col("newly_active") - pl.col("lapsed")
            + pl.col("active_entered") - pl.col("active_left") - pl.col("active_end"),
        }  # fmt: skip
        for name, check in checks.items():
            assert (truth.select(check)[:, 0] == 0).all(), name
        kab = truth.filter(region_level="kabupaten")
        for code in REGIONS:
            row = kab.filter(region_code=code)
            assert row["residents_end"].item() == result.summary["figures"][code]["population"]
    first = _truth(landing, PERIODS[0], "resident_movements")
    assert first["residents_start"].is_null().all() and not first["previous_published"].any()
    assert first["residents_end"].sum() > 0


def test_person_id_stable_across_months(series: tuple[Path, list[GenerationResult]]) -> None:
    landing, _ = series
    persons = [_truth(landing, p, "persons").select("person_id", "nik", "name") for p in PERIODS]
    joined = persons[0].join(persons[2], on="person_id", suffix="_3")
    assert joined.height == persons[0].height
    assert (joined["nik"] == joined["nik_3"]).all() and (joined["name"] == joined["name_3"]).all()
    rows = [
        _truth(landing, p, "rows").filter(source="bpjs_membership").select("key", "person_id")
        for p in PERIODS
    ]
    cards = rows[0].unique().join(rows[1].unique(), on="key", suffix="_2")
    assert cards.height > 0.9 * rows[0].height
    assert (cards["person_id"] == cards["person_id_2"]).all()


# --- an independent recount --------------------------------------------------------------


def test_truth_agrees_with_a_recount_from_the_files(
    series: tuple[Path, list[GenerationResult]],
) -> None:
    landing, results = series
    last, this = (_cards(r) for r in results[1:3])
    truth = _truth(landing, PERIODS[2], "card_movements").filter(region_level="kabupaten")
    for code in REGIONS:
        a = last.filter(pl.col("tracked") & (pl.col("kab") == code))
        b = this.filter(pl.col("tracked") & (pl.col("kab") == code))
        ended = a.filter(~pl.col("noka").is_in(this.filter("tracked")["noka"].implode())).height
        new = b.filter(~pl.col("noka").is_in(last.filter("tracked")["noka"].implode()))
        mine = truth.filter(region_code=code)
        assert mine["cards_ended"].sum() == ended
        assert mine["cards_new"].sum() == new.height
        assert mine["new_active"].sum() == new.filter(STATUS_PESERTA="AKTIF").height
        # deactivated for arrears: same card, kab/kota and segment, AKTIF → NONAKTIF MENUNGGAK
        pair = a.join(b, on=["noka", "segment"], suffix="_b")
        arrears = pair.filter(
            (pl.col("STATUS_PESERTA") == "AKTIF")
            & (pl.col("STATUS_PESERTA_b") == "NONAKTIF")
            & (pl.col("KET_NONAKTIF_b") == "MENUNGGAK")
        )
        assert mine["deactivated_arrears"].sum() == arrears["noka"].n_unique() > 0
    # residents entering a kab/kota: NIKs of HIDUP rows new to it
    duk = [_file(r, "dukcapil").filter(STATUS="HIDUP") for r in results[1:3]]
    people = _truth(landing, PERIODS[2], "resident_movements").filter(region_level="kabupaten")
    for code in REGIONS:
        before, after = (set(d.filter(kab=code)["NIK"]) for d in duk)
        row = people.filter(region_code=code)
        assert row["residents_entered"].item() == len(after - before)
        assert row["residents_left"].item() == len(before - after)


def test_validation_sends_every_row_where_the_truth_says(
    series: tuple[Path, list[GenerationResult]], tmp_path: Path
) -> None:
    """Months 2 and 3 through the pipeline's reader and checks: loaded and quarantined rows
    (line by line) are the truth's, so the movement truth's ``loaded`` is the pipeline's."""
    from jkn.ingest.readers import read_extract as read_delivered
    from jkn.ingest.validate import validate_extract
    from schemas import SCHEMAS

    landing, results = series
    for result in results[1:]:
        truth = _truth(landing, result.period, "rows")
        for source, path in result.files.items():
            schema = SCHEMAS[source]
            raw = read_delivered(path, source, schema.required, schema.optional, tmp_path)
            got = validate_extract(raw, schema, result.period)
            quarantined = set(got.quarantine["line"])
            mine = truth.filter(source=source)
            assert got.received == mine.height
            assert quarantined == set(mine.filter(expected="quarantined")["line"]), source
