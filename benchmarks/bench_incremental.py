"""Benchmark an incremental night (issue 14): 1M customers, 1 % of them changed or new.

    .venv/bin/python benchmarks/bench_incremental.py [--rows 1000000] [--changed 0.01]
        [--compare-full] [--no-record]

Night 1 is a full `crmclean run` on synthetic customers (seed 7; not timed against the budget).
Night 2 takes the same customers with `--changed` of them changed (new e-mail, updated_at),
a tenth of that removed and as many new ones added (benchmarks/bench_run.py's next night), and
runs `--previous out/ --incremental` on a copy of night 1's folder. Each run is its own process:
wall time and peak RSS from os.wait4, steps and counts from manifest.json, the load average
before and after. Budget: <= 10 s wall and <= 2 GB peak RSS; exit 1 when over.
`--compare-full` also runs night 2 as a full run and counts the records whose golden id agrees.
Results go to results.json ("incremental") and RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from bench_run import customers, next_night

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLI = ROOT / ".venv" / "bin" / "crmclean"
RULES = ROOT / "rules" / "company.yaml"
BUDGET_S = 10.0
BUDGET_MB = 2048


def _run(data: Path, out: Path, *extra: str) -> dict[str, Any]:
    args = [str(CLI), "run", str(data), "-r", str(RULES), "-o", str(out)]
    args += ["--previous", str(out), "--no-report", "--quiet", *extra]
    load = [round(x, 1) for x in os.getloadavg()]
    started = time.perf_counter()
    proc = subprocess.Popen(args, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if code not in (0, 1):
        raise SystemExit(f"crmclean run failed with exit {code}: {err}")
    manifest = json.loads((out / "manifest.json").read_text())
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),
        "load_before": load,
        "load_after": [round(x, 1) for x in os.getloadavg()],
        "steps": manifest.get("steps", {}),
        "run_mode": manifest.get("run_mode"),
        "incremental": manifest.get("incremental", {}),
        "stderr": err.strip()[-500:],
    }


def _agreement(full: Path, fast: Path) -> float:
    left = pl.read_parquet(full / "crosswalk.parquet", columns=["record_id", "golden_id"])
    right = pl.read_parquet(fast / "crosswalk.parquet", columns=["record_id", "golden_id"])
    joined = left.join(right, on="record_id", suffix="_i")
    same = int((joined["golden_id"] == joined["golden_id_i"]).sum())
    return same / max(left.height, 1)


def measure(rows: int, changed: float, work: Path, compare_full: bool) -> dict[str, Any]:
    data = work / "data"
    data.mkdir(parents=True, exist_ok=True)
    night1, night2 = data / f"night1-{rows}.parquet", data / f"night2-{rows}-{changed}.parquet"
    if not night1.exists():
        customers(rows, 7).write_parquet(night1)
    if not night2.exists():
        next_night(pl.read_parquet(night1), changed, 8).write_parquet(night2)
    first = work / f"out-{rows}"
    if not (first / "record_hashes.parquet").exists():
        shutil.rmtree(first, ignore_errors=True)
        print("night 1 (full run) ...", file=sys.stderr)
        full1 = _run(night1, first)
        print(json.dumps({"night1": full1}, indent=2), file=sys.stderr)
    fast = work / "fast"
    shutil.rmtree(fast, ignore_errors=True)
    shutil.copytree(first, fast)
    print("night 2 (incremental) ...", file=sys.stderr)
    entry = _run(night2, fast, "--incremental")
    entry.update(
        rows=rows,
        changed_share=changed,
        budget_s=BUDGET_S,
        budget_mb=BUDGET_MB,
        within_budget=entry["wall_s"] <= BUDGET_S and entry["peak_rss_mb"] <= BUDGET_MB,
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    )
    if compare_full:
        full = work / "full"
        shutil.rmtree(full, ignore_errors=True)
        shutil.copytree(first, full)
        print("night 2 (full run, to compare) ...", file=sys.stderr)
        entry["full_run"] = {k: v for k, v in _run(night2, full).items() if k != "stderr"}
        entry["golden_id_agreement"] = round(_agreement(full, fast), 6)
    return entry


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--work", type=Path, default=HERE / "out" / "incremental")
    parser.add_argument("--compare-full", action="store_true")
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args(argv)
    entry = measure(args.rows, args.changed, args.work, args.compare_full)
    print(json.dumps(entry, indent=2))
    if not args.no_record:
        from results_md import render_markdown
        from run_all import git_state

        entry["command"] = " ".join([".venv/bin/python", "benchmarks/bench_incremental.py", *argv])
        entry["git_commit"] = git_state()
        results = json.loads(args.results.read_text()) if args.results.exists() else {"sizes": {}}
        # one row per commit measured: the table shows what each change did
        key = f"{args.rows} at {args.changed} ({str(entry['git_commit'])[:10]})"
        results.setdefault("incremental", {})[key] = entry
        args.results.write_text(json.dumps(results, indent=2, default=str) + "\n")
        if "machine" in results:
            args.markdown.write_text(render_markdown(results))
    return 0 if entry["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
