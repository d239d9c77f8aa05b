"""`crmclean profile` on 1,000,000 rows: wall time and peak RSS (budget: under 10 s).

Generates synthetic customers (crmclean.core.synth when it is there, else simple columns),
writes them as CSV, then runs the real CLI as a child process, so the figures are the
command's own: wall clock around it and the child's peak RSS from resource.getrusage. The
in-process split (read vs profile) is printed too.

    .venv/bin/python benchmarks/bench_profile.py                 # 1,000,000 rows
    .venv/bin/python benchmarks/bench_profile.py --rows 100000
    .venv/bin/python benchmarks/bench_profile.py --input data.csv

Exit status 1 when the budget is exceeded.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from crmclean.core.profile import profile_frame
from crmclean.io.readers import read_table

MAX_SECONDS = 10.0
CRMCLEAN = Path(sys.executable).with_name("crmclean")


def customers(rows: int, seed: int) -> pl.DataFrame:
    try:
        from crmclean.core.synth import generate
    except ImportError:
        return _simple(rows, seed)
    frame, _truth = generate(rows, seed)
    return frame


def _simple(rows: int, seed: int) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    ids = np.arange(rows)
    return pl.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in ids],
            "email": [f"p{i}@example.de" for i in rng.integers(0, rows, rows)],
            "phone": [f"+49 30 {n:07d}" for n in rng.integers(0, 10**7, rows)],
            "postcode": [f"{n:05d}" for n in rng.integers(1000, 99999, rows)],
            "country": rng.choice(["DE", "AT", "CH", "Germany", None], rows).tolist(),
        }
    )


def run_cli(path: Path) -> tuple[float, float, dict[str, object]]:
    """Wall seconds, peak RSS in MiB and the parsed JSON of `crmclean profile --format json`."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(CRMCLEAN), "profile", str(path), "--format", "json"],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    return wall, peak_mib, json.loads(done.stdout)


def split(path: Path) -> tuple[float, float]:
    start = time.perf_counter()
    frame = read_table(path).frame
    read_s = time.perf_counter() - start
    start = time.perf_counter()
    profile_frame(frame)
    return read_s, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--input", type=Path, help="profile this file instead of synthetic data")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.input
        if path is None:
            path = Path(folder) / "customers.csv"
            start = time.perf_counter()
            customers(args.rows, args.seed).write_csv(path)
            print(f"generated {args.rows:,} rows in {time.perf_counter() - start:.1f} s")
        size_mb = path.stat().st_size / 1e6
        wall, peak, document = run_cli(path)
        read_s, profile_s = split(path)
    rows, columns = document["rows"], len(document["columns"])  # type: ignore[arg-type]
    print(f"input: {path.name}, {size_mb:.1f} MB, {rows:,} rows, {columns} columns")
    print(f"crmclean profile --format json: wall {wall:.2f} s, peak RSS {peak:.0f} MiB")
    print(f"in process: read_table {read_s:.2f} s, profile_frame {profile_s:.2f} s")
    if wall > MAX_SECONDS:
        print(f"over budget: {wall:.2f} s > {MAX_SECONDS} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
