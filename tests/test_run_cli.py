"""`crmclean run`: outputs, counts that add up, idempotence, stable ids, exit codes, logs."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pexpect
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.io.lock import output_lock
from run_fixtures import customers, write_case

runner = CliRunner()
TABLES = ["golden", "crosswalk", "lineage", "review", "changes-since-previous", "quarantine"]


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, ["run", *map(str, args)])
    return result.exit_code, result.stderr


def manifest(out: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((out / "manifest.json").read_text())
    return data


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("run")
    data, rules = write_case(folder)
    out = folder / "out"
    code, err = run(data, "--rules", rules, "--out", out, "--quiet")
    assert code == 0, err
    return data, rules, out


def test_outputs_and_counts_add_up(case: tuple[Path, Path, Path]) -> None:
    data, _, out = case
    for name in TABLES:
        assert (out / f"{name}.parquet").is_file(), name
    assert (out / "golden.csv").is_file() and (out / "report.html").is_file()
    golden = pl.read_parquet(out / "golden.parquet")
    crosswalk = pl.read_parquet(out / "crosswalk.parquet")
    lineage = pl.read_parquet(out / "lineage.parquet")
    assert golden.columns[0] == "golden_id" and golden["golden_id"].is_unique().all()
    assert crosswalk.columns == ["record_id", "golden_id", "match_probability", "how"]
    source = pl.read_csv(data)
    # no input row silently dropped: every record id is in the crosswalk exactly once
    assert sorted(crosswalk["record_id"]) == sorted(source["customer_id"])
    assert set(crosswalk["golden_id"]) == set(golden["golden_id"])
    assert set(lineage["golden_id"]) == set(golden["golden_id"])
    assert lineage.height == golden.height * (golden.width - 1)
    m = manifest(out)
    rows = m["rows"]
    assert isinstance(rows, dict)
    assert rows["input"] == source.height == rows["matched"] + rows["quarantined"]
    assert m["rows_add_up"] is True
    assert rows["golden"] == golden.height < source.height  # duplicates were merged
    assert m["golden_ids"] == {"high_water_mark": golden.height, "prefix": "G"}
    for key in ("crmclean_version", "rule_file_sha256", "inputs", "seed", "steps", "exit_code"):
        assert key in m
    assert m["inputs"][0]["sha256"]  # type: ignore[index]
    assert set(m["steps"]) >= {"read", "clean", "validate", "dedupe", "golden", "write"}  # type: ignore[arg-type]


def test_idempotent_rerun_gives_identical_outputs(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    data, rules, out = case
    again = tmp_path / "again"
    assert run(data, "--rules", rules, "--out", again, "--quiet")[0] == 0
    for name in [*TABLES, "pairs", "clusters", "clean", "violations"]:
        assert_frame_equal(
            pl.read_parquet(out / f"{name}.parquet"), pl.read_parquet(again / f"{name}.parquet")
        )
    assert (out / "golden.csv").read_bytes() == (again / "golden.csv").read_bytes()


def test_previous_keeps_ids_and_lists_changes(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    data, rules, out = case
    same = tmp_path / "same"
    assert run(data, "--rules", rules, "--out", same, "--previous", out, "--quiet")[0] == 0
    assert_frame_equal(
        pl.read_parquet(out / "crosswalk.parquet").select("record_id", "golden_id"),
        pl.read_parquet(same / "crosswalk.parquet").select("record_id", "golden_id"),
    )
    assert pl.read_parquet(same / "changes-since-previous.parquet").height == 0

    # the next night: two records gone, a new customer arrives
    frame = customers()
    night2 = tmp_path / "night2.csv"
    extra = frame.tail(1).with_columns(
        pl.lit("C99999").alias("customer_id"),
        pl.lit("zora.neu@example.com").alias("email"),
        pl.lit("Zora").alias("first_name"),
        pl.lit("Neu").alias("last_name"),
    )
    pl.concat([frame.slice(2), extra]).write_csv(night2)
    nxt = tmp_path / "next"
    assert run(night2, "--rules", rules, "--out", nxt, "--previous", out, "--quiet")[0] == 0
    before = pl.read_parquet(out / "crosswalk.parquet").select("record_id", "golden_id")
    after = pl.read_parquet(nxt / "crosswalk.parquet").select("record_id", "golden_id")
    kept = before.join(after, on="record_id", suffix="_now")
    moved = kept.filter(pl.col("golden_id") != pl.col("golden_id_now"))
    assert moved.height == 0
    mark = manifest(out)["golden_ids"]["high_water_mark"]  # type: ignore[index]
    new_id = after.filter(pl.col("record_id") == "C99999")["golden_id"].item()
    assert int(new_id[1:]) == mark + 1
    changes = pl.read_parquet(nxt / "changes-since-previous.parquet")
    assert (new_id, "created") in set(changes.select("golden_id", "change").iter_rows())


def test_quarantine_sets_failing_rows_aside_and_exit_code_1(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path, threshold="0%")
    out = tmp_path / "out"
    code, _ = run(data, "--rules", rules, "--out", out, "--quarantine", "--quiet")
    assert code == 1  # email_valid is an error rule with no tolerance
    held = pl.read_parquet(out / "quarantine.parquet")
    assert held.height > 0 and (held["email"] == "not-an-email").all()
    assert held.columns[-1] == "quarantine_rules"
    crosswalk = pl.read_parquet(out / "crosswalk.parquet")
    assert not set(held["record_id"]) & set(crosswalk["record_id"])
    rows = manifest(out)["rows"]
    assert rows["input"] == rows["matched"] + rows["quarantined"] == 109  # type: ignore[index]
    assert manifest(out)["exit_code"] == 1


def test_rule_file_errors_exit_2_and_bad_input_exit_3(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path)
    broken = tmp_path / "broken.yaml"
    broken.write_text(rules.read_text().replace("[city, updated_at]", "[town, updated_at]"))
    code, err = run(data, "--rules", broken, "--out", tmp_path / "o1")
    assert code == 2
    assert "broken.yaml:" in err and "keep_together" in err and "town" in err
    code, err = run(tmp_path / "missing.csv", "--rules", rules, "--out", tmp_path / "o2")
    assert code == 3 and "missing.csv" in err
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


def test_second_run_on_same_out_is_refused_with_a_message(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    with output_lock(out):
        code, err = run(data, "--rules", rules, "--out", out)
    assert code == 3
    assert "another crmclean run" in err and "is writing to" in err
    assert not out.exists()


def test_log_json_and_quiet(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path)
    log = tmp_path / "run.log"
    code, err = run(data, "--rules", rules, "--out", tmp_path / "out", "--quiet", "--log-json", log)
    assert code == 0 and err == ""
    events = [json.loads(line) for line in log.read_text().splitlines()]
    names = [e["event"] for e in events]
    assert names[0] == "run_started" and names[-1] == "run_finished"
    assert {"clean", "validate", "dedupe", "golden", "write"} <= {e.get("step") for e in events}
    assert all({"ts", "level", "event"} <= set(e) for e in events)
    # a failure is logged too
    code, _ = run(
        tmp_path / "nope.csv", "--rules", rules, "--out", tmp_path / "o", "--log-json", log
    )
    assert code == 3
    last = json.loads(log.read_text().splitlines()[-1])
    assert last["event"] == "run_failed" and last["level"] == "error"


def test_summary_says_where_outputs_are(tmp_path: Path) -> None:
    # the summary is the command's result: stdout, so `crmclean run ... > summary.txt` keeps it
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    done = runner.invoke(app, ["run", str(data), "--rules", str(rules), "--out", str(out)])
    assert done.exit_code == 0
    assert f"report:  {out}/report.html" in done.stdout
    assert "golden records" in done.stdout and f"crmclean review {out}" in done.stdout
    assert "golden records" not in done.stderr and "crmclean run: exit 0" in done.stderr


def test_format_json_prints_the_manifest_on_stdout(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    args = ["run", str(data), "--rules", str(rules), "--out", str(out), "-f", "json", "-q"]
    done = runner.invoke(app, args)
    assert done.exit_code == 0
    assert json.loads(done.stdout) == manifest(out)
    assert done.stderr == ""


def test_the_summary_table_is_not_cut_off_a_terminal(tmp_path: Path) -> None:
    # a pipe or file gets the full width, not rich's 80 columns
    data, rules = write_case(tmp_path)
    out = tmp_path / "a-folder-name-long-enough-to-push-the-title-past-eighty-columns" / "out"
    done = runner.invoke(app, ["run", str(data), "--rules", str(rules), "--out", str(out)])
    assert done.exit_code == 0
    assert f"crmclean run -> {out}" in done.stdout


def test_the_summary_gives_the_whole_runs_time_before_its_steps(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    done = runner.invoke(app, ["run", str(data), "--rules", str(rules), "--out", str(out)])
    assert done.exit_code == 0
    cells = [[c.strip() for c in line.split("│")] for line in done.stdout.splitlines()]
    at = next(i for i, c in enumerate(cells) if len(c) > 2 and c[1] == "time")
    row = " ".join(cells[at])  # a long cell wraps onto lines whose first cell is empty
    for more in cells[at + 1 :]:
        if len(more) <= 2 or more[1]:
            break
        row += " " + " ".join(more)
    total = float(row.split("time", 1)[1].split("s in all:", 1)[0])
    steps = manifest(out)["steps"]
    assert total >= sum(steps.values()) - 0.05  # rounded to 0.1 s
    assert all(name in row for name in steps)


def test_previous_may_be_the_out_folder_itself(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    assert run(data, "--rules", rules, "--out", out, "-q")[0] == 0
    first = pl.read_parquet(out / "crosswalk.parquet").select("record_id", "golden_id")
    assert run(data, "--rules", rules, "--out", out, "--previous", out, "-q")[0] == 0
    assert_frame_equal(first, pl.read_parquet(out / "crosswalk.parquet").select(first.columns))
    assert manifest(out)["previous"] == str(out)
    assert pl.read_parquet(out / "changes-since-previous.parquet").height == 0


def test_no_progress_or_colour_when_not_a_terminal(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path)
    code, err = run(data, "--rules", rules, "--out", tmp_path / "out")
    assert code == 0
    assert "\x1b[" not in err and "dedupe ..." not in err


def test_a_failing_report_does_not_cost_the_nights_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import crmclean.report.html

    def broken(*_args: object, **_kwargs: object) -> Path:
        raise ValueError("chart exploded")

    monkeypatch.setattr(crmclean.report.html, "build_report", broken)
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    log = tmp_path / "log.jsonl"
    code, err = run(data, "--rules", rules, "--out", out, "--log-json", log)
    assert code == 0
    assert "report.html not built (ValueError: chart exploded)" in err
    assert (out / "golden.parquet").is_file() and not (out / "report.html").exists()
    assert "report_failed" in log.read_text()


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path, n_people=3000)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "crmclean.cli.main", "run", str(data), "--rules", str(rules), "--out", "out"],
        cwd=str(tmp_path),
        env={**os.environ, "NO_COLOR": "1"},
        encoding="utf-8",
        codec_errors="replace",
        timeout=120,
        dimensions=(30, 120),
    )
    child.expect(r"\d/6 steps")
    child.expect("crmclean run -> out")
    child.expect(pexpect.EOF)


def test_explain_reads_a_run_folder(case: tuple[Path, Path, Path]) -> None:
    _, _, out = case
    pairs = pl.read_parquet(out / "pairs.parquet")
    assert pairs.height > 0
    left, right = pairs.row(0, named=True)["record_id_l"], pairs.row(0, named=True)["record_id_r"]
    result = runner.invoke(app, ["explain", str(out), left, right, "--format", "json"])
    assert result.exit_code == 0, result.output
    explanation = json.loads(result.stdout)
    assert {explanation["record_id_l"], explanation["record_id_r"]} == {left, right}
    assert explanation["comparisons"]


def test_violations_and_changes_are_masked_unless_show_values(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """As `validate --out` and `clean --out` write them: personal values masked."""
    data, rules, out = case
    shown = tmp_path / "shown"
    assert run(data, "--rules", rules, "--out", shown, "--quiet", "--show-values")[0] == 0
    personal = ["first_name", "last_name", "email"]
    source = pl.read_csv(data, infer_schema=False)
    raw = {v for c in personal for v in source[c].drop_nulls()}
    for folder, masked in ((out, True), (shown, False)):
        changes = pl.read_parquet(folder / "changes.parquet")
        changes = changes.filter(pl.col("column").is_in(personal))
        violations = pl.read_parquet(folder / "violations.parquet")
        values = set(changes["before"].drop_nulls()) | set(violations["value"].drop_nulls())
        assert changes.height > 0
        assert bool(values & raw) is not masked, folder
        assert json.loads((folder / "validate.json").read_text())["values_masked"] is masked


def test_cron_recipe_works_on_the_first_night(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """`--out out/ --previous out/` before any run: no previous, every golden record new."""
    data, rules, _ = case
    out = tmp_path / "out"
    code, err = run(data, "--rules", rules, "--out", out, "--previous", out)
    assert code == 0, err
    assert "no previous run" in err and manifest(out)["previous"] is None
    changes = pl.read_parquet(out / "changes-since-previous.parquet")
    assert set(changes["change"]) == {"created"}
    code, err = run(data, "--rules", rules, "--out", out, "--previous", out, "--quiet")
    assert code == 0 and manifest(out)["previous"] == str(out)
    assert pl.read_parquet(out / "changes-since-previous.parquet").is_empty()
    missing = run(data, "--rules", rules, "--out", tmp_path / "o2", "--previous", tmp_path / "x")
    assert missing[0] == 3 and "no crosswalk.parquet" in missing[1]


@pytest.mark.parametrize("command", ["run", "dedupe"])
def test_repeated_record_ids_name_the_file_exit_3(tmp_path: Path, command: str) -> None:
    root = Path(__file__).resolve().parents[1]
    lines = (root / "sample_data" / "customers.csv").read_text(encoding="utf-8").splitlines()
    data = tmp_path / "dup.csv"
    data.write_text("\n".join([*lines[:4], lines[1]]) + "\n", encoding="utf-8")
    rules = str(root / "rules" / "company.yaml")
    result = runner.invoke(app, [command, str(data), "-r", rules, "-o", str(tmp_path / "out")])
    assert result.exit_code == 3, result.output
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"crmclean: error: {data}: record ids are not unique: 1 ids repeat")


def test_a_second_night_without_changes_says_none_changed(tmp_path: Path) -> None:
    # The steward must see that --previous took effect even when every golden record stayed;
    # the row used to vanish, which read like "no previous run".
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    assert run(data, "--rules", rules, "--out", out, "-q")[0] == 0
    done = runner.invoke(
        app, ["run", str(data), "--rules", str(rules), "--out", str(out), "--previous", str(out)]
    )
    assert done.exit_code == 0
    assert re.search(r"changes since previous\s*│?\s*none", done.stdout), done.stdout
