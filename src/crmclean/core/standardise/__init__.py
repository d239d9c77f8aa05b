"""Standardisers. Importing this package registers every built-in step."""

from crmclean.core.spec import tagged_union
from crmclean.core.standardise import text  # noqa: F401  (registers)
from crmclean.core.standardise.base import (
    Standardiser,
    StepContext,
    StepResult,
    StepSpec,
    standardisers,
)

StepUnion = tagged_union(standardisers, lambda entry: entry.spec)

__all__ = ["Standardiser", "StepContext", "StepResult", "StepSpec", "StepUnion", "standardisers"]
