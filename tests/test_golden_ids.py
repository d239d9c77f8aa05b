"""Stable golden ids: merges keep the older id, splits keep it on the larger part, never reuse."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.core.golden.ids import IdState, assign_golden_ids, describe_changes


def clusters(groups: list[str]) -> pl.DataFrame:
    """'ab c' -> records a,b in one cluster, c in another."""
    rows = [(r, i) for i, group in enumerate(groups) for r in group]
    return pl.DataFrame({"record_id": [r for r, _ in rows], "cluster_id": [c for _, c in rows]})


def ids(assignment_members: pl.DataFrame) -> dict[str, str]:
    return dict(assignment_members.select("record_id", "golden_id").iter_rows())


def changes(frame: pl.DataFrame) -> set[tuple[str, str, str | None]]:
    return set(frame.select("golden_id", "change", "related_golden_id").iter_rows())


def test_first_run_issues_ids_in_record_order() -> None:
    first = assign_golden_ids(clusters(["cd", "ab", "e"]))
    assert ids(first.members) == {
        "a": "G0000000001",
        "b": "G0000000001",
        "c": "G0000000002",
        "d": "G0000000002",
        "e": "G0000000003",
    }
    assert first.state.high_water_mark == 3
    assert {c for _, c, _ in changes(first.changes)} == {"created"}


def test_unchanged_and_grown_records_keep_their_ids() -> None:
    first = assign_golden_ids(clusters(["ab", "c"]))
    again = assign_golden_ids(clusters(["c", "ab"]), first.members, first.state)
    assert ids(again.members) == ids(first.members)
    assert again.changes.height == 0
    grown = assign_golden_ids(clusters(["abx", "c"]), first.members, first.state)
    assert ids(grown.members)["x"] == ids(first.members)["a"]
    assert changes(grown.changes) == {(ids(first.members)["a"], "changed", None)}


def test_merge_keeps_the_older_id_and_lists_the_other_as_merged() -> None:
    first = assign_golden_ids(clusters(["ab", "cd"]))
    g_ab, g_cd = ids(first.members)["a"], ids(first.members)["c"]
    merged = assign_golden_ids(clusters(["abcd"]), first.members, first.state)
    assert set(ids(merged.members).values()) == {g_ab}
    assert (g_cd, "merged", g_ab) in changes(merged.changes)
    assert (g_ab, "changed", None) in changes(merged.changes)


def test_split_keeps_the_id_on_the_larger_part() -> None:
    first = assign_golden_ids(clusters(["abc"]))
    split = assign_golden_ids(clusters(["a", "bc"]), first.members, first.state)
    now = ids(split.members)
    assert now["b"] == now["c"] == ids(first.members)["a"]
    assert now["a"] == "G0000000002"
    assert ("G0000000002", "split", "G0000000001") in changes(split.changes)


def test_removed_ids_are_never_reused() -> None:
    first = assign_golden_ids(clusters(["a", "b"]))
    gone = assign_golden_ids(clusters(["a"]), first.members, first.state)
    assert ("G0000000002", "removed", None) in changes(gone.changes)
    back = assign_golden_ids(clusters(["a", "b"]), gone.members, gone.state)
    assert ids(back.members)["b"] == "G0000000003"
    assert ("G0000000003", "created", None) in changes(back.changes)


def test_high_water_mark_is_recovered_from_the_crosswalk() -> None:
    first = assign_golden_ids(clusters(["a", "b", "c"]))
    # the manifest was lost: the previous crosswalk alone still prevents reuse
    later = assign_golden_ids(
        clusters(["a", "z"]), first.members.filter(pl.col("record_id") == "a")
    )
    assert ids(later.members)["z"] == "G0000000002"
    assert later.state.high_water_mark == 2
    assert IdState.from_dict(later.state.to_dict()) == later.state


def test_value_changes_name_the_columns() -> None:
    first = assign_golden_ids(clusters(["ab", "c"]))
    g1, g2 = ids(first.members)["a"], ids(first.members)["c"]
    prev = pl.DataFrame({"golden_id": [g1, g2], "city": ["Bonn", "Köln"], "name": ["A", "C"]})
    again = assign_golden_ids(clusters(["ab", "c"]), first.members, first.state)
    now = pl.DataFrame({"golden_id": [g1, g2], "city": ["Bonn", "Koeln"], "name": ["A", None]})
    frame = describe_changes(again, prev, now)
    assert frame.select("golden_id", "change", "columns_changed").rows() == [
        (g2, "changed", "city,name")
    ]
    assert frame["records_before"].item() == 1


partitions = st.lists(st.integers(0, 6), min_size=1, max_size=25)


@settings(max_examples=80, deadline=None)
@given(partitions, partitions, st.integers(0, 20))
def test_properties_unique_never_reused_stable(
    first: list[int], second: list[int], drop: int
) -> None:
    one = pl.DataFrame({"record_id": [f"r{i:03d}" for i in range(len(first))], "cluster_id": first})
    run1 = assign_golden_ids(one)
    records = [f"r{i:03d}" for i in range(len(second)) if i != drop]
    two = pl.DataFrame(
        {"record_id": records, "cluster_id": [second[i] for i in range(len(second)) if i != drop]}
    )
    run2 = assign_golden_ids(two, run1.members, run1.state)

    # unique: one id per cluster, and different clusters never share an id
    per_cluster = run2.members.group_by("cluster_id").agg(pl.col("golden_id").n_unique())
    assert (per_cluster["golden_id"] == 1).all()
    per_id = run2.members.group_by("golden_id").agg(pl.col("cluster_id").n_unique())
    assert (per_id["cluster_id"] == 1).all()
    # never reused: an id is either carried over for its own records or above the old mark
    old = set(run1.members["golden_id"])
    fresh = set(run2.members["golden_id"]) - old
    assert all(int(g[1:]) > run1.state.high_water_mark for g in fresh)
    assert run2.state.high_water_mark == run1.state.high_water_mark + len(fresh)
    kept = set(run2.members["golden_id"]) & old
    merged = set(run2.changes.filter(pl.col("change") == "merged")["golden_id"])
    assert not kept & merged
    # stable: rerunning the second night changes nothing
    run3 = assign_golden_ids(two, run2.members, run2.state)
    assert ids(run3.members) == ids(run2.members)
    assert run3.changes.height == 0
    assert run3.state == run2.state
    # every created/split id is in the output and every merged/removed one is not
    listed = run2.changes
    new_ids = set(listed.filter(pl.col("change").is_in(["created", "split"]))["golden_id"])
    assert new_ids == fresh
    gone = set(listed.filter(pl.col("change").is_in(["merged", "removed"]))["golden_id"])
    assert gone == old - set(run2.members["golden_id"])
