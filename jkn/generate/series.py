"""Consecutive months: month 1 as ``generate`` writes it, each next month the last one's persons
and cards evolved by planted events, with the movement truth between them.

Every event kind is drawn from its own stream, ``rng_for(seed, "series:<kind>:<period>")``;
the events of one month touch disjoint cards (and disjoint persons), so each is seen on its
own. The README of the generator lists the kinds; ``events.parquet`` in each month's truth
folder names every planted event.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import polars as pl

from jkn.generate import core, defects, movements
from jkn.generate.model import GenerateOptions, GenerationResult, RegionPlan, rng_for, vocab
from jkn.generate.population import _clean_place, _ddmmyy, _names, all_kecamatans, days, region_ref
from jkn.generate.sources import PBI, SEG, SEGMENTS
from jkn.generate.writer import Progress
from jkn.periods import first_day, last_day, month_after

log = logging.getLogger(__name__)

# Defect kinds that break the link between a row and its resident by NIK: off in a series,
# so that "covered" is exact (the other defects stay as the options give them).
IDENTITY_KINDS = ("nik_excel_scientific", "nik_truncated", "nik_empty", "nik_typo")
# Random defects of month 1 that are planted events from month 2 on (known cards, one month).
PLANTED_DEFECTS = ("noka_zeros_stripped", "segment_old_name")

CARD_KINDS = (
    "card_ended",
    "card_moved_village",
    "card_moved_kecamatan",
    "card_moved_kabupaten",
    "segment_change",
    "deactivated_arrears",
    "deactivated_pbi",
    "deactivated_other",
    "activated",
    "migrant_second_card",
    "migrant_card_lost",
    "card_enrolment",
    "card_newborn",
    "segment_old_name",
    "noka_damaged",
)
PERSON_KINDS = (
    "death",
    "moved_out",
    "domicile_village",
    "domicile_kecamatan",
    "domicile_kabupaten",
    "birth",
)
EVENT_KINDS = PERSON_KINDS + CARD_KINDS
# Kinds that need two generated kab/kota, or a migrant already holding two cards (made by
# ``migrant_second_card``, so from the third month on).
NEEDS_TWO_REGIONS = ("card_moved_kabupaten", "domicile_kabupaten")
NEEDS_SECOND_CARD = ("migrant_card_lost",)
# Segments whose members pay their own premiums: where a card falls into arrears.
PAYING = [SEG["PBPU"], SEG["PPU_BU"], SEG["BP"]]

STATE_COLUMNS = (
    "NOKA",
    "person_id",
    "card_kind",
    "seg_idx",
    "active",
    "KELAS",
    "KET_NONAKTIF",
    "BULAN_TUNGGAKAN",
    "tmt",
    "HUBUNGAN_KELUARGA",
    "KODE_FASKES",
    "bpjs_village",
    "card_region",
)
EVENT_SCHEMA = {
    "period": pl.String,
    "kind": pl.String,
    "region_code": pl.String,
    "person_id": pl.Int64,
    "noka": pl.String,
    "before": pl.String,
    "after": pl.String,
}


@dataclass
class SeriesRates:
    """Planted events per month and kab/kota, each a fraction of the kab/kota's residents at
    the month's start (Dukcapil HIDUP); every kind is planted at least ``minimum`` times where
    it has candidates. ``newborn_card`` is the share of births that get a card."""

    minimum: int = 3
    death: float = 0.003
    moved_out: float = 0.003
    domicile_village: float = 0.003
    domicile_kecamatan: float = 0.003
    domicile_kabupaten: float = 0.003
    birth: float = 0.003
    card_ended: float = 0.004
    card_moved_village: float = 0.003
    card_moved_kecamatan: float = 0.003
    card_moved_kabupaten: float = 0.003
    segment_change: float = 0.003
    deactivated_arrears: float = 0.005
    deactivated_pbi: float = 0.003
    deactivated_other: float = 0.003
    activated: float = 0.005
    migrant_second_card: float = 0.003
    migrant_card_lost: float = 0.003
    card_enrolment: float = 0.004
    newborn_card: float = 0.6
    segment_old_name: float = 0.003
    noka_damaged: float = 0.003

    def count(self, kind: str, base: int) -> int:
        return max(self.minimum, round(getattr(self, kind) * base))


def series_options(options: GenerateOptions) -> GenerateOptions:
    """The options a series runs with: identity damage (``IDENTITY_KINDS``), the linkage
    preset and guest cards off; everything else as given."""
    rates = dataclasses.replace(options.rates, **dict.fromkeys(IDENTITY_KINDS, 0.0))
    return dataclasses.replace(options, rates=rates, linkage=False, guests=None)


@dataclass
class _Villages:
    """The generated kab/kota's villages as arrays, grouped by kecamatan and kab/kota."""

    codes: list[str]
    kec: np.ndarray  # kecamatan index of each village
    kab: np.ndarray  # plan index of each village
    kec_first: np.ndarray
    kec_size: np.ndarray
    kab_first_kec: np.ndarray
    kab_kecs: np.ndarray
    kab_first: np.ndarray
    kab_size: np.ndarray
    index: pl.DataFrame  # village → vidx

    @classmethod
    def of(cls, plans: list[RegionPlan]) -> _Villages:
        codes: list[str] = []
        kab: list[int] = []
        for i, plan in enumerate(plans):
            vill = region_ref(plan.code).villages.tolist()
            codes += vill
            kab += [i] * len(vill)
        kec_code = [c.rsplit(".", 1)[0] for c in codes]
        _, kec = np.unique(np.array(kec_code), return_inverse=True)
        kab_arr = np.array(kab)
        kec_first = np.array([np.flatnonzero(kec == k)[0] for k in range(kec.max() + 1)])
        kec_size = np.bincount(kec)
        kec_kab = kab_arr[kec_first]
        return cls(
            codes=codes,
            kec=kec,
            kab=kab_arr,
            kec_first=kec_first,
            kec_size=kec_size,
            kab_first_kec=np.array([np.flatnonzero(kec_kab == i)[0] for i in range(len(plans))]),
            kab_kecs=np.bincount(kec_kab, minlength=len(plans)),
            kab_first=np.array([np.flatnonzero(kab_arr == i)[0] for i in range(len(plans))]),
            kab_size=np.bincount(kab_arr, minlength=len(plans)),
            index=pl.DataFrame(
                {"village": codes, "vidx": np.arange(len(codes))},
                schema={"village": pl.String, "vidx": pl.Int64},
            ),
        )

    def vidx(self, villages: pl.Series) -> np.ndarray:
        frame = pl.DataFrame({"village": villages})
        joined = frame.join(self.index, on="village", how="left", maintain_order="left")
        return joined["vidx"].to_numpy().copy()

    def name(self, vidx: np.ndarray) -> pl.Series:
        return vocab(self.codes, vidx)

    def same_kecamatan(self, vidx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Another village of the same kecamatan (callers pick villages whose kecamatan has
        at least two)."""
        k = self.kec[vidx]
        size = self.kec_size[k]
        step = rng.integers(1, np.maximum(size, 2))
        return self.kec_first[k] + (vidx - self.kec_first[k] + step) % size

    def other_kecamatan(self, vidx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A village of another kecamatan of the same kab/kota."""
        kab = self.kab[vidx]
        n = self.kab_kecs[kab]
        local = self.kec[vidx] - self.kab_first_kec[kab]
        k = self.kab_first_kec[kab] + (local + rng.integers(1, np.maximum(n, 2))) % n
        return self.kec_first[k] + rng.integers(0, self.kec_size[k])

    def other_kabupaten(self, vidx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A village of another generated kab/kota."""
        n = len(self.kab_size)
        kab = (self.kab[vidx] + rng.integers(1, max(n, 2), len(vidx))) % n
        return self.kab_first[kab] + rng.integers(0, self.kab_size[kab])


def _copies(plan: RegionPlan, rate: float) -> tuple[int, int]:
    """A landing kab/kota's in-file copies: as many as ``core`` gives a month built whole
    (``rate`` × registered), active in the plan's share."""
    n = round(rate * plan.registered)
    return n, round(n * plan.active / plan.registered) if plan.registered else 0


class _Month:
    """One transition: the month's persons and cards being evolved, and its events."""

    def __init__(
        self,
        persons: pl.DataFrame,
        cards: pl.DataFrame,
        plans: list[RegionPlan],
        seed: int,
        period: str,
        rates: SeriesRates,
        villages: _Villages,
        top_noka: int,
        landing: list[RegionPlan] | None = None,
        copy_rate: float = 0.0,
    ) -> None:
        self.persons, self.cards = persons, cards
        # the plans the month lands on exactly (a series' last month), and the in-file copies
        # each kab/kota's rows will have: (copies, of which active), as ``core`` sizes them
        self.landing = {plan.code: plan for plan in landing} if landing else None
        self.copies = {plan.code: _copies(plan, copy_rate) for plan in (landing or [])}
        self.top_noka = top_noka  # the highest card number ever given: never given again
        self.newborns: pl.DataFrame | None = None
        self.plans, self.seed, self.period, self.rates = plans, seed, period, rates
        self.villages = villages
        self.start, self.end = days(first_day(period)), days(last_day(period))
        residents = persons.filter(kind="resident")["region_code"].value_counts()
        self.base = dict(zip(residents["region_code"], residents["count"], strict=True))
        self.person_touched = np.zeros(persons.height, dtype=bool)
        self.card_touched = np.zeros(cards.height, dtype=bool)
        self.removed = np.zeros(cards.height, dtype=bool)
        self.events: list[pl.DataFrame] = []

    def rng(self, kind: str) -> np.random.Generator:
        return rng_for(self.seed, f"series:{kind}:{self.period}")

    def pick(
        self,
        kind: str,
        mask: np.ndarray,
        region: np.ndarray,
        rng: np.random.Generator,
        counts: dict[str, int] | None = None,
    ) -> np.ndarray:
        """Indices drawn per kab/kota among ``mask`` (sorted), ``count`` of the kind each (or
        ``counts[kab/kota]``, where given: a landing's own counts)."""
        out = []
        for plan in self.plans:
            cands = np.flatnonzero(mask & (region == plan.code))
            want = (
                self.rates.count(kind, self.base.get(plan.code, 0))
                if counts is None
                else counts.get(plan.code, 0)
            )
            k = min(len(cands), want)
            if k:
                out.append(np.sort(rng.choice(cands, size=k, replace=False)))
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def log(
        self,
        kind: str,
        region: pl.Series,
        person_id: pl.Series,
        noka: pl.Series | None = None,
        before: pl.Series | None = None,
        after: pl.Series | None = None,
    ) -> None:
        n = len(region)
        none = pl.Series([None] * n, dtype=pl.String)
        self.events.append(
            pl.DataFrame(
                {
                    "period": [self.period] * n,
                    "kind": [kind] * n,
                    "region_code": region,
                    "person_id": person_id,
                    "noka": none if noka is None else noka,
                    "before": none if before is None else before.cast(pl.String),
                    "after": none if after is None else after.cast(pl.String),
                },
                schema=EVENT_SCHEMA,
            )
        )

    # --- persons ---------------------------------------------------------------------

    def person_events(self) -> None:
        resident = (self.persons["kind"] == "resident").to_numpy()
        region = self.persons["region_code"].to_numpy()
        for kind, status in (("death", "dead"), ("moved_out", "moved")):
            rng = self.rng(kind)
            idx = self.pick(kind, resident & ~self.person_touched, region, rng)
            self._leave(kind, status, idx, rng)
        p = self.persons
        vidx = self.villages.vidx(p["village"])
        multi = self.villages.kec_size[self.villages.kec[vidx]] >= 2
        moves = [
            ("domicile_village", multi, self.villages.same_kecamatan),
            ("domicile_kecamatan", np.ones(len(vidx), bool), self.villages.other_kecamatan),
        ]
        if len(self.plans) > 1:
            moves.append(
                ("domicile_kabupaten", np.ones(len(vidx), bool), self.villages.other_kabupaten)
            )
        for kind, ok, move in moves:
            rng = self.rng(kind)
            idx = self.pick(kind, resident & ok & ~self.person_touched, region, rng)
            self.person_touched[idx] = True
            new = move(vidx[idx], rng)
            vidx[idx] = new
            sel = p[idx]
            after = self.villages.name(new)
            self.log(kind, sel["region_code"], sel["person_id"], before=sel["village"], after=after)
            p = p.with_columns(village=pl.Series(p["village"]).scatter(idx, after))
        kab_codes = [plan.code for plan in self.plans]
        self.persons = p.with_columns(
            region_code=pl.when(pl.col("kind") != "migrant")
            .then(vocab(kab_codes, self.villages.kab[vidx]))
            .otherwise(pl.col("region_code")),
            home_kec=pl.when(pl.col("kind") != "migrant")
            .then(pl.col("village").str.slice(0, 8))
            .otherwise(pl.col("home_kec")),
        )
        self.births()
        if self.landing is not None:
            self._land_population()

    def _land_population(self) -> None:
        """Where births could not land the population (more residents than the plan, or too
        few mothers), further residents move out; then every kab/kota has the plan's."""
        assert self.landing is not None
        now = self._residents()
        extra = {c: max(0, now.get(c, 0) - plan.population) for c, plan in self.landing.items()}
        p = self.persons
        resident = (p["kind"] == "resident").to_numpy()
        rng = self.rng("landing:moved_out")
        idx = self.pick(
            "moved_out", resident & ~self.person_touched, p["region_code"].to_numpy(), rng, extra
        )
        self._leave("moved_out", "moved", idx, rng)
        now = self._residents()
        for code, plan in self.landing.items():
            if now.get(code, 0) != plan.population:
                raise ValueError(
                    f"{code}: the series cannot land on a population of {plan.population} "
                    f"({now.get(code, 0)} residents after the month's events)"
                )

    def _leave(self, kind: str, status: str, idx: np.ndarray, rng: np.random.Generator) -> None:
        """Residents ``idx`` die or move out (``status``) on a day of the month."""
        p = self.persons
        self.person_touched[idx] = True
        when = self.start + rng.integers(0, self.end - self.start + 1, len(idx))
        sel = p[idx]
        self.log(kind, sel["region_code"], sel["person_id"], before=sel["village"])
        self.persons = p.with_columns(
            kind=pl.Series(p["kind"]).scatter(idx, pl.Series([status] * len(idx), dtype=pl.String)),
            status_date=pl.Series(p["status_date"]).scatter(idx, pl.Series(when, dtype=pl.Int64)),
        )

    def _residents(self) -> dict[str, int]:
        counts = self.persons.filter(kind="resident")["region_code"].value_counts()
        return dict(zip(counts["region_code"], counts["count"], strict=True))

    def births(self) -> None:
        p = self.persons
        rng = self.rng("birth")
        age = (self.end - p["dob"].to_numpy()) / 365.25
        mother = (
            (p["kind"] == "resident").to_numpy()
            & p["female"].to_numpy()
            & (age >= 18)
            & (age <= 45)
            & ~self.person_touched
        )
        counts = None
        if self.landing is not None:  # births are the last person event: they land population
            now = self._residents()
            counts = {
                c: max(0, plan.population - now.get(c, 0)) for c, plan in self.landing.items()
            }
        idx = self.pick("birth", mother, p["region_code"].to_numpy(), rng, counts)
        n = len(idx)
        if not n:
            return
        female = rng.random(n) < 0.5
        dob = self.start + rng.integers(0, self.end - self.start + 1, n)
        kecs = all_kecamatans().select("kec_code", "kec_name")
        babies = (
            p[idx]
            .with_columns(
                person_id=pl.int_range(n, dtype=pl.Int64) + p.height,  # ids run from 0 without gaps
                role=pl.lit(2, dtype=p["role"].dtype),
                female=pl.Series(female),
                dob=pl.Series(dob),
                issue_kec=pl.col("home_kec"),
                name=_names(female, np.arange(n), np.full(n, 2), self.plans[0].code[:2], rng),
                kind=pl.lit("resident"),
                status_date=pl.lit(-1, dtype=pl.Int64),
                old_region=pl.lit(False),
                nik_prefix=pl.col("home_kec").str.replace_all(".", "", literal=True),
            )
            .with_columns(nik_date=_ddmmyy(pl.col("dob"), pl.col("female")))
            .join(kecs, left_on="issue_kec", right_on="kec_code", how="left", maintain_order="left")
            .with_columns(birthplace=_clean_place(pl.col("kec_name")))
            .drop("kec_name")
        )
        taken = (
            p.select("nik_prefix", "nik_date", serial=pl.col("nik").str.slice(12, 4).cast(pl.Int64))
            .group_by("nik_prefix", "nik_date")
            .agg(pl.col("serial").max())
        )
        babies = babies.join(
            taken, on=["nik_prefix", "nik_date"], how="left", maintain_order="left"
        )
        serial = (
            pl.col("serial").fill_null(0)
            + 1
            + pl.int_range(pl.len()).over("nik_prefix", "nik_date", order_by="person_id")
        )
        babies = babies.with_columns(
            nik=pl.col("nik_prefix") + pl.col("nik_date") + serial.cast(pl.String).str.zfill(4)
        ).select(p.columns)
        if (
            babies["nik"].str.len_chars().max() != 16
            or babies["nik"].is_in(p["nik"].implode()).any()
        ):
            raise ValueError("a newborn's NIK could not be given")  # pragma: no cover
        self.log("birth", babies["region_code"], babies["person_id"], after=babies["village"])
        self.persons = pl.concat([p, babies])
        self.person_touched = np.concatenate([self.person_touched, np.ones(n, dtype=bool)])
        self.newborns = babies

    # --- cards -----------------------------------------------------------------------

    def card_events(self) -> None:
        c = self.cards
        kinds = c.join(
            self.persons.select("person_id", person_kind="kind"),
            on="person_id",
            how="left",
            maintain_order="left",
        )["person_kind"].to_numpy()
        migrant = kinds == "migrant"
        region = c["card_region"].to_numpy()
        seg = c["seg_idx"].to_numpy()
        active = c["active"].to_numpy()
        ordinary = ~migrant

        rng = self.rng("card_ended")
        idx = self.pick("card_ended", ordinary & ~self.card_touched, region, rng)
        self._remove("card_ended", idx)

        vidx = self.villages.vidx(c["bpjs_village"])
        multi = self.villages.kec_size[self.villages.kec[vidx]] >= 2
        moves = [
            ("card_moved_village", multi, self.villages.same_kecamatan),
            ("card_moved_kecamatan", np.ones(len(vidx), bool), self.villages.other_kecamatan),
        ]
        if len(self.plans) > 1:
            moves.append(
                ("card_moved_kabupaten", np.ones(len(vidx), bool), self.villages.other_kabupaten)
            )
        for kind, ok, move in moves:
            rng = self.rng(kind)
            idx = self.pick(kind, ordinary & ok & ~self.card_touched, region, rng)
            self.card_touched[idx] = True
            new = move(vidx[idx], rng)
            vidx[idx] = new
            sel = self.cards[idx]
            after = self.villages.name(new)
            self.log(
                kind, sel["card_region"], sel["person_id"], sel["NOKA"], sel["bpjs_village"], after
            )
            self.cards = self.cards.with_columns(
                bpjs_village=pl.Series(self.cards["bpjs_village"]).scatter(idx, after)
            )
        kab_codes = [plan.code for plan in self.plans]
        self.cards = self.cards.with_columns(card_region=vocab(kab_codes, self.villages.kab[vidx]))

        pbpu = SEG["PBPU"]
        paying = np.isin(seg, PAYING)
        pbi = np.isin(seg, PBI)
        ppu = np.isin(seg, [SEG["PPU_BU"], SEG["PPU_PEMERINTAH"]])
        # (kind, candidates, new segment or None, new active, KET_NONAKTIF, arrears)
        changes = (
            ("segment_change", seg == pbpu, SEG["PBI_APBD"], True, "", 0),
            ("deactivated_arrears", active & paying, None, False, "MENUNGGAK", 1),
            ("deactivated_pbi", active & pbi, None, False, "PBI_DINONAKTIFKAN", 0),
            ("deactivated_other", active & ppu, None, False, "PHK", 0),
            ("activated", ~active, None, True, "", 0),
        )
        for kind, ok, new_seg, new_active, ket, arrears in changes:
            rng = self.rng(kind)
            idx = self.pick(kind, ordinary & ok & ~self.card_touched, region, rng)
            self._status(kind, idx, rng, new_seg, new_active, ket, arrears)

        # persons unknown to Dukcapil: one more card for some, one of two ended for others
        holders = self.cards.select(
            held=pl.len().over("person_id"), later=~pl.col("person_id").is_first_distinct()
        )
        held, later = holders["held"].to_numpy(), holders["later"].to_numpy()
        rng = self.rng("migrant_card_lost")
        idx = self.pick("migrant_card_lost", migrant & (held >= 2) & later, region, rng)
        self._remove("migrant_card_lost", idx)
        rng = self.rng("migrant_second_card")
        idx = self.pick(
            "migrant_second_card", migrant & (held == 1) & ~self.card_touched, region, rng
        )
        self.card_touched[idx] = True
        second = self.cards[idx].with_columns(
            card_kind=pl.lit("duplicate"),
            seg_idx=pl.lit(pbpu, dtype=pl.Int64),
            active=pl.lit(True),
            KELAS=pl.lit("3"),
            KET_NONAKTIF=pl.lit(""),
            BULAN_TUNGGAKAN=pl.lit("0"),
            tmt=pl.lit(self.start, dtype=pl.Int64),
        )
        self._add("migrant_second_card", second, rng)

        # residents enrolling, and newborns
        have = self.cards["person_id"].unique().implode()
        p = self.persons
        uncovered = (
            (p["kind"] == "resident")
            & ~p["person_id"].is_in(have)
            & ~pl.Series(self.person_touched)
        ).to_numpy()
        rng = self.rng("card_enrolment")
        idx = self.pick("card_enrolment", uncovered, p["region_code"].to_numpy(), rng)
        self._enrol(idx, rng)
        babies = self.newborns
        if babies is not None:
            rng = self.rng("card_newborn")
            picks = []
            for plan in self.plans:  # at least one newborn a kab/kota with births
                born = np.flatnonzero((babies["region_code"] == plan.code).to_numpy())
                k = max(1, round(self.rates.newborn_card * len(born))) if len(born) else 0
                picks.append(np.sort(rng.choice(born, size=k, replace=False)))
            take = np.concatenate(picks)
            segs = np.full(len(take), SEG["PBI_APBD"])
            self._add("card_newborn", self._new_cards(babies[take], segs, rng), rng)
        if self.landing is not None:
            self._land_cards()

    def _status(
        self,
        kind: str,
        idx: np.ndarray,
        rng: np.random.Generator,
        new_seg: int | None,
        new_active: bool,
        ket: str,
        arrears: int,
    ) -> None:
        """Cards ``idx`` change segment (``new_seg``) or status, with the reason and months of
        arrears (1–3 where ``arrears``) BPJS writes."""
        self.card_touched[idx] = True
        sel = self.cards[idx]
        months = rng.integers(1, 4, len(idx)) * arrears
        before = (
            vocab(SEGMENTS, sel["seg_idx"].to_numpy())
            if new_seg is not None
            else vocab(("NONAKTIF", "AKTIF"), sel["active"].cast(pl.Int64).to_numpy())
        )
        after = pl.Series(
            ["PBI_APBD" if new_seg is not None else ("AKTIF" if new_active else "NONAKTIF")]
            * len(idx),
            dtype=pl.String,
        )
        self.log(kind, sel["card_region"], sel["person_id"], sel["NOKA"], before, after)
        cols = {
            "active": pl.Series([new_active] * len(idx), dtype=pl.Boolean),
            "KET_NONAKTIF": pl.Series([ket] * len(idx), dtype=pl.String),
            "BULAN_TUNGGAKAN": pl.Series(months, dtype=pl.Int64).cast(pl.String),
        }
        if new_seg is not None:
            cols["seg_idx"] = pl.Series([new_seg] * len(idx), dtype=pl.Int64)
        self.cards = self.cards.with_columns(
            pl.Series(self.cards[k]).scatter(idx, v).alias(k) for k, v in cols.items()
        )

    def _enrol(self, idx: np.ndarray, rng: np.random.Generator) -> None:
        """Residents ``idx`` enrol: a new card each, half ``PBI_APBD`` and half ``PBPU``."""
        segs = np.where(rng.random(len(idx)) < 0.5, SEG["PBI_APBD"], SEG["PBPU"])
        self._add("card_enrolment", self._new_cards(self.persons[idx], segs, rng), rng)

    def _card_state(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per card: kept (not ended this month), of a person Dukcapil knows, region, active."""
        kinds = self.cards.join(
            self.persons.select("person_id", person_kind="kind"),
            on="person_id",
            how="left",
            maintain_order="left",
        )["person_kind"].to_numpy()
        return (
            ~self.removed,
            kinds != "migrant",
            self.cards["card_region"].to_numpy(),
            self.cards["active"].to_numpy(),
        )

    def _land_cards(self) -> None:
        """The last month lands on its plans: registered rows (the cards kept plus the in-file
        copies ``_bpjs_month`` will write) through further enrolments or ended cards, then
        active rows through further activations or deactivations for arrears. Each is logged
        as its kind; none touches a card or person another event of the month touched."""
        assert self.landing is not None
        kept, ordinary, region, _ = self._card_state()
        enrol: dict[str, int] = {}
        end: dict[str, int] = {}
        for code, plan in self.landing.items():
            diff = plan.registered - self.copies[code][0] - int((kept & (region == code)).sum())
            (enrol if diff > 0 else end)[code] = abs(diff)
        rng = self.rng("landing:card_ended")
        self._remove(
            "card_ended",
            self.pick("card_ended", ordinary & kept & ~self.card_touched, region, rng, end),
        )
        p = self.persons
        uncovered = (
            (p["kind"] == "resident")
            & ~p["person_id"].is_in(self.cards["person_id"].unique().implode())
            & ~pl.Series(self.person_touched)
        ).to_numpy()
        rng = self.rng("landing:card_enrolment")
        self._enrol(
            self.pick("card_enrolment", uncovered, p["region_code"].to_numpy(), rng, enrol), rng
        )

        kept, ordinary, region, active = self._card_state()
        up: dict[str, int] = {}
        down: dict[str, int] = {}
        for code, plan in self.landing.items():
            have = int((kept & active & (region == code)).sum())
            diff = plan.active - self.copies[code][1] - have
            (up if diff > 0 else down)[code] = abs(diff)
        free = ordinary & kept & ~self.card_touched
        rng = self.rng("landing:activated")
        idx = self.pick("activated", free & ~active, region, rng, up)
        self._status("activated", idx, rng, None, True, "", 0)
        paying = np.isin(self.cards["seg_idx"].to_numpy(), PAYING)
        rng = self.rng("landing:deactivated_arrears")
        idx = self.pick("deactivated_arrears", free & active & paying, region, rng, down)
        self._status("deactivated_arrears", idx, rng, None, False, "MENUNGGAK", 1)

        kept, _, region, active = self._card_state()
        for code, plan in self.landing.items():
            mine = kept & (region == code)
            got = (
                int(mine.sum()) + self.copies[code][0],
                int((mine & active).sum()) + self.copies[code][1],
            )
            if got != (plan.registered, plan.active):
                raise ValueError(
                    f"{code}: the series cannot land on {plan.registered} registered and "
                    f"{plan.active} active rows ({got[0]} and {got[1]} after the month's events)"
                )

    def _new_cards(
        self, persons: pl.DataFrame, segs: np.ndarray, rng: np.random.Generator
    ) -> pl.DataFrame:
        faskes = self.cards.group_by("card_region").agg(pl.col("KODE_FASKES").first())
        role = persons["role"].cast(pl.Int64).to_numpy()
        rel = np.where((role == 1) & persons["female"].to_numpy(), 4, role)
        return (
            persons.select(
                "person_id",
                card_kind=pl.lit("primary"),
                seg_idx=pl.Series(segs.astype(np.int64)),
                active=pl.lit(True),
                KELAS=pl.lit("3"),
                KET_NONAKTIF=pl.lit(""),
                BULAN_TUNGGAKAN=pl.lit("0"),
                tmt=pl.lit(self.start, dtype=pl.Int64),
                HUBUNGAN_KELUARGA=vocab(("PESERTA", "SUAMI", "ANAK", "TAMBAHAN", "ISTRI"), rel),
                bpjs_village="village",
                card_region="region_code",
            )
            .join(faskes, on="card_region", how="left", maintain_order="left")
            .with_columns(NOKA=pl.lit(None, dtype=pl.String))
        )

    def _add(self, kind: str, new: pl.DataFrame, rng: np.random.Generator) -> None:
        n = new.height
        if not n:
            return
        nokas = self.top_noka + np.cumsum(rng.integers(1, 1200, n))
        self.top_noka = int(nokas[-1])
        new = new.with_columns(NOKA=pl.Series(nokas).cast(pl.String).str.zfill(13)).select(
            self.cards.columns
        )
        self.log(kind, new["card_region"], new["person_id"], new["NOKA"], after=new["bpjs_village"])
        self.cards = pl.concat([self.cards, new])
        self.card_touched = np.concatenate([self.card_touched, np.ones(n, dtype=bool)])
        self.removed = np.concatenate([self.removed, np.zeros(n, dtype=bool)])

    def _remove(self, kind: str, idx: np.ndarray) -> None:
        self.card_touched[idx] = True
        self.removed[idx] = True
        sel = self.cards[idx]
        self.log(
            kind, sel["card_region"], sel["person_id"], sel["NOKA"], before=sel["bpjs_village"]
        )

    def finish(self) -> tuple[pl.DataFrame, np.ndarray]:
        """The cards after the month's events and which of them the events touched."""
        keep = ~self.removed
        return self.cards.filter(pl.Series(keep)), self.card_touched[keep]


def _bpjs_month(
    month: _Month,
    cards: pl.DataFrame,
    touched: np.ndarray,
    damaged_before: pl.Series,
    rates: core.DefectRates,
) -> pl.DataFrame:
    """The month's BPJS rows as written: defects, the planted one-month defects, in-file
    copies, shuffled line order, bridge category."""
    seed, period, persons = month.seed, month.period, month.persons
    frame = cards.join(
        persons.select(
            "person_id",
            "female",
            "nik",
            "no_kk",
            "name",
            "dob",
            "old_region",
            "region_code",
            person_kind="kind",
        ),
        on="person_id",
        how="left",
        maintain_order="left",
    ).with_columns(
        **core.card_identity(),
        SEGMEN=vocab(SEGMENTS, cards["seg_idx"].to_numpy()),
        STATUS_PESERTA=vocab(("NONAKTIF", "AKTIF"), cards["active"].cast(pl.Int64).to_numpy()),
    )
    rng = rng_for(seed, f"series:defects:bpjs_membership:{period}")
    frame = defects.inject(frame, "bpjs_membership", rates, rng, persons["nik"], month.end)
    region = frame["card_region"].to_numpy()
    free = ~touched & ~frame["defects"].list.len().gt(0).to_numpy()
    old_rng = month.rng("segment_old_name")
    apbd = (frame["seg_idx"] == SEG["PBI_APBD"]).to_numpy()
    old = month.pick("segment_old_name", free & apbd, region, old_rng)
    noka_rng = month.rng("noka_damaged")
    fresh = ~frame["NOKA"].is_in(damaged_before.implode()).to_numpy()
    free[old] = False
    damaged = month.pick("noka_damaged", free & fresh, region, noka_rng)
    for kind, idx, after in (
        ("segment_old_name", old, defects.OLD_APBD_NAME),
        ("noka_damaged", damaged, None),
    ):
        sel = frame[idx]
        shown = (
            sel["NOKA"].str.strip_chars_start("0")
            if after is None
            else pl.Series([after] * len(idx))
        )
        month.log(
            kind,
            sel["card_region"],
            sel["person_id"],
            sel["NOKA"],
            sel["SEGMEN"] if after else sel["NOKA"],
            shown,
        )
    is_old = np.zeros(frame.height, dtype=bool)
    is_old[old] = True
    is_dam = np.zeros(frame.height, dtype=bool)
    is_dam[damaged] = True
    o, d = pl.Series(is_old), pl.Series(is_dam)
    frame = frame.with_columns(
        SEGMEN=pl.when(o).then(pl.lit(defects.OLD_APBD_NAME)).otherwise("SEGMEN"),
        NOKA=pl.when(d).then(pl.col("NOKA").str.strip_chars_start("0")).otherwise("NOKA"),
        defects=pl.when(o)
        .then(pl.col("defects").list.concat(pl.lit(["segment_old_name"])))
        .when(d)
        .then(pl.col("defects").list.concat(pl.lit(["noka_zeros_stripped"])))
        .otherwise("defects"),
        expected=pl.when(d).then(pl.lit("quarantined")).otherwise("expected"),
    )
    frame = frame.with_columns(_fmt=pl.Series(rng.integers(0, 6, frame.height)))
    order = month.rng("order")
    if month.landing is None:
        n_copies = round(rates.noka_duplicate_in_file * frame.height)
        copies = np.sort(order.choice(frame.height, size=n_copies, replace=False))
    else:  # the counts the month landed on: per kab/kota, so many active and inactive
        active = frame["active"].to_numpy()
        picks = []
        for code, (n, n_active) in month.copies.items():
            for mask, k in ((active, n_active), (~active, n - n_active)):
                pool = np.flatnonzero(mask & (region == code))
                if k > len(pool):
                    raise ValueError(
                        f"{code}: {k} in-file copies planned among {len(pool)} cards of that "
                        "status; the plan is too small for the copy rate (raise its size)"
                    )
                picks.append(order.choice(pool, k, False))
        copies = np.sort(np.concatenate(picks)) if picks else np.zeros(0, dtype=np.int64)
    rows = core.with_file_copies(frame, copies, order).with_columns(
        active=pl.col("STATUS_PESERTA") == "AKTIF"
    )
    return rows.with_columns(bridge_category=core._bridge(rows))


def _shuffled(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """A re-ordered file: the same rows in a new line order."""
    return (
        frame.with_columns(_key=pl.Series(rng.permutation(frame.height)))
        .sort("_key")
        .drop("_key")
        .with_columns(line=pl.int_range(pl.len(), dtype=pl.Int64) + 2)
    )


def _write_movements(
    truth_dir: Path,
    period: str,
    views: tuple[pl.DataFrame, pl.DataFrame],
    before: tuple[pl.DataFrame, pl.DataFrame] | None,
    previous: str | None,
) -> None:
    cards, residents = views
    movements.card_movements(period, cards, before[0] if before else None, previous).write_parquet(
        truth_dir / "card_movements.parquet", compression="zstd", statistics=False
    )
    movements.resident_movements(
        period, residents, before[1] if before else None, previous
    ).write_parquet(truth_dir / "resident_movements.parquet", compression="zstd", statistics=False)


def _views(frames: dict[str, pl.DataFrame], period: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    bpjs = frames["bpjs_membership"]
    return movements.card_view(bpjs), movements.resident_view(frames["dukcapil"], bpjs, period)


def lead_in(
    plans: list[RegionPlan],
    rates: SeriesRates | None = None,
    transitions: int = 1,
    coverage: float = 0.001,
    activity: float = 0.003,
) -> list[RegionPlan]:
    """The plans of a series' first month whose last month (``transitions`` later) lands on
    ``plans`` (``generate_series(land_on=plans)``): the population the month's events are
    expected to take away (deaths, moves out, moves to another generated kab/kota, less
    births and moves in) added back, coverage ``coverage`` and activity ``activity`` of that
    population lower (so the trend rises into the landing month); mix and levers as given."""
    rates = rates or SeriesRates()
    n = len(plans)
    away = {
        plan.code: rates.count("domicile_kabupaten", plan.population) if n > 1 else 0
        for plan in plans
    }
    out = []
    for plan in plans:
        pop = plan.population
        arrive = sum(v for code, v in away.items() if code != plan.code) / max(n - 1, 1)
        net = (
            rates.count("death", pop)
            + rates.count("moved_out", pop)
            + away[plan.code]
            - arrive
            - rates.count("birth", pop)
        )
        first = max(1, round(pop + transitions * net))
        out.append(
            dataclasses.replace(
                plan,
                population=first,
                registered=round((plan.registered / pop - coverage) * first),
                active=round((plan.active / pop - activity) * first),
                mix=dict(plan.mix),
                levers=dict(plan.levers),
            )
        )
    return out


def generate_series(
    options: GenerateOptions,
    months: int,
    landing: Path,
    rates: SeriesRates | None = None,
    progress: Progress | None = None,
    land_on: list[RegionPlan] | None = None,
) -> list[GenerationResult]:
    """``months`` consecutive months from ``options.period``: month 1 exactly as
    ``generate(series_options(options), landing)`` writes it, each next month the last one's
    persons and cards evolved by planted events (``SeriesRates``). Each month's truth folder
    has, beside persons/rows/summary, ``card_movements.parquet`` and
    ``resident_movements.parquet`` (the movement truth since the month before) and, from month
    2 on, ``events.parquet`` (every planted event).

    ``land_on`` (one plan per generated kab/kota, e.g. a scenario's; month 1's plans from
    ``lead_in``) makes the last month hit those plans exactly: population, registered and
    active rows as ``summary.json``'s figures and ``marts.coverage`` count them. Births land
    the population (further moves out where it is above), further enrolments or ended cards
    the registered rows, further activations or deactivations for arrears the active ones;
    the last month's in-file copies are sized per kab/kota as a month built whole has them."""
    if months < 1:
        raise ValueError("a series has at least one month")
    if land_on is not None:
        if months < 2:
            raise ValueError("a series lands on a plan from its second month")
        if options.plans is None or [p.code for p in land_on] != [p.code for p in options.plans]:
            raise ValueError("land_on needs one plan per kab/kota of options.plans, in order")
    rates = rates or SeriesRates()
    opts = series_options(options)
    built = core.build(opts, progress)
    results = [core.write(opts, built, landing, progress)]
    views = _views(built.frames, opts.period)
    _write_movements(results[0].truth_dir, opts.period, views, None, None)
    villages = _Villages.of(built.plans)
    month_rates = dataclasses.replace(built.rates, **dict.fromkeys(PLANTED_DEFECTS, 0.0))
    persons = built.persons
    cards = built.cards.select(STATE_COLUMNS)
    dinsos = built.frames["dinsos_pbi"]
    bpjs = built.frames["bpjs_membership"]
    damaged = _damaged(bpjs)
    top_noka = int(cards["NOKA"].str.to_integer().max() or 0)  # type: ignore[arg-type]
    period = opts.period
    for number in range(2, months + 1):
        previous, period = period, month_after(period)
        last = land_on if number == months else None
        month = _Month(
            persons,
            cards,
            built.plans,
            opts.seed,
            period,
            rates,
            villages,
            top_noka,
            last,
            month_rates.noka_duplicate_in_file,
        )
        month.person_events()
        month.card_events()
        cards, touched = month.finish()
        top_noka = month.top_noka
        persons = month.persons
        bpjs = _bpjs_month(month, cards, touched, damaged, month_rates)
        damaged = _damaged(bpjs)
        duk = core._build_dukcapil(
            persons,
            month_rates,
            opts.seed,
            month.end,
            persons["nik"],
            label=f"series:defects:dukcapil:{period}",
        )
        frames = {
            "dukcapil": _shuffled(duk, month.rng("order:dukcapil")),
            "dinsos_pbi": _shuffled(dinsos, month.rng("order:dinsos_pbi")),
            "bpjs_membership": bpjs,
        }
        events = pl.concat(month.events) if month.events else pl.DataFrame(schema=EVENT_SCHEMA)
        counts = events.group_by("region_code", "kind").len().sort("region_code", "kind")
        extra = {
            "series": {
                "month": number,
                "first_period": opts.period,
                "previous_period": previous,
                "rates": asdict(rates),
                "events": {
                    code: {r["kind"]: r["len"] for r in counts.filter(region_code=code).to_dicts()}
                    for code in [p.code for p in built.plans]
                },
                **({"landed_on": [asdict(p) for p in last]} if last else {}),
            }
        }
        month_built = core.Built(built.plans, month_rates, month.end, persons, frames, cards)
        month_opts = dataclasses.replace(opts, period=period)
        result = core.write(month_opts, month_built, landing, progress, period, extra)
        for plan in last or []:
            fig = result.summary["figures"][plan.code]
            got = (fig["population"], fig["registered"], fig["active_registered"])
            if got != (plan.population, plan.registered, plan.active):  # pragma: no cover
                raise ValueError(f"{plan.code}: the month written has {got}, not its plan's")
        before, views = views, _views(frames, period)
        _write_movements(result.truth_dir, period, views, before, previous)
        events.write_parquet(
            result.truth_dir / "events.parquet", compression="zstd", statistics=False
        )
        results.append(result)
        log.info("series month %d (%s): %d planted events", number, period, events.height)
    return results


def _damaged(bpjs: pl.DataFrame) -> pl.Series:
    """The card numbers (as they read undamaged) written with their zeros stripped."""
    hit = bpjs.filter(pl.col("defects").list.contains("noka_zeros_stripped"))
    return hit["NOKA"].str.zfill(13)
