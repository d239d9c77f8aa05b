"""Peak memory per step of one `crmclean run`: where memory grows with the row count.

Runs the command (with `--log-json`, whose `step_started` events time the steps) and samples
the resident memory of its process group twice a second; then prints, per step, the RSS when
it started and the highest RSS seen while it ran. The dedupe step is split into its own parts
(block, compare, train, ...) by the seconds dedupe.json records for each, in order.

    .venv/bin/python benchmarks/rss_steps.py data/customers.csv --out /tmp/out -- \
        --engine duckdb --memory 4GB
    .venv/bin/python benchmarks/rss_steps.py data/customers.csv --out /tmp/out --json steps.json

Measured under load the times stretch; the memory figures are the ones to read.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from measure import group_rss_mb

ROOT = Path(__file__).resolve().parents[1]
CRMCLEAN = Path(sys.executable).with_name("crmclean")
# the parts core/matching's dedupe() times, in the order it runs them
DEDUPE_PARTS = ("block", "compare", "train", "score", "cluster", "recall_estimate")


def sample(argv: list[str], every_s: float = 0.5) -> tuple[int, list[tuple[float, float]]]:
    """Run `argv` in its own process group; its exit code and (unix time, MB) samples."""
    proc = subprocess.Popen(argv, cwd=ROOT, start_new_session=True)
    samples: list[tuple[float, float]] = []
    while proc.poll() is None:
        samples.append((time.time(), group_rss_mb(proc.pid)))
        time.sleep(every_s)
    return proc.returncode, samples


def step_windows(log: Path, dedupe_seconds: dict[str, float]) -> list[tuple[str, float]]:
    """(step, unix start time) in order; dedupe split into its recorded parts."""
    starts: list[tuple[str, float]] = []
    for line in log.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        if event.get("event") == "step_started":
            when = datetime.fromisoformat(event["ts"].replace("Z", "+00:00")).timestamp()
            if event["step"] == "dedupe" and dedupe_seconds:
                at = when
                for part in DEDUPE_PARTS:  # dedupe.json sorts its keys: the order they ran in
                    if part in dedupe_seconds:
                        starts.append((f"dedupe.{part}", at))
                        at += dedupe_seconds[part]
                starts.append(("dedupe.rest", at))  # the review pairs, the summary
            else:
                starts.append((event["step"], when))
    return starts


def per_step(
    starts: list[tuple[str, float]], samples: list[tuple[float, float]]
) -> list[dict[str, Any]]:
    rows = []
    ends = [s for _, s in starts[1:]] + [float("inf")]
    for (name, begin), end in zip(starts, ends, strict=True):
        inside = [mb for t, mb in samples if begin <= t < end]
        before = [mb for t, mb in samples if t < begin]
        rows.append(
            {
                "step": name,
                "seconds": round(min(end, samples[-1][0]) - begin, 1) if samples else None,
                "rss_at_start_gb": round(before[-1] / 1024, 2) if before else 0.0,
                "peak_rss_gb": round(max(inside) / 1024, 2) if inside else None,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rules", type=Path, default=ROOT / "rules" / "company.yaml")
    parser.add_argument("--json", type=Path, help="Also write the rows here.")
    args, extra = parser.parse_known_args()  # the rest: options for crmclean run
    extra = [e for e in extra if e != "--"]
    log = args.out.with_name(args.out.name + ".log.jsonl")
    log.unlink(missing_ok=True)
    argv = [str(CRMCLEAN), "run", str(args.data), "--rules", str(args.rules)]
    argv += ["--out", str(args.out), "-q", "--no-report", "--log-json", str(log), *extra]
    load = os.getloadavg()
    code, samples = sample(argv)
    summary = args.out / "dedupe.json"
    seconds = json.loads(summary.read_text())["stats"]["seconds"] if summary.exists() else {}
    rows = per_step(step_windows(log, seconds), samples)
    peak = max((mb for _, mb in samples), default=0.0) / 1024
    print(f"exit {code}; peak {peak:.2f} GB; load at start {[round(x, 1) for x in load]}")
    print(f"{'step':<28} {'s':>8} {'RSS at start GB':>16} {'peak GB':>8}")
    for row in rows:
        print(
            f"{row['step']:<28} {row['seconds'] or 0:>8.1f} {row['rss_at_start_gb']:>16.2f} "
            f"{row['peak_rss_gb'] or 0:>8.2f}"
        )
    if args.json:
        document = {"argv": argv, "exit_code": code, "load": load, "steps": rows}
        args.json.write_text(json.dumps(document, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
