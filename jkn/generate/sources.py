"""The three extracts as logical frames (clean values plus truth), built from the persons."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import polars as pl

from jkn.domain import SEGMENTS as SEGMENT_CODES
from jkn.generate.model import DEFAULT_MIX, RegionPlan, plan_levers, rng_for, vocab
from jkn.generate.population import region_ref

log = logging.getLogger(__name__)

# The segments come from their one home (warehouse/rules/segments.csv); a card's ``seg_idx``
# indexes them, and the weights below are given by code.
SEGMENTS = list(SEGMENT_CODES)
SEG = {code: i for i, code in enumerate(SEGMENTS)}
PBI = [SEG["PBI_APBN"], SEG["PBI_APBD"]]


def _by_segment(weights: dict[str, float]) -> np.ndarray:
    """Weights given by segment code, as an array in the order of :data:`SEGMENTS`."""
    return np.array([weights.get(code, 0.0) for code in SEGMENTS])


CARD_KINDS = (
    "primary",
    "duplicate",
    "deceased",
    "moved_out",
    "domiciled_elsewhere",
    "not_in_population",
)
PRIMARY, DUPLICATE, DECEASED, NOT_IN_POPULATION = 0, 1, 2, 5


def _kind_codes(cards: pl.DataFrame) -> np.ndarray:
    codes = {k: i for i, k in enumerate(CARD_KINDS)}
    return cards["card_kind"].replace_strict(codes, return_dtype=pl.Int64).to_numpy()


KET_VALUES = ("", "MENUNGGAK", "PBI_DINONAKTIFKAN", "PHK", "MENINGGAL", "LAINNYA")
SEGMENT_P = _by_segment(
    {"PBI_APBN": 0.42, "PBI_APBD": 0.18, "PPU_PEMERINTAH": 0.07, "PPU_BU": 0.13, "PBPU": 0.17,
     "BP": 0.03}
)  # fmt: skip
MIGRANT_SEGMENT_P = _by_segment(
    {"PBI_APBN": 0.20, "PBI_APBD": 0.05, "PPU_PEMERINTAH": 0.10, "PPU_BU": 0.30, "PBPU": 0.32,
     "BP": 0.03}
)  # fmt: skip
# Probability a card is active, by segment (PBPU and PPU_BU lose the most: arrears).
ACTIVE_P = _by_segment(
    {"PBI_APBN": 0.90, "PBI_APBD": 0.93, "PPU_PEMERINTAH": 0.99, "PPU_BU": 0.80, "PBPU": 0.50,
     "BP": 0.92}
)  # fmt: skip
CARD_ACTIVE_FACTOR = {
    "primary": 1.0,
    "duplicate": 0.45,
    "deceased": 0.25,
    "moved_out": 0.6,
    "domiciled_elsewhere": 0.85,
    "not_in_population": 0.8,
}
# Segment of a further card given the first card's segment (rows: first, cols: further).
DUP_SEGMENT_P = np.array(
    [
        _by_segment(further)
        for further in (
            {
                "PBI_APBN": {"PBI_APBD": 0.40, "PBPU": 0.60},  # double funding / old PBPU
                # APBN / PPU_* (double funding)
                "PBI_APBD": {"PBI_APBN": 0.50, "PPU_PEMERINTAH": 0.10, "PPU_BU": 0.25,
                             "PBPU": 0.15},
                "PPU_PEMERINTAH": {"PBI_APBD": 0.50, "PBPU": 0.50},
                "PPU_BU": {"PBI_APBD": 0.50, "PBPU": 0.50},
                "PBPU": {"PBI_APBN": 0.70, "PBI_APBD": 0.30},
                "BP": {"PBPU": 1.00},
            }[first]
            for first in SEGMENTS
        )
    ]
)  # fmt: skip


@dataclass
class RegionCards:
    """The BPJS cards planned for one region, before status and defects."""

    plan: RegionPlan
    cards: pl.DataFrame


def _choose_covered(res: pl.DataFrame, count: int, rng: np.random.Generator) -> np.ndarray:
    """Covered residents: whole families in random order until ``count`` persons."""
    fams = res["family"].to_numpy()
    uniq, inv = np.unique(fams, return_inverse=True)
    order = rng.permutation(len(uniq))
    rank = np.empty(len(uniq), dtype=np.int64)
    rank[order] = np.arange(len(uniq))
    person_rank = np.lexsort((np.arange(len(fams)), rank[inv]))
    return res["person_id"].to_numpy()[person_rank[:count]]


def plan_cards(
    persons: pl.DataFrame,
    plans: list[RegionPlan],
    seed: int,
    n_copies: dict[str, int],
    migrant_duplicates: float = 0.0,
) -> list[RegionCards]:
    """Decide every card (person, segment, region, card kind) so the plans' counts are exact.

    ``migrant_duplicates`` (linkage preset) gives that share of the further cards to persons
    unknown to Dukcapil instead of covered residents; every count stays the same."""
    out: list[RegionCards] = []
    covered_all: set[int] = set()
    state = []
    for plan in plans:
        rng = rng_for(seed, f"cards:{plan.code}")
        mix = {**DEFAULT_MIX, **plan.mix}
        mine = persons.filter(pl.col("region_code") == plan.code)
        pop = plan.population
        k = {
            "duplicate": round(mix["duplicate"] * pop),
            "deceased": min(round(mix["deceased"] * pop), mine.filter(kind="dead").height),
            "moved_out": min(round(mix["moved_out"] * pop), mine.filter(kind="moved").height),
            "domiciled_elsewhere": round(mix["domiciled_elsewhere"] * pop) if len(plans) > 1 else 0,
            "not_in_population": mine.filter(kind="migrant").height,
        }
        base = plan.registered - n_copies[plan.code]
        covered = base - sum(k.values())
        if covered > pop:
            raise ValueError(
                f"{plan.code}: coverage too high for the mix ({covered} covered of {pop})"
            )
        if covered < 0:
            raise ValueError(f"{plan.code}: registered {plan.registered} below the mix's cards")
        res = mine.filter(kind="resident")
        cov_ids = _choose_covered(res, covered, rng)
        covered_all.update(cov_ids.tolist())
        state.append((plan, rng, mix, mine, k, cov_ids))

    alive_all = persons.filter(kind="resident")
    used_elsewhere: set[int] = set()
    for plan, rng, _mix, mine, k, cov_ids in state:
        pool = alive_all.filter(pl.col("region_code") != plan.code)["person_id"].to_numpy()
        pool = pool[~np.isin(pool, np.fromiter(covered_all | used_elsewhere, dtype=np.int64))]
        want = k["domiciled_elsewhere"]
        if want > len(pool):
            log.warning("%s: only %d persons domiciled elsewhere available", plan.code, len(pool))
            k["duplicate"] += want - len(pool)
            want = len(pool)
        else_ids = np.sort(rng.choice(pool, size=want, replace=False)) if want else pool[:0]
        used_elsewhere.update(else_ids.tolist())
        k["domiciled_elsewhere"] = want
        if k["duplicate"] > len(cov_ids):
            raise ValueError(f"{plan.code}: more further cards than covered residents")
        nip_ids = mine.filter(kind="migrant")["person_id"].to_numpy()
        if migrant_duplicates > 0:
            lrng = rng_for(seed, f"linkage:cards:{plan.code}")
            n_mig = min(round(migrant_duplicates * k["duplicate"]), len(nip_ids))
            dup_ids = np.sort(
                np.concatenate(
                    [
                        lrng.choice(cov_ids, size=k["duplicate"] - n_mig, replace=False),
                        lrng.choice(nip_ids, size=n_mig, replace=False),
                    ]
                )
            )
        else:
            dup_ids = np.sort(rng.choice(cov_ids, size=k["duplicate"], replace=False))
        dead_ids = np.sort(
            rng.choice(mine.filter(kind="dead")["person_id"].to_numpy(), k["deceased"], False)
        )
        moved_ids = np.sort(
            rng.choice(mine.filter(kind="moved")["person_id"].to_numpy(), k["moved_out"], False)
        )
        ids = np.concatenate([cov_ids, dup_ids, dead_ids, moved_ids, else_ids, nip_ids])
        card_kind = np.repeat(
            np.arange(len(CARD_KINDS)),
            [
                len(cov_ids),
                len(dup_ids),
                len(dead_ids),
                len(moved_ids),
                len(else_ids),
                len(nip_ids),
            ],
        )
        cards = pl.DataFrame({"person_id": ids, "card_kind": vocab(CARD_KINDS, card_kind)}).join(
            persons.select("person_id", "family", "role", "female", "village", "kind"),
            on="person_id",
            how="left",
            maintain_order="left",
        )
        cards = _segments(cards, rng)
        cards = pemda_share(cards, plan, rng_for(seed, f"levers:pemda_share:{plan.code}"))
        # BPJS' domicile: a village of this region (Dukcapil's one where it is here).
        ref = region_ref(plan.code)
        n = cards.height
        rand_village = vocab(ref.villages.tolist(), rng.integers(0, len(ref.villages), n))
        stale = pl.Series(rng.random(n) < 0.06)
        own = pl.col("village")
        cards = cards.with_columns(
            bpjs_village=pl.when(own.str.starts_with(plan.code + ".") & ~stale)
            .then(own)
            .otherwise(rand_village),
            card_region=pl.lit(plan.code),
        )
        out.append(RegionCards(plan=plan, cards=cards))
        log.info("%s: cards %s", plan.code, {"covered": len(cov_ids), **k})
    return out


def _segments(cards: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Segment per card: family-level for residents, by first card for further cards."""
    n = cards.height
    fam = cards["family"].to_numpy()
    uniq, inv = np.unique(fam, return_inverse=True)
    fam_seg = rng.choice(len(SEGMENTS), size=len(uniq), p=SEGMENT_P)[inv]
    kind = _kind_codes(cards)
    own_seg = rng.choice(len(SEGMENTS), size=n, p=SEGMENT_P)
    mig_seg = rng.choice(len(SEGMENTS), size=n, p=MIGRANT_SEGMENT_P)
    seg = np.where(kind == PRIMARY, fam_seg, own_seg)
    seg = np.where(kind == NOT_IN_POPULATION, mig_seg, seg)
    # Further cards: by the first card's segment.
    dup = np.flatnonzero(kind == DUPLICATE)
    if len(dup):
        pid = cards["person_id"].to_numpy()
        prim = np.flatnonzero((kind == PRIMARY) | (kind == NOT_IN_POPULATION))
        sorter = np.argsort(pid[prim])
        first = seg[prim][sorter[np.searchsorted(pid[prim], pid[dup], sorter=sorter)]]
        cum = DUP_SEGMENT_P.cumsum(axis=1)[first]
        u = rng.random(len(dup))[:, None]
        seg[dup] = np.minimum((u > cum).sum(axis=1), len(SEGMENTS) - 1)
    return cards.with_columns(seg_idx=pl.Series(seg.astype(np.int64)))


