"""Parsing expressions and the checks every person-level extract shares.

Staging only renames and casts: values are trimmed, placeholders (``-``, ``NULL``, ``0``) read
as unknown, codes undotted, dates read from the three formats the contract allows. Checks are
named after the business rule they enforce; a source declares which of them are warnings
(the row is flagged and flows on) — every other failure is an error (the row is quarantined).

Digits are ASCII digits. A NIK, NOKA, code, date or count written in other digits (full-width
``１２３``, Arabic-Indic ``١٢٣``) is quarantined by its format check, never converted: Unicode
NFKC would turn full-width digits into ASCII but leave Arabic-Indic ones as they are, and a
converted NIK is not the string the agency holds, so no normalisation is done (a regex's digit
class matches every script's digits, hence ``[0-9]`` throughout). Trimming drops, besides white
space, the invisible format characters an export or a paste leaves at a value's ends
(zero-width space, BOM); one inside a value stays, and fails the value's check.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from functools import cache
from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from jkn.reference import regions

PLACEHOLDERS = ("", "-", "NULL", "0")
PERIOD_END = "_period_end"


# Unicode white space, and the invisible characters that say nothing at a value's ends
# (zero-width space, non-joiner, joiner, word joiner, BOM / zero-width no-break space).
_TRIM = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
    "\u200b\u200c\u200d\u2060\ufeff"
)


def text(column: str, placeholders: tuple[str, ...] = PLACEHOLDERS) -> pl.Expr:
    """The trimmed value (white space and zero-width characters at its ends dropped), or null
    when empty or a placeholder for unknown."""
    value = pl.col(column).str.strip_chars(_TRIM)
    return pl.when(value.is_in(list(placeholders))).then(None).otherwise(value)


def upper(column: str) -> pl.Expr:
    return text(column).str.to_uppercase()


def code_digits(column: str) -> pl.Expr:
    """A Kemendagri code with its dots removed: ``16.08.01.2001`` → ``1608012001``."""
    return text(column).str.replace_all(".", "", literal=True)


_DMY = r"^[0-9]{1,2}([-/])[0-9]{1,2}[-/][0-9]{4}$"
_YMD = r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$"


def date_value(column: str) -> pl.Expr:
    """A date written ``DD-MM-YYYY``, ``DD/MM/YYYY`` or ``YYYY-MM-DD`` (one file may mix
    them; an Excel time part is dropped); null when it is none of these or no real date."""
    value = text(column).str.replace(r"[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$", "")
    dmy = value.str.contains(_DMY)
    ymd = value.str.contains(_YMD)
    return (
        pl.when(dmy)
        .then(
            pl.coalesce(
                value.str.strptime(pl.Date, "%d-%m-%Y", strict=False),
                value.str.strptime(pl.Date, "%d/%m/%Y", strict=False),
            )
        )
        .when(ymd)
        .then(value.str.strptime(pl.Date, "%Y-%m-%d", strict=False))
        .otherwise(None)
    )


def sex_value(column: str) -> pl.Expr:
    """``L``/``P`` from ``L``, ``P``, ``LAKI-LAKI`` or ``PEREMPUAN`` (any case); null for
    anything else (it does not read as a sex; ``sex_is_known`` quarantines the row, which keeps
    the value as delivered)."""
    value = upper(column)
    return (
        pl.when(value.is_in(["L", "LAKI-LAKI", "LAKI LAKI"]))
        .then(pl.lit("L"))
        .when(value.is_in(["P", "PEREMPUAN"]))
        .then(pl.lit("P"))
        .otherwise(None)
    )


def parse_person_columns(
    *, nik: str, no_kk: str, name: str, dob: str, sex: str, village: str
) -> list[pl.Expr]:
    """The columns every person-level source shares, parsed from the source's own headers."""
    return [
        text(nik).alias("nik"),
        text(no_kk).alias("no_kk"),
        text(name).alias("nama"),
        text(dob).alias("_tgl_lahir_text"),
        date_value(dob).alias("tgl_lahir"),
        sex_value(sex).alias("jenis_kelamin"),
        code_digits(village).alias("kode_wilayah"),
    ]


@cache
def region_digit_sets() -> dict[str, list[str]]:
    """Undotted Kemendagri codes per level, for vectorised membership tests."""
    frame = regions()
    return {
        level: frame.filter(pl.col("region_level") == level)["region_digits"].to_list()
        for level in ("province", "kabupaten", "kecamatan", "desa")
    }


# NIK structure: PP KK CC DDMMYY SSSS; women's day of birth + 40.
_NIK_OK = pl.col("nik").str.contains(r"^[0-9]{16}$")
_NIK_DAY = pl.col("nik").str.slice(6, 2).cast(pl.Int32, strict=False)
_NIK_MONTH = pl.col("nik").str.slice(8, 2).cast(pl.Int32, strict=False)
_NIK_YY = pl.col("nik").str.slice(10, 2).cast(pl.Int32, strict=False)


