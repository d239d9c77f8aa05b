"""The matching engines behind one protocol: blocking and clustering cases once per engine,
both engines agreeing on sample_data end to end, each byte-identical with itself, and the
engine choice's errors (comparator and level case tables run per engine in their own files)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.core.matching import MatchingEngine, MatchingSpec
from crmclean.core.matching.blocking import BlockingTooLarge
from crmclean.core.matching.scoring import ComparisonParams, LevelParams, MatchModel
from crmclean.core.matching.spec import BlockingRule
from crmclean.engines import open_engine
from engine_cases import ENGINES
from spark_session import spark_session

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _ids(n: int) -> list[str]:
    return [f"{i:03d}" for i in range(n)]  # sorted like their row numbers


def _spec(rules: list[BlockingRule], **options: Any) -> MatchingSpec:
    return MatchingSpec(
        blocking=rules,
        comparisons=[{"name": "c", "column": "v", "levels": ["exact", "else"]}],
        **options,
    )


def _open(engine_name: str) -> MatchingEngine:
    if engine_name == "spark":
        spark_session()  # the tests' local[2] session (skips without Java/pyspark outside CI)
    return open_engine(engine_name)


def _blocked(
    engine_name: str, frame: pl.DataFrame, rules: list[BlockingRule], **options: Any
) -> tuple[MatchingEngine, Any, pl.DataFrame]:
    frame = frame.with_columns(pl.Series("record_id", _ids(frame.height)))
    if "v" not in frame.columns:
        frame = frame.with_columns(pl.lit("x").alias("v"))
    force = options.pop("force", False)
    engine = _open(engine_name)
    engine.prepare(frame, _spec(rules, **options))
    try:
        stats = engine.block(force=force)
        return engine, stats, engine.candidate_pairs()
    finally:
        engine.close()


def _rows(pairs: pl.DataFrame) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in pairs.select("record_id_l", "record_id_r").rows()}


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "email": ["a@x", "A@x ", "b@x", None, "", "b@x"],
            "last": ["meier", "meier", "meier", "schulz", "schulz", "meier"],
            "pc": ["1", "1", "2", "3", "3", "2"],
        }
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_blocking_unites_rules_each_pair_once(engine: str) -> None:
    rules = [BlockingRule(columns=["email"]), BlockingRule(columns=["last", "pc"])]
    _, stats, pairs = _blocked(engine, _frame(), rules, max_block_size=100)
    assert _rows(pairs) == {(0, 1), (2, 5), (3, 4)} and pairs.height == 3
    masks = {(int(a), int(b)): m for a, b, _, m in pairs.rows()}
    labels = {(int(a), int(b)): rule for a, b, rule, _ in pairs.rows()}
    assert masks[(0, 1)] == 0b11 and masks[(3, 4)] == 0b10
    assert labels[(3, 4)] == rules[1].label and labels[(0, 1)] == rules[0].label
    assert [s.pairs for s in stats] == [2, 3] and [s.new_pairs for s in stats] == [2, 1]


@pytest.mark.parametrize("engine", ENGINES)
def test_blocking_refuses_a_rule_above_the_limit_unless_forced(engine: str) -> None:
    frame = pl.DataFrame({"k": ["x"] * 10})
    with pytest.raises(BlockingTooLarge, match="45 pairs"):
        _blocked(engine, frame, [BlockingRule(columns=["k"])], max_pairs_per_rule=10)
    _, _, pairs = _blocked(
        engine, frame, [BlockingRule(columns=["k"])], max_pairs_per_rule=10, force=True
    )
    assert pairs.height == 45


@pytest.mark.parametrize("engine", ENGINES)
def test_blocking_skips_and_reports_oversized_blocks(engine: str) -> None:
    frame = pl.DataFrame({"k": ["x"] * 6 + ["y"] * 2})
    _, stats, pairs = _blocked(engine, frame, [BlockingRule(columns=["k"])], max_block_size=5)
    assert _rows(pairs) == {(6, 7)}
    assert stats[0].skipped_blocks == 1 and stats[0].skipped_pairs == 15
    assert stats[0].skipped_examples == [("x", 6)]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_rule_may_skip_smaller_blocks_than_the_default(engine: str) -> None:
    frame = pl.DataFrame({"k": ["x"] * 6 + ["y"] * 3, "e": ["a"] * 9})
    rules = [BlockingRule(columns=["k"], max_block_size=3), BlockingRule(columns=["e"])]
    _, stats, _ = _blocked(engine, frame, rules, max_block_size=5)
    assert stats[0].skipped_blocks == 1 and stats[0].pairs == 3
    assert stats[1].skipped_blocks == 1 and stats[1].pairs == 0


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("words", "rule", "expected"),
    [
        (
            ["anna meier", "meier anna", "anna", "otto", None, "Meier"],
            BlockingRule(columns=["w"], any_word=["w"]),
            {(0, 1), (0, 2), (1, 2), (0, 5), (1, 5)},
        ),
        (["a b", "a", "b"], BlockingRule(columns=["w"], any_word=["w"]), {(0, 1), (0, 2)}),
    ],
)
def test_word_blocks(
    engine: str, words: list[str | None], rule: BlockingRule, expected: set[tuple[int, int]]
) -> None:
    _, _, pairs = _blocked(engine, pl.DataFrame({"w": words}, schema={"w": pl.String}), [rule])
    assert _rows(pairs) == expected


# --- clustering through the engine -----------------------------------------------------------

CLUSTERING = {"max_cluster_size": 4, "bridge_probability": 0.99}
# every pair of records could reach auto_merge (20 bits at best, 4.2 needed): the chain guard
# counts all of a cluster's pairs, as clustering.cluster does without a reach
MODEL = MatchModel(
    0.5,
    (
        ComparisonParams(
            "c", "v", (LevelParams(1, "exact", 0.99, 1e-6), LevelParams(0, "x", 0.01, 0.9))
        ),
    ),
    "test",
)


def _clustered(
    engine_name: str,
    n: int,
    edges: list[tuple[int, int, float]],
    must: list[tuple[int, int]] = (),  # type: ignore[assignment]
    cannot: list[tuple[int, int]] = (),  # type: ignore[assignment]
) -> tuple[list[str], pl.DataFrame, dict[str, Any]]:
    """Clusters of `n` records from scored pairs handed to the engine's own pair store (the
    one place a test reaches inside an engine: scoring is tested on its own)."""
    ids = _ids(n)
    spec = _spec(
        [BlockingRule(columns=["v"])],
        thresholds={"auto_merge": 0.95, "review": 0.5},
        clustering=CLUSTERING,
    )
    scored = pl.DataFrame(
        {
            "row_l": [a for a, _, _ in edges],
            "row_r": [b for _, b, _ in edges],
            "match_probability": [p for *_, p in edges],
        },
        schema={"row_l": pl.Int64, "row_r": pl.Int64, "match_probability": pl.Float64},
    )
    engine = _open(engine_name)
    engine.prepare(pl.DataFrame({"record_id": ids, "v": ["x"] * n}), spec)
    if engine_name == "polars":
        engine._pairs = scored  # type: ignore[attr-defined]
    elif engine_name == "spark":
        spark = engine.spark  # type: ignore[attr-defined]
        spark.createDataFrame(scored.to_arrow()).createOrReplaceTempView("scored")
    else:
        con = engine.con  # type: ignore[attr-defined]
        con.register("_scored", scored)
        con.execute("CREATE TABLE scored AS SELECT * FROM _scored").fetchall()

    def by_id(pairs: list[tuple[int, int]]) -> pl.DataFrame:
        return pl.DataFrame(
            {"record_id_l": [ids[a] for a, _ in pairs], "record_id_r": [ids[b] for _, b in pairs]},
            schema={"record_id_l": pl.String, "record_id_r": pl.String},
        )

    try:
        result = engine.cluster(MODEL, by_id(list(must)), by_id(list(cannot)))
    finally:
        engine.close()
    return result.clusters.get_column("cluster_id").to_list(), result.review, result.stats


@pytest.mark.parametrize("engine", ENGINES)
def test_cluster_guards_cut_weak_bridges_and_oversized_clusters(engine: str) -> None:
    edges = [(0, 1, 0.999), (1, 2, 0.999), (3, 4, 0.999), (2, 3, 0.96), (5, 6, 0.96)]
    labels, review, _ = _clustered(engine, 8, edges)
    assert labels == ["000", "000", "000", "003", "003", "005", "005", "007"]
    assert review.select("record_id_l", "record_id_r").rows() == [("002", "003")]
    chain = [(i, i + 1, 0.9999 if i != 2 else 0.991) for i in range(6)]
    labels, review, stats = _clustered(engine, 7, chain)
    assert max(labels.count(label) for label in labels) <= 4
    assert stats["clusters_split"] >= 1 and review.height >= 1


def _norm(a: int, b: int) -> tuple[int, int]:
    return min(a, b), max(a, b)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14), st.floats(0.9, 1.0)), max_size=40),
    st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14)), max_size=4),
    st.lists(st.tuples(st.integers(0, 14), st.integers(0, 14)), max_size=4),
)
@pytest.mark.duckdb
def test_both_engines_cluster_alike_and_honour_decisions(
    raw: list[tuple[int, int, float]], must: list[tuple[int, int]], cannot: list[tuple[int, int]]
) -> None:
    edges = sorted({_norm(a, b): p for a, b, p in raw if a != b}.items())
    must_pairs = sorted({_norm(a, b) for a, b in must if a != b})
    cannot_pairs = sorted({_norm(a, b) for a, b in cannot if a != b} - set(must_pairs))
    scored = [(a, b, p) for (a, b), p in edges]
    results = {e: _clustered(e, 15, scored, must_pairs, cannot_pairs) for e in ("polars", "duckdb")}
    (labels, review, stats), (other, other_review, other_stats) = results.values()
    assert labels == other and review.equals(other_review) and stats == other_stats
    assert len(labels) == 15
    for a, b in cannot_pairs:
        assert labels[a] != labels[b]


# --- end to end ------------------------------------------------------------------------------


def _run(engine: str, out: Path) -> dict[str, str]:
    if engine == "spark":
        spark_session()
    memory = ["--memory", "1GB"] if engine == "duckdb" else []
    result = runner.invoke(
        app,
        [
            "run",
            str(ROOT / "sample_data" / "customers.csv"),
            "--rules",
            str(ROOT / "rules" / "company.yaml"),
            "--out",
            str(out),
            "--engine",
            engine,
            *memory,
            "--no-report",
            "--quiet",
        ],
    )
    assert result.exit_code == 1, result.stderr  # the sample data fails error rules on purpose
    names = ["clusters.parquet", "crosswalk.parquet", "golden.parquet", "model.json"]
    return {n: hashlib.sha256((out / n).read_bytes()).hexdigest() for n in names}


def _pairwise_agreement(a: pl.DataFrame, b: pl.DataFrame) -> float:
    """Share of the record pairs placed together by either clustering that both place together."""

    def together(clusters: pl.DataFrame) -> set[tuple[str, str]]:
        joined = clusters.join(clusters, on="cluster_id", suffix="_o")
        pairs = joined.filter(pl.col("record_id") < pl.col("record_id_o"))
        return set(pairs.select("record_id", "record_id_o").rows())

    left, right = together(a), together(b)
    return len(left & right) / max(len(left | right), 1)


@pytest.mark.duckdb
def test_sample_data_gives_the_same_golden_records_on_both_engines(tmp_path: Path) -> None:
    polars = _run("polars", tmp_path / "polars")
    duckdb = _run("duckdb", tmp_path / "duckdb")
    again = _run("duckdb", tmp_path / "again")
    assert duckdb == again  # byte-identical with itself
    a = pl.read_parquet(tmp_path / "polars" / "clusters.parquet")
    b = pl.read_parquet(tmp_path / "duckdb" / "clusters.parquet")
    assert _pairwise_agreement(a, b) >= 0.999
    # on sample_data nothing differs at all: the same model, clusters, golden records and ids
    assert polars == duckdb


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--engine", "flink"], "--engine: unknown engine 'flink'"),
        (["--spark-master", "local[2]"], "--spark-master: the polars engine does not run on"),
        (["--engine", "duckdb", "--memory", "lots"], "--memory: 'lots' is not a size"),
    ],
)
def test_engine_options_are_checked_before_any_work(
    tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(
        app,
        [
            "dedupe",
            str(ROOT / "sample_data" / "customers.csv"),
            "--rules",
            str(ROOT / "rules" / "company.yaml"),
            "--out",
            str(tmp_path / "out"),
            *args,
        ],
    )
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["dedupe", "validate", "run"])
def test_memory_on_the_polars_engine_is_said_to_cap_nothing(tmp_path: Path, command: str) -> None:
    """A newcomer's finding: `--memory 1GB` without an engine that honours it passed silently."""
    rules = ROOT / "rules" / "company.yaml"
    args = [command, str(ROOT / "sample_data" / "customers.csv"), "--rules", str(rules)]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "out"), "--memory", "1GB", "-q"])
    assert result.exit_code in (0, 1), result.stderr
    said = [line for line in result.stderr.splitlines() if "--memory 1GB is ignored" in line]
    assert len(said) == 1 and "--engine duckdb" in said[0], result.stderr


