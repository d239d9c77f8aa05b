"""Comparison levels and string metrics, each registered by name.

A level spec describes one rung of a comparison (exact, jaro_winkler >= 0.92, date within 30 days
...); its builder returns a vectorised test over the unique value pairs of a comparison.
Builders never loop over pairs: metrics go through `rapidfuzz.process.cpdist` (all cores), the
rest through polars expressions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import jellyfish
import numpy as np
import polars as pl
from pydantic import Field, model_validator

from crmclean.core.matching.metrics import metric_scores, metrics
from crmclean.core.matching.nicknames import resolve_nicknames
from crmclean.core.registry import Registry, did_you_mean
from crmclean.core.spec import Spec, tagged_union

BoolArray = np.ndarray[Any, np.dtype[np.bool_]]
IntArray = np.ndarray[Any, np.dtype[np.int64]]
FloatArray = np.ndarray[Any, np.dtype[np.float64]]


# --- the values a level sees -------------------------------------------------------------------


@dataclass
class PairValues:
    """The unique value pairs of one comparison: row i of `left` meets row i of `right`, or,
    built by `of_rows`, row `rows_l[i]` of a table of distinct values meets its row `rows_r[i]`
    (the pairs are then never materialised: a level reads the columns it needs, where it needs
    them, and equality is tested on integer ids of the distinct values).

    `active` marks the pairs no earlier level has claimed; metrics are computed only there
    (most blocked pairs stop at the exact level) and at most once per (metric, column).
    """

    left: pl.DataFrame
    right: pl.DataFrame
    active: BoolArray | None = None
    rows_l: IntArray | None = None
    rows_r: IntArray | None = None
    _cache: dict[tuple[str, str], FloatArray] = field(default_factory=dict)
    # Per column, computed once for all levels (a comparison over street, postcode and phone
    # tests the same equalities and presences in most of its levels, on millions of pairs).
    _equal: dict[tuple[str, bool], BoolArray] = field(default_factory=dict)
    _present: dict[str, BoolArray] = field(default_factory=dict)
    # ids of the table's values per (column, case_sensitive): may be shared by every PairValues
    # over the same table (blocked pairs, random pairs, the recall estimate's pairs)
    value_ids: dict[tuple[str, bool], IntArray] = field(default_factory=dict)

    @classmethod
    def of_rows(
        cls,
        table: pl.DataFrame,
        rows_l: IntArray,
        rows_r: IntArray,
        value_ids: dict[tuple[str, bool], IntArray] | None = None,
    ) -> PairValues:
        shared = {} if value_ids is None else value_ids
        return cls(table, table, rows_l=rows_l, rows_r=rows_r, value_ids=shared)

    def __len__(self) -> int:
        return self.left.height if self.rows_l is None else len(self.rows_l)

    def sides(self, column: str) -> tuple[pl.Series, pl.Series]:
        left, right = self.left.get_column(column), self.right.get_column(column)
        if self.rows_l is None or self.rows_r is None:
            return left, right
        return left.gather(self.rows_l), right.gather(self.rows_r)

    def at(self, column: str, index: IntArray) -> tuple[pl.Series, pl.Series]:
        """Both sides of the pairs at positions `index` only."""
        left, right = self.left.get_column(column), self.right.get_column(column)
        if self.rows_l is None or self.rows_r is None:
            return left.gather(index), right.gather(index)
        return left.gather(self.rows_l[index]), right.gather(self.rows_r[index])

    def text(self, column: str, case_sensitive: bool) -> tuple[pl.Series, pl.Series]:
        """Both sides as text, lower-cased unless `case_sensitive`."""
        left, right = (side.cast(pl.String) for side in self.sides(column))
        if not case_sensitive:
            left, right = left.str.to_lowercase(), right.str.to_lowercase()
        return left, right

    def equal(self, column: str, case_sensitive: bool = False) -> BoolArray:
        """Both sides hold a value and the values are equal (shared by every level asking)."""
        key = (column, case_sensitive)
        found = self._equal.get(key)
        if found is None:
            if self.rows_l is None or self.rows_r is None:
                left, right = self.text(column, case_sensitive)
                found = _mask(left == right)
            else:
                ids = self.value_ids.get(key)
                if ids is None:
                    ids = _value_ids(self.left.get_column(column), case_sensitive)
                    self.value_ids[key] = ids
                id_l, id_r = ids[self.rows_l], ids[self.rows_r]
                found = (id_l == id_r) & (id_l >= 0)
            self._equal[key] = found
        return found

    def present(self, column: str) -> BoolArray:
        """Both sides hold a value."""
        found = self._present.get(column)
        if found is None:
            if self.rows_l is None or self.rows_r is None:
                left, right = self.sides(column)
                found = _mask(left.is_not_null() & right.is_not_null())
            else:
                held = _mask(self.left.get_column(column).is_not_null())
                found = held[self.rows_l] & held[self.rows_r]
            self._present[column] = found
        return found

    def score(self, metric: str, column: str) -> FloatArray:
        """Metric scores where active (NaN elsewhere), computed once per (metric, column)."""
        key = (metrics.canonical(metric), column)
        scores = self._cache.get(key)
        if scores is None:
            scores = np.full(len(self), np.nan)
            self._cache[key] = scores
        need = np.isnan(scores)
        if self.active is not None:
            need &= self.active
        if need.any():
            index = np.flatnonzero(need)
            scores[index] = metric_scores(key[0], *self.at(column, index))
        return scores


def _value_ids(values: pl.Series, case_sensitive: bool) -> IntArray:
    """An id per value, equal where the (lower-cased) text is equal; -1 where missing."""
    text = values.cast(pl.String)
    if not case_sensitive:
        text = text.str.to_lowercase()
    keyed = text.alias("_v").to_frame()
    table = keyed.drop_nulls().unique().with_row_index("_id")
    ids = keyed.join(table, on="_v", how="left", maintain_order="left").get_column("_id")
    return ids.cast(pl.Int64).fill_null(-1).to_numpy()


Matcher = Callable[[PairValues], BoolArray]


def _mask(expr_result: pl.Series) -> BoolArray:
    return expr_result.fill_null(False).to_numpy().astype(np.bool_, copy=False)


# --- level specs -------------------------------------------------------------------------------


class LevelSpec(Spec):
    """Fields every comparison level shares."""

    type: str
    label: str | None = Field(None, description="Shown in explanations; a default is derived")
    column: str | None = Field(None, description="Compare this column instead of the field's")
    m_probability: float | None = Field(None, gt=0, le=1, description="Fix m instead of EM")
    u_probability: float | None = Field(None, gt=0, le=1, description="Fix u instead of sampling")
    requires_equal: list[str] = Field(
        default_factory=list,
        description="The level holds only where these columns are equal too (street + postcode)",
    )

    def describe(self) -> str:
        return self.type

    @property
    def label_or_default(self) -> str:
        text = self.label or self.describe()
        if self.requires_equal and not self.label:
            text += " and same " + ", ".join(self.requires_equal)
        return text


@dataclass(frozen=True)
class Comparator:
    name: str
    spec: type[LevelSpec]
    build: Callable[[Any, str], Matcher]  # (spec, column) -> test over unique value pairs


comparators: Registry[Comparator] = Registry("comparison level")


class NullLevel(LevelSpec):
    """Either side is missing: the comparison says nothing (Bayes factor 1).

    A comparison over several columns names them in `columns`: it is null only when every one
    of them is missing on a side.
    """

    type: Literal["null"] = "null"
    columns: list[str] = Field(default_factory=list)


class ExactLevel(LevelSpec):
    type: Literal["exact"] = "exact"
    case_sensitive: bool = False

    def describe(self) -> str:
        return "exact" if self.column is None else f"exact {self.column}"


class SimilarityLevel(LevelSpec):
    type: Literal["similarity"] = "similarity"
    metric: str = "jaro_winkler"
    threshold: float

    @model_validator(mode="after")
    def _known_metric(self) -> SimilarityLevel:
        if self.metric not in metrics:
            close = did_you_mean(self.metric, metrics.names() + sorted(metrics.aliases()))
            hint = (
                f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(metrics.names())
            )
            raise ValueError(f"unknown metric {self.metric!r} ({hint})")
        return self

    def describe(self) -> str:
        entry = metrics.get(self.metric)
        op = "<=" if entry.kind == "distance" else ">="
        return f"{entry.name} {op} {self.threshold:g}"


class DateWithinLevel(LevelSpec):
    type: Literal["date_within"] = "date_within"
    days: int = Field(ge=0)

    def describe(self) -> str:
        return f"within {self.days} days"


class DateSwappedLevel(LevelSpec):
    """Same year, day and month swapped (03/04 against 04/03): a typical typing mistake."""

    type: Literal["date_swapped"] = "date_swapped"

    def describe(self) -> str:
        return "day/month swapped"


class NumericDifferenceLevel(LevelSpec):
    type: Literal["numeric_difference"] = "numeric_difference"
    max_difference: float = Field(ge=0)
    relative: bool = Field(False, description="Difference as a share of the larger value")

    def describe(self) -> str:
        unit = " (relative)" if self.relative else ""
        return f"difference <= {self.max_difference:g}{unit}"


class PhoneticLevel(LevelSpec):
    type: Literal["phonetic"] = "phonetic"
    algorithm: Literal["metaphone", "soundex", "nysiis", "match_rating"] = "metaphone"

    def describe(self) -> str:
        return f"same {self.algorithm}"


class NicknameLevel(LevelSpec):
    """Equal after resolving nicknames (Bill = William, Sepp = Josef)."""

    type: Literal["nickname"] = "nickname"

    def describe(self) -> str:
        return "same name or nickname"


class InitialLevel(LevelSpec):
    """One side is reduced to an initial ("J.", "j") that is the other side's first letter:
    John and J. are compatible, weaker evidence than the same name (many names share it)."""

    type: Literal["initial"] = "initial"

    def describe(self) -> str:
        return "initial agrees"


class SwappedLevel(LevelSpec):
    """The field and another are swapped between the records (first and last name): each side's
    value is similar to the other side's value of the `other` column."""

    type: Literal["swapped"] = "swapped"
    other: str = Field(description="The column the values may have been swapped with")
    metric: str = "jaro_winkler"
    threshold: float = 0.9

    @model_validator(mode="after")
    def _known_metric(self) -> SwappedLevel:
        if self.metric not in metrics:
            raise ValueError(f"unknown metric {self.metric!r}")
        return self

    def describe(self) -> str:
        return f"swapped with {self.other}"


