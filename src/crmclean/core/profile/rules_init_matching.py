"""The matching section `rules init` writes: blocking within a pairs budget, comparisons and
thresholds modelled on rules/company.yaml, chosen by which identifying columns the data has.

A blocking rule costs sum(n * (n - 1) / 2) pairs over its key values (n records sharing one).
Divided by the rows it is the pairs per record; a rule above the budget is tightened by one more
key column, or dropped. Blocks above `max_block_size` count too: dedupe would skip them, so a
rule made mostly of them finds little and is tightened like an expensive one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

MAX_BLOCK_SIZE = 50
# Candidate pairs per record one blocking rule may add, and all of them together. On 1M synth
# rows company.yaml's rules cost about 2.7 in all; one more rule at 2.9 (first + last name +
# city) took dedupe from 2.0 to 2.8 GB and found no more true pairs.
RULE_BUDGET = 2.0
TOTAL_BUDGET = 10.0
MIN_PRESENT = 0.05  # a key missing in 95% of rows finds almost nothing

# Candidate rules in company.yaml's order: an identifier alone, then name + place or birthday,
# then address, then combinations that survive one changed field (a married name, a move).
# A key column is a role when the rule reads the cleaned column itself (phone, street, city).
CANDIDATES: list[list[str]] = [
    ["email_key"],
    ["phone"],
    ["last_name_metaphone", "postcode_key", "first_name_initial"],
    ["dob_iso", "last_name_cologne"],
    ["dob_iso", "first_name_key"],
    ["first_name_key", "last_name_key", "postcode_key"],
    ["street", "city", "first_name_initial"],
    ["street", "postcode_key"],
    ["first_name_key", "last_name_key", "city"],
    ["first_name_key", "phone_key"],
    ["first_name_key", "last_name_metaphone"],
    ["dob_iso", "city_key"],
]
# Token blocking on the words of the name (company.yaml): a record joins one block per word, so
# it meets its twin through any two name words (swapped, or a surname only its e-mail spells)
# or one name word with the birth date or postcode (a new surname, a nickname, a typo). Names
# alone are evidence only while few records share them: small blocks only.
WORD_RULES: list[tuple[list[str], str, int | None]] = [
    (["name_pairs"], "two name words", 10),
    (["name_words", "dob_iso"], "name word + birth date", None),
    (["name_words", "postcode_key"], "name word + postcode", 8),
]
WORD_COLUMNS = {"name_words", "name_pairs"}
# A file with one name column (no first name): the name alone, tightened when names repeat.
# Beside a first name it only adds pairs (3.6 per record at 1M) that the rules above find.
NAME_ONLY = [["last_name_key"]]
TIGHTEN = ["first_name_initial", "postcode_key", "city", "last_name_metaphone", "dob_iso"]
ROLE_KEYS = {"phone", "street", "city"}  # rule columns that are roles, not derived keys
# Keys equal whenever another is: the same first name has the same initial.
IMPLIES = {"first_name_key": "first_name_initial", "last_name_key": "last_name_metaphone"}


class NothingToMatch(ValueError):
    """The data has no column that identifies a person (name, e-mail, phone, address)."""


@dataclass(frozen=True)
class BlockingEstimate:
    columns: list[str]  # as written in the rule file
    pairs_per_record: float
    skipped_blocks: int  # blocks above max_block_size (placeholders, shared addresses)
    decision: str  # kept, tightened (from ...), dropped (...)
    name: str | None = None  # a token-blocking rule: its name (any_word on its word columns)
    max_block_size: int | None = None

    def written(self) -> list[str] | dict[str, Any]:
        """The rule as the rule file holds it."""
        if self.name is None:
            return self.columns
        words = [c for c in self.columns if c in WORD_COLUMNS]
        rule: dict[str, Any] = {"columns": self.columns, "any_word": words, "name": self.name}
        if self.max_block_size is not None:
            rule["max_block_size"] = self.max_block_size
        return rule


def matching_section(
    keys: pl.DataFrame, roles: dict[str, str], rows: int
) -> tuple[dict[str, Any], list[BlockingEstimate]]:
    """`matching:` for a cleaned frame with its derived keys; `roles`: role -> column."""
    estimates = choose_blocking(keys, roles, rows)
    estimates += _word_rules(keys, rows, sum(e.pairs_per_record for e in _kept(estimates)))
    kept = [e.written() for e in _kept(estimates)]
    comparisons = comparisons_for(roles)
    if not kept or not comparisons:
        raise NothingToMatch("no identifying columns to match on")
    section: dict[str, Any] = {
        "blocking": kept,
        "max_pairs_per_rule": 20_000_000,
        "max_block_size": MAX_BLOCK_SIZE,
        "comparisons": comparisons,
        "thresholds": {"auto_merge": 0.997, "review": 0.5},
        "clustering": {"max_cluster_size": 25, "min_density": 0.6, "bridge_probability": 0.99},
    }
    return section, estimates


def _kept(estimates: list[BlockingEstimate]) -> list[BlockingEstimate]:
    return [e for e in estimates if not e.decision.startswith("dropped")]


def _word_rules(keys: pl.DataFrame, rows: int, spent: float) -> list[BlockingEstimate]:
    """The token-blocking rules whose columns the data has, each within the budgets."""
    out = []
    for columns, name, largest in WORD_RULES:
        if not all(c in keys.columns and _present(keys, c) >= MIN_PRESENT for c in columns):
            continue
        pairs, skipped = _word_pairs_cost(keys, columns, largest or MAX_BLOCK_SIZE)
        per_record = round(pairs / max(rows, 1), 3)
        if per_record > RULE_BUDGET:
            decision = f"dropped (over {RULE_BUDGET:g} pairs per record)"
        elif spent + per_record > TOTAL_BUDGET:
            decision = f"dropped (all rules together over {TOTAL_BUDGET:g} pairs per record)"
        else:
            decision, spent = "kept", spent + per_record
        out.append(BlockingEstimate(columns, per_record, skipped, decision, name, largest))
    return out


def _word_pairs_cost(keys: pl.DataFrame, columns: list[str], largest: int) -> tuple[int, int]:
    """Pairs within the blocks of at most `largest` records, and the blocks above it, of a rule
    whose word columns put a record into one block per word."""
    frame = keys.select(pl.col(columns).cast(pl.String)).drop_nulls()
    for column in columns:
        if column in WORD_COLUMNS:
            frame = frame.with_columns(pl.col(column).str.split(" ")).explode(column)
    sizes = (
        frame.filter(pl.all_horizontal(pl.col(columns).str.len_chars() > 0)).group_by(columns).len()
    )
    n = pl.col("len").cast(pl.Int64)
    found = sizes.select(
        pl.when(n <= largest).then(n * (n - 1) // 2).otherwise(0).sum().alias("pairs"),
        (n > largest).sum().alias("skipped"),
    )
    return int(found.item(0, "pairs") or 0), int(found.item(0, "skipped") or 0)


def choose_blocking(keys: pl.DataFrame, roles: dict[str, str], rows: int) -> list[BlockingEstimate]:
    available = {k for k in keys.columns if keys.get_column(k).null_count() < keys.height}
    usable = {c for c in available if _present(keys, c) >= MIN_PRESENT}

    def written(rule: list[str]) -> list[str] | None:
        """The rule with role keys as the data's column names; None if a key is unusable."""
        out = []
        for key in rule:
            if key in ROLE_KEYS and key not in roles:
                return None
            column = roles[key] if key in ROLE_KEYS else key
            if column not in usable:
                return None
            out.append(column)
        return out

    rules = CANDIDATES + ([] if "first_name" in roles else NAME_ONLY)
    candidates = [r for r in (written(rule) for rule in rules) if r is not None]
    tighter = [c for c in (written([k]) for k in TIGHTEN) if c is not None]
    costs = _pairs(keys, candidates + [r + t for r in candidates for t in tighter if t[0] not in r])
    out: list[BlockingEstimate] = []
    total = 0.0
    for candidate in candidates:
        rule, decision = _within_budget(candidate, tighter, costs, rows)
        cost, skipped = costs[tuple(rule)]
        per_record = round(cost / max(rows, 1), 3)
        kept = [o.columns for o in out if not o.decision.startswith("dropped")]
        implied = set(rule) | {IMPLIES[k] for k in rule if k in IMPLIES}
        inside = next((k for k in kept if set(k) <= implied), None)
        if decision.startswith("dropped"):
            pass
        elif inside is not None and decision != "kept":
            # tightened into one already kept (company.yaml's own overlaps stay: each rule is
            # also a training session, and a tighter rule keeps blocks the looser one skips)
            decision = f"dropped (its pairs are all in [{', '.join(inside)}])"
        elif total + per_record > TOTAL_BUDGET:
            decision = f"dropped (all rules together over {TOTAL_BUDGET:g} pairs per record)"
        else:
            total += per_record
        if not any(o.columns == rule for o in out):  # two candidates tightened alike
            out.append(BlockingEstimate(rule, per_record, skipped, decision))
    return out


