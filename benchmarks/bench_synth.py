"""Benchmark the synthetic data generator (crmclean.synth) and writing its output.

    .venv/bin/python benchmarks/bench_synth.py [--rows 1000000] [--seed 7] [--no-write]

Prints JSON: generate() wall and CPU time, CSV and Parquet write times, file sizes, what was
generated and peak RSS (resource.getrusage). Budget: 1,000,000 rows generated in < 60 s on
2 cores. The 1-minute load average is printed too: on a shared machine wall time grows with it,
CPU time does not.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from crmclean.synth import generate_detailed


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _cpu_seconds() -> float:
    """User + system CPU of this process (all threads): unlike wall time, not inflated by load."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed_write(frame: pl.DataFrame, path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    if path.suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path)
    return round(time.perf_counter() - started, 2), round(path.stat().st_size / 2**20, 1)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true", help="only time generate()")
    args = parser.parse_args(argv)
    started, cpu_before = time.perf_counter(), _cpu_seconds()
    result = generate_detailed(args.rows, args.seed)
    seconds = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    sizes = result.entities["records"]
    report: dict[str, object] = {
        "rows": result.customers.height,
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 1),
        "generate_seconds": round(seconds, 2),
        "generate_cpu_seconds": round(cpu, 2),
        "rows_per_second": round(args.rows / seconds),
        "peak_rss_mb_after_generate": _peak_rss_mb(),
        "entities": result.entities.height,
        "entities_with_duplicates": int((sizes > 1).sum()),
        "hard_non_duplicates": result.entities.filter(pl.col("kind") != "unique").height,
        "defects": result.defects.height,
    }
    if not args.no_write:
        with tempfile.TemporaryDirectory() as folder:
            for name in ("customers.csv", "customers.parquet"):
                wall, megabytes = _timed_write(result.customers, Path(folder) / name)
                report[f"write_{name.replace('.', '_')}"] = {"seconds": wall, "mb": megabytes}
    report["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
