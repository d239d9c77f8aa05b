"""The typed summary of a matching step (dedupe.json): blocking, training warnings, thresholds
and the personal columns, built from the result for `dedupe` and `run` alike."""

from __future__ import annotations

from typing import Any

from crmclean.config.loader import LoadedRules
from crmclean.core.masking import personal_columns
from crmclean.core.matching import DedupeResult, MatchingSpec
from crmclean.summaries import DedupeSummary


def dedupe_summary(
    result: DedupeResult,
    loaded: LoadedRules,
    spec: MatchingSpec,
    command_seconds: float | None = None,
) -> DedupeSummary:
    """dedupe.json, the same for `crmclean dedupe` and `crmclean run` (crmclean.summaries).

    `stats.seconds.total` is the matching alone; `stats.seconds.command` the whole command up
    to writing its outputs (reading, cleaning, and for `run` validating too)."""
    limits = {b.label: b.max_block_size or spec.max_block_size for b in spec.blocking}
    warnings = [
        f"blocking rule {r.rule}: {r.skipped_blocks} block(s) above max_block_size "
        f"{limits.get(r.rule, spec.max_block_size)} skipped ({r.skipped_pairs:,} pairs); largest "
        + ", ".join(str(n) for _, n in r.skipped_examples)
        + " records"
        for r in result.blocking
        if r.skipped_blocks
    ]
    warnings += [
        f"blocking rule {r.rule}: its largest block holds {r.top_block_share:.0%} of its pairs"
        for r in result.blocking
        if r.top_block_share > 0.2 and r.pairs > 10_000
    ]
    warnings += list(result.model.training.get("warnings", []))
    return DedupeSummary(
        rule_file=str(loaded.path.resolve()),  # explain finds it from any folder
        rules_digest=loaded.digest,
        # the numbers the run used: a precision target's chosen auto_merge (stats.auto_merge)
        thresholds={"auto_merge": result.auto_merge, "review": spec.thresholds.review},
        prior=result.model.prior,
        fingerprint=result.model.fingerprint,
        pii=dict(personal_columns(loaded.rules)),
        matching=spec.model_dump(mode="json"),
        blocking=[
            {**r.__dict__, "skipped_examples": [[k, n] for k, n in r.skipped_examples]}
            for r in result.blocking
        ],
        stats=_with_command_time(result.stats, command_seconds),
        warnings=warnings,
    )


def _with_command_time(stats: dict[str, Any], seconds: float | None) -> dict[str, Any]:
    if seconds is None:
        return stats
    return {**stats, "seconds": {**stats.get("seconds", {}), "command": round(seconds, 3)}}
