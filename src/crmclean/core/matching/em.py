"""Expectation-maximisation of m (and the blocked pairs' own non-match shares) without labels.

EM runs on the distinct gamma patterns with their counts, so its cost does not grow with the
number of pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import polars as pl

from crmclean.core.matching.comparing import comparison_levels
from crmclean.core.matching.spec import ComparisonSpec

M_FLOOR = 1e-4  # an m of zero would veto a match on one typo forever


def initial_m(gammas: list[int]) -> dict[int, float]:
    weights = {g: 4.0**g for g in gammas}
    total = sum(weights.values())
    return {g: w / total for g, w in weights.items()}


def run_em(
    patterns: pl.DataFrame,
    comparisons: list[ComparisonSpec],
    u: dict[str, dict[int, float]],
    m: dict[str, dict[int, float]],
    prior: float,
    *,
    estimate_m: bool,
    max_iterations: int,
    tolerance: float,
    estimate_u: bool = True,
    non_match: dict[str, dict[int, float]] | None = None,
) -> tuple[dict[str, dict[int, float]], float, int]:
    """EM over distinct gamma patterns (`gamma_<name>` columns and a count `_n`).

    Returns m (unchanged when estimate_m is False), the prior within these pairs, iterations.
    With `estimate_u` the non-match class learns its own level shares among these pairs
    (starting from `u`): blocked non-matches are not random pairs (households share an
    address), and forcing them into random-pair u would push them into the match class and
    spoil m. Scoring still uses the random-pair u (except conditional_u). `non_match`, when
    given, receives those learnt non-match level shares.
    """
    u = {name: dict(levels) for name, levels in u.items()}
    weights = patterns.get_column("_n").to_numpy().astype(np.float64)
    grids = {
        c.name: patterns.get_column(f"gamma_{c.name}").to_numpy().astype(np.int64)
        for c in comparisons
    }
    fixed_m = {
        c.name: {
            lv.gamma: lv.spec.m_probability for lv in comparison_levels(c) if lv.spec.m_probability
        }
        for c in comparisons
    }
    m = {name: dict(levels) for name, levels in m.items()}
    iteration = 0
    if weights.sum() <= 0:  # no candidate pairs (a tiny input): nothing to learn from
        if non_match is not None:
            non_match.update(u)
        return m, prior, iteration
    for iteration in range(1, max_iterations + 1):  # noqa: B007  (iterations, not rows)
        log_match = np.full(weights.shape, math.log(prior))
        log_non = np.full(weights.shape, math.log1p(-prior))
        for c in comparisons:
            g = grids[c.name]
            size = max(u[c.name]) + 1
            lm = np.zeros(size + 1)
            lu = np.zeros(size + 1)
            for gamma, value in m[c.name].items():
                lm[gamma] = math.log(max(value, 1e-12))
                lu[gamma] = math.log(u[c.name][gamma])
            index = np.where(g >= 0, g, size)  # the null level reads 0 from the spare slot
            log_match += lm[index]
            log_non += lu[index]
        posterior = 1.0 / (1.0 + np.exp(np.clip(log_non - log_match, -700, 700)))
        expected = weights * posterior
        new_prior = float(expected.sum() / weights.sum())
        change = abs(new_prior - prior)
        prior = min(max(new_prior, 1e-9), 1 - 1e-9)
        if estimate_m:
            for c in comparisons:
                g = grids[c.name]
                valid = g >= 0
                totals = np.bincount(
                    g[valid], weights=expected[valid], minlength=max(u[c.name]) + 1
                )
                new_m = _normalise(totals, m[c.name], fixed_m[c.name])
                change = max(change, *(abs(new_m[k] - m[c.name][k]) for k in new_m))
                m[c.name] = new_m
        if estimate_u:
            unexpected = weights - expected
            for c in comparisons:
                g = grids[c.name]
                valid = g >= 0
                totals = np.bincount(
                    g[valid], weights=unexpected[valid], minlength=max(u[c.name]) + 1
                )
                u[c.name] = _normalise(totals, u[c.name], {})
        if change < tolerance:
            break
    if non_match is not None:
        non_match.update(u)
    return m, prior, iteration


def _normalise(
    totals: Any, previous: dict[int, float], fixed: Mapping[int, float | None]
) -> dict[int, float]:
    free = [g for g in previous if not fixed.get(g)]
    budget = 1.0 - sum(v for v in fixed.values() if v)
    mass = float(sum(totals[g] for g in free))
    out: dict[int, float] = {g: float(v) for g, v in fixed.items() if v}
    for g in free:
        share = totals[g] / mass if mass > 0 else 1.0 / len(free)
        out[g] = max(float(share) * budget, M_FLOOR)
    return out