def first_of_each_nik() -> pl.Expr:
    """True on the first row of each 16-digit NIK, false on its repeats, null where the NIK
    is damaged or empty (damaged values are judged by their own checks, and two damaged values
    that happen to read alike are not a repeated NIK)."""
    return pl.when(_NIK_OK).then(pl.col(first_in_file("nik")))


def first_in_file(key: str) -> str:
    """Name of the column that is true on the first row of each value of ``key`` in the whole
    file. It is computed over the file before validation runs in chunks
    (:func:`jkn.ingest.validate.validate_extract`), so that a repeat is a repeat wherever in
    the file it falls."""
    return f"_first_{key}"


def nik_sex() -> pl.Expr:
    """Sex encoded in a 16-digit NIK (``P`` when the day is over 40); null when the NIK
    encodes no real birth date (its day field then says nothing reliable)."""
    readable = _NIK_OK & nik_birth_date().is_not_null()
    return pl.when(readable).then(pl.when(_NIK_DAY > 40).then(pl.lit("P")).otherwise(pl.lit("L")))


def nik_birth_date() -> pl.Expr:
    """Birth date encoded in a 16-digit NIK; the century is the one that keeps it not after
    the period's end. Null when the NIK encodes no real date."""
    day = pl.when(_NIK_DAY > 40).then(_NIK_DAY - 40).otherwise(_NIK_DAY)
    period_yy = pl.col(PERIOD_END).dt.year() % 100
    century = pl.when(period_yy >= _NIK_YY).then(2000).otherwise(1900)
    text_date = pl.format(
        "{}-{}-{}",
        (century + _NIK_YY).cast(pl.String),
        _NIK_MONTH.cast(pl.String).str.zfill(2),
        day.cast(pl.String).str.zfill(2),
    )
    return pl.when(_NIK_OK).then(text_date.str.strptime(pl.Date, "%Y-%m-%d", strict=False))


def _ok(expr: pl.Expr) -> pl.Expr:
    """A check passes where its rule holds or cannot be judged (null)."""
    return expr.fill_null(True).alias("ok")


def _select(data: PolarsData, expr: pl.Expr) -> pl.LazyFrame:
    return data.lazyframe.select(_ok(expr))


Rule = Callable[[Any], pl.Expr]
_RULE = "__row_rule__"


def row_check(name: str) -> Callable[[Rule], classmethod]:
    """Declare a pandera dataframe check from its rule: the decorated method returns the polars
    expression that holds where the row passes (null where the rule cannot be judged).

    pandera runs it as any ``@pa.dataframe_check`` (``model.validate`` gives the answer it always
    gave); the rule stays reachable from the model, so :func:`row_rules` can evaluate every
    check of a source in one ``select`` instead of one pandera query per check.
    """

    def declare(rule: Rule) -> classmethod:
        def check(cls: Any, data: PolarsData) -> pl.LazyFrame:
            return _select(data, rule(cls))

        functools.update_wrapper(check, rule)
        setattr(check, _RULE, (name, rule))
        return pa.dataframe_check(name=name)(check)

    return declare


def row_rules(model: type[pa.DataFrameModel]) -> dict[str, pl.Expr]:
    """Every row check of ``model``, by name in pandera's order: an expression that is true
    where the row passes (never null), the very expression pandera's check selects."""
    declared: dict[str, tuple[str, Rule]] = {}
    for klass in reversed(model.__mro__):  # a subclass's method overrides its parent's
        for attribute, value in vars(klass).items():
            found = getattr(getattr(value, "__func__", None), _RULE, None)
            if found is not None:
                declared[attribute] = found
    rules = {name: _ok(rule(model)).alias(name) for name, rule in declared.values()}
    names = [check.name for check in model.to_schema().checks]
    if sorted(names) != sorted(rules):
        raise TypeError(f"{model.__name__}: every dataframe check must be a row_check: {names}")
    return {name: rules[name] for name in names}


