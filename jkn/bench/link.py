"""The linkage benchmark: our linker and splink 5 on the same labelled records.

``prepare`` generates a district with the generator's ``linkage`` preset (missing, mistyped,
damaged and relatives' NIKs, name variants, date typos, twins, namesakes, common names),
validates and stages it into a DuckDB file, and runs the NIK pass. Each tool then runs in its
own process (``python -m jkn.bench.link TOOL DB``) so that time and peak memory are its own,
and writes ``record → predicted NIK``; :func:`score` compares both with the truth.

On real data the only truth is the officers' answers on review pairs: :func:`from_decisions`
runs the automatic linkage alone (no answer applied, nothing stored) on each answered period
of a warehouse and measures its links on the pairs an officer judged.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import polars as pl

if TYPE_CHECKING:
    from jkn.link.config import LinkSettings

PERIOD = "2025-05"
REGION = "16.08"


@dataclass
class ToolResult:
    """One tool's run: how long, how much memory, how right."""

    tool: str
    persons: int
    records: int
    seconds: float
    peak_rss_gb: float
    links: int
    precision: float
    recall: float
    f1: float
    hard_negatives_wrongly_linked: int


@dataclass
class OfficersResult:
    """The automatic linkage measured on officers' answers (``jkn bench-link
    --from-decisions``): of the pairs judged, those it would link, and of those the ones an
    officer said are the same person."""

    periods: list[str]
    judged: int
    same: int
    different: int
    auto_linked: int
    """judged pairs whose record the automatic linkage links to that candidate"""
    auto_linked_same: int
    linked_elsewhere: int
    """pairs judged 'same' whose record the automatic linkage links to another NIK"""
    precision: float | None
    """auto_linked_same / auto_linked (None when it links none of the judged pairs)"""


def _judged(warehouse: Path, decisions: str) -> pl.DataFrame:
    """(period, source, line, candidate_nik, answer) of every answered pair: from an answered
    review file (.csv / .xlsx, as ``jkn lists import`` reads it) or a table of the restricted
    file with those columns (``audit.review_decisions``: the pairs on the lines answered)."""
    from jkn.databases import open_restricted_read_only
    from jkn.review import parse_answers, read_answers

    columns = ["period", "source", "line", "candidate_nik", "answer"]
    if Path(decisions).suffix.lower() in (".csv", ".xlsx"):
        frame, _ = read_answers(Path(decisions), decisions)
        rows = parse_answers(frame).filter(pl.col("answer").is_not_null())
        return rows.select(columns).drop_nulls(["period", "source", "line", "candidate_nik"])
    if not re.fullmatch(r"\w+\.\w+", decisions):
        raise ValueError(f"{decisions!r}: give a .csv or .xlsx file, or a table schema.name")
    with open_restricted_read_only(warehouse) as con:
        return con.sql(f"select {', '.join(columns)} from {decisions}").pl()


def from_decisions(
    warehouse: Path, decisions: str, settings: LinkSettings | None = None
) -> OfficersResult:
    """Precision of the automatic links on the officers' answers ``decisions`` (a file or a
    table, :func:`_judged`), each answered period's linkage run afresh from its staged rows
    with ``settings`` (default: settings.json) in a read-only connection."""
    from jkn.databases import open_restricted_read_only
    from jkn.link import automatic_decisions

    judged = _judged(warehouse, decisions).unique(["period", "source", "line", "candidate_nik"])
    found = []
    for period in sorted(judged["period"].unique().to_list()):
        with open_restricted_read_only(warehouse) as con:
            automatic_decisions(con, period, settings)
            decided = con.sql(
                "select source, line, nik as linked_nik from link_decisions where decision = 'link'"
            ).pl()
        found.append(decided.with_columns(pl.lit(period).alias("period")))
    linked = pl.concat(found) if found else pl.DataFrame(
        schema={"source": pl.String, "line": pl.Int64, "linked_nik": pl.String,
                "period": pl.Date}
    )  # fmt: skip
    both = judged.join(linked, on=["period", "source", "line"], how="left")
    same = pl.col("answer") == "same"
    here = pl.col("linked_nik") == pl.col("candidate_nik")
    auto = both.filter(here)
    auto_same = auto.filter(same).height
    return OfficersResult(
        periods=[f"{p:%Y-%m}" for p in sorted(judged["period"].unique().to_list())],
        judged=judged.height,
        same=judged.filter(same).height,
        different=judged.height - judged.filter(same).height,
        auto_linked=auto.height,
        auto_linked_same=auto_same,
        linked_elsewhere=both.filter(same & pl.col("linked_nik").is_not_null() & ~here).height,
        precision=round(auto_same / auto.height, 4) if auto.height else None,
    )


