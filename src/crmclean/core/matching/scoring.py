"""Fellegi-Sunter scoring, trained without labels.

u (how often a level occurs between two random records) comes from random record pairs; m (how
often it occurs between two records of one customer) from expectation-maximisation on the
blocked pairs, one session per blocking rule, ignoring the comparisons the rule itself fixes
(pairs blocked on e-mail agree on e-mail whether they match or not); the prior from the expected
number of matches among the blocked pairs. EM runs on the distinct gamma patterns with their
counts, so its cost does not grow with the number of pairs.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl

from crmclean.core.matching.comparing import (
    comparison_levels,
    exact_level,
    used_columns,
)
from crmclean.core.matching.em import (
    M_FLOOR,
    fit_em,
    fit_starts,
    graded_levels,
    mirrored_swaps,
    monotone,
    run_em,
)
from crmclean.core.matching.household import (
    HouseholdParams,
    blocked_log_odds,
    collapsed,
    fit_household,
)
from crmclean.core.matching.spec import BlockingRule, ComparisonSpec, MatchingSpec
from crmclean.core.matching.training_data import TrainingData
from crmclean.core.matching.u_probabilities import estimate_u, u_sample_size

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
# At least this share of one customer's record pairs disagree on any one field (typos, moves,
# new addresses). EM on pairs mostly blocked on that field can learn almost none, and a single
# disagreement then vetoes a match (-13 bits for a last name on FEBRL); with the floor it weighs
# at most log2(0.02 / u) (about -6 bits). Among the true candidate pairs of the yardsticks the
# else levels hold 1.4-7 % (contact), 2-6 % (birth date), 4-10 % (last name); EM learnt 1 % or
# less for some of them. 0.01 -> 0.02: FEBRL 1-4 +0.003 to +0.009 F1, own, own --world and
# Faker unchanged at 10k (0.03 cost the own generator 0.001 and its precision 0.003).
ELSE_M_FLOOR = 0.02
_SUFFIXES = ("_key", "_metaphone", "_soundex", "_nysiis", "_initial", "_iso", "_norm", "_e164")


@dataclass(frozen=True)
class LevelParams:
    gamma: int
    label: str
    m: float
    u: float

    @property
    def bayes_factor(self) -> float:
        return math.log2(self.m / self.u)


@dataclass(frozen=True)
class ComparisonParams:
    name: str
    column: str
    levels: tuple[LevelParams, ...]  # non-null levels, highest gamma first
    tf_gamma: int | None = None  # the exact level adjusted by term frequency, if any
    tf_minimum_u: float = 1e-5
    # conditional_u: where this comparison is at `given_gamma`, the other comparisons' u per
    # level among non-matching pairs that share this value (name -> gamma -> u)
    given_gamma: int | None = None
    given_u: Mapping[str, Mapping[int, float]] = field(default_factory=dict)
    tf_scale: float = 1.0  # share of exact agreements that are non-matches (conditional_u)

    def level(self, gamma: int) -> LevelParams | None:
        return next((lv for lv in self.levels if lv.gamma == gamma), None)


@dataclass(frozen=True)
class MatchModel:
    prior: float  # probability that two random records are the same customer
    comparisons: tuple[ComparisonParams, ...]
    fingerprint: str
    training: dict[str, Any] = field(default_factory=dict)
    household: tuple[HouseholdParams, ...] = ()  # household classes, when trained and usable

    @property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1.0 - self.prior))


def fingerprint(spec: MatchingSpec) -> str:
    """What a trained model depends on: the comparisons and their levels (not thresholds)."""
    document = [c.model_dump(mode="json") for c in spec.comparisons]
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]


# --- u from random pairs -----------------------------------------------------------------------


# --- m by expectation-maximisation -------------------------------------------------------------


@dataclass
class _Session:
    rule: str
    pairs: int
    free: list[str]
    prior: float = 0.0
    iterations: int = 0
    m: dict[str, dict[int, float]] = field(default_factory=dict)
    non_match: dict[str, dict[int, float]] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    patterns: pl.DataFrame | None = None


def _stem(column: str) -> str:
    for suffix in _SUFFIXES:
        if column.endswith(suffix):
            return column[: -len(suffix)]
    return column


def fixed_by_rule(comparison: ComparisonSpec, rule: BlockingRule) -> bool:
    """Does blocking on `rule` decide this comparison (so training must leave it out)?"""
    related = {_stem(c) for c in used_columns(comparison)} | set(comparison.blocked_by)
    return any(c in comparison.blocked_by or _stem(c) in related for c in rule.columns)


def gamma_patterns(pairs: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Distinct `gamma_<name>` combinations of `pairs` with their count `_n`, sorted."""
    columns = [f"gamma_{name}" for name in names]
    return pairs.group_by(columns).agg(pl.len().alias("_n")).sort(columns)


