"""The report leads a steward to the problem: the verdict first, a drill-down from each failed
or warned rule to its records and from the review queue to its most uncertain pairs, reformatting
after real changes, one condensed survivorship table, and a page that fits a phone."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.report.html import build_report
from report_data import SECRET_EMAILS, write_full_run, write_validate_run
from run_fixtures import write_case


def _build(folder: Path) -> tuple[str, dict[str, Any]]:
    page = build_report(folder).read_text(encoding="utf-8")
    return page, json.loads((folder / "report.json").read_text(encoding="utf-8"))


def test_a_failed_run_opens_with_its_failed_rules_not_a_green_score(tmp_path: Path) -> None:
    page, document = _build(write_validate_run(tmp_path / "out"))
    summary = page[page.index('<section id="summary">') :]
    verdict = summary.index('class="verdict fail"')
    assert verdict < summary.index('class="score')
    assert 'class="score good"' not in page
    headline = re.search(r'<p class="headline">([^<]*)</p>', page)
    assert headline and headline.group(1).startswith("Data failed: 1 rule(s) failed, 2 warned")
    failed = next(i for i, r in enumerate(document["rules"]) if r["status"] == "fail")
    link = f'<a href="#rule-{failed}">email.email_valid</a>'
    assert link in page[: page.index('<section id="rules">')]


def test_each_flagged_rule_drills_down_to_its_masked_records(tmp_path: Path) -> None:
    page, document = _build(write_validate_run(tmp_path / "out"))
    for i, rule in enumerate(document["rules"]):
        if rule["status"] == "pass":
            continue
        block = re.search(rf'<details id="rule-{i}"( open)?>(.*?)</details>', page, re.S)
        assert block, rule["rule_id"]
        assert (block.group(1) == " open") == (rule["status"] == "fail")
        ids = re.findall(r"<tr><td>([^<]*)</td>", block.group(2))
        assert ids == [r["record_id"] for r in rule["records"]]
    email = next(r for r in document["rules"] if r["rule_id"] == "email.email_valid")
    assert [r["record_id"] for r in email["records"]] == ["2", "5", "7"]
    assert not any(secret in page for secret in SECRET_EMAILS)


def test_the_drill_down_is_capped_and_says_where_the_rest_is(tmp_path: Path) -> None:
    out = write_validate_run(tmp_path / "out")
    many = pl.DataFrame(
        {
            "rule_id": ["email.email_valid"] * 45,
            "check": ["email_valid"] * 45,
            "column": ["email"] * 45,
            "record_id": [str(i) for i in range(45)],
            "value": ["x"] * 45,
            "message": ["not an e-mail"] * 45,
            "severity": ["error"] * 45,
        }
    )
    many.write_parquet(out / "violations.parquet")
    summary = json.loads((out / "validate.json").read_text(encoding="utf-8"))
    for result in summary["results"]:
        if result["rule_id"] == "email.email_valid":
            result["violations"] = 45
    (out / "validate.json").write_text(json.dumps(summary), encoding="utf-8")
    page, document = _build(out)
    email = next(r for r in document["rules"] if r["rule_id"] == "email.email_valid")
    assert len(email["records"]) == 20
    more = email["violations"] - 20
    assert f"First 20 shown; {more:,} more. All of them are in violations.parquet" in page


def test_the_review_queue_shows_its_most_uncertain_pairs_whose_weights_add_up(
    tmp_path: Path,
) -> None:
    out = write_full_run(tmp_path / "out")
    page, document = _build(out)
    top = document["review"]["top_pairs"]
    queue = pl.read_parquet(out / "review.parquet")
    assert len(top) == min(5, queue.height) > 0
    distances = [abs(p["match_probability"] - 0.5) for p in top]
    assert distances == sorted(distances)
    nearest = (queue["match_probability"] - 0.5).abs().min()
    assert abs(distances[0] - nearest) < 1e-6
    for i, pair in enumerate(top):
        assert pair["contributions"][0]["comparison"] == "prior"
        total = sum(c["match_weight"] for c in pair["contributions"])
        assert abs(total - pair["match_weight"]) < 1e-3
        assert f'data-field="review.top_pairs.{i}.match_weight"' in page


def test_reformatting_steps_follow_the_steps_that_change_content(tmp_path: Path) -> None:
    _, document = _build(write_full_run(tmp_path / "out"))
    steps = document["standardisation"]["steps"]
    flags = [s["cosmetic"] for s in steps]
    assert flags == sorted(flags)  # every cosmetic step after every other one
    assert all(s["cosmetic"] == (s["step"] in ("date", "datetime", "trim")) for s in steps
               if s["step"] in ("date", "datetime", "trim", "phone", "email"))  # fmt: skip


def test_survivorship_is_one_table_with_a_row_per_column(tmp_path: Path) -> None:
    page, document = _build(write_full_run(tmp_path / "out"))
    golden = page[page.index('<section id="golden">') :]
    golden = golden[: golden.index("</section>")]
    assert "Survivorship strategies" not in golden
    table = golden[golden.index("<h3>Which source won</h3>") :].split("<h3>")[1]
    rows = re.findall(r"<tr><td>", table)
    assert len(rows) == len(document["golden"]["survivorship_sources"])


def test_the_page_has_nothing_wider_than_a_phone_outside_a_scroll_box(tmp_path: Path) -> None:
    # the rules this checks in CSS; tests/test_report_browser.py measures it in Chromium
    page, _ = _build(write_full_run(tmp_path / "out"))
    css = page[page.index("<style>") : page.index("</style>")]
    assert "minmax(min(420px,100%),1fr)" in css and "min-width:min(320px,100%)" in css
    assert "flex-wrap:wrap" in css[css.index("nav{") :]
    assert '<div class="scroll"><table class="rules">' in page


def test_figures_per_source_system_count_each_records_own_source(tmp_path: Path) -> None:
    # clean.parquet: odd record ids come from crm, even ones from shop
    page, document = _build(write_full_run(tmp_path / "out"))
    got = {s["source"]: s for s in document["by_source"]}
    assert set(got) == {"crm", "shop"}
    # violations: e-mail on 2, 5, 7; name and city on 4
    assert (got["crm"]["violations"], got["crm"]["records_flagged"]) == (2, 2)
    assert (got["shop"]["violations"], got["shop"]["records_flagged"]) == (3, 2)
    # golden records merging several: {1, 2}, {3, 4, 5}, {8, 9}
    assert (got["crm"]["in_duplicates"], got["shop"]["in_duplicates"]) == (4, 3)
    # lineage names the source system of each golden value: crm 3 times, shop twice
    assert (got["crm"]["golden_values_won"], got["shop"]["golden_values_won"]) == (3, 2)
    assert got["crm"]["records"] == got["shop"]["records"] == 5
    assert 0 < got["crm"]["completeness"] <= 1
    assert '<section id="sources">' in page and 'href="#sources"' in page


def test_no_source_column_no_source_section(tmp_path: Path) -> None:
    out = write_full_run(tmp_path / "out")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    del manifest["source_column"]
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    page, document = _build(out)
    assert document["by_source"] is None and '<section id="sources">' not in page


def test_runs_with_previous_carry_a_history_the_report_charts(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path / "case")
    out = tmp_path / "out"
    args = ["run", str(data), "-r", str(rules), "--out", str(out), "--previous", str(out), "-q"]
    runner = CliRunner()
    assert runner.invoke(app, args).exit_code in (0, 1)
    first = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert first["trend"] is None  # one night is no trend
    pl.read_csv(data).head(100).write_csv(data)  # the second night's export is smaller
    assert runner.invoke(app, args).exit_code in (0, 1)
    nights = json.loads((out / "history.json").read_text(encoding="utf-8"))["nights"]
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert len(nights) == 2 and "history.json" in manifest["outputs"]
    assert nights[-1]["golden_records"] == manifest["rows"]["golden"]
    assert nights[-1]["review"] == manifest["rows"]["review"]
    validate = json.loads((out / "validate.json").read_text(encoding="utf-8"))
    assert nights[-1]["score"] == validate["score"]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [n["golden_records"] for n in report["trend"]] == [n["golden_records"] for n in nights]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<section id="trend">' in page and "2 nights recorded" in page
    # without --previous a run starts a new history
    fresh = tmp_path / "fresh"
    args = ["run", str(data), "-r", str(rules), "--out", str(fresh), "-q"]
    assert runner.invoke(app, args).exit_code in (0, 1)
    assert len(json.loads((fresh / "history.json").read_text())["nights"]) == 1


def test_uncertain_pairs_name_each_level_and_the_explain_command_names_the_folder(
    tmp_path: Path,
) -> None:
    """Not `contact 11` or `-1`: each field's level reads as the review screen says it (same /
    similar / different / missing and the level's name), and the suggested command runs."""
    data, rules = write_case(tmp_path / "case")
    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["run", str(data), "-r", str(rules), "--out", str(out), "-q"])
    assert done.exit_code == 0, done.stderr
    page, document = _build(out)
    section = page[page.index("<h3>Most uncertain pairs</h3>") :]
    section = section[: section.index("</section>")]
    cells = re.findall(r"<tr><td>([a-z_]+)</td><td>([^<]*)</td>", section)
    levels = [level for field, level in cells if field != "prior"]
    assert levels
    words = ("same (", "similar (", "different (", "missing (null)")
    assert all(level.startswith(words) for level in levels), levels
    assert "explain OUT" not in section and f"crmclean explain {out} " in section
    contributions = document["review"]["top_pairs"][0]["contributions"]
    assert {c["agreement"] for c in contributions[1:]} <= {
        "same",
        "similar",
        "different",
        "missing",
    }