def pemda_share(cards: pl.DataFrame, plan: RegionPlan, rng: np.random.Generator) -> pl.DataFrame:
    """Move whole families' first cards between PBI_APBD and PBI_APBN until the region's
    PBI_APBD cards are about ``levers["pemda_share"]`` × population (a family of up to seven
    past it). Only families none of whose members holds a further card move, so every further
    card keeps its relation to the first (double funding is unchanged)."""
    target = plan_levers(plan).get("pemda_share")
    if target is None:
        return cards
    seg = cards["seg_idx"].to_numpy().copy()
    kind = _kind_codes(cards)
    fam = cards["family"].to_numpy()
    apbd, apbn = SEG["PBI_APBD"], SEG["PBI_APBN"]
    have, want = int((seg == apbd).sum()), round(target * plan.population)
    src, dst = (apbd, apbn) if have > want else (apbn, apbd)
    movable = (kind == PRIMARY) & ~np.isin(fam, fam[kind == DUPLICATE]) & (seg == src)
    fams, size = np.unique(fam[movable], return_counts=True)
    order = rng.permutation(len(fams))
    reached = np.cumsum(size[order]) >= abs(have - want)
    last = int(np.argmax(reached)) + 1 if reached.any() else len(order)
    seg[movable & np.isin(fam, fams[order[:last]])] = dst
    return cards.with_columns(seg_idx=pl.Series(seg.astype(np.int64)))


