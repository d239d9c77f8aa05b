"""A third class for the model: pairs of one household or family (issue 10, rounds 4 and 5).

Fellegi-Sunter with two classes treats the comparisons as independent among non-matches. A
junior and a senior, twins or spouses share the last name, the address and the phone at a rate
far above the product of the random-pair u's, so "same full name, same address, other birth
date" scores as one customer. `fit_household` runs EM on the blocked pairs' gamma patterns
(aggregates every engine hands to training) with three classes: match (m learnt again beside
the class), household (level shares `h`) and blocked unrelated pairs (their own shares `v`).
Scoring adds the household term

    -log2(1 + pi_h * prod h / (pi_u * prod u'))    (u': the u scoring uses)

and caps the weight by `blocked_log_odds`, the three-class posterior among the blocked pairs,
which reads a namesake's shared name against the namesakes blocking brings together rather than
against random pairs (docs/matching.md, "The model" and round 5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from crmclean.core.matching.comparing import comparison_levels
from crmclean.core.matching.em import M_FLOOR, _as_missing, mirrored_swaps
from crmclean.core.matching.spec import ComparisonSpec, HouseholdSpec

# A household class holding fewer than this share of the blocked pairs, or whose level shares
# are this close to the match class's everywhere, has collapsed: it is reported and not used.
COLLAPSED_SHARE = 1e-4
COLLAPSED_DISTANCE = 0.05


@dataclass(frozen=True)
class HouseholdParams:
    """What the model learnt about the household class."""

    prior: float  # probability that two random records are one household's different people
    h: dict[str, dict[int, float]]  # comparison -> gamma -> share among household pairs
    blocked_share: float = 0.0  # share of the blocked pairs in the class
    match_share: float = 0.0  # the match class's share of the blocked pairs (three classes)
    seeded_pairs: int = 0
    iterations: int = 0
    converged: bool = False
    # per `differ` comparison its agreeing levels: a pair agreeing on all of them is no
    # household pair (the class gives it no weight); `allowed` is the class's mass elsewhere
    differ: dict[str, list[int]] = field(default_factory=dict)
    allowed: float = 1.0
    report: dict[str, Any] = field(default_factory=dict)
    match_m: dict[str, dict[int, float]] = field(default_factory=dict)  # learnt beside the class
    # the blocked unrelated pairs' own level shares (namesakes, not random pairs) and their
    # share of the blocked pairs: with m, h and the shares above, P(match | gamma, blocked)
    unrelated: dict[str, dict[int, float]] = field(default_factory=dict)
    unrelated_share: float = 0.0
    mirrored: dict[str, list[int]] = field(default_factory=dict)  # levels EM reads as missing


def _agreeing(c: ComparisonSpec, m: dict[int, float], u: dict[int, float]) -> list[int]:
    return [g for g in m if g > 0 and m[g] > u[g]]


def fit_household(
    patterns: pl.DataFrame,
    comparisons: list[ComparisonSpec],
    u: dict[str, dict[int, float]],
    m: dict[str, dict[int, float]],
    prior: float,
    spec: HouseholdSpec,
    *,
    max_iterations: int,
    tolerance: float,
) -> list[HouseholdParams]:
    """EM over match, household and blocked unrelated pairs on gamma patterns (u fixed; m learnt
    beside the class, for scoring). The household class starts from the pairs agreeing on every
    `shared` comparison and disagreeing on a `differ` one; it never holds a pair agreeing on
    every `differ` comparison (one first name and one birth date are one person) and holds only
    agreeing levels of `shared`. `prior` is the two-class match share of these pairs, which
    splits the rest between match and unrelated at the start. Blocked unrelated pairs are not
    random pairs (they agree on a blocking key: namesakes), so that class learns its own shares
    `v`; scoring weighs unrelated pairs against the random-pair u, and the blocked posterior
    (blocked_log_odds) against `v`. Empty when there are no patterns."""
    weights = patterns.get_column("_n").to_numpy().astype(np.float64)
    total = float(weights.sum())
    if total <= 0:
        return []
    mirrors = mirrored_swaps(comparisons)
    grids = {
        c.name: _as_missing(
            patterns.get_column(f"gamma_{c.name}").to_numpy().astype(np.int64),
            mirrors.get(c.name, set()),
        )
        for c in comparisons
    }
    by_name = {c.name: c for c in comparisons}
    differ = {n: _agreeing(by_name[n], m[n], u[n]) for n in spec.differ}
    support = {n: _agreeing(by_name[n], m[n], u[n]) for n in spec.shared}
    seed, allowed = _seed(grids, differ, support)
    odds = math.log(prior / (1 - prior))
    log_gap = _log_class(grids, comparisons, u) - _log_class(grids, comparisons, m)
    resp_h = seed.astype(np.float64)
    resp_m = (1 - resp_h) / (1.0 + np.exp(np.clip(log_gap - odds, -700, 700)))
    h = _shares(grids, comparisons, weights * resp_h, u, support)
    v = _shares(grids, comparisons, weights * (1 - resp_h - resp_m), u, {})
    pi_m = max(float((weights * resp_m).sum() / total), 1e-9)
    pi_h = max(float((weights * resp_h).sum() / total), 1e-9)
    iteration, converged = 0, False
    for iteration in range(1, max_iterations + 1):  # noqa: B007  (iterations, not rows)
        lm = math.log(pi_m) + _log_class(grids, comparisons, m)
        lh = np.where(
            allowed,
            math.log(pi_h)
            - math.log(max(_allowed(h, differ), 1e-12))
            + _log_class(grids, comparisons, h),
            -np.inf,
        )
        lv = math.log(max(1.0 - pi_m - pi_h, 1e-9)) + _log_class(grids, comparisons, v)
        norm = np.logaddexp(np.logaddexp(lm, lv), lh)
        resp_m, resp_h = np.exp(lm - norm), np.exp(lh - norm)
        new_h = _shares(grids, comparisons, weights * resp_h, u, support)
        v = _shares(grids, comparisons, weights * np.exp(lv - norm), u, {})
        m = _shares(grids, comparisons, weights * resp_m, u, {})
        new_pi_m = float((weights * resp_m).sum() / total)
        new_pi_h = float((weights * resp_h).sum() / total)
        change = max(
            abs(new_pi_m - pi_m),
            abs(new_pi_h - pi_h),
            *(abs(new_h[n][g] - h[n][g]) for n in h for g in h[n]),
        )
        h, pi_m, pi_h = new_h, max(new_pi_m, 1e-12), max(new_pi_h, 1e-12)
        if change < tolerance:
            converged = True
            break
    for comparison, levels in mirrors.items():  # a mirrored swap weighs nothing anywhere
        h[comparison].update({g: u[comparison][g] for g in levels})
    return [
        HouseholdParams(
            prior=pi_h,
            h=h,
            blocked_share=pi_h,
            match_share=pi_m,
            seeded_pairs=int(weights[seed].sum()),
            iterations=iteration,
            converged=converged,
            differ=differ,
            allowed=_allowed(h, differ),
            report={"seeded_by": list(differ)},
            match_m=m,
            unrelated=v,
            unrelated_share=max(1.0 - pi_m - pi_h, 1e-9),
            mirrored={name: sorted(levels) for name, levels in mirrors.items()},
        )
    ]


def _seed(
    grids: dict[str, Any], differ: dict[str, list[int]], support: dict[str, list[int]]
) -> tuple[Any, Any]:
    """(the pairs the class starts from, the pairs it may hold at all)."""
    shape = next(iter(grids.values())).shape
    shared = np.ones(shape, dtype=bool)
    for name, gammas in support.items():
        shared &= np.isin(grids[name], gammas)
    allowed = np.zeros(shape, dtype=bool)
    disagree = np.zeros(shape, dtype=bool)
    for name, gammas in differ.items():
        g = grids[name]
        allowed |= ~np.isin(g, gammas)
        disagree |= (g >= 0) & ~np.isin(g, gammas)
    return shared & disagree, allowed


def blocked_log_odds(household: HouseholdParams) -> pl.Expr:
    """log2 of P(match | gamma) / (1 - P(match | gamma)) among the blocked pairs, as the
    three-class EM sees them: match, household and *blocked* unrelated pairs, each with the
    level shares it learnt there (a missing side, or a mirrored swap, weighs nothing). Scoring
    weighs unrelated pairs against random pairs (term frequencies, conditional u), which ranks
    well but reads a blocked namesake's shared name as rare evidence; this is calibrated on the
    pairs blocking finds (docs/matching.md, round 5)."""
    allowed = pl.lit(not household.differ)
    for name, gammas in household.differ.items():
        allowed = allowed | ~pl.col(f"gamma_{name}").is_in(gammas)
    log_m = pl.lit(math.log(max(household.match_share, 1e-12)))
    log_h = pl.lit(
        math.log(max(household.blocked_share, 1e-12)) - math.log(max(household.allowed, 1e-12))
    )
    log_v = pl.lit(math.log(max(household.unrelated_share, 1e-12)))
    for name in household.match_m:
        mirrored = set(household.mirrored.get(name, []))
        gamma = pl.col(f"gamma_{name}")

        def term(
            shares: dict[int, float], gamma: pl.Expr = gamma, skip: set[int] = mirrored
        ) -> pl.Expr:
            mapping = {g: math.log(max(v, 1e-12)) for g, v in shares.items() if g not in skip}
            return gamma.replace_strict(mapping, default=0.0, return_dtype=pl.Float64)

        log_m = log_m + term(household.match_m[name])
        log_h = log_h + term(household.h.get(name, {}))
        log_v = log_v + term(household.unrelated.get(name, {}))
    # log(e^h + e^v), h left out where the pair agrees on every differ comparison
    top = pl.when(allowed).then(pl.max_horizontal(log_h, log_v)).otherwise(log_v)
    rest = (log_v - top).exp() + pl.when(allowed).then((log_h - top).exp()).otherwise(0.0)
    return (log_m - top - rest.log()) / math.log(2.0)


def _allowed(h: dict[str, dict[int, float]], differ: dict[str, list[int]]) -> float:
    """The product model's mass outside "agrees on every differ comparison"."""
    return 1.0 - math.prod(sum(h[n][g] for g in gammas) for n, gammas in differ.items())


