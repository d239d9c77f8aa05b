"""How `crmclean review` presents the queue to a steward at a terminal: in which order, and
on the full screen (Textual, loaded only here) with the golden records around each pair."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from crmclean.cli.app import stderr_console
from crmclean.cli.review_session import ReviewSession
from crmclean.errors import UsageError
from crmclean.io.decisions_file import DecisionsLog
from crmclean.report.review_console import session_summary, value_columns
from crmclean.report.review_fields import (
    VALUE,
    Order,
    default_order,
    ordered,
    with_golden_value,
)


def in_order(
    pending: pl.DataFrame,
    order: Order | None,
    value_column: str | None,
    golden_values: Callable[[], pl.DataFrame | None],
) -> pl.DataFrame:
    """The queue in `order` (None: key accounts and value first when the run has them, else
    uncertainty). A `--value-column` the queue lacks is read from the golden records (a
    rollup's measure such as revenue_12m): both golden records' value together, as the run's
    own `customer_value`."""
    order = default_order(pending) if order is None else order
    if order is Order.value and value_column is None and VALUE not in pending.columns:
        raise UsageError(
            "--order value needs --value-column COLUMN (the run rolled up no customer value)",
            _columns_hint(pending, None),
        )
    if order is Order.value and value_column is not None:
        if f"{value_column}_l" not in pending.columns:
            values = golden_values()
            if values is None or value_column not in values.columns:
                raise UsageError(
                    f"--value-column {value_column}: no such column in the review queue or "
                    "the golden records",
                    _columns_hint(pending, values),
                )
            pending = with_golden_value(pending, values, value_column)
    return ordered(pending, order, value_column)


def _columns_hint(pending: pl.DataFrame, golden: pl.DataFrame | None) -> str:
    """The numeric columns a value could come from: the queue's and the golden records'."""
    numeric = [
        c
        for c in value_columns(pending.columns)
        if pending.schema[f"{c}_l"].is_numeric() and c != "golden_id"
    ]
    if golden is not None:
        numeric += [c for c, t in golden.schema.items() if t.is_numeric() and c not in numeric]
    if not numeric:
        return "the run holds no numeric column to order by: use --order uncertainty or queue"
    return "name one of: " + ", ".join(numeric)


def full_screen(
    pending: pl.DataFrame,
    path: Path,
    steward: str,
    mask: Any,
    levels: dict[str, dict[int, str]],
    members: pl.DataFrame | None,
) -> None:
    from crmclean.cli.review_app import ReviewApp  # Textual loads only for the full screen

    session = ReviewSession(pending, DecisionsLog(path), steward)
    try:
        ReviewApp(session, mask, levels, members).run()
    finally:
        session.log.close()
    stderr_console().print(
        session_summary(session.counts, str(path), session.remaining()), markup=False
    )
