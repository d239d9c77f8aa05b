"""The report's figures per source system (dataset.source_column, recorded in manifest.json):
records, violations, completeness, duplicates found and survivorship wins. Aggregates only, in
polars; a folder without a source column has no such section."""

from __future__ import annotations

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.io.run_folder import input_columns
from crmclean.io.run_outputs import RunOutputs
from crmclean.report.clean_counts import ROWS, SOURCE, UNKNOWN_SOURCE, CleanCounts, source_column
from crmclean.report.report_model import SourceFigures

MAX_SOURCES = 30


def source_figures(outputs: RunOutputs, counts: CleanCounts | None) -> list[SourceFigures] | None:
    """Per source system; `counts`: clean.parquet counted by source (count_clean)."""
    manifest = outputs.summary("manifest") or {}
    column = source_column(outputs)
    clean = outputs.table("clean")
    if column is None or clean is None or counts is None or not counts.by_source:
        return None
    inputs = _input_columns(outputs, manifest)
    source = pl.col(column).cast(pl.String).fill_null(UNKNOWN_SOURCE).alias("source")
    # record id and source, read once, used by every figure joined on records below
    ids = clean.select(RECORD_ID, source).collect().lazy()
    # completeness as the column profile counts it: the filled cells of the input columns
    cells = pl.col(ROWS) * len(inputs)
    nulls = pl.sum_horizontal(pl.col(inputs)) if inputs else pl.lit(0)
    base = counts.table.lazy().select(
        pl.col(SOURCE).alias("source"),
        pl.col(ROWS).alias("records"),
        ((cells - nulls) / cells).alias("completeness")
        if inputs
        else pl.lit(None, pl.Float64).alias("completeness"),
    )
    frames = [base]
    crosswalk = outputs.table("crosswalk")
    if crosswalk is not None:
        # a record in a golden record of two or more records is in a duplicate found: the
        # crosswalk alone says which, and a semi-join (no payload) counts them per source
        in_duplicates = crosswalk.filter(
            pl.col("golden_id").is_not_null() & (pl.len().over("golden_id") > 1)
        ).select(RECORD_ID)
        frames.append(
            ids.join(in_duplicates, on=RECORD_ID, how="semi")
            .group_by("source")
            .agg(pl.len().alias("in_duplicates"))
        )
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
            in_duplicates=int(row["in_duplicates"] or 0) if crosswalk is not None else None,
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
