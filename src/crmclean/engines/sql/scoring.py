"""Comparing and scoring as SQL (DuckDB's and Spark's, dialect.py): gammas per pair from the
level CASEs (levels.py), term frequencies joined from value counts, Bayes factors, match weight
and probability with core/matching/scoring.py `score`'s arithmetic."""

from __future__ import annotations

import math

from crmclean.core.matching.comparing import exact_level
from crmclean.core.matching.household import HouseholdParams
from crmclean.core.matching.scoring import BLOCKED, HOUSEHOLD, MatchModel, agreeing_gammas
from crmclean.core.matching.spec import MatchingSpec
from crmclean.engines.sql.dialect import DUCKDB, Dialect
from crmclean.engines.sql.levels import Sides, gamma_sql


def term_frequency_sql(spec: MatchingSpec, dialect: Dialect = DUCKDB) -> dict[str, str]:
    """Per term-frequency comparison, the table `_tf_<name>` to make: the query of its
    `(_value, _tf)` rows (comparing.term_frequencies)."""
    tables = {}
    for c in spec.comparisons:
        if not c.term_frequency:
            continue
        column = dialect.ident(c.column)
        tables["_tf_" + c.name] = (
            f"SELECT lower({dialect.string(column)}) AS _value, "
            f"CAST(count(*) - 1 AS DOUBLE) / greatest((SELECT count({column}) FROM vals) - 1, 1) "
            f"AS _tf FROM vals WHERE {column} IS NOT NULL GROUP BY 1"
        )
    return tables


def compare_sql(
    spec: MatchingSpec,
    types: dict[str, str],
    source: str,
    keep: list[str],
    dialect: Dialect = DUCKDB,
    rows: str | None = None,
) -> str:
    """SELECT the `keep` columns of `source` (pairs `p` with row_l, row_r) and a gamma per
    comparison, plus `tf_<name>` for term-frequency comparisons. `rows`: the engine's own query
    of the `keep` columns, gamma_<name> and _tfv_<name> (the duckdb engine compares each distinct
    pair of values once, duckdb_engine/distinct.py); default: every pair compared row by row."""
    ident = dialect.ident
    inner = rows if rows is not None else _compared_rows(spec, types, source, keep, dialect)
    tfs, joins, hidden = [], [], []
    for c in spec.comparisons:
        if not c.term_frequency:
            continue
        exact = exact_level(c)
        table = ident("_tf_" + c.name)
        hidden.append(f"_tfv_{c.name}")
        if exact is None:
            tfs.append(f"CAST(NULL AS DOUBLE) AS tf_{c.name}")
            continue
        alias = f"t_{c.name}"
        joins.append(f"LEFT JOIN {table} {alias} ON {alias}._value = g._tfv_{c.name}")
        tfs.append(
            f"CASE WHEN g.gamma_{c.name} = {exact.gamma} THEN {alias}._tf END AS tf_{c.name}"
        )
    if not hidden:
        return inner
    shown = ", ".join(f"g.{c}" for c in [*keep, *(f"gamma_{c.name}" for c in spec.comparisons)])
    return f"SELECT {shown}, {', '.join(tfs)} FROM ({inner}) g {' '.join(joins)}"


def _compared_rows(
    spec: MatchingSpec, types: dict[str, str], source: str, keep: list[str], dialect: Dialect
) -> str:
    ident = dialect.ident
    sides = Sides(types, dialect=dialect)
    gammas = [f"{gamma_sql(c, sides)} AS gamma_{c.name}" for c in spec.comparisons]
    tf_values = [
        f"lower({dialect.string('l.' + ident(c.column))}) AS _tfv_{c.name}"
        for c in spec.comparisons
        if c.term_frequency
    ]
    kept = ", ".join(f"p.{k}" for k in keep)
    return (
        f"SELECT {kept}, {', '.join(gammas + tf_values)} FROM {source} p "
        "JOIN vals l ON l._row = p.row_l JOIN vals r ON r._row = p.row_r"
    )


def _case(gamma: str, mapping: dict[int, float]) -> str:
    number = Dialect.number
    whens = " ".join(f"WHEN {g} THEN {number(v)}" for g, v in mapping.items())
    return f"(CASE {gamma} {whens} ELSE {number(0.0)} END)" if whens else number(0.0)


