"""The ``linkage`` preset: identity noise on BPJS/Dinsos rows, hard negatives among persons,
and ``linkage_truth`` (the labelled rows a record-linkage benchmark scores against).

Nothing here runs unless ``GenerateOptions.linkage`` is set, and every draw comes from its own
``rng_for(seed, "linkage:...")`` stream, so the output without it is byte-identical.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl

from jkn.generate.defects import NIK_EMPTY_VALUES, _categorical, defect_columns, excel_scientific
from jkn.generate.model import DEFECT_KINDS, LinkageRates, rng_for, vocab

NIK_KINDS = ("nik_excel_scientific", "nik_truncated", "nik_empty", "nik_typo", "nik_of_relative")
# Rows carrying any of these keep their identity as the base defects left it.
IDENTITY_BLOCK = (
    "nik_excel_scientific",
    "nik_truncated",
    "nik_empty",
    "nik_typo",
    "dob_nik_mismatch",
    "sex_nik_mismatch",
    "nik_old_region",
    "dob_future",
    "dob_unparseable",
    "name_empty",
)

# --- name variants ------------------------------------------------------------------------

# Spellings of one name part that registries use interchangeably.
PREFIX_GROUPS: tuple[tuple[str, ...], ...] = (
    ("MUHAMMAD", "MUHAMAD", "MOHAMMAD", "MOHAMAD", "MOH.", "MOH", "M.", "M", "MUH."),
    ("AHMAD", "ACHMAD", "AHMAT"),
    ("ABDUL", "ABD."),
    ("NUR", "NOER"),
    ("SITI", "SITTI"),
)
_PREFIX_OF = {v: g for g in PREFIX_GROUPS for v in g}
# Old (pre-1972 EYD) spellings and their modern forms, both ways.
OLD_SPELLINGS: tuple[tuple[str, str], ...] = (
    ("DJ", "J"),
    ("TJ", "C"),
    ("OE", "U"),
    ("J", "DJ"),
    ("C", "TJ"),
    ("U", "OE"),
)
# Consonant variants: doubled → single, and a few regional ones (SYAIFUL/SAIFUL, ARIF/ARIP).
_DOUBLE = re.compile(r"([BCDFGHJKLMNPRSTVWXZ])\1")
CONSONANT_SWAPS: tuple[tuple[str, str], ...] = (("SY", "S"), ("KH", "H"), ("F", "P"), ("Z", "J"))
LETTERS = "ABCDEFGHIJKLMNOPRSTUWY"


def _typo(name: str, u1: float, u2: float, u3: float) -> str:
    """One letter changed, dropped or swapped with the next, never a token's first letter."""
    tokens = name.split(" ")
    long = [i for i, t in enumerate(tokens) if len(t) >= 2]
    if not long:
        return name + LETTERS[int(u3 * len(LETTERS))]
    ti = long[int(u1 * len(long))]
    tok = tokens[ti]
    pos = 1 + int(u2 * (len(tok) - 1))
    op = int(u3 * 3)
    if op == 1 and len(tok) >= 3:
        new = tok[:pos] + tok[pos + 1 :]
    elif op == 2 and pos + 1 < len(tok) and tok[pos] != tok[pos + 1]:
        new = tok[:pos] + tok[pos + 1] + tok[pos] + tok[pos + 2 :]
    else:
        letter = LETTERS[int(u3 * 7919) % len(LETTERS)]
        if letter == tok[pos]:
            letter = LETTERS[(LETTERS.index(letter) + 1) % len(LETTERS)]
        new = tok[:pos] + letter + tok[pos + 1 :]
    tokens[ti] = new
    return " ".join(tokens)


