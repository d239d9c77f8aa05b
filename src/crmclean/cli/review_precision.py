"""`review --sample N`: a random sample of the run's automatic merges to label, read like the
review queue; and the precision estimate the labels give (core.matching.precision)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crmclean.core.matching import decisions as decisions_
from crmclean.core.matching.precision import (
    PrecisionEstimate,
    estimate_precision,
    merged_pairs,
    pairs_with_values,
    sample_to_label,
)
from crmclean.errors import UsageError
from crmclean.io.decisions_file import read_decisions
from crmclean.io.regular_file import is_present
from crmclean.io.run_folder import read_present_parquet
from crmclean.summaries import RunManifest

HINT = "pass the --out folder of `crmclean run`"


def _auto_merge(manifest: RunManifest) -> float:
    threshold = manifest.thresholds.get("auto_merge_threshold")
    if threshold is None:
        raise UsageError("the run has no matching thresholds", "its rule file has no matching:")
    return float(threshold)


def _decided(decisions: Path | None) -> pl.DataFrame:
    if decisions is None or not is_present(decisions, "decisions file"):
        return decisions_.empty()
    return read_decisions(decisions)


def sample_queue(
    out: Path, manifest: RunManifest, decisions: Path | None, size: int, seed: int
) -> pl.DataFrame:
    """`size` auto-merged pairs no steward labelled yet, drawn at random (same seed, same
    sample), with both records' values."""
    pairs = read_present_parquet(out / "pairs.parquet", HINT)
    merged = merged_pairs(pairs, _auto_merge(manifest))
    picked = sample_to_label(merged, _decided(decisions), size, seed)
    rows = pairs.join(picked, on=["record_id_l", "record_id_r"], how="semi")
    records = read_present_parquet(out / "clean.parquet", HINT)
    crosswalk = read_present_parquet(out / "crosswalk.parquet", HINT)
    return pairs_with_values(rows, records, crosswalk)


def precision_of(
    out: Path, manifest: RunManifest, decisions: Path | None
) -> PrecisionEstimate | None:
    """The estimate from the labelled auto-merged pairs; None before any is labelled."""
    if decisions is None or not is_present(out / "pairs.parquet", "pairs"):
        return None
    pairs = read_present_parquet(out / "pairs.parquet", HINT)
    return estimate_precision(merged_pairs(pairs, _auto_merge(manifest)), _decided(decisions))
