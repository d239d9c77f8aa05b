"""Comparison levels for one pair of records at a time: the scalar twins of the vectorised
tests in `comparators`, for the duplicate check at entry, where one new record meets its few
candidates and every polars call on a frame of five rows costs more than the test itself.

Each twin answers what its vectorised test answers on the same pair (blank text is missing, a
similarity score is the float32 rapidfuzz.process.cpdist returns, dates are read as `_dates`
reads them); tests/test_level_scalar.py holds every twin to its test on generated pairs, so a
change to a comparator shows there. A level type without a twin (or a value a twin cannot read
as its test does) makes `gamma` answer None: the caller then compares through the frames.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

import numpy as np

from crmclean.core.matching.comparators import (
    DateSwappedLevel,
    DateWithinLevel,
    DifferentLevel,
    ExactLevel,
    LevelSpec,
    NullLevel,
    PhoneticLevel,
    SimilarityLevel,
    SwappedLevel,
)
from crmclean.core.matching.comparing import comparison_levels
from crmclean.core.matching.metrics import metrics
from crmclean.core.matching.spec import ComparisonSpec

Row = Mapping[str, Any]  # one record's cleaned values, blank text already None (`record_row`)
Test = Callable[[Row, Row], bool]

# What polars' strip_chars() strips (Unicode White_Space), which is not quite str.strip()'s set
_WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class NoTwin(Exception):
    """The pair cannot be compared here exactly as the frames would compare it."""


def record_row(values: Mapping[str, Any]) -> dict[str, Any]:
    """A record's values as the comparisons see them: blank text is missing (comparing's
    _blank_to_null)."""
    return {
        k: None if isinstance(v, str) and not v.strip(_WHITE_SPACE) else v
        for k, v in values.items()
    }


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, date):  # polars casts a Date to its ISO text
        return value.isoformat()
    raise NoTwin


def _equal(left: Row, right: Row, column: str, case_sensitive: bool = False) -> bool:
    a, b = left.get(column), right.get(column)
    if a is None or b is None:
        return False
    a, b = _text(a), _text(b)
    return a == b if case_sensitive else a.lower() == b.lower()


def _present(left: Row, right: Row, column: str) -> bool:
    return left.get(column) is not None and right.get(column) is not None


def _score(metric: str, a: Any, b: Any) -> float:
    """The metric as cpdist returns it (float32 similarities, int32 distances); None as ""."""
    entry = metrics.get(metric)
    raw = entry.scorer("" if a is None else _text(a), "" if b is None else _text(b))
    return float(np.float32(raw)) if entry.kind == "similarity" else float(np.int32(raw))


def _holds(metric: str, score: float, threshold: float) -> bool:
    return score <= threshold if metrics.get(metric).kind == "distance" else score >= threshold


def _date(value: Any) -> date | None:
    """comparators._dates for one value: text's first ten characters as yyyy-mm-dd."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)[:10]
    if not _ISO_DATE.fullmatch(text) or text.startswith("0000"):
        raise NoTwin  # polars' lenient parse of odd text is left to polars
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None  # strict=False: an impossible date is missing


def _letters(value: Any) -> str:
    text = _text(value)
    return "".join(ch for ch in text if unicodedata.category(ch)[0] == "L").lower()


def _null(spec: NullLevel, column: str) -> Test:
    columns = spec.columns or [column]
    return lambda a, b: all(a.get(c) is None or b.get(c) is None for c in columns)


def _exact(spec: ExactLevel, column: str) -> Test:
    return lambda a, b: _equal(a, b, column, spec.case_sensitive)


def _different(spec: DifferentLevel, column: str) -> Test:
    return lambda a, b: _present(a, b, column) and not _equal(a, b, column, spec.case_sensitive)


def _similarity(spec: SimilarityLevel, column: str) -> Test:
    def test(a: Row, b: Row) -> bool:
        score = _score(spec.metric, a.get(column), b.get(column))
        return _holds(spec.metric, score, spec.threshold)

    return test


