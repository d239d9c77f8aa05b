"""Benchmark `crmclean dedupe` end to end on synthetic data with known truth.

For each size: generate customers + truth (not timed), then run the real command
`crmclean dedupe customers.csv --rules rules/company.yaml --out OUT` in its own process
(load, standardise, block, compare, train, score, cluster, write) and measure its wall time and
peak RSS (os.wait4's rusage of that process). Accuracy comes from the clusters against the truth.

    .venv/bin/python benchmarks/bench_dedupe.py                 # 10k, 100k, 1M
    .venv/bin/python benchmarks/bench_dedupe.py --sizes 10000 --json out.json
    .venv/bin/python benchmarks/bench_dedupe.py --sizes 1000000 --record   # into RESULTS.md

Budget (issue 10; 1M rows, 2 cores): 30 s wall and 2 GB peak; F1 at 1M within 0.03 of 10k.
Other jobs share the 2 cores, so the CPU seconds (user + system) and the load average are kept
beside the wall time: `--record` adds the run to results.json (`dedupe_budget` of its size) and
rewrites RESULTS.md, which lists every recorded run with its commit and load.
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
    parser.add_argument(
        "--record", action="store_true", help="Add the runs to results.json and RESULTS.md."
    )
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_dedupe_") as tmp:
        for rows in args.sizes:
            load = os.getloadavg()
            result = run_size(rows, args.seed, Path(tmp))
            result["load_average_at_start"] = [round(x, 1) for x in load]
            results.append(result)
            print(json.dumps(result), flush=True)
    if args.record:
        from run_all import git_state

        record_runs([r for r in results if "error" not in r], git_state())
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


def record_runs(runs: list[dict[str, Any]], commit: str) -> None:
    """Append each run to `dedupe_budget` of its size in results.json; rewrite RESULTS.md."""
    from results_md import render_markdown

    path = ROOT / "benchmarks" / "results.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    for run in runs:
        label = {10_000: "10k", 100_000: "100k", 1_000_000: "1M"}.get(run["rows"])
        if label is None or label not in results["sizes"]:
            continue
        results["sizes"][label].setdefault("dedupe_budget", []).append(
            {
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "git_commit": commit,
                **{k: run[k] for k in BUDGET_FIELDS},
            }
        )
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    (ROOT / "benchmarks" / "RESULTS.md").write_text(render_markdown(results), encoding="utf-8")


BUDGET_FIELDS = (
    "load_average_at_start",
    "wall_seconds",
    "cpu_seconds",
    "peak_rss_gb",
    "candidate_pairs",
    "dedupe_seconds",
)


if __name__ == "__main__":
    main()
