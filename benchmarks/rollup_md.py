"""The rollup section of RESULTS.md: bench_rollup.py's entries (10M orders onto 1M golden
records) as a Markdown table."""

from __future__ import annotations

from typing import Any

INTRO = """## Customer value: rollup (`benchmarks/bench_rollup.py`)

10M order rows (text columns, as read from a CSV: 2 % unknown ids) rolled up onto 1M golden
records (1.8M source records) with the `rollup:` section of `rules/demo.yaml` (7 measures,
key accounts): matching the orders to the records per source system, then the measures per
golden record. Reading the file is `run`'s read step and not timed. Budget (issue 17): <= 10 s.
CPU seconds are user + system of all threads; on a shared machine they show the work better
than the wall time does (load average: 1, 5, 15 minutes, 2 cores).
"""


def rollup_section(results: dict[str, Any]) -> list[str]:
    entries = results.get("rollup", {})
    if not entries:
        return []
    lines = [
        INTRO,
        "| orders | golden records | wall s | match s | rollup s | CPU s | peak MB | "
        "unmatched | key accounts | budget | load average | date | commit |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |",
    ]
    for entry in sorted(entries.values(), key=lambda e: (e["orders"], e["date"])):
        load = ", ".join(f"{x:.1f}" for x in entry.get("load_average", []))
        verdict = "met" if entry["within_budget"] else "over"
        lines.append(
            f"| {entry['orders']:,} | {entry['golden_records']:,} | {entry['seconds']:.1f} | "
            f"{entry['match_seconds']:.1f} | {entry['rollup_seconds']:.1f} | "
            f"{entry['cpu_seconds']:.1f} | {entry['peak_rss_mb']:,} | {entry['unmatched']:,} | "
            f"{entry['key_accounts']:,} | {verdict} (<= {entry['budget_s']:g} s) | {load} | "
            f"{entry['date']} | {str(entry.get('git_commit', ''))[:10]} |"
        )
    lines += ["", "Reproduce: `" + next(iter(entries.values()))["command"] + "`.", ""]
    return lines
