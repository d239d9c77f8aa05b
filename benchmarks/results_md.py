"""Render benchmarks/results.json as benchmarks/RESULTS.md (tables per size, machine facts)."""

from __future__ import annotations

from typing import Any

from accuracy_md import accuracy_section
from databases_md import databases_section
from engines_md import engines_section
from entry_md import entry_section
from incremental_md import incremental_section
from peers_md import peers_section
from rollup_md import rollup_section

NOISE = (
    "The machine has 2 cores shared with other engineers' test runs while these numbers were "
    "taken, so wall times are noisy (the load average at the start of each size is shown); "
    "compare tools within one table, not across runs."
)

METHOD = """\
## How each tool is run

- **crmclean**: each command as its own process, `crmclean <command> customers.parquet
  --rules rules/company.yaml --out <dir>` (`profile` writes `--format json` to stdout instead
  of a folder). `dedupe` and `run` are scored from the clusters (or crosswalk) they write.
- **Splink 5 (DuckDB)**: `benchmarks/peers/run_splink.py`, following the Splink DuckDB
  tutorials: light cleaning in SQL (placeholder words and sentinels to null, and since
  2026-12-07 values far more frequent than chance in e-mail, phone and date of birth, the one
  profile rule of "Peers on the yardsticks"; case, blanks, digits-only phones, parsed dates of
  birth),
  the library's named comparisons (`NameComparison` with term-frequency adjustments,
  `DateOfBirthComparison`, `EmailComparison`, Levenshtein/Jaro-Winkler levels), prior from
  deterministic rules (recall 0.7), u by random sampling (1e7 pairs), m by EM on two blocking
  rules, predict, connected components at match probability 0.95 (the tutorial value).
- **GoldenMatch**: `benchmarks/peers/run_goldenmatch.py` with `benchmarks/peers/goldenmatch.yaml`,
  the documented YAML template (standardisation, exact e-mail matchkey, weighted Jaro-Winkler
  name matchkey at 0.85, adaptive blocking on postcode) mapped onto the customer columns;
  since 2026-12-07 e-mails far more frequent than chance are nulled first (the same profile
  rule).
- Peers live only in `.bench-venv` (`benchmarks/peers/requirements.txt`), never in crmclean's
  dependencies. Every matcher is scored by `benchmarks/evaluate.py` (crmclean's own
  `core.matching.evaluation`) against the synthetic truth: pairwise precision/recall/F1 over
  record pairs and B-cubed F1 over records; a record a tool did not return counts as a
  singleton. Wall time and peak RSS are those of the tool's own process
  (`os.wait4`), including reading the input and writing the output.
"""


