"""The report model's figures, computed from outputs folders whose contents we know."""

from __future__ import annotations

import json
import math
from pathlib import Path

import polars as pl
import pytest

import summary_data
from crmclean.errors import InputError
from crmclean.report.figures import build_model
from crmclean.report.report_model import ReportModel
from crmclean.report.run_outputs import load_run_outputs
from report_data import ROWS, SECRET_EMAILS, write_full_run, write_validate_run


def _model(folder: Path, show_values: bool = False) -> ReportModel:
    return build_model(load_run_outputs(folder), show_values=show_values)


def test_validate_only_run_has_only_validate_sections(tmp_path: Path) -> None:
    model = _model(write_validate_run(tmp_path))
    assert model.summary.command == "validate"
    assert model.summary.rows == ROWS
    assert model.summary.exit_status == 1
    assert model.summary.exit_meaning == "data failed a rule"
    assert model.rules is not None and model.columns is not None
    assert (model.standardisation, model.matching, model.golden, model.review) == (None,) * 4


def test_rule_results_counted_from_violations(tmp_path: Path) -> None:
    """A folder without validate.json (a hand-made one): results come from violations."""
    folder = write_validate_run(tmp_path)
    (folder / "validate.json").unlink()
    (folder / "clean.json").write_text(json.dumps(summary_data.clean(ROWS)))
    rules = {r.rule_id: r for r in _model(folder).rules or []}
    email = rules["email.email_valid"]
    assert (email.violations, email.share, email.status, email.severity) == (
        3,
        0.3,
        "fail",
        "error",
    )
    assert rules["city.in_set"].status == "warn"
    assert rules["city.in_set"].examples == ["Koeln"]  # not personal: shown
    assert all(e.endswith("@example.org") and "secret" not in e for e in email.examples)


def test_score_follows_the_validate_steps_formula(tmp_path: Path) -> None:
    folder = write_validate_run(tmp_path)
    (folder / "validate.json").unlink()
    (folder / "clean.json").write_text(json.dumps(summary_data.clean(ROWS)))
    model = _model(folder)
    # error weight 3 at share 0.3; two warnings, weight 1 each, at share 0.1
    assert model.summary.score == round(100 * (3 * 0.7 + 0.9 + 0.9) / 5, 1)
    assert "error 3" in model.summary.score_method


def test_results_and_score_from_validate_json_win(tmp_path: Path) -> None:
    folder = write_validate_run(tmp_path)
    results = [
        summary_data.rule("email.email_valid", checked=8, violations=3, share=0.375,
                          threshold=0.5, status="pass", description="e-mails parse"),
    ]  # fmt: skip
    summary = summary_data.validate(ROWS, results, score=91.5)
    (folder / "validate.json").write_text(json.dumps(summary))
    model = _model(folder)
    assert model.summary.score == 91.5
    assert model.rules is not None and len(model.rules) == 1
    rule = model.rules[0]
    assert (rule.checked, rule.share, rule.status, rule.threshold) == (8, 0.375, "pass", 0.5)
    assert len(rule.examples) == 3


def test_a_summary_of_another_schema_version_is_refused(tmp_path: Path) -> None:
    """The report reads typed summaries: no guessing between key names."""
    folder = write_validate_run(tmp_path)
    summary = json.loads((folder / "validate.json").read_text())
    summary["schema_version"] = "0"
    (folder / "validate.json").write_text(json.dumps(summary))
    with pytest.raises(InputError, match=r"validate\.json: has schema_version '0'"):
        _model(folder)
    del summary["schema_version"]
    summary["rules"] = summary.pop("results")  # the shape `run` wrote before summaries were typed
    (folder / "validate.json").write_text(json.dumps(summary))
    with pytest.raises(InputError, match="no schema_version"):
        _model(folder)


def test_column_profile(tmp_path: Path) -> None:
    columns = {c.column: c for c in _model(write_full_run(tmp_path)).columns or []}
    assert columns["email"].validity == 0.7 and columns["email"].pii
    assert columns["city"].validity == 0.9 and not columns["city"].pii
    assert columns["source_system"].violations == 0
    assert columns["name"].completeness == 1.0


def test_standardisation_counts_changes_and_errors_per_step(tmp_path: Path) -> None:
    part = _model(write_full_run(tmp_path)).standardisation
    assert part is not None
    assert (part.values_changed, part.records_changed, part.errors) == (4, 4, 2)
    steps = {s.step: s for s in part.steps}
    assert (steps["title_case"].changed, steps["title_case"].columns) == (3, ["city", "name"])
    assert (steps["email"].changed, steps["email"].errors) == (0, 2)


