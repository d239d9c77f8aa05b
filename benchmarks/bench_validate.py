"""Benchmark `crmclean validate` with rules/company.yaml on synthetic customers.

    .venv/bin/python benchmarks/bench_validate.py [--rows 1000000] [--input customers.csv]

The command runs as a child process exactly as a user would start it (reading the CSV, all
checks, the JSON report and an --out folder); wall time, CPU time and peak RSS come from
os.wait4. Then, in this process, each rule is timed alone to show where the time goes.
Budget: 1,000,000 rows in < 20 s wall and < 3 GB peak RSS on 2 cores.
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

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules" / "company.yaml"
CRMCLEAN = Path(sys.executable).parent / "crmclean"


def synth_csv(rows: int, seed: int, folder: Path) -> Path:
    from crmclean.synth import generate

    path = folder / f"customers-{rows}-seed{seed}.csv"
    if not path.exists():
        customers, _truth = generate(rows, seed)
        customers.write_csv(path)
    return path


def run_cli(data: Path, out: Path) -> dict[str, float | int]:
    """Run the command as a child; wall time, CPU seconds and peak RSS of that child alone."""
    command = [str(CRMCLEAN), "validate", str(data), "--rules", str(RULES)]
    command += ["--format", "json", "--out", str(out)]
    started = time.perf_counter()
    with open(out.parent / "report.json", "wb") as stdout:
        child = subprocess.Popen(command, stdout=stdout)
        _pid, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # Linux reports KiB
        "exit_code": os.waitstatus_to_exitcode(status),
    }


def per_rule(data: Path) -> list[tuple[str, float, int]]:
    """Each rule's wall time in this process (same code path as validate())."""
    from crmclean.config import load_rules
    from crmclean.core.rule_plan import Environment, context, plan
    from crmclean.core.validation import _run_rule, normalise_nulls
    from crmclean.io.readers import read_table

    rules = load_rules(RULES).rules
    frame = read_table(data, id_column=rules.dataset.id_column).frame
    table = normalise_nulls(frame, rules.dataset.null_tokens)
    env = Environment()
    timings = []
    for rule in plan(rules):
        started = time.perf_counter()
        result, _violations = _run_rule(rule, context(rules, rule, env), table)
        timings.append((rule.rule_id, time.perf_counter() - started, result.violations))
    return timings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--input", type=Path, default=None, help="a customers file instead")
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--no-breakdown", action="store_true", help="skip the per-rule timing")
    args = parser.parse_args(argv)
    data = args.input or synth_csv(args.rows, args.seed, args.data_dir)
    rows = pl.scan_csv(data, infer_schema=False).select(pl.len()).collect().item()
    with tempfile.TemporaryDirectory() as tmp:
        measured = run_cli(data, Path(tmp) / "out")
    print(json.dumps({"command": "validate", "rows": rows, "input": str(data), **measured}))
    if not args.no_breakdown:
        for rule_id, seconds, violations in sorted(per_rule(data), key=lambda t: -t[1])[:10]:
            print(f"  {rule_id:<32} {seconds:6.2f} s  {violations:>9,} violations")
    return 0 if measured["exit_code"] in (0, 1) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