def _date_within(spec: DateWithinLevel, column: str) -> Test:
    def test(a: Row, b: Row) -> bool:
        left, right = _date(a.get(column)), _date(b.get(column))
        return left is not None and right is not None and abs((left - right).days) <= spec.days

    return test


def _date_swapped(spec: DateSwappedLevel, column: str) -> Test:
    def test(a: Row, b: Row) -> bool:
        left, right = _date(a.get(column)), _date(b.get(column))
        if left is None or right is None:
            return False
        return (
            left.year == right.year
            and left.month == right.day
            and left.day == right.month
            and left.day != left.month
        )

    return test


def _phonetic(spec: PhoneticLevel, column: str) -> Test:
    from crmclean.core.matching.comparators import _PHONETIC

    encode = _PHONETIC[spec.algorithm]

    def code(value: Any) -> str | None:
        return None if value is None else (encode(v) if (v := _text(value)).strip() else "")

    def test(a: Row, b: Row) -> bool:
        left, right = code(a.get(column)), code(b.get(column))
        return left is not None and left == right and len(left) > 0

    return test


def _initial(spec: LevelSpec, column: str) -> Test:
    def test(a: Row, b: Row) -> bool:
        left, right = _letters(a[column]), _letters(b[column])  # both present (guarded)
        return bool(left[:1]) and left[:1] == right[:1] and (len(left) == 1 or len(right) == 1)

    return test


def _first_equal(a: Any, b: Any) -> bool | None:
    """Kleene logic of polars: a comparison with a missing side is missing."""
    return None if a is None or b is None else _text(a)[:1] == _text(b)[:1]


def _swapped(spec: SwappedLevel, column: str) -> Test:
    def test(a: Row, b: Row) -> bool:
        here_l, here_r = a.get(column), b.get(column)
        other_l, other_r = a.get(spec.other), b.get(spec.other)
        plausible = _first_equal(here_l, other_r) is True or _first_equal(other_l, here_r) is True
        if not plausible or other_l is None or other_r is None:
            return False
        first = _score(spec.metric, here_l, other_r)
        second = _score(spec.metric, other_l, here_r)
        return _holds(spec.metric, first, spec.threshold) and _holds(
            spec.metric, second, spec.threshold
        )

    return test


def _else(spec: LevelSpec, column: str) -> Test:
    return lambda a, b: True


TWINS: dict[str, Callable[[Any, str], Test]] = {
    "null": _null,
    "exact": _exact,
    "different": _different,
    "similarity": _similarity,
    "date_within": _date_within,
    "date_swapped": _date_swapped,
    "phonetic": _phonetic,
    "initial": _initial,
    "swapped": _swapped,
    "else": _else,
}


def level_test(spec: LevelSpec, column: str) -> Test | None:
    """comparators.build_level for one pair; None when the level type has no twin."""
    make = TWINS.get(spec.type)
    if make is None:
        return None
    own = spec.column or column
    test = make(spec, own)
    if spec.type not in ("null", "else"):  # comparators._present_on_both_sides
        bare = test

        def test(a: Row, b: Row) -> bool:
            return _present(a, b, own) and bare(a, b)

    if not spec.requires_equal:
        return test
    also, inner = list(spec.requires_equal), test
    return lambda a, b: all(_equal(a, b, c) for c in also) and inner(a, b)


def comparison_test(comparison: ComparisonSpec) -> Callable[[Row, Row], int] | None:
    """The gamma of one pair under `comparison` (comparing.level_of_values for one pair), or
    None when a level has no twin. The returned function raises NoTwin for a value it cannot
    read as the frames would."""
    tests = []
    for level in comparison_levels(comparison):
        column = comparison.column if level.is_null else level.spec.column or comparison.column
        test = level_test(level.spec, column)
        if test is None:
            return None
        tests.append((level.gamma, test))

    def gamma(a: Row, b: Row) -> int:
        for value, test in tests:
            if test(a, b):
                return value
        return 0

    return gamma