class DifferentLevel(LevelSpec):
    """Both sides hold a value and the values differ: real disagreement, unlike a missing value.

    Splits what would be `else`: two records with different phone numbers are evidence against
    a match that a record without a phone is not.
    """

    type: Literal["different"] = "different"
    case_sensitive: bool = False

    def describe(self) -> str:
        return "different" if self.column is None else f"different {self.column}"


class ElseLevel(LevelSpec):
    type: Literal["else"] = "else"

    def describe(self) -> str:
        return "else (disagree)"


def _build_null(spec: NullLevel, column: str) -> Matcher:
    columns = spec.columns or [column]

    def test(values: PairValues) -> BoolArray:
        missing = np.ones(len(values), dtype=np.bool_)
        for name in columns:
            left, right = values.sides(name)
            missing &= _mask(left.is_null() | right.is_null())
        return missing

    return test


def _build_exact(spec: ExactLevel, column: str) -> Matcher:
    def test(values: PairValues) -> BoolArray:
        return values.equal(column, spec.case_sensitive).copy()

    return test


def _build_different(spec: DifferentLevel, column: str) -> Matcher:
    def test(values: PairValues) -> BoolArray:
        # null on either side: no disagreement, only a missing value
        return values.present(column) & ~values.equal(column, spec.case_sensitive)

    return test


