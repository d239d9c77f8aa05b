"""The standardiser framework: ordered steps per column, each a pure function over a frame.

A step returns the new values and, per row, why it could not standardise (null when it could).
Rows whose step failed keep their original value; the failure is data, not an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from crmclean.core.registry import Registry
from crmclean.core.spec import Spec


class StepSpec(Spec):
    type: str


@dataclass(frozen=True)
class StepContext:
    column: str
    country_column: str | None = None
    default_region: str = "DE"
    date_order: str = "dmy"


@dataclass(frozen=True)
class StepResult:
    values: pl.Series  # same length as the input, the standardised values
    errors: pl.Series | None = None  # String: the reason a value could not be standardised


@dataclass(frozen=True)
class Standardiser:
    name: str
    spec: type[StepSpec]
    apply: Callable[[StepSpec, pl.DataFrame, StepContext], StepResult]


standardisers: Registry[Standardiser] = Registry("standardiser")
