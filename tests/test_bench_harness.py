"""The benchmark's shared evaluator on hand-made clusters with known scores (no timing)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import polars as pl
import pytest

# benchmarks/ is not a package; load its evaluator by path under a name that cannot clash.
_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "evaluate.py"
_SPEC = importlib.util.spec_from_file_location("crmclean_bench_evaluate", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
_MODULE = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = _MODULE  # dataclasses look their module up here
_SPEC.loader.exec_module(_MODULE)
evaluate = _MODULE.evaluate

# Truth: entity A = {1, 2, 3}, entity B = {4, 5}, entity C = {6}.
TRUTH = pl.DataFrame(
    {"record_id": ["1", "2", "3", "4", "5", "6"], "entity_id": ["A", "A", "A", "B", "B", "C"]}
)


def clusters(mapping: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"record_id": list(mapping), "cluster_id": list(mapping.values())})


def test_perfect_clusters_score_one() -> None:
    scores = evaluate(
        clusters(dict(zip(TRUTH["record_id"], TRUTH["entity_id"], strict=True))), TRUTH
    )
    assert scores.pairwise_f1 == 1.0
    assert scores.bcubed_f1 == 1.0
    assert scores.true_pairs == 4


def test_known_pairwise_and_bcubed_scores() -> None:
    # Predicted: {1, 2}, {3, 4, 5}, {6}. True pairs: 12 13 23 45 (4). Predicted pairs:
    # 12 34 35 45 (4); correct: 12 45 (2). So P = R = F1 = 0.5.
    predicted = clusters({"1": "x", "2": "x", "3": "y", "4": "y", "5": "y", "6": "z"})
    scores = evaluate(predicted, TRUTH)
    assert scores.true_positive_pairs == 2
    assert scores.pairwise_precision == pytest.approx(0.5)
    assert scores.pairwise_recall == pytest.approx(0.5)
    assert scores.pairwise_f1 == pytest.approx(0.5)
    # B-cubed precision per record: 1, 1, 1/3, 2/3, 2/3, 1 -> 14/3 / 6 = 7/9.
    # B-cubed recall per record: 2/3, 2/3, 1/3, 1, 1, 1 -> 14/3 / 6 = 7/9.
    assert scores.bcubed_precision == pytest.approx(7 / 9)
    assert scores.bcubed_recall == pytest.approx(7 / 9)
    assert scores.bcubed_f1 == pytest.approx(7 / 9)


def test_everything_in_one_cluster() -> None:
    scores = evaluate(clusters(dict.fromkeys(TRUTH["record_id"], "all")), TRUTH)
    assert scores.pairwise_recall == 1.0
    assert scores.pairwise_precision == pytest.approx(4 / 15)


def test_missing_records_count_as_singletons() -> None:
    # The matcher dropped records 3 and 6: they are scored as their own singletons.
    predicted = clusters({"1": "x", "2": "x", "4": "y", "5": "y"})
    scores = evaluate(predicted, TRUTH)
    assert scores.records_missing == 2
    assert scores.records == 6
    assert scores.pairwise_precision == 1.0
    assert scores.pairwise_recall == pytest.approx(0.5)


def test_ids_of_any_type_are_compared_as_strings() -> None:
    predicted = pl.DataFrame({"record_id": [1, 2, 3, 4, 5, 6], "cluster_id": [7, 7, 7, 8, 8, 9]})
    assert evaluate(predicted, TRUTH).pairwise_f1 == 1.0
