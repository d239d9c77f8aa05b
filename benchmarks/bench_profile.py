"""`crmclean profile` on 1,000,000 rows: wall time and peak RSS (budget: under 10 s).

Generates synthetic customers (crmclean.synth when it is there, else simple columns),
writes them as CSV, then runs the real CLI as a child process, so the figures are the
command's own: wall clock around it, the child's CPU time and peak RSS from os.wait4 (the
getrusage of that one child). CPU time is the fairer figure on a shared, busy machine. The
in-process split (read vs profile) is printed too.

    .venv/bin/python benchmarks/bench_profile.py                 # 1,000,000 rows
    .venv/bin/python benchmarks/bench_profile.py --rows 100000
    .venv/bin/python benchmarks/bench_profile.py --input data.csv

Exit status 1 when the budget is exceeded.
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
from typing import Any

import numpy as np
import polars as pl

from crmclean.core.profile import profile_frame
from crmclean.io.readers import read_table

MAX_SECONDS = 10.0
CRMCLEAN = Path(sys.executable).with_name("crmclean")


def customers(rows: int, seed: int) -> pl.DataFrame:
    try:
        from crmclean.synth import generate
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
            "country": rng.choice(["DE", "AT", "CH", "Germany", ""], rows).tolist(),
        }
    )


def run_cli(path: Path, folder: Path) -> tuple[float, float, float, dict[str, Any]]:
    """Wall seconds, CPU seconds, peak RSS in MiB and the JSON of `crmclean profile`.

    os.wait4 gives the child's own rusage; the parent holds no data while it spawns the child
    (a forked parent's pages would count towards the child's peak).
    """
    out = folder / "profile.json"
    start = time.perf_counter()
    with out.open("w") as handle:
        child = subprocess.Popen(
            [str(CRMCLEAN), "profile", str(path), "--format", "json"], stdout=handle
        )
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"crmclean profile failed with status {status}")
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, json.loads(out.read_text())  # KiB on Linux


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
    parser.add_argument("--write-csv", type=Path, help=argparse.SUPPRESS)  # the generator child
    args = parser.parse_args()
    if args.write_csv:
        customers(args.rows, args.seed).write_csv(args.write_csv)
        return 0
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        path = args.input or _generate(folder / "customers.csv", args.rows, args.seed)
        size_mb = path.stat().st_size / 1e6
        wall, cpu, peak, document = run_cli(path, folder)
        read_s, profile_s = split(path)
    print(f"input: {path.name}, {size_mb:.1f} MB, {document['rows']:,} rows, ", end="")
    print(
        f"{len(document['columns'])} columns, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"crmclean profile --format json: wall {wall:.2f} s, CPU {cpu:.2f} s, "
        f"peak RSS {peak:.0f} MiB"
    )
    print(f"in process: read_table {read_s:.2f} s, profile_frame {profile_s:.2f} s")
    if wall > MAX_SECONDS:
        print(f"over budget: {wall:.2f} s > {MAX_SECONDS} s")
        return 1
    return 0


def _generate(path: Path, rows: int, seed: int) -> Path:
    """In a child process, so this process stays small when it spawns the measured one."""
    start = time.perf_counter()
    command = [sys.executable, __file__, "--rows", str(rows), "--seed", str(seed)]
    subprocess.run([*command, "--write-csv", str(path)], check=True)
    print(f"generated {rows:,} rows in {time.perf_counter() - start:.1f} s")
    return path


if __name__ == "__main__":
    sys.exit(main())
