"""Read the published marts, build each page, write the HTML and the PDFs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from jkn import rules
from jkn.databases import open_marts_read_only
from jkn.domain import BRIDGE_CATEGORIES
from jkn.periods import check_month, first_day, month_before
from jkn.report import charts
from jkn.report.i18n import Language
from jkn.report.pdf import chromium, print_pdfs
from warehouse import report_sql

QUERIES = (
    "regions", "goals", "bridge", "trend", "movements", "segments", "pbi", "groups", "quality",
    "published",
)  # fmt: skip
TEMPLATES = Path(__file__).parent / "templates"
THRESHOLDS = ("min_coverage", "min_activity", "min_pemda_share")
SERIES = ("coverage_registered", "activity_of_population", "coverage_reconciled")
REASONS = {
    "inactive_arrears": "reason_arrears",
    "inactive_pbi_deactivated": "reason_pbi",
    "inactive_other": "reason_other",
}
CARD_ROWS = (
    "cards_start", "cards_new", "cards_ended", "cards_moved_in", "cards_moved_out", "cards_end",
    "new_active", "activated", "deactivated_arrears", "deactivated_pbi", "deactivated_other",
)  # fmt: skip
RESIDENT_ROWS = (
    "residents_start", "residents_end", "newly_covered", "lost_coverage", "newly_active", "lapsed",
)  # fmt: skip


class ReportError(Exception):
    """The report cannot be written as asked (nothing published, an unknown region); the
    message says what to do."""


@dataclass
class ReportResult:
    """What :func:`write_report` wrote."""

    period: str
    lang: str
    out: Path
    index: Path
    pages: dict[str, Path] = field(default_factory=dict)  # region code → HTML page
    names: dict[str, str] = field(default_factory=dict)  # region code → region name
    sheets: dict[Path, int] = field(default_factory=dict)  # HTML page → printed pages
    pdfs: list[Path] = field(default_factory=list)
    pdf_skipped: str | None = None  # why no PDF was printed


def report_dir(marts_file: Path, period: str) -> Path:
    """Where a published run writes its report: ``<warehouse stem>.report/<YYYY-MM>/``."""
    return marts_file.with_name(f"{marts_file.stem}.report") / period


def read_marts(marts_file: Path, period: str) -> dict[str, pl.DataFrame]:
    """Every ``forum_*`` query's rows for ``period``, from the published marts (read-only)."""
    con = open_marts_read_only(marts_file)
    if con is None:
        raise ReportError(
            f"{marts_file} does not exist: nothing is published there yet. Run "
            f"`jkn run --period {period} --warehouse {marts_file}` first."
        )
    with con:
        con.register("tier_rules", tier_rules())
        return {
            name: con.sql(
                report_sql(f"forum_{name}", {}), params={"period": first_day(period)}
            ).pl()
            for name in QUERIES
        }


def tier_rules() -> pl.DataFrame:
    """The award tiers' conditions (``warehouse/rules/uhc_tiers.csv``, their one home), which
    the goals query reads for a tier not yet in force: ``marts.uhc_tiers`` has rows only for
    the tiers in force."""
    return pl.DataFrame(rules.rows("uhc_tiers")).select(
        "tier",
        pl.col("valid_from").str.to_date(),
        *(pl.col(c).replace("", None).cast(pl.Float64) for c in THRESHOLDS),
    )