def sample_pairs(pairs: pl.DataFrame, limit: int, seed: int) -> pl.DataFrame:
    """At most `limit` of `pairs`, drawn without replacement from the seed, in their order."""
    if pairs.height <= limit:
        return pairs
    rng = np.random.default_rng(seed)
    keep = np.sort(rng.choice(pairs.height, size=limit, replace=False))
    return pairs[keep]


def _names(comparisons: list[ComparisonSpec]) -> list[str]:
    return [c.name for c in comparisons]


def train(data: TrainingData, spec: MatchingSpec, *, seed: int) -> MatchModel:
    """Estimate u, m and the prior from the engine's aggregates alone (random-pair level
    counts, value counts, gamma patterns); levels with fixed m/u keep them."""
    training = spec.training
    u = estimate_u(data, spec, seed)
    for c in spec.comparisons:
        for lv in comparison_levels(c):
            if not lv.is_null and lv.spec.u_probability:
                u[c.name][lv.gamma] = lv.spec.u_probability
    gammas = {
        c.name: [lv.gamma for lv in comparison_levels(c) if not lv.is_null]
        for c in spec.comparisons
    }
    sessions: list[_Session] = []
    wanted = training.blocking or [b.label for b in spec.blocking]
    for index, rule in enumerate(spec.blocking):
        if rule.label not in wanted:
            continue
        free = [c for c in spec.comparisons if not fixed_by_rule(c, rule)]
        if not free:
            continue
        patterns = data.gamma_patterns(_names(free), index, training.em_max_pairs, seed + index)
        sampled = int(patterns.get_column("_n").sum())
        if sampled == 0:
            continue
        session = _Session(rule.label, sampled, _names(free), columns=rule.columns)
        session.patterns = patterns
        fit, session.report = fit_starts(
            session.patterns,
            free,
            u,
            {},
            max_iterations=training.em_max_iterations,
            tolerance=training.em_tolerance,
        )
        session.m, session.prior, session.iterations = fit.m, fit.prior, fit.iterations
        session.non_match = fit.non_match
        sessions.append(session)
    m = _combine(spec.comparisons, sessions, gammas)
    missing = [c for c in spec.comparisons if c.name not in m]
    fallback: dict[str, Any] = {}
    if missing:  # fixed by every rule: learn them on all pairs together
        fit, fallback = fit_starts(
            data.gamma_patterns(_names(spec.comparisons), None, training.em_max_pairs, seed),
            spec.comparisons,
            u,
            {c.name: m.get(c.name) for c in spec.comparisons},
            max_iterations=training.em_max_iterations,
            tolerance=training.em_tolerance,
        )
        m.update({c.name: fit.m[c.name] for c in missing})
    prior, blocked_prior = _prior(data, spec, u, m, seed)
    household, household_warning = _household(data, spec, u, m, blocked_prior, seed)
    if household:  # scored with the m learnt beside the household class
        m = {
            c.name: floor_disagreement(
                monotone(household[0].match_m[c.name], u[c.name], graded_levels(c), {}),
                u[c.name],
                graded_levels(c),
            )
            for c in spec.comparisons
        }
        for name, levels in mirrored_swaps(spec.comparisons).items():
            m[name].update({g: u[name][g] for g in levels})
    if household:
        prior = min(
            max(household[0].match_share * data.pair_count() / _all_pairs(data), 1e-12), 0.5
        )
    fixed = {
        c.name: {lv.gamma: lv.spec.m_probability for lv in comparison_levels(c)}
        for c in spec.comparisons
    }
    mirrors = mirrored_swaps(spec.comparisons)
    for name, levels in mirrors.items():  # counted on the earlier comparison: weighs nothing
        m[name].update({g: u[name][g] for g in levels})
    m = {
        c.name: monotone(
            m[c.name],
            u[c.name],
            [g for g in graded_levels(c) if g not in mirrors.get(c.name, set())],
            fixed[c.name],
        )
        for c in spec.comparisons
    }
    m = {
        c.name: floor_disagreement(m[c.name], u[c.name], graded_levels(c)) for c in spec.comparisons
    }
    for session in sessions:
        _refit_non_match(session, spec.comparisons, u, m, training, _learnt_u(session, spec))
    params = tuple(
        _params(c, m[c.name], u[c.name], *_given_u(c, sessions, u, spec.comparisons))
        for c in spec.comparisons
    )
    stats = {
        "seed": seed,
        "records": data.records(),
        "blocked_pairs": data.pair_count(),
        "u_sample_pairs": u_sample_size(data.records(), training.u_sample_pairs),
        "prior_within_blocked_pairs": blocked_prior,
        "sessions": [
            {
                "rule": s.rule,
                "pairs": s.pairs,
                "free": s.free,
                "prior": s.prior,
                "iterations": s.iterations,
                **s.report,
            }
            for s in sessions
        ],
        "all_pairs_session": fallback or None,
        "household": _household_report(household, household_warning),
        "warnings": ([household_warning] if household_warning else [])
        + [
            f"training session {s.rule}: an EM start as likely as the canonical one ends "
            f"{s.report['spread']:.2f} away on the {s.report['spread_parameter']}; small changes "
            "to the levels may flip the model (add a level that tells the classes apart, fix "
            "m_probability on the level, or train on more pairs)"
            for s in sessions
            if s.report.get("unstable")
        ],
    }
    usable = () if household_warning else tuple(household)
    return MatchModel(prior, params, fingerprint(spec), stats, usable)


