"""What a profile is: per column how full, how varied, what shape and what it looks like."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from crmclean.core.profile.placeholders import Placeholder


@dataclass(frozen=True)
class ValueCount:
    value: str | None
    count: int
    share: float


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    nulls: int
    null_share: float
    distinct: int
    min_length: int | None
    max_length: int | None
    top_values: list[ValueCount]
    shapes: list[ValueCount]
    semantic_type: str | None
    type_share: float  # share of sampled non-null values that look like semantic_type
    pii: bool
    masked: bool
    placeholders: list[Placeholder] = field(default_factory=list)  # see placeholders.py


@dataclass(frozen=True)
class Profile:
    rows: int
    sampled_rows: int  # rows the semantic types were judged on
    shape_rows: int  # rows the value shapes were counted on
    columns: list[ColumnProfile]
    suggested_rules: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
