"""The report's figures per source system (dataset.source_column, recorded in manifest.json):
records, violations, completeness, duplicates found and survivorship wins. Aggregates only, in
polars; a folder without a source column has no such section."""

from __future__ import annotations

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.io.run_folder import input_columns
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
    filled = [pl.col(c).is_not_null() for c in inputs]  # as the column profile counts
    records = clean.select(
        RECORD_ID,
        source,
        (pl.sum_horizontal(filled) if inputs else pl.lit(0)).alias("_filled"),
    )
    ids = records.select(RECORD_ID, "source")
    crosswalk = outputs.table("crosswalk")
    if crosswalk is not None:
        # one join gives each record its golden record; a golden record of two or more
        # records is a duplicate found
        records = records.join(
            crosswalk.select(RECORD_ID, "golden_id"), on=RECORD_ID, how="left"
        ).with_columns(
            (pl.col("golden_id").is_not_null() & (pl.len().over("golden_id") > 1)).alias("_dup")
        )
    records = records.collect().lazy()  # read and joined once, used by every figure below
    ids = records.select(RECORD_ID, "source")
    base = records.group_by("source").agg(
        pl.len().alias("records"),
        (pl.col("_filled").sum() / (pl.len() * len(inputs))).alias("completeness")
        if inputs
        else pl.lit(None, pl.Float64).alias("completeness"),
        *([pl.col("_dup").sum().alias("in_duplicates")] if crosswalk is not None else []),
    )
    frames = [base]
    violations = outputs.table("violations")
    if violations is not None:
        frames.append(
            violations.filter(pl.col(RECORD_ID).is_not_null())
            .join(ids, on=RECORD_ID)
            .group_by("source")
            .agg(pl.len().alias("violations"), pl.col(RECORD_ID).n_unique().alias("flagged"))
        )
    lineage = outputs.table("lineage")
    if lineage is not None and "source_system" in outputs.schemas["lineage"].names():
        # lineage names the source of every golden value: no join with the records needed
        frames.append(
            lineage.filter(pl.col("source_system").is_not_null())
            .group_by(pl.col("source_system").cast(pl.String).alias("source"))
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
    present = outputs.schemas["clean"].names()
    listed = input_columns(dict(manifest))
    if listed is not None:
        return [c for c in listed if c in present and c != RECORD_ID]
    return [c for c in present if c != RECORD_ID]