def _all_pairs(data: TrainingData) -> float:
    n = data.records()
    return max(n * (n - 1) / 2, 1.0)


def _household(
    data: TrainingData,
    spec: MatchingSpec,
    u: dict[str, dict[int, float]],
    m: dict[str, dict[int, float]],
    blocked_prior: float,
    seed: int,
) -> tuple[list[HouseholdParams], str]:
    """The household class learnt on the blocked pairs (m, u fixed), and a warning when it
    collapsed (then scoring leaves it out)."""
    wanted = spec.training.household
    if wanted is None or data.pair_count() == 0:
        return [], ""
    names = _names(spec.comparisons)
    patterns = data.gamma_patterns(names, None, spec.training.em_max_pairs, seed)
    fit = fit_household(
        patterns,
        spec.comparisons,
        u,
        m,
        min(max(blocked_prior, 1e-6), 1 - 1e-6),
        wanted,
        max_iterations=spec.training.em_max_iterations,
        tolerance=spec.training.em_tolerance,
    )
    params = [replace(k, prior=k.blocked_share * data.pair_count() / _all_pairs(data)) for k in fit]
    why = [f"{k.report['seeded_by']}: {collapsed(k.blocked_share, k.h, m)}" for k in params]
    why = [w for w, k in zip(why, params, strict=True) if collapsed(k.blocked_share, k.h, m)]
    if not params:
        why = ["no blocked pairs"]
    warning = f"household classes not used: {'; '.join(why)} (training.household)" if why else ""
    return params, warning


def _household_report(classes: list[HouseholdParams], warning: str) -> list[dict[str, Any]]:
    return [_household_class(k, warning) for k in classes]


def _household_class(household: HouseholdParams, warning: str) -> dict[str, Any]:
    return {
        **household.report,
        "used": not warning,
        "prior": household.prior,
        "blocked_share": household.blocked_share,
        "match_share": household.match_share,
        "seeded_pairs": household.seeded_pairs,
        "iterations": household.iterations,
        "converged": household.converged,
        "differ": household.differ,
        "allowed": household.allowed,
        "h": {name: {str(g): v for g, v in levels.items()} for name, levels in household.h.items()},
    }


