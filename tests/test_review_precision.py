"""Labels count: a steward's answers on a random sample of automatic merges estimate their
precision with a 95% Wilson interval, shown by `review` and in the report."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.core.matching.precision import estimate_precision, wilson
from run_fixtures import write_case

runner = CliRunner()


def test_wilson_interval_matches_the_textbook_values() -> None:
    # 97 of 100: 0.9155-0.9897 (Wilson 1927; Newcombe 1998, table I gives the method)
    low, high = wilson(97, 100)
    assert (round(low, 4), round(high, 4)) == (0.9155, 0.9897)
    assert wilson(10, 10)[1] == pytest.approx(1.0) and wilson(0, 10)[0] == 0.0
    assert wilson(0, 0) == (0.0, 1.0)


def test_only_labelled_merged_pairs_count_and_the_last_label_wins() -> None:
    merged = pl.DataFrame({"record_id_l": ["a", "c", "e"], "record_id_r": ["b", "d", "f"]})
    decided = pl.DataFrame(
        {
            "record_id_l": ["b", "c", "x", "c"],
            "record_id_r": ["a", "d", "y", "d"],
            "decision": ["match", "match", "no_match", "no_match"],
        }
    )
    estimate = estimate_precision(merged, decided)
    assert estimate is not None
    assert (estimate.labelled, estimate.correct, estimate.precision) == (2, 1, 0.5)
    assert estimate_precision(merged, decided.head(0)) is None


@pytest.fixture()
def run_out(tmp_path: Path) -> Path:
    data, rules = write_case(tmp_path)
    out = tmp_path / "out"
    done = runner.invoke(app, ["run", str(data), "--rules", str(rules), "--out", str(out), "-q"])
    assert done.exit_code == 0, done.stderr
    return out


def test_a_labelled_sample_gives_an_estimate_in_review_and_in_the_report(run_out: Path) -> None:
    auto = json.loads((run_out / "manifest.json").read_text())["thresholds"]
    threshold = auto["auto_merge_threshold"]
    args = ["review", str(run_out), "--sample", "5", "--seed", "3", "-f", "csv"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.stderr
    assert runner.invoke(app, args).stdout == first.stdout  # same seed, same sample
    rows = list(csv.DictReader(io.StringIO(first.stdout)))
    assert len(rows) == 5
    assert all(float(r["match_probability"]) >= threshold for r in rows)
    assert all(r["first_name_l"] and r["reason"] == "precision sample" for r in rows)

    for i, row in enumerate(rows):
        row["decision"] = "n" if i == 0 else "y"
    sheet = run_out.parent / "labels.csv"
    with sheet.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    done = runner.invoke(app, ["review", str(run_out), "--import", str(sheet)])
    assert done.exit_code == 0, done.stderr
    low, high = wilson(4, 5)
    assert f"estimated precision 0.80 +- {(high - low) / 2:.2f} from 5 reviewed pairs" in (
        done.stderr
    )
    # the next sample leaves the labelled pairs out
    again = runner.invoke(app, [*args[:-2], "--seed", "4", "-f", "csv"])
    labelled = {(r["record_id_l"], r["record_id_r"]) for r in rows}
    assert not labelled & {
        (r["record_id_l"], r["record_id_r"]) for r in csv.DictReader(io.StringIO(again.stdout))
    }
    built = runner.invoke(app, ["report", str(run_out), "-q"])
    assert built.exit_code == 0, built.stderr
    report = json.loads((run_out / "report.json").read_text())
    assert report["review"]["precision"] == {
        "labelled": 5,
        "precision": 0.8,
        "low": round(low, 6),
        "high": round(high, 6),
    }
    assert "estimated precision" in (run_out / "report.html").read_text()
