"""Blocking rules as SQL, shared by the DuckDB and Spark engines (each runs the queries and keeps
the tables its own way), with core/matching/blocking.py's semantics: keys trimmed and
lower-cased, a record with an empty key part joins no block, `any_word` columns split at spaces
(one block per word), blocks above max_block_size skipped and reported, a rule above max_pairs
refused before a pair is built (`checked`), a pair found by a rule with the rule's index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from crmclean.core.matching.blocking import BlockingTooLarge
from crmclean.core.matching.spec import BlockingRule, MatchingSpec
from crmclean.engines.sql.dialect import Dialect


def _parts(rule: BlockingRule) -> list[str]:
    return [f"_c{i}" for i in range(len(rule.columns))]


def members_sql(rule: BlockingRule, dialect: Dialect) -> str:
    """`_row` and the key parts `_c0..` of every record (of `records`) with a complete key."""
    parts = _parts(rule)
    selects, laterals = [], []
    for i, (column, part) in enumerate(zip(rule.columns, parts, strict=True)):
        if column in rule.any_word:
            select, lateral = dialect.words(dialect.key(column), part, i)
            selects.append(select)
            laterals.append(lateral)
        else:
            selects.append(f"{dialect.key(column)} AS {part}")
    inner = f"SELECT _row, {', '.join(selects)} FROM records {' '.join(laterals)}"
    complete = " AND ".join(f"{p} IS NOT NULL AND {p} <> ''" for p in parts)
    distinct = "DISTINCT " if rule.any_word else ""
    return f"SELECT {distinct}_row, {', '.join(parts)} FROM ({inner}) _m WHERE {complete}"


def blocks_sql(rule: BlockingRule) -> str:
    """The blocks of two or more `_members`: key parts, size `_n`, smallest row `_block`."""
    parts = ", ".join(_parts(rule))
    return (
        f"SELECT {parts}, count(*) AS _n, min(_row) AS _block FROM _members "
        f"GROUP BY {parts} HAVING count(*) >= 2"
    )


def allowed(rule: BlockingRule, spec: MatchingSpec) -> int:
    return rule.max_block_size or spec.max_block_size


def kept_sql(allowed: int, dialect: Dialect) -> str:
    """Blocks kept, their pairs, the largest block and its pairs (one row)."""
    pairs = f"_n * (_n - 1) {dialect.int_div} 2"
    return (
        f"SELECT count(*), coalesce(sum({pairs}), 0), coalesce(max(_n), 0), "
        f"coalesce(max({pairs}), 0) FROM _blocks WHERE _n <= {allowed}"
    )


def skipped_sql(allowed: int, dialect: Dialect) -> str:
    """Blocks skipped for their size and the pairs they would have made (one row)."""
    pairs = f"_n * (_n - 1) {dialect.int_div} 2"
    return f"SELECT count(*), coalesce(sum({pairs}), 0) FROM _blocks WHERE _n > {allowed}"


def checked(rule: BlockingRule, spec: MatchingSpec, kept: Sequence[Any], force: bool) -> None:
    """Refuse a rule whose kept blocks would make more pairs than its limit (unless forced)."""
    pairs_total, largest = int(kept[1]), int(kept[2])
    limit = rule.max_pairs or spec.max_pairs_per_rule
    if pairs_total > limit and not force:
        raise BlockingTooLarge.of(rule.label, pairs_total, limit, largest)


def examples_sql(rule: BlockingRule, allowed: int, dialect: Dialect) -> str:
    """The three largest skipped blocks: their key values (as an array) and sizes."""
    columns = ", ".join(dialect.string(f"r.{dialect.ident(c)}") for c in rule.columns)
    return (
        f"SELECT {dialect.array(columns)} AS _k, b._n FROM _blocks b "
        f"JOIN records r ON r._row = b._block "
        f"WHERE b._n > {allowed} ORDER BY b._n DESC, b._block LIMIT 3"
    )


def found_sql(rule: BlockingRule, index: int, allowed: int, rule_type: str) -> str:
    """The rule's pairs `(row_l, row_r, _rule)`: members of the same kept block, row_l < row_r."""
    parts = _parts(rule)
    distinct = "DISTINCT " if rule.any_word else ""  # two shared words: one pair
    in_block = " AND ".join(f"k.{p} = a.{p}" for p in parts)
    same = " AND ".join(f"a.{p} = b.{p}" for p in parts)
    return (
        f"SELECT {distinct}a._row AS row_l, b._row AS row_r, CAST({index} AS {rule_type}) AS _rule "
        f"FROM _members a JOIN (SELECT {', '.join(parts)} FROM _blocks WHERE _n <= {allowed}) k "
        f"ON {in_block} JOIN _members b ON {same} AND a._row < b._row"
    )


def rule_stats(
    rule: BlockingRule,
    kept: Sequence[Any],
    skipped: Sequence[Any],
    examples: Sequence[Sequence[Any]],
    pairs: int,
) -> dict[str, Any]:
    """core/matching/blocking.py's BlockingRuleStats fields but `new_pairs`, from the rows of
    kept_sql, skipped_sql and examples_sql and the rule's pair count."""
    largest_pairs = int(kept[3])
    return {
        "rule": rule.label,
        "blocks": int(kept[0]),
        "pairs": pairs,
        "largest_block": int(kept[2]),
        "top_block_share": largest_pairs / pairs if pairs else 0.0,
        "skipped_blocks": int(skipped[0]),
        "skipped_pairs": int(skipped[1]),
        "skipped_examples": [
            ("|".join("None" if v is None else v for v in values), int(n)) for values, n in examples
        ],
    }
