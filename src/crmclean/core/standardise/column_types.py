"""The rule file's column types applied to data read as text: integer, decimal and boolean
columns are cast, every other type stays String. A value that is not of its declared type is a
rule-file problem at `columns.<name>.type`, the same one for every command."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import polars as pl

from crmclean.core.problems import SetupProblem

_TRUE = ["true", "t", "yes", "y", "1", "ja", "wahr"]
_FALSE = ["false", "f", "no", "n", "0", "nein", "falsch"]
_NAMES = {"integer": "an integer", "decimal": "a decimal number", "boolean": "a yes/no value"}


def is_missing(value: pl.Expr, null_tokens: Sequence[str]) -> pl.Expr:
    """Null, blank or a null token such as n/a: missing, not a bad value."""
    tokens = pl.Series([t.strip().lower() for t in null_tokens], dtype=pl.String).implode()
    text = value.cast(pl.String).str.strip_chars().str.to_lowercase()
    return value.is_null() | (text == "") | text.is_in(tokens)


def cast_expr(name: str, kind: str, null_tokens: Sequence[str]) -> pl.Expr | None:
    """The typed column (null where missing or not of the type), or None for text types."""
    col = pl.col(name)
    text = (
        pl.when(is_missing(col, null_tokens))
        .then(None)
        .otherwise(col.cast(pl.String).str.strip_chars())
    )
    if kind == "integer":
        return text.cast(pl.Int64, strict=False).alias(name)
    if kind == "decimal":
        comma = text.str.replace(",", ".", literal=True)  # 1,5 from a European export
        dotted = pl.when(text.str.contains(".", literal=True)).then(text).otherwise(comma)
        return dotted.cast(pl.Float64, strict=False).alias(name)
    if kind == "boolean":
        lowered = text.str.to_lowercase()
        truth = pl.when(lowered.is_in(_TRUE)).then(pl.lit(True))
        return truth.when(lowered.is_in(_FALSE)).then(pl.lit(False)).alias(name)
    return None


def apply_types(
    frame: pl.DataFrame,
    types: Mapping[str, str],
    null_tokens: Sequence[str],
    locate_row: Callable[[int], str] | None = None,
) -> tuple[pl.DataFrame, list[SetupProblem]]:
    """Cast the typed columns present in `frame`; every column with values not of its type is a
    problem naming how many and where the first is (never the value: it may be personal)."""
    problems: list[SetupProblem] = []
    casts: dict[str, pl.Expr] = {}
    for name, kind in types.items():
        expr = cast_expr(name, kind, null_tokens)
        if expr is None or name not in frame.columns:
            continue  # a missing column is the checks' and steps' problem, named there
        bad = expr.is_null() & ~is_missing(pl.col(name), null_tokens)
        found = frame.select(bad.sum().alias("n"), bad.arg_true().first().alias("first"))
        count, first = found.row(0)
        if count:
            where = locate_row(int(first)) if locate_row else f"row {int(first) + 1}"
            problems.append(
                SetupProblem(
                    ("columns", name, "type"),
                    f"column {name!r} is {kind}, but {count:,} value(s) are not {_NAMES[kind]} "
                    f"(the first at {where})",
                    "fix the values, or declare type: string and check them with a rule",
                )
            )
        casts[name] = expr
    if problems:
        return frame, problems
    return frame.with_columns(casts.values()) if casts else frame, []