def pemda_arrears(cards: pl.DataFrame, plan: RegionPlan, seed: int) -> pl.DataFrame:
    """Pemda arrears: ``levers["pemda_arrears"]`` of the region's PBI_APBD cards (at least
    three where it is above 0) get BULAN_TUNGGAKAN 1–6 (mostly 1–2), status unchanged: the
    Pemda is behind on its own premiums (UHC Prioritas is barred while any remain)."""
    share = plan_levers(plan).get("pemda_arrears", 0.0)
    apbd = np.flatnonzero(cards["seg_idx"].to_numpy() == SEG["PBI_APBD"])
    if not share or not len(apbd):
        return cards
    rng = rng_for(seed, f"levers:pemda_arrears:{plan.code}")
    k = min(len(apbd), max(3, round(share * len(apbd))))
    idx = np.sort(rng.choice(apbd, size=k, replace=False))
    months = np.minimum(rng.geometric(0.5, k), 6)
    return cards.with_columns(
        BULAN_TUNGGAKAN=cards["BULAN_TUNGGAKAN"].scatter(
            idx, pl.Series(months.astype(np.int64)).cast(pl.String)
        )
    )


def arrears_months(n: int, rng: np.random.Generator) -> np.ndarray:
    """Months in arrears of a card suspended for arrears: 1–24, about 80% within 1–6."""
    return np.minimum(rng.geometric(0.25, n), 24)


