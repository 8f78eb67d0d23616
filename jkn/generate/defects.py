"""Row defects: inject the kinds listed in ``model.DEFECT_KINDS`` and record them per row."""

from __future__ import annotations

import numpy as np
import polars as pl

from jkn.generate.model import DEFECT_KINDS, DefectRates, defect_destination, vocab
from jkn.rules import segment_aliases

NIK_EMPTY_VALUES = ["", "-", "NULL", "0"]
# written on purpose: names no rule knows (the row is quarantined, segment_is_known)
UNKNOWN_SEGMENTS = ["PBI-APBN", "MANDIRI", "JAMKESDA", "PBI APBD", "PEKERJA MANDIRI"]
# the older name of PBI_APBD that BPJS still writes (warehouse/rules/segment_aliases.csv)
OLD_APBD_NAME = next(old for old, code in segment_aliases().items() if code == "PBI_APBD")
BAD_DESIL = ["0", "11", "X"]


def _applies(kind: str, source: str) -> bool:
    return source in DEFECT_KINDS[kind][0]


def _categorical(n: int, probs: list[float], rng: np.random.Generator) -> np.ndarray:
    """0 = none, i = the i-th kind (probabilities are per kind, summing below 1)."""
    u = rng.random(n)
    if not probs:
        return np.zeros(n, dtype=np.int64)
    cum = np.cumsum(probs)
    out = np.searchsorted(cum, u, side="right") + 1
    out[u >= cum[-1]] = 0
    return out


def excel_scientific(nik: pl.Expr) -> pl.Expr:
    """A 16-digit NIK as Excel's General format shows it: ``3.20101E+15``."""
    mantissa = nik.str.slice(1, 5).str.strip_chars_end("0")
    mantissa = pl.when(mantissa == "").then(pl.lit("0")).otherwise(mantissa)
    return nik.str.slice(0, 1) + "." + mantissa + "E+15"


