"""The chain guard counts only pairs that could be merge edges (`reach.py`): a customer whose
sparse records (newsletter: name + e-mail; point of sale: name + phone) each link only to the
complete record is a star, not a chain, and stays one cluster; real chains are still split."""

from __future__ import annotations

import numpy as np
import polars as pl

from crmclean.core.matching.clustering import cluster
from crmclean.core.matching.reach import Reach
from crmclean.core.matching.spec import ClusteringSpec

SPEC = ClusteringSpec(max_cluster_size=25, min_density=0.6, bridge_probability=0.99)
# comparisons: name (10 bits at best), e-mail, phone, address (15 each); merging needs 20 bits:
# a newsletter and a point-of-sale record (name only in common) cannot reach it
BEST = np.array([10.0, 15.0, 15.0, 15.0])
NEEDED = 20.0


def _edges(pairs: list[tuple[int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row_l": [a for a, _ in pairs],
            "row_r": [b for _, b in pairs],
            "match_probability": [0.9999] * len(pairs),
        }
    )


def _labels(n: int, pairs: list[tuple[int, int]], fields: list[list[bool]] | None) -> list[int]:
    reach = None if fields is None else Reach(np.array(fields), BEST, NEEDED)
    labels, _, _ = cluster(n, _edges(pairs), SPEC, 0.999, reach=reach)
    return [int(x) for x in labels]


STAR = [(0, 1), (0, 2), (0, 3)]  # a complete record and three sparse ones: density 0.5


def test_a_star_of_sparse_records_stays_one_customer() -> None:
    fields = [
        [True, True, True, True],  # crm: everything
        [True, True, False, False],  # newsletter: name and e-mail
        [True, False, True, False],  # point of sale: name and phone
        [True, False, True, False],  # point of sale: name and phone (another phone)
    ]
    assert _labels(4, STAR, fields) == [0, 0, 0, 0]


def test_without_reach_the_same_star_counts_as_a_chain() -> None:
    assert len(set(_labels(4, STAR, None))) > 1


def test_a_chain_of_complete_records_is_still_split() -> None:
    chain = [(0, 1), (1, 2), (2, 3), (3, 4)]
    fields = [[True, True, True, True]] * 5  # every pair could have been an edge
    assert len(set(_labels(5, chain, fields))) > 1
