"""dukcapil — the Dukcapil population extract: one row per person on a family card in the region."""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.common import (
    PersonRecord,
    date_value,
    first_of_each_nik,
    parse_person_columns,
    row_check,
    text,
    upper,
)

SOURCE = "dukcapil"
REQUIRED = ("NIK", "NAMA_LGKP", "JENIS_KLMIN", "TGL_LHR", "KODE_WILAYAH", "STATUS")
OPTIONAL = ("NO_KK", "TMPT_LHR", "TGL_STATUS")
KEY = "nik"
# Flagged, not rejected: the row reads, but looks wrong (contracts/extracts.md).
WARNINGS = frozenset(
    {
        "nik_structure_valid",
        "nik_region_current",
        "nik_dob_matches",
        "nik_sex_matches",
        "village_code_known",
        "status_date_present",
    }
)
STATUSES = ("HIDUP", "MATI", "PINDAH")


def parse() -> list[pl.Expr]:
    """Rename and cast the contract's columns; raw text stays beside for the quarantine."""
    return [
        *parse_person_columns(
            nik="NIK",
            no_kk="NO_KK",
            name="NAMA_LGKP",
            dob="TGL_LHR",
            sex="JENIS_KLMIN",
            village="KODE_WILAYAH",
        ),
        text("TMPT_LHR").alias("tmpt_lahir"),
        upper("STATUS").alias("status"),
        text("TGL_STATUS").alias("_tgl_status_text"),
        date_value("TGL_STATUS").alias("tgl_status"),
    ]


class DukcapilRecord(PersonRecord):
    """One registered person, with status at the end of the period."""

    tmpt_lahir: str = pa.Field(nullable=True, description="place of birth")
    status: str = pa.Field(
        nullable=True, description="HIDUP (alive, resident), MATI (deceased), PINDAH (moved out)"
    )
    tgl_status: pl.Date = pa.Field(nullable=True, description="date of death or move")

    @row_check("nik_unique_in_file")
    def nik_unique_in_file(cls) -> pl.Expr:
        """A NIK appears once in the civil registry; later repeats are quarantined."""
        return first_of_each_nik()

    @row_check("status_is_known")
    def status_is_known(cls) -> pl.Expr:
        """STATUS is HIDUP, MATI or PINDAH."""
        return pl.col("status").is_in(list(STATUSES)).fill_null(False)

    @row_check("status_date_is_date")
    def status_date_is_date(cls) -> pl.Expr:
        """A given date of death or move is a real date, not after the period's end."""
        given = pl.col("_tgl_status_text").is_not_null()
        ok = pl.col("tgl_status").is_not_null() & (pl.col("tgl_status") <= pl.col("_period_end"))
        return pl.when(given).then(ok)

    @row_check("status_date_not_before_birth")
    def status_date_not_before_birth(cls) -> pl.Expr:
        """Nobody dies or moves before being born: one of the two dates is wrong, and which
        one cannot be told (quarantined, like any date that cannot be read as the contract
        says)."""
        return pl.col("tgl_status") >= pl.col("tgl_lahir")

    @row_check("status_date_present")
    def status_date_present(cls) -> pl.Expr:
        """A person deceased or moved out has the date of it."""
        return pl.when(pl.col("status").is_in(["MATI", "PINDAH"])).then(
            pl.col("_tgl_status_text").is_not_null()
        )


MODEL = DukcapilRecord
STAGED = (
    "nik",
    "no_kk",
    "nama",
    "jenis_kelamin",
    "tmpt_lahir",
    "tgl_lahir",
    "kode_wilayah",
    "status",
    "tgl_status",
)
