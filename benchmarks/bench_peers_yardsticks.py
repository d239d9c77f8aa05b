"""Splink and GoldenMatch on the same data as crmclean's accuracy yardsticks, side by side.

For every set of bench_accuracy.py (own, own-world, faker, FEBRL 1-4) and size it takes the
very data folder bench_accuracy.py deduplicates with crmclean (same cache, same seed) and runs
each peer on it as its own process (peers/run_splink.py, peers/run_goldenmatch.py with the
benchmark virtualenv's python; wall time and peak RSS from os.wait4), within a time budget: a
peer that passes it is stopped and recorded as `timeout`, never left out. The peers are
configured once, in roles (first name, e-mail, ...); a data set only says which of its columns
plays which role, the same mapping its crmclean rule file gets (yardsticks/map_rules.py), and
a role whose column is missing or empty is absent (peers/_columns.py). Scores come from
evaluate.py, the one evaluator for every tool. crmclean's numbers are not rerun here: the
table takes them from bench_accuracy.py's entries in results.json when they were measured on
the same data folder. Results go to results.json ("peers_yardsticks") and RESULTS.md.

    .venv/bin/python benchmarks/bench_peers_yardsticks.py --sizes 10k,100k
    .venv/bin/python benchmarks/bench_peers_yardsticks.py --sizes 10k --sets faker,febrl \\
        --tools splink
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(HERE / "yardsticks"), str(HERE / "peers")]

import bench_accuracy  # noqa: E402
from _columns import ROLES  # noqa: E402  (standard library only)
from evaluate import evaluate  # noqa: E402
from measure import Outcome, run_measured  # noqa: E402

PEERS = ("splink", "goldenmatch")
SETS = bench_accuracy.SETS
# 1M only where the main bench already runs the peers at 1M: on the own generator.
LARGE_SETS = ("own",)
BUDGET_S = {"10k": 600, "100k": 1200, "1M": 1800, "as shipped": 600}
ID_COLUMNS = {"own": "customer_id", "own-world": "customer_id"}


def peer_columns(columns: dict[str, pl.Series], names: dict[str, str]) -> dict[str, str]:
    """Role -> column for the roles this data set has: the column the set's rule file uses for
    that role (`names`, company.yaml's column -> the set's) exists and holds a value that is not
    blank. Nothing else about the data is looked at."""
    present = {}
    for role in ROLES:
        column = names.get(role, role)
        values = columns.get(column)
        if values is None:
            continue
        text = values.cast(pl.String).str.strip_chars()
        if (text.fill_null("") != "").any():
            present[role] = column
    return present


def status_of(outcome: Outcome) -> str:
    """ok, failed, timeout (past the time budget) or over_memory (past the memory limit)."""
    if outcome.status != "over_budget":
        return outcome.status
    return "timeout" if "time budget" in (outcome.error or "") else "over_memory"


def datasets(
    sizes: list[str], sets: list[str], data_dir: Path, seed: int
) -> list[tuple[str, str, Path, dict[str, str]]]:
    """(set, size, data folder, company.yaml column -> the set's column), as bench_accuracy."""
    import map_rules

    found = []
    for name in sets:
        if name == "febrl":
            for febrl in ("febrl1", "febrl2", "febrl3", "febrl4"):
                folder = bench_accuracy.febrl_data(febrl, data_dir)
                found.append((febrl, "as shipped", folder, map_rules.FEBRL_COLUMNS))
            continue
        for size in sizes:
            if size == "1M" and name not in LARGE_SETS:
                continue
            if name.startswith("own"):
                folder = bench_accuracy.own_data(size, seed, data_dir, world=name == "own-world")
                found.append((name, size, folder, {}))
            else:
                folder = bench_accuracy.faker_data(size, seed, data_dir)
                found.append((name, size, folder, map_rules.FAKER_COLUMNS))
    return found


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def measure_peer(
    peer: str,
    folder: Path,
    names: dict[str, str],
    out: Path,
    budget_s: float,
    bench_python: Path,
) -> dict[str, Any]:
    """One peer on one data folder: run it alone within the budget and score its clusters."""
    customers = folder / "customers.csv"
    frame = pl.read_csv(customers, infer_schema_length=0)
    columns = peer_columns({c: frame[c] for c in frame.columns}, names)
    id_column = names.get("customer_id", "customer_id")
    clusters_path = out / "clusters.parquet"
    clusters_path.unlink(missing_ok=True)
    argv = [str(bench_python), str(HERE / "peers" / f"run_{peer}.py"), str(customers),
            "--out", str(clusters_path), "--id-column", id_column,
            "--columns", json.dumps(columns)]  # fmt: skip
    outcome = run_measured(argv, out / "logs" / peer, cwd=ROOT, budget_s=budget_s,
                           mem_limit_mb=14 * 1024)  # fmt: skip
    entry: dict[str, Any] = {
        "tool": peer,
        "status": status_of(outcome),
        "wall_s": outcome.wall_s,
        "peak_rss_mb": outcome.peak_rss_mb,
        "budget_s": budget_s,
        "columns": columns,
        "command": outcome.command,
        "config": outcome.detail.get("config"),
        "placeholders_nulled": outcome.detail.get("placeholders_nulled"),
        "stages": outcome.detail.get("stages"),
        "version": outcome.detail.get("version"),
    }
    if outcome.status != "ok":
        return {**entry, "error": outcome.error}
    truth = pl.read_parquet(folder / "truth.parquet")
    return {**entry, "scores": evaluate(pl.read_parquet(clusters_path), truth).as_dict()}


def run(
    sizes: list[str], sets: list[str], tools: list[str], args: argparse.Namespace
) -> list[dict[str, Any]]:
    entries = []
    for name, size, folder, names in datasets(sizes, sets, args.data_dir, args.seed):
        truth = pl.read_parquet(folder / "truth.parquet", columns=["entity_id"])
        for peer in (p for p in PEERS if p in tools):
            print(f"[peers] {name} {size} {peer} ...", file=sys.stderr, flush=True)
            out = args.out_dir / "peers" / name / size.replace(" ", "-") / peer
            budget = args.budget_s or BUDGET_S[size]
            entry = measure_peer(peer, folder, names, out, budget, args.bench_python)
            entries.append(
                {
                    "set": name,
                    "size": size,
                    "data": _relative(folder),
                    "data_digest": bench_accuracy.data_digest(folder),
                    "records": truth.height,
                    "entities": truth["entity_id"].n_unique(),
                    **entry,
                    "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                    "load_average": [round(x, 1) for x in os.getloadavg()],
                }
            )
    return entries


def record(entries: list[dict[str, Any]], results_path: Path, command: str) -> dict[str, Any]:
    """Merge into results.json under "peers_yardsticks", keyed by set, size and tool."""
    results = json.loads(results_path.read_text()) if results_path.exists() else {"sizes": {}}
    peers = results.setdefault("peers_yardsticks", {})
    for entry in entries:
        peers[f"{entry['set']} {entry['size']} {entry['tool']}"] = {**entry, "run": command}
    results_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,100k", help="comma list of 10k,100k,1M "
                        "(1M runs on the own set only)")  # fmt: skip
    parser.add_argument("--sets", default=",".join(SETS), help="comma list of " + ",".join(SETS))
    parser.add_argument("--tools", default=",".join(PEERS), help="comma list of splink,goldenmatch")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budget-s", type=float, help="per-peer time budget (default by size)")
    parser.add_argument(
        "--bench-python", type=Path, default=ROOT / ".bench-venv" / "bin" / "python"
    )
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument("--out-dir", type=Path, default=HERE / "out")
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    return parser.parse_args(argv)


def main() -> None:
    from peers_md import peers_table
    from results_md import render_markdown

    args = parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    sets = [s.strip() for s in args.sets.split(",") if s.strip()]
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = [s for s in sizes if s not in bench_accuracy.SIZES]
    unknown += [s for s in sets if s not in SETS] + [t for t in tools if t not in PEERS]
    if unknown:
        sys.exit(f"unknown size, set or tool {unknown}")
    if not args.bench_python.exists():
        sys.exit(f"{args.bench_python} is missing: run `make bench` (it builds .bench-venv)")
    entries = run(sizes, sets, tools, args)
    command = " ".join([".venv/bin/python", "benchmarks/bench_peers_yardsticks.py", *sys.argv[1:]])
    results = record(entries, args.results, command)
    if "machine" in results:
        args.markdown.write_text(render_markdown(results))
    print("\n".join(peers_table(results)))


if __name__ == "__main__":
    main()
