"""The full-screen review, driven headlessly by Textual's own Pilot at 80x24: what the screen
shows (agreement even when values are masked, weights adding up to the match weight, the golden
records around the pair) and what the decisions file holds after each key."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Footer, Input, Static
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.cli.review_app import ReviewApp
from crmclean.cli.review_session import ReviewSession
from crmclean.io.decisions_file import DecisionsLog
from crmclean.report.review_fields import Order, ordered
from crmclean.report.value_mask import make_masker
from run_fixtures import write_case

runner = CliRunner()


@pytest.fixture(scope="module")
def run_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("screen")
    data, rules = write_case(folder)
    out = folder / "out"
    done = runner.invoke(app, ["run", str(data), "--rules", str(rules), "--out", str(out), "-q"])
    assert done.exit_code == 0, done.stderr
    assert pl.read_parquet(out / "review.parquet").height >= 4
    return out


def screen(
    out: Path, tmp_path: Path, drive: Callable[[Pilot[None], ReviewApp], Coroutine[Any, Any, None]]
) -> tuple[ReviewApp, Path]:
    queue = ordered(pl.read_parquet(out / "review.parquet"), Order.uncertainty)
    decisions = tmp_path / "decisions.csv"
    session = ReviewSession(queue, DecisionsLog(decisions), "anna")
    members = pl.read_parquet(out / "crosswalk.parquet").select("golden_id", "record_id", "how")
    mask = make_masker({"first_name": "text", "last_name": "text", "email": "email"}, False)
    levels = {"first_name": {0: "else", 1: "similar", 2: "exact"}}
    review = ReviewApp(session, mask, levels, members)

    async def main() -> None:
        async with review.run_test(size=(80, 24)) as pilot:
            await drive(pilot, review)

    try:
        asyncio.run(main())
    finally:
        session.log.close()
    return review, decisions


def rows(review: ReviewApp) -> list[list[str]]:
    table = review.query_one("#fields", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


def saved(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_the_pair_fits_80x24_with_agreement_and_weights_that_add_up(
    run_out: Path, tmp_path: Path
) -> None:
    seen: dict[str, Any] = {}

    async def look(pilot: Pilot[None], review: ReviewApp) -> None:
        await pilot.pause()
        seen["rows"] = rows(review)
        seen["head"] = str(review.query_one("#head", Static).render())
        seen["footer"] = review.query_one(Footer).region
        seen["fields"] = review.query_one("#fields", DataTable).region
        seen["pair"] = review.session.pair()

    screen(run_out, tmp_path, look)
    pair = seen["pair"]
    assert "Pair 1 of" in seen["head"] and str(pair["record_id_l"]) in seen["head"]
    assert seen["footer"].bottom == 24 and seen["fields"].right <= 80
    table = seen["rows"]
    weights = {r[0]: float(r[4]) for r in table if r[4]}
    comparisons = [c[3:] for c in pair if c.startswith("bf_")]
    assert sum(weights[c] for c in comparisons) + weights["prior"] == pytest.approx(
        weights["= match weight"], abs=0.02
    )
    assert weights["= match weight"] == pytest.approx(pair["match_weight"], abs=0.01)
    # masked values: the agreement is judged on the real ones, so `A*** / A***` can differ
    by_field = {r[0]: r for r in table}
    for column in ("first_name", "last_name", "email"):
        left, right = pair.get(f"{column}_l"), pair.get(f"{column}_r")
        if left is None or right is None or column not in by_field:
            continue
        assert str(left) not in by_field[column][1]  # masked
        if by_field[column][1] == by_field[column][2] and left != right:
            assert by_field[column][3] != "same"


def test_keys_write_decide_skip_undo_note_and_search(run_out: Path, tmp_path: Path) -> None:
    queue = ordered(pl.read_parquet(run_out / "review.parquet"), Order.uncertainty)
    pairs = list(queue.select("record_id_l", "record_id_r").iter_rows())
    target = pairs[3][1]

    async def keys(pilot: Pilot[None], review: ReviewApp) -> None:
        await pilot.press("y")  # pair 1: match
        await pilot.press("c", *"same shop", "enter", "n")  # pair 2: no match, with a note
        await pilot.press("s")  # pair 3: skipped
        await pilot.press("u")  # back to pair 3 (a skip writes nothing)
        await pilot.press("u")  # back to pair 2: its decision leaves the file
        await pilot.press("n")  # pair 2 again: no match, the note still with it
        await pilot.press("slash", *target, "enter")  # jump to the pair holding target
        await pilot.pause()
        head = str(review.query_one("#head", Static).render())
        assert f"Pair 4 of {len(pairs)}" in head, head
        await pilot.press("q")

    review, decisions = screen(run_out, tmp_path, keys)
    written = saved(decisions)
    assert [(d["record_id_l"], d["record_id_r"], d["decision"]) for d in written] == [
        (*sorted(pairs[0]), "match"),
        (*sorted(pairs[1]), "no_match"),
    ]
    assert written[1]["note"] == "same shop" and written[0]["decided_by"] == "anna"
    assert review.session.counts == {"match": 1, "no_match": 1, "skipped": 0}


def test_nothing_holds_the_focus_so_the_keys_are_the_apps(run_out: Path, tmp_path: Path) -> None:
    """A hidden prompt with the focus swallowed y/n/s/u/q in a real terminal; the prompt takes
    the focus only while it asks, and gives it back."""

    async def keys(pilot: Pilot[None], review: ReviewApp) -> None:
        await pilot.pause()
        assert review.focused is None, review.focused
        assert not review.query_one("#prompt", Input).can_focus
        await pilot.press("c", *"x", "enter")
        assert review.focused is None and not review.query_one("#prompt", Input).can_focus
        await pilot.press("y", "q")

    _, decisions = screen(run_out, tmp_path, keys)
    assert [d["decision"] for d in saved(decisions)] == ["match"]


def test_quitting_with_a_note_on_an_undecided_pair_warns_once(
    run_out: Path, tmp_path: Path
) -> None:
    async def keys(pilot: Pilot[None], review: ReviewApp) -> None:
        await pilot.press("c", *"call her first", "enter")
        await pilot.press("q")
        await pilot.pause()
        assert review.is_running  # the first q only warns
        assert "1 note(s) on undecided pairs are not saved" in str(
            review.query_one("#status", Static).render()
        )
        await pilot.press("y")  # deciding saves the note
        await pilot.press("q")

    review, decisions = screen(run_out, tmp_path, keys)
    assert [d["note"] for d in saved(decisions)] == ["call her first"]
    assert review.session.unsaved_notes() == 0


def test_uncertainty_order_puts_the_probability_nearest_one_half_first(run_out: Path) -> None:
    queue = ordered(pl.read_parquet(run_out / "review.parquet"), Order.uncertainty)
    distance = (queue["match_probability"] - 0.5).abs().to_list()
    assert distance == sorted(distance)


def test_order_value_needs_a_value_column_the_queue_has(run_out: Path) -> None:
    done = runner.invoke(app, ["review", str(run_out), "--order", "value"])
    assert done.exit_code == 2 and "--value-column" in done.stderr
    done = runner.invoke(app, ["review", str(run_out), "--order", "value", "--value-column", "x"])
    assert done.exit_code == 2 and "no such column" in done.stderr


def test_a_precision_sample_shows_its_weights_on_screen_and_no_id_or_match_key_rows(
    run_out: Path, tmp_path: Path
) -> None:
    """`review --sample`: the prior and `= match weight` rows carry weights that fit 80
    columns; the source id and the match keys `derive:` makes are no field rows."""
    from crmclean.cli.review_precision import sample_queue
    from crmclean.config import load_rules
    from crmclean.io.review_folder import read_reviewed

    reviewed = read_reviewed(run_out)
    loaded = load_rules(run_out.parent / "rules.yaml")
    queue = sample_queue(reviewed, loaded.rules, None, 3, 1)
    session = ReviewSession(queue, DecisionsLog(tmp_path / "decisions.csv"), "anna")
    review = ReviewApp(session, make_masker({}, False), {}, None)
    seen: dict[str, Any] = {}

    async def main() -> None:
        async with review.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            seen["rows"] = rows(review)
            seen["width"] = review.query_one("#fields", DataTable).virtual_size.width

    try:
        asyncio.run(main())
    finally:
        session.log.close()
    fields = [r[0] for r in seen["rows"]]
    assert "customer_id" not in fields and not [f for f in fields if f.endswith("_key")]
    assert not set(loaded.rules.derive) & set(fields)
    by_field = {r[0]: r for r in seen["rows"]}
    assert by_field["prior"][4] and by_field["= match weight"][4]
    assert seen["width"] <= 80  # the weight column is on screen, not scrolled off


def test_the_csv_export_has_agreement_and_weights_in_the_screens_order(run_out: Path) -> None:
    """A spreadsheet steward sees `S*** / S***` too: the sheet says whether the values agree
    and what each comparison weighs, and lists the pairs in the order --order gives."""
    done = runner.invoke(app, ["review", str(run_out), "-f", "csv"])
    assert done.exit_code == 0, done.stderr
    sheet = list(csv.DictReader(io.StringIO(done.stdout)))
    assert sheet and "customer_id_l" not in sheet[0]
    words = {"same", "similar", "different", "missing"}
    for row in sheet:
        assert {row["first_name_agree"], row["email_agree"], row["city_agree"]} <= words
        weights = sum(float(row[f"{c}_weight"]) for c in ("first_name", "last_name", "email"))
        weights += float(row["city_weight"]) + float(row["prior"])
        assert weights == pytest.approx(float(row["match_weight"]), abs=0.05)
    # masked values, yet the agreement is judged on the real ones
    queue = pl.read_parquet(run_out / "review.parquet")
    assert all("***" in r["first_name_l"] or not r["first_name_l"] for r in sheet)
    distance = [abs(float(r["match_probability"]) - 0.5) for r in sheet]
    assert distance == sorted(distance)  # --order uncertainty, the screen's default
    as_run = runner.invoke(app, ["review", str(run_out), "-f", "csv", "--order", "queue"])
    pairs = [
        (r["record_id_l"], r["record_id_r"]) for r in csv.DictReader(io.StringIO(as_run.stdout))
    ]
    assert pairs == list(queue.select("record_id_l", "record_id_r").iter_rows())
    sample = runner.invoke(app, ["review", str(run_out), "--sample", "2", "-f", "csv"])
    assert sample.exit_code == 0, sample.stderr
    assert "customer_id_l" not in sample.stdout.splitlines()[0]


def test_a_value_cleaned_to_empty_reads_invalid_not_missing(run_out: Path, tmp_path: Path) -> None:
    """Both records show an e-mail, yet the comparison met the null level (one was no e-mail
    and was cleaned to empty): the screen and the sheet say `invalid`, not `missing`."""
    from crmclean.report.review_sheet import with_agreement

    queue = pl.read_parquet(run_out / "review.parquet").head(1)
    queue = queue.with_columns(
        pl.lit("not an address").alias("email_l"),
        pl.lit("anna@example.com").alias("email_r"),
        pl.lit(-1).cast(queue.schema["gamma_email"]).alias("gamma_email"),
    )
    session = ReviewSession(queue, DecisionsLog(tmp_path / "decisions.csv"), "anna")
    review = ReviewApp(session, make_masker({"email": "email"}, False), {}, None)
    seen: dict[str, Any] = {}

    async def main() -> None:
        async with review.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            seen["rows"] = rows(review)

    try:
        asyncio.run(main())
    finally:
        session.log.close()
    email = {r[0]: r for r in seen["rows"]}["email"]
    assert email[1] != "–" and email[2] != "–" and email[3] == "invalid"
    assert with_agreement(queue, {})["email_agree"].to_list() == ["invalid"]
    nothing = queue.with_columns(pl.lit(None, pl.String).alias("email_l"))
    assert with_agreement(nothing, {})["email_agree"].to_list() == ["missing"]


def test_the_help_line_offers_pgdn_within_80_columns_and_the_cluster_shows_values(
    run_out: Path, tmp_path: Path
) -> None:
    """At 80x24 the last fields lie below the fold: the help line says PgDn (and it fits),
    PgDn scrolls the fields; each record around the pair shows its (masked) compared values."""
    from textual.widgets._footer import FooterKey

    from crmclean.io.review_folder import read_members, read_reviewed
    from crmclean.report.review_fields import cluster_columns

    queue = ordered(pl.read_parquet(run_out / "review.parquet"), Order.uncertainty)
    columns = cluster_columns(queue.columns)
    members = read_members(read_reviewed(run_out), "source_system", columns)
    assert members is not None and "first_name" in columns
    session = ReviewSession(queue, DecisionsLog(tmp_path / "decisions.csv"), "anna")
    review = ReviewApp(session, make_masker({"first_name": "text"}, False), {}, members)
    seen: dict[str, Any] = {}

    async def main() -> None:
        async with review.run_test(size=(80, 12)) as pilot:  # a short screen: fields overflow
            for _ in range(50):  # the help line is laid out a moment after the screen
                await pilot.pause(0.1)
                keys = {k.key_display: k.region for k in review.query(FooterKey)}
                if keys and all(r.width for r in keys.values()):
                    break
            seen["pgdn"] = keys.get("PgDn")
            seen["right"] = max(r.right for r in keys.values())
            seen["keys"] = {k for k, r in keys.items() if r.width and r.right <= 80}
            cluster = review.query_one("#cluster", DataTable)
            seen["cluster"] = [str(c.label) for c in cluster.columns.values()]
            seen["row"] = [str(c) for c in cluster.get_row_at(0)]
            fields = review.query_one("#fields", DataTable)
            before = fields.scroll_y
            await pilot.press("pagedown")
            await pilot.pause()
            seen["scrolled"] = fields.scroll_y > before

    try:
        asyncio.run(main())
    finally:
        session.log.close()
    assert seen["pgdn"] is not None and seen["right"] <= 80
    assert {"y", "n", "s", "u", "c", "q", "PgDn"} <= seen["keys"], seen["keys"]
    assert seen["scrolled"]
    assert "first_name" in seen["cluster"]
    shown = seen["row"][seen["cluster"].index("first_name")]
    assert shown == "–" or "***" in shown  # masked


def test_the_cluster_panel_shows_the_pairs_own_records_first_and_how_many_more(
    run_out: Path, tmp_path: Path
) -> None:
    """A large cluster on the left once hid the right record of the pair below the panel."""
    from crmclean.cli.review_app import CLUSTER_ROWS

    queue = ordered(pl.read_parquet(run_out / "review.parquet"), Order.uncertainty)
    pair = queue.row(0, named=True)
    left, right = str(pair["record_id_l"]), str(pair["record_id_r"])
    others = [f"X{i}" for i in range(CLUSTER_ROWS + 1)]
    members = pl.DataFrame(
        {
            "golden_id": [str(pair["golden_id_l"])] * (len(others) + 1)
            + [str(pair["golden_id_r"])],
            "record_id": [*others, left, right],
        }
    )
    session = ReviewSession(queue, DecisionsLog(tmp_path / "decisions.csv"), "anna")
    review = ReviewApp(session, make_masker({}, False), {}, members)
    seen: dict[str, Any] = {}

    async def main() -> None:
        async with review.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            table = review.query_one("#cluster", DataTable)
            labels = [str(c.label) for c in table.columns.values()]
            seen["rows"] = [
                dict(zip(labels, map(str, table.get_row_at(i)), strict=True))
                for i in range(table.row_count)
            ]
            await pilot.press("q")

    try:
        asyncio.run(main())
    finally:
        session.log.close()
    shown = seen["rows"]
    assert len(shown) == CLUSTER_ROWS
    assert {shown[0]["record_id"], shown[1]["record_id"]} == {left, right}
    assert shown[-1]["golden_id"] == f"+{len(others) + 2 - (CLUSTER_ROWS - 1)} more"


def test_the_weight_column_is_never_cut_and_esc_closes_a_prompt(
    run_out: Path, tmp_path: Path
) -> None:
    """Column widths of an earlier pair once stayed and cut later pairs' weights (`weigh`,
    `-12.0`), and the fields' scrollbar took two more columns; Esc typed into the prompt."""
    widths: list[int] = []

    async def keys(pilot: Pilot[None], review: ReviewApp) -> None:
        for _ in range(6):
            await pilot.pause()
            table = review.query_one("#fields", DataTable)
            widths.append(sum(c.get_render_width(table) for c in table.columns.values()))
            assert all(re.fullmatch(r"[+-]\d+\.\d\d", r[4]) for r in rows(review) if r[4]), rows(
                review
            )
            await pilot.press("s")
        await pilot.press("c", "x", "escape", "s")
        await pilot.pause()
        assert review.session.notes.get(6) is None and review.session.counts["skipped"] == 7
        await pilot.press("q")

    screen(run_out, tmp_path, keys)
    assert widths and max(widths) <= 80 - 2, widths
