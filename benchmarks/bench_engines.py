"""The engines' cost curve: `crmclean run` (or `dedupe`) on each engine at growing sizes.

For each size: `crmclean synth -n N` writes customers with known truth (not timed), then the
real command runs once per engine in its own process (measure.py: wall clock and the process's
own peak RSS, DuckDB's memory included), and its clusters are scored against the truth and
against the other engine's clusters (pairwise agreement: the share of record pairs placed
together by either engine that both place together).

    .venv/bin/python benchmarks/bench_engines.py                       # 100k, 1M; both engines
    .venv/bin/python benchmarks/bench_engines.py --sizes 10000000 --engines duckdb --memory 4GB
    .venv/bin/python benchmarks/bench_engines.py --sizes 1000000 --engines polars spark  # local[*]
    .venv/bin/python benchmarks/bench_engines.py --sizes 100000 --record   # into RESULTS.md
    .venv/bin/python benchmarks/bench_engines.py --data d10m/ --engines duckdb --mem-limit-gb 10

Each run also samples its RSS twice a second and keeps, per step (read, clean, validate, the
dedupe parts, golden, write), the RSS at its start and its peak (`steps`); a run stopped by
`--budget-s` or `--mem-limit-gb` is kept too (`--record`), with the step it was in.

`--record` keeps the runs in results.json (`engines`) and rewrites RESULTS.md, whose section
"Engines: the cost curve" lists them (engines_md.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import polars as pl
from measure import run_measured
from rss_steps import per_step, step_windows

from crmclean.core.matching.evaluation import evaluate

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules" / "company.yaml"
CRMCLEAN = Path(sys.executable).with_name("crmclean")


def _together(clusters: pl.DataFrame) -> pl.DataFrame:
    """The record pairs a clustering places together (within clusters of up to 50 records)."""
    joined = clusters.join(clusters, on="cluster_id", suffix="_o")
    return joined.filter(pl.col("record_id") < pl.col("record_id_o")).select(
        "record_id", "record_id_o"
    )


def agreement(a: pl.DataFrame, b: pl.DataFrame) -> float:
    left, right = _together(a), _together(b)
    both = left.join(right, on=["record_id", "record_id_o"], how="semi").height
    either = left.height + right.height - both
    return both / either if either else 1.0


def run_engine(
    engine: str,
    command: str,
    data: Path,
    truth: Path,
    work: Path,
    memory: str,
    limits: tuple[float, float] = (3600, 20.0),
) -> dict[str, Any]:
    """One measured run; `limits` (seconds, GB) stop it (then the result says where it was)."""
    out, log = work / f"out_{engine}", work / f"steps_{engine}.jsonl"
    argv = [str(CRMCLEAN), command, str(data), "--rules", str(RULES), "--out", str(out)]
    argv += ["--engine", engine, "-q", *(["--memory", memory] if engine == "duckdb" else [])]
    argv += ["--log-json", str(log)]
    if command == "run":
        argv.append("--no-report")
    samples: list[tuple[float, float]] = []
    outcome = run_measured(
        argv,
        work / f"log_{engine}",
        cwd=ROOT,
        budget_s=limits[0],
        mem_limit_mb=limits[1] * 1024,
        ok_exit_codes=(0, 1),  # run: error rules fail on the synthetic defects
        samples=samples,
    )
    summary_path = out / "dedupe.json"
    parts = {}
    if summary_path.exists():  # the dedupe step's parts, to split its window by
        parts = json.loads(summary_path.read_text())["stats"]["seconds"]
    steps = per_step(step_windows(log, parts), samples) if log.exists() and samples else []
    if outcome.status != "ok":
        return {
            "engine": engine,
            "command": command,
            "memory_option": memory,
            "error": outcome.error,
            "wall_seconds": outcome.wall_s,
            "cpu_seconds": outcome.cpu_s,
            "peak_rss_gb": round(
                max(outcome.peak_rss_mb or 0.0, outcome.group_peak_rss_mb or 0.0) / 1024, 3
            ),
            "stopped_in_step": steps[-1]["step"] if steps else None,
            "steps": steps,
        }
    group = outcome.group_peak_rss_mb or 0.0
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    scores = evaluate(
        pl.read_parquet(out / "clusters.parquet"), pl.read_csv(truth, infer_schema=False)
    )
    return {
        "engine": engine,
        "command": command,
        "memory_option": memory,
        "wall_seconds": outcome.wall_s,
        "cpu_seconds": outcome.cpu_s,
        # the larger of the tool's own peak and its process group's (the JVM and the Python
        # workers of the spark engine are separate processes)
        "peak_rss_gb": round(max(outcome.peak_rss_mb or 0.0, group) / 1024, 3),
        "peak_rss_gb_own_process": round((outcome.peak_rss_mb or 0.0) / 1024, 3),
        "candidate_pairs": summary["stats"]["candidate_pairs"],
        "pairwise_f1": round(asdict(scores.pairwise)["f1"], 4),
        "bcubed_f1": round(asdict(scores.bcubed)["f1"], 4),
        "dedupe_seconds": {k: round(v, 2) for k, v in summary["stats"]["seconds"].items()},
        "steps": steps,  # per step: seconds, RSS at its start and its peak (rss_steps.py)
    }


def run_size(
    rows: int,
    engines: list[str],
    command: str,
    memory: str,
    limits: tuple[float, float],
    given: Path | None = None,
) -> list[dict[str, Any]]:
    """Each engine on `rows` synth rows (`given`: a `crmclean synth` folder already written)."""
    results = []
    with tempfile.TemporaryDirectory(prefix="bench_engines_") as tmp:
        work = Path(tmp)
        folder, synth_seconds = given, None
        if folder is None:
            synth = run_measured(
                [str(CRMCLEAN), "synth", "-n", str(rows), "--out", str(work / "data"), "-q"],
                work / "log_synth",
                cwd=ROOT,
                budget_s=7200,
                mem_limit_mb=20_000,
            )
            if synth.status != "ok":
                return [{"rows": rows, "error": f"synth: {synth.error}"}]
            folder, synth_seconds = work / "data", synth.wall_s
        data = folder / "customers.csv"
        truth = folder / "truth.csv"
        clusters: dict[str, pl.DataFrame] = {}
        for engine in engines:
            load = [round(x, 1) for x in os.getloadavg()]
            result = run_engine(engine, command, data, truth, work, memory, limits)
            after = [round(x, 1) for x in os.getloadavg()]
            result |= {"rows": rows, "synth_seconds": synth_seconds, "load_average": load}
            result |= {"load_average_after": after}
            if "error" not in result:
                clusters[engine] = pl.read_parquet(work / f"out_{engine}" / "clusters.parquet")
            results.append(result)
            print(json.dumps(result), flush=True)
        if len(clusters) >= 2:  # each engine against the first (polars by default)
            first, *_ = clusters.values()
            for result in results:
                if result.get("engine") in clusters:
                    other = clusters[result["engine"]]
                    result["agreement_between_engines"] = round(agreement(first, other), 5)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--engines", nargs="+", default=["polars", "duckdb"])
    parser.add_argument("--command", choices=["run", "dedupe"], default="run")
    parser.add_argument("--memory", default="4GB", help="--memory for the duckdb engine")
    parser.add_argument("--budget-s", type=float, default=3600, help="Stop a run after this.")
    parser.add_argument(
        "--mem-limit-gb", type=float, default=20.0, help="Stop a run above this RSS (shared box)."
    )
    parser.add_argument(
        "--data", type=Path, help="A `crmclean synth` folder to use (one size: its rows)."
    )
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument("--record", action="store_true", help="Keep them in RESULTS.md.")
    args = parser.parse_args()
    if args.data is not None:  # the folder's own size
        args.sizes = [json.loads((args.data / "synth.json").read_text())["records"]]
    results: list[dict[str, Any]] = []
    for rows in args.sizes:
        limits = (args.budget_s, args.mem_limit_gb)
        results += run_size(rows, args.engines, args.command, args.memory, limits, args.data)
    ok = [r for r in results if "error" not in r]
    for r in results:
        for step in r.get("steps", []):
            print(f"{r.get('rows', 0):>11,} {r.get('engine', '')} {json.dumps(step)}")
        if "error" in r:
            print(f"{r.get('rows', 0):>11,} {r.get('engine', '')} stopped: {r['error']}")
    print(f"\n{'rows':>11} {'engine':>7} {'wall s':>8} {'RSS GB':>7} {'F1':>7} {'agree':>8}")
    for r in ok:
        print(
            f"{r['rows']:>11,} {r['engine']:>7} {r['wall_seconds']:>8.1f} "
            f"{r['peak_rss_gb']:>7.2f} {r['pairwise_f1']:>7.4f} "
            f"{r.get('agreement_between_engines', float('nan')):>8.5f}"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    if args.record:  # runs that did not finish too: where they stopped is a result
        record([r for r in results if "engine" in r])


def record(runs: list[dict[str, Any]]) -> None:
    """Add the runs to results.json (`engines`) and rewrite RESULTS.md."""
    from results_md import render_markdown
    from run_all import git_state

    path = ROOT / "benchmarks" / "results.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    stamp = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "git_commit": git_state()}
    results.setdefault("engines", []).extend({**stamp, **run} for run in runs)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    (ROOT / "benchmarks" / "RESULTS.md").write_text(render_markdown(results), encoding="utf-8")


if __name__ == "__main__":
    main()
