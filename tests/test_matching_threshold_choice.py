"""`thresholds.auto_merge: {precision: ...}`: the merge threshold chosen from the model's own
estimate of precision (core/matching/threshold_choice.py)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.core.matching.spec import AutoMergeTarget, MatchingSpec, ThresholdSpec
from crmclean.core.matching.threshold_choice import choose_auto_merge


def _choose(values: list[float], **target: float) -> tuple[float, float, int, str]:
    choice = choose_auto_merge(pl.Series(values, dtype=pl.Float64), AutoMergeTarget(**target))
    return choice.threshold, choice.estimated_precision, choice.pairs_at_or_above, choice.bound


def test_the_lowest_threshold_whose_pairs_keep_the_expected_precision() -> None:
    # running means from the top: 1.0, 0.995, 0.98, 0.9625, 0.93 -> 0.98 stops at the third
    threshold, estimate, pairs, bound = _choose(
        [0.99, 1.0, 0.95, 0.91, 0.8], precision=0.98, floor=0.5
    )
    assert (threshold, pairs, bound) == (0.95, 3, "target")
    assert estimate == pytest.approx((1.0 + 0.99 + 0.95) / 3)


def test_a_fixed_auto_merge_would_merge_more_than_the_target_allows() -> None:
    # the case the choice exists for: calibrated probabilities of a data set whose families
    # sit at 0.9-0.97; a fixed 0.9 would merge pairs of which 8 % are expected to be wrong
    probabilities = [0.999] * 50 + [0.97] * 20 + [0.9] * 30
    fixed = np.mean([p for p in probabilities if p >= 0.9])
    assert fixed < 0.97
    threshold, estimate, _, _ = _choose(probabilities, precision=0.97, floor=0.5)
    assert threshold == 0.97 and estimate >= 0.97


def test_bounded_by_floor_and_ceiling() -> None:
    # every pair is sure: the target holds down to the floor
    assert _choose([0.99, 0.995, 0.999], precision=0.9, floor=0.7)[0::3] == (0.7, "floor")
    # pairs under the floor never count, however sure the rest
    assert _choose([0.999, 0.6, 0.6], precision=0.9, floor=0.8)[2] == 1
    # nothing reaches the target: merge only from the ceiling
    threshold, _, pairs, bound = _choose([0.8, 0.7], precision=0.99, floor=0.5, ceiling=0.995)
    assert (threshold, pairs, bound) == (0.995, 0, "ceiling")
    # the target reached only above the ceiling: the ceiling
    assert _choose([0.9999, 0.9], precision=0.999, floor=0.5, ceiling=0.99)[0::3] == (
        0.99,
        "ceiling",
    )


def test_degenerate_inputs() -> None:
    assert _choose([], precision=0.98, floor=0.6) == (0.6, 1.0, 0, "floor")
    assert _choose([0.1, 0.2], precision=0.98, floor=0.6) == (0.6, 1.0, 0, "floor")
    probabilities = pl.Series([None, 0.99], dtype=pl.Float64)
    choice = choose_auto_merge(probabilities, AutoMergeTarget(precision=0.9))
    assert choice.pairs_at_or_above == 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), max_size=60),
    st.floats(0.55, 0.99),
    st.floats(0.55, 0.99),
)
def test_monotone_in_the_target_and_within_bounds(
    values: list[float], low: float, high: float
) -> None:
    low, high = sorted((low, high))
    loose = _choose(values, precision=low, floor=0.5)
    strict = _choose(values, precision=high, floor=0.5)
    # asking for more precision never lowers the threshold
    assert strict[0] >= loose[0]
    for (threshold, estimate, _, bound), target in ((loose, low), (strict, high)):
        assert 0.5 <= threshold <= 0.999
        if bound != "ceiling":  # pairs tied at the threshold are all in or all out
            assert estimate >= target - 1e-12


def test_pairs_tied_at_the_threshold_are_merged_together_or_not_at_all() -> None:
    # 1.0, then two at 0.9: the mean of the first two is 0.95, of all three 0.933
    assert _choose([1.0, 0.9, 0.9], precision=0.95, floor=0.5)[0::3] == (0.999, "ceiling")
    assert _choose([1.0, 0.9, 0.9, 0.5], precision=0.93, floor=0.5)[0:3] == (
        0.9,
        pytest.approx(2.8 / 3),
        3,
    )


def test_config_accepts_a_number_or_a_target_and_names_what_is_wrong() -> None:
    assert ThresholdSpec(auto_merge=0.99).merge_at == 0.99
    target = ThresholdSpec.model_validate({"auto_merge": {"precision": 0.98, "floor": 0.8}})
    assert isinstance(target.auto_merge, AutoMergeTarget) and target.merge_at == 0.8
    base = {
        "blocking": [["email"]],
        "comparisons": [{"name": "e", "column": "email", "levels": ["exact", "else"]}],
    }
    with pytest.raises(ValueError, match="precision"):
        MatchingSpec.model_validate({**base, "thresholds": {"auto_merge": {"precison": 0.98}}})
    with pytest.raises(ValueError, match="floor must not exceed ceiling"):
        MatchingSpec.model_validate(
            {
                **base,
                "thresholds": {"auto_merge": {"precision": 0.98, "floor": 0.9, "ceiling": 0.8}},
            }
        )
    with pytest.raises(ValueError, match=r"review must not exceed auto_merge\.floor"):
        MatchingSpec.model_validate(
            {**base, "thresholds": {"auto_merge": {"precision": 0.98, "floor": 0.6}, "review": 0.7}}
        )
    with pytest.raises(ValueError, match="between 0 and 1"):
        MatchingSpec.model_validate({**base, "thresholds": {"auto_merge": 1.0}})
