"""How `crmclean review` presents the queue to a steward at a terminal: in which order, and
on the full screen (Textual, loaded only here) with the golden records around each pair."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from crmclean.cli.app import stderr_console
from crmclean.cli.review_session import ReviewSession
from crmclean.errors import UsageError
from crmclean.io.decisions_file import DecisionsLog
from crmclean.report.review_console import session_summary, value_columns
from crmclean.report.review_fields import Order, ordered


def in_order(pending: pl.DataFrame, order: Order, value_column: str | None) -> pl.DataFrame:
    if order is Order.value:
        if value_column is None:
            raise UsageError(
                "--order value needs --value-column COLUMN", "e.g. --value-column revenue"
            )
        if f"{value_column}_l" not in pending.columns:
            raise UsageError(
                f"--value-column {value_column}: the review queue has no such column",
                "name a column of the data: " + ", ".join(value_columns(pending.columns)),
            )
    return ordered(pending, order, value_column)


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
