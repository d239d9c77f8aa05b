"""Blocking, clustering, evaluation, decisions and model IO on small hand-made frames."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.core.matching import decisions
from crmclean.core.matching.blocking import BlockingTooLarge, block
from crmclean.core.matching.clustering import cluster, components
from crmclean.core.matching.evaluation import evaluate
from crmclean.core.matching.spec import BlockingRule, ClusteringSpec, MatchingSpec


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": ["1", "2", "3", "4", "5", "6"],
            "email": ["a@x", "A@x ", "b@x", None, "", "b@x"],
            "last": ["meier", "meier", "meier", "schulz", "schulz", "meier"],
            "pc": ["1", "1", "2", "3", "3", "2"],
        }
    )


def _pairs(result_pairs: pl.DataFrame) -> set[tuple[int, int]]:
    return set(zip(result_pairs["row_l"].to_list(), result_pairs["row_r"].to_list(), strict=True))


def test_blocking_unites_rules_each_pair_once() -> None:
    rules = [BlockingRule(columns=["email"]), BlockingRule(columns=["last", "pc"])]
    result = block(_frame(), rules, max_pairs_per_rule=100, max_block_size=100)
    # email (trimmed, lower-cased; null and empty never block): (0,1) (2,5);
    # last+pc: (0,1) (2,5) (3,4)
    assert _pairs(result.pairs) == {(0, 1), (2, 5), (3, 4)}
    assert result.pairs.height == 3
    assert (result.pairs["row_l"] < result.pairs["row_r"]).all()
    first = dict(zip(_pairs(result.pairs), result.pairs["_rule"].to_list(), strict=True))
    assert first[(3, 4)] == 1 and first[(0, 1)] == 0
    masks = dict(zip(_pairs(result.pairs), result.pairs["_rules"].to_list(), strict=True))
    assert masks[(0, 1)] == 0b11 and masks[(3, 4)] == 0b10
    assert [s.pairs for s in result.rules] == [2, 3]
    assert [s.new_pairs for s in result.rules] == [2, 1]


def test_blocking_refuses_a_rule_above_the_limit_unless_forced() -> None:
    frame = pl.DataFrame({"record_id": [str(i) for i in range(10)], "k": ["x"] * 10})
    with pytest.raises(BlockingTooLarge, match="45 pairs") as info:
        block(frame, [BlockingRule(columns=["k"])], max_pairs_per_rule=10, max_block_size=100)
    assert "--force" in str(info.value)
    forced = block(
        frame, [BlockingRule(columns=["k"])], max_pairs_per_rule=10, max_block_size=100, force=True
    )
    assert forced.pairs.height == 45


def test_blocking_skips_and_reports_oversized_blocks() -> None:
    frame = pl.DataFrame({"record_id": [str(i) for i in range(8)], "k": ["x"] * 6 + ["y"] * 2})
    result = block(frame, [BlockingRule(columns=["k"])], max_pairs_per_rule=100, max_block_size=5)
    assert _pairs(result.pairs) == {(6, 7)}
    stats = result.rules[0]
    assert stats.skipped_blocks == 1 and stats.skipped_pairs == 15
    assert stats.skipped_examples == [("x", 6)]


def test_a_rule_may_skip_smaller_blocks_than_the_default() -> None:
    # a key of names alone: a block of three namesakes is evidence, one of six is not
    frame = pl.DataFrame(
        {"record_id": [str(i) for i in range(9)], "k": ["x"] * 6 + ["y"] * 3, "e": ["a"] * 9}
    )
    rules = [BlockingRule(columns=["k"], max_block_size=3), BlockingRule(columns=["e"])]
    result = block(frame, rules, max_pairs_per_rule=100, max_block_size=5)
    assert result.rules[0].skipped_blocks == 1 and result.rules[0].pairs == 3  # y's block
    assert result.rules[1].skipped_blocks == 1 and result.rules[1].pairs == 0  # 9 > 5


def _union_find(n: int, edges: list[tuple[int, int]]) -> list[int]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        parent[max(ra, rb)] = min(ra, rb)
    return [min(i for i in range(n) if find(i) == find(x)) for x in range(n)]


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=40),
        )
    )
)
def test_components_match_union_find(case: tuple[int, list[tuple[int, int]]]) -> None:
    n, edges = case
    left = np.array([a for a, _ in edges], dtype=np.int64)
    right = np.array([b for _, b in edges], dtype=np.int64)
    assert components(n, left, right).tolist() == _union_find(n, edges)


def _edges(items: list[tuple[int, int, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row_l": [a for a, _, _ in items],
            "row_r": [b for _, b, _ in items],
            "match_probability": [p for *_, p in items],
        },
        schema={"row_l": pl.Int64, "row_r": pl.Int64, "match_probability": pl.Float64},
    )


def _rows(items: list[tuple[int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {"row_l": [a for a, _ in items], "row_r": [b for _, b in items]},
        schema={"row_l": pl.Int64, "row_r": pl.Int64},
    )


SPEC = ClusteringSpec(max_cluster_size=4, bridge_probability=0.99)


def test_cluster_guards_cut_weak_bridges_and_oversized_clusters() -> None:
    # 0-1-2 held strongly; 3-4 strongly; a single 0.96 edge 2-3 would chain them: cut.
    edges = _edges([(0, 1, 0.999), (1, 2, 0.999), (3, 4, 0.999), (2, 3, 0.96), (5, 6, 0.96)])
    labels, cut, stats = cluster(8, edges, SPEC, 0.95)
    assert labels.tolist() == [0, 0, 0, 3, 3, 5, 5, 7]
    assert cut.select("row_l", "row_r").rows() == [(2, 3)]
    # a chain of 6 strong edges exceeds max_cluster_size 4: split at rising thresholds
    chain = _edges([(i, i + 1, 0.9999 if i != 2 else 0.991) for i in range(6)])
    labels, cut, stats = cluster(7, chain, SPEC, 0.95)
    assert np.bincount(labels).max() <= 4
    assert stats["clusters_split"] >= 1 and cut.height >= 1


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14), st.floats(0.9, 1.0)), max_size=40),
    st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14)), max_size=4),
    st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14)), max_size=4),
)
def test_clustering_covers_every_record_and_honours_decisions(
    raw: list[tuple[int, int, float]], must: list[tuple[int, int]], cannot: list[tuple[int, int]]
) -> None:
    norm = lambda a, b: (min(a, b), max(a, b))  # noqa: E731
    edges = sorted({norm(a, b): p for a, b, p in raw if a != b}.items())
    must_pairs = sorted({norm(a, b) for a, b in must if a != b})
    cannot_pairs = sorted({norm(a, b) for a, b in cannot if a != b} - set(must_pairs))
    labels, _, stats = cluster(
        15,
        _edges([(a, b, p) for (a, b), p in edges]),
        SPEC,
        0.95,
        must_link=_rows(must_pairs),
        cannot_link=_rows(cannot_pairs),
    )
    assert len(labels) == 15 and all(labels[labels] == labels)  # every record once, a root id
    for a, b in cannot_pairs:
        assert labels[a] != labels[b]
    if stats["decision_conflicts"] == 0:
        for a, b in must_pairs:
            assert labels[a] == labels[b]


def test_evaluation_counts_pairs_and_bcubed() -> None:
    clusters = pl.DataFrame({"record_id": list("abcde"), "cluster_id": ["1", "1", "1", "4", "5"]})
    truth = pl.DataFrame({"record_id": list("abcde"), "entity_id": ["x", "x", "y", "y", "z"]})
    result = evaluate(clusters, truth)
    assert (result.true_pairs, result.predicted_pairs, result.correct_pairs) == (2, 3, 1)
    assert result.pairwise.precision == pytest.approx(1 / 3)
    assert result.pairwise.recall == pytest.approx(1 / 2)
    # B-cubed precision: a,b 2/3, c 1/3, d 1, e 1 -> 11/15; recall: a,b 1, c 1/2, d 1/2, e 1
    assert result.bcubed.precision == pytest.approx(11 / 15)
    assert result.bcubed.recall == pytest.approx(4 / 5)
    perfect = evaluate(truth.rename({"entity_id": "cluster_id"}), truth)
    assert perfect.pairwise.f1 == 1.0 and perfect.bcubed.f1 == 1.0


def test_decisions_last_row_wins_and_ids_are_ordered() -> None:
    frame = pl.DataFrame(
        [
            decisions.decision_row("9", "2", "match"),
            decisions.decision_row("2", "9", "no_match"),
            decisions.decision_row("3", "4", "match"),
        ]
    )
    assert decisions.problems(frame) == []
    normal = decisions.normalise(frame)
    assert normal.rows() == [("2", "9", "no_match"), ("3", "4", "match")]
    bad = frame.with_columns(pl.lit("maybe").alias("decision"))
    assert "match or no_match" in decisions.problems(bad)[0]
    assert "lacks" in decisions.problems(frame.drop("decision"))[0]
    with pytest.raises(ValueError):
        decisions.decision_row("1", "2", "perhaps")


def test_matching_spec_rejects_misordered_levels_and_unknown_training_rules() -> None:
    base = {
        "blocking": [["email"]],
        "comparisons": [{"name": "e", "column": "email", "levels": ["exact", "else"]}],
    }
    MatchingSpec.model_validate(base)
    with pytest.raises(ValueError, match="else level must come last"):
        MatchingSpec.model_validate(
            {**base, "comparisons": [{"name": "e", "column": "email", "levels": ["else", "exact"]}]}
        )
    with pytest.raises(ValueError, match="unknown rules"):
        MatchingSpec.model_validate({**base, "training": {"blocking": ["[phone]"]}})
    with pytest.raises(ValueError, match="review must not exceed"):
        MatchingSpec.model_validate({**base, "thresholds": {"auto_merge": 0.5, "review": 0.9}})
    assert list(
        itertools.chain.from_iterable(r.columns for r in MatchingSpec.model_validate(base).blocking)
    ) == ["email"]


def test_sparse_chains_are_split_but_dense_clusters_stay() -> None:
    spec = ClusteringSpec(max_cluster_size=25, min_density=0.6, bridge_probability=0.99)
    chain = _edges([(i, i + 1, 0.9995 if i % 2 else 0.99999) for i in range(4)])  # 5 records
    clique = _edges([(a, b, 0.9995) for a, b in itertools.combinations(range(5, 10), 2)])
    labels, cut, stats = cluster(10, pl.concat([chain, clique]), spec, 0.999)
    assert np.bincount(labels[:5]).max() < 5  # the chain came apart ...
    assert set(labels[5:].tolist()) == {5}  # ... the clique did not
    assert stats["clusters_split"] >= 1
    assert {r.split(" (")[0] for r in cut["reason"]} == {"chained"}
    assert all(r.endswith("< min_density 0.6)") for r in cut["reason"])


def test_the_review_reason_names_the_guard_that_fired() -> None:
    spec = ClusteringSpec(max_cluster_size=4, min_density=0.6, bridge_probability=0.9995)
    big = _edges([(a, b, 0.9995) for a, b in itertools.combinations(range(6), 2)])  # 6 > 4
    pair_with_veto = _edges([(10, 11, 0.9999), (11, 12, 0.9999), (10, 12, 0.9999)])
    # two cliques of three joined by one edge below bridge_probability
    bridged = _edges(
        [(a, b, 0.99999) for a, b in itertools.combinations(range(20, 23), 2)]
        + [(a, b, 0.99999) for a, b in itertools.combinations(range(23, 26), 2)]
        + [(22, 23, 0.9992)]
    )
    cannot = pl.DataFrame({"row_l": [10], "row_r": [12]})
    _, cut, _ = cluster(
        30, pl.concat([big, pair_with_veto, bridged]), spec, 0.999, cannot_link=cannot
    )
    reasons = {(int(a), int(b)): r for a, b, r in cut.select("row_l", "row_r", "reason").rows()}
    assert {reasons[k] for k in reasons if k[0] < 6} == {
        "cluster too large (6 records > max_cluster_size 4)"
    }
    assert {reasons[k] for k in reasons if 10 <= k[0] < 13} == {"cannot-link inside the cluster"}
    assert reasons[(22, 23)].startswith("bridge: the only edge joining two groups")
    assert not any("or" in r.split(" (")[0] for r in reasons.values())


def _company_matching() -> MatchingSpec:
    from pathlib import Path

    from crmclean.config import load_rules

    rules = load_rules(Path(__file__).resolve().parents[1] / "rules" / "company.yaml").rules
    assert rules.matching is not None
    return rules.matching


def _tiny_customers(ids: list[str]) -> pl.DataFrame:
    """A cleaned table with every column the company matching section reads."""
    spec = _company_matching()
    columns = sorted(
        {c for rule in spec.blocking for c in rule.columns}
        | {c for comparison in spec.comparisons for c in _used(comparison)}
    )
    return pl.DataFrame({"record_id": ids, **{c: ["x"] * len(ids) for c in columns}})


def _used(comparison: object) -> list[str]:
    from crmclean.core.matching.comparing import used_columns

    return list(used_columns(comparison))  # type: ignore[arg-type]


def test_a_tiny_input_with_no_candidate_pairs_trains_without_warnings() -> None:
    import warnings

    from crmclean.core.matching import dedupe

    frame = _tiny_customers(["a"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = dedupe(frame, _company_matching())
    assert result.clusters.get_column("record_id").to_list() == ["a"]


def test_repeated_record_ids_are_named_in_the_error() -> None:
    from crmclean.core.matching import dedupe
    from crmclean.errors import InputError

    with pytest.raises(InputError, match=r"1 ids repeat \(e\.g\. 'b'\)"):
        dedupe(_tiny_customers(["a", "b", "b"]), _company_matching())