def test_the_rule_files_engine_is_located(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(f"extends: {ROOT / 'rules' / 'company.yaml'}\nengine: flink\n", "utf-8")
    result = runner.invoke(
        app,
        ["dedupe", str(ROOT / "sample_data" / "customers.csv"), "--rules", str(rules), "--out",
         str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "rules.yaml:2:" in result.stderr and "engine" in result.stderr


@pytest.mark.duckdb
def test_every_level_type_has_sql_and_a_missing_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crmclean.core.matching.comparators import InitialLevel, comparators
    from crmclean.engines.sql import levels

    assert set(comparators.names()) <= set(levels.TRANSLATIONS)
    monkeypatch.delitem(levels.TRANSLATIONS, "initial")
    with pytest.raises(levels.NoTranslation, match="'initial'") as info:
        levels.level_sql(InitialLevel(), "v", levels.Sides({"v": "VARCHAR"}))
    assert info.value.exit_code == 2


@pytest.mark.spark
def test_sample_data_gives_the_same_golden_records_on_spark(tmp_path: Path) -> None:
    polars = _run("polars", tmp_path / "polars")
    spark = _run("spark", tmp_path / "spark")
    a = pl.read_parquet(tmp_path / "polars" / "clusters.parquet")
    b = pl.read_parquet(tmp_path / "spark" / "clusters.parquet")
    assert _pairwise_agreement(a, b) >= 0.999
    # on sample_data nothing differs at all: the same model, clusters, golden records and ids
    assert polars == spark
