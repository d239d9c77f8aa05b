"""bench_accuracy.py's pair measures on hand-made pairs, and one tiny end-to-end run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT / "benchmarks" / "yardsticks")]

import accuracy_metrics as am  # noqa: E402
import bench_accuracy  # noqa: E402
import diagnose_pairs  # noqa: E402
import faker_set  # noqa: E402
import map_rules  # noqa: E402
from accuracy_md import accuracy_section  # noqa: E402

# Entities: A = {1, 2, 3}, B = {4, 5}, C = {6}, D = {7} (D is C's twin).
TRUTH = pl.DataFrame(
    {
        "record_id": ["1", "2", "3", "4", "5", "6", "7"],
        "entity_id": ["A", "A", "A", "B", "B", "C", "D"],
    }
)


def pairs(*items: tuple[str, str]) -> pl.DataFrame:
    return pl.DataFrame({am.L: [a for a, _ in items], am.R: [b for _, b in items]})


def test_true_pairs_and_blocking_recall() -> None:
    true = am.pairs_within(TRUTH, "record_id", "entity_id")
    assert sorted(true.iter_rows()) == [("1", "2"), ("1", "3"), ("2", "3"), ("4", "5")]
    candidates = am.ordered(pairs(("2", "1"), ("4", "5"), ("6", "7"), ("1", "2")))
    assert candidates.height == 3  # ordered and unique
    assert am.share_found(true, candidates) == pytest.approx(0.5)
    assert am.share_found(true.head(0), candidates) is None


def test_recall_by_label_counts_pairs_with_a_labelled_record_on_either_side() -> None:
    true = am.pairs_within(TRUTH, "record_id", "entity_id")
    labels = pl.DataFrame({"record_id": ["3", "5"], "label": ["moved", "moved"]})
    candidates = pairs(("1", "3"), ("4", "5"))
    predicted = pairs(("4", "5"))
    got = am.recall_by(true, labels, candidates, predicted)
    # true pairs touching 3 or 5: 13, 23, 45 -> candidates hold 13 and 45, clusters only 45
    assert got == {"moved": {"true_pairs": 3, "blocking_recall": 0.6667, "recall": 0.3333}}


def test_false_merges_are_named_by_relation() -> None:
    entities = pl.DataFrame(
        {
            "entity_id": ["A", "B", "C", "D"],
            "relation": ["unique", "unique", "unique", "twin"],
            "related_entity_id": [None, None, None, "C"],
        }
    )
    predicted = pairs(("6", "7"), ("3", "4"), ("1", "2"))
    got = am.false_merges_by_relation(predicted, TRUTH, entities)
    assert got == {"all": 2, "twin": 1, "unrelated": 1}
    assert am.false_merges_by_relation(predicted, TRUTH, None) == {"all": 2}


def _stages(clusters: pl.DataFrame, candidates: pl.DataFrame) -> dict[tuple[str, str], str]:
    thresholds = type("Thresholds", (), {"review": 0.5, "auto_merge": 0.99})
    spec = type("Spec", (), {"thresholds": thresholds})
    staged = diagnose_pairs.classify(TRUTH, clusters, candidates, spec)
    return {(a, b): stage for a, b, stage in staged.select(am.L, am.R, "stage").iter_rows()}


def test_diagnose_names_the_stage_where_each_true_pair_is_lost() -> None:
    candidates = pl.DataFrame(
        {
            am.L: ["1", "1", "2", "4"],
            am.R: ["2", "3", "3", "5"],
            "match_probability": [0.999, 0.2, 0.95, 0.999],
        }
    )
    # A = {1, 2, 3} in one cluster: every pair found, 1-3 through the others though scored 0.2
    merged = pl.DataFrame({"record_id": list("1234567"), "cluster_id": list("1114467")})
    assert _stages(merged, candidates) == {
        ("1", "2"): "merged",
        ("1", "3"): "merged",
        ("2", "3"): "merged",
        ("4", "5"): "merged",
    }
    alone = pl.DataFrame({"record_id": list("1234567"), "cluster_id": list("1234567")})
    assert _stages(alone, candidates.head(3)) == {
        ("1", "2"): "cut by a guard",
        ("1", "3"): "below review",
        ("2", "3"): "below auto_merge",
        ("4", "5"): "not blocked",
    }


def test_never_compared_pairs_by_the_blocking_keys_they_agree_on() -> None:
    keys = pl.DataFrame(
        {
            "dob_iso": ["1980-01-02", "1980-01-02", None, "1975-05-05"],
            "postcode_key": ["10115", "20095", "10115", "10115"],
        }
    )
    missed = pl.DataFrame({"_row_l": [0, 0, 2], "_row_r": [1, 2, 3]}, schema=dict.fromkeys(
        ("_row_l", "_row_r"), pl.UInt32))  # fmt: skip
    got = diagnose_pairs.keys_shared_by_missed(missed, keys, top=5)
    assert got["true_pairs"] == 3
    # 0-1 agree on the birth date, 0-2 and 2-3 on the postcode; 2 holds no birth date
    assert got["keys"]["dob_iso"] == {"both_hold": pytest.approx(0.3333, abs=1e-4),
                                      "agree": pytest.approx(0.3333, abs=1e-4)}  # fmt: skip
    assert got["keys"]["postcode_key"]["agree"] == pytest.approx(0.6667, abs=1e-4)
    assert got["agreeing"] == [
        {"keys": "postcode_key", "true_pairs": 2},
        {"keys": "dob_iso", "true_pairs": 1},
    ]
    empty = diagnose_pairs.keys_shared_by_missed(missed.head(0), keys, top=5)
    assert empty == {"true_pairs": 0, "keys": {}, "agreeing": []}


def test_measure_set_end_to_end_on_a_tiny_faker_set(tmp_path: Path) -> None:
    made = faker_set.generate(400, seed=3)
    folder = tmp_path / "data"
    bench_accuracy._write(
        folder,
        made.customers,
        made.truth,
        entities=made.entities,
        kinds=made.differences.rename({"kind": "label"}),
    )
    rules = bench_accuracy.mapped_rules(
        ROOT / "rules" / "company.yaml", map_rules.FAKER_COLUMNS, tmp_path / "out"
    )
    entry = bench_accuracy.measure_set(
        "faker", "tiny", folder, rules, "source", tmp_path / "out", budget=300
    )
    assert entry["status"] == "ok", entry
    assert "candidates_error" not in entry
    summary = json.loads((tmp_path / "out" / "dedupe" / "dedupe.json").read_text())
    # the recomputed candidates are exactly the pairs dedupe compared
    assert entry["candidate_pairs"] == summary["stats"]["candidate_pairs"]
    assert 0 < entry["blocking_recall"] <= 1
    assert entry["scores"]["pairwise_recall"] <= entry["blocking_recall"]
    assert set(entry["by_source"]) <= {"crm", "erp", "webshop", "newsletter", "pos", "callcentre"}
    assert "married" in entry["by_kind"]
    # diagnose_pairs re-runs blocking, comparing and training: the same pairs merged
    report = diagnose_pairs.diagnose(tmp_path / "out" / "dedupe", folder, rules, top=5)
    stages = report["all"]
    assert stages["true_pairs"] == entry["true_pairs"]
    assert stages["merged"] == pytest.approx(entry["scores"]["pairwise_recall"], abs=1e-4)
    assert stages["not blocked"] == pytest.approx(1 - entry["blocking_recall"], abs=1e-4)
    shares = [stages[k] for k in ("merged", *diagnose_pairs.STAGES)]
    assert sum(shares) == pytest.approx(1.0, abs=1e-3)
    missed = report["missed_by_blocking"]
    assert missed["true_pairs"] == round(stages["not blocked"] * stages["true_pairs"])
    assert "married" in report["by_kind"]
    assert "true pairs never compared" in diagnose_pairs.render(report)
    shared = missed["shared_keys"]
    assert shared["true_pairs"] == missed["true_pairs"]
    assert sum(g["true_pairs"] for g in shared["agreeing"]) <= missed["true_pairs"]
    # per comparison, the true shares add up to one over the pairs that hold it (like m)
    for name in {lv["comparison"] for lv in report["levels"]}:
        shares = [lv["true_share"] for lv in report["levels"] if lv["comparison"] == name]
        assert None in shares or sum(shares) == pytest.approx(1.0)
    assert any(lv["true_pairs"] > 0 for lv in report["levels"])
    entry.update(date="today", git_commit="abc", command="cmd")
    text = "\n".join(accuracy_section({"faker tiny": entry}))
    assert "| faker | tiny | 400 | ok |" in text
    assert "Recall by kind of difference" in text
