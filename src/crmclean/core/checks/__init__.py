"""Check types. Importing this package registers every built-in check."""

from crmclean.core.checks import not_null  # noqa: F401  (registers)
from crmclean.core.checks.base import (
    VIOLATIONS_SCHEMA,
    CheckContext,
    CheckSpec,
    CheckType,
    checks,
    empty_violations,
    row_violations,
)
from crmclean.core.spec import tagged_union

CheckUnion = tagged_union(checks, lambda entry: entry.spec)

__all__ = [
    "VIOLATIONS_SCHEMA",
    "CheckContext",
    "CheckSpec",
    "CheckType",
    "CheckUnion",
    "checks",
    "empty_violations",
    "row_violations",
]
