"""Benchmark the rollup (issue 17): 10M order rows rolled up onto 1M golden records.

    .venv/bin/python benchmarks/bench_rollup.py [--orders 10000000] [--golden 1000000]

Builds 1.5M source records in 1M golden records (a crosswalk as `run` makes it) and orders as
a CSV export gives them (every column text; 2 % name an unknown id, a few have a bad date or
amount), then times the rollup of rules/demo.yaml's `rollup:` section: matching the orders
to the records (per source system), the measures per golden record, key accounts. Reading the
file is `run`'s read step and not timed here. Budget: <= 10 s wall on this machine (2 cores);
exit 1 when over. Results go to results.json ("rollup") and RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from crmclean.config import load_rules
from crmclean.core.value import as_of_date, match_movements, value_step

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUDGET_S = 10.0
SOURCES = np.array(["erp", "crm", "webshop"])


def customers(golden: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(records: record_id, source_system; crosswalk: record_id, golden_id), 1.5 records per
    golden record on average."""
    rng = np.random.default_rng(seed)
    per = rng.choice([1, 1, 2, 2, 3], size=golden)
    gids = np.repeat(np.arange(golden), per)
    n = gids.size
    frame = pl.DataFrame(
        {"__r": np.arange(n), "__g": gids, "source_system": SOURCES[rng.integers(0, 3, size=n)]}
    )
    frame = frame.with_columns(
        (pl.lit("C") + pl.col("__r").cast(pl.String).str.zfill(9)).alias("record_id"),
        (pl.lit("G") + pl.col("__g").cast(pl.String).str.zfill(10)).alias("golden_id"),
    )
    records = frame.select("record_id", "source_system")
    crosswalk = frame.select("record_id", "golden_id")
    return records, crosswalk


def orders(records: pl.DataFrame, rows: int, seed: int) -> pl.DataFrame:
    """Order rows as text, as a CSV export is read: customer_id, source_system, order_date,
    net_amount, product_group."""
    rng = np.random.default_rng(seed + 1)
    pick = rng.integers(0, records.height, size=rows)
    ids = records.get_column("record_id").gather(pick)
    unknown = pl.Series(rng.random(rows) < 0.02)
    day = pl.Series(rng.integers(0, 5 * 365, size=rows)).cast(pl.Int32)
    frame = pl.DataFrame(
        {
            "customer_id": ids,
            "source_system": records.get_column("source_system").gather(pick),
            "__day": day,
            "net_amount": np.round(rng.lognormal(5.0, 1.0, size=rows), 2),
            "product_group": rng.integers(0, 6, size=rows),
        }
    )
    return (
        frame.select(
            pl.when(unknown)
            .then(pl.lit("X") + pl.col("customer_id"))
            .otherwise("customer_id")
            .alias("customer_id"),
            "source_system",
            (pl.lit(datetime(2022, 1, 1).date()) + pl.duration(days=pl.col("__day")))
            .cast(pl.String)
            .alias("order_date"),
            pl.col("net_amount").cast(pl.String),
            pl.format("group {}", pl.col("product_group")).alias("product_group"),
        )
        .with_row_index("record_id", offset=1)
        .with_columns(pl.col("record_id").cast(pl.String))
    )


def measure(orders_n: int, golden_n: int, seed: int) -> dict[str, Any]:
    spec = load_rules(ROOT / "rules" / "demo.yaml").rules.rollup
    assert spec is not None, "rules/demo.yaml has no rollup: section"
    records, crosswalk = customers(golden_n, seed)
    table = orders(records, orders_n, seed)
    held = records.clear()
    started, cpu = time.perf_counter(), time.process_time()
    matched = match_movements({"orders": table}, spec, records, held, "source_system")
    mark = time.perf_counter()
    as_of = as_of_date(spec, matched)
    step = value_step(matched, crosswalk, spec, records, as_of)
    wall = time.perf_counter() - started
    summary = step.summary()
    assert summary["rows_add_up"] and summary["rows"] == orders_n
    return {
        "orders": orders_n,
        "golden_records": step.values.height,
        "source_records": records.height,
        "measures": len(spec.measures),
        "seconds": round(wall, 2),
        "match_seconds": round(mark - started, 2),
        "rollup_seconds": round(wall - (mark - started), 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "matched": summary["matched"],
        "unmatched": summary["unmatched"],
        "key_accounts": summary.get("key_accounts"),
        "budget_s": BUDGET_S,
        "within_budget": wall <= BUDGET_S,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--golden", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--results", type=Path, default=HERE / "results.json")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args(argv)
    entry = measure(args.orders, args.golden, args.seed)
    print(json.dumps(entry, indent=2))
    if not args.no_record:
        from results_md import render_markdown
        from run_all import git_state

        entry["command"] = " ".join([".venv/bin/python", "benchmarks/bench_rollup.py", *argv])
        entry["git_commit"] = git_state()
        results = json.loads(args.results.read_text()) if args.results.exists() else {"sizes": {}}
        key = f"{args.orders} onto {args.golden} at {entry['git_commit']}"
        results.setdefault("rollup", {})[key] = entry  # one row per commit measured
        args.results.write_text(json.dumps(results, indent=2, default=str) + "\n")
        if "machine" in results:
            args.markdown.write_text(render_markdown(results))
    return 0 if entry["within_budget"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
