"""The databases section of RESULTS.md: bench_sources.py's entries (read 1M rows from
PostgreSQL, `crmclean run` on them, publish back), kept in results.json ("databases") so that
every benchmark script that re-renders RESULTS.md keeps them."""

from __future__ import annotations

from typing import Any

HEADING = "## Databases: read from PostgreSQL, run, publish back (`benchmarks/bench_sources.py`)"
STEPS = ("read", "clean", "validate", "dedupe", "golden", "write", "publish")
INTRO = """Synthetic customers (seed 7) in a throw-away PostgreSQL cluster on localhost
(tests/pg_server.py). "read" is `read_location(URL)` alone, in-process (ADBC COPY to the typed
frame); the two `crmclean run` rows are processes (wall time and peak RSS from os.wait4, steps
from their manifest.json), one reading PostgreSQL and publishing back, one reading the same rows
from a Parquet file. Budget (issue 13): 1M rows read in <= 10 s. Load average: 1, 5, 15 minutes,
2 cores, shared."""


def _entry_lines(entry: dict[str, Any]) -> list[str]:
    load = ", ".join(f"{x:.1f}" for x in entry.get("load_average", []))
    verdict = "met" if entry["read_s"] <= entry["read_budget_s"] else "NOT met"
    lines = [
        f"### {entry['rows']:,} rows, {entry['date']} at `{entry['git_commit']}` (load {load})",
        "",
        "| input | wall s | peak MB | " + " | ".join(STEPS) + " |",
        "| --- | ---: | ---: | " + " | ".join("---:" for _ in STEPS) + " |",
    ]
    for name in ("postgresql", "parquet"):
        run = entry[name]
        cells = [str(run["steps"].get(step, "-")) for step in STEPS]
        row = [name, str(run["wall_s"]), str(run["peak_rss_mb"]), *cells]
        lines.append("| " + " | ".join(row) + " |")
    lines += [
        "",
        f"- Read from PostgreSQL alone: {entry['read_s']} s, {entry['read_rows_per_s']:,} rows/s; "
        f"budget <= {entry['read_budget_s']:g} s for 1M rows: {verdict}.",
        f"- Publish (golden, crosswalk, lineage, review and crmclean_run, staged and swapped in "
        f"one transaction): {entry['published_rows']:,} rows, "
        f"{entry['publish_rows_per_s']:,} rows/s.",
        "- Loading the table into PostgreSQL for the benchmark (not crmclean): "
        f"{entry['load_s']} s.",
        *[f"- {note}" for note in entry.get("notes", [])],
        "",
    ]
    return lines


def databases_section(results: dict[str, Any]) -> list[str]:
    entries = results.get("databases", {})
    if not entries:
        return []
    lines = [HEADING, "", INTRO, ""]
    for entry in sorted(entries.values(), key=lambda e: (e["rows"], e["date"])):
        lines += _entry_lines(entry)
    command = next(iter(entries.values()))["command"]
    return [*lines, f"Reproduce: `{command}`.", ""]