def _within_budget(
    rule: list[str],
    tighter: list[list[str]],
    costs: dict[tuple[str, ...], tuple[int, int]],
    rows: int,
) -> tuple[list[str], str]:
    """The rule as it is, or with the first extra key that brings it under the budget."""
    alone = costs[tuple(rule)][0] / max(rows, 1)
    if alone <= RULE_BUDGET:
        return rule, "kept"
    options = [rule + t for t in tighter if t[0] not in rule]
    fits = [o for o in options if costs[tuple(o)][0] / max(rows, 1) <= RULE_BUDGET]
    if fits:
        return fits[0], f"tightened (alone {alone:.2f} pairs per record)"
    return rule, f"dropped (over {RULE_BUDGET:g} pairs per record even tightened)"


def _present(keys: pl.DataFrame, column: str) -> float:
    return 1 - keys.get_column(column).null_count() / max(keys.height, 1)


def _pairs(keys: pl.DataFrame, rules: list[list[str]]) -> dict[tuple[str, ...], tuple[int, int]]:
    """Per rule: pairs within its blocks, and the blocks above MAX_BLOCK_SIZE."""
    unique = list(dict.fromkeys(tuple(r) for r in rules))
    queries = [
        keys.lazy()
        .select(pl.col(list(rule)).cast(pl.String))
        .drop_nulls()
        .filter(pl.all_horizontal(pl.col(list(rule)).str.len_chars() > 0))
        .group_by(list(rule))
        .agg(pl.len().alias("n"))
        .select(
            (pl.col("n").cast(pl.Int64) * (pl.col("n") - 1) // 2).sum().alias("pairs"),
            (pl.col("n") > MAX_BLOCK_SIZE).sum().alias("skipped"),
        )
        for rule in unique
    ]
    results = pl.collect_all(queries)
    return {
        rule: (int(found.item(0, "pairs") or 0), int(found.item(0, "skipped") or 0))
        for rule, found in zip(unique, results, strict=True)
    }


def comparisons_for(roles: dict[str, str]) -> list[dict[str, Any]]:
    """company.yaml's comparisons for the roles present."""
    has = set(roles)
    out: list[dict[str, Any]] = []
    both_names = {"first_name", "last_name"} <= has
    if "first_name" in has:
        levels: list[Any] = [None, "exact", _jw(0.92)]
        if both_names:
            levels.append({"type": "swapped", "other": "last_name_key", "threshold": 0.88})
        levels.append("initial")  # J. and John
        out.append(_names("first_name", "first_name_key", [*levels, _jw(0.80), "else"]))
    if "last_name" in has:
        levels = [None, "exact", _jw(0.92)]
        if both_names:  # a swap is one fact, seen on both names
            levels.append({"type": "swapped", "other": "first_name_key", "threshold": 0.88})
        out.append(_names("last_name", "last_name_key", [*levels, _jw(0.80), "else"]))
    if "date_of_birth" in has:
        out.append(
            {
                "name": "date_of_birth",
                "column": "dob_iso",
                "levels": [
                    None,
                    "exact",
                    "date_swapped",
                    {"type": "similarity", "metric": "levenshtein", "threshold": 1},
                    {"type": "date_within", "days": 366},
                    {"type": "date_within", "days": 5479},  # beyond: a generation apart
                    "else",
                ],
            }
        )
    if "email" in has:
        email: dict[str, Any] = {"name": "email", "column": "email_key", "term_frequency": True}
        if "last_name" in has:
            email["conditional_u"] = ["last_name"]
        email["levels"] = [
            None,
            "exact",
            {"type": "similarity", "metric": "levenshtein", "threshold": 2},
            "else",
        ]
        out.append(email)
    contact = _contact(roles)
    if contact:
        out.append(contact)
    return out


def _jw(threshold: float) -> dict[str, Any]:
    return {"type": "similarity", "metric": "jaro_winkler", "threshold": threshold}


def _names(name: str, column: str, levels: list[Any]) -> dict[str, Any]:
    return {"name": name, "column": column, "term_frequency": True, "levels": levels}


def _contact(roles: dict[str, str]) -> dict[str, Any] | None:
    """Address and phone in one comparison, as in company.yaml: a household shares both."""
    street, phone, city = roles.get("street"), roles.get("phone"), roles.get("city")
    postcode = "postcode_key" if "postcode" in roles else None
    place = [c for c in (postcode, city) if c]
    base = street or phone or postcode or city
    if base is None:
        return None
    levels: list[Any] = [{"type": "null", "columns": [c for c in (street, phone) if c] or [base]}]
    if street and place:
        near = {"requires_equal": [place[0]]}
        if phone:
            levels += [
                {
                    "type": "exact",
                    "requires_equal": [place[0], phone],
                    "label": "same address and phone",
                },
                {
                    **_similar_street(),
                    "requires_equal": [place[0], phone],
                    "label": "similar address and same phone",
                },
                {  # a household: same address, each its own phone (EM learns how often)
                    "type": "different",
                    "column": phone,
                    "requires_equal": [street, place[0]],
                    "label": "same address and other phone",
                },
            ]
        levels += [
            {"type": "exact", **near, "label": "same address"},
            {**_similar_street(), **near, "label": "similar address"},
        ]
    if phone:
        levels += [
            {"type": "exact", "column": phone, "label": "same phone"},
            {
                "type": "similarity",
                "metric": "levenshtein",
                "threshold": 1,
                "column": phone,
                "label": "phone one edit apart",
            },
        ]
    if postcode:
        levels.append({"type": "exact", "column": postcode, "label": "same postcode"})
    if street and postcode and city:  # a postcode typo or a new postcode for the same street
        levels.append(
            {
                **_similar_street(),
                "requires_equal": [city],
                "label": "similar street in the same city",
            }
        )
    if phone:
        levels.append({"type": "different", "column": phone, "label": "other phone"})
    if city:
        levels.append({"type": "exact", "column": city, "label": "same city"})
    levels.append("else")
    return {"name": "contact", "column": base, "levels": levels}


def _similar_street() -> dict[str, Any]:
    return {"type": "similarity", "metric": "token_set_ratio", "threshold": 85}