def floor_disagreement(
    m: dict[int, float], u: Mapping[int, float], graded: list[int]
) -> dict[int, float]:
    """m with at least ELSE_M_FLOOR on outright disagreement. Where the comparison grades
    disagreement (the graded levels just above else that speak against a match, m < u: a birth
    date within a year, within fifteen years, further apart), the floor bounds their sum and
    the else level takes what is missing: EM's split among them is kept, so a level that
    tells a generation apart from a typo can weigh more than the floor allows else alone."""
    if 0 not in m:
        return dict(m)
    run = [0]
    while run[-1] + 1 in graded and m.get(run[-1] + 1, 1.0) < u.get(run[-1] + 1, 0.0):
        run.append(run[-1] + 1)
    others = sum(m[g] for g in run[1:])
    out = dict(m)
    out[0] = max(m[0], ELSE_M_FLOOR - others)
    return out


def _combine(
    comparisons: list[ComparisonSpec], sessions: list[_Session], gammas: dict[str, list[int]]
) -> dict[str, dict[int, float]]:
    """Average each comparison's m over the sessions that estimated it, weighted by matches."""
    out: dict[str, dict[int, float]] = {}
    for c in comparisons:
        used = [s for s in sessions if c.name in s.m]
        weight = sum(s.prior * s.pairs for s in used)
        if not used or weight <= 0:
            continue
        out[c.name] = {
            g: sum(s.prior * s.pairs * s.m[c.name][g] for s in used) / weight
            for g in gammas[c.name]
        }
    return out


def _refit_non_match(
    session: _Session,
    comparisons: list[ComparisonSpec],
    u: dict[str, dict[int, float]],
    m: dict[str, dict[int, float]],
    training: Any,
    learn_u: frozenset[str] | None = None,
) -> None:
    """The session's non-match level shares and match share learnt again with m fixed to the
    one learnt from every session: one customer's record pairs look alike whichever rule found
    them. Left free, a session's match class trades pairs with its non-match class (EM alone
    put 16 % of the Faker set's e-mail-sharing pairs among non-matches, truth: 0.2 %), and the
    conditional u read from that class flipped (exact last name given the same e-mail 0.83
    against 0.0005) when a swapped level was added to the last name. With m fixed, both are
    steady (0.0005 either way) and F1 rose on every yardstick (Faker 10k 0.772 -> 0.830)."""
    if session.patterns is None:
        return
    free = [c for c in comparisons if c.name in session.free]
    fit = fit_em(
        session.patterns,
        free,
        u,
        {c.name: m[c.name] for c in free},
        session.prior,
        estimate_m=False,
        max_iterations=training.em_max_iterations,
        tolerance=training.em_tolerance,
        learn_u=learn_u,
    )
    session.non_match, session.prior = fit.non_match, fit.prior


def _learnt_u(session: _Session, spec: MatchingSpec) -> frozenset[str] | None:
    """Which non-match shares the session learns again (None: all of them). In the session a
    conditional_u comparison reads its non-matches from (blocked on its field alone), only the
    comparisons it conditions: scoring weighs the others against random pairs, also where the
    field agrees, so training does too. Left free, the non-match class took in one customer's
    unusual records (a move, a new surname, a sparse sign-up) as different people sharing an
    e-mail address: 5.8 / 7.5 / 0.9 % of such pairs on own / own --world / Faker at 10k against
    a true 0.7 / 0.6 / 0.2 %; learning only the names: 0.25 / 0.9 / 0.2 %."""
    for c in spec.comparisons:
        if c.conditional_u and _conditions_session(c, session):
            return frozenset(c.conditional_u)
    return None


def _conditions_session(c: ComparisonSpec, session: _Session) -> bool:
    """Is `session` blocked on this comparison's field alone (the pairs sharing its value)?"""
    related = {_stem(col) for col in used_columns(c)} | set(c.blocked_by)
    return all(col in c.blocked_by or _stem(col) in related for col in session.columns)


