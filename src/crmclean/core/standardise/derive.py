"""The `derive:` section: new columns computed from cleaned ones, mostly matching/blocking keys.

    derive:
      last_name_metaphone: {from: last_name, steps: [ascii, metaphone]}
      full_name: {from: [first_name, last_name], separator: " "}

A derived column starts as its source column (several sources are joined with `separator`,
nulls skipped) and then runs the same steps as `standardise:`. Derived columns are computed
after standardisation, in the order written, so one may build on another.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from crmclean.core.spec import Spec
from crmclean.core.standardise import DeriveStepUnion


class DeriveSpec(Spec):
    """One derived column."""

    source: str | list[str] = Field(
        alias="from", description="Source column, or columns joined with `separator`"
    )
    steps: list[DeriveStepUnion] = Field(default_factory=list)
    separator: str = " "
    description: str | None = None

    @field_validator("source")
    @classmethod
    def _not_empty(cls, value: str | list[str]) -> str | list[str]:
        if isinstance(value, list) and not value:
            raise ValueError("needs at least one source column")
        return value

    @property
    def sources(self) -> list[str]:
        return [self.source] if isinstance(self.source, str) else list(self.source)