def stage_extracts(
    con: duckdb.DuckDBPyConnection, files: dict[str, Path], period: str, workdir: Path
) -> None:
    """Validate generated extracts and stage them as the monthly flow does (the one staging
    writer, :func:`jkn.ingest.stage.write_validated`), without Prefect, into a connection
    that has the restricted layers and the reference tables."""
    from jkn.ingest.readers import read_extract
    from jkn.ingest.stage import write_validated
    from jkn.ingest.validate import validate_extract
    from schemas import SCHEMAS

    for source, path in files.items():
        schema = SCHEMAS[source]
        raw = read_extract(path, source, schema.required, schema.optional, workdir)
        write_validated(con, validate_extract(raw, schema, period), period, "bench")


def prepare(workdir: Path, persons: int, seed: int = 7) -> Path:
    """Generate, validate and stage a labelled district; return the staged DuckDB file."""
    from jkn.databases import load_reference
    from jkn.generate import GenerateOptions, generate
    from warehouse import RESTRICTED_LAYERS, apply_layer

    options = GenerateOptions(
        regions=[REGION],
        period=PERIOD,
        persons=persons,
        seed=seed,
        linkage=True,
        formats={"dukcapil": "parquet", "dinsos_pbi": "parquet", "bpjs_membership": "parquet"},
    )
    result = generate(options, workdir / "landing")
    database = workdir / "bench.duckdb"
    database.unlink(missing_ok=True)
    with duckdb.connect(str(database)) as con:
        for layer in RESTRICTED_LAYERS:
            apply_layer(con, layer)
        load_reference(con)
        stage_extracts(con, result.files, PERIOD, workdir)
    (workdir / "truth_dir").write_text(str(result.truth_dir), encoding="utf-8")
    return database


