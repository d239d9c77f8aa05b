"""`crmclean review` on the --out folder of `crmclean dedupe` (pairs, clusters, model, no run
manifest): the queue is derived from the pairs and thresholds as a run derives it, and the full
screen, --plain, --order, --sample, the export and --import all work there."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import sys
from pathlib import Path

import pexpect
import polars as pl
import pytest
from textual.widgets import DataTable, Static
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.cli.review_app import ReviewApp
from crmclean.cli.review_session import ReviewSession
from crmclean.config import load_rules
from crmclean.io.decisions_file import DecisionsLog
from crmclean.io.review_folder import read_members, read_queue, read_reviewed
from crmclean.report.review_fields import Order, ordered
from crmclean.report.value_mask import make_masker
from run_fixtures import write_case

runner = CliRunner()
KEYS = ["record_id_l", "record_id_r"]


@pytest.fixture()
def matched(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A dedupe folder and a run folder of the same data and rules."""
    data, rules = write_case(tmp_path)
    out = tmp_path / "matched"
    done = runner.invoke(app, ["dedupe", str(data), "-r", str(rules), "--out", str(out), "-q"])
    assert done.exit_code == 0, done.stderr
    assert not (out / "manifest.json").exists()
    run = tmp_path / "run"
    done = runner.invoke(app, ["run", str(data), "-r", str(rules), "--out", str(run), "-q"])
    assert done.exit_code == 0, done.stderr
    return out, run, rules


def exported(out: Path, *args: str) -> list[dict[str, str]]:
    done = runner.invoke(app, ["review", str(out), "-f", "csv", *args])
    assert done.exit_code == 0, done.stderr
    return list(csv.DictReader(io.StringIO(done.stdout)))


def decisions(rules: Path) -> list[dict[str, str]]:
    path = rules.parent / "decisions.csv"
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_the_queue_is_the_review_band_of_the_pairs_as_a_run_has_it(
    matched: tuple[Path, Path, Path],
) -> None:
    out, run, _ = matched
    rows = exported(out)
    pairs = pl.read_parquet(out / "pairs.parquet")
    band = pairs.filter(pl.col("match_probability").is_between(0.3, 0.95, closed="left"))
    assert rows and len(rows) >= band.height
    assert {(r["record_id_l"], r["record_id_r"]) for r in rows} >= set(
        band.select(KEYS).iter_rows()
    )
    # the same pairs, columns and masking as the run's own queue of the same data
    assert [(r["record_id_l"], r["record_id_r"]) for r in rows] == [
        (r["record_id_l"], r["record_id_r"]) for r in exported(run)
    ]
    assert rows == exported(run)  # values, masking and reasons alike
    assert "last_name_key_l" not in rows[0] and "customer_id_l" not in rows[0]
    assert any(r["email_l"].endswith("@example.com") for r in rows)
    assert not any(r["email_l"].count("*") == 0 and "@" in r["email_l"] for r in rows)


def test_export_to_a_file_and_import_back_then_the_pairs_leave_the_queue(
    matched: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    out, _, rules = matched
    sheet = tmp_path / "queue.csv"
    done = runner.invoke(
        app, ["review", str(out), "-f", "csv", "--out", str(sheet), "--delimiter", ";"]
    )
    assert done.exit_code == 0, done.stderr
    raw = sheet.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfrecord_id_l;record_id_r;match_probability;")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    total = len(rows)
    rows[0]["decision"], rows[1]["decision"] = "y", "n"
    with sheet.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    done = runner.invoke(
        app, ["review", str(out), "--import", str(sheet), "--delimiter", ";", "--by", "bob"]
    )
    assert done.exit_code == 0, done.stderr
    assert "imported 2 decision(s)" in done.stderr
    assert [(d["decision"], d["decided_by"]) for d in decisions(rules)] == [
        ("match", "bob"),
        ("no_match", "bob"),
    ]
    assert len(exported(out)) == total - 2
    # an id the dedupe never saw is refused, naming the sheet
    sheet.write_text("record_id_l,record_id_r,decision\nC00001,X99999,y\n", encoding="utf-8")
    done = runner.invoke(app, ["review", str(out), "--import", str(sheet)])
    assert done.exit_code == 2 and "X99999" in done.stderr
    # the export never replaces a file the dedupe read
    done = runner.invoke(app, ["review", str(out), "-f", "csv", "--out", str(rules), "--force"])
    assert done.exit_code in (2, 3) and "rule file" in done.stderr


def test_sample_of_automatic_merges_and_the_precision_estimate(
    matched: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    out, _, _ = matched
    rows = exported(out, "--sample", "4", "--seed", "3")
    assert len(rows) == 4 and rows == exported(out, "--sample", "4", "--seed", "3")
    assert all(float(r["match_probability"]) >= 0.95 for r in rows)
    assert all(r["reason"] == "precision sample" and r["first_name_l"] for r in rows)
    # both records of an automatic merge are in one cluster, the dedupe's golden record
    cluster = dict(pl.read_parquet(out / "clusters.parquet").iter_rows())
    assert all(cluster[r["record_id_l"]] == cluster[r["record_id_r"]] for r in rows)
    for i, row in enumerate(rows):
        row["decision"] = "n" if i == 0 else "y"
    sheet = tmp_path / "labels.csv"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    done = runner.invoke(app, ["review", str(out), "--import", str(sheet)])
    assert done.exit_code == 0, done.stderr
    assert "estimated precision 0.75" in done.stderr and "from 4 reviewed pairs" in done.stderr


def spawn(out: Path, *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "crmclean.cli.main", "review", str(out), "--plain", *args],
        cwd=str(out.parent),
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "140"},
        encoding="utf-8",
        codec_errors="replace",
        timeout=60,
        dimensions=(60, 140),
    )


