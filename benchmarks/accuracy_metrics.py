"""Pair-level measures for bench_accuracy.py: blocking recall, recall by kind of difference and
by source, false merges by relation (household, Jr/Sr, twin). Pure polars over record-id pairs.

A pair is (record_id_l, record_id_r) with record_id_l < record_id_r, record ids as strings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

L, R = "record_id_l", "record_id_r"


def ordered(pairs: pl.DataFrame) -> pl.DataFrame:
    a, b = pl.col(L).cast(pl.String), pl.col(R).cast(pl.String)
    return pairs.select(pl.min_horizontal(a, b).alias(L), pl.max_horizontal(a, b).alias(R)).unique()


def pairs_within(groups: pl.DataFrame, id_column: str, group_column: str) -> pl.DataFrame:
    """Every pair of records that share a group (an entity of the truth, a cluster)."""
    members = groups.select(
        pl.col(id_column).cast(pl.String).alias("id"), pl.col(group_column).cast(pl.String)
    )
    sized = members.join(
        members.group_by(group_column).len().filter(pl.col("len") > 1), on=group_column
    )
    joined = sized.join(sized, on=group_column, suffix="_r").filter(pl.col("id") < pl.col("id_r"))
    return joined.select(pl.col("id").alias(L), pl.col("id_r").alias(R))


def reblocked(out: Path, rules: Path) -> tuple[Any, pl.DataFrame, Any]:
    """The matching spec, dedupe's prepared records (from its clean.parquet) and crmclean's own
    blocking of them, recomputed (not timed)."""
    from crmclean.config import load_rules
    from crmclean.core.matching import _prepare
    from crmclean.core.matching.blocking import block

    spec = load_rules(rules).rules.matching
    assert spec is not None
    prepared = _prepare(pl.read_parquet(out / "clean.parquet"), spec)
    blocked = block(
        prepared,
        spec.blocking,
        max_pairs_per_rule=spec.max_pairs_per_rule,
        max_block_size=spec.max_block_size,
        force=True,
    )
    return spec, prepared, blocked


def candidate_pairs(out: Path, rules: Path) -> pl.DataFrame:
    """The pairs dedupe compared. Read from `candidates.parquet` when dedupe writes one;
    otherwise recomputed from its clean.parquet with crmclean's own blocking (not timed)."""
    written = out / "candidates.parquet"
    if written.exists():
        return ordered(pl.read_parquet(written, columns=[L, R]))
    _, prepared, blocked = reblocked(out, rules)
    ids = prepared.get_column("record_id").cast(pl.String)
    return ordered(
        pl.DataFrame(
            {
                L: ids.gather(blocked.pairs.get_column("row_l")),
                R: ids.gather(blocked.pairs.get_column("row_r")),
            }
        )
    )


def share_found(true_pairs: pl.DataFrame, found: pl.DataFrame) -> float | None:
    if true_pairs.height == 0:
        return None
    return true_pairs.join(found, on=[L, R], how="semi").height / true_pairs.height


def recall_by(
    true_pairs: pl.DataFrame,
    labels: pl.DataFrame,
    candidates: pl.DataFrame | None,
    predicted: pl.DataFrame,
) -> dict[str, dict[str, Any]]:
    """For each label (a kind of difference, a source), the true pairs with a labelled record
    on either side: how many, the share among candidates and the share clustered together."""
    labels = labels.select(pl.col("record_id").cast(pl.String), pl.col("label").cast(pl.String))
    tagged = pl.concat(
        [true_pairs.join(labels.rename({"record_id": side}), on=side) for side in (L, R)]
    ).unique()
    out: dict[str, dict[str, Any]] = {}
    for (label,), group in sorted(tagged.group_by("label"), key=lambda g: str(g[0][0])):
        pairs = group.select(L, R)
        out[str(label)] = {
            "true_pairs": pairs.height,
            "blocking_recall": _round(share_found(pairs, candidates))
            if candidates is not None
            else None,
            "recall": _round(share_found(pairs, predicted)),
        }
    return out


def false_merges_by_relation(
    predicted: pl.DataFrame, truth: pl.DataFrame, entities: pl.DataFrame | None
) -> dict[str, int]:
    """Pairs clustered together that are different people, by how the two people relate."""
    entity = truth.select(pl.col("record_id").cast(pl.String), pl.col("entity_id").cast(pl.String))
    wrong = (
        predicted.join(entity.rename({"record_id": L, "entity_id": "e_l"}), on=L)
        .join(entity.rename({"record_id": R, "entity_id": "e_r"}), on=R)
        .filter(pl.col("e_l") != pl.col("e_r"))
    )
    if entities is None or wrong.height == 0:
        return {"all": wrong.height}
    relation_column = "relation" if "relation" in entities.columns else "kind"
    links = entities.filter(pl.col("related_entity_id").is_not_null()).select(
        pl.col("entity_id").cast(pl.String).alias("a"),
        pl.col("related_entity_id").cast(pl.String).alias("b"),
        pl.col(relation_column).cast(pl.String).alias("relation"),
    )
    links = pl.concat(
        [links, links.select(pl.col("b").alias("a"), pl.col("a").alias("b"), "relation")]
    )
    # Two people related through the same third person (two juniors of one senior) count too.
    siblings = links.join(links, on="b", suffix="_2").filter(pl.col("a") != pl.col("a_2"))
    links = pl.concat([links, siblings.select("a", pl.col("a_2").alias("b"), "relation")]).unique(
        subset=["a", "b"], keep="first"
    )
    named = wrong.join(links, left_on=["e_l", "e_r"], right_on=["a", "b"], how="left")
    counts = named.group_by(pl.col("relation").fill_null("unrelated")).len()
    result = dict(sorted(counts.iter_rows(), key=lambda r: -r[1]))
    return {"all": wrong.height, **result}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)
