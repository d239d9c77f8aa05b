"""Benchmark `clean()` with the company rules on synthetic customers.

    .venv/bin/python benchmarks/bench_clean.py [--rows 1000000] [--input customers.parquet]

Prints wall time, peak RSS (resource.getrusage) and, per slow step, the unique-value ratio and
how many distinct values the slow library had to parse (the rest took a vectorised fast path).
Budget: 1,000,000 rows in < 30 s wall and < 4 GB peak RSS on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import polars as pl

from crmclean.config import load_rules
from crmclean.core.cleaning import clean
from crmclean.io.readers import read_table

ROOT = Path(__file__).resolve().parents[1]


def _customers(rows: int, path: Path | None) -> pl.DataFrame:
    rules = load_rules(ROOT / "rules" / "company.yaml").rules
    if path is not None:
        return read_table(path, id_column=rules.dataset.id_column).frame
    from crmclean.synth import generate

    customers, _truth = generate(rows, seed=7)
    id_column = rules.dataset.id_column or "customer_id"
    return customers.select(
        pl.col(id_column).cast(pl.String).alias("record_id"), pl.all()
    ).with_columns(pl.exclude("record_id").cast(pl.String))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--input", type=Path, default=None, help="customers file instead of synth")
    args = parser.parse_args(argv)
    frame = _customers(args.rows, args.input)
    rules = load_rules(ROOT / "rules" / "company.yaml").rules
    started, cpu_started = time.perf_counter(), time.process_time()
    result = clean(frame, rules)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    slow = result.step_stats.filter(pl.col("unique_inputs").is_not_null()).select(
        "column",
        "step",
        (pl.col("unique_inputs") / pl.col("rows")).round(4).alias("unique_ratio"),
        "slow_inputs",
        pl.col("seconds").round(2),
    )
    report = {
        "rows": frame.height,
        "clean_seconds": round(wall, 2),
        "clean_cpu_seconds": round(cpu, 2),  # user+sys of all threads: shows a busy machine
        "load_average_1min": round(os.getloadavg()[0], 1),
        "peak_rss_mb": round(peak_mb),
        "changes": result.changes.height,
        "slow_steps": slow.to_dicts(),
        "top_steps": result.step_stats.sort("seconds", descending=True)
        .head(8)
        .select("column", "step", pl.col("seconds").round(2))
        .to_dicts(),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
