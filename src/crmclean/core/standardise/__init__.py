"""Standardisers. Importing this package registers every built-in step.

`StepUnion` validates `standardise:` steps (idempotent cleaning steps only); `DeriveStepUnion`
validates `derive:` steps, which may also use the key steps (phonetic codes, initials...).
"""

from crmclean.core.spec import tagged_union
from crmclean.core.standardise import (  # noqa: F401  (registers)
    address,
    country,
    dates,
    email,
    keys,
    names,
    phone,
    postcode,
    text,
)
from crmclean.core.standardise.base import (
    Standardiser,
    StepContext,
    StepResult,
    StepSpec,
    combined,
    key_steps,
    standardisers,
)

derive_steps = combined(standardisers, key_steps)
StepUnion = tagged_union(standardisers, lambda entry: entry.spec)
DeriveStepUnion = tagged_union(derive_steps, lambda entry: entry.spec)

__all__ = [
    "DeriveStepUnion",
    "Standardiser",
    "StepContext",
    "StepResult",
    "StepSpec",
    "StepUnion",
    "derive_steps",
    "key_steps",
    "standardisers",
]
