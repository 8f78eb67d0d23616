"""A province-sized landing for `jkn bench` (README, "Benchmark": its 10M row).

The generator holds a district in memory (10M residents at once needs about 18 GB), so this
generates several kab/kota one at a time with the benchmark's seed and period and concatenates
their extracts. The seed fixes each file's form (header spelling, encoding, line breaks), so
the parts of one source share it and are joined below one header. Card numbers come from the
same random stream in every part: the k-th part's 13-digit NOKA get k as their third digit
(still 13 digits, the contract's form) so that they stay unique across the province.

    .venv/bin/python tools/bench_province.py /tmp/bench/10000000/landing
    .venv/bin/jkn bench --persons 10000000 --workdir /tmp/bench
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import polars as pl

from jkn.bench.pipeline import CSV_ONLY, PERIOD
from jkn.generate import GenerateOptions, generate

# the benchmark's kab/kota and three more of its province (Sumatera Selatan)
DISTRICTS = ("16.08", "16.01", "16.02", "16.03")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("landing", type=Path, help="the landing root to write")
    parser.add_argument("--persons-per-district", type=int, default=2_500_000)
    parser.add_argument("--districts", nargs="+", default=list(DISTRICTS))
    args = parser.parse_args()
    out = args.landing / PERIOD
    out.mkdir(parents=True, exist_ok=True)
    (args.landing / "_truth").mkdir(exist_ok=True)  # no truth: the benchmark reads none
    with tempfile.TemporaryDirectory(prefix="bench-province-") as scratch:
        parts = []
        for region in args.districts:
            part = Path(scratch) / region.replace(".", "")
            options = GenerateOptions(
                regions=[region],
                period=PERIOD,
                persons=args.persons_per_district,
                formats=dict(CSV_ONLY),
            )
            generate(options, part)
            parts.append(part / PERIOD)
            sys.stderr.write(f"generated {region}\n")
        for source in CSV_ONLY:
            with (out / f"{source}.csv").open("wb") as sink:
                for k, part in enumerate(parts):
                    path = part / f"{source}.csv"
                    if source == "bpjs_membership" and k > 0:
                        path = _renumbered(path, k, Path(scratch) / f"{source}-{k}.csv")
                    with path.open("rb") as rows:
                        if k > 0:
                            rows.readline()  # one header for the province
                        shutil.copyfileobj(rows, sink, 16 << 20)
            sys.stderr.write(f"wrote {out / source}.csv\n")


def _renumbered(path: Path, k: int, target: Path) -> Path:
    """The part's BPJS extract with k as the third digit of its 13-digit card numbers, in the
    part's own encoding (UTF-8, or Windows-1252 when the seed's form is that)."""
    raw = path.read_bytes()
    try:
        text, encoding = raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = raw.decode("cp1252"), "cp1252"
    frame = pl.read_csv(text.encode("utf-8"), infer_schema=False)
    # the column as this seed's header spells it
    name = next(c for c in frame.columns if c.strip().upper() == "NOKA")
    noka = pl.col(name)
    frame = frame.with_columns(
        pl.when(noka.str.len_chars() == 13)
        .then(noka.str.slice(0, 2) + pl.lit(str(k)) + noka.str.slice(3))
        .otherwise(noka)
        .alias(name)
    )
    target.write_bytes(frame.write_csv().encode(encoding, errors="replace"))
    return target


if __name__ == "__main__":
    main()
