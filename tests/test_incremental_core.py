"""The incremental core on small frames: changes found by hash, and the candidate pairs of a
night built from yesterday's equal the pairs blocking today's records from scratch."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crmclean.core.incremental import (
    block_keys,
    content_hashes,
    index_of,
    keyed_rows,
    keys_of,
    pair_totals,
)
from crmclean.core.incremental.blocking import delta_blocking
from crmclean.core.incremental.changes import record_changes
from crmclean.core.incremental.golden import in_golden_id_order
from crmclean.core.matching.blocking import block
from crmclean.core.matching.lookup_tables import key_index
from crmclean.core.matching.spec import MatchingSpec

SPEC = MatchingSpec.model_validate(
    {
        "blocking": [
            {"columns": ["a"], "max_block_size": 3},
            ["a", "b"],
            {"columns": ["words"], "any_word": ["words"], "max_block_size": 4},
        ],
        "comparisons": [{"name": "a", "column": "a", "levels": ["null", "exact", "else"]}],
    }
)


def test_changes_by_record_id_and_content() -> None:
    before = pl.DataFrame({"record_id": ["1", "2", "3"], "name": ["Ann", "Bob", "Cy"]})
    today = pl.DataFrame({"record_id": ["1", "2", "4"], "name": ["Ann", "Rob", "Di"]})
    found = record_changes(content_hashes(today), content_hashes(before))
    assert found.new.to_list() == ["4"]
    assert found.changed.to_list() == ["2"]
    assert found.deleted.to_list() == ["3"]
    assert found.counts() == {"new": 1, "changed": 1, "deleted": 1, "unchanged": 1}
    assert found.delta.to_list() == ["2", "4"] and found.gone.to_list() == ["2", "3"]


def _pairs(frame: pl.DataFrame) -> set[tuple[str, str]]:
    """Candidate pairs of `frame` under SPEC, blocked from scratch (by record id)."""
    ordered = frame.sort("record_id")
    blocked = block(ordered, SPEC.blocking, max_pairs_per_rule=10**9, max_block_size=50)
    ids = ordered["record_id"]
    left, right = ids.gather(blocked.pairs["row_l"]), ids.gather(blocked.pairs["row_r"])
    return set(zip(left.to_list(), right.to_list(), strict=True))


values = st.sampled_from(["x", "y", "z", None])
words = st.sampled_from(["ann lee", "lee", "bo ann", "cy", None])
record = st.tuples(values, values, words)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(record, min_size=2, max_size=14),
    st.lists(st.tuples(st.integers(0, 13), record), max_size=5),
    st.lists(st.integers(0, 13), max_size=4),
    st.lists(record, max_size=4),
)
def test_a_nights_pairs_equal_blocking_from_scratch(
    first: list[tuple[str | None, ...]],
    edits: list[tuple[int, tuple[str | None, ...]]],
    deletions: list[int],
    additions: list[tuple[str | None, ...]],
) -> None:
    def frame(rows: dict[str, tuple[str | None, ...]]) -> pl.DataFrame:
        columns = list(zip(*rows.values(), strict=True)) or [[], [], []]
        return pl.DataFrame(
            {"record_id": list(rows), "a": columns[0], "b": columns[1], "words": columns[2]},
            schema={"record_id": pl.String, "a": pl.String, "b": pl.String, "words": pl.String},
        )

    rows = {f"r{i:02d}": r for i, r in enumerate(first)}
    before = frame(rows)
    for at, new in edits:
        if f"r{at:02d}" in rows:
            rows[f"r{at:02d}"] = new
    for at in deletions:
        rows.pop(f"r{at:02d}", None)
    rows |= {f"n{i}": r for i, r in enumerate(additions)}
    today = frame(rows)
    found = record_changes(content_hashes(today), content_hashes(before))
    keys = block_keys(before, SPEC)
    delta = block_keys(today.filter(pl.col("record_id").is_in(found.delta.implode())), SPEC)
    night = delta_blocking(keys, delta, found.gone, SPEC, pair_totals(keys, SPEC))
    yesterday = _pairs(before)
    gone = set(found.gone.to_list())
    unblocked = set(night.unblocked.select("record_id_l", "record_id_r").iter_rows())
    rescored = set(night.pairs.select("record_id_l", "record_id_r").iter_rows())
    kept = {p for p in yesterday if not (set(p) & gone)} - unblocked
    assert kept | rescored == _pairs(today)
    assert night.pair_totals == pair_totals(block_keys(today, SPEC), SPEC)


@settings(max_examples=40, deadline=None)
@given(st.lists(record, max_size=14))
def test_keys_and_their_index_from_one_hashing_equal_the_index_joined_by_record_id(
    rows: list[tuple[str | None, ...]],
) -> None:
    """The run writes match_index.parquet from the rows the keys were hashed from; a lookup
    reads it as key_index builds it from the kept keys (ids not in row order on purpose)."""
    columns = list(zip(*rows, strict=True)) or [[], [], []]
    frame = pl.DataFrame(
        {
            "record_id": [f"r{(7 * i) % 97:02d}" for i in range(len(rows))],
            "a": columns[0],
            "b": columns[1],
            "words": columns[2],
        },
        schema={"record_id": pl.String, "a": pl.String, "b": pl.String, "words": pl.String},
    )
    keyed = keyed_rows(frame, SPEC)
    keys = keys_of(frame, keyed)
    assert_frame_equal(keys, block_keys(frame, SPEC))
    assert_frame_equal(index_of(keyed), key_index(keys, frame.get_column("record_id")))


@pytest.mark.parametrize(
    "carried", [["G2", "G2", "G5", "G9"], ["G9", "G2", "G5", "G2"]], ids=["in order", "not"]
)
def test_carried_and_rebuilt_rows_come_out_as_a_stable_sortin_golden_id_order(
    carried: list[str],
) -> None:
    rebuilt = ["G7", "G1", "G7", "G6"]
    frame = pl.DataFrame(
        {"golden_id": [*carried, *rebuilt], "row": list(range(len(carried) + len(rebuilt)))}
    )
    merged = in_golden_id_order(frame, len(carried))
    assert_frame_equal(merged, frame.sort("golden_id", maintain_order=True))
