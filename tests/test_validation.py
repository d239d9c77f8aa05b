"""The validation core: statuses, thresholds, filters, implicit checks, setup problems, score."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from crmclean.core.contracts import VIOLATIONS_SCHEMA
from crmclean.core.masking import mask_series, mask_value, mask_violations
from crmclean.core.rules.rule_file import RuleFile
from crmclean.core.validation import (
    RuleSetupError,
    setup_problems,
    validate,
)

NOW = datetime(2025, 6, 1, tzinfo=UTC)


def frame(**columns: list[Any]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    data = {k: pl.Series(v, dtype=pl.String) for k, v in columns.items()}
    return pl.DataFrame({"record_id": [str(i + 1) for i in range(n)], **data})


def rules(data: dict[str, Any]) -> RuleFile:
    return RuleFile.model_validate(data)


def test_threshold_and_severity_decide_status() -> None:
    data = frame(email=["a@example.com"] * 98 + ["bad", "worse"])
    spec = rules(
        {
            "columns": {
                "email": {
                    "checks": [
                        {"type": "email_valid", "id": "strict"},
                        {"type": "email_valid", "id": "lenient", "threshold": "2%"},
                        {"type": "email_valid", "id": "soft", "severity": "warn"},
                        {"type": "email_valid", "id": "fyi", "severity": "info"},
                    ]
                }
            }
        }
    )
    result = validate(data, spec, now=NOW)
    status = {r.rule_id: r.status for r in result.results}
    assert status == {"strict": "fail", "lenient": "pass", "soft": "warn", "fyi": "pass"}
    assert all(r.violations == 2 and r.checked == 100 for r in result.results)
    assert result.exit_code("error") == 1
    assert result.violations.schema == pl.Schema(VIOLATIONS_SCHEMA)


def test_fail_on_warn_turns_warnings_into_failures() -> None:
    spec = rules({"columns": {"x": {"checks": [{"type": "not_null", "severity": "warn"}]}}})
    result = validate(frame(x=["a", None]), spec, now=NOW)
    assert result.exit_code("error") == 0
    assert result.exit_code("warn") == 1


def test_when_filter_limits_checked_rows_and_where_is_an_alias() -> None:
    data = frame(country=["DE", "DE", "FR", "FR"], postcode=["10115", "x", "x", "y"])
    check = {"type": "pattern", "pattern": "[0-9]{5}", "where": "country = 'DE'"}
    result = validate(data, rules({"columns": {"postcode": {"checks": [check]}}}), now=NOW)
    (rule,) = result.results
    assert (rule.checked, rule.violations) == (2, 1)
    assert result.violations.get_column("record_id").to_list() == ["2"]


def test_column_required_and_unique_act_as_checks() -> None:
    spec = rules({"columns": {"id": {"required": True, "unique": True}}})
    result = validate(frame(id=["1", "2", "2", None]), spec, now=NOW)
    assert [r.rule_id for r in result.results] == ["id.not_null", "id.unique"]
    assert [r.violations for r in result.results] == [1, 2]


def test_explicit_check_replaces_the_implicit_one() -> None:
    spec = rules({"columns": {"id": {"required": True, "checks": [{"type": "required"}]}}})
    result = validate(frame(id=["1"]), spec, now=NOW)
    assert [r.rule_id for r in result.results] == ["id.not_null"]


def test_generated_rule_ids_are_made_unique() -> None:
    checks = [{"type": "length", "max": 3}, {"type": "length", "min": 1}]
    result = validate(frame(x=["ab"]), rules({"columns": {"x": {"checks": checks}}}), now=NOW)
    assert [r.rule_id for r in result.results] == ["x.length", "x.length#2"]


def test_setup_problems_list_every_missing_column_with_paths() -> None:
    spec = rules(
        {
            "dataset": {"country_column": "country"},
            "columns": {"phone": {"checks": ["phone_valid"]}, "email": {"checks": ["email"]}},
            "checks": [
                {"type": "expression", "expr": "created <= updated"},
                {"type": "not_null", "column": "emial", "when": "nope = 1"},
                {"type": "length", "max": 2},
                {"type": "freshness", "max_age": "1d"},
                {"type": "allowed_values", "values": ["a"]},
                {"type": "unique", "columns": ["email"]},
            ],
        }
    )
    problems = setup_problems(spec, ["record_id", "email"])
    paths = [p[0] for p in problems]
    assert ("columns", "phone") in paths
    assert ("dataset", "country_column") in paths
    assert ("checks", 0, "expr") in paths
    assert ("checks", 1, "column") in paths
    assert ("checks", 1, "when") in paths
    assert ("checks", 2) in paths  # a dataset-level length check must name its column
    assert ("checks", 3) in paths
    messages = {p[0]: p[1] for p in problems}
    assert messages[("checks", 4)] == "allowed_values in the dataset-wide list needs target_column:"
    assert ("checks", 5) not in paths  # unique names its columns
    hints = {p[0]: p[2] for p in problems}
    assert hints[("checks", 1, "column")] == "did you mean 'email'?"
    with pytest.raises(RuleSetupError):
        validate(frame(email=["a"]), spec, now=NOW)


def test_expression_that_cannot_run_on_the_data_is_a_setup_problem() -> None:
    spec = rules({"checks": [{"type": "expression", "expr": "x + 1 > 'a' * 2"}]})
    problems = setup_problems(spec, {"record_id": pl.String(), "x": pl.String()})
    assert problems and problems[0][0] == ("checks", 0, "expr")


def test_duplicate_explicit_ids_are_a_setup_problem() -> None:
    spec = rules({"checks": [{"type": "row_count", "min": 1, "id": "a"}] * 2})
    assert setup_problems(spec, ["record_id"])[0][1] == "rule id 'a' is used twice"


def test_score_weights_errors_three_times_warnings() -> None:
    spec = rules(
        {
            "columns": {
                "x": {"checks": [{"type": "not_null"}, {"type": "not_null", "severity": "warn"}]}
            }
        }
    )
    result = validate(frame(x=["a", "b", None, None]), spec, now=NOW)
    assert result.score == 50.0  # both rules half clean
    clean = validate(frame(x=["a"]), spec, now=NOW)
    assert clean.score == 100.0


def test_no_record_is_lost_or_duplicated_by_the_null_normalisation() -> None:
    spec = rules({"columns": {"x": {"checks": ["not_null"]}}})
    data = frame(x=["n/a", "a", "-", None])
    result = validate(data, spec, now=NOW)
    assert result.rows == 4
    assert sorted(result.violations.get_column("record_id").to_list()) == ["1", "3", "4"]


def test_masking_forms() -> None:
    emails = mask_series(pl.Series(["john@example.com", None]), "email").to_list()
    assert emails == ["j***@example.com", None]
    assert mask_series(pl.Series(["+49 30 1234567"]), "phone").to_list() == ["+49 *** **67"]
    assert mask_value("Jane") == "J***"
    assert mask_value("jane@x.de") == "j***@x.de"


def test_mask_violations_masks_personal_columns_only() -> None:
    violations = pl.DataFrame(
        {
            "rule_id": ["a", "b", "c", "d"],
            "check": ["pattern", "pattern", "unique", "completeness"],
            "column": ["email", "city", "source, email", "email, phone"],
            "record_id": ["1", "2", "3", "4"],
            "value": ["john@example.com", "Berlin", "crm | john@example.com", "50%"],
            "message": ["m"] * 4,
            "severity": ["error"] * 4,
        }
    )
    masked = mask_violations(violations, {"email": "email", "phone": "phone"})
    assert masked.get_column("value").to_list() == ["j***@example.com", "Berlin", "c***", "50%"]


def test_date_formats_reordered_by_hits_read_the_same_dates() -> None:
    from crmclean.core.checks.date_valid import _parse_distinct, default_formats

    forms = ["2020-01-{:02d}", "{:02d}.02.2021", "2022-03-{:02d}T10:00:00Z", "{:02d}/04/2023"]
    values = [
        f.format(day % 28 + 1) + ("" if i % 7 else "x")
        for i, (f, day) in enumerate((forms[i % 4], i) for i in range(12_000))
    ]
    series = pl.Series(values, dtype=pl.String)
    formats = default_formats("dmy")
    whole = _parse_distinct(series, formats)  # large: formats tried most-hits first
    pieces = pl.concat([_parse_distinct(series.slice(o, 5000), formats) for o in (0, 5000, 10000)])
    assert whole.equals(pieces, null_equal=True)
    assert whole.null_count() == sum(1 for i in range(12_000) if i % 7 == 0)


STAGED = {
    "dataset": {"country_column": "country"},
    "columns": {
        "phone": {
            "standardise": [{"type": "phone", "extension_column": "ext"}],
            "checks": [
                {"type": "pattern", "pattern": r"\+[0-9]+", "id": "raw"},
                {"type": "pattern", "pattern": r"\+[0-9]+", "id": "std", "on": "standardised"},
            ],
        }
    },
    "checks": [{"type": "not_null", "column": "ext", "on": "standardised", "id": "ext"}],
}


def test_on_standardised_checks_the_cleaned_frame_and_run_checks_it_always() -> None:
    from crmclean.core.pipeline import run_pipeline

    data = frame(phone=["030 1234567", "+49 30 1234567 x 9", "call me"], country=["DE"] * 3)
    result = validate(data, rules(STAGED), now=NOW)
    ids = {
        r.rule_id: result.violations.filter(pl.col("rule_id") == r.rule_id)["record_id"].to_list()
        for r in result.results
    }
    assert ids == {"raw": ["1", "2", "3"], "std": ["3"], "ext": ["1", "3"]}
    # a column only a standardise step makes (ext) fits a check that reads standardised values
    assert setup_problems(rules(STAGED), data.columns) == []
    # run judges cleaned values for every check, `on: raw` included
    run = run_pipeline(data, rules(STAGED))
    found = run.validation.violations
    assert found.filter(pl.col("rule_id") == "raw")["record_id"].to_list() == ["3"]


def test_standardised_checks_need_their_steps_to_fit() -> None:
    spec = {**STAGED, "dataset": {"country_column": "land"}}
    problems = setup_problems(rules(spec), ["record_id", "phone", "country"])
    # in the data's own column order, as every other missing-column hint
    hint = "add it to the data, or take it out of the rule file; the data has: phone, country"
    assert (("dataset", "country_column"), "column 'land' is not in the data", hint) in problems