class PersonRecord(pa.DataFrameModel):
    """Columns and checks shared by every person-level extract, after parsing.

    Identifiers stay text. Every check is named after the rule it enforces.
    """

    nik: str = pa.Field(nullable=True, description="NIK, 16 digits, as delivered (trimmed)")
    no_kk: str = pa.Field(nullable=True, description="family-card number, 16 digits")
    nama: str = pa.Field(nullable=True, description="full name as delivered")
    tgl_lahir: pl.Date = pa.Field(nullable=True, description="date of birth")
    jenis_kelamin: str = pa.Field(nullable=True, description="sex: L (male) or P (female)")
    kode_wilayah: str = pa.Field(
        nullable=True, description="domicile village code, 10 digits, undotted"
    )

    class Config:
        strict = False
        coerce = False

    @row_check("nik_present")
    def nik_present(cls) -> pl.Expr:
        """The NIK is given (warning where the contract allows it empty)."""
        return pl.col("nik").is_not_null()

    @row_check("nik_not_excel_scientific")
    def nik_not_excel_scientific(cls) -> pl.Expr:
        """Excel wrote the NIK as a number (``3.20101E+15``): its digits are lost for good."""
        return ~pl.col("nik").str.contains(r"(?i)^[0-9]+([.,][0-9]+)?E\+?[0-9]+$")

    @row_check("nik_is_16_digits")
    def nik_is_16_digits(cls) -> pl.Expr:
        """A given NIK is exactly 16 ASCII digits (other scripts' digits are not converted)."""
        return _NIK_OK

    @row_check("nik_structure_valid")
    def nik_structure_valid(cls) -> pl.Expr:
        """The NIK's province is known, its codes are not 00, it encodes a real birth date and
        its serial is not 0000 (a mistyped NIK, flagged)."""
        province = pl.col("nik").str.slice(0, 2).is_in(region_digit_sets()["province"])
        zeros = (pl.col("nik").str.slice(2, 2) == "00") | (pl.col("nik").str.slice(4, 2) == "00")
        serial = pl.col("nik").str.slice(12, 4) != "0000"
        valid = province & ~zeros & serial & nik_birth_date().is_not_null()
        return pl.when(_NIK_OK).then(valid)

    @row_check("nik_region_current")
    def nik_region_current(cls) -> pl.Expr:
        """The kab/kota and kecamatan that issued the NIK are in today's Kemendagri list (old
        codes from before a region split stay valid on old NIKs: a warning)."""
        sets = region_digit_sets()
        current = pl.col("nik").str.slice(0, 4).is_in(sets["kabupaten"]) & pl.col("nik").str.slice(
            0, 6
        ).is_in(sets["kecamatan"])
        return pl.when(_NIK_OK).then(current)

    @row_check("nik_dob_matches")
    def nik_dob_matches(cls) -> pl.Expr:
        """The birth date encoded in the NIK equals the row's date of birth."""
        return nik_birth_date() == pl.col("tgl_lahir")

    @row_check("nik_sex_matches")
    def nik_sex_matches(cls) -> pl.Expr:
        """The sex encoded in the NIK (day + 40 for women) equals the row's sex."""
        known = pl.col("jenis_kelamin").is_in(["L", "P"])
        return pl.when(known).then(nik_sex() == pl.col("jenis_kelamin"))

    @row_check("no_kk_is_16_digits")
    def no_kk_is_16_digits(cls) -> pl.Expr:
        """A given family-card number is exactly 16 digits."""
        return pl.col("no_kk").str.contains(r"^[0-9]{16}$")

    @row_check("name_present")
    def name_present(cls) -> pl.Expr:
        """The row names the person."""
        return pl.col("nama").is_not_null()

    @row_check("name_not_too_long")
    def name_not_too_long(cls) -> pl.Expr:
        """A name is at most 150 characters: a longer cell is a pasted paragraph, a joined
        row or an injected payload, not a person's name."""
        return pl.col("nama").str.len_chars() <= 150

    @row_check("dob_present")
    def dob_present(cls) -> pl.Expr:
        """The date of birth is given."""
        return pl.col("_tgl_lahir_text").is_not_null()

    @row_check("dob_is_date")
    def dob_is_date(cls) -> pl.Expr:
        """A given date of birth is a real date in DD-MM-YYYY, DD/MM/YYYY or YYYY-MM-DD."""
        return pl.when(pl.col("_tgl_lahir_text").is_not_null()).then(
            pl.col("tgl_lahir").is_not_null()
        )

    @row_check("dob_not_in_future")
    def dob_not_in_future(cls) -> pl.Expr:
        """Nobody is born after the end of the period the extract describes."""
        return pl.col("tgl_lahir") <= pl.col(PERIOD_END)

    @row_check("dob_after_1900")
    def dob_after_1900(cls) -> pl.Expr:
        """A date of birth before 1900 is a typing error, not a person."""
        return pl.col("tgl_lahir") >= pl.date(1900, 1, 1)

    @row_check("sex_is_known")
    def sex_is_known(cls) -> pl.Expr:
        """Sex is L/LAKI-LAKI or P/PEREMPUAN."""
        return pl.col("jenis_kelamin").is_in(["L", "P"]).fill_null(False)

    @row_check("village_code_is_10_digits")
    def village_code_is_10_digits(cls) -> pl.Expr:
        """The domicile code is a 10-digit village code (dotted or not)."""
        return pl.col("kode_wilayah").is_not_null() & pl.col("kode_wilayah").str.contains(
            r"^[0-9]{10}$"
        )

    @row_check("village_code_known")
    def village_code_known(cls) -> pl.Expr:
        """The domicile village is in the Kemendagri list (Kepmendagri 300.2.2-2138/2025)."""
        well_formed = pl.col("kode_wilayah").str.contains(r"^[0-9]{10}$")
        known = pl.col("kode_wilayah").is_in(region_digit_sets()["desa"])
        return pl.when(well_formed).then(known)
