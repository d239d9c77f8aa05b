"""`thresholds.auto_merge: {precision: ...}`: the merge threshold chosen from the model's own
estimate of precision (issue 10, round 5).

If the match probabilities are calibrated, merging every candidate pair at or above t is right
for mean(P | P >= t) of them. Sorted from the most probable down, that running mean never rises,
so the lowest t whose estimate still reaches the target is well defined: it is the probability
of the last pair before the running mean falls under the target. The choice is bounded below by
`floor` and above by `ceiling`; no labels are read, so a steward's data set chooses its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from crmclean.core.matching.spec import AutoMergeTarget, MatchingSpec


@dataclass(frozen=True)
class ThresholdChoice:
    """What was chosen and why (dedupe.json `stats.auto_merge`)."""

    threshold: float
    target: float  # the precision asked for
    estimated_precision: float  # mean P of the pairs at or above `threshold` (1.0 when none)
    pairs_at_or_above: int
    bound: str  # "target", "floor" (the target is met lower down), "ceiling" (never met)

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "chosen": self.threshold,
            "precision_target": self.target,
            "estimated_precision": self.estimated_precision,
            "pairs_at_or_above": self.pairs_at_or_above,
            "bound": self.bound,
        }


def choose_auto_merge(
    probabilities: pl.Series, target: AutoMergeTarget, estimates: Any = None
) -> ThresholdChoice:
    """The lowest threshold in [floor, ceiling] at which the pairs at or above it are expected
    to be `target.precision` one customer: the mean of `estimates` (each pair's chance of being
    one customer; the match probability itself when not given) over those pairs. Pairs under
    the floor never count."""
    p = probabilities.to_numpy().astype(np.float64)
    e = p if estimates is None else np.asarray(estimates, dtype=np.float64)
    kept = ~np.isnan(p) & (p >= target.floor)
    order = np.argsort(-p[kept], kind="stable")
    p, e = p[kept][order], e[kept][order]
    if p.size == 0:
        return ThresholdChoice(target.floor, target.precision, 1.0, 0, "floor")
    running = np.cumsum(e) / np.arange(1, p.size + 1)
    # a threshold keeps all pairs of one probability or none: cut only after the last of each
    ends = np.flatnonzero(np.append(p[:-1] > p[1:], True))
    # with the match probability as the estimate the running mean never rises and the cuts
    # reaching the target are a prefix; with other estimates the lowest reaching one is taken
    reaching = ends[running[ends] >= target.precision]
    if reaching.size == 0:
        return _at(p, e, target.ceiling, target, "ceiling")
    last = int(reaching[-1])
    if last == p.size - 1:  # every pair down to the floor keeps the estimate
        return _at(p, e, target.floor, target, "floor")
    chosen = float(p[last])
    if chosen > target.ceiling:
        return _at(p, e, target.ceiling, target, "ceiling")
    return _at(p, e, chosen, target, "target")


def _at(p: Any, e: Any, threshold: float, target: AutoMergeTarget, bound: str) -> ThresholdChoice:
    kept = e[p >= threshold]
    estimate = float(kept.mean()) if kept.size else 1.0
    return ThresholdChoice(threshold, target.precision, estimate, int(kept.size), bound)


def with_auto_merge(spec: MatchingSpec, chosen: float | None) -> MatchingSpec:
    """`spec` with the auto_merge a run chose (dedupe.json `thresholds.auto_merge`) in place of
    its precision target; unchanged when nothing was chosen."""
    if chosen is None or not isinstance(spec.thresholds.auto_merge, AutoMergeTarget):
        return spec
    thresholds = spec.thresholds.model_copy(update={"auto_merge": float(chosen)})
    return spec.model_copy(update={"thresholds": thresholds})
