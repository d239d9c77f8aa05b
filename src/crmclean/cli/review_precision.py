"""`review --sample N`: a random sample of the run's automatic merges to label, read like the
review queue; and the precision estimate the labels give (core.matching.precision)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.matching import decisions as decisions_
from crmclean.core.matching.precision import (
    PrecisionEstimate,
    estimate_precision,
    merged_pairs,
    pairs_with_values,
    sample_to_label,
)
from crmclean.core.rules.rule_file import RuleFile
from crmclean.errors import InputError, UsageError
from crmclean.io.decisions_file import read_decisions
from crmclean.io.regular_file import is_present
from crmclean.io.review_folder import (
    HINT,
    ReviewedFolder,
    read_golden_ids,
    read_pairs,
    read_records,
)


def _auto_merge(reviewed: ReviewedFolder) -> float:
    if reviewed.auto_merge is None:
        raise UsageError("the run has no matching thresholds", "its rule file has no matching:")
    return reviewed.auto_merge


def _decided(decisions: Path | None) -> pl.DataFrame:
    if decisions is None or not is_present(decisions, "decisions file"):
        return decisions_.empty()
    return read_decisions(decisions)


def sample_queue(
    reviewed: ReviewedFolder, rules: RuleFile, decisions: Path | None, size: int, seed: int
) -> pl.DataFrame:
    """`size` auto-merged pairs no steward labelled yet, drawn at random (same seed, same
    sample), with both records' values: the data's columns as in the queue, not the source id
    (the record ids head the pair) or the match keys `derive:` makes."""
    pairs = read_pairs(reviewed)
    if pairs is None:
        raise InputError(f"{reviewed.folder / 'pairs.parquet'}: missing", HINT)
    merged = merged_pairs(pairs, _auto_merge(reviewed))
    picked = sample_to_label(merged, _decided(decisions), size, seed)
    rows = pairs.join(picked, on=["record_id_l", "record_id_r"], how="semi")
    records = read_records(reviewed)
    skip = {rules.dataset.id_column, *rules.derive} - {RECORD_ID}
    records = records.drop([c for c in records.columns if c in skip])
    return pairs_with_values(rows, records, read_golden_ids(reviewed))


def precision_of(reviewed: ReviewedFolder, decisions: Path | None) -> PrecisionEstimate | None:
    """The estimate from the labelled auto-merged pairs; None before any is labelled."""
    pairs = read_pairs(reviewed) if decisions is not None else None
    if decisions is None or pairs is None:
        return None
    return estimate_precision(merged_pairs(pairs, _auto_merge(reviewed)), _decided(decisions))
