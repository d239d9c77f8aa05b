"""Benchmark two nights of `crmclean run` on synthetic customers.

    .venv/bin/python benchmarks/bench_run.py [--rows 1000000] [--changed 0.01] [--keep]

Night 1 runs on fresh data; night 2 runs with --previous on the same customers with a share of
rows changed (new e-mail, phone and updated_at), a few removed and as many new ones added. Each
run is a separate process: wall time and peak RSS come from os.wait4, step timings and row
counts from the run's manifest.json. Budget: each night < 180 s wall and < 8 GB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "crmclean"
BUDGET_SECONDS = 180
BUDGET_RSS_MB = 8 * 1024


def customers(rows: int, seed: int) -> pl.DataFrame:
    from crmclean.synth import generate

    frame, _truth = generate(rows, seed=seed)
    return frame


def next_night(frame: pl.DataFrame, share: float, seed: int) -> pl.DataFrame:
    """`share` of the rows changed; share/10 removed and as many new customers added."""
    n = frame.height
    changed = max(1, int(n * share))
    gone = max(1, changed // 10)
    shuffled = frame.with_row_index("_i").sample(fraction=1.0, shuffle=True, seed=seed)
    touched = set(shuffled.get_column("_i").head(changed).to_list())
    removed = set(shuffled.get_column("_i").slice(changed, gone).to_list())
    marked = frame.with_row_index("_i").with_columns(pl.col("_i").is_in(list(touched)).alias("_t"))
    updated = marked.with_columns(
        pl.when(pl.col("_t"))
        .then(pl.lit("new.") + pl.col("_i").cast(pl.String) + pl.lit("@example.org"))
        .otherwise(pl.col("email"))
        .alias("email"),
        pl.when(pl.col("_t"))
        .then(pl.lit("2026-11-20T09:00:00"))
        .otherwise(pl.col("updated_at"))
        .alias("updated_at"),
    ).filter(~pl.col("_i").is_in(list(removed)))
    fresh = customers(gone, seed + 1).with_columns(
        (pl.lit("N") + pl.int_range(pl.len()).cast(pl.String).str.zfill(9)).alias("customer_id")
    )
    return pl.concat([updated.drop("_i", "_t"), fresh], how="vertical_relaxed")


def run(args: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.Popen([str(CLI), "run", *args, "--quiet"], stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if code not in (0, 1):
        raise SystemExit(f"crmclean run failed with exit {code}: {err}")
    return {"exit": code, "wall_s": round(wall, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def night(data: Path, rules: Path, out: Path, previous: Path | None) -> dict[str, Any]:
    args = [str(data), "--rules", str(rules), "--out", str(out)]
    if previous is not None:
        args += ["--previous", str(previous)]
    measured = run(args)
    manifest = json.loads((out / "manifest.json").read_text())
    measured["steps_s"] = manifest["steps"]
    measured["rows"] = manifest["rows"]
    measured["changes_since_previous"] = manifest["changes_since_previous"]
    measured["within_budget"] = (
        measured["wall_s"] < BUDGET_SECONDS and measured["peak_rss_mb"] < BUDGET_RSS_MB
    )
    return measured


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--changed", type=float, default=0.01, help="share changed on night 2")
    parser.add_argument("--rules", type=Path, default=ROOT / "rules" / "company.yaml")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench_run_"))
    try:
        first = customers(args.rows, args.seed)
        first.write_parquet(work / "night1.parquet")
        next_night(first, args.changed, args.seed).write_parquet(work / "night2.parquet")
        del first
        result = {
            "rows": args.rows,
            "changed_share": args.changed,
            "cpus": os.cpu_count(),
            "night1": night(work / "night1.parquet", args.rules, work / "out1", None),
            "night2": night(work / "night2.parquet", args.rules, work / "out2", work / "out1"),
        }
        print(json.dumps(result, indent=2))
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