def _prior(
    data: TrainingData,
    spec: MatchingSpec,
    u: dict[str, dict[int, float]],
    m: dict[str, dict[int, float]],
    seed: int,
) -> tuple[float, float]:
    """Expected matches among the blocked pairs (m, u fixed) over all possible record pairs."""
    n_records, n_pairs = data.records(), data.pair_count()
    all_pairs = n_records * (n_records - 1) / 2
    if spec.training.prior is not None:
        return spec.training.prior, 0.0
    if n_pairs == 0 or all_pairs <= 0:
        return 1e-6, 0.0
    names = _names(spec.comparisons)
    _, blocked_prior, _ = run_em(
        data.gamma_patterns(names, None, spec.training.em_max_pairs, seed),
        spec.comparisons,
        u,
        m,
        0.1,
        estimate_m=False,
        max_iterations=spec.training.em_max_iterations,
        tolerance=spec.training.em_tolerance,
    )
    prior = blocked_prior * n_pairs / all_pairs
    return min(max(prior, 1e-12), 0.5), blocked_prior


def _given_u(
    c: ComparisonSpec,
    sessions: list[_Session],
    u: dict[str, dict[int, float]],
    comparisons: list[ComparisonSpec],
) -> tuple[dict[str, dict[int, float]], float]:
    """For a conditional_u comparison: the listed comparisons' level shares among the blocked
    non-matches of the session whose blocking rule holds this field alone (pairs sharing its
    value), and the share of those pairs that are non-matches. Different people who share an
    e-mail address mostly share the name it was made from: their name agreement is no news,
    however rare random name agreement is. The u of exact agreement counted from values holds
    every pair sharing a value, one customer's records included; only the non-match share of
    it is chance agreement."""
    if not c.conditional_u:
        return {}, 1.0
    for session in sessions:
        if _conditions_session(c, session) and session.non_match:
            # Fields made of the same facts agree more often, never less, than random pairs do:
            # an agreement level keeps at least its random-pair u (a small session's non-match
            # class can hold too few pairs to say).
            mirrors = mirrored_swaps(comparisons)
            shares = {
                name: {
                    g: max(v, M_FLOOR, u[name][g] if g > 0 else 0.0)
                    for g, v in levels.items()
                    if g not in mirrors.get(name, set())
                }
                for name, levels in session.non_match.items()
                if name in set(c.conditional_u) - {c.name}
            }
            return shares, max(1.0 - session.prior, 1e-3)
    return {}, 1.0


def _params(
    c: ComparisonSpec,
    m: dict[int, float],
    u: dict[int, float],
    given_u: dict[str, dict[int, float]] | None = None,
    scale: float = 1.0,
) -> ComparisonParams:
    given = exact_level(c) if given_u else None
    if given is None:
        scale = 1.0
    levels = tuple(
        LevelParams(
            lv.gamma,
            lv.label,
            m[lv.gamma],
            u[lv.gamma] * (scale if given and lv.gamma == given.gamma else 1.0),
        )
        for lv in comparison_levels(c)
        if not lv.is_null
    )
    exact = exact_level(c) if c.term_frequency else None
    return ComparisonParams(
        c.name,
        c.column,
        levels,
        exact.gamma if exact else None,
        c.tf_minimum_u,
        given.gamma if given else None,
        given_u or {},
        scale,
    )


# --- scoring -----------------------------------------------------------------------------------


def agreeing_gammas(c: ComparisonParams) -> list[int]:
    """Where a conditional_u comparison conditions the others: its exact level and the levels
    below it that still speak for a match (m > u: an e-mail address one or two edits away).
    A similar address is made of the same name as an equal one: john.smith1@ and john.smith2@
    are namesakes as often as a shared john.smith@ is (the own generator's namesakes: 23 of 25
    pairs with a similar address, the same name and other phones are different people)."""
    if c.given_gamma is None:
        return []
    return [lv.gamma for lv in c.levels if 0 < lv.gamma <= c.given_gamma and lv.m > lv.u]


