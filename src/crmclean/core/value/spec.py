"""The `rollup:` section: movement tables, the measures per golden record, the key-account rule.

Specs describe; core/value/rollup.py runs them. Nothing here executes code from the rule file:
a measure is a registered type with columns and a window, the key-account rule is a share of a
measure or a flag column.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from crmclean.core.spec import Spec
from crmclean.core.value.measures import MeasureSpec, MeasureUnion


class MovementTableSpec(Spec):
    """One movement table (orders, payments, contacts) kept under the source systems' ids."""

    file: str = Field(description="CSV/Parquet/... file, relative to the rule file")
    record_id: str = Field(description="Column holding the source record id (the customer id)")
    source_system: str | None = Field(
        None, description="Column naming the source system, where ids are per source"
    )
    source: str | None = Field(
        None, description="The one source system every row comes from, where ids are per source"
    )
    date: str | None = Field(
        None, description="Column with the movement date (ISO date or date-time by default)"
    )
    date_format: str = Field("%Y-%m-%d", description="strftime format of the date column")
    amount: str | None = Field(None, description="Column with the amount (a number)")
    decimal_comma: bool = Field(
        False, description="Amounts are written 1.234,56 (a dot only groups thousands)"
    )
    if_missing: Literal["error", "skip"] = Field(
        "error",
        description="A file that is not there: error (exit 2), or skip (a warning; the table is "
        "empty, so its measures are empty) for a rule file shared with data that has no movements",
    )

    @model_validator(mode="after")
    def _one_source(self) -> MovementTableSpec:
        if self.source_system is not None and self.source is not None:
            raise ValueError("give source_system (a column) or source (one system), not both")
        return self


class KeyAccountSpec(Spec):
    """Who is a key account: the top share of a measure, or any member flagged by a column."""

    measure: str | None = Field(None, description="The measure ranked, e.g. revenue_12m")
    top_percent: float | None = Field(None, gt=0, le=100, description="Top share by the measure")
    flag_column: str | None = Field(
        None, description="Customer column; any member with a true value makes a key account"
    )

    @model_validator(mode="after")
    def _some_rule(self) -> KeyAccountSpec:
        if (self.measure is None) != (self.top_percent is None):
            raise ValueError("measure and top_percent go together")
        if self.measure is None and self.flag_column is None:
            raise ValueError("give measure with top_percent, or flag_column, or both")
        return self


class RollupSpec(Spec):
    """The `rollup:` section of a rule file."""

    tables: dict[str, MovementTableSpec] = Field(min_length=1)
    measures: dict[str, MeasureUnion] = Field(min_length=1)
    as_of: date | Literal["latest"] = Field(
        "latest",
        description="The day windows and recency count back from; the latest usable movement "
        "if unset",
    )
    key_account: KeyAccountSpec | None = None
    order_review_by: str | None = Field(
        None, description="Measure that orders the review queue (key accounts first)"
    )

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: object) -> object:
        """One message for a value that is neither a date nor `latest` (not one per kind)."""
        if value == "latest" or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        if isinstance(value, datetime):
            return value.date()
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"{value!r} is not a date (YYYY-MM-DD) or latest") from None

    def table_of(self, measure: MeasureSpec) -> str:
        return measure.table or next(iter(self.tables))

    @field_validator("measures")
    @classmethod
    def _names(cls, value: dict[str, MeasureSpec]) -> dict[str, MeasureSpec]:
        for name in value:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) or name == "key_account":
                raise ValueError(
                    f"measure name {name!r}: letters, digits and _ (not key_account), "
                    "it becomes a golden-record column"
                )
        return value