def write_report(
    marts_file: Path,
    period: str,
    out: Path,
    *,
    region: str | None = None,
    lang: str = "id",
    pdf: bool = True,
) -> ReportResult:
    """Write the forum report of ``period`` (YYYY-MM) into ``out``: ``index.html`` and one
    ``<region_code>.html`` per kab/kota and province published (or only ``region``), and a PDF
    of each when Chromium is installed and ``pdf``."""
    period = check_month(period)
    language = Language.of(lang)
    data = read_marts(marts_file, period)
    regions = data["regions"]
    if regions.is_empty():
        raise ReportError(
            f"{period} is not published in {marts_file}: run the monthly refresh of {period} "
            "first (`jkn run`), or give a month that is published."
        )
    if region is not None:
        regions = regions.filter(pl.col("region_code") == region)
        if regions.is_empty():
            known = ", ".join(data["regions"]["region_code"])
            raise ReportError(
                f"region {region} has no published figures for {period}: give a kab/kota or "
                f"province code in dotted form, one of {known}"
            )
    out.mkdir(parents=True, exist_ok=True)
    env = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined
    )
    style = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    result = ReportResult(period=period, lang=lang, out=out, index=out / "index.html")
    month = language.month(first_day(period))
    rows = []
    for row in regions.iter_rows(named=True):
        page = Page(language, row, data).context()
        path = out / f"{row['region_code']}.html"
        html = env.get_template("page.html.j2").render(style=style, t=language.t, **page)
        path.write_text(html, encoding="utf-8")
        result.pages[row["region_code"]] = path
        result.names[row["region_code"]] = row["region_name"]
        result.sheets[path] = html.count('class="sheet"')
        rows.append(page["summary"])
    index = env.get_template("index.html.j2").render(
        style=style, t=language.t, month=month, rows=rows
    )
    result.index.write_text(index, encoding="utf-8")
    result.sheets[result.index] = index.count('class="sheet"')
    browser = chromium()
    if not pdf:
        result.pdf_skipped = "not asked"
    elif browser is None:
        result.pdf_skipped = "Chromium is not installed (Debian: apt-get install chromium)"
    else:
        result.pdfs = print_pdfs([result.index, *result.pages.values()], browser)
    return result


def _sum(frame: pl.DataFrame, column: str) -> int:
    return int(frame[column].sum()) if frame.height else 0


