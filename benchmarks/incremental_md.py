"""The incremental-night section of RESULTS.md: bench_incremental.py's entries as a table."""

from __future__ import annotations

from typing import Any

INTRO = """## Incremental nights (`benchmarks/bench_incremental.py`)

`crmclean run --previous out/ --incremental` on synthetic customers (seed 7) the night after a
full run, with 1 % of them changed (new e-mail, updated_at), 0.1 % removed and 0.1 % new
(docs/nightly.md). Wall time and peak RSS of the `run` process (os.wait4), CPU seconds user +
system; the load average (1, 5, 15 minutes, 2 cores) before and after the run. Budget (issue
14): <= 10 s wall and <= 2 GB. "agree" is the share of records whose golden id equals that of a
full run on the same night (`--compare-full`).
"""


def _load(values: list[float]) -> str:
    return ", ".join(f"{x:.1f}" for x in values)


def incremental_section(results: dict[str, Any]) -> list[str]:
    entries = results.get("incremental", {})
    if not entries:
        return []
    lines = [
        INTRO,
        "| records | new / changed / deleted | clusters touched | wall s | CPU s | peak MB | "
        "slowest steps (s) | full run wall s | agree | budget | load before / after | date | "
        "commit |",
        "| ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | --- | --- | --- | --- |",
    ]
    for entry in sorted(entries.values(), key=lambda e: (e["rows"], e["date"])):
        counts = entry.get("incremental", {})
        steps = sorted(entry.get("steps", {}).items(), key=lambda kv: -kv[1])[:3]
        full = entry.get("full_run", {})
        agree = entry.get("golden_id_agreement")
        verdict = "met" if entry["within_budget"] else "over"
        lines.append(
            f"| {entry['rows']:,} | {counts.get('new', 0):,} / {counts.get('changed', 0):,} / "
            f"{counts.get('deleted', 0):,} | {counts.get('clusters_touched', 0):,} | "
            f"{entry['wall_s']:.1f} | {entry['cpu_s']:.1f} | {entry['peak_rss_mb']:,} | "
            + ", ".join(f"{k} {v:.1f}" for k, v in steps)
            + f" | {full.get('wall_s', '-')} | {'-' if agree is None else f'{agree:.4%}'} | "
            f"{verdict} (<= {entry['budget_s']:g} s, {entry['budget_mb']:,} MB) | "
            f"{_load(entry['load_before'])} / {_load(entry['load_after'])} | {entry['date']} | "
            f"{str(entry.get('git_commit', ''))[:10]} |"
        )
    lines += ["", "Reproduce: `" + next(iter(entries.values()))["command"] + "`.", ""]
    return lines
