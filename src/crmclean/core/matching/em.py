"""Expectation-maximisation of m (and the blocked pairs' own non-match shares) without labels.

EM runs on the distinct gamma patterns with their counts, so its cost does not grow with the
number of pairs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from crmclean.core.matching.comparing import comparison_levels
from crmclean.core.matching.spec import ComparisonSpec

M_FLOOR = 1e-4  # an m of zero would veto a match on one typo forever


def mirrored_swaps(comparisons: list[ComparisonSpec]) -> dict[str, set[int]]:
    """The `swapped` levels that repeat a swap an earlier comparison already counts.

    A name swap is one fact seen on two comparisons: first name swapped with the last name and
    last name swapped with the first. Counted on both, EM explains the pairs that show it by
    the product of two small m's, far too rare for a match, and hands them to the non-match
    class (on every yardstick the true pairs held a swap 3-5 % of the time, EM learnt 0.1-0.8 %);
    the e-mail's conditional u then read mostly swaps as "non-matches sharing an address" (65 to
    100 % of that class). The later comparison's level mirrors the earlier one: it weighs
    nothing and training treats it as missing on that comparison.
    """
    out: dict[str, set[int]] = {}
    for index, later in enumerate(comparisons):
        for level in comparison_levels(later):
            spec = level.spec
            if spec.type != "swapped":
                continue
            column = spec.column or later.column
            other = getattr(spec, "other", None)
            if any(
                earlier.column == other
                and any(
                    lv.spec.type == "swapped"
                    and getattr(lv.spec, "other", None) == column
                    and (lv.spec.column or earlier.column) == other
                    for lv in comparison_levels(earlier)
                )
                for earlier in comparisons[:index]
            ):
                out.setdefault(later.name, set()).add(level.gamma)
    return out


def initial_m(gammas: list[int], base: float = 4.0) -> dict[int, float]:
    weights = {g: base**g for g in gammas}
    total = sum(weights.values())
    return {g: w / total for g, w in weights.items()}


# Where EM starts: (steepness of the initial m over the levels, prior); the first is canonical.
# The likelihood of a mixture has several optima; a small change to the levels can move a
# start from one to another. Every start runs; one that ends at least as likely as the
# canonical start but far from it is reported (see fit_starts).
STARTS: tuple[tuple[float, float], ...] = ((4.0, 0.3), (2.0, 0.1), (8.0, 0.5))
FAR = 0.2  # a parameter this far apart between two near-equally likely starts: unstable
NEAR = 1e-3  # "as likely": at most this many nats per pair below the canonical start


@dataclass
class EmFit:
    """One EM run: the estimates and what training did."""

    m: dict[str, dict[int, float]]
    prior: float
    iterations: int
    converged: bool
    log_likelihood: float
    non_match: dict[str, dict[int, float]] = field(default_factory=dict)


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
    fit = fit_em(
        patterns,
        comparisons,
        u,
        m,
        prior,
        estimate_m=estimate_m,
        max_iterations=max_iterations,
        tolerance=tolerance,
        estimate_u=estimate_u,
    )
    if non_match is not None:
        non_match.update(fit.non_match)
    return fit.m, fit.prior, fit.iterations


def fit_em(
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
    learn_u: frozenset[str] | None = None,
) -> EmFit:
    """EM from one start (see run_em). With `learn_u`, only those comparisons' non-match
    shares are learnt; the others keep `u`."""
    u = {name: dict(levels) for name, levels in u.items()}
    weights = patterns.get_column("_n").to_numpy().astype(np.float64)
    mirrors = mirrored_swaps(comparisons)
    grids = {
        c.name: _as_missing(
            patterns.get_column(f"gamma_{c.name}").to_numpy().astype(np.int64),
            mirrors.get(c.name, set()),
        )
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
    converged = False
    if weights.sum() <= 0:  # no candidate pairs (a tiny input): nothing to learn from
        return EmFit(m, prior, iteration, True, 0.0, u)
    for iteration in range(1, max_iterations + 1):  # noqa: B007  (iterations, not rows)
        log_match, log_non = _log_densities(grids, comparisons, m, u, prior)
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
                if learn_u is not None and c.name not in learn_u:
                    continue
                g = grids[c.name]
                valid = g >= 0
                totals = np.bincount(
                    g[valid], weights=unexpected[valid], minlength=max(u[c.name]) + 1
                )
                u[c.name] = _normalise(totals, u[c.name], {})
        if change < tolerance:
            converged = True
            break
    log_match, log_non = _log_densities(grids, comparisons, m, u, prior)
    log_likelihood = float((weights * np.logaddexp(log_match, log_non)).sum())
    return EmFit(m, prior, iteration, converged, log_likelihood, u)


def _as_missing(grid: Any, gammas: set[int]) -> Any:
    """`grid` with the given levels read as missing (-1): they carry no evidence here."""
    return np.where(np.isin(grid, sorted(gammas)), -1, grid) if gammas else grid


def _log_densities(
    grids: dict[str, Any],
    comparisons: list[ComparisonSpec],
    m: dict[str, dict[int, float]],
    u: dict[str, dict[int, float]],
    prior: float,
) -> tuple[Any, Any]:
    """log P(pattern, match) and log P(pattern, non-match) per pattern."""
    shape = next(iter(grids.values())).shape if grids else (0,)
    log_match = np.full(shape, math.log(prior))
    log_non = np.full(shape, math.log1p(-prior))
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
    return log_match, log_non


def graded_levels(comparison: ComparisonSpec) -> list[int]:
    """The gammas (strongest first) of the levels that grade one agreement on the comparison's
    own column: exact, similar, less similar ..., else. Their evidence must not rise as the
    agreement weakens. Levels on other columns or requiring other columns equal (the contact
    comparison's phone and postcode levels), `different` levels and `swapped` levels (they
    read the `other` column too) measure something else and keep their own estimate. A swap
    pooled with the similar level above it took that level's ratio: with u near 5e-6, m fell
    to 0.001 while 3-5 % of the yardsticks' true pairs hold a swap (EM alone: 3-5 %)."""
    return [
        lv.gamma
        for lv in comparison_levels(comparison)
        if not lv.is_null
        and (
            lv.spec.type == "else"
            or (
                lv.spec.type not in ("different", "swapped")
                and lv.spec.column in (None, comparison.column)
                and not lv.spec.requires_equal
            )
        )
    ]


