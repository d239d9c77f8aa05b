"""The "Engines: the cost curve" section of RESULTS.md: bench_engines.py's runs, polars and
DuckDB side by side per size, so a user can see where to switch."""

from __future__ import annotations

from typing import Any

INTRO = """\
## Engines: the cost curve (`benchmarks/bench_engines.py`)

`crmclean run` (or `dedupe`) on the polars engine (in memory) and the DuckDB engine (on disk,
`--memory` caps DuckDB itself; the Python side - reading, cleaning, golden records - is not
capped), each in its own process on `crmclean synth -n N` data. Peak RSS is the process's own
(DuckDB's memory included). F1 is pairwise against the generator's truth; "agree" the pairwise
agreement of the two engines' clusterings. CPU s is user + system of all the process's threads
(shown since 2026-12-07 20:45; load inflates it less than the wall time). Reproduce:
`.venv/bin/python benchmarks/bench_engines.py --sizes 100000 1000000 --record`.
"""


def engines_section(results: dict[str, Any]) -> list[str]:
    runs = results.get("engines", [])
    if not runs:
        return [INTRO, "Not run yet.", ""]
    lines = [
        INTRO,
        "| rows | engine | command | wall s | CPU s | peak RSS GB | pairwise F1 | agree | "
        "load at start / end | recorded | commit |",
        "|---:|---|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for run in sorted(runs, key=lambda r: (r["rows"], r["date"], r["engine"])):
        if "error" in run:
            continue  # listed below, with where it stopped
        agree = run.get("agreement_between_engines")
        cpu = run.get("cpu_seconds")
        load = ", ".join(str(x) for x in run.get("load_average", []))
        if run.get("load_average_after"):
            load += " / " + ", ".join(str(x) for x in run["load_average_after"])
        lines.append(
            f"| {run['rows']:,} | {run['engine']} | {run['command']} | "
            f"{run['wall_seconds']:.1f} | {'' if cpu is None else f'{cpu:.1f}'} | "
            f"{run['peak_rss_gb']:.2f} | {run['pairwise_f1']:.4f} | "
            f"{'' if agree is None else f'{agree:.5f}'} | {load} | {run['date']} | "
            f"{run.get('git_commit', '')} |"
        )
    return [*lines, "", *_stopped(runs), *_steps(runs)]


def _stopped(runs: list[dict[str, Any]]) -> list[str]:
    """Runs that did not finish: what stopped them, in which step, and what they used."""
    stopped = [r for r in runs if "error" in r]
    if not stopped:
        return []
    lines = ["Runs that did not finish:", ""]
    for run in stopped:
        cpu = run.get("cpu_seconds")
        lines.append(
            f"- {run['rows']:,} rows, {run['engine']} (`--memory {run.get('memory_option')}`), "
            f"{run['date']}, {run.get('git_commit', '')}: {run['error']}, in step "
            f"`{run.get('stopped_in_step')}`, after {run.get('wall_seconds') or 0:.0f} s "
            f"({'?' if cpu is None else f'{cpu:.0f}'} CPU s), peak RSS "
            f"{run.get('peak_rss_gb') or 0:.2f} GB; load at start "
            f"{', '.join(str(x) for x in run.get('load_average', []))}"
        )
    return [*lines, ""]


def _steps(runs: list[dict[str, Any]]) -> list[str]:
    """Per step of each run that sampled them: where the memory goes as the rows grow."""
    sampled = [r for r in runs if r.get("steps")]
    if not sampled:
        return []
    lines = [
        "Memory per step (`steps`: RSS sampled twice a second, steps timed by the run's "
        "`--log-json`, dedupe split by its own seconds; GB at the step's start / its peak):",
        "",
    ]
    for run in sorted(sampled, key=lambda r: (r["rows"], r["date"], r["engine"])):
        cells = ", ".join(
            f"{s['step']} {s['rss_at_start_gb']:.2f}/{s['peak_rss_gb'] or 0:.2f}"
            f" ({s['seconds'] or 0:.0f} s)"
            for s in run["steps"]
        )
        lines.append(f"- {run['rows']:,} {run['engine']} ({run['date']}): {cells}")
    return [*lines, ""]
