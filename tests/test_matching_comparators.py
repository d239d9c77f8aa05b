"""Comparison levels as data: one YAML case table per comparator, plus properties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.core.matching.metrics import metric_scores, metrics
from crmclean.core.matching.spec import ComparisonSpec
from engine_cases import ENGINES, level_holds

CASES = Path(__file__).parent / "cases" / "comparators"


def _tables() -> list[tuple[str, Any, dict[str, Any]]]:
    out = []
    for path in sorted(CASES.glob("*.yaml")):
        table = yaml.safe_load(path.read_text(encoding="utf-8"))
        for i, case in enumerate(table["cases"]):
            out.append((f"{path.stem}[{i}]", table["level"], case))
    return out


def _holds(
    level: Any,
    left: list[Any],
    right: list[Any],
    left_other: list[Any] | None = None,
    right_other: list[Any] | None = None,
    engine: str = "polars",
) -> list[bool]:
    spec = ComparisonSpec(name="t", column="v", levels=[level]).levels[0]
    schema = {"v": pl.String, "w": pl.String}
    none = [None] * len(left)
    return level_holds(
        engine,
        spec,
        "v",
        pl.DataFrame({"v": left, "w": left_other or none}, schema=schema),
        pl.DataFrame({"v": right, "w": right_other or none}, schema=schema),
    )


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("case_id", "level", "case"), _tables(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_case_table(engine: str, case_id: str, level: Any, case: dict[str, Any]) -> None:
    others = ([case["left_other"]], [case["right_other"]]) if "left_other" in case else (None, None)
    holds = _holds(level, [case["left"]], [case["right"]], *others, engine=engine)
    assert holds == [case["holds"]]
    if "score" in case:
        metric = level["metric"]
        score = metric_scores(metric, pl.Series([case["left"]]), pl.Series([case["right"]]))[0]
        assert score == pytest.approx(case["score"], abs=1e-3)


def test_every_comparator_has_a_case_table() -> None:
    from crmclean.core.matching.comparators import comparators

    covered = set()
    for path in CASES.glob("*.yaml"):
        level = yaml.safe_load(path.read_text(encoding="utf-8"))["level"]
        covered.add("null" if level is None else level if isinstance(level, str) else level["type"])
    assert covered >= set(comparators.names())


def test_unknown_metric_suggests() -> None:
    with pytest.raises(ValueError, match="did you mean"):
        ComparisonSpec(
            name="t",
            column="v",
            levels=[{"type": "similarity", "metric": "jaro_winkle", "threshold": 0.9}],
        )


names = st.text(alphabet="abcdeéßmnor -", max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(names, names), min_size=1, max_size=20))
def test_metrics_are_symmetric(pairs: list[tuple[str, str]]) -> None:
    left = pl.Series([a for a, _ in pairs])
    right = pl.Series([b for _, b in pairs])
    for name, entry in metrics:
        if name == "partial_ratio":
            continue  # partial_ratio aligns the shorter string: symmetric only up to ties
        forward = metric_scores(name, left, right)
        backward = metric_scores(name, right, left)
        assert forward == pytest.approx(backward, abs=1e-6), name
        if entry.kind == "similarity":
            top = 1.0 if entry.scale == "0..1" else 100.0
            assert ((forward >= 0) & (forward <= top + 1e-9)).all()


LEVELS: list[Any] = [
    "exact",
    {"type": "similarity", "metric": "jaro_winkler", "threshold": 0.85},
    {"type": "similarity", "metric": "levenshtein", "threshold": 2},
    {"type": "similarity", "metric": "token_set_ratio", "threshold": 80},
    {"type": "phonetic"},
    {"type": "nickname"},
    {"type": "swapped", "other": "w"},
]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.none() | names, st.none() | names), min_size=1, max_size=20))
def test_levels_are_symmetric(pairs: list[tuple[str | None, str | None]]) -> None:
    left = [a for a, _ in pairs]
    right = [b for _, b in pairs]
    others = list(reversed(left))
    others_r = list(reversed(right))
    for level in LEVELS:
        forward = _holds(level, left, right, others, others_r)
        assert forward == _holds(level, right, left, others_r, others), level
