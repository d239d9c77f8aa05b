"""The RESULTS.md section of `benchmarks/bench_match.py`: the duplicate check at entry."""

from __future__ import annotations

from typing import Any

INTRO = """## Duplicate check at entry (`benchmarks/bench_match.py`)

`crmclean match` / `serve` on the `--out` folder of a `crmclean run` of synthetic customers:
the time to load the run folder (rule file, model, index of block keys), then single lookups
one after another, half known customers entered again (every other one with a new e-mail),
half new ones. Budget: load <= 5 s, p99 <= 50 ms. The latency is wall time in one process on
the shared machine, and the CPU time of the process (all its threads) for each lookup; the load
average at the end of the run is given beside them.
"""


def entry_section(entries: dict[str, dict[str, Any]]) -> list[str]:
    if not entries:
        return []
    lines = [
        INTRO,
        "| records | load s | peak RSS MB | lookups | p50 ms | p95 ms | p99 ms | max ms "
        "| CPU p50 / p99 ms | compared / lookup | decisions | budget | load avg | date | commit |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|---|---|---|",
    ]
    for entry in sorted(entries.values(), key=lambda e: int(e["rows"])):
        ms, cpu = entry["latency_ms"], entry.get("cpu_ms", {})
        decisions = ", ".join(f"{k} {v}" for k, v in sorted(entry["decisions"].items()))
        lines.append(
            f"| {entry['records']:,} | {entry['load_s']:.2f} | {entry['peak_rss_mb']:,} "
            f"| {entry['lookups']:,} | {ms['p50']:.1f} | {ms['p95']:.1f} | {ms['p99']:.1f} "
            f"| {ms['max']:.1f} | {cpu.get('p50', 0):.1f} / {cpu.get('p99', 0):.1f} "
            f"| {entry['compared_per_lookup_mean']} | {decisions} "
            f"| {'within' if entry['within_budget'] else 'over'} "
            f"| {' / '.join(str(x) for x in entry['load_average'])} | {entry['date']} "
            f"| `{entry['git_commit']}` |"
        )
    lines.append("")
    lines += [f"- `{e['command']}`" for e in entries.values()]
    lines.append("")
    return lines
