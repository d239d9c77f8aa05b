"""The RESULTS.md section of `benchmarks/bench_match.py`: the duplicate check at entry."""

from __future__ import annotations

from typing import Any

INTRO = """## Duplicate check at entry (`benchmarks/bench_match.py`)

`crmclean match` / `serve` on the `--out` folder of a `crmclean run` of synthetic customers:
the time to load the run folder (rule file, model, index of block keys), then single lookups
one after another, half known customers entered again (every other one with a new e-mail),
half new ones. Budget: load <= 5 s, p99 <= 50 ms. The latency is wall time in one process on
the shared machine, and the CPU time of the process (all its threads) for each lookup; the load
average at the end of the run is given beside them. Since 2026-12-07 20:40 a run writes the
block-key index and term counts (match_index.parquet, term_counts.parquet) and the load reads
them; "tables" is what writing them costs the run (CPU s, wall s, MB), measured on the folder's
own clean.parquet, blocking_keys.parquet and crosswalk; "-" for a folder without them (the
index is then built while loading).
"""


def entry_section(entries: dict[str, dict[str, Any]]) -> list[str]:
    if not entries:
        return []
    lines = [
        INTRO,
        "| records | load s | load CPU s | peak RSS MB | lookups | p50 ms | p95 ms | p99 ms "
        "| max ms | CPU p50 / p99 ms | compared / lookup | decisions | tables: CPU s, wall s, MB "
        "| budget | load avg | date | commit |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|---|---|---|---|",
    ]
    for entry in sorted(entries.values(), key=lambda e: (int(e["rows"]), e["date"])):
        ms, cpu = entry["latency_ms"], entry.get("cpu_ms", {})
        decisions = ", ".join(f"{k} {v}" for k, v in sorted(entry["decisions"].items()))
        load_cpu = entry.get("load_cpu_s")
        written = entry.get("tables")
        tables = (
            f"{written['cpu_s']:.1f}, {written['wall_s']:.1f}, {written['mb']:,.0f}"
            if written
            else "-"
        )
        lines.append(
            f"| {entry['records']:,} | {entry['load_s']:.2f} "
            f"| {'-' if load_cpu is None else f'{load_cpu:.2f}'} | {entry['peak_rss_mb']:,} "
            f"| {entry['lookups']:,} | {ms['p50']:.1f} | {ms['p95']:.1f} | {ms['p99']:.1f} "
            f"| {ms['max']:.1f} | {cpu.get('p50', 0):.1f} / {cpu.get('p99', 0):.1f} "
            f"| {entry['compared_per_lookup_mean']} | {decisions} | {tables} "
            f"| {'within' if entry['within_budget'] else 'over'} "
            f"| {' / '.join(str(x) for x in entry['load_average'])} | {entry['date']} "
            f"| `{entry['git_commit']}` |"
        )
    lines.append("")
    lines += [f"- `{e['command']}`" for e in entries.values()]
    lines.append("")
    return lines
