"""The base of every rule-file model, and tagged unions built from a registry.

Specs describe; builders elsewhere turn them into polars expressions. A spec never touches data.
"""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from crmclean.core.registry import Registry


class Spec(BaseModel):
    """Strict, immutable rule-file model: unknown keys are errors, never silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _shorthand(registry: Registry[Any]) -> BeforeValidator:
    """Accept `- trim` for `- {type: trim}`, and resolve aliases to the registered name."""

    def normalise(value: Any) -> Any:
        if isinstance(value, str):
            value = {"type": value}
        if isinstance(value, dict) and isinstance(value.get("type"), str):
            name = value["type"]
            if name in registry and registry.canonical(name) != name:
                value = {**value, "type": registry.canonical(name)}
        return value

    return BeforeValidator(normalise)


def tagged_union(registry: Registry[Any], model_of: Any) -> Any:
    """A pydantic union of every registered spec model, discriminated by its `type` field.

    `model_of(entry)` returns the spec model of a registry entry. Each model declares
    `type: Literal["name"]`.
    """
    models = tuple(model_of(entry) for _, entry in registry)
    if len(models) == 1:
        return Annotated[models[0], _shorthand(registry)]
    return Annotated[Union[models], Field(discriminator="type"), _shorthand(registry)]  # noqa: UP007
