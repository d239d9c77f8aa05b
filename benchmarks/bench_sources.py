"""Benchmark customer data living in PostgreSQL: read it, `crmclean run` on it, publish back.

    .venv/bin/python benchmarks/bench_sources.py [--rows 1000000] [--record]

Synthetic customers (`crmclean.synth.generate`, seed 7) are loaded into a throw-away
PostgreSQL cluster (tests/pg_server.py: Debian's server, a temp folder, a free port). Then, each
its own measurement:

1. read: `read_location(URL)` in-process (ADBC COPY -> Arrow -> the typed frame), rows/s;
2. `crmclean run URL --publish URL` as a process: wall time and peak RSS from os.wait4, each
   step's time (read, clean, validate, dedupe, golden, write, publish) from its manifest.json;
   rows/s of the publish step (all four tables' rows);
3. the same `crmclean run` on the same rows as a Parquet file, for comparison.

The issue's budget: 1M rows read from PostgreSQL in <= 10 s. `--record` keeps the entry in
results.json ("databases") and re-renders RESULTS.md (databases_md.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLI = ROOT / ".venv" / "bin" / "crmclean"
RULES = ROOT / "rules" / "company.yaml"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
RESULTS_JSON = ROOT / "benchmarks" / "results.json"
READ_BUDGET_S = 10.0
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from pg_server import SUPERUSER, SUPERUSER_PASSWORD, running_cluster  # noqa: E402


def run(args: list[str]) -> dict[str, Any]:
    started = time.perf_counter()
    proc = subprocess.Popen([str(CLI), "run", *args, "--quiet"], stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if code not in (0, 1):
        raise SystemExit(f"crmclean run failed with exit {code}: {err}")
    return {"wall_s": round(wall, 1), "peak_rss_mb": round(usage.ru_maxrss / 1024)}


def measure(rows: int, folder: Path) -> dict[str, Any]:
    from crmclean.io.locations import read_location
    from crmclean.synth import generate

    frame, _truth = generate(rows, seed=7)
    parquet = folder / "customers.parquet"
    frame.write_parquet(parquet)
    os.environ["PGPASSWORD"] = SUPERUSER_PASSWORD
    with running_cluster() as cluster:
        import adbc_driver_postgresql.dbapi as pgdb

        url = cluster.url(SUPERUSER)
        started = time.perf_counter()
        with pgdb.connect(url) as connection, connection.cursor() as cursor:
            cursor.adbc_ingest("customers", frame, mode="create")
            connection.commit()
        load_s = time.perf_counter() - started
        source = f"{url}?table=public.customers"
        started = time.perf_counter()
        read = read_location(source, id_column="customer_id")
        read_s = time.perf_counter() - started
        assert read.frame.height == rows
        del read
        target = f"{url}?schema=golden"
        from_db = run([source, "-r", str(RULES), "-o", str(folder / "db"), "--publish", target])
        manifest = json.loads((folder / "db" / "manifest.json").read_text())
        from_db["steps"] = manifest["steps"]
        published = sum(manifest["published"]["tables"].values())
    from_parquet = run([str(parquet), "-r", str(RULES), "-o", str(folder / "pq")])
    from_parquet["steps"] = json.loads((folder / "pq" / "manifest.json").read_text())["steps"]
    return {
        "rows": rows,
        "load_s": round(load_s, 1),
        "read_s": round(read_s, 2),
        "read_rows_per_s": round(rows / read_s),
        "published_rows": published,
        "publish_rows_per_s": round(published / from_db["steps"]["publish"]),
        "postgresql": from_db,
        "parquet": from_parquet,
    }


def entry(result: dict[str, Any], command: str) -> dict[str, Any]:
    """The results.json entry ("databases") that databases_md.py renders."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        **result,
        "read_budget_s": READ_BUDGET_S,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "git_commit": commit,
        "command": command,
    }


def record(new: dict[str, Any]) -> None:
    """Keep the entry in results.json and re-render RESULTS.md from it (as every bench does)."""
    from results_md import render_markdown

    results = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {"sizes": {}}
    results.setdefault("databases", {})[f"{new['rows']}@{new['git_commit']}"] = new
    RESULTS_JSON.write_text(json.dumps(results, indent=2, default=str) + "\n")
    if "machine" in results:
        RESULTS.write_text(render_markdown(results), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--record", action="store_true", help="write the RESULTS.md section")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="crmclean-bench-sources-") as tmp:
        result = measure(args.rows, Path(tmp))
    command = ".venv/bin/python benchmarks/bench_sources.py " + " ".join(sys.argv[1:])
    new = entry(result, command.strip())
    print(json.dumps(new, indent=2))
    if args.record:
        record(new)
    return 0 if result["read_s"] <= READ_BUDGET_S or args.rows < 1_000_000 else 1


if __name__ == "__main__":
    raise SystemExit(main())
