"""Customer value on the golden record: movement tables (orders, payments, contacts) rolled up
through the crosswalk into measures per golden record, and the key-account flag.

`match_movements` ties movement rows to input records (the rest go to unmatched with a reason),
`value_step` rolls them up per golden record, `order_review` puts the dearest duplicates first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.value.measures import NUMERIC, MeasureSpec, measures
from crmclean.core.value.movements import (
    REASONS,
    UNMATCHED_SCHEMA,
    MatchedMovements,
    match_movements,
)
from crmclean.core.value.rollup import KEY_ACCOUNT, as_of_date, key_accounts, roll_up
from crmclean.core.value.setup import section_problems, table_problems
from crmclean.core.value.spec import KeyAccountSpec, MovementTableSpec, RollupSpec

__all__ = [
    "KEY_ACCOUNT",
    "REASONS",
    "UNMATCHED_SCHEMA",
    "KeyAccountSpec",
    "MatchedMovements",
    "MeasureSpec",
    "MovementTableSpec",
    "RollupSpec",
    "ValueStep",
    "as_of_date",
    "key_accounts",
    "match_movements",
    "measures",
    "order_review",
    "per_record",
    "roll_up",
    "section_problems",
    "table_problems",
    "value_measure",
    "value_step",
]


MIN_MATCHED_PERCENT = 50  # a table with fewer rows on golden records is warned about


@dataclass(frozen=True)
class ValueStep:
    """The measures and key_account per golden record, and where every movement row went."""

    values: pl.DataFrame  # golden_id, one column per measure, key_account (when a rule is set)
    movements: MatchedMovements
    as_of: date | None
    measure: str  # the measure that stands for a customer's value (report, review order)
    spec: RollupSpec

    def summary(self) -> dict[str, Any]:
        """For manifest.json: per table rows == matched + unmatched, and the key accounts."""
        totals = self.movements.totals()
        rows = sum(t["rows"] for t in totals.values())
        matched = sum(t["matched"] for t in totals.values())
        unmatched = self.movements.unmatched.height
        out: dict[str, Any] = {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "tables": totals,
            "rows": rows,
            "matched": matched,
            "unmatched": unmatched,
            "rows_add_up": rows == matched + unmatched
            and all(t["rows"] == t["matched"] + t["unmatched"] for t in totals.values()),
            "measures": [c for c in self.values.columns if c not in ("golden_id", KEY_ACCOUNT)],
            "value_measure": self.measure,
        }
        if KEY_ACCOUNT in self.values.columns:
            out["key_accounts"] = int(self.values.get_column(KEY_ACCOUNT).sum())
        out["not_numbers"] = self.not_numbers()
        out["warnings"] = self.warnings()
        return out

    def not_numbers(self) -> dict[str, int]:
        """Per sum/min/max measure over a `column`: the values on a golden record's movements
        that are no number (left out of the measure)."""
        spec, counts = self.spec, self.movements.not_numbers
        return {
            name: counts.get(spec.table_of(m), {}).get(column, 0)
            for name, m in spec.measures.items()
            if m.type in NUMERIC and (column := getattr(m, "column", None)) is not None
        }

    def warnings(self) -> list[str]:
        """What probably is a mistake in the section though the run went through: a table most
        of whose rows land on no golden record (a date_format that never matches, a wrong
        record_id column or source), values a numeric measure cannot read."""
        out = []
        for name, t in self.movements.totals().items():
            if t["rows"] and t["matched"] * 100 < t["rows"] * MIN_MATCHED_PERCENT:
                why = sorted(((t[r], r) for r in REASONS if t[r]), reverse=True)
                reasons = ", ".join(f"{n} {r}" for n, r in why)
                out.append(
                    f"rollup table {name!r}: only {t['matched']} of {t['rows']} rows are on a "
                    f"golden record ({reasons}); see unmatched_movements.parquet and check the "
                    "table's record_id, source, date_format and decimal_comma"
                )
        for name, n in self.not_numbers().items():
            if n:
                m = self.spec.measures[name]
                out.append(
                    f"rollup measure {name!r}: {n} value(s) of column "
                    f"{getattr(m, 'column', None)!r} (table {self.spec.table_of(m)!r}) are not "
                    "numbers and are left out of it"
                )
        return out


def per_record(
    matched: MatchedMovements,
    records: pl.DataFrame,
    spec: RollupSpec,
    names: set[str],
    as_of: date | None,
    prefix: str,
) -> pl.DataFrame:
    """`records` with the named measures per source record as `<prefix><measure>` columns."""
    values = roll_up(
        matched, records.select(RECORD_ID), spec, key=RECORD_ID, as_of=as_of, only=names
    )
    renamed = values.rename({n: prefix + n for n in values.columns if n != RECORD_ID})
    return records.join(renamed, on=RECORD_ID, how="left", maintain_order="left")


def value_step(
    matched: MatchedMovements,
    crosswalk: pl.DataFrame,
    spec: RollupSpec,
    records: pl.DataFrame,
    as_of: date | None,
) -> ValueStep:
    """Measures per golden record through the crosswalk (record_id -> golden_id); key_account
    from the rule, with the flag column read from `records` (record_id + data)."""
    members = crosswalk.select(RECORD_ID, "golden_id")
    values = roll_up(matched, members, spec, as_of=as_of)
    rule = spec.key_account
    if rule is not None:
        flags = None
        if rule.flag_column is not None:
            flags = records.select(RECORD_ID, rule.flag_column).join(members, on=RECORD_ID)
        values = values.with_columns(key_accounts(values, rule, flags=flags))
    return ValueStep(values, matched, as_of, value_measure(spec), spec)


def value_measure(spec: RollupSpec) -> str:
    """The measure a customer's value is read from: the key-account rule's, the review order's,
    else the first sum (else the first measure)."""
    named = [spec.key_account.measure if spec.key_account else None, spec.order_review_by]
    sums = [n for n, m in spec.measures.items() if m.type == "sum"]
    return next(n for n in [*named, *sums, *spec.measures] if n is not None)


def order_review(review: pl.DataFrame, values: pl.DataFrame, measure: str) -> pl.DataFrame:
    """The review queue with `customer_value` (the measure of both golden records together: what
    the customer is worth once merged) and `key_account` (either side), dearest first."""
    has_key = KEY_ACCOUNT in values.columns
    side = values.select(
        "golden_id",
        pl.col(measure).cast(pl.Float64).fill_null(0.0).alias("__v"),
        (pl.col(KEY_ACCOUNT) if has_key else pl.lit(False)).alias("__k"),
    )
    ranked = review
    for s in ("l", "r"):
        ranked = ranked.join(
            side.rename({"golden_id": f"golden_id_{s}", "__v": f"__v{s}", "__k": f"__k{s}"}),
            on=f"golden_id_{s}",
            how="left",
            maintain_order="left",
        )
    same = pl.col("golden_id_l") == pl.col("golden_id_r")  # already one customer: count it once
    ranked = ranked.with_columns(
        pl.when(same)
        .then(pl.col("__vl"))
        .otherwise(pl.col("__vl").fill_null(0) + pl.col("__vr").fill_null(0))
        .alias("customer_value"),
        (pl.col("__kl").fill_null(False) | pl.col("__kr").fill_null(False)).alias(KEY_ACCOUNT),
    ).drop("__vl", "__vr", "__kl", "__kr")
    return ranked.sort(
        [KEY_ACCOUNT, "customer_value", "match_probability", "record_id_l", "record_id_r"],
        descending=[True, True, True, False, False],
    )