HOUSEHOLD = "bf_household"
BLOCKED = "bf_blocked"


def household_weight(model: MatchModel) -> pl.Expr:
    """-log2(1 + pi_h prod h / (pi_u prod u')): the evidence that the pair is one household's
    different people rather than unrelated, taken from the match weight. Per comparison
    log2(h / u') = bf - log2(m / h), so term frequency and conditional u count as in bf."""
    classes = model.household
    unrelated = max(1.0 - model.prior - sum(k.prior for k in classes), 1e-12)
    first = classes[0]
    one_person = pl.lit(bool(first.differ))
    for name, gammas in first.differ.items():
        one_person = one_person & pl.col(f"gamma_{name}").is_in(gammas)
    total = pl.lit(0.0)
    for household in classes:
        ratio = pl.lit(math.log2(household.prior / household.allowed / unrelated))
        for c in model.comparisons:
            h = household.h.get(c.name, {})
            mapping = {lv.gamma: math.log2(lv.m / h[lv.gamma]) for lv in c.levels if lv.gamma in h}
            gap = pl.col(f"gamma_{c.name}").replace_strict(
                mapping, default=0.0, return_dtype=pl.Float64
            )
            ratio = ratio + pl.col(f"bf_{c.name}") - gap
        total = total + pl.lit(2.0).pow(ratio.clip(upper_bound=1000.0))
    # -log2(1 + sum 2^r); nothing where the pair is one person's
    return pl.when(one_person).then(0.0).otherwise(-(1.0 + total).log(2))


def score(pairs: pl.DataFrame, model: MatchModel) -> pl.DataFrame:
    """Add `bf_<name>` (log2 Bayes factor), `match_weight` and `match_probability`."""
    bfs: list[pl.Expr] = []
    conditions = [c for c in model.comparisons if c.given_gamma is not None and c.given_u]
    for c in model.comparisons:
        gamma = pl.col(f"gamma_{c.name}")
        mapping = {lv.gamma: lv.bayes_factor for lv in c.levels}
        bf = gamma.replace_strict(mapping, default=0.0, return_dtype=pl.Float64)
        tf_column = f"tf_{c.name}"
        if c.tf_gamma is not None and tf_column in pairs.columns:
            exact = c.level(c.tf_gamma)
            assert exact is not None
            tf = pl.max_horizontal(pl.col(tf_column), pl.lit(c.tf_minimum_u)) * c.tf_scale
            adjust = (pl.lit(exact.u) / tf).log(2)
            bf = pl.when(gamma == c.tf_gamma).then(bf + adjust.fill_null(0.0)).otherwise(bf)
        for given in conditions:  # the first conditional comparison that agrees decides
            shares = given.given_u.get(c.name)
            if shares and given is not c:
                conditional = {
                    lv.gamma: math.log2(lv.m / shares[lv.gamma])
                    for lv in c.levels
                    if lv.gamma in shares
                }
                agree = pl.col(f"gamma_{given.name}").is_in(agreeing_gammas(given))
                cbf = gamma.replace_strict(conditional, default=0.0, return_dtype=pl.Float64)
                bf = pl.when(agree).then(cbf).otherwise(bf)
                break
        bfs.append(bf.alias(f"bf_{c.name}"))
    scored = pairs.with_columns(bfs)
    terms = [f"bf_{c.name}" for c in model.comparisons]
    if model.household:
        scored = scored.with_columns(household_weight(model).alias(HOUSEHOLD))
        terms.append(HOUSEHOLD)
    weight = pl.lit(model.prior_weight) + pl.sum_horizontal(terms)
    if model.household:  # never surer than the blocked pairs' own three-class posterior
        blocked = blocked_log_odds(model.household[0])
        scored = scored.with_columns(pl.min_horizontal(blocked - weight, 0.0).alias(BLOCKED))
        weight = weight + pl.col(BLOCKED)
    return scored.with_columns(weight.alias("match_weight")).with_columns(
        (1.0 / (1.0 + pl.lit(2.0).pow(-pl.col("match_weight")))).alias("match_probability")
    )
