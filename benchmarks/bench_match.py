"""Benchmark the duplicate check at entry (`crmclean match` / `serve`) on a run of synthetic data.

    .venv/bin/python benchmarks/bench_match.py [--rows 1000000] [--lookups 1000] [--run-folder DIR]

Writes `--rows` synthetic customers, runs `crmclean run` on them (or reuses `--run-folder`),
then, in a fresh process, loads the run folder for lookups (the index of `match` and `serve`)
and looks up `--lookups` records one at a time: half of them known customers as entered again
(a changed e-mail for every other one, names lower-cased), half new customers. Load time, peak
RSS and the latency of single lookups (p50, p95, p99, max) go to results.json under
"entry_check" and to RESULTS.md, with the load's CPU time and what writing the lookup tables costs
the run (benchmarks/entry_md.py). Budget: load <= 5 s and p99 <= 50 ms; exit 1 when over.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CLI = ROOT / ".venv" / "bin" / "crmclean"
BUDGET_LOAD_S = 5.0
BUDGET_P99_MS = 50.0


def customers(rows: int, seed: int) -> pl.DataFrame:
    from crmclean.synth import generate

    frame, _truth = generate(rows, seed=seed)
    return frame


def queries(data: Path, lookups: int, seed: int) -> list[dict[str, Any]]:
    """Known customers entered again (some with a new e-mail) and new customers, shuffled."""
    read = pl.read_csv if data.suffix == ".csv" else pl.read_parquet
    known = read(data).sample(lookups // 2, seed=seed).drop("customer_id")
    known = known.with_row_index("_i").with_columns(
        pl.col("first_name").str.to_lowercase(),
        pl.col("last_name").str.to_lowercase(),
        pl.when(pl.col("_i") % 2 == 0)
        .then(pl.lit("other.") + pl.col("_i").cast(pl.String) + pl.lit("@example.net"))
        .otherwise(pl.col("email"))
        .alias("email"),
    )
    fresh = customers(lookups - known.height, seed + 101).drop("customer_id")
    rows = pl.concat([known.drop("_i"), fresh], how="vertical_relaxed")
    return rows.sample(fraction=1.0, shuffle=True, seed=seed).cast(pl.String).to_dicts()


def measure(folder: Path, lookups_file: Path) -> dict[str, Any]:
    """In this (fresh) process: load the run folder, then time each lookup alone."""
    from crmclean.cli.entry_setup import load_entry_check
    from crmclean.report.match_answers import masked, to_json

    started, cpu_started = time.perf_counter(), time.process_time()
    loaded = load_entry_check(folder)
    load_s, load_cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    rss_after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    check = loaded.check
    items = json.loads(lookups_file.read_text())
    check.check(check.records({}))  # the first call pays for polars' and the parsers' setup
    latencies: list[float] = []
    cpu: list[float] = []  # this process's CPU time (all its threads): the machine is shared
    decisions: dict[str, int] = {}
    compared: list[int] = []
    for item in items:
        mark, cpu_mark = time.perf_counter(), time.process_time()
        answers = check.check(check.records(item))
        to_json(masked(answers, loaded.pii, check.id_column))
        latencies.append((time.perf_counter() - mark) * 1000)
        cpu.append((time.process_time() - cpu_mark) * 1000)
        decisions[answers[0]["decision"]] = decisions.get(answers[0]["decision"], 0) + 1
        compared.append(answers[0]["compared"])
    series, cpu_series = pl.Series(latencies), pl.Series(cpu)
    quantiles = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))
    return {
        "records": loaded.run.records.height,
        "load_s": round(load_s, 3),
        "load_cpu_s": round(load_cpu_s, 3),
        "has_tables": loaded.run.tables is not None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "rss_after_load_mb": round(rss_after_load),
        "lookups": len(latencies),
        "latency_ms": {
            q: round(float(series.quantile(v, "linear") or 0.0), 2) for q, v in quantiles
        },
        "cpu_ms": {
            q: round(float(cpu_series.quantile(v, "linear") or 0.0), 2) for q, v in quantiles
        },
        "compared_per_lookup_mean": round(sum(compared) / max(len(compared), 1), 1),
        "decisions": decisions,
    }


def tables_cost(folder: Path) -> dict[str, float]:
    """What writing match_index.parquet and term_counts.parquet costs a run: the same function
    the run calls, on the folder's own cleaned records, block keys and crosswalk."""
    from crmclean.config import load_rules
    from crmclean.io.match_tables import write_match_tables

    manifest = json.loads((folder / "manifest.json").read_text())
    spec = load_rules(Path(manifest["rule_file"])).rules.matching
    assert spec is not None
    cleaned = pl.read_parquet(folder / "clean.parquet")
    keys = pl.read_parquet(folder / "blocking_keys.parquet")
    crosswalk = pl.read_parquet(folder / "crosswalk.parquet")
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        started, cpu_started = time.perf_counter(), time.process_time()
        names = write_match_tables(Path(tmp), cleaned, keys, crosswalk, spec)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        size = sum((Path(tmp) / name).stat().st_size for name in names)
    return {"cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "mb": round(size / 1e6, 1)}


def record(entry: dict[str, Any], results_path: Path, markdown: Path) -> None:
    """Merge into results.json under "entry_check", keyed by rows and commit; rewrite RESULTS.md."""
    sys.path.insert(0, str(HERE))
    from results_md import render_markdown
    from run_all import git_state

    results = json.loads(results_path.read_text()) if results_path.exists() else {"sizes": {}}
    entry["git_commit"] = git_state()
    # one row per size and commit: the rows before the run wrote its lookup tables stay
    results.setdefault("entry_check", {})[f"{entry['rows']}@{entry['git_commit']}"] = entry
    results_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    if "machine" in results:
        markdown.write_text(render_markdown(results))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--rules", type=Path, default=ROOT / "rules" / "company.yaml")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--run-folder", type=Path, help="reuse this run's --out (and its input)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--no-record", action="store_true", help="leave results.json alone")
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--measure", nargs=2, type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--tables-cost", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.tables_cost:  # the child process writing the tables once more
        print(json.dumps(tables_cost(args.tables_cost)))
        return 0
    if args.measure:  # the child process
        print(json.dumps(measure(*args.measure)))
        return 0
    work = Path(tempfile.mkdtemp(prefix="bench_match_"))
    try:
        out = args.run_folder
        run_s = None
        if out is None:
            data, out = work / "customers.parquet", work / "out"
            customers(args.rows, args.seed).write_parquet(data)
            started = time.perf_counter()
            argv_run = [str(CLI), "run", str(data), "--rules", str(args.rules), "--out", str(out)]
            done = subprocess.run([*argv_run, "--quiet", "--no-report"], check=False)
            if done.returncode not in (0, 1):
                raise SystemExit(f"crmclean run failed with exit {done.returncode}")
            run_s = round(time.perf_counter() - started, 1)
        else:
            manifest = json.loads((out / "manifest.json").read_text())
            data = Path(manifest["inputs"][0]["path"])
        lookups_file = work / "lookups.json"
        lookups_file.write_text(json.dumps(queries(data, args.lookups, args.seed)))
        child = [sys.executable, __file__, "--measure", str(out), str(lookups_file)]
        measured = json.loads(subprocess.run(child, check=True, capture_output=True).stdout)
        # what writing the tables costs the run, in a process of its own (not in the peak RSS)
        costing = [sys.executable, __file__, "--tables-cost", str(out)]
        if measured.pop("has_tables"):
            done = subprocess.run(costing, check=True, capture_output=True)
            measured["tables"] = json.loads(done.stdout)
        else:
            measured["tables"] = None
        entry = {
            "rows": args.rows,
            "cpus": os.cpu_count(),
            "run_s": run_s,
            **measured,
            "load_average": [round(x, 1) for x in os.getloadavg()],
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "command": " ".join([".venv/bin/python", "benchmarks/bench_match.py", *argv]),
        }
        entry["within_budget"] = (
            entry["load_s"] <= BUDGET_LOAD_S and entry["latency_ms"]["p99"] <= BUDGET_P99_MS
        )
        print(json.dumps(entry, indent=2))
        if not args.no_record:
            record(entry, args.results, args.markdown)
    finally:
        if args.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if entry["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
