"""The pure golden step of the pipeline: crosswalk, review queue, quarantine, no row lost."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.core.golden.step import crosswalk, golden_step, review_queue
from crmclean.core.pipeline import split_quarantine

MEMBERS = pl.DataFrame(
    {"record_id": ["a", "b", "c", "d", "e"], "golden_id": ["G1", "G1", "G1", "G2", "G3"]}
)
PAIRS = pl.DataFrame(
    {
        "record_id_l": ["a", "a", "c", "d"],
        "record_id_r": ["b", "d", "e", "e"],
        "match_probability": [0.99, 0.6, 0.4, 0.97],
        "match_weight": [7.0, 0.5, -0.5, 5.0],
        "blocking_rule": ["[email]"] * 4,
        "bf_email": [6.0, 1.0, -1.0, 4.0],
    }
)
RECORDS = pl.DataFrame({"record_id": list("abcde"), "name": ["Ann", "Anne", "Ann", "Bob", "Bob"]})


def test_crosswalk_says_how_each_record_joined() -> None:
    steward = pl.DataFrame({"record_id_l": ["b"], "record_id_r": ["c"]})  # never scored
    frame = crosswalk(MEMBERS, PAIRS, steward)
    rows = {r: (g, p, how) for r, g, p, how in frame.iter_rows()}
    assert rows["a"] == ("G1", 0.99, "matched")
    assert rows["c"] == ("G1", None, "steward")
    assert rows["b"] == ("G1", 0.99, "steward")
    assert rows["e"] == ("G3", None, "singleton")
    assert frame.height == MEMBERS.height


def test_review_queue_holds_the_band_and_cut_links_minus_decisions() -> None:
    cut = pl.DataFrame(
        {
            "record_id_l": ["d"],
            "record_id_r": ["e"],
            "match_probability": [0.97],
            "reason": ["weak bridge"],
        }
    )
    decided = pl.DataFrame({"record_id_l": ["c"], "record_id_r": ["e"], "decision": ["no_match"]})
    queue = review_queue(
        PAIRS, RECORDS, MEMBERS, review=0.3, auto_merge=0.95, decided=decided, cut=cut
    )
    assert queue.select("record_id_l", "record_id_r", "reason").rows() == [
        ("d", "e", "weak bridge"),
        ("a", "d", "review band"),
    ]
    assert queue.row(1, named=True)["name_l"] == "Ann"
    assert queue.row(1, named=True)["golden_id_r"] == "G2"
    assert "bf_email" in queue.columns


def test_quarantine_takes_rows_with_error_violations_only() -> None:
    violations = pl.DataFrame(
        {
            "rule_id": ["email.valid", "name.len", "email.valid"],
            "record_id": ["b", "c", "b"],
            "severity": ["error", "warn", "error"],
        }
    )
    kept, held = split_quarantine(RECORDS, violations)
    assert kept["record_id"].to_list() == ["a", "c", "d", "e"]
    assert held.select("record_id", "quarantine_rules").rows() == [("b", "email.valid")]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 8), min_size=1, max_size=40))
def test_no_record_is_lost_and_every_golden_record_has_members(labels: list[int]) -> None:
    records = pl.DataFrame(
        {"record_id": [f"r{i}" for i in range(len(labels))], "v": [str(x) for x in labels]}
    )
    clusters = pl.DataFrame({"record_id": records["record_id"], "cluster_id": labels})
    step = golden_step(records, clusters, None)
    assert sorted(step.crosswalk["record_id"]) == sorted(records["record_id"])
    assert set(step.crosswalk["golden_id"]) == set(step.golden["golden_id"])
    assert step.golden.height == len(set(labels))
