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
from crmclean.io.regular_file import is_present
from crmclean.io.run_folder import read_present_parquet
from crmclean.report.review_console import session_summary, value_columns
from crmclean.report.review_fields import Order, ordered
from crmclean.summaries import RunManifest


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


def members_of(out: Path, manifest: RunManifest) -> pl.DataFrame | None:
    """record_id, golden_id, how and the source of every record, for the clusters around a
    pair; None when the run folder lacks them."""
    crosswalk_path = out / "crosswalk.parquet"
    if not is_present(crosswalk_path, "crosswalk"):
        return None
    members = read_present_parquet(crosswalk_path, "pass the --out folder of a run")
    members = members.select("golden_id", "record_id", "how")
    source = manifest.source_column
    clean_path = out / "clean.parquet"
    if source and is_present(clean_path, "clean records"):
        clean = read_present_parquet(clean_path, "pass the --out folder of a run")
        if source in clean.columns:
            members = members.join(
                clean.select("record_id", pl.col(source).cast(pl.String)),
                on="record_id",
                how="left",
            )
    return members.sort("golden_id", "record_id")


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
