"""Standardisers. Importing this package registers every built-in step.

`StepUnion` validates `standardise:` steps (idempotent cleaning steps only); `DeriveStepUnion`
validates `derive:` steps, which may also use the key steps (phonetic codes, initials...).
"""

from typing import Annotated, Any

from pydantic import BeforeValidator

from crmclean.core.spec import tagged_union
from crmclean.core.standardise import (  # noqa: F401  (registers)
    address,
    country,
    dates,
    email,
    keys,
    keys_words,
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


def _no_key_steps(value: Any) -> Any:
    """A key step under `standardise:` gets a message that says where it belongs."""
    name = (
        value if isinstance(value, str) else value.get("type") if isinstance(value, dict) else None
    )
    if isinstance(name, str) and name in key_steps and name not in standardisers:
        raise ValueError(
            f"{name!r} is a key step (not idempotent): use it under derive:, e.g. "
            f"derive: {{key: {{from: column, steps: [{name}]}}}}"
        )
    return value


def _guarded(union: Any) -> Any:
    return Annotated[union, BeforeValidator(_no_key_steps)]


StepUnion = _guarded(tagged_union(standardisers, lambda entry: entry.spec))
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
