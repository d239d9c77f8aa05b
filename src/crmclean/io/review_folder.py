"""What `crmclean review` reads from an output folder, whichever command wrote it.

A `run` folder holds its review queue (review.parquet with both records' values), manifest.json
and crosswalk.parquet. A `dedupe` folder holds only the matching: pairs.parquet, clusters.parquet,
the cleaned records, the model, dedupe.json with the thresholds, and a review.parquet of just the
links the clustering guards cut. Its queue is derived here as `run` derives its own
(core.golden.step.review_queue): the pairs in the review band [review, auto_merge) and the cut
links, with both records' values; its clusters stand in for golden records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from crmclean.core.contracts import PAIR_KEYS, RECORD_ID
from crmclean.core.golden.step import crosswalk, review_queue
from crmclean.core.rules.rule_file import RuleFile
from crmclean.errors import InputError
from crmclean.io.regular_file import is_present, require_regular_file
from crmclean.io.run_folder import (
    read_present_parquet,
    read_review_queue,
    require_complete_run,
    run_record_ids,
)
from crmclean.io.summary_files import read_summary
from crmclean.summaries import DedupeSummary, RunManifest

HINT = "pass the --out folder of `crmclean run` or `crmclean dedupe`"


@dataclass(frozen=True)
class ReviewedFolder:
    """The facts `review` needs from a run's manifest.json or a dedupe's dedupe.json."""

    folder: Path
    command: str  # "run" or "dedupe"
    rule_file: str  # as the summary names it (absolute, or relative to where it ran)
    review: float | None  # the thresholds (match probabilities); None without matching
    auto_merge: float | None
    rule_files: list[str] = field(default_factory=list)  # with the files it `extends:`
    inputs: list[dict[str, Any]] = field(default_factory=list)  # a run's inputs (path, ...)
    source_column: str | None = None  # a run's dataset.source_column

    @property
    def is_run(self) -> bool:
        return self.command == "run"


def read_reviewed(out: Path) -> ReviewedFolder:
    """The folder's summary (exit 3 naming what is wrong when it holds neither kind, or a run
    whose manifest.json is missing or lists outputs the folder lacks)."""
    require_complete_run(out)
    try:
        manifest = read_summary(out, RunManifest)
        if manifest is not None:
            require_regular_file(out / "review.parquet", "review queue")  # a run's queue
            thresholds = manifest.thresholds
            return ReviewedFolder(
                out,
                "run",
                manifest.rule_file,
                thresholds.get("review_threshold"),
                thresholds.get("auto_merge_threshold"),
                list(manifest.rule_files),
                list(manifest.inputs),
                manifest.source_column,
            )
        dedupe = read_summary(out, DedupeSummary)
    except (InputError, OSError, ValueError, pl.exceptions.PolarsError) as exc:
        reason = exc.message if isinstance(exc, InputError) else exc
        raise InputError(
            f"{out}: not the outputs of `crmclean run` or `dedupe` ({reason})", HINT
        ) from None
    if dedupe is None:
        raise InputError(
            f"{out}: not the outputs of `crmclean run` or `dedupe` (no manifest.json or "
            "dedupe.json)",
            HINT,
        )
    return ReviewedFolder(
        out,
        "dedupe",
        dedupe.rule_file,
        dedupe.thresholds.get("review"),
        dedupe.thresholds.get("auto_merge"),
    )


def read_queue(reviewed: ReviewedFolder, rules: RuleFile) -> pl.DataFrame:
    """The review queue as `run` writes it: pairs with `<column>_l`/`_r` values, golden ids
    (a dedupe's cluster ids) and why each pair is there. Decided pairs are still in it."""
    if reviewed.is_run:
        return read_review_queue(reviewed.folder)
    pairs = _parquet(reviewed, "pairs.parquet")
    records = _parquet(reviewed, "clean.parquet")
    # as run's queue: the data's columns, not the source id or the match keys derived from it
    skip = {rules.dataset.id_column, *rules.derive} - {RECORD_ID}
    records = records.drop([c for c in records.columns if c in skip])
    cut = _parquet(reviewed, "review.parquet")
    return review_queue(
        pairs,
        records,
        _clusters(reviewed).select(RECORD_ID, "golden_id"),
        review=reviewed.review if reviewed.review is not None else 0.0,
        auto_merge=reviewed.auto_merge if reviewed.auto_merge is not None else 0.0,
        cut=cut if "reason" in cut.columns else None,
    )


def read_members(
    reviewed: ReviewedFolder, source: str | None, values: Sequence[str] = ()
) -> pl.DataFrame | None:
    """golden_id, record_id, how (and the `source` column's value, then the `values` columns
    the records hold: the fields a steward compares) of every record, for the golden records
    around a pair; None when the folder lacks them."""
    if reviewed.is_run:
        path = reviewed.folder / "crosswalk.parquet"
        if not is_present(path, "crosswalk"):
            return None
        members = read_present_parquet(path, HINT).select("golden_id", "record_id", "how")
    else:
        members = read_golden_ids(reviewed).select("golden_id", "record_id", "how")
    clean_path = reviewed.folder / "clean.parquet"
    if (source or values) and is_present(clean_path, "clean records"):
        names = pl.read_parquet_schema(clean_path)
        wanted = [c for c in dict.fromkeys([source, *values]) if c and c in names]
        if wanted:
            clean = pl.read_parquet(clean_path, columns=[RECORD_ID, *wanted])
            members = members.join(
                clean.select(RECORD_ID, *[pl.col(c).cast(pl.String) for c in wanted]),
                on=RECORD_ID,
                how="left",
            )
    return members.sort("golden_id", "record_id")


def read_golden_ids(reviewed: ReviewedFolder) -> pl.DataFrame:
    """record_id -> golden_id and how it joined: a run's crosswalk, or for a dedupe folder
    the same table made from its clusters and pairs (a cluster is its golden record)."""
    if reviewed.is_run:
        return read_present_parquet(reviewed.folder / "crosswalk.parquet", HINT)
    return crosswalk(_clusters(reviewed), _parquet(reviewed, "pairs.parquet"))


def read_golden_values(reviewed: ReviewedFolder) -> pl.DataFrame | None:
    """golden_id and the numeric columns of a run's golden records (a rollup's measures such as
    revenue_12m), what `review --order value --value-column` may order by; None for a dedupe
    folder or a run without golden records."""
    path = reviewed.folder / "golden.parquet"
    if not reviewed.is_run or not is_present(path, "golden records"):
        return None
    schema = pl.read_parquet_schema(path)
    numeric = [c for c, t in schema.items() if t.is_numeric()]
    return pl.read_parquet(path, columns=["golden_id", *numeric]).with_columns(
        pl.col("golden_id").cast(pl.String)
    )


def read_record_ids(reviewed: ReviewedFolder) -> pl.Series:
    """Every record id the folder's run or dedupe saw: what an imported decision may name."""
    if reviewed.is_run:
        return run_record_ids(reviewed.folder)
    return _clusters(reviewed).get_column(RECORD_ID).cast(pl.String).unique()


def read_pairs(reviewed: ReviewedFolder) -> pl.DataFrame | None:
    """pairs.parquet, None when the folder has none (a run without matching)."""
    path = reviewed.folder / "pairs.parquet"
    return read_present_parquet(path, HINT) if is_present(path, "pairs") else None


def read_records(reviewed: ReviewedFolder) -> pl.DataFrame:
    """The cleaned records (clean.parquet)."""
    return _parquet(reviewed, "clean.parquet")


def _clusters(reviewed: ReviewedFolder) -> pl.DataFrame:
    clusters = _parquet(reviewed, "clusters.parquet")
    return clusters.select(
        pl.col(RECORD_ID).cast(pl.String), pl.col("cluster_id").cast(pl.String).alias("golden_id")
    )


def _parquet(reviewed: ReviewedFolder, name: str) -> pl.DataFrame:
    frame = read_present_parquet(reviewed.folder / name, HINT)
    if name == "pairs.parquet" and any(c not in frame.columns for c in PAIR_KEYS):
        raise InputError(f"{reviewed.folder / name}: lacks {' or '.join(PAIR_KEYS)}", HINT)
    return frame
