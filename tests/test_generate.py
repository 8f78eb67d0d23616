"""Tests of the synthetic-extract generator: figures, identifiers, defects, determinism.

Files are read back here independently of the generator (and of the ingestion code): every
column as a string, headers normalised, dates parsed in the three contract formats.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from jkn.generate import (
    BRIDGE_CATEGORIES,
    SCENARIOS,
    GenerateOptions,
    GenerationResult,
    defect_destination,
    generate,
    generate_scenario,
    linkage_truth,
)
from jkn.generate import core as gen_core
from jkn.generate.population import exact_population
from jkn.reference import regions

KNOWN_SEGMENTS = {"PBI_APBN", "PBI_APBD", "PPU_PEMERINTAH", "PPU_BU", "PBPU", "BP"}


# --- reading files back, independently ---------------------------------------------------


def read_extract(path: Path) -> pl.DataFrame:
    """Any extract as strings with upper-case, stripped headers, in file order."""
    if path.suffix == ".parquet":
        frame = pl.read_parquet(path)
    elif path.suffix == ".xlsx":
        frame = pl.read_excel(path, infer_schema_length=0)
    else:
        raw = path.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            text = raw[3:].decode("utf-8")
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("cp1252")
        header = text.split("\n", 1)[0]
        sep = ";" if header.count(";") > header.count(",") else ","
        frame = pl.read_csv(io.BytesIO(text.encode("utf-8")), separator=sep, infer_schema=False)
    frame = frame.rename({c: c.strip().upper() for c in frame.columns})
    return frame.with_columns(pl.all().cast(pl.String).fill_null(""))


def _num(value: object) -> float:
    """A Series aggregate (``mean``, ``max``: typed loosely by polars) as a number."""
    assert isinstance(value, int | float), value
    return value


def parse_date(col: str) -> pl.Expr:
    c = pl.col(col)
    return pl.coalesce(
        c.str.strptime(pl.Date, "%d-%m-%Y", strict=False),
        c.str.strptime(pl.Date, "%d/%m/%Y", strict=False),
        c.str.strptime(pl.Date, "%Y-%m-%d", strict=False),
    )


def nik_date(nik: str) -> tuple[date | None, str]:
    """Birth date (century resolved against 2026) and sex encoded in a NIK."""
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex = "P" if day > 40 else "L"
    day -= 40 if day > 40 else 0
    year = 2000 + yy if yy <= 26 else 1900 + yy
    try:
        return date(year, month, day), sex
    except ValueError:
        return None, sex


def with_truth(landing: Path, period: str, source: str, path: Path) -> pl.DataFrame:
    rows = pl.read_parquet(landing / "_truth" / period / "rows.parquet").filter(source=source)
    frame = read_extract(path).with_columns(line=pl.int_range(pl.len(), dtype=pl.Int64) + 2)
    persons = pl.read_parquet(landing / "_truth" / period / "persons.parquet")
    return frame.join(rows, on="line", how="left").join(
        persons.select("person_id", true_nik="nik", true_dob="dob", true_sex="sex"),
        on="person_id",
        how="left",
    )


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationResult]:
    landing = tmp_path_factory.mktemp("small")
    opts = GenerateOptions(regions=["16.08", "16.73"], period="2025-05", persons=4000, seed=11)
    # Higher defect rates so every kind shows up in a small file.
    for k in opts.rates.__dict__:
        setattr(opts.rates, k, getattr(opts.rates, k) * 4)
    return landing, generate(opts, landing)


# --- determinism -------------------------------------------------------------------------


def _all_bytes(landing: Path) -> dict[str, bytes]:
    return {str(p.relative_to(landing)): p.read_bytes() for p in sorted(landing.rglob("*.*"))}


@pytest.mark.parametrize(
    "formats",
    [
        None,
        {"dukcapil": "xlsx", "dinsos_pbi": "parquet", "bpjs_membership": "csv"},
        {"dukcapil": "parquet", "dinsos_pbi": "csv", "bpjs_membership": "xlsx"},
    ],
)
def test_same_seed_same_bytes_other_seed_other_bytes(
    tmp_path: Path, formats: dict[str, str] | None
) -> None:
    def run(seed: int, where: str) -> dict[str, bytes]:
        opts = GenerateOptions(
            regions=["17.07"], period="2024-07", persons=1500, seed=seed, formats=formats
        )
        generate(opts, tmp_path / where)
        return _all_bytes(tmp_path / where)

    first, again, other = run(5, "a"), run(5, "b"), run(6, "c")
    assert first == again
    assert len(first) == 6
    assert first.keys() == again.keys()
    common = first.keys() & other.keys()
    assert all(first[k] != other[k] for k in common if "summary" not in k)


# --- identifiers -------------------------------------------------------------------------


def test_dukcapil_nik_structure_and_uniqueness(small: tuple[Path, GenerationResult]) -> None:
    landing, result = small
    duk = with_truth(landing, "2025-05", "dukcapil", result.files["dukcapil"])
    clean = duk.filter(pl.col("defects").list.len() == 0)
    assert clean.height > 0.9 * duk.height
    assert clean["NIK"].str.contains(r"^\d{16}$").all()
    assert duk.filter(pl.col("NIK").str.contains(r"^\d{16}$"))["NIK"].is_unique().all()
    dob = clean.with_columns(d=parse_date("TGL_LHR"))
    for nik, d, sex in dob.select("NIK", "d", "JENIS_KLMIN").iter_rows():
        enc, enc_sex = nik_date(nik)
        assert enc is not None
        assert (enc.day, enc.month, enc.year % 100) == (d.day, d.month, d.year % 100)
        assert enc_sex == ("P" if sex == "PEREMPUAN" else "L")
    # Serials start at 0001.
    assert _num((clean["NIK"].str.slice(12, 4) == "0001").mean()) > 0.5
    # NO_KK: 16 digits, starting with a kecamatan code of the region.
    assert clean["NO_KK"].str.contains(r"^\d{16}$").all()
    kecs = set(regions().filter(region_level="kecamatan")["region_digits"])
    assert clean["NO_KK"].str.slice(0, 6).is_in(list(kecs)).all()


def test_noka_13_digits_unique(small: tuple[Path, GenerationResult]) -> None:
    landing, result = small
    bpjs = with_truth(landing, "2025-05", "bpjs_membership", result.files["bpjs_membership"])
    ok = bpjs.filter(
        ~pl.col("defects").list.contains("noka_zeros_stripped")
        & ~pl.col("defects").list.contains("noka_duplicate_in_file")
    )
    assert ok["NOKA"].str.contains(r"^0\d{12}$").all()
    assert ok["NOKA"].is_unique().all()
    assert bpjs["KODE_FASKES"].str.contains(r"^\d{4}[A-Z]\d{3}$").all()


# --- defects -----------------------------------------------------------------------------


def test_defect_rows_carry_what_truth_says(small: tuple[Path, GenerationResult]) -> None:
    landing, result = small
    period_end = date(2025, 5, 31)
    kab = set(regions().filter(region_level="kabupaten")["region_digits"])
    villages = set(regions().filter(region_level="desa")["region_digits"])
    persons = pl.read_parquet(landing / "_truth" / "2025-05" / "persons.parquet")
    all_niks = set(persons["nik"])
    seen: set[str] = set()
    for source, path in result.files.items():
        frame = with_truth(landing, "2025-05", source, path)
        dob_col = "TGL_LHR" if source == "dukcapil" else "TGL_LAHIR"
        name_col = "NAMA_LGKP" if source == "dukcapil" else "NAMA"
        frame = frame.with_columns(d=parse_date(dob_col))
        frame = frame.with_columns(
            code=pl.col("KODE_WILAYAH").str.replace_all(".", "", literal=True)
        )
        earlier: set[tuple] = set()
        value_cols = [c for c in frame.columns if c.upper() == c and c not in ("D",)]
        for row in frame.iter_rows(named=True):
            kinds = row["defects"]
            seen.update(kinds)
            values = tuple(row[c] for c in value_cols)
            expected = (
                "quarantined"
                if any(defect_destination(k, source) == "quarantined" for k in kinds)
                else "loaded"
            )
            assert row["expected"] == expected
            nik = row["NIK"]
            for k in kinds:
                if k == "nik_excel_scientific":
                    assert re.fullmatch(r"\d\.\d+E\+\d+", nik), nik
                elif k == "nik_truncated":
                    assert re.fullmatch(r"\d{15}", nik)
                elif k == "nik_empty":
                    assert nik in ("", "-", "NULL", "0")
                elif k == "nik_typo":
                    assert re.fullmatch(r"\d{16}", nik)
                    assert nik[:12] == row["true_nik"][:12] and nik != row["true_nik"]
                    assert nik not in all_niks
                elif k == "dob_nik_mismatch":
                    assert nik[:12] == row["true_nik"][:12]  # a serial typo may come too
                    enc, _ = nik_date(nik)
                    assert row["d"] is not None and row["d"] != enc and row["d"] <= period_end
                elif k == "sex_nik_mismatch":
                    assert row["JENIS_KELAMIN"] != nik_date(nik)[1]
                elif k == "noka_zeros_stripped":
                    assert not row["NOKA"].startswith("0") and len(row["NOKA"]) < 13
                elif k == "noka_duplicate_in_file":
                    assert values in earlier
                elif k == "dob_future":
                    assert row["d"] > period_end
                elif k == "dob_unparseable":
                    assert row["d"] is None and row[dob_col] != ""
                elif k == "segment_unknown":
                    assert row["SEGMEN"] not in KNOWN_SEGMENTS | {"PBPU_PEMDA"}
                elif k == "segment_old_name":
                    assert row["SEGMEN"] == "PBPU_PEMDA"
                elif k == "village_unknown":
                    assert re.fullmatch(r"\d{10}", row["code"]) and row["code"] not in villages
                    assert row["code"][:4] in kab
                elif k == "nik_old_region":
                    assert nik[:4] not in kab and nik[:2] == row["code"][:2]
                elif k == "name_empty":
                    assert row[name_col] == ""
                elif k == "desil_out_of_range":
                    assert row["DESIL"] not in {str(i) for i in range(1, 11)}
                elif k == "duplicate_card":
                    assert row["person_id"] is not None
            if not kinds:  # clean rows are perfectly clean
                enc, sex = nik_date(nik)
                assert nik == row["true_nik"] and re.fullmatch(r"\d{16}", nik)
                assert nik[:4] in kab
                d = row["d"]
                assert enc is not None
                assert (enc.day, enc.month, enc.year % 100) == (d.day, d.month, d.year % 100)
                assert d <= period_end
                sexcol = (
                    row.get("JENIS_KELAMIN")
                    or {"LAKI-LAKI": "L", "PEREMPUAN": "P"}[row["JENIS_KLMIN"]]
                )
                assert sexcol == sex
                assert row["code"] in villages
                assert row[name_col] != ""
                if source == "bpjs_membership":
                    assert re.fullmatch(r"\d{13}", row["NOKA"])
                    assert row["SEGMEN"] in KNOWN_SEGMENTS
                if source == "dinsos_pbi":
                    assert row["DESIL"] in {str(i) for i in range(1, 11)}
            earlier.add(values)
    applicable = {
        "nik_excel_scientific",
        "nik_truncated",
        "nik_empty",
        "nik_typo",
        "dob_nik_mismatch",
        "sex_nik_mismatch",
        "noka_zeros_stripped",
        "noka_duplicate_in_file",
        "dob_future",
        "dob_unparseable",
        "segment_unknown",
        "segment_old_name",
        "village_unknown",
        "nik_old_region",
        "name_empty",
        "desil_out_of_range",
        "duplicate_card",
    }
    assert seen == applicable


def test_clean_option_gives_clean_files(tmp_path: Path) -> None:
    opts = GenerateOptions(regions=["52.03"], period="2025-03", persons=1500, messy=False)
    result = generate(opts, tmp_path)
    rows = pl.read_parquet(result.truth_dir / "rows.parquet")
    assert (
        rows["defects"].list.len().sum()
        == rows.filter(pl.col("defects").list.contains("duplicate_card")).height
    )
    assert (rows["expected"] == "loaded").all()
    for source, path in result.files.items():
        if path.suffix == ".csv":
            first = path.read_bytes().split(b"\n", 1)[0]
            assert not first.startswith(b"\xef\xbb\xbf") and b"\r" not in first
        frame = read_extract(path)
        raw_cols = (
            pl.read_parquet(path).columns
            if path.suffix == ".parquet"
            else pl.read_excel(path).columns
            if path.suffix == ".xlsx"
            else path.read_text().split("\n", 1)[0].split(",")
        )
        assert raw_cols == gen_core.writer.COLUMNS[source]
        assert frame["KODE_WILAYAH"].str.contains(r"^\d{10}$").all()


def test_xlsx_falls_back_to_csv_above_the_row_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gen_core, "XLSX_MAX_DATA_ROWS", 100)
    opts = GenerateOptions(
        regions=["17.07"], period="2024-07", persons=500, formats={"bpjs_membership": "xlsx"}
    )
    result = generate(opts, tmp_path)
    assert result.files["bpjs_membership"].suffix == ".csv"
    assert "XLSX limit" in result.summary["files"]["bpjs_membership"]["note"]


# --- scenarios ---------------------------------------------------------------------------


def figures_from_files(result: GenerationResult) -> dict[str, dict[str, int]]:
    """population / registered / active per kab/kota, computed from the written rows."""
    duk = read_extract(result.files["dukcapil"]).with_columns(
        kab=pl.col("KODE_WILAYAH").str.replace_all(".", "", literal=True).str.slice(0, 4)
    )
    bpjs = read_extract(result.files["bpjs_membership"]).with_columns(
        kab=pl.col("KODE_WILAYAH").str.replace_all(".", "", literal=True).str.slice(0, 4)
    )
    out: dict[str, dict[str, int]] = {}
    for code in result.summary["regions"]:
        digits = code.replace(".", "")
        pop = duk.filter((pl.col("kab") == digits) & (pl.col("STATUS") == "HIDUP")).height
        reg = bpjs.filter(pl.col("kab") == digits)
        act = reg.filter(pl.col("STATUS_PESERTA") == "AKTIF").height
        out[code] = {"population": pop, "registered": reg.height, "active": act}
    return out


@pytest.mark.parametrize(
    ("name", "scale"),
    [(n, 0.01) for n in SCENARIOS] + [("lebong-2024-07", 0.02), ("oku-timur-2025-05", 0.02)],
)
def test_scenarios_reproduce_published_rates(tmp_path: Path, name: str, scale: float) -> None:
    result = generate_scenario(name, tmp_path, scale=scale)
    target = SCENARIOS[name].regions[0]
    figures = figures_from_files(result)[target.code]
    pop = figures["population"]
    assert abs(pop - scale * target.population) <= 0.02 * scale * target.population
    assert abs(figures["registered"] / pop - target.coverage) <= 1e-4
    assert abs(figures["active"] / pop - target.activity) <= 1e-4
    summary = result.summary["figures"][target.code]
    assert summary["population"] == pop
    assert summary["registered"] == figures["registered"]
    assert summary["active_registered"] == figures["active"]


def test_scenario_plans_exact_at_full_scale() -> None:
    published = {
        "lubuklinggau-2018-06": (226_720, 158_704),
        "banyuasin-2023-09": (837_062, 817_221),
        "lebong-2024-07": (112_982, 113_784),
        "oku-timur-2025-05": (694_832, 682_534),
    }
    for name, (pop, reg) in published.items():
        plan = SCENARIOS[name].plans(1.0)[0]
        assert (plan.population, plan.registered) == (pop, reg)
    lombok = SCENARIOS["lombok-timur-2025-03"].plans(1.0)[0]
    assert lombok.population == 1_404_343 and lombok.registered / lombok.population >= 0.98
    assert lombok.active == round(0.7656 * 1_404_343)


def test_exact_population_search() -> None:
    for target in (500, 1130, 2266, 16_949):
        pop = exact_population(target, 1.0071, 0.7541)
        assert abs(round(1.0071 * pop) / pop - 1.0071) <= 1e-4
        assert abs(round(0.7541 * pop) / pop - 0.7541) <= 1e-4
        assert abs(pop - target) < max(60, 0.05 * target)


def test_lebong_bridge_adds_up_and_explains_the_excess(tmp_path: Path) -> None:
    result = generate_scenario("lebong-2024-07", tmp_path, scale=0.02)
    rows = pl.read_parquet(result.truth_dir / "rows.parquet").filter(source="bpjs_membership")
    bpjs = read_extract(result.files["bpjs_membership"]).with_columns(
        line=pl.int_range(pl.len(), dtype=pl.Int64) + 2,
        kab=pl.col("KODE_WILAYAH").str.replace_all(".", "", literal=True).str.slice(0, 4),
    )
    lebong = bpjs.filter(kab="1707").join(rows, on="line")
    counts = dict(lebong["bridge_category"].value_counts().iter_rows())
    figures = figures_from_files(result)["17.07"]
    assert sum(counts.values()) == figures["registered"]
    assert set(counts) <= set(BRIDGE_CATEGORIES)
    for cause in BRIDGE_CATEGORIES:
        assert counts.get(cause, 0) > 0, cause
    # The excess over the population is explained by the non-resident categories.
    assert (
        figures["registered"] - counts["resident"] > figures["registered"] - figures["population"]
    )
    assert counts == {k: v for k, v in result.summary["figures"]["17.07"]["bridge"].items() if v}
    # Quarantined rows are exactly the rows expected to be quarantined.
    assert (
        (lebong["bridge_category"] == "quarantined") == (lebong["expected"] == "quarantined")
    ).all()
    # Duplicates: a further card of a person with a kept card in this kab/kota.
    kept = lebong.filter(pl.col("bridge_category").is_in(["quarantined", "duplicate"]).not_())
    assert kept["person_id"].is_unique().all()
    dups = lebong.filter(bridge_category="duplicate")
    assert dups["person_id"].is_in(kept["person_id"].implode()).all()


def test_reconciliation_cases_are_present(tmp_path: Path) -> None:
    """Every PBI-reconciliation case, double funding and active cards of the dead occur."""
    result = generate_scenario("oku-timur-2025-05", tmp_path, scale=0.01)
    truth = result.truth_dir
    rows = pl.read_parquet(truth / "rows.parquet")
    persons = pl.read_parquet(truth / "persons.parquet")

    def linked(source: str) -> pl.DataFrame:
        frame = read_extract(result.files[source]).with_columns(
            line=pl.int_range(pl.len(), dtype=pl.Int64) + 2
        )
        return frame.join(rows.filter(source=source), on="line").filter(expected="loaded")

    bpjs = linked("bpjs_membership").with_columns(
        pbi=pl.col("SEGMEN").is_in(["PBI_APBN", "PBI_APBD", "PBPU_PEMDA"]),
        aktif=pl.col("STATUS_PESERTA") == "AKTIF",
    )
    dinsos = linked("dinsos_pbi")
    per_person = bpjs.group_by("person_id").agg(
        pbi_active=(pl.col("pbi") & pl.col("aktif")).any(),
        pbi_any=pl.col("pbi").any(),
        paying=pl.col("SEGMEN").is_in(["PBPU", "PPU_BU"]).any(),
        apbd=pl.col("SEGMEN").is_in(["PBI_APBD", "PBPU_PEMDA"]).any(),
        other=pl.col("SEGMEN").is_in(["PBI_APBN", "PPU_PEMERINTAH", "PPU_BU"]).any(),
    )
    listed = (
        dinsos.select("person_id")
        .unique()
        .join(per_person, on="person_id", how="left")
        .join(persons.select("person_id", "dukcapil_status"), on="person_id")
    )
    cases = {
        "listed_active_pbi": listed.filter(pl.col("pbi_active")).height,
        "listed_inactive": listed.filter(pl.col("pbi_any") & ~pl.col("pbi_active")).height,
        "listed_not_member": listed.filter(pl.col("pbi_any").is_null()).height,
        "listed_paying": listed.filter(pl.col("paying") & ~pl.col("pbi_any")).height,
        "listed_deceased": listed.filter(dukcapil_status="MATI").height,
        "pbi_not_listed": per_person.filter(
            pl.col("pbi_any") & ~pl.col("person_id").is_in(dinsos["person_id"].implode())
        ).height,
        "double_funding": per_person.filter(pl.col("apbd") & pl.col("other")).height,
        "dead_active_cards": bpjs.join(persons.filter(dukcapil_status="MATI"), on="person_id")
        .filter("aktif")
        .height,
    }
    assert all(v > 0 for v in cases.values()), cases
    assert cases["listed_active_pbi"] > 10 * cases["listed_not_member"]
    # Inactivity concentrates in PBPU and PPU_BU.
    by_seg = bpjs.group_by("SEGMEN").agg(inactive=(~pl.col("aktif")).mean())
    rate = dict(by_seg.iter_rows())
    assert rate["PBPU"] > 2 * rate["PBI_APBN"] and rate["PPU_BU"] > rate["PPU_PEMERINTAH"]
    # Arrears are recorded mostly for MENUNGGAK.
    arrears = bpjs.filter(pl.col("BULAN_TUNGGAKAN") != "0")
    assert _num((arrears["KET_NONAKTIF"] == "MENUNGGAK").mean()) > 0.8
    assert (bpjs.filter(pl.col("aktif"))["KET_NONAKTIF"] == "").all()
    assert bpjs.filter(pl.col("pbi"))["KELAS"].eq("3").all()


def test_names_are_indonesian_upper_case_and_some_non_ascii(
    small: tuple[Path, GenerationResult],
) -> None:
    landing, _ = small
    persons = pl.read_parquet(landing / "_truth" / "2025-05" / "persons.parquet")
    names = persons["name"]
    assert (names == names.str.to_uppercase()).all()
    assert names.str.contains(r"^(MUHAMMAD|SITI|NUR) ").sum() > 0.03 * len(names)
    assert names.str.contains(r"[^\x00-\x7f]").sum() > 0
    assert names.n_unique() > 0.2 * len(names)
    ages = (date(2025, 5, 31) - persons["dob"]).dt.total_days() / 365.25
    assert 0.2 < _num((ages < 15).mean()) < 0.4 and _num((ages > 65).mean()) < 0.15


# --- linkage preset ----------------------------------------------------------------------

# SHA-256 over (relative path, bytes) of every file of a fixed small config, computed before
# the linkage preset existed: without ``linkage`` the output must stay byte-identical. Last
# changed by issue 16's levers (Pemda share and arrears, takeover listings, arrears spread, and
# their truth in summary.json), which change the files on purpose.
BASELINE_SHA256 = "520567f0f25355b4a70166e7d6359d41f77b3e875384c6da282ddececcdaffc8"


def _tree_sha256(landing: Path) -> str:
    digest = hashlib.sha256()
    for p in sorted(landing.rglob("*.*")):
        digest.update(str(p.relative_to(landing)).encode())
        digest.update(p.read_bytes())
    return digest.hexdigest()


def test_without_linkage_bytes_are_unchanged(tmp_path: Path) -> None:
    generate(GenerateOptions(regions=["17.07"], period="2024-07", persons=1500, seed=7), tmp_path)
    assert _tree_sha256(tmp_path) == BASELINE_SHA256


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationResult]:
    landing = tmp_path_factory.mktemp("linked")
    opts = GenerateOptions(
        regions=["16.08", "16.73"], period="2025-05", persons=6000, seed=3, linkage=True
    )
    return landing, generate(opts, landing)


def _norm(name: str) -> str:
    out = name.replace(".", "").replace(" ", "")
    for a, b in (("DJ", "J"), ("TJ", "C"), ("OE", "U"), ("SY", "S"), ("KH", "H"), ("F", "P")):
        out = out.replace(a, b)
    out = out.replace("Z", "J")
    return re.sub(r"([A-Z])\1", r"\1", out)


def _distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def plausible_variant(true: str, written: str) -> bool:
    """A spelling variant as the generator describes them, checked independently."""
    if written == true:
        return False
    t, w = true.split(" "), written.split(" ")
    prefixes = {"MUHAMMAD", "MUHAMAD", "MOHAMMAD", "MOHAMAD", "MOH.", "MOH", "M.", "M", "MUH."}
    prefixes |= {"AHMAD", "ACHMAD", "AHMAT", "ABDUL", "ABD.", "NUR", "NOER", "SITI", "SITTI"}
    if t[0] in prefixes and w[0] in prefixes and t[1:] == w[1:]:
        return True
    if len(w) == len(t) - 1 and any(t[:i] + t[i + 1 :] == w for i in range(len(t))):
        return True  # a dropped part
    if "".join(t) == "".join(w):
        return True  # parts joined
    if _norm(true) == _norm(written):
        return True  # old spelling or consonant variant
    # a one-letter typo keeps the first letter of every part
    return _distance(true, written) <= 2 and [x[0] for x in t] == [x[0] for x in w]


def test_linkage_truth_schema_and_rates(linked: tuple[Path, GenerationResult]) -> None:
    _, result = linked
    lt = linkage_truth(result.truth_dir)
    assert lt.columns[:7] == [
        "source",
        "line",
        "key",
        "person_id",
        "nik_true",
        "person_nik",
        "nik_written",
    ]
    for flag in ("nik_missing", "nik_mistyped", "nik_damaged", "nik_of_relative"):
        assert lt[flag].dtype == pl.Boolean
    bpjs = lt.filter(source="bpjs_membership")
    problem = bpjs["nik_missing"] | bpjs["nik_mistyped"] | bpjs["nik_damaged"]
    problem |= bpjs["nik_of_relative"]
    assert 0.04 < _num(problem.mean()) < 0.07
    noisy = bpjs.filter(problem)
    also = noisy["name_variant"] | noisy["dob_swap"] | noisy["dob_typo"]
    assert 0.35 < _num(also.mean()) < 0.65
    # nik_true is null exactly for persons unknown to Dukcapil; rows link to their person.
    persons = pl.read_parquet(result.truth_dir / "persons.parquet")
    joined = lt.join(persons.select("person_id", "in_dukcapil"), on="person_id")
    assert (joined["nik_true"].is_null() == ~joined["in_dukcapil"]).all()
    intact = lt.filter(~pl.col("defects").list.contains("nik_old_region") & (pl.len() > 0))
    clean_nik = intact.filter(
        ~(pl.col("nik_missing") | pl.col("nik_mistyped") | pl.col("nik_damaged"))
        & ~pl.col("nik_of_relative")
    )
    assert (clean_nik["nik_written"] == clean_nik["person_nik"]).all()
    # Every new kind occurs in both sources.
    for source in ("bpjs_membership", "dinsos_pbi"):
        counts = result.summary["defect_counts"][source]
        for kind in ("name_variant", "dob_swap", "dob_typo", "nik_of_relative", "nik_typo"):
            assert counts.get(kind, 0) > 0, (source, kind)


def test_linkage_rows_look_right(linked: tuple[Path, GenerationResult]) -> None:
    landing, result = linked
    lt = linkage_truth(result.truth_dir)
    persons = pl.read_parquet(result.truth_dir / "persons.parquet")
    real = set(persons["nik"])
    rows = lt.join(
        persons.select("person_id", "name", "dob", "no_kk", "region_code"), on="person_id"
    )
    # The written values are what the files carry.
    bpjs_file = with_truth(
        landing, "2025-05", "bpjs_membership", result.files["bpjs_membership"]
    ).with_columns(d=parse_date("TGL_LAHIR"))
    check = bpjs_file.join(rows.filter(source="bpjs_membership"), on="line")
    assert (check["NIK"] == check["nik_written"]).all()
    assert (check["NAMA"] == check["name_written"]).all()
    dated = check.filter(pl.col("dob_written").is_not_null())
    assert (dated["d"] == dated["dob_written"]).all()

    variants = rows.filter("name_variant")
    assert variants.height > 50
    for true, written in variants.select("name", "name_written").iter_rows():
        assert plausible_variant(true, written), (true, written)

    swaps = rows.filter("dob_swap")
    assert swaps.height > 0
    assert (swaps["dob_written"].dt.day() == swaps["dob"].dt.month()).all()
    assert (swaps["dob_written"].dt.month() == swaps["dob"].dt.day()).all()
    assert (swaps["dob_written"] != swaps["dob"]).all()
    typos = rows.filter("dob_typo")
    gap = (typos["dob_written"] - typos["dob"]).dt.total_days().abs()
    assert typos.height > 0 and (gap == 1).all()
    # dob noise only where the NIK is not intact.
    dob_noisy = rows.filter(pl.col("dob_swap") | pl.col("dob_typo"))
    assert (
        dob_noisy["nik_missing"]
        | dob_noisy["nik_mistyped"]
        | dob_noisy["nik_damaged"]
        | dob_noisy["nik_of_relative"]
    ).all()

    mistyped = rows.filter("nik_mistyped")
    assert mistyped["nik_written"].str.contains(r"^\d{16}$").all()
    assert not set(mistyped["nik_written"]) & real
    assert (mistyped["nik_written"] != mistyped["person_nik"]).all()
    off_serial = mistyped.filter(pl.col("nik_typo_pos") < 12)
    assert off_serial.height > 0  # typos anywhere, not only in the serial
    for written, own, pos in mistyped.select("nik_written", "person_nik", "nik_typo_pos").rows():
        diff = [i for i in range(16) if written[i] != own[i]]
        assert diff[0] == pos and (len(diff) == 1 or diff == [pos, pos + 1])

    relative = rows.filter("nik_of_relative")
    assert relative.height > 0
    by_nik = persons.select("nik", rel_kk="no_kk", rel_id="person_id", rel_region="region_code")
    rel = relative.join(by_nik, left_on="nik_written", right_on="nik")
    assert rel.height == relative.height
    assert (rel["rel_kk"] == rel["no_kk"]).all() and (rel["rel_id"] != rel["person_id"]).all()


def test_hard_negatives(linked: tuple[Path, GenerationResult]) -> None:
    _, result = linked
    persons = pl.read_parquet(result.truth_dir / "persons.parquet")
    hn = persons.filter(pl.col("hard_negative").is_not_null())
    assert hn["in_dukcapil"].all() and hn["group_id"].is_not_null().all()
    assert persons.filter(pl.col("hard_negative").is_null())["group_id"].is_null().all()
    share = hn.height / persons.filter("in_dukcapil").height
    assert 0.02 < share < 0.04
    groups = hn.group_by("group_id", "hard_negative").agg(
        n=pl.len(),
        kk=pl.col("no_kk").n_unique(),
        dob=pl.col("dob").n_unique(),
        names=pl.col("name").n_unique(),
        sex=pl.col("sex").n_unique(),
        village=pl.col("domicile_code").n_unique(),
        # issuing kecamatan and birth month/year (the day carries +40 for women)
        nik_head=(pl.col("nik").str.slice(0, 6) + pl.col("nik").str.slice(8, 4)).n_unique(),
    )
    twins = groups.filter(hard_negative="twin")
    assert twins.height > 10
    assert ((twins["n"] == 2) & (twins["kk"] == 1) & (twins["dob"] == 1)).all()
    assert (twins["names"] == 2).all() and (twins["nik_head"] == 1).all()
    assert twins["sex"].max() == 2 and twins["sex"].min() == 1  # same sex or not
    namesakes = groups.filter(hard_negative="namesake")
    assert namesakes.height > 10
    assert ((namesakes["n"] == 2) & (namesakes["names"] == 1) & (namesakes["sex"] == 1)).all()
    assert ((namesakes["dob"] == 2) & (namesakes["kk"] == 2) & (namesakes["village"] == 1)).all()
    common = groups.filter(hard_negative="common_name")
    assert common.height > 0 and _num(common["n"].max()) >= 5
    assert ((common["names"] == 1) & (common["village"] == 1) & (common["sex"] == 1)).all()
    assert set(hn.filter(hard_negative="common_name")["name"]) <= {
        "MUHAMMAD RIZKI",
        "AHMAD FAUZI",
        "SITI AMINAH",
        "NUR AINI",
    }
    # Persons unknown to Dukcapil with two cards: duplicates the linker must find.
    rows = pl.read_parquet(result.truth_dir / "rows.parquet").filter(source="bpjs_membership")
    migrants = persons.filter(~pl.col("in_dukcapil"))["person_id"].implode()
    cards = rows.filter(
        pl.col("person_id").is_in(migrants)
        & ~pl.col("defects").list.contains("noka_duplicate_in_file")
    )
    assert (cards.group_by("person_id").len()["len"] > 1).sum() > 0


def test_linkage_keeps_the_figures(tmp_path: Path) -> None:
    plain = generate_scenario("lebong-2024-07", tmp_path / "a", scale=0.02)
    linked_ = generate_scenario("lebong-2024-07", tmp_path / "b", scale=0.02, linkage=True)
    for code, fig in plain.summary["figures"].items():
        other = linked_.summary["figures"][code]
        for key in ("population", "registered", "active_registered"):
            assert fig[key] == other[key], (code, key)
        # More damaged NIKs quarantine more cards; the bridge still adds up to registered.
        assert sum(other["bridge"].values()) == other["registered"]


def test_linkage_is_deterministic(tmp_path: Path) -> None:
    def run(where: str, seed: int) -> dict[str, bytes]:
        opts = GenerateOptions(
            regions=["17.07"], period="2024-07", persons=1500, seed=seed, linkage=True
        )
        generate(opts, tmp_path / where)
        return _all_bytes(tmp_path / where)

    first = run("a", 5)
    assert first == run("b", 5)
    other = run("c", 6)
    assert first["_truth/2024-07/rows.parquet"] != other["_truth/2024-07/rows.parquet"]


def test_linkage_truth_needs_the_preset(small: tuple[Path, GenerationResult]) -> None:
    _, result = small
    with pytest.raises(ValueError, match="linkage"):
        linkage_truth(result.truth_dir)


def test_name_variant_table() -> None:
    from jkn.generate.linkage import name_variant

    def all_variants(name: str) -> set[str]:
        grid = [i / 10 + 0.05 for i in range(10)]
        return {name_variant(name, a, b, c, 0.5) for a in grid for b in grid for c in grid}

    muh = all_variants("MUHAMMAD NUR RIZKI")
    assert {"MUHAMAD NUR RIZKI", "M. NUR RIZKI", "MOH. NUR RIZKI"} <= muh
    assert {"MUHAMMAD RIZKI", "MUHAMMAD NURRIZKI"} <= muh  # dropped part, joined parts
    assert "NURAINI" in all_variants("NUR AINI")
    assert "ABDULAH" in all_variants("ABDULLAH")
    assert "SAIFUL" in all_variants("SYAIFUL")
    assert "JOKO" in all_variants("DJOKO")
    assert "SUHARTO" in all_variants("SOEHARTO")
    assert "CAHYO" in all_variants("TJAHYO")
    for name in ("ABDULLAH", "SYAIFUL", "SOEHARTO", "NUR AINI", "SITI NUR AMINAH", "A", "BUDI"):
        for out in all_variants(name):
            assert out != name and out.strip()
            assert plausible_variant(name, out), (name, out)