def score_sql(model: MatchModel, source: str) -> str:
    """SELECT * of `source` (with gamma_/tf_ columns) and bf_<name>, match_weight,
    match_probability."""
    number = Dialect.number
    bfs = []
    conditions = [c for c in model.comparisons if c.given_gamma is not None and c.given_u]
    for c in model.comparisons:
        gamma = f"gamma_{c.name}"
        bf = _case(gamma, {lv.gamma: lv.bayes_factor for lv in c.levels})
        if c.tf_gamma is not None:
            exact = c.level(c.tf_gamma)
            assert exact is not None
            floor = number(c.tf_minimum_u)
            tf = f"(greatest(coalesce(tf_{c.name}, {floor}), {floor}) * {number(c.tf_scale)})"
            adjust = f"log2({number(exact.u)} / {tf})"
            adjusted = f"{bf} + coalesce({adjust}, 0.0)"
            bf = f"(CASE WHEN {gamma} = {c.tf_gamma} THEN {adjusted} ELSE {bf} END)"
        for given in conditions:  # the first conditional comparison that agrees decides
            shares = given.given_u.get(c.name)
            if shares and given is not c:
                conditional = {
                    lv.gamma: math.log2(lv.m / shares[lv.gamma])
                    for lv in c.levels
                    if lv.gamma in shares
                }
                agree = ", ".join(str(g) for g in agreeing_gammas(given)) or "NULL"
                cbf = _case(gamma, conditional)
                bf = f"(CASE WHEN gamma_{given.name} IN ({agree}) THEN {cbf} ELSE {bf} END)"
                break
        bfs.append(f"{bf} AS bf_{c.name}")
    total = " + ".join(f"bf_{c.name}" for c in model.comparisons) or number(0.0)
    weight = f"({number(model.prior_weight)} + ({total}))"
    if not model.household:
        return (
            f"SELECT *, {weight} AS match_weight, "
            f"1.0 / (1.0 + pow(2.0, -({weight}))) AS match_probability "
            f"FROM (SELECT *, {', '.join(bfs)} FROM {source}) _bf"
        )
    # scoring.household_weight and household.blocked_log_odds, term for term
    household = model.household[0]
    inner = f"(SELECT *, {', '.join(bfs)} FROM {source}) _bf"
    with_household = f"(SELECT *, {_household_sql(model)} AS {HOUSEHOLD} FROM {inner}) _hh"
    two = f"({weight} + {HOUSEHOLD})"
    cap = f"least({_blocked_sql(household)} - {two}, 0.0)"
    capped = f"(SELECT *, {cap} AS {BLOCKED} FROM {with_household}) _bl"
    final = f"({two} + {BLOCKED})"
    return (
        f"SELECT *, {final} AS match_weight, "
        f"1.0 / (1.0 + pow(2.0, -({final}))) AS match_probability FROM {capped}"
    )


def _household_sql(model: MatchModel) -> str:
    """-log2(1 + 2^ratio) unless the pair agrees on every differ comparison (scoring.py)."""
    number = Dialect.number
    household = model.household[0]
    unrelated = max(1.0 - model.prior - sum(k.prior for k in model.household), 1e-12)
    one_person = (
        " AND ".join(
            f"gamma_{name} IN ({', '.join(str(g) for g in gammas) or 'NULL'})"
            for name, gammas in household.differ.items()
        )
        or "FALSE"
    )
    ratio = [number(math.log2(household.prior / household.allowed / unrelated))]
    for c in model.comparisons:
        h = household.h.get(c.name, {})
        gap = {lv.gamma: math.log2(lv.m / h[lv.gamma]) for lv in c.levels if lv.gamma in h}
        ratio.append(f"bf_{c.name} - {_case(f'gamma_{c.name}', gap)}")
    total = f"least({' + '.join(ratio)}, 1000.0)"
    return f"(CASE WHEN {one_person} THEN 0.0 ELSE -log2(1.0 + pow(2.0, {total})) END)"


def _blocked_sql(household: HouseholdParams) -> str:
    """log2 odds of one customer among the blocked pairs (household.blocked_log_odds)."""
    number = Dialect.number
    differ = household.differ
    allowed = (
        "TRUE"
        if not differ or not all(differ.values())  # nothing to agree on: always allowed
        else " OR ".join(
            f"gamma_{name} NOT IN ({', '.join(str(g) for g in gammas)})"
            for name, gammas in differ.items()
        )
    )
    log_m = [number(math.log(max(household.match_share, 1e-12)))]
    log_h = [
        number(
            math.log(max(household.blocked_share, 1e-12)) - math.log(max(household.allowed, 1e-12))
        )
    ]
    log_v = [number(math.log(max(household.unrelated_share, 1e-12)))]
    for name in household.match_m:
        skip = set(household.mirrored.get(name, []))
        for terms, shares in (
            (log_m, household.match_m[name]),
            (log_h, household.h.get(name, {})),
            (log_v, household.unrelated.get(name, {})),
        ):
            mapping = {g: math.log(max(v, 1e-12)) for g, v in shares.items() if g not in skip}
            terms.append(_case(f"gamma_{name}", mapping))
    lm, lh, lv = (f"({' + '.join(t)})" for t in (log_m, log_h, log_v))
    top = f"(CASE WHEN {allowed} THEN greatest({lh}, {lv}) ELSE {lv} END)"
    rest = f"(exp({lv} - {top}) + CASE WHEN {allowed} THEN exp({lh} - {top}) ELSE 0.0 END)"
    return f"(({lm} - {top} - ln({rest})) / {number(math.log(2.0))})"


def rule_labels(spec: MatchingSpec, dialect: Dialect = DUCKDB) -> str:
    whens = " ".join(
        f"WHEN {i} THEN {dialect.text(rule.label)}" for i, rule in enumerate(spec.blocking)
    )
    return f"CASE _rule {whens} END"
