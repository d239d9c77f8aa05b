"""The report's figures per source system (dataset.source_column, recorded in manifest.json):
records, violations, completeness, duplicates found and survivorship wins. Aggregates only, in
polars; a folder without a source column has no such section."""

from __future__ import annotations

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.io.run_outputs import RunOutputs
from crmclean.report.report_model import SourceFigures

MAX_SOURCES = 30
_UNKNOWN = "(none)"


def source_figures(outputs: RunOutputs) -> list[SourceFigures] | None:
    manifest = outputs.summary("manifest") or {}
    column = manifest.get("source_column")
    clean = outputs.table("clean")
    if not isinstance(column, str) or clean is None:
        return None
    if column not in outputs.schemas["clean"].names():
        return None
    inputs = _input_columns(outputs, manifest)
    source = pl.col(column).cast(pl.String).fill_null(_UNKNOWN).alias("source")
    records = clean.select(RECORD_ID, source, *[pl.col(c) for c in inputs])
    filled = [pl.col(c).is_not_null() & (pl.col(c).cast(pl.String) != "") for c in inputs]
    base = records.group_by("source").agg(
        pl.len().alias("records"),
        (pl.sum_horizontal(filled).sum() / (pl.len() * len(inputs))).alias("completeness")
        if inputs
        else pl.lit(None, pl.Float64).alias("completeness"),
    )
    ids = records.select(RECORD_ID, "source")
    frames = [base]
    violations = outputs.table("violations")
    if violations is not None:
        frames.append(
            violations.filter(pl.col(RECORD_ID).is_not_null())
            .join(ids, on=RECORD_ID)
            .group_by("source")
            .agg(pl.len().alias("violations"), pl.col(RECORD_ID).n_unique().alias("flagged"))
        )
    crosswalk = outputs.table("crosswalk")
    if crosswalk is not None:
        merged = crosswalk.group_by("golden_id").len().filter(pl.col("len") > 1)
        frames.append(
            crosswalk.join(merged, on="golden_id", how="semi")
            .join(ids, on=RECORD_ID)
            .group_by("source")
            .agg(pl.len().alias("in_duplicates"))
        )
    lineage = outputs.table("lineage")
    if lineage is not None:
        frames.append(
            lineage.filter(pl.col(RECORD_ID).is_not_null())
            .join(ids, on=RECORD_ID)
            .group_by("source")
            .agg(pl.len().alias("won"))
        )
    found = pl.collect_all(frames)
    table = found[0]
    for extra in found[1:]:
        table = table.join(extra, on="source", how="left")
    table = table.sort(["records", "source"], descending=[True, False]).head(MAX_SOURCES)
    names = table.columns
    return [
        SourceFigures(
            source=str(row["source"]),
            records=int(row["records"]),
            violations=int(row.get("violations") or 0),
            records_flagged=int(row.get("flagged") or 0),
            completeness=None if row["completeness"] is None else round(row["completeness"], 6),
            in_duplicates=int(row["in_duplicates"] or 0) if "in_duplicates" in names else None,
            golden_values_won=int(row["won"] or 0) if "won" in names else None,
        )
        for row in table.iter_rows(named=True)
    ]


def _input_columns(outputs: RunOutputs, manifest: dict[str, object]) -> list[str]:
    """The columns of the input file (derived match keys left out), as the column profile."""
    inputs = manifest.get("inputs")
    present = outputs.schemas["clean"].names()
    if isinstance(inputs, list) and inputs and isinstance(inputs[0], dict):
        listed = inputs[0].get("columns")
        if isinstance(listed, list):
            return [str(c) for c in listed if c in present and c != RECORD_ID]
    return [c for c in present if c != RECORD_ID]
