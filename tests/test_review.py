"""`crmclean review`: the terminal session under a pseudo-terminal, CSV export and import, and
decisions honoured by the next run."""

from __future__ import annotations

import csv
import io
import os
import sys
from pathlib import Path

import pexpect
import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app
from run_fixtures import write_case

runner = CliRunner()


@pytest.fixture()
def case(tmp_path: Path) -> tuple[Path, Path, Path]:
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(data), "--rules", str(rules), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    assert pl.read_parquet(out / "review.parquet").height >= 4
    return data, rules, out


def spawn(out: Path, *args: str) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "crmclean.cli.main", "review", str(out), "--plain", "--order", "queue", *args],
        cwd=str(out.parent),
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "140"},
        encoding="utf-8",
        codec_errors="replace",  # ^C echoed into the middle of a box-drawing character
        timeout=60,
        dimensions=(60, 140),
    )


def decisions(folder: Path) -> list[dict[str, str]]:
    text = (folder / "decisions.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def queue(out: Path) -> list[tuple[str, str]]:
    frame = pl.read_parquet(out / "review.parquet")
    return list(frame.select("record_id_l", "record_id_r").iter_rows())


def test_keys_decide_skip_undo_and_quit(case: tuple[Path, Path, Path]) -> None:
    _, _, out = case
    pairs = queue(out)
    child = spawn(out, "--by", "anna")
    child.expect("Pair 1 of")
    child.expect("weight")  # the per-comparison evidence is shown
    child.send("y")
    child.expect("Pair 2 of")
    child.send("n")
    child.expect("Pair 3 of")
    assert [d["decision"] for d in decisions(out.parent)] == ["match", "no_match"]
    child.send("u")  # takes the no_match back out of the file
    child.expect("Pair 2 of")
    assert [d["decision"] for d in decisions(out.parent)] == ["match"]
    child.send("s")
    child.expect("Pair 3 of")
    child.send("q")
    child.expect("1 match, 1 skipped")
    child.expect(pexpect.EOF)
    saved = decisions(out.parent)
    assert [(d["record_id_l"], d["record_id_r"]) for d in saved] == [pairs[0]]
    assert saved[0]["decided_by"] == "anna" and saved[0]["decided_at"].endswith("Z")


def test_ctrl_c_loses_no_decision_and_next_run_honours_it(
    case: tuple[Path, Path, Path],
) -> None:
    data, rules, out = case
    first, second = queue(out)[:2]
    child = spawn(out)
    child.expect("Pair 1 of")
    child.send("y")
    child.expect("Pair 2 of")
    child.send("n")
    child.expect("Pair 3 of")
    child.sendintr()
    child.expect(pexpect.EOF)
    assert [d["decision"] for d in decisions(out.parent)] == ["match", "no_match"]

    again = out.parent / "again"
    result = runner.invoke(
        app, ["run", str(data), "--rules", str(rules), "--out", str(again), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    crosswalk = pl.read_parquet(again / "crosswalk.parquet")
    gid = dict(crosswalk.select("record_id", "golden_id").iter_rows())
    how = dict(crosswalk.select("record_id", "how").iter_rows())
    assert gid[first[0]] == gid[first[1]] and how[first[0]] == "steward"
    assert gid[second[0]] != gid[second[1]]
    assert first not in queue(again) and second not in queue(again)
    # the session resumes where the steward left off
    child = spawn(again)
    child.expect(f"Pair 1 of {len(queue(again))}")
    child.send("q")
    child.expect(pexpect.EOF)


def test_csv_export_is_spreadsheet_safe_and_import_reads_it_back(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, _, out = case
    frame = pl.read_parquet(out / "review.parquet")
    evil = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit('=HYPERLINK("http://x")'))
        .otherwise(pl.col("city_l"))
        .alias("city_l"),
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("+4930123456"))
        .otherwise(pl.col("source_system_r"))
        .alias("source_system_r"),
    )
    evil.write_parquet(out / "review.parquet")
    result = runner.invoke(app, ["review", str(out), "--format", "csv", "--order", "queue"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("record_id_l,record_id_r,match_probability")
    assert lines[0].endswith(",decision")
    assert "'=HYPERLINK" in lines[1] and '"+4930123456"' in lines[1]
    assert "@example.com" in result.stdout and ".becker" not in result.stdout  # e-mails masked

    sheet = tmp_path / "sheet.csv"
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    rows[0]["decision"] = "y"
    rows[1]["decision"] = "no_match"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = runner.invoke(app, ["review", str(out), "--import", str(sheet), "--by", "bob"])
    assert result.exit_code == 0, result.stderr
    saved = decisions(out.parent)
    assert [(d["decision"], d["decided_by"]) for d in saved] == [
        ("match", "bob"),
        ("no_match", "bob"),
    ]
    # imported pairs leave the queue
    result = runner.invoke(app, ["review", str(out), "--format", "csv"])
    assert len(result.stdout.splitlines()) == len(lines) - 2


def test_bad_import_and_no_terminal(case: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, _, out = case
    sheet = tmp_path / "bad.csv"
    sheet.write_text(
        "record_id_l,record_id_r,decision\nC00001,C00002,y\nC00001,C00003,\n"
        "C00002,C00003, Maybe\nC00003,C00004,perhaps\n"
    )
    result = runner.invoke(app, ["review", str(out), "--import", str(sheet)])
    # one line naming the file, the line and the value as written; nothing is imported
    assert result.exit_code == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert f"{sheet}:4: decision ' Maybe' is not match/no_match/y/n (and 1 more)" in result.stderr
    assert not (out.parent / "decisions.csv").exists()
    result = runner.invoke(app, ["review", str(out)])
    assert result.exit_code == 2 and "needs a terminal" in result.stderr
    result = runner.invoke(app, ["review", str(tmp_path)])
    assert result.exit_code == 3 and "not the outputs" in result.stderr


def test_import_appends_after_a_hand_edited_last_line(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, _, out = case
    (out.parent / "decisions.csv").write_text(
        "record_id_l,record_id_r,decision\nC00001,C00002,no_match", encoding="utf-8"
    )
    left, right = queue(out)[0]
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(f"record_id_l,record_id_r,decision\n{left},{right},match\n", encoding="utf-8")
    result = runner.invoke(app, ["review", str(out), "--import", str(sheet), "--by", "cy"])
    assert result.exit_code == 0, result.stderr
    saved = decisions(out.parent)
    assert [(d["record_id_l"], d["decision"]) for d in saved] == [
        ("C00001", "no_match"),
        (left, "match"),
    ]
    # the rows keep the hand-made header's width, so the strict reader (and the next run) can
    # read the file
    from crmclean.io.decisions_file import read_decisions_file

    kept = read_decisions_file(out.parent / "decisions.csv")
    assert kept.columns == ["record_id_l", "record_id_r", "decision"] and kept.height == 2


def test_no_decision_leaves_no_file_and_a_header_only_file_is_fine(
    case: tuple[Path, Path, Path],
) -> None:
    data, rules, out = case
    child = spawn(out)
    child.expect("Pair 1 of")
    child.send("y")
    child.expect("Pair 2 of")
    child.send("u")  # the only decision taken back: the file this session made goes too
    child.expect("Pair 1 of")
    child.send("q")
    child.expect(pexpect.EOF)
    assert not (out.parent / "decisions.csv").exists()

    (out.parent / "decisions.csv").write_text(
        "record_id_l,record_id_r,decision,decided_by,decided_at,note\n", encoding="utf-8"
    )
    again = out.parent / "again"
    result = runner.invoke(app, ["run", str(data), "--rules", str(rules), "--out", str(again)])
    assert result.exit_code == 0, result.stderr
    assert len(queue(again)) == len(queue(out))


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("C00001,C00002,y\nC00001,C09999,match\n", ":3: names a record the run does not hold"),
        ("C00001,C00002,y\n'C00003,C00003,match\n", ":3: pairs record 'C00003' with itself"),
        # review finding 12: an empty id is named as such, not "pairs record None with itself"
        ("C00001,C00002,y\n,C00003,match\n", ":3: a record id is empty"),
        ("C00001,C00002,y\nC00003,  ,n\n", ":3: a record id is empty"),
    ],
)
def test_import_refuses_unknown_ids_and_self_pairs_and_the_next_run_goes_on(
    case: tuple[Path, Path, Path], tmp_path: Path, rows: str, expected: str
) -> None:
    data, rules, out = case
    sheet = tmp_path / "sheet.csv"
    sheet.write_text("record_id_l,record_id_r,decision\n" + rows, encoding="utf-8")
    result = runner.invoke(app, ["review", str(out), "--import", str(sheet)])
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"crmclean: error: {sheet}{expected}"), result.stderr
    assert result.stderr.count("\n") == 1
    assert not (out.parent / "decisions.csv").exists()  # nothing imported, not even line 2
    args = ["run", str(data), "--rules", str(rules), "--out", str(out), "-q"]
    assert runner.invoke(app, args).exit_code == 0


@pytest.mark.parametrize("header", ["record_id_l,record_id_r,verdict", "record_id_l,decision"])
def test_import_without_a_needed_column_is_a_usage_error_naming_it(
    case: tuple[Path, Path, Path], tmp_path: Path, header: str
) -> None:
    """A sheet lacking `decision` or a record_id column: exit 2 naming it (review finding 12)."""
    _, _, out = case
    sheet = tmp_path / "sheet.csv"
    values = ",".join(["C00001", "C00002", "y"][: header.count(",") + 1])
    sheet.write_text(f"{header}\n{values}\n", encoding="utf-8")
    result = runner.invoke(app, ["review", str(out), "--import", str(sheet)])
    assert result.exit_code == 2, result.stderr
    missing = "decision" if "verdict" in header else "record_id_r"
    assert f"lacks column(s) {missing}" in result.stderr, result.stderr
    assert not (out.parent / "decisions.csv").exists()


def test_keys_typed_ahead_are_each_a_decision(case: tuple[Path, Path, Path]) -> None:
    # A steward who knows the answers types "yn" at once: both count. With the terminal put in
    # raw mode for each key (click's getchar), "yn" came in as one unknown key, or the second
    # key was flushed while the next pair was drawn.
    _, _, out = case
    child = spawn(out)
    child.expect("Pair 1 of")
    child.send("yn")
    child.expect("Pair 3 of")
    child.send("q")
    child.expect(pexpect.EOF)
    assert [d["decision"] for d in decisions(out.parent)] == ["match", "no_match"]


def test_import_never_appends_to_a_file_that_is_not_a_decisions_file(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    # A decisions path that is a link to the run's input (or any other file): the first line is
    # not the decisions header, so nothing is appended and the input stays as it was.
    data, rules, out = case
    decisions_file = rules.parent / "decisions.csv"
    decisions_file.unlink(missing_ok=True)
    decisions_file.symlink_to(data)
    before = data.read_bytes()
    first, _ = queue(out)[:2]
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        f"record_id_l,record_id_r,decision\n{first[0]},{first[1]},match\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["review", str(out), "--import", str(sheet)])
    assert result.exit_code == 3, result.output
    assert "is not a decisions file written by crmclean" in result.stderr
    assert data.read_bytes() == before


def test_review_finds_the_runs_rule_file_from_any_folder(
    case: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The manifest names the rule file by its absolute path, so a steward reviewing from another
    # folder writes into the run's decisions file, not into one that folder happens to hold.
    data, rules, _ = case
    monkeypatch.chdir(rules.parent)  # the run names its rule file relative to this folder
    out = tmp_path / "out-relative"
    relative = os.path.relpath(data, rules.parent)
    args = ["run", relative, "--rules", rules.name, "--out", str(out), "-q"]
    assert runner.invoke(app, args).exit_code == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / rules.name).write_text(rules.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.chdir(elsewhere)  # holds a rule file of the same name: the old lookup took it
    first, _ = queue(out)[:2]
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        f"record_id_l,record_id_r,decision\n{first[0]},{first[1]},match\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["review", str(out), "--import", str(sheet)])
    assert result.exit_code == 0, result.output
    assert not (elsewhere / "decisions.csv").exists()
    assert (rules.parent / "decisions.csv").is_file()


def test_german_excel_export_has_a_bom_semicolons_and_decimal_commas_and_imports_back(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, _, out = case
    sheet = tmp_path / "queue.csv"
    args = ["review", str(out), "-f", "csv", "--out", str(sheet), "--delimiter", ";"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stderr
    raw = sheet.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfrecord_id_l;record_id_r;match_probability;")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows and all(
        "," in r["match_probability"] for r in rows if r["match_probability"] != "1"
    )
    rows[0]["decision"] = "y"
    with sheet.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)
    result = runner.invoke(app, ["review", str(out), "--import", str(sheet), "--delimiter", ";"])
    assert result.exit_code == 0, result.stderr
    assert [d["decision"] for d in decisions(out.parent)] == ["match"]


def test_the_old_output_option_still_works_with_a_note(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, _, out = case
    sheet = tmp_path / "queue.csv"
    result = runner.invoke(app, ["review", str(out), "--format", "csv", "--output", str(sheet)])
    assert result.exit_code == 0, result.stderr
    assert "--output is now --out" in result.stderr and sheet.is_file()
    assert "--output" not in runner.invoke(app, ["review", "--help"]).stdout


def test_exporting_the_queue_needs_no_decisions_file(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path)
    text = rules.read_text(encoding="utf-8")
    rules.write_text(
        "\n".join(line for line in text.splitlines() if "decisions:" not in line) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", str(data), "--rules", str(rules), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    exported = runner.invoke(app, ["review", str(out), "-f", "csv"])
    assert exported.exit_code == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == pl.read_parquet(out / "review.parquet").height
    # deciding does need one, and the message says that exporting does not
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(exported.stdout, encoding="utf-8")
    imported = runner.invoke(app, ["review", str(out), "--import", str(sheet)])
    assert imported.exit_code == 2 and "matching.decisions is not set" in imported.stderr