def _num(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _tool_row(tool: dict[str, Any]) -> str:
    scores = tool.get("scores") or {}
    status = (
        tool["status"]
        if tool["status"] != "ok"
        else ("ok" if tool.get("exit_code") == 0 else f"ok (exit {tool.get('exit_code')})")
    )
    cells = [
        f"`{tool['tool']}`",
        status,
        _num(tool.get("wall_s"), 1),
        _num(tool.get("peak_rss_mb"), 0),
        _num(scores.get("pairwise_precision")),
        _num(scores.get("pairwise_recall")),
        _num(scores.get("pairwise_f1")),
        _num(scores.get("bcubed_f1")),
    ]
    return "| " + " | ".join(cells) + " |"


def _verdict(tools: list[dict[str, Any]]) -> list[str]:
    by_name = {t["tool"]: t for t in tools}
    ours = by_name.get("crmclean dedupe")
    if not ours or ours["status"] != "ok" or not ours.get("scores"):
        return ["- No scored `crmclean dedupe` in this run, so no comparison with the peers."]
    lines = []
    f1 = ours["scores"]["pairwise_f1"]
    for peer in ("splink", "goldenmatch"):
        other = by_name.get(peer)
        if other and other.get("scores"):
            theirs = other["scores"]["pairwise_f1"]
            mark = "met" if f1 >= theirs else "NOT met"
            lines.append(f"- F1 >= {peer}: {mark} ({f1:.3f} vs {theirs:.3f}).")
    splink = by_name.get("splink")
    if splink and splink.get("wall_s") and ours.get("wall_s"):
        speedup = splink["wall_s"] / ours["wall_s"]
        mark = "met" if speedup >= 2 else "NOT met"
        lines.append(f"- At least 2x faster than Splink end to end: {mark} ({speedup:.1f}x).")
    return lines


def _size_section(entry: dict[str, Any]) -> list[str]:
    load = ", ".join(f"{x:.1f}" for x in entry.get("load_average_at_start", []))
    lines = [
        f"## {entry['size']} rows ({entry['rows']:,} records, {entry['entities']:,} entities)",
        "",
        f"Run {entry['date']} on `{entry.get('data', '?')}` (seed {entry['seed']}; the suffix "
        f"hashes the generator), per-tool budget {entry['budget_s']:.0f} s "
        f"and {entry.get('mem_limit_gb', '-')} GB, "
        f"load average at start {load}; crmclean at {entry.get('git_commit', '?')}. "
        f"Reproduce: `{entry['command']}`.",
        "",
        "| tool | status | wall s | peak MB | pairwise P | pairwise R | pairwise F1 | B-cubed F1 |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [_tool_row(t) for t in entry["tools"]]
    lines += ["", *_verdict(entry["tools"])]
    stages = [t for t in entry["tools"] if t.get("detail", {}).get("stages")]
    if stages:
        lines += ["", "Where the peers spent their time (seconds, from their own clocks):", ""]
        for t in stages:
            parts = ", ".join(f"{k} {v:.1f}" for k, v in t["detail"]["stages"].items())
            lines.append(f"- `{t['tool']}`: {parts}.")
    lines += _dedupe_budget(entry.get("dedupe_budget", []))
    problems = [t for t in entry["tools"] if t.get("error")]
    if problems:
        lines += ["", "Failures, budget overruns and skips:", ""]
        lines += [f"- `{t['tool']}` ({t['status']}): {t['error']}" for t in problems]
    return [*lines, ""]


def _dedupe_budget(runs: list[dict[str, Any]]) -> list[str]:
    """`crmclean dedupe` alone (bench_dedupe.py --record): wall, CPU and memory per run."""
    if not runs:
        return []
    lines = [
        "",
        "`crmclean dedupe` alone (`.venv/bin/python benchmarks/bench_dedupe.py --sizes "
        f"{runs[0].get('rows', 1_000_000)} --record`; issue 10's budget at 1M: 30 s wall and "
        "2 GB on 2 cores). Other jobs share the cores: CPU seconds (user + system) and the load "
        "say more than the wall time when the load is high. Core stages in seconds of wall "
        "time, from dedupe.json.",
        "",
        "| run | commit | load at start | wall s | CPU s | peak MB | candidate pairs | core "
        "stages |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        load = ", ".join(f"{x:.1f}" for x in run.get("load_average_at_start", []))
        stages = ", ".join(f"{k} {v:.1f}" for k, v in run.get("dedupe_seconds", {}).items())
        lines.append(
            f"| {run['date']} | `{run['git_commit']}` | {load} | {run['wall_seconds']:.1f} | "
            f"{run['cpu_seconds']:.1f} | {run['peak_rss_gb'] * 1024:.0f} | "
            f"{run['candidate_pairs']:,} | {stages} |"
        )
    return lines


def render_markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    versions = ", ".join(f"{k} {v}" for k, v in machine["versions"].items())
    lines = [
        "# crmclean benchmark results",
        "",
        "Written by `make bench` (`benchmarks/run_all.py`); do not edit by hand.",
        "",
        f"Machine: {machine['nproc']} cores ({machine['cpu']}), "
        f"{machine['memory_gib']} GiB memory, "
        f"{machine['os']}. Versions: {versions}.",
        "",
        NOISE,
        "",
        "Reproduce everything: `make bench` (creates `.bench-venv`, installs the peers, "
        "runs `benchmarks/run_all.py`); one size: "
        "`.venv/bin/python benchmarks/run_all.py --sizes 100k`.",
        "",
    ]
    order = ["10k", "100k", "1M"]
    for label in order:
        if label in results["sizes"]:
            lines += _size_section(results["sizes"][label])
        else:
            lines += [
                f"## {label} rows: not run yet",
                "",
                f"Run `.venv/bin/python benchmarks/run_all.py --sizes {label}` to fill it in.",
                "",
            ]
    lines += accuracy_section(results.get("accuracy", {}))
    lines += peers_section(results)
    lines += entry_section(results.get("entry_check", {}))
    lines += engines_section(results)
    lines += rollup_section(results)
    lines += incremental_section(results)
    lines += databases_section(results)
    return "\n".join([*lines, METHOD])
