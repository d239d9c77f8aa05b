"""The answers of the duplicate check at entry (`match`, `serve`): personal values masked, as JSON
and as a console table. Both show the same dicts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import polars as pl
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crmclean.core.masking import MaskKind, cap_value, mask_series

DECISION_WORDS = {"same_customer": "same customer", "review": "review", "new": "new customer"}


def masked(
    answers: list[dict[str, Any]], pii: Mapping[str, MaskKind], id_column: str | None
) -> list[dict[str, Any]]:
    """The answers with every personal value masked (and long values capped), in place: the
    values of one kind are masked together, in one call (a lookup shows a few dozen)."""
    todo: dict[MaskKind, list[tuple[dict[str, Any], str, str]]] = {}

    def hide(place: dict[str, Any], key: str, column: str | None) -> None:
        value = place[key]
        kind = pii.get(column) if column is not None else None
        if value is None or kind is None:
            place[key] = _capped(value)
        else:
            todo.setdefault(kind, []).append((place, key, str(value)))

    for answer in answers:
        hide(answer, "record", id_column)
        for candidate in answer["candidates"]:
            hide(candidate, "record_id", id_column)
            for field in candidate["fields"]:
                for side in ("value", "candidate_value"):
                    hide(field, side, field["column"])
            golden = candidate.get("golden")
            if golden is not None:
                candidate["golden"] = dict(golden)
                for column in golden:
                    hide(candidate["golden"], column, column)
    for kind, places in todo.items():
        values = mask_series(pl.Series([value for _, _, value in places], dtype=pl.String), kind)
        for (place, key, _), value in zip(places, values.to_list(), strict=True):
            place[key] = value
    return answers


def shown(answers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answers with values shown (`--show-values`), long values capped all the same."""
    for answer in answers:
        for candidate in answer["candidates"]:
            for field in candidate["fields"]:
                for side in ("value", "candidate_value"):
                    field[side] = _capped(field[side])
            golden = candidate.get("golden")
            if golden is not None:
                candidate["golden"] = {c: _capped(v) for c, v in golden.items()}
    return answers


def _capped(value: Any) -> Any:
    return cap_value(value) if isinstance(value, str) else value


def to_json(value: Any, indent: int | None = None) -> str:
    """JSON of answers; dates and other values polars gives as objects become text."""
    return json.dumps(value, indent=indent, default=str, ensure_ascii=False)


def print_answers(console: Console, answers: list[dict[str, Any]]) -> None:
    for answer in answers:
        best = answer["best_probability"]
        line = (
            f"record {answer['record']}: {DECISION_WORDS[answer['decision']]}"
            + (f" (best match probability {best:.4f})" if best is not None else "")
            + f"; {answer['compared']} record(s) compared"
        )
        console.print(line, markup=False)
        for candidate in answer["candidates"]:
            table = Table(
                title=escape(
                    f"{candidate['golden_id']} via record {candidate['record_id']}: "
                    f"probability {candidate['match_probability']:.4f}, "
                    f"{DECISION_WORDS[candidate['decision']]} "
                    f"(blocked by {candidate['blocking_rule']})"
                ),
                title_justify="left",
            )
            for name in ("comparison", "entered", "known", "level", "bayes factor (log2)"):
                table.add_column(name, justify="right" if name.startswith("bayes") else "left")
            for field in candidate["fields"]:
                table.add_row(
                    escape(field["name"]),
                    escape(_text(field["value"])),
                    escape(_text(field["candidate_value"])),
                    escape(f"{field['level']} (γ={field['gamma']})"),
                    f"{field['bayes_factor']:+.2f}",
                )
            console.print(table)


def _text(value: Any) -> str:
    return "" if value is None else str(value)
