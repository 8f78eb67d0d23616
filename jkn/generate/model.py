"""Options, results and constants of the synthetic-extract generator."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl

SOURCES: tuple[str, ...] = ("dukcapil", "dinsos_pbi", "bpjs_membership")
FORMATS: tuple[str, ...] = ("csv", "xlsx", "parquet")
XLSX_MAX_DATA_ROWS = 1_048_575

COLUMNS: dict[str, list[str]] = {
    "dukcapil": [
        "NIK",
        "NO_KK",
        "NAMA_LGKP",
        "JENIS_KLMIN",
        "TMPT_LHR",
        "TGL_LHR",
        "KODE_WILAYAH",
        "STATUS",
        "TGL_STATUS",
    ],
    "dinsos_pbi": [
        "ID_DTSEN",
        "NIK",
        "NO_KK",
        "NAMA",
        "TGL_LAHIR",
        "JENIS_KELAMIN",
        "KODE_WILAYAH",
        "DESIL",
        "SUMBER_DANA",
    ],
    "bpjs_membership": [
        "NOKA",
        "NIK",
        "NO_KK",
        "NAMA",
        "TGL_LAHIR",
        "JENIS_KELAMIN",
        "HUBUNGAN_KELUARGA",
        "SEGMEN",
        "KELAS",
        "STATUS_PESERTA",
        "KET_NONAKTIF",
        "BULAN_TUNGGAKAN",
        "KODE_WILAYAH",
        "KODE_FASKES",
        "TMT",
    ],
}
DATE_COLUMNS: dict[str, list[str]] = {
    "dukcapil": ["TGL_LHR", "TGL_STATUS"],
    "dinsos_pbi": ["TGL_LAHIR"],
    "bpjs_membership": ["TGL_LAHIR", "TMT"],
}

# Defect kinds: the sources each applies to and the destination a row with it must reach.
# ``None`` as destination means "depends on source" (see ``defect_destination``).
DEFECT_KINDS: dict[str, tuple[tuple[str, ...], str | None]] = {
    "nik_excel_scientific": (SOURCES, "quarantined"),
    "nik_truncated": (SOURCES, "quarantined"),
    "nik_empty": (SOURCES, None),
    "nik_typo": (("bpjs_membership", "dinsos_pbi"), "loaded"),
    "dob_nik_mismatch": (("bpjs_membership", "dinsos_pbi"), "loaded"),
    "sex_nik_mismatch": (("bpjs_membership",), "loaded"),
    "noka_zeros_stripped": (("bpjs_membership",), "quarantined"),
    "noka_duplicate_in_file": (("bpjs_membership",), "quarantined"),
    "dob_future": (SOURCES, "quarantined"),
    "dob_unparseable": (SOURCES, "quarantined"),
    "segment_unknown": (("bpjs_membership",), "quarantined"),
    "segment_old_name": (("bpjs_membership",), "loaded"),
    "village_unknown": (SOURCES, "loaded"),
    "nik_old_region": (SOURCES, "loaded"),
    "name_empty": (("bpjs_membership", "dinsos_pbi"), "quarantined"),
    "desil_out_of_range": (("dinsos_pbi",), "quarantined"),
    "duplicate_card": (("bpjs_membership",), "loaded"),
    # Identity noise of the linkage preset (``LinkageRates``): the row still belongs to its
    # person, but a NIK-only match misses it or finds the wrong person.
    "name_variant": (("bpjs_membership", "dinsos_pbi"), "loaded"),
    "dob_swap": (("bpjs_membership", "dinsos_pbi"), "loaded"),
    "dob_typo": (("bpjs_membership", "dinsos_pbi"), "loaded"),
    "nik_of_relative": (("bpjs_membership", "dinsos_pbi"), "loaded"),
}


def defect_destination(kind: str, source: str) -> str:
    """Where a row carrying ``kind`` in ``source`` must end up: ``loaded`` or ``quarantined``."""
    _, dest = DEFECT_KINDS[kind]
    if dest is None:  # nik_empty: NIK is optional in BPJS only
        return "loaded" if source == "bpjs_membership" else "quarantined"
    return dest


@dataclass
class DefectRates:
    """Per-kind defect rates, each a fraction of the rows of a source it applies to.

    ``nik_old_region`` is a fraction of persons (their NIK was issued in a region later split,
    so every row of theirs carries it); ``segment_old_name`` is a fraction of ``PBI_APBD``
    rows; ``duplicate_card`` is not a rate here (it is part of the population mix).
    """

    nik_excel_scientific: float = 0.004
    nik_truncated: float = 0.002
    nik_empty: float = 0.006
    nik_typo: float = 0.008
    dob_nik_mismatch: float = 0.01
    sex_nik_mismatch: float = 0.003
    noka_zeros_stripped: float = 0.003
    noka_duplicate_in_file: float = 0.002
    dob_future: float = 0.001
    dob_unparseable: float = 0.002
    segment_unknown: float = 0.002
    segment_old_name: float = 0.05
    village_unknown: float = 0.005
    nik_old_region: float = 0.004
    name_empty: float = 0.002
    desil_out_of_range: float = 0.003

    def scaled(self, factor: float) -> DefectRates:
        """A copy with every rate multiplied by ``factor`` (0 turns the mess off)."""
        return DefectRates(**{k: v * factor for k, v in self.__dict__.items()})


@dataclass
class LinkageRates:
    """Identity noise on BPJS and Dinsos rows and hard negatives among persons (``linkage``).

    NIK rates are fractions of the rows whose identity the base defects left intact, on top
    of ``DefectRates`` (so about 5% of BPJS cards end with a missing, mistyped, damaged or
    relative's NIK); ``nik_typo`` here changes or transposes a digit anywhere in the NIK.
    ``*_given_nik`` are chances on rows with any NIK problem (dob noise only where the NIK
    is not intact, so it never collides with ``dob_nik_mismatch``); ``name_variant`` is the
    chance on rows whose NIK is intact. Hard-negative rates are fractions of Dukcapil
    persons (members of a group); ``migrant_duplicates`` is the share of further cards that
    go to persons unknown to Dukcapil instead of residents (same bridge counts).
    """

    nik_empty: float = 0.012
    nik_typo: float = 0.012
    nik_excel_scientific: float = 0.003
    nik_truncated: float = 0.002
    nik_of_relative: float = 0.004
    name_variant_given_nik: float = 0.3
    dob_given_nik: float = 0.3
    dob_swap_share: float = 0.75
    name_variant: float = 0.01
    twins: float = 0.01
    namesakes: float = 0.012
    common_names: float = 0.008
    migrant_duplicates: float = 0.2


@dataclass
class RegionPlan:
    """Exact targets for one kab/kota: persons are built so the delivered rows hit these.

    ``mix`` gives the composition of BPJS rows beyond the covered residents, as fractions of
    ``population``: ``duplicate`` (further cards), ``deceased``/``moved_out`` (cards of persons
    Dukcapil lists as MATI/PINDAH), ``domiciled_elsewhere`` (cards of residents of another
    generated region), ``not_in_population`` (cards of persons unknown to Dukcapil here);
    ``dead_persons``/``moved_persons`` size the MATI/PINDAH rows of Dukcapil. ``levers``
    plants what issue 16's marts read (``LEVER_KEYS``; missing keys from ``levers_for``).
    """

    code: str
    population: int
    registered: int
    active: int
    mix: dict[str, float] = field(default_factory=dict)
    levers: dict[str, float] = field(default_factory=dict)


DEFAULT_MIX: dict[str, float] = {
    "duplicate": 0.015,
    "deceased": 0.009,
    "moved_out": 0.008,
    "domiciled_elsewhere": 0.004,
    "not_in_population": 0.008,
    "dead_persons": 0.012,
    "moved_persons": 0.014,
}


# What issue 16's marts read, planted per kab/kota (README, "Levers"):
# ``pemda_share`` — PBI_APBD cards as a share of population (the 2026 tiers: ≥10% Madya,
#   ≥18% Utama), reached by moving whole families between PBI_APBD and PBI_APBN;
# ``pemda_arrears`` — share of the PBI_APBD cards with BULAN_TUNGGAKAN 1–6 (the Pemda behind
#   on its own premiums: UHC Prioritas barred); 0 = none;
# ``takeover_listed`` — chance that a person holding an inactive PBPU/PPU_BU card in arrears
#   and no active PBI card is on the Dinsos list (deciles 1–5): a takeover candidate.
LEVER_KEYS: tuple[str, ...] = ("pemda_share", "pemda_arrears", "takeover_listed")
TAKEOVER_LISTED = 0.3
# The seed regions' Pemda, chosen so the figures differ between them (UHC Prioritas barred in
# some, the 2026 tiers' Pemda share met at Utama, at Madya only, or not at all).
REGION_LEVERS: dict[str, dict[str, float]] = {
    "17.07": {"pemda_share": 0.21, "pemda_arrears": 0.06},  # Lebong: Utama share, arrears
    "17.02": {"pemda_share": 0.12, "pemda_arrears": 0.0},  # Rejang Lebong: Madya share
    "16.08": {"pemda_share": 0.15, "pemda_arrears": 0.0},  # OKU Timur: Madya share, paid up
    "16.07": {"pemda_share": 0.19, "pemda_arrears": 0.0},  # Banyuasin: Utama share, paid up
    "16.73": {"pemda_share": 0.07, "pemda_arrears": 0.04},  # Lubuklinggau: below, arrears
    "52.03": {"pemda_share": 0.11, "pemda_arrears": 0.05},  # Lombok Timur: Madya, arrears
}


def levers_for(code: str) -> dict[str, float]:
    """The levers of a kab/kota: ``REGION_LEVERS`` for the seed regions; any other code gets a
    share of 6–22% and, for one code in three, Pemda arrears, both fixed by the code's CRC-32
    (so a region's Pemda is the same in every run and seed)."""
    if code in REGION_LEVERS:
        return {"takeover_listed": TAKEOVER_LISTED, **REGION_LEVERS[code]}
    h = zlib.crc32(code.encode())
    return {
        "pemda_share": 0.06 + (h % 17) / 100,
        "pemda_arrears": 0.05 if h % 3 == 0 else 0.0,
        "takeover_listed": TAKEOVER_LISTED,
    }


def plan_levers(plan: RegionPlan) -> dict[str, float]:
    """A plan's levers, every key of ``LEVER_KEYS`` (the plan's own over ``levers_for``)."""
    return {**levers_for(plan.code), **plan.levers}


@dataclass
class GenerateOptions:
    """What to generate: regions (dotted kab/kota codes), period ``YYYY-MM``, size and mess.

    ``persons`` is the Dukcapil population (alive, domiciled) per region before scenario
    tuning; the generator adds deceased, moved-out and not-registered persons around it.
    ``linkage`` turns on identity noise and hard negatives (``linkage_rates``) for
    benchmarking record linkage; off, the output is byte-identical to before it existed.
    """

    regions: list[str]
    period: str
    persons: int
    seed: int = 20261124
    formats: dict[str, str] | None = None
    messy: bool = True
    rates: DefectRates = field(default_factory=DefectRates)
    coverage: float = 0.95
    activity: float = 0.78
    plans: list[RegionPlan] | None = None
    scenario: str | None = None
    linkage: bool = False
    linkage_rates: LinkageRates = field(default_factory=LinkageRates)
    # Cards of persons another generation made (the national scenario, ``jkn.generate.national``):
    # one row each — nik, no_kk, name, female, dob (days since 1970), segment — added clean and
    # active at the end of the BPJS extract; None (the default) adds nothing.
    guests: pl.DataFrame | None = None


@dataclass
class GenerationResult:
    """What ``generate`` wrote: the period, one path per source, the truth folder, the summary."""

    period: str
    files: dict[str, Path]
    truth_dir: Path
    summary: dict


def rng_for(seed: int, label: str) -> np.random.Generator:
    """An independent, reproducible random stream for one purpose of one seed."""
    return np.random.default_rng([seed & 0xFFFFFFFF, zlib.crc32(label.encode())])


def vocab(values: list[str] | tuple[str, ...], codes: np.ndarray) -> pl.Series:
    """A string Series from integer codes into a small vocabulary (fast: no numpy strings)."""
    return pl.Series(list(values), dtype=pl.String).gather(
        pl.Series(np.asarray(codes), dtype=pl.UInt32)
    )