def test_a_rule_on_the_whole_data_set_is_not_given_a_share_of_rows() -> None:
    """freshness and row_count judge the data set once: "100.0% of checked rows" says nothing."""
    from crmclean.report.html_verdict import _item
    from crmclean.report.report_model import RuleResult

    def rule(check: str) -> RuleResult:
        return RuleResult(check, check, None, "error", "fail", 1, 1, 1.0, None, None, [])

    assert "the data set as a whole does not meet it" in _item(0, rule("freshness"))
    assert "of checked rows" not in _item(0, rule("row_count"))
    assert "1 violation(s), 100.0% of checked rows" in re.sub(
        "<[^>]+>", "", _item(0, rule("not_null"))
    )


def test_a_run_report_says_its_checks_ran_on_the_cleaned_data(tmp_path: Path) -> None:
    """validate on the raw file counts more failures than run: the report says why."""
    html, _ = _build(write_full_run(tmp_path))
    verdict = html[
        html.index('class="verdict') : html.index("</div>", html.index('class="verdict'))
    ]
    assert "These checks ran on the cleaned data" in verdict and "docs/run.md" in verdict


def test_a_queue_too_long_to_decide_one_by_one_says_how_to_work_it() -> None:
    from crmclean.report.html_drill_down import LARGE_QUEUE, review_pairs
    from crmclean.report.report_model import Review

    long = review_pairs(Review(pairs=LARGE_QUEUE + 1, folder="out/night"))
    assert f"{LARGE_QUEUE + 1:,} pairs wait for review" in long
    assert "crmclean review out/night --order value" in long and "--sample 150" in long
    assert "pairs wait for review" not in review_pairs(Review(pairs=LARGE_QUEUE, folder="o"))


def test_why_pairs_matched_names_levels_as_the_review_screen_does(tmp_path: Path) -> None:
    """The example pairs' bars read `email: same (exact)`, not `email (level 3)`; and a run's
    own report (built in its temp folder) names the --out folder in the commands it suggests."""
    data, rules = write_case(tmp_path / "case")
    out = tmp_path / "out"
    done = CliRunner().invoke(app, ["run", str(data), "-r", str(rules), "--out", str(out), "-q"])
    assert done.exit_code == 0, done.stderr
    page = (out / "report.html").read_text(encoding="utf-8")
    assert ".tmp-" not in page and f"crmclean explain {out} " in page
    assert "(level " not in page
    assert re.search(r"[a-z_]+: (same|similar|different|missing) \(", page)