def monotone(
    m: dict[int, float],
    u: Mapping[int, float],
    graded: list[int],
    fixed: Mapping[int, float | None],
) -> dict[int, float]:
    """m with m/u non-increasing along `graded` (strongest first), by pooling adjacent
    violators: a run of levels whose ratio rises as agreement weakens shares one ratio,
    sum(m) / sum(u) over the run, so the total m is kept. Levels with a fixed m stay out."""
    order = [g for g in graded if not fixed.get(g) and g in m and u.get(g, 0) > 0]
    blocks: list[list[int]] = []
    for g in order:
        blocks.append([g])
        while len(blocks) > 1 and _ratio(m, u, blocks[-2]) < _ratio(m, u, blocks[-1]):
            last = blocks.pop()
            blocks[-1].extend(last)
    out = dict(m)
    for run in blocks:
        if len(run) > 1:
            ratio = _ratio(m, u, run)
            for g in run:
                out[g] = max(ratio * u[g], M_FLOOR)
    return out


def _ratio(m: Mapping[int, float], u: Mapping[int, float], run: list[int]) -> float:
    return sum(m[g] for g in run) / sum(u[g] for g in run)


def fit_starts(
    patterns: pl.DataFrame,
    comparisons: list[ComparisonSpec],
    u: dict[str, dict[int, float]],
    m: Mapping[str, dict[int, float] | None],
    *,
    max_iterations: int,
    tolerance: float,
) -> tuple[EmFit, dict[str, Any]]:
    """EM from every start in STARTS (a given m replaces a start's initial m); the fit of the
    first (canonical) start, and a report: per start the log-likelihood, iterations and whether
    it converged; the largest parameter distance from the canonical fit among starts at least
    as likely (`spread`), which parameter that was, and `unstable` when it exceeds FAR.

    The canonical fit is kept rather than the most likely one: the model assumes comparisons
    independent, which they are not (a household shares name and address), and on every
    yardstick (crmclean's generator, the Faker set, FEBRL) the most likely of the starts, or EM
    run to convergence, merged worse. What several starts do tell is whether a small change to
    the levels can flip the model: a start that ends at least as likely but far away."""
    fits: list[EmFit] = []
    for base, prior in STARTS:
        m0 = {
            c.name: dict(m.get(c.name) or initial_m(sorted(u[c.name]), base)) for c in comparisons
        }
        fits.append(
            fit_em(
                patterns,
                comparisons,
                u,
                m0,
                prior,
                estimate_m=True,
                max_iterations=max_iterations,
                tolerance=tolerance,
            )
        )
    chosen = fits[0]
    pairs = max(float(patterns.get_column("_n").sum()), 1.0)
    spread, where = 0.0, ""
    for fit in fits[1:]:
        if (chosen.log_likelihood - fit.log_likelihood) / pairs > NEAR:
            continue  # a less likely optimum says nothing about this one
        distance, name = _distance(chosen, fit)
        if distance > spread:
            spread, where = distance, name
    report = {
        "starts": [
            {
                "log_likelihood": f.log_likelihood,
                "iterations": f.iterations,
                "converged": f.converged,
                "prior": f.prior,
            }
            for f in fits
        ],
        "log_likelihood": chosen.log_likelihood,
        "iterations": chosen.iterations,
        "converged": chosen.converged,
        "spread": spread,
        "spread_parameter": where,
        "unstable": spread > FAR,
    }
    return chosen, report


def _distance(a: EmFit, b: EmFit) -> tuple[float, str]:
    """The largest absolute difference in m, non-match share or prior between two fits."""
    worst, name = abs(a.prior - b.prior), "prior"
    for label, left, right in (("m", a.m, b.m), ("non-match u", a.non_match, b.non_match)):
        for comparison, levels in left.items():
            for gamma, value in levels.items():
                other = right.get(comparison, {}).get(gamma, value)
                if abs(value - other) > worst:
                    worst, name = abs(value - other), f"{label} of {comparison} level {gamma}"
    return worst, name


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