def test_plain_session_in_uncertainty_order_writes_the_decisions(
    matched: tuple[Path, Path, Path],
) -> None:
    out, _, rules = matched
    queue = read_queue(read_reviewed(out), load_rules(rules).rules)
    nearest = ordered(queue, Order.uncertainty).row(0, named=True)
    child = spawn(out, "--order", "uncertainty", "--by", "anna")
    child.expect(f"Pair 1 of {queue.height}")
    child.expect("weight")  # the per-comparison evidence from the dedupe's pairs
    child.send("y")
    child.expect(f"Pair 2 of {queue.height}")
    child.send("q")
    child.expect("1 match")
    child.expect(pexpect.EOF)
    saved = decisions(rules)
    pair = sorted((nearest["record_id_l"], nearest["record_id_r"]))
    assert [(d["record_id_l"], d["record_id_r"], d["decision"]) for d in saved] == [
        (*pair, "match")
    ]
    assert saved[0]["decided_by"] == "anna"
    assert (nearest["match_probability"] - 0.5) ** 2 == min(
        (p - 0.5) ** 2 for p in queue.get_column("match_probability")
    )


def test_order_value_checks_its_column_on_a_dedupe_folder(
    matched: tuple[Path, Path, Path],
) -> None:
    out, _, _ = matched
    done = runner.invoke(app, ["review", str(out), "--order", "value", "--value-column", "x"])
    assert done.exit_code == 2 and "no such column" in done.stderr


def test_the_full_screen_shows_the_pair_and_its_clusters(
    matched: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    out, _, rules = matched
    reviewed = read_reviewed(out)
    assert reviewed.command == "dedupe" and reviewed.auto_merge == 0.95
    loaded = load_rules(rules)
    queue = ordered(read_queue(reviewed, loaded.rules), Order.uncertainty)
    members = read_members(reviewed, loaded.rules.dataset.source_column)
    assert members is not None and set(members.columns) == {
        "golden_id",
        "record_id",
        "how",
        "source_system",
    }
    path = tmp_path / "decisions.csv"
    session = ReviewSession(queue, DecisionsLog(path), "anna")
    mask = make_masker({"first_name": "text", "last_name": "text", "email": "email"}, False)
    review = ReviewApp(session, mask, {}, members)
    first = queue.row(0, named=True)

    async def main() -> None:
        async with review.run_test(size=(80, 24)) as pilot:
            head = str(review.query_one("#head", Static).render())
            assert f"Pair 1 of {queue.height}" in head and first["record_id_l"] in head
            cluster = review.query_one("#cluster", DataTable)
            shown = {str(cluster.get_row_at(i)[0]) for i in range(cluster.row_count)}
            left = members.filter(pl.col("golden_id") == first["golden_id_l"])
            assert set(left.get_column("record_id")) <= shown
            await pilot.press("n", "q")

    try:
        asyncio.run(main())
    finally:
        session.log.close()
    saved = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert [(d["record_id_l"], d["record_id_r"], d["decision"]) for d in saved] == [
        (*sorted((first["record_id_l"], first["record_id_r"])), "no_match")
    ]


def test_a_folder_of_neither_command_is_exit_3(tmp_path: Path) -> None:
    done = runner.invoke(app, ["review", str(tmp_path)])
    assert done.exit_code == 3
    assert "no manifest.json or dedupe.json" in done.stderr
