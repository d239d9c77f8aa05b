"""The steward's view of one candidate pair: both records side by side, differences highlighted,
and the evidence (log2 Bayes factor per comparison) that put the pair in the review band."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from crmclean.report.value_mask import Masker

PAIR_FIELDS = ("record_id", "golden_id", "source")
KEYS_HELP = "[y] match  [n] no match  [s] skip  [u] undo  [q] quit"


def value_columns(columns: Sequence[str]) -> list[str]:
    """Data columns present on both sides of a review row (`<name>_l` and `<name>_r`)."""
    left = [c[:-2] for c in columns if c.endswith("_l")]
    right = {c[:-2] for c in columns if c.endswith("_r")}
    return [c for c in left if c in right and c != "record_id"]


def comparison_names(columns: Sequence[str]) -> list[str]:
    return [c[3:] for c in columns if c.startswith("bf_")]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def _shown(column: str, value: Any, mask: Masker) -> Text:
    text = _text(value)
    if text is None:
        return Text("—", style="dim")
    return Text(mask(column, text) or "")


def _evidence(weight: float | None) -> Text:
    if weight is None:
        return Text("—", style="dim")
    style = "green" if weight > 0 else "red" if weight < 0 else ""
    word = (
        "strongly for"
        if weight >= 4
        else "for"
        if weight > 0
        else "strongly against"
        if weight <= -4
        else "against"
        if weight < 0
        else "neutral"
    )
    return Text(f"{weight:+.2f}  {word}", style=style)


def pair_view(
    pair: Mapping[str, Any],
    *,
    index: int,
    total: int,
    mask: Masker,
    decided: int = 0,
    levels: Mapping[str, Mapping[int, str]] | None = None,
) -> RenderableType:
    """One pair, rendered for the terminal; `levels` names each comparison's gamma levels."""
    columns = list(pair)
    probability = pair.get("match_probability")
    weight = pair.get("match_weight")
    head = Text()
    head.append(f"Pair {index + 1} of {total}", style="bold")
    head.append(f"   decided this session: {decided}\n")
    if isinstance(probability, float):
        head.append(f"match probability {probability:.3f}")
    if isinstance(weight, float):
        head.append(f"   match weight {weight:+.2f}")
    if pair.get("blocking_rule"):
        head.append(f"   found by {pair['blocking_rule']}")
    if pair.get("reason") and pair.get("reason") != "review band":
        head.append(f"\nwhy here: {pair['reason']} (the clustering cut this merge-level link)")

    records = Table(show_header=True, header_style="bold", expand=False)
    records.add_column("field")
    records.add_column(f"left  {pair.get('record_id_l')}")
    records.add_column(f"right {pair.get('record_id_r')}")
    records.add_column("")
    for column in value_columns(columns):
        left, right = pair.get(f"{column}_l"), pair.get(f"{column}_r")
        differs = _text(left) != _text(right)
        style = "bold yellow" if differs else ""
        marker = Text("≠", style="bold yellow") if differs else Text("=", style="dim")
        records.add_row(
            Text(column, style=style),
            _shown(column, left, mask),
            _shown(column, right, mask),
            marker,
        )

    evidence = Table(show_header=True, header_style="bold", title="Why", title_justify="left")
    evidence.add_column("comparison")
    evidence.add_column("level")
    evidence.add_column("weight (log2 Bayes factor)")
    for name in comparison_names(columns):
        gamma = pair.get(f"gamma_{name}")
        bf = pair.get(f"bf_{name}")
        named = (levels or {}).get(name, {})
        if gamma is None:
            level = "—"
        elif gamma == -1 and _text(pair.get(f"{name}_l")) and _text(pair.get(f"{name}_r")):
            level = "invalid: a value the comparison could not use (cleaned to empty)"
        elif gamma == -1:
            level = "missing on one side"
        else:
            level = named.get(int(gamma), str(gamma))
        evidence.add_row(name, level, _evidence(float(bf) if bf is not None else None))
    return Group(head, records, evidence, Text(KEYS_HELP, style="bold"))


def session_summary(counts: Mapping[str, int], decisions_file: str, remaining: int) -> str:
    parts = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    return (
        f"review: {parts or 'no decisions'}; {remaining} pair(s) still waiting; "
        f"decisions are in {decisions_file}"
    )