def name_variant(name: str, u0: float, u1: float, u2: float, u3: float) -> str:
    """A realistic spelling variant of an upper-case Indonesian name (never ``name`` itself).

    One of: another spelling of a prefix (MUHAMMAD/MUHAMAD/MOH./M.), a dropped middle part,
    two parts joined (NUR AINI → NURAINI), a consonant variant (ABDULLAH/ABDULAH,
    SYAIFUL/SAIFUL), an old spelling (DJOKO/JOKO, SOEHARTO/SUHARTO), a one-letter typo.
    """
    tokens = name.split(" ")
    methods = []
    if tokens[0] in _PREFIX_OF:
        methods.append("prefix")
    if len(tokens) >= 3:
        methods.append("drop")
    if len(tokens) >= 2:
        methods.append("join")
    if _DOUBLE.search(name) or any(a in name for a, _ in CONSONANT_SWAPS):
        methods.append("consonant")
    if any(a in name for a, _ in OLD_SPELLINGS):
        methods.append("spelling")
    methods.append("typo")
    method = methods[int(u0 * len(methods))]
    out = name
    if method == "prefix":
        group = [v for v in _PREFIX_OF[tokens[0]] if v != tokens[0]]
        out = " ".join([group[int(u1 * len(group))], *tokens[1:]])
    elif method == "drop":
        i = 1 + int(u1 * (len(tokens) - 2))
        out = " ".join(tokens[:i] + tokens[i + 1 :])
    elif method == "join":
        i = int(u1 * (len(tokens) - 1))
        out = " ".join([*tokens[:i], tokens[i] + tokens[i + 1], *tokens[i + 2 :]])
    elif method == "consonant":
        spots = [(m.start(), 2, m.group(1)) for m in _DOUBLE.finditer(name)]
        for a, b in CONSONANT_SWAPS:
            spots += [(m.start(), len(a), b) for m in re.finditer(a, name)]
        start, length, repl = spots[int(u1 * len(spots))]
        out = name[:start] + repl + name[start + length :]
    elif method == "spelling":
        pairs = [(a, b) for a, b in OLD_SPELLINGS if a in name]
        a, b = pairs[int(u1 * len(pairs))]
        starts = [m.start() for m in re.finditer(a, name)]
        start = starts[int(u2 * len(starts))]
        out = name[:start] + b + name[start + len(a) :]
    if out == name or not out.strip():
        out = _typo(name, u1, u2, u3)
    return out


# --- hard negatives -----------------------------------------------------------------------

COMMON_NAMES = {False: ("MUHAMMAD RIZKI", "AHMAD FAUZI"), True: ("SITI AMINAH", "NUR AINI")}
COMMON_SHARE_OF_VILLAGE = 0.05