class Page:
    """One region's page: its figures formatted, its sentences, its charts."""

    def __init__(self, language: Language, row: dict[str, Any], data: dict[str, pl.DataFrame]):
        self.lang = language
        self.row = row
        code = row["region_code"]
        self.of = {
            name: frame.filter(pl.col("region_code") == code)
            for name, frame in data.items()
            if "region_code" in frame.columns
        }
        self.quality = data["quality"]
        self.published = data["published"]

    # each section: a dict for the template ------------------------------------------------

    def context(self) -> dict[str, Any]:
        r, lang = self.row, self.lang
        level = lang.t(f"level_{r['region_level']}")
        month = lang.month(r["period"])
        return {
            "html_lang": lang.t("html_lang"),
            "title": lang.t("report_title", month=month, region=r["region_name"]),
            "subtitle": lang.t(
                "subtitle",
                level=level,
                code=r["region_code"],
                month=month,
                population=lang.number(r["population"]),
            ),
            "verdict": self.verdict(),
            "goals": self.goals(),
            "bridge": self.bridge(),
            "trend": self.trend(),
            "movements": self.movements(),
            "segments": self.segments(),
            "pbi": self.pbi(),
            "takeover": self.takeover(),
            "groups": self.groups(),
            "quality": self.data_quality(),
            "footer": self.footer(),
            "summary": {
                "code": r["region_code"],
                "name": r["region_name"],
                "level": level,
                "coverage": lang.pct(r["coverage_registered"]),
                "activity": lang.pct(r["activity_of_population"]),
                "verdict": lang.t("verdict_short_yes" if r["meets_uhc"] else "verdict_short_no"),
                "page": f"{r['region_code']}.html",
                "pdf": f"{r['region_code']}.pdf",
            },
        }

    def verdict(self) -> list[str]:
        r, lang = self.row, self.lang
        figures = {"activity": lang.pct(r["activity_of_population"])}
        if r["min_activity"] is None:
            clause = lang.t("no_activity_clause", **figures)
        else:
            clause = lang.t("activity_clause", min_activity=lang.pct_rule(r["min_activity"]),
                            **figures)  # fmt: skip
        lines = [
            lang.t(
                "verdict_sentence",
                region=r["region_name"],
                status=lang.t("status_meets" if r["meets_uhc"] else "status_fails"),
                rule=r["rule_id"],
                coverage=lang.pct(r["coverage_registered"]),
                min_coverage=lang.pct_rule(r["min_coverage"]),
                activity_clause=clause,
            )
        ]
        arrears = r["pemda_arrears_cards"] or 0
        if r["meets_uhc_prioritas"] is not None:
            if r["meets_uhc_prioritas"]:
                lines.append(lang.t("prioritas_yes"))
            elif r["meets_uhc"]:
                lines.append(lang.t("prioritas_arrears", cards=lang.number(arrears)))
            else:
                also = lang.t("prioritas_arrears_also", cards=lang.number(arrears))
                lines.append(lang.t("prioritas_no_uhc", arrears=also if arrears else ""))
        if r["tiers_in_force"]:
            lines.append(
                lang.t("tier_met", tier=lang.t(f"tier_{r['tier_met']}"))
                if r["tier_met"]
                else lang.t("tier_none")
            )
        with_data, in_list = r["subregions_with_data"], r["subregions_in_list"]
        if r["region_level"] == "province" and with_data is not None and with_data != in_list:
            lines.append(
                lang.t("partial", with_data=lang.number(with_data), in_list=lang.number(in_list))
            )
        return lines

    def goals(self) -> dict[str, Any]:
        lang, goals = self.lang, self.of["goals"]
        rows = []
        for g in goals.iter_rows(named=True):
            conditions = (
                [lang.t("cond_coverage", value=lang.pct_rule(g["min_coverage"]))]
                if g["min_coverage"] is not None
                else ["—"]  # a coming tier the rules file no longer names as the mart does
            )
            if g["min_activity"] is not None:
                conditions.append(lang.t("cond_activity", value=lang.pct_rule(g["min_activity"])))
            if g["min_pemda_share"] is not None:
                conditions.append(lang.t("cond_pemda", value=lang.pct_rule(g["min_pemda_share"])))
            rows.append(
                {
                    "goal": self._goal_name(g),
                    "condition": ", ".join(conditions),
                    "since": (
                        lang.date(g["in_force_from"]) if g["in_force_from"] is not None else "—"
                    ),
                    "met": lang.t(
                        ("yes" if g["met"] else "no")
                        if g["in_force"]
                        else ("coming_yes" if g["met"] else "coming_no")
                    ),
                    "to_enrol": lang.number(g["residents_to_enrol"]),
                    "monthly": lang.rupiah(g["monthly_cost_idr"]),
                    "annual": lang.rupiah(g["annual_cost_idr"]),
                    "coming": not g["in_force"],
                }
            )
        in_force = goals.filter(pl.col("in_force"))
        unmet = in_force.filter(pl.col("residents_to_enrol") > 0)
        if goals.is_empty():
            sentences = [lang.t("goals_none")]
        elif unmet.is_empty():
            sentences = [lang.t("goals_all_met")]
        else:
            sentences = [lang.t("goals_sentence", **self._cost(unmet.row(0, named=True)))]
        coming = goals.filter(~pl.col("in_force"))
        if not coming.is_empty():
            since = lang.date(coming["in_force_from"][0])
            short = coming.filter(pl.col("residents_to_enrol") > 0)
            sentences.append(
                lang.t("coming_all_met", since=since)
                if short.is_empty()
                else lang.t("coming_sentence", since=since, **self._cost(short.row(0, named=True)))
            )
        return {"sentence": " ".join(sentences), "rows": rows}

    def _cost(self, g: dict[str, Any]) -> dict[str, str]:
        """A goal's name, its enrolments and their cost, formatted for a sentence."""
        lang = self.lang
        return {
            "goal": self._goal_name(g),
            "residents": lang.number(g["residents_to_enrol"]),
            "monthly": lang.rupiah(g["monthly_cost_idr"]),
            "annual": lang.rupiah(g["annual_cost_idr"]),
        }

    def _goal_name(self, g: dict[str, Any]) -> str:
        """The goal as a reader names it: its kind and its id, a tier by its name."""
        kind = g["goal_kind"]
        name = self.lang.t(f"tier_{g['goal']}") if kind == "tier" else g["goal"]
        return self.lang.t(f"goal_{kind}", name=name)

    def bridge(self) -> dict[str, Any]:
        r, lang, bridge = self.row, self.lang, self.of["bridge"]
        counts = dict(zip(bridge["category"], bridge["rows"], strict=True))
        registered, resident = r["registered"], counts.get("resident", 0)
        if not registered:
            return {"sentence": lang.t("bridge_none"), "chart": None, "rows": []}
        steps = [self._step("bar_registered", registered, 0, registered, "total")]
        level = registered
        removed = [c for c in BRIDGE_CATEGORIES if c != "resident"]
        for category in removed:
            rows = counts.get(category, 0)
            steps.append(self._step(f"cat_{category}", rows, level, level - rows, "removed"))
            level -= rows
        steps.append(self._step("cat_resident", resident, 0, resident, "total"))
        largest = max(removed, key=lambda c: (counts.get(c, 0), -removed.index(c)))
        figures = {
            "coverage": lang.pct(r["coverage_registered"]),
            "registered": lang.number(registered),
            "population": lang.number(r["population"]),
            "resident": lang.number(resident),
            "removed": lang.number(registered - resident),
            "largest": lang.t(f"cat_{largest}").lower(),
            "largest_rows": lang.number(counts.get(largest, 0)),
            "region": r["region_name"],
            "reconciled": lang.pct(r["coverage_reconciled"]),
        }
        over = (r["coverage_registered"] or 0) > 1
        sentence = lang.t("bridge_sentence_over" if over else "bridge_sentence", **figures)
        spec = charts.waterfall(
            steps,
            r["population"],
            f"{lang.t('line_population')} {lang.number(r['population'])}",
            lang.t("axis_rows"),
        )
        return {
            "sentence": sentence,
            "chart": charts.svg_data_uri(spec, lang.vega_locale()),
            "rows": [{"label": s["label"], "rows": s["text"]} for s in steps],
        }

    def _step(self, key: str, rows: int, start: int, end: int, kind: str) -> dict[str, Any]:
        return {
            "label": self.lang.t(key),
            "start": start,
            "end": end,
            "top": max(start, end),
            "text": self.lang.number(rows),
            "kind": kind,
        }

    def trend(self) -> dict[str, Any]:
        lang, trend = self.lang, self.of["trend"].sort("period")
        names = [lang.t(f"s_{s}") for s in SERIES]
        points = [
            {
                "month": lang.short_month(p["period"]),
                "order": i,
                "series": name,
                "value": p[s],
                "text": lang.pct(p[s]),
            }
            for i, p in enumerate(trend.iter_rows(named=True))
            for s, name in zip(SERIES, names, strict=True)
            if p[s] is not None
        ]
        first, last = trend.row(0, named=True), trend.row(-1, named=True)
        if trend.height == 1:
            sentence = lang.t(
                "trend_single", month=lang.month(last["period"]),
                cov=lang.pct(last[SERIES[0]]), act=lang.pct(last[SERIES[1]]),
                rec=lang.pct(last[SERIES[2]]),
            )  # fmt: skip
        else:
            sentence = lang.t(
                "trend_sentence",
                first=lang.month(first["period"]), last=lang.month(last["period"]),
                first_cov=lang.pct(first[SERIES[0]]), last_cov=lang.pct(last[SERIES[0]]),
                first_act=lang.pct(first[SERIES[1]]), last_act=lang.pct(last[SERIES[1]]),
                first_rec=lang.pct(first[SERIES[2]]), last_rec=lang.pct(last[SERIES[2]]),
            )  # fmt: skip
        spec = charts.trend(points, names, lang.t("axis_share"))
        return {"sentence": sentence, "chart": charts.svg_data_uri(spec, lang.vega_locale())}

    def movements(self) -> dict[str, Any]:
        lang, moves = self.lang, self.of["movements"]
        previous = first_day(month_before(self.row["period"].strftime("%Y-%m")))
        if moves.is_empty() or not moves["previous_published"][0]:
            return {
                "sentence": lang.t("movements_none", previous=lang.month(previous)),
                "cards": [],
                "residents": [],
            }
        m = moves.row(0, named=True)
        deactivated = sum(m[c] or 0 for c in CARD_ROWS if c.startswith("deactivated"))
        sentence = lang.t(
            "movements_sentence",
            previous=lang.month(m["previous_period"]),
            new=lang.number(m["cards_new"]), ended=lang.number(m["cards_ended"]),
            deactivated=lang.number(deactivated), arrears=lang.number(m["deactivated_arrears"]),
            activated=lang.number(m["activated"]), newly_covered=lang.number(m["newly_covered"]),
            lost=lang.number(m["lost_coverage"]), lapsed=lang.number(m["lapsed"]),
        )  # fmt: skip
        return {
            "sentence": sentence,
            "cards": [{"label": lang.t(f"mv_{c}"), "n": lang.number(m[c])} for c in CARD_ROWS],
            "residents": [
                {"label": lang.t(f"mv_{c}"), "n": lang.number(m[c])} for c in RESIDENT_ROWS
            ],
        }

    def segments(self) -> dict[str, Any]:
        r, lang, seg = self.row, self.lang, self.of["segments"]
        if seg.is_empty():
            return {"sentence": lang.t("nothing"), "chart": None, "rows": []}
        inactive = r["registered"] - r["active_registered"]
        lowest = (
            seg.filter(pl.col("registered") > 0).sort("activity_of_registered").row(0, named=True)
        )
        totals = {key: _sum(seg, column) for column, key in REASONS.items()}
        reason = max(totals, key=lambda k: totals[k])
        population = r["population"]
        sentence = lang.t(
            "segments_sentence",
            activity=lang.pct(r["activity_of_population"]),
            active=lang.number(r["active_registered"]),
            population=lang.number(population),
            inactive=lang.number(inactive),
            inactive_share=lang.pct(inactive / population if population else None),
            coverage=lang.pct(r["coverage_registered"]),
            segment=lowest["segment"],
            segment_activity=lang.pct(lowest["activity_of_registered"]),
            reason=lang.t(reason if totals[reason] else "reason_none"),
            reason_rows=lang.number(totals[reason]),
        )
        rows = [
            {
                "segment": s["segment"],
                "registered": lang.number(s["registered"]),
                "active": lang.number(s["active"]),
                "activity": lang.pct(s["activity_of_registered"]),
                **{key: lang.number(s[column]) for column, key in REASONS.items()},
            }
            for s in seg.iter_rows(named=True)
        ]
        bars = [
            {
                "label": s["segment"],
                "value": s["activity_of_registered"] or 0,
                "text": f"{lang.pct(s['activity_of_registered'])} "
                f"({lang.number(s['active'])} / {lang.number(s['registered'])})",
            }
            for s in seg.iter_rows(named=True)
        ]
        spec = charts.bars(bars, lang.t("axis_activity_registered"))
        return {
            "sentence": sentence,
            "chart": charts.svg_data_uri(spec, lang.vega_locale()),
            "rows": rows,
            "reasons": [lang.t(key) for key in REASONS.values()],
        }

    def pbi(self) -> dict[str, Any]:
        r, lang, pbi = self.row, self.lang, self.of["pbi"]
        persons = dict(zip(pbi["category"], pbi["persons"], strict=True))
        listed = sum(n for c, n in persons.items() if c.startswith("listed_"))
        sentence = lang.t(
            "pbi_sentence",
            listed=lang.number(listed),
            active=lang.number(persons.get("listed_active_pbi", 0)),
            deceased=lang.number(persons.get("listed_deceased", 0)),
            not_member=lang.number(persons.get("listed_not_member", 0)),
            not_listed=lang.number(persons.get("pbi_not_listed", 0)),
            double=lang.number(r["double_funding_persons"]),
            double_idr=lang.rupiah(r["double_funding_idr"]),
        )
        rows = [
            {"label": lang.t(f"pbi_{p['category']}"), "n": lang.number(p["persons"]), "idr": ""}
            for p in pbi.iter_rows(named=True)
        ]
        rows.append(
            {
                "label": lang.t("double_row"),
                "n": lang.number(r["double_funding_persons"]),
                "idr": lang.rupiah(r["double_funding_idr"]),
            }
        )
        if r["eligibility_drift_persons"] is not None:
            rows.append(
                {
                    "label": lang.t("drift_row"),
                    "n": lang.number(r["eligibility_drift_persons"]),
                    "idr": "",
                }
            )
        return {"sentence": sentence, "rows": rows}

    def takeover(self) -> str:
        r, lang = self.row, self.lang
        if r["takeover_persons"] is None:
            return lang.t("takeover_na" if r["region_level"] == "province" else "takeover_none")
        if not r["takeover_persons"]:
            return lang.t("takeover_none")
        return lang.t(
            "takeover_sentence",
            persons=lang.number(r["takeover_persons"]),
            idr=lang.rupiah(r["takeover_idr"]),
            months=lang.number(r["takeover_arrears_months"]),
        )

    def groups(self) -> dict[str, Any]:
        lang, groups = self.lang, self.of["groups"]
        if groups.is_empty():
            return {"sentence": lang.t("groups_na"), "chart": None}
        sexes = [s for s in ("L", "P", "unknown") if s in set(groups["sex"])]
        band = {b: (lang.t("band_unknown") if b == "unknown" else b) for b in groups["age_band"]}
        rows = [
            {
                "band": band[g["age_band"]],
                "group": lang.t(f"sex_{g['sex']}"),
                "value": g["coverage_reconciled"] or 0,
                "text": lang.pct(g["coverage_reconciled"]),
            }
            for g in groups.iter_rows(named=True)
            if g["population"]
        ]
        lowest = groups.filter(
            (pl.col("population") > 0)
            & (pl.col("sex") != "unknown")
            & (pl.col("age_band") != "unknown")
        ).sort(["coverage_reconciled", "population"], descending=[False, True])  # fmt: skip
        if lowest.is_empty():
            return {"sentence": lang.t("nothing"), "chart": None}
        g = lowest.row(0, named=True)
        sentence = lang.t(
            "groups_sentence",
            sex=lang.t(f"sex_{g['sex']}"),
            band=band[g["age_band"]],
            rate=lang.pct(g["coverage_reconciled"]),
            uncovered=lang.number(g["population"] - g["covered_residents"]),
            population=lang.number(g["population"]),
        )
        spec = charts.grouped_bars(
            rows, [lang.t(f"sex_{s}") for s in sexes], lang.t("axis_age"),
            lang.t("axis_coverage_reconciled"),
        )  # fmt: skip
        return {"sentence": sentence, "chart": charts.svg_data_uri(spec, lang.vega_locale())}

    def data_quality(self) -> dict[str, Any]:
        lang, q = self.lang, self.quality
        received, quarantined = _sum(q, "rows_received"), _sum(q, "rows_quarantined")
        sentence = lang.t(
            "quality_sentence",
            quarantined=lang.number(quarantined),
            received=lang.number(received),
            share=lang.pct(quarantined / received if received else None),
        )
        rows = [
            {
                "source": lang.t(f"src_{s['source']}"),
                "received": lang.number(s["rows_received"]),
                "loaded": lang.number(s["rows_loaded"]),
                "quarantined": lang.number(s["rows_quarantined"]),
                "flagged": lang.number(s["rows_flagged"]),
                "reasons": "; ".join(
                    lang.t(
                        "reason_rows",
                        reason=lang.check(reason["check"]),
                        rows=lang.number(reason["rows"]),
                    )
                    for reason in s["top_reasons"]
                ),
            }
            for s in q.iter_rows(named=True)
        ]
        return {"sentence": sentence, "rows": rows}

    def footer(self) -> dict[str, Any]:
        lang, files = self.lang, self.published
        if files.is_empty():
            return {"sentence": lang.t("nothing"), "rows": []}
        p = files.row(0, named=True)
        # the denominators' Dukcapil extract (what marts.published.population_snapshot names),
        # worded from its file's row
        dukcapil = files.filter(pl.col("source") == "dukcapil")
        snapshot = (
            lang.t(
                "snapshot_file",
                file=dukcapil["file_name"][0],
                received=lang.date(dukcapil["received_at"][0].date()),
            )
            if dukcapil.height
            else p["population_snapshot"]
        )
        sentence = lang.t(
            "footer_sentence",
            published_at=lang.moment(p["published_at"]),
            snapshot=snapshot,
            region_list=p["region_list"],
            code_version=p["code_version"],
            rules_version=p["rules_version"],
        )
        rows = [
            {
                "source": lang.t(f"src_{f['source']}"),
                "file": f["file_name"],
                "received_at": lang.moment(f["received_at"]),
                "rows": lang.number(f["rows_received"]),
                "sha": f["sha256"][:12],
            }
            for f in files.iter_rows(named=True)
        ]
        return {"sentence": sentence, "rows": rows}
