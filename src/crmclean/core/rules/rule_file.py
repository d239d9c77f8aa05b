"""Pydantic models of the whole rule file. One file holds checks, standardisation, matching and
survivorship; each section's own models live beside the code that runs them."""

from __future__ import annotations

import re
from typing import Any, Literal

import phonenumbers
from pydantic import Field, field_validator, model_validator

from crmclean.core.checks import CheckUnion
from crmclean.core.golden.strategies import SourcePrioritySpec
from crmclean.core.golden.survivorship import SurvivorshipSpec
from crmclean.core.matching.spec import MatchingSpec
from crmclean.core.sources import DEFAULT_SOURCE_COLUMN, SOURCE_NAME, SourceSpec, priority_order
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
    engine: Literal["polars", "duckdb", "spark"] | None = Field(
        None,
        description="Matching engine: polars (in memory, the default), duckdb (on disk, "
        "pip install 'crmclean[duckdb]') or spark (a cluster, pip install 'crmclean[spark]'); "
        "--engine overrides it",
    )
    rollup: RollupSpec | None = Field(
        None, description="Customer value: movement tables rolled up onto golden records"
    )
    sources: dict[str, SourceSpec] = Field(
        default_factory=dict,
        description="Several source systems in one run: location, column mapping, id, priority",
    )

    @model_validator(mode="after")
    def _sources_fit(self) -> RuleFile:
        bad = [n for n in self.sources if not re.match(SOURCE_NAME, n)]
        if bad:
            raise ValueError(
                f"source names are letters, digits, _ and - (no ':'), not {', '.join(bad)}"
            )
        mode = self.matching.mode if self.matching is not None else "dedupe"
        if mode != "dedupe" and len(self.sources) < 2:
            raise ValueError(f"matching.mode {mode} needs a sources: section with two or more")
        unordered = [s for s in _strategies(self.survivorship) if not s.order]
        if unordered and not self.sources:
            raise ValueError(
                "survivorship: source_priority needs its order (or a sources: section)"
            )
        return self


def _strategies(spec: SurvivorshipSpec | None) -> list[SourcePrioritySpec]:
    """Every source_priority strategy of the survivorship section."""
    if spec is None:
        return []
    groups = [g.strategies for g in spec.keep_together.values() if g.strategies is not None]
    lists = [spec.default, *spec.columns.values(), *groups]
    return [s for group in lists for s in group if isinstance(s, SourcePrioritySpec)]


def with_sources(rules: RuleFile) -> RuleFile:
    """A rule file with `sources:` as the steps read it: the source column named (so lineage
    names each record's system), and its priorities as the order of every `source_priority`
    without one; when the default strategies have none, it comes right after `valid_only`."""
    if not rules.sources:
        return rules
    order = priority_order(rules.sources)
    dataset = rules.dataset
    if dataset.source_column is None:
        dataset = dataset.model_copy(update={"source_column": DEFAULT_SOURCE_COLUMN})
    survivorship = rules.survivorship or SurvivorshipSpec()

    def ordered(strategies: list[Any]) -> list[Any]:
        return [
            s.model_copy(update={"order": order})
            if isinstance(s, SourcePrioritySpec) and not s.order
            else s
            for s in strategies
        ]

    default = ordered(survivorship.default)
    if not any(isinstance(s, SourcePrioritySpec) for s in default):
        at = 1 if default and default[0].type == "valid_only" else 0
        default.insert(at, SourcePrioritySpec(order=order))
    survivorship = survivorship.model_copy(
        update={
            "default": default,
            "columns": {c: ordered(s) for c, s in survivorship.columns.items()},
            "keep_together": {
                n: g.model_copy(update={"strategies": ordered(g.strategies)})
                if g.strategies is not None
                else g
                for n, g in survivorship.keep_together.items()
            },
        }
    )
    return rules.model_copy(update={"dataset": dataset, "survivorship": survivorship})
