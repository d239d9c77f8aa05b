"""`crmclean profile` on a wide file: 5,000 columns x 100 rows (budget: 30 s and 1 GiB peak RSS).

A wide export (one column per survey answer, per month, per custom field) once made `profile`
grow past 13 GB: it ran one query per column, all at once. This benchmark writes such a file
(numbers, codes, e-mail-like and empty columns mixed, about 1.5 MB), runs the real CLI as a
child process and reads the child's own wall clock and peak RSS (os.wait4), as bench_profile.py
does for a tall file.

    .venv/bin/python benchmarks/bench_profile_wide.py                   # 5,000 x 100
    .venv/bin/python benchmarks/bench_profile_wide.py --columns 20000
    .venv/bin/python benchmarks/bench_profile_wide.py --format table     # the console table too

Exit status 1 when a budget is exceeded or the profile lacks a column.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

MAX_SECONDS = 30.0
MAX_RSS_MIB = 1024.0
CRMCLEAN = Path(sys.executable).with_name("crmclean")


def wide_frame(columns: int, rows: int, seed: int) -> pl.DataFrame:
    """Columns of four kinds in turn, so every profiling path (types, shapes, counts) has work."""
    rng = np.random.default_rng(seed)
    data: dict[str, list[str | None]] = {}
    for i in range(columns):
        kind = i % 4
        if kind == 0:
            values: list[str | None] = [str(n) for n in rng.integers(0, 1000, rows)]
        elif kind == 1:
            values = [f"K{n:03d}" for n in rng.integers(0, 50, rows)]
        elif kind == 2:
            values = [f"u{n}@example.de" for n in rng.integers(0, rows, rows)]
        else:
            values = [None if n else "x" for n in rng.integers(0, 10, rows)]
        data[f"field_{i:05d}"] = values
    return pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))


def run_cli(path: Path, fmt: str, out: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MiB) of `crmclean profile` in its own process."""
    start = time.perf_counter()
    with out.open("w") as handle:
        child = subprocess.Popen(
            [str(CRMCLEAN), "profile", str(path), "--format", fmt], stdout=handle
        )
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"crmclean profile failed with status {status}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # KiB on Linux


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, default=5_000)
    parser.add_argument("--rows", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", choices=["json", "table"], default="json")
    parser.add_argument("--write-csv", type=Path, help=argparse.SUPPRESS)  # the generator child
    args = parser.parse_args()
    if args.write_csv:
        wide_frame(args.columns, args.rows, args.seed).write_csv(args.write_csv)
        return 0
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = folder / "wide.csv"
        # generated in a child, so this process stays small when it spawns the measured one
        command = [sys.executable, __file__, "--columns", str(args.columns)]
        command += ["--rows", str(args.rows), "--seed", str(args.seed)]
        subprocess.run([*command, "--write-csv", str(path)], check=True)
        size_mb = path.stat().st_size / 1e6
        out = folder / "profile.out"
        wall, cpu, peak = run_cli(path, args.format, out)
        profiled = len(json.loads(out.read_text())["columns"]) if args.format == "json" else None
    print(
        f"input: {args.columns:,} columns x {args.rows:,} rows, {size_mb:.1f} MB, "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"crmclean profile --format {args.format}: wall {wall:.2f} s, CPU {cpu:.2f} s, "
        f"peak RSS {peak:.0f} MiB"
    )
    failed = False
    if profiled is not None and profiled != args.columns:
        print(f"profile lists {profiled} columns, expected {args.columns}")
        failed = True
    if wall > MAX_SECONDS:
        print(f"over budget: {wall:.2f} s > {MAX_SECONDS} s")
        failed = True
    if peak > MAX_RSS_MIB:
        print(f"over budget: peak RSS {peak:.0f} MiB > {MAX_RSS_MIB:.0f} MiB")
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
