"""Check types. Importing this package registers every built-in check."""

from crmclean.core.checks import (  # noqa: F401  (each module registers its check type)
    allowed_values,
    completeness,
    country_valid,
    date_valid,
    email_valid,
    expression,
    freshness,
    length,
    not_in_future,
    not_null,
    pattern,
    phone_valid,
    postcode_valid,
    range,
    row_count,
    unique,
)
from crmclean.core.checks.base import (
    CheckContext,
    CheckSpec,
    CheckType,
    ColumnCheckSpec,
    Need,
    checks,
    empty_violations,
    row_violations,
)
from crmclean.core.spec import tagged_union

CheckUnion = tagged_union(checks, lambda entry: entry.spec)

__all__ = [
    "CheckContext",
    "CheckSpec",
    "CheckType",
    "CheckUnion",
    "ColumnCheckSpec",
    "Need",
    "checks",
    "empty_violations",
    "row_violations",
]