def _build_similarity(spec: SimilarityLevel, column: str) -> Matcher:
    kind = metrics.get(spec.metric).kind

    def test(values: PairValues) -> BoolArray:
        with np.errstate(invalid="ignore"):  # NaN where an earlier level already decided
            scores = values.score(spec.metric, column)
            return scores <= spec.threshold if kind == "distance" else scores >= spec.threshold

    return test


def _dates(series: pl.Series) -> pl.Series:
    if series.dtype == pl.Date:
        return series
    if series.dtype == pl.Datetime:
        return series.dt.date()
    return series.cast(pl.String).str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)


def _active_index(values: PairValues) -> IntArray:
    """Positions of the pairs a level still has to decide (all when no level ran before)."""
    if values.active is None:
        return np.arange(len(values), dtype=np.int64)
    return np.flatnonzero(values.active)


def _scattered(values: PairValues, index: IntArray, holds: BoolArray) -> BoolArray:
    out = np.zeros(len(values), dtype=np.bool_)
    out[index] = holds
    return out


def _build_date_within(spec: DateWithinLevel, column: str) -> Matcher:
    def test(values: PairValues) -> BoolArray:
        index = _active_index(values)
        left, right = (_dates(s) for s in values.at(column, index))
        gap = (left - right).dt.total_days().abs()
        return _scattered(values, index, _mask(gap <= spec.days))

    return test


