"""The clean summary: clean.json's document, and the terminal view (rich on a terminal, aligned
plain text otherwise). Personal values in examples are masked unless --show-values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from crmclean.core.cleaning import CleanResult
from crmclean.core.masking import MaskKind, cap_expr, mask_expr
from crmclean.summaries import SCHEMA_VERSION, CleanSummary

STEP_HEADERS = ("column", "step", "changed", "failed", "distinct")
EXAMPLE_HEADERS = ("record_id", "column", "step", "before", "after", "error")


def step_rows(result: CleanResult) -> list[dict[str, Any]]:
    """One entry per column and step, with the unique-value ratio of slow parsers."""
    rows = []
    for stat in result.step_stats.iter_rows(named=True):
        unique = stat["unique_inputs"]
        ratio = unique / stat["rows"] if unique is not None and stat["rows"] else None
        rows.append({**stat, "unique_ratio": ratio})
    return rows


SLOW_PARSER_KEYS = ("column", "step", "unique_inputs", "slow_inputs", "unique_ratio")


def summary_document(result: CleanResult, facts: Mapping[str, Any]) -> CleanSummary:
    """What clean.json holds: run facts, totals, per column and per step."""
    changes = result.changes
    changed = changes.filter(pl.col("before").ne_missing(pl.col("after")))
    failed = changes.filter(pl.col("error").is_not_null())
    per_column = {
        row["column"]: {"changed_cells": row["changed"], "failures": row["failed"]}
        for row in _per_column(changed, failed).iter_rows(named=True)
    }
    steps = step_rows(result)
    return CleanSummary.from_dict(
        {
            "schema_version": SCHEMA_VERSION,
            "command": "clean",
            **facts,
            "rows": result.frame.height,
            "columns": result.frame.columns,
            "changed_cells": changed.select("record_id", "column").unique().height,
            "changes": changed.height,
            "failures": failed.height,
            "per_column": per_column,
            "steps": steps,
            "slow_parsers": [
                {
                    k: s[k]
                    for k in ("column", "step", "unique_inputs", "slow_inputs", "unique_ratio")
                }
                for s in steps
                if s["unique_inputs"] is not None
            ],
        }
    )


def _per_column(changed: pl.DataFrame, failed: pl.DataFrame) -> pl.DataFrame:
    a = changed.group_by("column").agg(pl.col("record_id").n_unique().alias("changed"))
    b = failed.group_by("column").agg(pl.len().alias("failed"))
    joined = a.join(b, on="column", how="full", coalesce=True).fill_null(0)
    return joined.sort("column")


# Changes are masked this many rows at a time: the masking expression's working columns are a
# slice's, not those of millions of changes at once.
MASK_SLICE_ROWS = 250_000


def mask_changes(changes: pl.DataFrame, pii: Mapping[str, MaskKind]) -> pl.DataFrame:
    """before/after of personal columns masked (a loop over columns, not rows)."""
    if changes.height > MASK_SLICE_ROWS:
        slices = changes.iter_slices(MASK_SLICE_ROWS)
        return pl.concat([mask_changes(part, pii) for part in slices])
    before, after = pl.col("before"), pl.col("after")
    kinds: dict[MaskKind, list[str]] = {}
    for name, kind in pii.items():  # one branch per kind of mask: each is a pass over all rows
        kinds.setdefault(kind, []).append(name)
    for kind, names in kinds.items():
        own = pl.col("column").is_in(names)
        before = pl.when(own).then(_masked(pl.col("before"), kind)).otherwise(before)
        after = pl.when(own).then(_masked(pl.col("after"), kind)).otherwise(after)
    return changes.with_columns(before.alias("before"), after.alias("after"))


def _masked(value: pl.Expr, kind: MaskKind) -> pl.Expr:
    """Masked, but a null stays null: "became null" is what a steward needs to see."""
    return (
        pl.when(value.is_null())
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(mask_expr(value, kind))
    )


def examples(changes: pl.DataFrame, per_step: int = 3) -> pl.DataFrame:
    """A few changes per column and step, failures first."""
    ordered = changes.with_columns(pl.col("error").is_null().alias("_ok")).sort(
        "column", "step", "_ok", maintain_order=True
    )
    picked = ordered.group_by("column", "step", maintain_order=True).head(per_step)
    shown = picked.with_columns(cap_expr(pl.col("before")), cap_expr(pl.col("after")))
    return shown.select(*EXAMPLE_HEADERS)


def _shown(value: object) -> str:
    """A cell for people: null says so, and surrounding spaces are made visible by quotes."""
    if value is None:
        return "null"
    text = str(value)
    return repr(text) if text != text.strip() or text == "" else text


def summary_line(document: Mapping[str, Any], dry_run: bool) -> str:
    verb = "would change" if dry_run else "changed"
    return (
        f"{document['rows']:,} rows: {verb} {document['changed_cells']:,} cells "
        f"({document['changes']:,} step changes), {document['failures']:,} values could not be "
        "standardised and kept their original"
    )


def _step_cells(step: Mapping[str, Any]) -> list[str]:
    ratio = step["unique_ratio"]
    return [
        step["column"],
        step["step"],
        f"{step['changed']:,}",
        f"{step['failed']:,}",
        "-" if ratio is None else f"{ratio:.1%}",
    ]


def render(
    document: Mapping[str, Any],
    shown: pl.DataFrame | None,
    console: Console,
    dry_run: bool = False,
    derived: frozenset[str] = frozenset(),
) -> None:
    """Steps table, examples (dry run), and the summary line. Steps that changed nothing and
    failed nothing are folded into one line, and so are the steps that build the `derive:`
    columns (match keys) without failing: they change every value by design, which tells a
    steward nothing (clean.json and --format json list them all)."""
    keys = [s for s in document["steps"] if s["column"] in derived and not s["failed"]]
    rest = [s for s in document["steps"] if s not in keys]
    acted = [s for s in rest if s["changed"] or s["failed"]]
    idle = len(rest) - len(acted)
    steps = [_step_cells(s) for s in acted]
    rows = [
        [*(_shown(v) for v in r[:-1]), r[-1] or ""]  # the error column: empty when none
        for r in (shown.rows() if shown is not None else [])
    ]
    if console.is_terminal:
        _table(console, "crmclean clean" + (" (dry run)" if dry_run else ""), STEP_HEADERS, steps)
        if rows:
            _table(console, "examples", EXAMPLE_HEADERS, rows)
    else:
        _plain(console, STEP_HEADERS, steps)
        if rows:
            console.print("", markup=False)
            _plain(console, EXAMPLE_HEADERS, rows)
    if keys:
        columns = len({s["column"] for s in keys})
        console.print(
            f"match keys (derive:): {len(keys)} step(s) built {columns} column(s), not shown "
            "(--format json lists every step)",
            markup=False,
        )
    if idle:
        console.print(
            f"{idle} step(s) changed nothing and are not shown (--format json lists every step)",
            markup=False,
        )
    console.print(summary_line(document, dry_run), markup=False)


def _table(console: Console, title: str, headers: tuple[str, ...], rows: list[list[str]]) -> None:
    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(
            header, justify="right" if header in ("changed", "failed", "distinct") else "left"
        )
    for row in rows:
        table.add_row(*(c.replace("[", r"\[") for c in row))
    console.print(table)


def _plain(console: Console, headers: tuple[str, ...], rows: list[list[str]]) -> None:
    table = [list(headers), *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    for row in table:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=True)]
        console.print("  ".join(cells).rstrip(), markup=False, highlight=False)