def test_matching_figures(tmp_path: Path) -> None:
    m = _model(write_full_run(tmp_path)).matching
    assert m is not None
    assert m.pairs == 7 and sum(m.weight_histogram.counts) == 7
    assert {c.label: c.count for c in m.pairs_per_blocking_rule} == {
        "l.city = r.city": 5,
        "l.email = r.email": 2,
    }
    marks = {t.name: t for t in m.thresholds}
    assert marks["auto_merge"].match_weight == pytest.approx(math.log2(0.95 / 0.05), abs=1e-3)
    assert marks["review"].match_weight == 0
    edges = m.weight_histogram.edges
    assert edges[0] <= -8.4 and edges[-1] >= 9.5
    assert (m.records, m.clusters, m.records_in_duplicate_clusters) == (10, 6, 7)
    assert [(c.label, c.count) for c in m.cluster_sizes] == [("1", 3), ("2", 2), ("3", 1)]


def test_largest_clusters_side_by_side_are_masked(tmp_path: Path) -> None:
    m = _model(write_full_run(tmp_path)).matching
    assert m is not None
    biggest = m.largest_clusters[0]
    assert (biggest.cluster_id, biggest.size, biggest.record_ids) == ("c3", 3, ["3", "4", "5"])
    row = dict(zip(biggest.columns, biggest.values, strict=True))
    assert row["city"] == ["Köln", "Koeln", "Köln"]  # not personal
    assert row["email"] == ["p***@example.org"] * 3
    assert row["name"] == ["B***"] * 3
    shown = _model(tmp_path, show_values=True).matching
    assert shown is not None
    first = shown.largest_clusters[0]
    assert dict(zip(first.columns, first.values, strict=True))["email"] == SECRET_EMAILS[2:5]


def test_example_pairs_explain_their_weight(tmp_path: Path) -> None:
    m = _model(write_full_run(tmp_path)).matching
    assert m is not None
    strongest = m.example_pairs[0]
    assert (strongest.record_id_l, strongest.record_id_r, strongest.match_weight) == ("1", "2", 9.5)
    parts = {c.comparison: c for c in strongest.contributions}
    assert parts["prior"].match_weight == pytest.approx(-4.0)
    assert parts["name"].level == 2
    assert sum(c.match_weight for c in strongest.contributions) == pytest.approx(9.5, abs=1e-3)
    whys = [p.why for p in m.example_pairs]
    assert whys == [
        "strongest match",
        "closest to the auto_merge threshold",
        "weakest pair compared",
    ]


def test_golden_and_review(tmp_path: Path) -> None:
    model = _model(write_full_run(tmp_path))
    g = model.golden
    assert g is not None
    assert (g.golden_records, g.source_records, g.merged_records) == (6, 10, 3)
    sources = {s.column: {c.label: c.count for c in s.sources} for s in g.survivorship_sources}
    assert sources == {"email": {"crm": 1, "shop": 1}, "name": {"crm": 2, "shop": 1, "(none)": 1}}
    assert {c.label: c.count for c in g.strategies} == {
        "email: most_recent": 2,
        "name: most_complete": 4,
    }
    assert [(c.label, c.count) for c in g.changes_since_previous or []] == [
        ("changed", 1),
        ("new", 1),
        ("removed", 1),
    ]
    assert model.review is not None and model.review.pairs == 2


def test_unknown_personal_columns_mask_everything(tmp_path: Path) -> None:
    folder = write_validate_run(tmp_path)
    (folder / "validate.json").unlink()  # no summary names the personal columns
    model = _model(folder)
    rules = {r.rule_id: r for r in model.rules or []}
    assert rules["city.in_set"].examples == ["K***"]
    assert any("masked" in n for n in model.notes)


def test_personal_columns_read_from_the_rule_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\ncolumns:\n  city:\n    pii: true\n  email:\n    type: email\n")
    folder = write_validate_run(tmp_path / "out")
    (folder / "validate.json").unlink()
    (folder / "clean.json").write_text(json.dumps(summary_data.clean(ROWS, rule_file=str(rules))))
    outputs = load_run_outputs(folder)
    assert outputs.pii == {"city": "text"}
    shown = {r.rule_id: r.examples for r in build_model(outputs).rules or []}
    assert shown["city.in_set"] == ["K***"]
    assert shown["email.email_valid"][0] == SECRET_EMAILS[1]  # email is not pii in this file