def _build_date_swapped(spec: DateSwappedLevel, column: str) -> Matcher:
    def test(values: PairValues) -> BoolArray:
        index = _active_index(values)
        left, right = (_dates(s) for s in values.at(column, index))
        swapped = (
            (left.dt.year() == right.dt.year())
            & (left.dt.month() == right.dt.day())
            & (left.dt.day() == right.dt.month())
            & (left.dt.day() != left.dt.month())
        )
        return _scattered(values, index, _mask(swapped))

    return test


def _build_numeric(spec: NumericDifferenceLevel, column: str) -> Matcher:
    def test(values: PairValues) -> BoolArray:
        left, right = (s.cast(pl.Float64, strict=False) for s in values.sides(column))
        gap = (left - right).abs()
        if spec.relative:
            larger = pl.DataFrame({"a": left.abs(), "b": right.abs()}).max_horizontal()
            gap = gap / larger.replace(0.0, None)
            gap = gap.fill_null(0.0)  # both zero: no difference
        return _mask(gap <= spec.max_difference)

    return test


_PHONETIC: dict[str, Callable[[str], str]] = {
    "metaphone": jellyfish.metaphone,
    "soundex": jellyfish.soundex,
    "nysiis": jellyfish.nysiis,
    "match_rating": jellyfish.match_rating_codex,
}


def phonetic_codes(series: pl.Series, algorithm: str) -> pl.Series:
    """Phonetic code of each value, computed once per distinct value (jellyfish is per string)."""
    text = series.cast(pl.String)
    distinct = text.drop_nulls().unique()
    encode = _PHONETIC[algorithm]
    codes = [encode(v) if v.strip() else "" for v in distinct.to_list()]
    return text.replace_strict(distinct, pl.Series(codes, dtype=pl.String), default=None)


def _build_phonetic(spec: PhoneticLevel, column: str) -> Matcher:
    def test(values: PairValues) -> BoolArray:
        left, right = values.sides(column)
        codes_l = phonetic_codes(left, spec.algorithm)
        codes_r = phonetic_codes(right, spec.algorithm)
        return _mask((codes_l == codes_r) & (codes_l.str.len_chars() > 0))

    return test


def _build_nickname(spec: NicknameLevel, column: str) -> Matcher:
    def test(values: PairValues) -> BoolArray:
        left, right = values.sides(column)
        return _mask(resolve_nicknames(left) == resolve_nicknames(right))

    return test


def _letters(series: pl.Series) -> pl.Series:
    return series.cast(pl.String).str.replace_all(r"[^\p{L}]", "").str.to_lowercase()


def _build_initial(spec: InitialLevel, column: str) -> Matcher:
    def test(values: PairValues) -> BoolArray:
        index = _active_index(values)
        left, right = (_letters(side) for side in values.at(column, index))
        first_l, first_r = left.str.slice(0, 1), right.str.slice(0, 1)
        one_l, one_r = left.str.len_chars() == 1, right.str.len_chars() == 1
        holds = _mask((first_l == first_r) & (first_l != "") & (one_l | one_r))
        return _scattered(values, index, holds)

    return test