def _ours(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    from jkn.resolve import resolve_persons

    day = dt.date.fromisoformat(f"{PERIOD}-01")
    resolve_persons(con, day)
    return con.sql(
        "select source, line, person_key as predicted from intermediate.row_person "
        "where method = 'linked'"
    ).pl()


def _splink(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """splink 5 (DuckDB backend) on the same two sides our blocking step builds."""
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    from jkn.link import load_settings, prepare_sides
    from jkn.resolve import resolve_persons

    day = dt.date.fromisoformat(f"{PERIOD}-01")
    resolve_persons(con, day, link=False)
    prepare_sides(con, day, load_settings())
    common = (
        "name_key, dob, sex, village, kecamatan, kabupaten, coalesce(no_kk, '') as no_kk, "
        "coalesce(nik, '') as nik, left(nik, 12) as nik12, right(nik, 10) as nik10"
    )
    con.execute(f"create table splink_people as select nik as unique_id, {common} from link_people")
    con.execute(
        f"create table splink_records as select rec_id as unique_id, {common} from link_records"
    )
    db_api = DuckDBAPI(con)
    people = db_api.register("splink_people", table_name="people")
    records = db_api.register("splink_records", table_name="records")
    linker_settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name_key", [0.95, 0.88]),
            cl.DateOfBirthComparison("dob", input_is_string=False),
            cl.DamerauLevenshteinAtThresholds("nik", [1, 2]),
            cl.ExactMatch("sex"),
            cl.ExactMatch("village"),
            cl.ExactMatch("no_kk"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("dob", "sex", "kabupaten"),
            block_on("nik12"),
            block_on("nik10"),
            block_on("name_key", "dob"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([people, records], linker_settings, log_level=30)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name_key", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    # EM blocks small enough at a million persons (a name alone is shared by thousands)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("dob", "sex", "village")
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("name_key", "kecamatan")
    )
    predictions = linker.inference.predict(threshold_match_probability=0.9)
    pairs = pl.from_arrow(predictions.as_duckdbpyrelation().to_arrow_table())
    assert isinstance(pairs, pl.DataFrame)
    best = (
        pairs.with_columns(
            pl.when(pl.col("source_dataset_l") == "records")
            .then(pl.col("unique_id_l"))
            .otherwise(pl.col("unique_id_r"))
            .alias("rec_id"),
            pl.when(pl.col("source_dataset_l") == "records")
            .then(pl.col("unique_id_r"))
            .otherwise(pl.col("unique_id_l"))
            .alias("predicted"),
        )
        .sort("match_probability", descending=True)
        .unique("rec_id", keep="first")
    )
    return best.select(
        pl.col("rec_id").str.split(":").list.get(0).alias("source"),
        pl.col("rec_id").str.split(":").list.get(1).cast(pl.Int64).alias("line"),
        "predicted",
    )


def peak_rss_gb() -> float:
    """This process's peak resident memory since it started, in GB: Linux's ``VmHWM``, which
    starts afresh at exec. ``ru_maxrss`` does not: it carries over the parent's resident memory
    at fork (the benchmark's, gigabytes after generating a million persons), so both tools
    showed the parent's figure. ``ru_maxrss`` only where there is no ``/proc``."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024**2  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def run_tool(tool: str, database: Path, output: Path) -> None:
    """Run one tool on a copy of the staged file; write predictions and its own cost."""
    from jkn.databases import duckdb_config

    work = database.with_name(f"{database.stem}.{tool}.duckdb")
    shutil.copyfile(database, work)
    start = time.perf_counter()
    with duckdb.connect(str(work), config=duckdb_config(work)) as con:
        predicted = _ours(con) if tool == "ours" else _splink(con)
        records = con.sql("select count(*) from link_records").fetchall()[0][0]
    seconds = time.perf_counter() - start
    predicted.write_parquet(output)
    peak = peak_rss_gb()
    output.with_suffix(".json").write_text(
        json.dumps({"seconds": seconds, "peak_rss_gb": peak, "records": records}),
        encoding="utf-8",
    )
    work.unlink()


def score(tool: str, persons: int, workdir: Path) -> ToolResult:
    """Precision, recall and F1 of one tool's links against the generator's truth."""
    from jkn.generate import linkage_truth

    truth_dir = Path((workdir / "truth_dir").read_text(encoding="utf-8"))
    truth = linkage_truth(truth_dir)
    rows = pl.read_parquet(truth_dir / "rows.parquet")
    damaged = ["nik_excel_scientific", "nik_truncated", "nik_empty"]
    reachable = (
        rows.filter(
            (pl.col("source") == "dukcapil")
            & (pl.col("defects").list.set_intersection(damaged).list.len() == 0)
        )
        .select("person_id")
        .unique()
    )
    predicted = pl.read_parquet(workdir / f"{tool}.parquet")
    cost = json.loads((workdir / f"{tool}.json").read_text(encoding="utf-8"))
    labelled = truth.filter(pl.col("expected") == "loaded").join(
        predicted, on=["source", "line"], how="left"
    )
    bad_nik = (
        pl.col("nik_missing")
        | pl.col("nik_mistyped")
        | pl.col("nik_damaged")
        | pl.col("nik_of_relative")
    )
    target = labelled.filter(bad_nik & pl.col("nik_true").is_not_null()).join(
        reachable, on="person_id", how="semi"
    )
    links = labelled.filter(pl.col("predicted").is_not_null())
    correct = links.filter(pl.col("predicted") == pl.col("nik_true")).height
    found = target.filter(pl.col("predicted") == pl.col("nik_true")).height
    precision = correct / links.height if links.height else 0.0
    recall = found / target.height if target.height else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    hard_wrong = links.filter(
        pl.col("hard_negative").is_not_null() & (pl.col("predicted") != pl.col("nik_true"))
    ).height
    return ToolResult(
        tool=tool,
        persons=persons,
        records=cost["records"],
        seconds=round(cost["seconds"], 1),
        peak_rss_gb=round(cost["peak_rss_gb"], 2),
        links=links.height,
        precision=round(precision, 4),
        recall=round(recall, 4),
        f1=round(f1, 4),
        hard_negatives_wrongly_linked=hard_wrong,
    )


def benchmark(workdir: Path, persons: int, tools: tuple[str, ...]) -> list[ToolResult]:
    """Prepare a district of ``persons`` and run each tool in its own process."""
    workdir.mkdir(parents=True, exist_ok=True)
    database = prepare(workdir, persons)
    results = []
    for tool in tools:
        subprocess.run(
            [sys.executable, "-m", "jkn.bench.link", tool, str(database), str(workdir / tool)],
            check=True,
        )
        results.append(score(tool, persons, workdir))
    (workdir / "results.json").write_text(
        json.dumps([asdict(r) for r in results], indent=2), encoding="utf-8"
    )
    return results


if __name__ == "__main__":
    import jkn.settings  # noqa: F401

    run_tool(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]).with_suffix(".parquet"))