def test_report_does_not_grow_with_rows(tmp_path: Path) -> None:
    """Tables are capped: 5 largest clusters, at most 6 members each, 3 example pairs."""
    n = 5000
    folder = tmp_path / "big"
    folder.mkdir()
    ids = [str(i) for i in range(n)]
    pl.DataFrame({"record_id": ids, "cluster_id": [str(i // 50) for i in range(n)]}).write_parquet(
        folder / "clusters.parquet"
    )
    pl.DataFrame({"record_id": ids, "name": ids}).write_parquet(folder / "clean.parquet")
    weights = [((i * 7919) % 400) / 10 - 20 for i in range(n)]
    pl.DataFrame(
        {"record_id_l": ids, "record_id_r": ids, "match_weight": weights, "blocking_rule": "b"}
    ).write_parquet(folder / "pairs.parquet")
    model = _model(folder)
    m = model.matching
    assert m is not None
    assert model.rules is None  # a dedupe-only folder: no rule results, so no validity claimed
    assert [(c.column, c.completeness, c.validity) for c in model.columns or []] == [
        ("name", 1.0, None)
    ]
    assert len(m.largest_clusters) == 5 and all(len(c.record_ids) == 6 for c in m.largest_clusters)
    assert len(m.weight_histogram.counts) == 40 and sum(m.weight_histogram.counts) == n
    assert len(m.example_pairs) == 2  # no thresholds: strongest and weakest


def test_unreadable_folders_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        load_run_outputs(tmp_path / "missing")
    with pytest.raises(InputError, match="no run outputs"):
        load_run_outputs(tmp_path)
    (tmp_path / "validate.json").write_text("{not json")
    with pytest.raises(InputError, match="not readable JSON"):
        load_run_outputs(tmp_path)
    (tmp_path / "validate.json").write_text("{}")
    (tmp_path / "pairs.parquet").write_text("not parquet")
    with pytest.raises(InputError, match="not a readable parquet"):
        load_run_outputs(tmp_path)


def test_pii_list_is_typed_by_the_rule_file(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("version: 1\ncolumns:\n  contact:\n    type: email\n    pii: true\n")
    folder = write_validate_run(tmp_path / "out")
    (folder / "validate.json").unlink()
    manifest = summary_data.run(ROWS, rule_file=str(rules), pii_columns=["contact", "name"])
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert load_run_outputs(folder).pii == {"contact": "email", "name": "text"}


def test_quarantined_rows_come_from_the_manifest(tmp_path: Path) -> None:
    folder = write_full_run(tmp_path)
    assert _model(folder).summary.quarantined is None
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["rows"] = {"input": ROWS, "matched": ROWS - 2, "quarantined": 2}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    model = _model(folder)
    assert (model.summary.rows, model.summary.quarantined) == (ROWS, 2)


def test_profile_follows_the_input_files_columns(tmp_path: Path) -> None:
    folder = write_full_run(tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["inputs"] = [{"path": "in.csv", "columns": ["city", "name", "email"]}]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    model = _model(folder)
    assert model.summary.input == "in.csv"
    # source_system is in clean.parquet but not in the input (a derived column): left out
    assert [c.column for c in model.columns or []] == ["city", "name", "email"]


def test_violations_written_masked_are_not_masked_again(tmp_path: Path) -> None:
    folder = write_validate_run(tmp_path)
    pl.DataFrame(
        {"rule_id": ["phone.phone_valid"], "check": ["phone_valid"], "column": ["phone"],
         "record_id": ["1"], "value": ["017 *** **96"], "message": ["bad"], "severity": ["warn"]}
    ).write_parquet(folder / "violations.parquet")  # fmt: skip
    results = [summary_data.rule("phone.phone_valid", severity="warn", violations=1, share=0.1)]
    summary = summary_data.validate(ROWS, results, values_masked=True, pii={"phone": "phone"})
    (folder / "validate.json").write_text(json.dumps(summary))
    model = _model(folder)
    assert {r.rule_id: r.examples for r in model.rules or []} == {
        "phone.phone_valid": ["017 *** **96"]  # masked again it would read "***"
    }
    assert any("written masked" in n for n in _model(folder, show_values=True).notes)


def test_a_table_without_the_contracts_columns_is_an_input_error(tmp_path: Path) -> None:
    folder = write_full_run(tmp_path)
    pl.read_parquet(folder / "pairs.parquet").drop("match_weight").write_parquet(
        folder / "pairs.parquet"
    )
    with pytest.raises(InputError, match=r"pairs\.parquet: lacks the column"):
        load_run_outputs(folder)


def test_info_rules_do_not_lower_validity(tmp_path: Path) -> None:
    folder = write_validate_run(tmp_path)
    frame = pl.read_parquet(folder / "violations.parquet")
    frame.with_columns(
        pl.when(pl.col("column") == "city")
        .then(pl.lit("info"))
        .otherwise("severity")
        .alias("severity")
    ).write_parquet(folder / "violations.parquet")
    columns = {c.column: c for c in _model(folder).columns or []}
    assert columns["city"].validity == 1.0 and columns["email"].validity == 0.7
