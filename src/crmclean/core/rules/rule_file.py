"""Pydantic models of the whole rule file. One file holds checks, standardisation, matching and
survivorship; each section's own models live beside the code that runs them."""

from __future__ import annotations

from typing import Literal

import phonenumbers
from pydantic import Field, field_validator

from crmclean.core.checks import CheckUnion
from crmclean.core.golden.survivorship import SurvivorshipSpec
from crmclean.core.matching.spec import MatchingSpec
from crmclean.core.spec import Spec
from crmclean.core.standardise import StepUnion
from crmclean.core.standardise.derive import DeriveSpec
from crmclean.core.value.spec import RollupSpec

ColumnType = Literal[
    "string",
    "integer",
    "decimal",
    "date",
    "datetime",
    "boolean",
    "email",
    "phone",
    "country",
    "postcode",
]

DEFAULT_NULL_TOKENS = ["", "n/a", "na", "n.a.", "-", "--", "unknown", "none", "null", "nil"]


class DatasetSpec(Spec):
    """Facts about the dataset that many rules share."""

    name: str | None = None
    id_column: str | None = Field(
        None, description="Column holding the stable record id; the row number if not given"
    )
    country_column: str | None = Field(
        None, description="Column giving each row's country (phone regions, postcodes)"
    )
    default_region: str = Field("DE", description="Region for phones and postcodes with no country")
    source_column: str | None = Field(None, description="Column naming the source system")
    updated_column: str | None = Field(None, description="Column with the last-updated timestamp")
    date_order: Literal["dmy", "mdy", "ymd"] = Field(
        "dmy", description="How to read ambiguous dates such as 03/04/2020"
    )
    null_tokens: list[str] = Field(default_factory=lambda: list(DEFAULT_NULL_TOKENS))

    @field_validator("default_region")
    @classmethod
    def _region(cls, value: str) -> str:
        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region phonenumbers knows (try DE, GB, US)")
        return value.upper()


class ColumnSpec(Spec):
    """One column: its type, whether it holds personal data, its standardisation and checks."""

    type: ColumnType = "string"
    required: bool = False
    unique: bool = False
    pii: bool = Field(False, description="Mask values in every report unless --show-values")
    description: str | None = None
    standardise: list[StepUnion] = Field(default_factory=list)
    checks: list[CheckUnion] = Field(default_factory=list)


class RuleFile(Spec):
    """The whole rule file (after `extends:` and `vars:` are resolved)."""

    version: Literal[1] = 1
    vars: dict[str, object] = Field(default_factory=dict)
    dataset: DatasetSpec = Field(default_factory=DatasetSpec)
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    checks: list[CheckUnion] = Field(default_factory=list)
    derive: dict[str, DeriveSpec] = Field(
        default_factory=dict, description="New columns (matching keys) built from cleaned ones"
    )
    survivorship: SurvivorshipSpec | None = Field(
        None, description="Golden records: which member's value survives, per column"
    )
    matching: MatchingSpec | None = Field(
        None, description="Duplicate matching: blocking, comparisons, thresholds, clustering"
    )
    engine: Literal["polars", "duckdb"] | None = Field(
        None,
        description="Matching engine: polars (in memory, the default) or duckdb (on disk, "
        "pip install 'crmclean[duckdb]'); --engine overrides it",
    )
    rollup: RollupSpec | None = Field(
        None, description="Customer value: movement tables rolled up onto golden records"
    )
