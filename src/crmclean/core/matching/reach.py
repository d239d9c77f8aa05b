"""Which record pairs could become merge edges at all: the fields two records both hold bound
the evidence their pair can gather. The chain guard of clustering counts only those pairs.

A newsletter sign-up (name, e-mail) and a point-of-sale record (name, phone) of one customer
share only the name; even agreeing on it, their pair stays far below `auto_merge`, so a
cluster holding both is a star around a complete record, not a clique. Counting such pairs as
missing edges made true customers with sparse sources look like chains and split them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from crmclean.core.matching.comparing import comparison_levels
from crmclean.core.matching.scoring import MatchModel
from crmclean.core.matching.spec import MatchingSpec


@dataclass(frozen=True)
class Reach:
    """Per record the comparisons it holds a value for (`fields`, n x k), per comparison the
    largest average Bayes factor of its levels (`best`, log2), and the evidence a pair needs
    to reach auto_merge from the prior (`needed`, log2)."""

    fields: np.ndarray[Any, np.dtype[np.bool_]]
    best: np.ndarray[Any, np.dtype[np.float64]]
    needed: float

    def reachable(self, left: Any, right: Any) -> Any:
        """Per pair (row positions): could agreement on every field both hold reach auto_merge?"""
        shared = self.fields[left] & self.fields[right]
        return (shared * self.best).sum(axis=1) >= self.needed


def _holds(frame: pl.DataFrame, columns: list[str]) -> pl.Expr:
    def present(column: str) -> pl.Expr:
        text = pl.col(column).cast(pl.String).str.strip_chars()
        return text.is_not_null() & (text != "")

    return pl.any_horizontal(present(c) for c in columns)


def reachability(
    frame: pl.DataFrame, spec: MatchingSpec, model: MatchModel, auto_merge: float
) -> Reach:
    """`Reach` of `frame`'s records under the trained `model`."""
    holds = []
    for comparison in spec.comparisons:
        null = comparison_levels(comparison)[0].spec
        columns = list(getattr(null, "columns", []) or []) or [comparison.column]
        holds.append(_holds(frame, columns).alias(comparison.name))
    fields = frame.select(holds).to_numpy().astype(np.bool_)
    params = {c.name: c for c in model.comparisons}
    best = np.array(
        [
            max((lv.bayes_factor for lv in params[c.name].levels), default=0.0)
            for c in spec.comparisons
        ],
        dtype=np.float64,
    )
    needed = math.log2(auto_merge / (1.0 - auto_merge)) - model.prior_weight
    return Reach(fields.reshape(frame.height, len(holds)), np.maximum(best, 0.0), needed)
