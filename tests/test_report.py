"""The monthly forum report (jkn.report): every page of a small two-district run of the
Lebong scenario, rendered by headless Chromium with the network cut off, against the marts."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from html import unescape
from pathlib import Path
from typing import TypedDict

import polars as pl
import pytest
from babel.messages.pofile import read_po

from jkn import rules
from jkn.generate import generate_scenario
from jkn.report import ReportResult, report_dir, write_report
from jkn.report.i18n import LANGUAGES, LOCALE_DIR, Language
from jkn.report.pdf import chromium, chromium_args
from tests.conftest import read_table, refresh

CHROMIUM = chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian chromium not installed (./dev installs it)"
)
PERIOD = "2024-07"
LEBONG = "17.07"


def _keys(lang: str) -> dict[str, set[str]]:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "report.po").open("rb") as po:
        return {str(m.id): set(re.findall(r"{(\w+)}", str(m.string))) for m in read_po(po) if m.id}


def test_both_catalogues_hold_the_same_texts_with_the_same_fields() -> None:
    indonesian, english = _keys("id"), _keys("en")
    assert indonesian == english
    used = set()
    for template in (LOCALE_DIR.parent / "templates").glob("*.j2"):
        used |= set(re.findall(r"""t\(["'](\w+)["']""", template.read_text(encoding="utf-8")))
    assert used and used <= set(indonesian)


@pytest.mark.parametrize(
    ("lang", "pct", "number", "rupiah"),
    [("id", "100,71%", "113.784", "Rp 4.200.000"), ("en", "100.71%", "113,784", "Rp 4,200,000")],
)
def test_figures_are_formatted_for_the_language(
    lang: str, pct: str, number: str, rupiah: str
) -> None:
    language = Language.of(lang)
    assert language.pct(1.00712) == pct
    assert language.number(113_784) == number
    assert language.rupiah(4_200_000) == rupiah


class Run(TypedDict):
    warehouse: Path
    truth: Path
    id: ReportResult
    en: ReportResult


@pytest.fixture(scope="module")
def run(prefect_harness: None, tmp_path_factory: pytest.TempPathFactory) -> Run:
    root = tmp_path_factory.mktemp("report")
    generated = generate_scenario("lebong-2024-07", root / "landing", scale=0.01)
    warehouse = root / "jkn.duckdb"
    summary = refresh(root / "landing", PERIOD, warehouse, report=True)
    assert summary.published
    assert not [a for a in summary.alerts if a.check == "forum_report"]
    # the flow wrote the Indonesian report beside the warehouse; English by hand
    written = report_dir(warehouse, PERIOD)
    indonesian = write_report(warehouse, PERIOD, written)
    english = write_report(warehouse, PERIOD, root / "en", lang="en")
    return {"warehouse": warehouse, "truth": generated.truth_dir, "id": indonesian, "en": english}


def _text(path: Path) -> str:
    text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
    return re.sub(r"\s+", " ", unescape(text))


@pytest.mark.slow
def test_one_page_per_kabupaten_and_province_and_an_index(run: Run) -> None:
    assert set(run["id"].pages) == {"17", "17.02", LEBONG}
    index = _text(run["id"].index)
    for code, name in run["id"].names.items():
        assert f"{name} ({code})" in index
    assert (run["id"].out / "index.html").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_figures_printed_are_the_marts(run: Run, lang: str) -> None:
    language = Language.of(lang)
    coverage = read_table(
        run["warehouse"],
        "select region_code, coverage_registered, activity_of_population, coverage_reconciled, "
        "registered from marts.coverage where period = $p "
        "and region_level in ('province', 'kabupaten')",
        p=f"{PERIOD}-01",
    )
    bridge = read_table(
        run["warehouse"],
        'select region_code, "rows" from marts.coverage_bridge where period = $p '
        "and category = 'resident'",
        p=f"{PERIOD}-01",
    )
    resident = dict(bridge.iter_rows())
    for c in coverage.iter_rows(named=True):
        text = _text(run[lang].pages[c["region_code"]])  # type: ignore[literal-required]
        for column in ("coverage_registered", "activity_of_population", "coverage_reconciled"):
            assert language.pct(c[column]) in text, (c["region_code"], column)
        assert language.number(c["registered"]) in text
        assert language.number(resident[c["region_code"]]) in text
    assert "Status UHC" in _text(run["id"].pages[LEBONG])
    assert "UHC status" in _text(run["en"].pages[LEBONG])


@pytest.mark.slow
def test_the_lebong_page_explains_coverage_above_100_percent(run: Run) -> None:
    language = Language.of("id")
    lebong = read_table(
        run["warehouse"],
        "select coverage_registered, population, registered from marts.coverage "
        "where period = $p and region_code = $r",
        p=f"{PERIOD}-01",
        r=LEBONG,
    ).row(0, named=True)
    assert lebong["coverage_registered"] > 1  # the scenario's 100.71%
    text = _text(run["id"].pages[LEBONG])
    assert (
        f"Cakupan kepesertaan {language.pct(lebong['coverage_registered'])} melebihi 100% karena "
        f"menghitung {language.number(lebong['registered'])} baris BPJS terdaftar terhadap "
        f"{language.number(lebong['population'])} penduduk"
    ) in text
    english = _text(run["en"].pages[LEBONG])
    assert "is above 100% because it counts" in english
    # the first month: nothing to compare with, said so
    assert "was not published, so there is nothing to compare with" in english


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_2024_page_costs_the_next_tiers_from_the_budget(run: Run, lang: str) -> None:
    """Before 2026 no tier is in force (marts.uhc_tiers has no rows), yet the page says what
    each 2026 tier would cost on this month's figures: marts.uhc_budget's rows not in force."""
    language = Language.of(lang)
    assert read_table(
        run["warehouse"], "select * from marts.uhc_tiers where period = $p", p=f"{PERIOD}-01"
    ).is_empty()
    coming = read_table(
        run["warehouse"],
        "select goal, residents_to_enrol, monthly_cost_idr, annual_cost_idr, in_force_from "
        "from marts.uhc_budget where period = $p and region_code = $r and not in_force",
        p=f"{PERIOD}-01",
        r=LEBONG,
    )
    assert sorted(coming["goal"]) == ["madya", "pratama", "utama"]
    assert set(coming["in_force_from"]) == {dt.date(2026, 1, 1)}
    page = run[lang].pages[LEBONG]  # type: ignore[literal-required]
    # one row per tier, set apart
    assert page.read_text(encoding="utf-8").count('<tr class="coming">') == 3
    text = _text(page)
    for tier in coming.iter_rows(named=True):
        name = language.t("goal_tier", name=language.t(f"tier_{tier['goal']}"))
        assert name in text, tier["goal"]
        assert language.rupiah(tier["annual_cost_idr"]) in text
    since = language.date(dt.date(2026, 1, 1))
    for tier in coming.iter_rows(named=True):  # its row: in force from, met or not, cost
        met = language.t("coming_yes" if tier["residents_to_enrol"] == 0 else "coming_no")
        name = language.t("goal_tier", name=language.t(f"tier_{tier['goal']}"))
        assert re.search(
            rf"{re.escape(name)} .*? {re.escape(since)} {re.escape(met)} "
            rf"{re.escape(language.number(tier['residents_to_enrol']))} "
            rf"{re.escape(language.rupiah(tier['monthly_cost_idr']))}",
            text,
        ), tier["goal"]
    # the sentence names the lowest tier (rules order) still short, its enrolments and rupiah
    order = {r["tier"]: int(r["tier_order"]) for r in rules.rows("uhc_tiers")}
    short = sorted(
        (t for t in coming.iter_rows(named=True) if t["residents_to_enrol"] > 0),
        key=lambda t: order[t["goal"]],
    )
    assert short, "Lebong's activity (75.41%) is short of every 2026 tier"
    first = short[0]
    expected = language.t(
        "coming_sentence",
        since=since,
        goal=language.t("goal_tier", name=language.t(f"tier_{first['goal']}")),
        residents=language.number(first["residents_to_enrol"]),
        monthly=language.rupiah(first["monthly_cost_idr"]),
        annual=language.rupiah(first["annual_cost_idr"]),
    )
    assert expected in text


def test_every_check_of_the_extracts_has_plain_words_in_both_languages() -> None:
    from jkn.ingest.validate import UNREADABLE
    from schemas import SCHEMAS
    from schemas.common import row_rules

    checks = {UNREADABLE} | {
        name for schema in SCHEMAS.values() for name in row_rules(schema.model)
    }
    assert len(checks) > 20
    for lang in LANGUAGES:
        language = Language.of(lang)
        words = {check: language.check(check) for check in checks}
        assert not [c for c, w in words.items() if w == c], lang  # none falls back to its code
        assert len(set(words.values())) == len(checks), lang  # no two read the same
    assert Language.of("en").check("a_check_of_another_version") == "a_check_of_another_version"


@pytest.mark.slow
def test_the_quality_table_names_the_quarantine_reasons_in_plain_words(run: Run) -> None:
    quality = read_table(
        run["warehouse"],
        'select source, "check", "rows" from marts.data_quality where period = $p '
        "and severity = 'error' and \"rows\" > 0",
        p=f"{PERIOD}-01",
    )
    assert quality.height
    top = (
        quality.sort("rows", "check", descending=[True, False])
        .group_by("source", maintain_order=True)
        .first()
    )
    for lang in LANGUAGES:
        language = Language.of(lang)
        text = _text(run[lang].pages[LEBONG])  # type: ignore[literal-required]
        for source, check, count in top.iter_rows():
            reason = language.t("reason_rows", reason=language.check(check),
                                rows=language.number(count))  # fmt: skip
            assert reason in text, (lang, source, check)
            assert f" {check} " not in text  # the code itself is not what a reader sees


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_footer_names_what_the_figures_were_built_from(run: Run, lang: str) -> None:
    language = Language.of(lang)
    published = read_table(
        run["warehouse"], "select * from marts.published where period = $p", p=f"{PERIOD}-01"
    ).row(0, named=True)
    files = read_table(
        run["warehouse"],
        "select * from marts.published_files where period = $p order by source",
        p=f"{PERIOD}-01",
    )
    assert files.height == 3
    for page in run[lang].pages.values():  # type: ignore[literal-required]
        text = _text(page)
        for f in files.iter_rows(named=True):  # each file as delivered, its rows and checksum
            assert f"{f['file_name']} " in text
            assert f["sha256"][:12] in text
            assert language.number(f["rows_received"]) in text
        dukcapil = files.filter(source="dukcapil").row(0, named=True)
        snapshot = language.t(
            "snapshot_file",
            file=dukcapil["file_name"],
            received=language.date(dukcapil["received_at"].date()),
        )
        assert snapshot in text  # the population's extract, in the page's language
        assert published["code_version"] in text and published["rules_version"] in text
        assert published["population_snapshot"] not in text  # not the mart's English label


def _pdf(path: Path) -> tuple[int, str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    return len(reader.pages), " ".join(page.extract_text() for page in reader.pages)


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_page_has_its_pdf_with_one_printed_page_per_sheet(run: Run, lang: str) -> None:
    result: ReportResult = run[lang]  # type: ignore[literal-required]
    assert sorted(result.pdfs) == sorted(p.with_suffix(".pdf") for p in result.sheets)
    for html, sheets in result.sheets.items():
        pages, text = _pdf(html.with_suffix(".pdf"))
        assert sheets == (1 if html.name == "index.html" else 4)
        assert pages == sheets, html.name
        if html.name != "index.html":
            assert result.names[html.stem] in text


@pytest.mark.slow
def test_no_nik_name_or_birth_date_reaches_a_page_or_pdf(run: Run) -> None:
    persons = pl.read_parquet(run["truth"] / "persons.parquet")
    secrets = set(persons["nik"].drop_nulls()) | set(persons["no_kk"].drop_nulls())
    secrets |= {n for n in persons["name"].drop_nulls() if len(n) >= 4}
    for dob in persons["dob"].drop_nulls():
        secrets |= {f"{dob:%Y-%m-%d}", f"{dob:%d-%m-%Y}", f"{dob:%d/%m/%Y}"}
    assert len(secrets) > 1000
    texts = [p.read_text(encoding="utf-8") for r in (run["id"], run["en"]) for p in r.sheets]
    if CHROMIUM is not None:
        texts += [_pdf(pdf)[1] for r in (run["id"], run["en"]) for pdf in r.pdfs]
    for text in texts:
        words = set(re.findall(r"[\w/-]+", text))
        assert not words & secrets
        assert not any(nik in text for nik in persons["nik"].drop_nulls())


def _page_requests(page: Path, shot: Path, profile: Path) -> set[str]:
    """Screenshot ``page`` in headless Chromium (network names unresolvable) and return the
    network URLs the page asked for, from Chromium's net log (the browser's own background
    requests, which have no file:// page behind them, left out)."""
    assert CHROMIUM is not None
    netlog = shot.with_suffix(".json")
    done = subprocess.run(
        [
            *chromium_args(CHROMIUM, profile),
            "--hide-scrollbars",
            "--window-size=900,1300",
            f"--log-net-log={netlog}",
            f"--screenshot={shot}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.is_file(), done.stderr[-2000:]
    raw = netlog.read_text(encoding="utf-8").rstrip()
    log = json.loads(raw if raw.endswith("}") else raw.rstrip(",") + "]}")  # cut short on exit
    return {
        str(e["params"]["url"])
        for e in log.get("events", [])
        if str(e.get("params", {}).get("network_isolation_key", "")).startswith("file://")
        and str(e["params"].get("url", "")).startswith(("http:", "https:", "ws:", "wss:", "ftp:"))
    }


@pytest.mark.slow
@needs_chromium
def test_chromium_renders_every_page_offline_and_nothing_leaves_it(
    run: Run, tmp_path: Path
) -> None:
    # the check itself: a page fetching an image is caught
    probe = tmp_path / "probe.html"
    probe.write_text('<img src="https://example.com/logo.png">', encoding="utf-8")
    assert _page_requests(probe, tmp_path / "probe.png", tmp_path / "profile") == {
        "https://example.com/logo.png"
    }
    for lang in LANGUAGES:
        result: ReportResult = run[lang]  # type: ignore[literal-required]
        for page in result.sheets:
            html = page.read_text(encoding="utf-8")
            assert "<script" not in html
            links = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
            assert all(re.fullmatch(r"data:image/svg\+xml;base64,.+|[\w.-]+\.(html|pdf)", u)
                       for u in links), page  # fmt: skip
            shot = tmp_path / f"{lang}-{page.stem}.png"
            assert _page_requests(page, shot, tmp_path / "profile") == set(), page
            assert shot.stat().st_size > 20_000  # a page was drawn, not a blank one


@pytest.mark.slow
def test_the_cli_refuses_a_month_not_published_in_plain_words(run: Run, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from jkn.cli.commands import app

    args = ["report", "--warehouse", str(run["warehouse"]), "--out", str(tmp_path / "r")]
    done = CliRunner().invoke(app, [*args, "--period", "2024-08"])
    assert done.exit_code == 2
    assert "2024-08 is not published" in done.output and "Traceback" not in done.output
    done = CliRunner().invoke(app, [*args, "--period", PERIOD, "--region", "17.99", "--no-pdf"])
    assert done.exit_code == 2 and "region 17.99 has no published figures" in done.output
    done = CliRunner().invoke(
        app, [*args, "--period", PERIOD, "--region", LEBONG, "--lang", "en", "--no-pdf"]
    )
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["17.07.html", "index.html"]


@pytest.mark.slow
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_second_month_says_what_moved(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory, lang: str
) -> None:
    """Two consecutive generated months: the second month's page says what moved, with the
    figures of marts.card_movements (summed over segments) and marts.resident_movements, and its
    trend has both months."""
    from jkn.generate import GenerateOptions, generate_series

    root = tmp_path_factory.mktemp(f"report-moves-{lang}")
    options = GenerateOptions(regions=[LEBONG], period="2025-03", persons=600, seed=5)
    generate_series(options, 2, root / "landing")
    warehouse = root / "jkn.duckdb"
    for period in ("2025-03", "2025-04"):
        assert refresh(root / "landing", period, warehouse).published
    result = write_report(warehouse, "2025-04", root / "out", lang=lang, pdf=False)
    language = Language.of(lang)
    cards = read_table(
        warehouse,
        "select sum(cards_new) n, sum(cards_ended) e, sum(activated) a, "
        "sum(deactivated_arrears) d from marts.card_movements "
        "where period = '2025-04-01' and region_code = $r",
        r=LEBONG,
    ).row(0)
    residents = read_table(
        warehouse,
        "select newly_covered, lapsed, lost_coverage from marts.resident_movements "
        "where period = '2025-04-01' and region_code = $r",
        r=LEBONG,
    ).row(0)
    assert cards[0] > 0 and cards[1] > 0  # the series planted new and ended cards
    expected = language.t(
        "movements_sentence",
        previous=language.month(dt.date(2025, 3, 1)),
        new=language.number(cards[0]),
        ended=language.number(cards[1]),
        deactivated=language.number(
            read_table(
                warehouse,
                "select sum(deactivated_arrears + deactivated_pbi + deactivated_other) "
                "from marts.card_movements where period = '2025-04-01' and region_code = $r",
                r=LEBONG,
            ).item()
        ),
        arrears=language.number(cards[3]),
        activated=language.number(cards[2]),
        newly_covered=language.number(residents[0]),
        lapsed=language.number(residents[1]),
        lost=language.number(residents[2]),
    )
    page = _text(result.pages[LEBONG])
    assert " ".join(expected.split()) in page
    assert language.t("movements_none", previous=language.month(dt.date(2025, 3, 1))) not in page


@pytest.mark.slow
def test_a_report_that_fails_is_a_warning_and_the_month_stays_published(
    prefect_harness: None, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tasks.report

    def broken(*_: object, **__: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(tasks.report, "write_report", broken)
    root = tmp_path_factory.mktemp("report-fails")
    generate_scenario("lebong-2024-07", root / "landing", scale=0.01)
    warehouse = root / "jkn.duckdb"
    summary = refresh(root / "landing", PERIOD, warehouse, report=True)
    assert summary.published and not summary.errors
    (alert,) = [a for a in summary.alerts if a.check == "forum_report"]
    assert alert.severity == "warning" and "OSError" in alert.summary
    assert "disk full" not in alert.summary  # the type only: a message may quote a value
    assert f"jkn report --period {PERIOD}" in alert.summary
    assert read_table(warehouse, "select count(*) from marts.coverage").item() > 0
