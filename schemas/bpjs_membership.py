"""bpjs_membership — the BPJS Kesehatan branch's membership list: one row per card (NOKA)."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from jkn import rules
from schemas.common import (
    PersonRecord,
    date_value,
    first_in_file,
    parse_person_columns,
    row_check,
    text,
    upper,
)

SOURCE = "bpjs_membership"
REQUIRED = (
    "NOKA",
    "NIK",
    "NAMA",
    "TGL_LAHIR",
    "JENIS_KELAMIN",
    "SEGMEN",
    "STATUS_PESERTA",
    "KODE_WILAYAH",
)
OPTIONAL = (
    "NO_KK",
    "HUBUNGAN_KELUARGA",
    "KELAS",
    "KET_NONAKTIF",
    "BULAN_TUNGGAKAN",
    "KODE_FASKES",
    "TMT",
)
KEY = "noka"
WARNINGS = frozenset(
    {
        "nik_present",  # the contract allows an empty NIK on a card: counted, not rejected
        "nik_structure_valid",
        "nik_region_current",
        "nik_dob_matches",
        "nik_sex_matches",
        "village_code_known",
    }
)
# The segments and the older names BPJS still writes for them are rules kept as data
# (warehouse/rules/segments.csv, segment_aliases.csv), read through jkn.rules when a file is
# validated.
RELATIONS = ("PESERTA", "SUAMI", "ISTRI", "ANAK", "TAMBAHAN")
STATUSES = ("AKTIF", "NONAKTIF")
INACTIVE_REASONS = ("MENUNGGAK", "PBI_DINONAKTIFKAN", "PHK", "MENINGGAL", "LAINNYA")


def parse() -> list[pl.Expr]:
    """Rename and cast the contract's columns; raw text stays beside for the quarantine."""
    segment = upper("SEGMEN")
    return [
        text("NOKA", ("", "-", "NULL")).alias("noka"),
        *parse_person_columns(
            nik="NIK",
            no_kk="NO_KK",
            name="NAMA",
            dob="TGL_LAHIR",
            sex="JENIS_KELAMIN",
            village="KODE_WILAYAH",
        ),
        upper("HUBUNGAN_KELUARGA").alias("hubungan_keluarga"),
        segment.replace(rules.segment_aliases()).alias("segmen"),
        text("KELAS").alias("_kelas_text"),
        text("KELAS").cast(pl.Int8, strict=False).alias("kelas"),
        upper("STATUS_PESERTA").alias("status_peserta"),
        upper("KET_NONAKTIF").alias("ket_nonaktif"),
        text("BULAN_TUNGGAKAN", ("", "-", "NULL")).alias("_bulan_tunggakan_text"),
        text("BULAN_TUNGGAKAN", ("", "-", "NULL"))
        .cast(pl.Int32, strict=False)
        .alias("bulan_tunggakan"),
        text("KODE_FASKES").alias("kode_faskes"),
        text("TMT").alias("_tmt_text"),
        date_value("TMT").alias("tmt"),
    ]


class BpjsMembershipRecord(PersonRecord):
    """One JKN membership card."""

    noka: str = pa.Field(nullable=True, description="card number, 13 digits with leading zeros")
    hubungan_keluarga: str = pa.Field(nullable=True, description="relation to the card holder")
    segmen: str = pa.Field(
        nullable=True, description="membership segment, current code (an older name read as it)"
    )
    kelas: pl.Int8 = pa.Field(nullable=True, description="care class 1, 2 or 3")
    status_peserta: str = pa.Field(nullable=True, description="AKTIF or NONAKTIF")
    ket_nonaktif: str = pa.Field(nullable=True, description="why inactive; empty when AKTIF")
    bulan_tunggakan: pl.Int32 = pa.Field(nullable=True, description="months in arrears, ≥ 0")
    kode_faskes: str = pa.Field(nullable=True, description="primary-care facility code")
    tmt: pl.Date = pa.Field(nullable=True, description="date the membership started")

    @row_check("noka_is_13_digits")
    def noka_is_13_digits(cls) -> pl.Expr:
        """NOKA is 13 digits; Excel strips its leading zeros and they cannot be guessed back."""
        return pl.col("noka").str.contains(r"^[0-9]{13}$").fill_null(False)

    @row_check("noka_unique_in_file")
    def noka_unique_in_file(cls) -> pl.Expr:
        """A card appears once; later repeats of a NOKA are quarantined."""
        noka = pl.col("noka")
        return pl.when(noka.is_not_null()).then(pl.col(first_in_file("noka")))

    @row_check("segment_is_known")
    def segment_is_known(cls) -> pl.Expr:
        """SEGMEN is one of the JKN segments (or an older name of one; ``segments.csv``)."""
        return pl.col("segmen").is_in(list(rules.segments())).fill_null(False)

    @row_check("status_is_known")
    def status_is_known(cls) -> pl.Expr:
        """STATUS_PESERTA is AKTIF or NONAKTIF."""
        return pl.col("status_peserta").is_in(list(STATUSES)).fill_null(False)

    @row_check("relation_is_known")
    def relation_is_known(cls) -> pl.Expr:
        """A given HUBUNGAN_KELUARGA is PESERTA, SUAMI, ISTRI, ANAK or TAMBAHAN."""
        value = pl.col("hubungan_keluarga")
        return pl.when(value.is_not_null()).then(value.is_in(list(RELATIONS)))

    @row_check("kelas_is_1_2_3")
    def kelas_is_1_2_3(cls) -> pl.Expr:
        """A given KELAS is 1, 2 or 3."""
        given = pl.col("_kelas_text").is_not_null()
        return pl.when(given).then(pl.col("kelas").is_in([1, 2, 3]).fill_null(False))

    @row_check("inactive_reason_is_known")
    def inactive_reason_is_known(cls) -> pl.Expr:
        """A given KET_NONAKTIF is one of the known reasons."""
        value = pl.col("ket_nonaktif")
        return pl.when(value.is_not_null()).then(value.is_in(list(INACTIVE_REASONS)))

    @row_check("arrears_is_count")
    def arrears_is_count(cls) -> pl.Expr:
        """A given BULAN_TUNGGAKAN is a whole number of months, 0 or more."""
        given = pl.col("_bulan_tunggakan_text").is_not_null()
        return pl.when(given).then((pl.col("bulan_tunggakan") >= 0).fill_null(False))

    @row_check("tmt_is_date")
    def tmt_is_date(cls) -> pl.Expr:
        """A given TMT is a real date, not after the period's end."""
        given = pl.col("_tmt_text").is_not_null()
        ok = pl.col("tmt").is_not_null() & (pl.col("tmt") <= pl.col("_period_end"))
        return pl.when(given).then(ok)


MODEL = BpjsMembershipRecord
STAGED = (
    "noka",
    "nik",
    "no_kk",
    "nama",
    "tgl_lahir",
    "jenis_kelamin",
    "hubungan_keluarga",
    "segmen",
    "kelas",
    "status_peserta",
    "ket_nonaktif",
    "bulan_tunggakan",
    "kode_wilayah",
    "kode_faskes",
    "tmt",
)
