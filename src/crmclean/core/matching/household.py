"""A third class for the model: pairs of one household or family (issue 10, round 4).

Fellegi-Sunter with two classes treats the comparisons as independent among non-matches. A
junior and a senior, twins or spouses share the last name, the address and the phone at a rate
far above the product of the random-pair u's, so "same full name, same address, other birth
date" scores as one customer. Here the non-matches are two classes: unrelated pairs (the
random-pair u, as before) and household pairs, whose level shares `h` are learnt by EM on the
blocked pairs' gamma patterns with m and u fixed. A pair is merged on P(match) only:

    P(match | gamma) = pi_m * prod m / (pi_m * prod m + pi_h * prod h + pi_u * prod u)

so the match weight is the two-class weight plus a household term
-log2(1 + pi_h * prod h / (pi_u * prod u')) (u' the u scoring uses: term frequency and
conditional u included), which `explain` shows as one more line. The class is seeded from the
pairs that agree on every `shared` comparison (last name, address or phone) and disagree on at
least one `differ` comparison (first name, birth date); it reads only aggregates, so every
engine trains the same model.
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
    """EM over match, household and unrelated classes on gamma patterns, m fixed. One household
    class per `differ` comparison: seeded from the pairs agreeing on every `shared` comparison
    whose first disagreeing `differ` comparison (in the listed order) is that one (first name:
    spouses, siblings, twins; birth date with the first name agreeing: juniors and seniors);
    a single class assumes first name and address independent among households, which they are
    not (a junior shares the first name and the address, a spouse the phone). `prior` is the
    two-class match share of these pairs, which starts the match and unrelated classes; each
    result's `prior` is its class's share of these pairs (the caller scales it)."""
    weights = patterns.get_column("_n").to_numpy().astype(np.float64)
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
    shared = np.ones(weights.shape, dtype=bool)
    for name in spec.shared:
        shared &= np.isin(grids[name], _agreeing(by_name[name], m[name], u[name]))
    # Different people: a household pair never agrees on every `differ` comparison (one first
    # name and one birth date are one person); such patterns are the match class's alone.
    allowed = np.zeros(weights.shape, dtype=bool)
    taken = np.zeros(weights.shape, dtype=bool)
    seeds = []
    for name, gammas in differ.items():
        g = grids[name]
        allowed |= ~np.isin(g, gammas)
        disagree = (g >= 0) & ~np.isin(g, gammas) & ~taken
        seeds.append(shared & disagree)
        taken |= disagree
    seeds = [np.logical_or.reduce(seeds)]
    log_m = _log_class(grids, comparisons, m)
    log_u = _log_class(grids, comparisons, u)
    # start: seeded pairs are households; the rest split between match and unrelated as the
    # two-class model splits them. Blocked unrelated pairs are not random pairs (they agree on
    # a blocking key: namesakes), so in training that class learns its own shares `v` too;
    # scoring weighs unrelated pairs against the random-pair u, as the two-class model does.
    odds = math.log(prior / (1 - prior))
    p_match = 1.0 / (1.0 + np.exp(np.clip(log_u - log_m - odds, -700, 700)))
    resp_h = [seed.astype(np.float64) for seed in seeds]
    resp_m = (1 - sum(resp_h)) * p_match
    resp_v = 1 - sum(resp_h) - resp_m
    support = _support(comparisons, spec, m, u)
    h = [_shares(grids, comparisons, weights * r, u, support) for r in resp_h]
    v = _shares(grids, comparisons, weights * resp_v, u, {})
    total = weights.sum()
    pi_m = max(float((weights * resp_m).sum() / total), 1e-9)
    pi_h = [max(float((weights * r).sum() / total), 1e-9) for r in resp_h]
    seeded = [int(weights[seed].sum()) for seed in seeds]
    iteration, converged = 0, False
    if total <= 0:
        return []
    for iteration in range(1, max_iterations + 1):  # noqa: B007  (iterations, not rows)
        pi_v = max(1.0 - pi_m - sum(pi_h), 1e-9)
        lm = math.log(pi_m) + log_m
        lh = [
            np.where(
                allowed,
                math.log(p)
                - math.log(max(_allowed(hk, differ), 1e-12))
                + _log_class(grids, comparisons, hk),
                -np.inf,
            )
            for p, hk in zip(pi_h, h, strict=True)
        ]
        lv = math.log(pi_v) + _log_class(grids, comparisons, v)
        norm = np.logaddexp(lm, lv)
        for lk in lh:
            norm = np.logaddexp(norm, lk)
        resp_m, resp_v = np.exp(lm - norm), np.exp(lv - norm)
        resp_h = [np.exp(lk - norm) for lk in lh]
        new_h = [_shares(grids, comparisons, weights * r, u, support) for r in resp_h]
        v = _shares(grids, comparisons, weights * resp_v, u, {})
        m = _shares(grids, comparisons, weights * resp_m, u, {})
        log_m = _log_class(grids, comparisons, m)
        new_pi_m = float((weights * resp_m).sum() / total)
        new_pi_h = [float((weights * r).sum() / total) for r in resp_h]
        change = max(
            abs(new_pi_m - pi_m),
            *(abs(a - b) for a, b in zip(new_pi_h, pi_h, strict=True)),
            *(
                abs(a[n][g] - b[n][g])
                for a, b in zip(new_h, h, strict=True)
                for n in a
                for g in a[n]
            ),
        )
        h, pi_m, pi_h = new_h, max(new_pi_m, 1e-12), [max(p, 1e-12) for p in new_pi_h]
        if change < tolerance:
            converged = True
            break
    out = []
    for k, name in enumerate(list(differ)[: len(h)]):
        for comparison, levels in mirrors.items():  # a mirrored swap weighs nothing anywhere
            h[k][comparison].update({g: u[comparison][g] for g in levels})
        out.append(
            HouseholdParams(
                pi_h[k],
                h[k],
                pi_h[k],
                pi_m,
                seeded[k],
                iteration,
                converged,
                differ,
                _allowed(h[k], differ),
                {"seeded_by": name},
                m,
                v,
                max(1.0 - pi_m - sum(pi_h), 1e-9),
                {name: sorted(levels) for name, levels in mirrors.items()},
            )
        )
    return out


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


def _support(
    comparisons: list[ComparisonSpec],
    spec: HouseholdSpec,
    m: dict[str, dict[int, float]],
    u: dict[str, dict[int, float]],
) -> dict[str, list[int]]:
    """The levels a household pair can hold on its `shared` comparisons: the agreeing ones."""
    by_name = {c.name: c for c in comparisons}
    return {name: _agreeing(by_name[name], m[name], u[name]) for name in spec.shared}


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
