"""Benchmark `crmclean dedupe` end to end on synthetic data with known truth.

For each size: generate customers + truth (not timed), then run the real command
`crmclean dedupe customers.csv --rules rules/company.yaml --out OUT` in its own process
(load, standardise, block, compare, train, score, cluster, write) and measure its wall time and
peak RSS (os.wait4's rusage of that process). Accuracy comes from the clusters against the truth.

    .venv/bin/python benchmarks/bench_dedupe.py                 # 10k, 100k, 1M
    .venv/bin/python benchmarks/bench_dedupe.py --sizes 10000 --json out.json

Budgets (1M rows, 2 cores): under 60 s wall and 4 GB peak; F1 at 1M within 0.03 of 10k.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl

from crmclean.core.matching.evaluation import evaluate
from crmclean.synth import generate

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules" / "company.yaml"
CRMCLEAN = Path(sys.executable).with_name("crmclean")


def _measure(command: list[str]) -> tuple[int, float, float, float, str]:
    """Exit code, wall seconds, CPU seconds (user + system), peak RSS in GB and stderr of one
    command in its own process. CPU time stays meaningful when other jobs share the cores."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        err.seek(0)
        message = err.read().decode(errors="replace")
    process.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return process.returncode, wall, cpu, usage.ru_maxrss / 1024**2, message  # ru_maxrss: KiB


def run_size(rows: int, seed: int, work: Path) -> dict[str, Any]:
    customers, truth = generate(rows, seed)
    data = work / f"customers_{rows}.csv"
    customers.write_csv(data)
    out = work / f"out_{rows}"
    code, wall, cpu, rss_gb, err = _measure(
        [str(CRMCLEAN), "dedupe", str(data), "--rules", str(RULES), "--out", str(out), "-q"]
    )
    if code != 0:
        return {"rows": rows, "error": err.strip(), "exit_code": code}
    summary = json.loads((out / "dedupe.json").read_text(encoding="utf-8"))
    scores = evaluate(pl.read_parquet(out / "clusters.parquet"), truth)
    stats = summary["stats"]
    return {
        "rows": rows,
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "peak_rss_gb": round(rss_gb, 3),
        "pairwise": {k: round(v, 4) for k, v in asdict(scores.pairwise).items()},
        "bcubed": {k: round(v, 4) for k, v in asdict(scores.bcubed).items()},
        "candidate_pairs": stats["candidate_pairs"],
        "comparisons_per_second": round(stats["comparisons_per_second"]),
        "pairs_per_rule": {r["rule"]: r["pairs"] for r in summary["blocking"]},
        "dedupe_seconds": {k: round(v, 2) for k, v in stats["seconds"].items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_dedupe_") as tmp:
        for rows in args.sizes:
            result = run_size(rows, args.seed, Path(tmp))
            results.append(result)
            print(json.dumps(result), flush=True)
    ok = [r for r in results if "error" not in r]
    if ok:
        print(
            f"\n{'rows':>10} {'wall s':>8} {'CPU s':>8} {'RSS GB':>7} {'F1':>7} {'B3 F1':>7} "
            f"{'cmp/s':>10}"
        )
        for r in ok:
            print(
                f"{r['rows']:>10,} {r['wall_seconds']:>8.1f} {r['cpu_seconds']:>8.1f} "
                f"{r['peak_rss_gb']:>7.2f} "
                f"{r['pairwise']['f1']:>7.4f} {r['bcubed']['f1']:>7.4f} "
                f"{r['comparisons_per_second']:>10,}"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
