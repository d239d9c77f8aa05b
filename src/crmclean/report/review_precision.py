"""The precision of a run's automatic merges, estimated from the steward's labels on them
(`review --sample`), for the report's review section."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from crmclean.core.matching.precision import estimate_precision, merged_pairs
from crmclean.errors import CrmcleanError
from crmclean.io.decisions_file import read_decisions
from crmclean.io.run_outputs import RunOutputs
from crmclean.report.report_model import Precision, Review


def with_precision(review: Review | None, outputs: RunOutputs) -> Review | None:
    manifest = outputs.summary("manifest") or {}
    named = manifest.get("decisions_file")
    threshold = (manifest.get("thresholds") or {}).get("auto_merge_threshold")
    pairs = outputs.table("pairs")
    if review is None or not isinstance(named, str) or threshold is None or pairs is None:
        return review
    found = next((p for p in (Path(named), outputs.folder.parent / named) if p.is_file()), None)
    if found is None:
        return review
    try:
        decided = read_decisions(found)
    except CrmcleanError:  # the file changed since and no longer reads: no estimate
        return review
    merged = merged_pairs(
        pairs.select("record_id_l", "record_id_r", "match_probability").collect(), float(threshold)
    )
    estimate = estimate_precision(merged, decided)
    if estimate is None:
        return review
    shown = Precision(estimate.labelled, estimate.precision, estimate.low, estimate.high)
    return replace(review, precision=shown)