def _run_rank(keys: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal consecutive ``keys``."""
    n = len(keys)
    if not n:
        return np.zeros(0, dtype=np.int64)
    start = np.r_[True, keys[1:] != keys[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    return np.arange(n) - first


def hard_negatives(
    persons: pl.DataFrame, code: str, seed: int, rates: LinkageRates, end: int
) -> pl.DataFrame:
    """Turn some Dukcapil persons of one region into hard negatives, keeping every count.

    Twins (two children of one family card get the same birth date and issuing kecamatan,
    so their NIKs differ only in the serial), namesakes (same full name and sex, another
    birth date, same village, other family; half of them born within 45 days of each other)
    and common names (a few names given to up to 5% of the biggest villages). Adds
    ``hard_negative`` and ``hn_group`` (a label shared by the members of a group).
    """
    rng = rng_for(seed, f"linkage:hard_negatives:{code}")
    n = persons.height
    duk = (persons["group"] == "dukcapil").to_numpy()
    n_duk = int(duk.sum())
    fam = persons["family"].to_numpy()
    role = persons["role"].to_numpy()
    female = persons["female"].to_numpy()
    dob = persons["dob"].to_numpy().copy()
    village = persons["village"].to_numpy()
    names = persons["name"]
    kind = np.zeros(n, dtype=np.int64)  # 0 none, 1 twin, 2 namesake, 3 common_name
    group = np.full(n, -1, dtype=np.int64)
    copy_from = np.arange(n)  # twins take identity columns from their twin

    # Twins: the first two children of a family.
    kids = np.flatnonzero(duk & (role == 2))
    rank = _run_rank(fam[kids])
    a = kids[:-1][(rank[1:] == 1)]
    b = kids[1:][(rank[1:] == 1)]
    differ = (names.gather(a) != names.gather(b)).to_numpy() if len(a) else np.zeros(0, bool)
    a, b = a[differ], b[differ]
    want = min(len(a), round(rates.twins * n_duk / 2))
    pick = np.sort(rng.choice(len(a), size=want, replace=False)) if want else np.zeros(0, int)
    a, b = a[pick], b[pick]
    dob[b] = dob[a]
    copy_from[b] = a
    kind[a] = kind[b] = 1
    group[a] = group[b] = np.arange(len(a))
    next_group = len(a)

    # Namesakes: pairs of the same sex in the same village, other families.
    cand = np.flatnonzero(duk & (kind == 0))
    key = rng.random(len(cand))
    order = np.lexsort((key, female[cand], village[cand]))
    c = cand[order]
    vill_id = np.unique(village, return_inverse=True)[1] if n else np.zeros(0, np.int64)
    gkey = vill_id[c] * 2 + female[c]
    rank = _run_rank(gkey)
    first = (rank % 2 == 0)[:-1] & (gkey[1:] == gkey[:-1])
    a, b = c[:-1][first], c[1:][first]
    ok = (fam[a] != fam[b]) & (dob[a] != dob[b])
    a, b = a[ok], b[ok]
    want = min(len(a), round(rates.namesakes * n_duk / 2))
    pick = np.sort(rng.choice(len(a), size=want, replace=False)) if want else np.zeros(0, int)
    a, b = a[pick], b[pick]
    near = (rng.random(len(a)) < 0.5) & ((role[a] == 2) == (role[b] == 2))
    shift = rng.integers(1, 46, len(a)) * np.where(rng.random(len(a)) < 0.5, -1, 1)
    new_dob = dob[a] + shift
    new_dob = np.where(new_dob > end, dob[a] - np.abs(shift), new_dob)
    dob[b[near]] = new_dob[near]
    name_idx = np.arange(n)
    name_idx[b] = a
    kind[a] = kind[b] = 2
    group[a] = group[b] = next_group + np.arange(len(a))
    next_group += len(a)

    # Common names: up to 5% of the persons of the biggest villages, biggest first.
    want = round(rates.common_names * n_duk)
    cand = np.flatnonzero(duk & (kind == 0))
    common = np.zeros(n, dtype=bool)
    if want and len(cand):
        vills, inv, size = np.unique(village[cand], return_inverse=True, return_counts=True)
        vorder = np.lexsort((vills, -size))
        vrank = np.empty(len(vills), dtype=np.int64)
        vrank[vorder] = np.arange(len(vills))
        order = np.lexsort((rng.random(len(cand)), vrank[inv]))
        c = cand[order]
        rank = _run_rank(vrank[inv][order])
        cap = np.maximum(1, (size * COMMON_SHARE_OF_VILLAGE).astype(np.int64))
        c = c[rank < cap[inv[order]]][:want]
        common[c] = True
        kind[c] = 3
    which = (rng.random(n) < 0.5).astype(np.int64)
    common_name = pl.Series(
        [COMMON_NAMES[bool(f)][w] for f, w in zip(female[common], which[common], strict=True)],
        dtype=pl.String,
    )
    new_names = names.gather(pl.Series(name_idx, dtype=pl.UInt32)).scatter(
        np.flatnonzero(common), common_name
    )
    labels = vocab((None, "twin", "namesake", "common_name"), kind)  # type: ignore[arg-type]
    hn_group = pl.select(
        pl.when(pl.Series(kind == 3))
        .then(pl.lit(f"{code}:c:") + pl.Series(village) + ":" + new_names)
        .when(pl.Series(group >= 0))
        .then(pl.lit(f"{code}:g") + pl.Series(group).cast(pl.String))
        .otherwise(None)
    ).to_series()
    src = pl.Series(copy_from, dtype=pl.UInt32)
    status = persons["status_date"].to_numpy()
    out = persons.with_columns(
        dob=pl.Series(dob),
        name=new_names,
        status_date=pl.Series(np.where(status >= 0, np.maximum(status, dob), status)),
        **{c: persons[c].gather(src) for c in ("issue_kec", "nik_prefix", "birthplace")},
        old_region=persons["old_region"].gather(src),
        hard_negative=labels,
        hn_group=hn_group,
    )
    return out


def relatives(persons: pl.DataFrame) -> pl.DataFrame:
    """person_id → the NIK of another member of the same family card (null when alone)."""
    fam = ["region_code", "family"]
    nxt = pl.col("nik").shift(-1).over(fam, order_by="person_id")
    first = pl.col("nik").first().over(fam, order_by="person_id")
    size = pl.len().over(fam)
    return persons.select(
        "person_id",
        relative_nik=pl.when(size > 1).then(pl.coalesce(nxt, first)),
    )


# --- identity noise on rows ---------------------------------------------------------------


def nik_typos_anywhere(
    niks: np.ndarray, real_sorted: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """One digit changed or two adjacent digits swapped anywhere in each 16-digit NIK, never
    giving a real NIK or a leading zero. Returns the new values and a mask of successes."""
    m = len(niks)
    digits = np.frombuffer(niks.astype("S16").tobytes(), dtype=np.uint8).reshape(m, 16) - 48
    digits = digits.astype(np.int64)
    powers = 10 ** np.arange(15, -1, -1, dtype=np.int64)
    result = niks.astype("U16").copy()
    done = np.zeros(m, dtype=bool)
    for _ in range(8):
        todo = np.flatnonzero(~done)
        if not len(todo):
            break
        k = len(todo)
        rows = np.arange(k)
        d = digits[todo]
        new = d.copy()
        swap = rng.random(k) < 0.5
        pos = rng.integers(0, 15, k)
        a, b = d[rows, pos], d[rows, pos + 1]
        swap &= a != b
        new[rows[swap], pos[swap]] = b[swap]
        new[rows[swap], pos[swap] + 1] = a[swap]
        cpos = rng.integers(0, 16, k)
        changed = (d[rows, cpos] + rng.integers(1, 10, k)) % 10
        new[rows[~swap], cpos[~swap]] = changed[~swap]
        cand = new @ powers
        at = np.minimum(np.searchsorted(real_sorted, cand), len(real_sorted) - 1)
        ok = (real_sorted[at] != cand) & (new[:, 0] != 0)
        text = (new[ok] + 48).astype(np.uint8).view("S16").ravel().astype("U16")
        result[todo[ok]] = text
        done[todo[ok]] = True
    return result, done


def identity_noise(
    frame: pl.DataFrame,
    source: str,
    rates: LinkageRates,
    rng: np.random.Generator,
    rel: pl.DataFrame,
    real_sorted: np.ndarray,
    end: int,
) -> pl.DataFrame:
    """Add the linkage preset's NIK, name and birth-date noise to a BPJS or Dinsos frame
    that ``defects.inject`` has already processed; ``defects``/``expected`` are rebuilt."""
    n = frame.height
    has = {k: frame["defects"].list.contains(k).to_numpy() for k in DEFECT_KINDS}
    block = np.zeros(n, dtype=bool)
    for k in IDENTITY_BLOCK:
        block |= has[k]
    new: dict[str, np.ndarray] = {}
    choice = _categorical(n, [getattr(rates, k) for k in NIK_KINDS], rng)
    for i, k in enumerate(NIK_KINDS, start=1):
        new[k] = (choice == i) & ~block
    relative = frame.select("person_id").join(
        rel, on="person_id", how="left", maintain_order="left"
    )
    relative_nik = relative["relative_nik"]
    new["nik_of_relative"] &= relative_nik.is_not_null().to_numpy()

    nik = frame["NIK"]
    idx = np.flatnonzero(new["nik_typo"])
    if len(idx):
        typo, ok = nik_typos_anywhere(nik.gather(idx).to_numpy().astype("U16"), real_sorted, rng)
        new["nik_typo"][idx[~ok]] = False
        nik = nik.scatter(idx[ok], pl.Series(typo[ok].tolist(), dtype=pl.String))
    empties = vocab(NIK_EMPTY_VALUES, rng.integers(0, len(NIK_EMPTY_VALUES), n))
    col = pl.col("NIK")
    out = frame.with_columns(NIK=nik, _rel=relative_nik).with_columns(
        NIK=pl.when(pl.Series(new["nik_of_relative"]))
        .then(pl.col("_rel"))
        .when(pl.Series(new["nik_excel_scientific"]))
        .then(excel_scientific(col))
        .when(pl.Series(new["nik_truncated"]))
        .then(col.str.slice(0, 15))
        .when(pl.Series(new["nik_empty"]))
        .then(empties)
        .otherwise(col)
    )

    nik_problem = np.zeros(n, dtype=bool)
    for k in NIK_KINDS:
        nik_problem |= has[k] | new[k]
    name_col, dob_col = "NAMA", "TGL_LAHIR"
    u = rng.random(n)
    named = ~has["name_empty"] & (frame[name_col].str.len_chars() > 0).to_numpy()
    new["name_variant"] = named & (
        np.where(nik_problem, u < rates.name_variant_given_nik, u < rates.name_variant)
    )
    dob_ok = ~(has["dob_future"] | has["dob_unparseable"] | has["dob_nik_mismatch"])
    dob_noise = nik_problem & dob_ok & (rng.random(n) < rates.dob_given_nik)
    prefer_swap = rng.random(n) < rates.dob_swap_share
    sign = np.where(rng.random(n) < 0.5, -1, 1)
    d = frame.select(
        day=pl.col(dob_col).cast(pl.Int32).cast(pl.Date).dt.day(),
        month=pl.col(dob_col).cast(pl.Int32).cast(pl.Date).dt.month(),
    )
    day, month = d["day"].to_numpy(), d["month"].to_numpy()
    can_swap = (day <= 12) & (month <= 12) & (day != month)
    new["dob_swap"] = dob_noise & prefer_swap & can_swap
    new["dob_typo"] = dob_noise & ~new["dob_swap"]
    dob = pl.col(dob_col).cast(pl.Int32).cast(pl.Date)
    swapped = pl.date(dob.dt.year(), dob.dt.day(), dob.dt.month()).cast(pl.Int32).cast(pl.Int64)
    shifted = pl.col(dob_col) + pl.Series(sign)
    shifted = pl.when(shifted > end).then(pl.col(dob_col) - 1).otherwise(shifted)
    out = out.with_columns(
        pl.when(pl.Series(new["dob_swap"]))
        .then(swapped)
        .when(pl.Series(new["dob_typo"]))
        .then(shifted)
        .otherwise(pl.col(dob_col))
        .alias(dob_col)
    )

    idx = np.flatnonzero(new["name_variant"])
    if len(idx):
        draws = rng.random((len(idx), 4))
        olds = frame[name_col].gather(idx).to_list()
        variants = [name_variant(s, *draws[i]) for i, s in enumerate(olds)]
        out = out.with_columns(
            out[name_col].scatter(idx, pl.Series(variants, dtype=pl.String)).alias(name_col)
        )
    flags = {k: has[k] | new.get(k, False) for k in DEFECT_KINDS}
    return out.drop("_rel").with_columns(**defect_columns(flags, source, n))


# --- the benchmark's labels ----------------------------------------------------------------


def linkage_truth(truth_dir: Path) -> pl.DataFrame:
    """One row per BPJS and Dinsos row of a period generated with ``linkage=True``.

    Columns: source, line, key (as in ``rows.parquet``), person_id, nik_true (the person's
    Dukcapil NIK; null when Dukcapil does not know them), person_nik (their own NIK, also
    for persons unknown to Dukcapil), nik_written (as in the file), name_written,
    dob_written, flags nik_missing (``nik_empty``), nik_mistyped (``nik_typo``), nik_damaged
    (``nik_excel_scientific``/``nik_truncated``), nik_of_relative, name_variant, dob_swap,
    dob_typo, nik_typo_pos (0-based first digit where a mistyped NIK differs, else null),
    hard_negative and group_id of the person, expected and defects.
    """
    truth_dir = Path(truth_dir)
    rows = pl.read_parquet(truth_dir / "rows.parquet")
    if "nik_written" not in rows.columns:
        raise ValueError(f"{truth_dir} was generated without linkage=True (no nik_written)")
    persons = pl.read_parquet(truth_dir / "persons.parquet")
    has = pl.col("defects").list.contains
    digits = [
        pl.when(pl.col("nik_written").str.slice(i, 1) != pl.col("person_nik").str.slice(i, 1))
        .then(pl.lit(i, dtype=pl.Int8))
        .otherwise(None)
        for i in range(16)
    ]
    return (
        rows.filter(pl.col("source").is_in(["bpjs_membership", "dinsos_pbi"]))
        .join(
            persons.select(
                "person_id",
                "in_dukcapil",
                "hard_negative",
                "group_id",
                person_nik="nik",
            ),
            on="person_id",
            how="left",
            maintain_order="left",
        )
        .select(
            "source",
            "line",
            "key",
            "person_id",
            nik_true=pl.when(pl.col("in_dukcapil")).then(pl.col("person_nik")),
            person_nik="person_nik",
            nik_written="nik_written",
            name_written="name_written",
            dob_written="dob_written",
            nik_missing=has("nik_empty"),
            nik_mistyped=has("nik_typo"),
            nik_damaged=has("nik_excel_scientific") | has("nik_truncated"),
            nik_of_relative=has("nik_of_relative"),
            name_variant=has("name_variant"),
            dob_swap=has("dob_swap"),
            dob_typo=has("dob_typo"),
            nik_typo_pos=pl.when(has("nik_typo")).then(pl.coalesce(digits)),
            hard_negative="hard_negative",
            group_id="group_id",
            expected="expected",
            defects="defects",
        )
    )