def _nik_typos(
    niks: np.ndarray, all_niks: pl.Series, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Serial-part typos (one digit changed, or two adjacent digits swapped) not equal to any
    real NIK. Returns the new values and a mask of the rows where a typo was found."""
    n = len(niks)
    values = niks.astype(np.int64)
    result = niks.astype("U16").copy()
    done = np.zeros(n, dtype=bool)
    powers = np.array([1000, 100, 10, 1])
    real = np.sort(all_niks.cast(pl.Int64).to_numpy())
    for _ in range(6):
        todo = np.flatnonzero(~done)
        if not len(todo):
            break
        m = len(todo)
        rows = np.arange(m)
        serial = values[todo] % 10_000
        digits = (serial[:, None] // powers) % 10
        swap = rng.random(m) < 0.5
        pos = rng.integers(0, 3, m)
        a = digits[rows, pos]
        b = digits[rows, pos + 1]
        swap &= a != b
        new = digits.copy()
        new[rows[swap], pos[swap]] = b[swap]
        new[rows[swap], pos[swap] + 1] = a[swap]
        cpos = rng.integers(0, 4, m)
        changed = (digits[rows, cpos] + rng.integers(1, 10, m)) % 10
        new[rows[~swap], cpos[~swap]] = changed[~swap]
        new_serial = (new * powers).sum(axis=1)
        cand = values[todo] - serial + new_serial
        pos_in = np.minimum(np.searchsorted(real, cand), len(real) - 1)
        bad = (real[pos_in] == cand) | (new_serial == 0)
        ok = ~bad
        result[todo[ok]] = cand[ok].astype(str)
        done[todo[ok]] = True
    return result, done


def inject(
    frame: pl.DataFrame,
    source: str,
    rates: DefectRates,
    rng: np.random.Generator,
    all_niks: pl.Series,
    end: int,
) -> pl.DataFrame:
    """Apply row defects to a logical source frame.

    Expects the contract's columns (``TGL_LAHIR``/``TGL_LHR`` as days since 1970), plus
    ``old_region`` (the person's NIK has a pre-split region) and, for BPJS, ``card_kind``.
    Adds ``<date column>__text`` overrides, ``defects`` (list of kinds) and ``expected``.
    """
    n = frame.height
    dob_col = "TGL_LHR" if source == "dukcapil" else "TGL_LAHIR"
    name_col = "NAMA_LGKP" if source == "dukcapil" else "NAMA"
    sex_col = "JENIS_KLMIN" if source == "dukcapil" else "JENIS_KELAMIN"
    flags: dict[str, np.ndarray] = {}

    # NIK group: mutually exclusive.
    nik_kinds = [
        k
        for k in ("nik_excel_scientific", "nik_truncated", "nik_empty", "nik_typo")
        if _applies(k, source)
    ]
    nik_choice = _categorical(n, [getattr(rates, k) for k in nik_kinds], rng)
    for i, k in enumerate(nik_kinds, start=1):
        flags[k] = nik_choice == i
    nik_series = frame["NIK"]
    if "nik_typo" in flags and flags["nik_typo"].any():
        idx = np.flatnonzero(flags["nik_typo"])
        typo, ok = _nik_typos(nik_series.gather(idx).to_numpy().astype("U16"), all_niks, rng)
        flags["nik_typo"][idx[~ok]] = False
        nik_series = nik_series.scatter(idx[ok], pl.Series(typo[ok].tolist(), dtype=pl.String))
    nik_ok = nik_choice == 0
    if "nik_typo" in flags:
        nik_ok |= flags["nik_typo"]

    # DOB group: mutually exclusive; the NIK-consistency checks need the NIK intact.
    dob_kinds = [
        k for k in ("dob_nik_mismatch", "dob_future", "dob_unparseable") if _applies(k, source)
    ]
    dob_choice = _categorical(n, [getattr(rates, k) for k in dob_kinds], rng)
    for i, k in enumerate(dob_kinds, start=1):
        flags[k] = dob_choice == i
    if "dob_nik_mismatch" in flags:
        flags["dob_nik_mismatch"] &= nik_ok
    if _applies("sex_nik_mismatch", source):
        flags["sex_nik_mismatch"] = (rng.random(n) < rates.sex_nik_mismatch) & nik_ok
    for k in ("village_unknown", "name_empty", "desil_out_of_range", "noka_zeros_stripped"):
        if _applies(k, source):
            flags[k] = rng.random(n) < getattr(rates, k)
    if source == "bpjs_membership":
        u = rng.random(n)
        flags["segment_unknown"] = u < rates.segment_unknown
        is_apbd = (frame["SEGMEN"] == "PBI_APBD").to_numpy()
        flags["segment_old_name"] = (
            is_apbd & (u >= rates.segment_unknown) & (rng.random(n) < rates.segment_old_name)
        )
        flags["duplicate_card"] = (frame["card_kind"] == "duplicate").to_numpy()
    flags["nik_old_region"] = frame["old_region"].to_numpy() & nik_ok

    # --- written values -------------------------------------------------------------
    out = frame.with_columns(NIK=nik_series)
    exprs: list[pl.Expr] = []
    nik = pl.col("NIK")
    if flags["nik_excel_scientific"].any():
        exprs.append(
            pl.when(pl.Series(flags["nik_excel_scientific"]))
            .then(excel_scientific(nik))
            .otherwise(nik)
        )
    out = out.with_columns(*[e.alias("NIK") for e in exprs]) if exprs else out
    out = out.with_columns(
        NIK=pl.when(pl.Series(flags["nik_truncated"])).then(nik.str.slice(0, 15)).otherwise(nik)
    )
    empties = vocab(NIK_EMPTY_VALUES, rng.integers(0, len(NIK_EMPTY_VALUES), n))
    out = out.with_columns(NIK=pl.when(pl.Series(flags["nik_empty"])).then(empties).otherwise(nik))

    dob = pl.col(dob_col)
    d = dob.cast(pl.Int32).cast(pl.Date)
    shift = pl.Series(rng.integers(1, 6, n) * np.where(rng.random(n) < 0.5, -1, 1))
    swapped = pl.date(d.dt.year(), d.dt.day(), d.dt.month())
    can_swap = (d.dt.day() <= 12) & (d.dt.day() != d.dt.month()) & pl.Series(rng.random(n) < 0.6)
    shifted = dob + shift
    shifted = pl.when(shifted > end).then(dob - shift.abs()).otherwise(shifted)
    mism = pl.when(can_swap).then(swapped.cast(pl.Int32).cast(pl.Int64)).otherwise(shifted)
    mism = pl.when(mism > end).then(dob - shift.abs()).otherwise(mism)
    years = (dob.cast(pl.Int32).cast(pl.Date).dt.year()).cast(pl.String)
    templates = rng.integers(0, 6, n)
    unparseable = (
        pl.when(pl.Series(templates == 0))
        .then(pl.lit("31-02-") + years)
        .when(pl.Series(templates == 1))
        .then(pl.lit("30-02-") + years)
        .when(pl.Series(templates == 2))
        .then(years + "/13/40")
        .when(pl.Series(templates == 3))
        .then(pl.lit("abc"))
        .when(pl.Series(templates == 4))
        .then(pl.lit("32-01-") + years)
        .otherwise(years + "-00-15")
    )
    f_mism = pl.Series(flags.get("dob_nik_mismatch", np.zeros(n, bool)))
    out = out.with_columns(
        (pl.when(pl.Series(flags["dob_unparseable"])).then(unparseable).otherwise(None)).alias(
            f"{dob_col}__text"
        ),
        pl.when(pl.Series(flags["dob_future"]))
        .then(pl.lit(end) + pl.Series(rng.integers(1, 700, n)))
        .when(f_mism)
        .then(mism)
        .otherwise(dob)
        .alias(dob_col),
    )
    if "sex_nik_mismatch" in flags:
        flip = {"L": "P", "P": "L"}
        out = out.with_columns(
            pl.when(pl.Series(flags["sex_nik_mismatch"]))
            .then(pl.col(sex_col).replace_strict(flip))
            .otherwise(pl.col(sex_col))
            .alias(sex_col)
        )
    if flags["village_unknown"].any():
        fake = pl.Series(rng.integers(0, 1000, n)).cast(pl.String).str.zfill(3)
        out = out.with_columns(
            KODE_WILAYAH=pl.when(pl.Series(flags["village_unknown"]))
            .then(pl.col("KODE_WILAYAH").str.slice(0, 8) + ".9" + fake)
            .otherwise(pl.col("KODE_WILAYAH"))
        )
    if "name_empty" in flags:
        out = out.with_columns(
            pl.when(pl.Series(flags["name_empty"]))
            .then(pl.lit(""))
            .otherwise(pl.col(name_col))
            .alias(name_col)
        )
    if "desil_out_of_range" in flags:
        bad = vocab(BAD_DESIL, rng.integers(0, 3, n))
        out = out.with_columns(
            DESIL=pl.when(pl.Series(flags["desil_out_of_range"]))
            .then(bad)
            .otherwise(pl.col("DESIL"))
        )
    if source == "bpjs_membership":
        unknown = vocab(UNKNOWN_SEGMENTS, rng.integers(0, len(UNKNOWN_SEGMENTS), n))
        out = out.with_columns(
            SEGMEN=pl.when(pl.Series(flags["segment_unknown"]))
            .then(unknown)
            .when(pl.Series(flags["segment_old_name"]))
            .then(pl.lit(OLD_APBD_NAME))
            .otherwise(pl.col("SEGMEN")),
            NOKA=pl.when(pl.Series(flags["noka_zeros_stripped"]))
            .then(pl.col("NOKA").str.strip_chars_start("0"))
            .otherwise(pl.col("NOKA")),
        )

    return out.with_columns(**defect_columns(flags, source, n))


def defect_columns(flags: dict[str, np.ndarray], source: str, n: int) -> dict[str, pl.Series]:
    """``defects`` (kinds in the fixed order of ``DEFECT_KINDS``) and ``expected``."""
    kinds = [k for k in DEFECT_KINDS if k in flags]
    quarantine = np.zeros(n, dtype=bool)
    for k in kinds:
        if defect_destination(k, source) == "quarantined":
            quarantine |= flags[k]
    pairs = [np.flatnonzero(flags[k]) for k in kinds]
    row = np.concatenate(pairs) if pairs else np.zeros(0, dtype=np.int64)
    kind_id = np.repeat(np.arange(len(kinds)), [len(p) for p in pairs])
    order = np.lexsort((kind_id, row))
    names = pl.Series(kinds, dtype=pl.String)
    flagged = (
        pl.DataFrame({"row": row[order], "kind": names.gather(kind_id[order])})
        .group_by("row", maintain_order=True)
        .agg(pl.col("kind").alias("defects"))
    )
    lists = (
        pl.DataFrame({"row": np.arange(n, dtype=np.int64)})
        .join(flagged, on="row", how="left", maintain_order="left")
        .select(pl.col("defects").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .to_series()
    )
    return {
        "defects": lists,
        "expected": vocab(("loaded", "quarantined"), quarantine.astype(np.int64)),
    }