def _build_swapped(spec: SwappedLevel, column: str) -> Matcher:
    kind = metrics.get(spec.metric).kind

    def test(values: PairValues) -> BoolArray:
        active = _active_index(values)
        here_l, here_r = values.at(column, active)
        other_l, other_r = values.at(spec.other, active)
        # Only pairs whose values start like the other column's on the other side can be
        # swapped; the metric then runs on those alone.
        plausible = _mask(
            (here_l.str.slice(0, 1) == other_r.str.slice(0, 1))
            | (other_l.str.slice(0, 1) == here_r.str.slice(0, 1))
        )
        index = pl.Series(np.flatnonzero(plausible))
        a = metric_scores(spec.metric, here_l.gather(index), other_r.gather(index))
        b = metric_scores(spec.metric, other_l.gather(index), here_r.gather(index))
        if kind == "distance":
            holds = (a <= spec.threshold) & (b <= spec.threshold)
        else:
            holds = (a >= spec.threshold) & (b >= spec.threshold)
        holds &= _mask(other_l.gather(index).is_not_null() & other_r.gather(index).is_not_null())
        return _scattered(values, active[index.to_numpy()], holds)

    return test


def _build_else(spec: ElseLevel, column: str) -> Matcher:
    def test(values: PairValues) -> BoolArray:
        return np.ones(len(values), dtype=np.bool_)

    return test


def _register(
    name: str, spec: type[LevelSpec], build: Callable[..., Matcher], aliases: list[str]
) -> None:
    comparators.add(name, Comparator(name, spec, build), aliases=aliases)


_register("null", NullLevel, _build_null, ["is_null"])
_register("exact", ExactLevel, _build_exact, ["exact_match"])
_register("different", DifferentLevel, _build_different, ["disagree"])
_register("similarity", SimilarityLevel, _build_similarity, ["fuzzy"])
_register("date_within", DateWithinLevel, _build_date_within, ["date_difference"])
_register("date_swapped", DateSwappedLevel, _build_date_swapped, ["day_month_swapped"])
_register("numeric_difference", NumericDifferenceLevel, _build_numeric, ["numeric"])
_register("phonetic", PhoneticLevel, _build_phonetic, ["sounds_like"])
_register("nickname", NicknameLevel, _build_nickname, ["nicknames"])
_register("swapped", SwappedLevel, _build_swapped, ["transposed"])
_register("initial", InitialLevel, _build_initial, ["initial_agrees"])
_register("else", ElseLevel, _build_else, ["otherwise"])

LevelUnion = tagged_union(comparators, lambda entry: entry.spec)


def _present_on_both_sides(test: Matcher, spec: LevelSpec, column: str) -> Matcher:
    """Only the null level speaks for a missing value: any other level (a `similarity` on
    another column above all: metrics see a missing value as "", and "" is one edit from "")
    holds only where both sides of the column it reads hold a value."""
    if spec.type in ("null", "else"):
        return test

    def guarded(values: PairValues) -> BoolArray:
        return _within(values, values.present(column), test)

    return guarded


def _within(values: PairValues, mask: BoolArray, test: Matcher) -> BoolArray:
    """`test` where `mask` holds; the metric runs only on those pairs (the active mask)."""
    outer = values.active
    values.active = mask if outer is None else outer & mask
    try:
        return test(values) & mask
    finally:
        values.active = outer


def build_level(spec: LevelSpec, column: str) -> Matcher:
    """The vectorised test of a level over the unique value pairs of its comparison."""
    entry = comparators.get(spec.type)
    own = spec.column or column
    test = _present_on_both_sides(entry.build(spec, own), spec, own)
    if not spec.requires_equal:
        return test
    also = [_build_exact(ExactLevel(), c) for c in spec.requires_equal]

    def combined(values: PairValues) -> BoolArray:
        # the cheap equalities first: the level's own (metric) test runs only where they hold
        equal = np.ones(len(values), dtype=np.bool_)
        for check in also:
            equal &= check(values)
        return _within(values, equal, test)

    return combined