def assign_status(
    cards: pl.DataFrame, copies_of: np.ndarray, active: int, rng: np.random.Generator
) -> np.ndarray:
    """Active flag per base card so active cards (copies counted twice) total ``active``."""
    n = cards.height
    p = ACTIVE_P[cards["seg_idx"].to_numpy()]
    factor = (
        cards["card_kind"].replace_strict(CARD_ACTIVE_FACTOR, return_dtype=pl.Float64).to_numpy()
    )
    p = np.clip(p * factor, 0.01, 0.995)
    u = np.clip(rng.random(n), 1e-9, 1 - 1e-9)
    score = np.log(p / (1 - p)) + np.log(u / (1 - u))
    weight = np.ones(n, dtype=np.int64)
    np.add.at(weight, copies_of, 1)
    order = np.argsort(-score, kind="stable")
    cum = np.cumsum(weight[order])
    if active > int(weight.sum()):
        raise ValueError("more active cards requested than cards")
    take = order[cum <= active]
    flag = np.zeros(n, dtype=bool)
    flag[take] = True
    short = active - int(weight[take].sum())
    if short:
        # Fill the last one with a single-weight card not yet active (best score first).
        cands = order[(~flag[order]) & (weight[order] == 1)]
        flag[cands[:short]] = True
    return flag


