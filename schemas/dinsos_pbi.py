"""dinsos_pbi — the Dinas Sosial list of PBI (premium-assistance) recipients, from DTSEN."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.common import (
    PersonRecord,
    first_of_each_nik,
    parse_person_columns,
    row_check,
    text,
    upper,
)

SOURCE = "dinsos_pbi"
REQUIRED = ("NIK", "NAMA", "TGL_LAHIR", "JENIS_KELAMIN", "KODE_WILAYAH", "DESIL", "SUMBER_DANA")
OPTIONAL = ("ID_DTSEN", "NO_KK")
KEY = "nik"
WARNINGS = frozenset(
    {
        "nik_structure_valid",
        "nik_region_current",
        "nik_dob_matches",
        "nik_sex_matches",
        "village_code_known",
        "nik_listed_once",
    }
)
FUNDERS = ("APBN", "APBD")


def parse() -> list[pl.Expr]:
    """Rename and cast the contract's columns; raw text stays beside for the quarantine."""
    return [
        *parse_person_columns(
            nik="NIK",
            no_kk="NO_KK",
            name="NAMA",
            dob="TGL_LAHIR",
            sex="JENIS_KELAMIN",
            village="KODE_WILAYAH",
        ),
        text("ID_DTSEN").alias("id_dtsen"),
        text("DESIL", ("", "-", "NULL")).alias("_desil_text"),
        text("DESIL", ("", "-", "NULL")).cast(pl.Int8, strict=False).alias("desil"),
        upper("SUMBER_DANA").alias("sumber_dana"),
    ]


class DinsosPbiRecord(PersonRecord):
    """One person on the PBI recipient list."""

    id_dtsen: str = pa.Field(nullable=True, description="household identifier in DTSEN")
    desil: pl.Int8 = pa.Field(nullable=True, description="welfare decile, 1 (poorest) to 10")
    sumber_dana: str = pa.Field(
        nullable=True, description="who pays the premium: APBN (central) or APBD (the Pemda)"
    )

    @row_check("desil_is_1_to_10")
    def desil_is_1_to_10(cls) -> pl.Expr:
        """DESIL is a whole number from 1 to 10."""
        return pl.col("desil").is_between(1, 10).fill_null(False)

    @row_check("sumber_dana_is_known")
    def sumber_dana_is_known(cls) -> pl.Expr:
        """SUMBER_DANA is APBN or APBD."""
        return pl.col("sumber_dana").is_in(list(FUNDERS)).fill_null(False)

    @row_check("nik_listed_once")
    def nik_listed_once(cls) -> pl.Expr:
        """A person is listed once; a repeated NIK is a duplicate to clean up (flagged)."""
        return first_of_each_nik()


MODEL = DinsosPbiRecord
STAGED = (
    "id_dtsen",
    "nik",
    "no_kk",
    "nama",
    "tgl_lahir",
    "jenis_kelamin",
    "kode_wilayah",
    "desil",
    "sumber_dana",
)
