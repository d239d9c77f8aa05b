"""What training reads from a matching engine: aggregates only (counts, shares, gamma patterns),
never records or pairs, so u, EM and the prior are the same code on every engine."""

from __future__ import annotations

from typing import Protocol

import polars as pl


class TrainingData(Protocol):
    """The aggregates training reads (core/matching/scoring.py `train`)."""

    def records(self) -> int:
        """How many records."""
        ...

    def pair_count(self) -> int:
        """How many candidate pairs."""
        ...

    def present(self, columns: list[str]) -> int:
        """Records holding a value in any of `columns`."""
        ...

    def agreement(self, columns: list[str], also_present: str | None) -> tuple[int, float]:
        """Over the records whose key (every one of `columns` trimmed and lower-cased) is
        complete (and `also_present` not null): how many, and sum n_v (n_v - 1) over the keys."""
        ...

    def random_level_counts(self, n_pairs: int, seed: int) -> dict[str, dict[int, int]]:
        """Per comparison, how many of `n_pairs` random record pairs (drawn from the seed as
        `u_probabilities.random_pairs` draws them) fall on each level (null level left out)."""
        ...

    def gamma_patterns(
        self, names: list[str], rule_index: int | None, limit: int, seed: int
    ) -> pl.DataFrame:
        """Distinct `gamma_<name>` combinations with their count `_n`, sorted, over the pairs
        the blocking rule `rule_index` holds for (all pairs when None), at most `limit` of them
        sampled from the seed."""
        ...