def status_columns(
    cards: pl.DataFrame,
    active: np.ndarray,
    end: int,
    rng: np.random.Generator,
    arrears_rng: np.random.Generator,
) -> pl.DataFrame:
    """STATUS_PESERTA, KET_NONAKTIF, BULAN_TUNGGAKAN, KELAS, KODE_FASKES, TMT, relationship.

    An inactive card with ``MENUNGGAK`` has BULAN_TUNGGAKAN > 0 (``arrears_months``, drawn
    from ``arrears_rng``) and every other card 0 (Pemda arrears are planted after)."""
    n = cards.height
    seg = cards["seg_idx"].to_numpy()
    kind = _kind_codes(cards)
    u = rng.random(n)
    # KET codes index KET_VALUES: "", MENUNGGAK, PBI_DINONAKTIFKAN, PHK, MENINGGAL, LAINNYA
    ket = np.full(n, 5, dtype=np.int64)
    ket[np.isin(seg, PBI) & (u < 0.9)] = 2
    ket[(seg == SEG["PBPU"]) & (u < 0.95)] = 1
    ket[(seg == SEG["BP"]) & (u < 0.6)] = 1
    ket[(seg == SEG["PPU_BU"]) & (u < 0.55)] = 1
    ket[(seg == SEG["PPU_BU"]) & (u >= 0.55) & (u < 0.95)] = 3
    ket[(kind == DECEASED) & (u < 0.85)] = 4
    ket[active] = 0
    rng.geometric(0.12, n)  # the former arrears draw: kept, so this stream's next draws stay
    arrears = np.where(ket == 1, arrears_months(n, arrears_rng), 0)
    kelas_u = rng.random(n)
    kelas = np.full(n, 3, dtype=np.int64)
    kelas = np.where(seg == SEG["PPU_PEMERINTAH"], np.where(kelas_u < 0.4, 1, 2), kelas)
    kelas = np.where(seg == SEG["PPU_BU"], np.where(kelas_u < 0.3, 1, 2), kelas)
    kelas = np.where(seg == SEG["BP"], np.where(kelas_u < 0.5, 1, 2), kelas)
    pbpu = seg == SEG["PBPU"]
    kelas = np.where(pbpu, np.where(kelas_u < 0.15, 1, np.where(kelas_u < 0.4, 2, 3)), kelas)
    start = end - rng.integers(0, end - 16071, n)  # 16071 = 2014-01-01
    role = cards["role"].to_numpy()
    rel = role.astype(np.int64)
    rel[(role == 1) & cards["female"].to_numpy()] = 4
    return cards.with_columns(
        SEGMEN=vocab(SEGMENTS, seg),
        KELAS=pl.Series(kelas).cast(pl.String),
        STATUS_PESERTA=vocab(("NONAKTIF", "AKTIF"), active.astype(np.int64)),
        KET_NONAKTIF=vocab(KET_VALUES, ket),
        BULAN_TUNGGAKAN=pl.Series(arrears.astype(np.int64)).cast(pl.String),
        tmt=pl.Series(start.astype(np.int64)),
        HUBUNGAN_KELUARGA=vocab(("PESERTA", "SUAMI", "ANAK", "TAMBAHAN", "ISTRI"), rel),
    )


def faskes_codes(code: str, n: int, rng: np.random.Generator) -> pl.Series:
    """``n`` primary-care facility codes of a region, drawn from a pool like ``0601U012``."""
    ref = region_ref(code)
    size = max(4, len(ref.villages) // 6)
    branch = f"{rng.integers(1, 30):02d}{code[3:5]}"
    letters = np.array(list("UUUUKD"))[rng.integers(0, 6, size)]
    pool = [f"{branch}{letters[i]}{i + 1:03d}" for i in range(size)]
    return vocab(pool, rng.integers(0, size, n))


def noka_numbers(n: int, rng: np.random.Generator) -> pl.Series:
    """``n`` unique 13-digit card numbers with leading zeros, in random order."""
    gaps = rng.integers(1, 1200, n)
    vals = 1_000_000_000 + np.cumsum(gaps)
    vals = vals[rng.permutation(n)]
    return pl.Series(vals).cast(pl.String).str.zfill(13)