def collapsed(pi_h: float, h: dict[str, dict[int, float]], m: dict[str, dict[int, float]]) -> str:
    """Why the household class is not usable, or "" when it is."""
    if pi_h < COLLAPSED_SHARE:
        return f"it holds {pi_h:.2e} of the blocked pairs (< {COLLAPSED_SHARE})"
    distance = max(abs(h[n][g] - m[n][g]) for n in h for g in h[n])
    if distance < COLLAPSED_DISTANCE:
        return f"its level shares are within {distance:.3f} of the match class's"
    return ""


def _log_class(
    grids: dict[str, Any], comparisons: list[ComparisonSpec], shares: dict[str, dict[int, float]]
) -> Any:
    shape = next(iter(grids.values())).shape if grids else (0,)
    out = np.zeros(shape)
    for c in comparisons:
        g = grids[c.name]
        size = max(shares[c.name]) + 1
        table = np.zeros(size + 1)
        for gamma, value in shares[c.name].items():
            table[gamma] = math.log(max(value, 1e-12))
        out += table[np.where(g >= 0, g, size)]
    return out


def _shares(
    grids: dict[str, Any],
    comparisons: list[ComparisonSpec],
    weights: Any,
    fallback: dict[str, dict[int, float]],
    support: dict[str, list[int]],
) -> dict[str, dict[int, float]]:
    out: dict[str, dict[int, float]] = {}
    for c in comparisons:
        g = grids[c.name]
        gammas = [lv.gamma for lv in comparison_levels(c) if not lv.is_null]
        valid = g >= 0
        totals = np.bincount(g[valid], weights=weights[valid], minlength=max(gammas) + 1)
        if c.name in support:
            totals = np.where(np.isin(np.arange(totals.size), support[c.name]), totals, 0.0)
        mass = float(sum(totals[k] for k in gammas))
        out[c.name] = {
            k: max(float(totals[k]) / mass, M_FLOOR) if mass > 0 else fallback[c.name][k]
            for k in gammas
        }
    return out
