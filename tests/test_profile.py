"""core.profile: shapes, semantic types, figures and suggested rules, as tables of cases."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl
import pytest

from crmclean.core.profile import profile_frame, shape_expr
from crmclean.core.rules.rule_file import RuleFile


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        ("Berlin 10115", "Aa+ 9+"),
        ("01067", "9+"),
        ("+49 30 1234567", "+9+ 9+ 9+"),
        ("anna.schmidt@example.de", "a+.a+@a+.a+"),
        ("Zoë-Élise", "Aa+-Aa+"),
        ("DE", "A+"),
        ("x", "a"),
        ("a\t\n b", "a a"),
        ("SW1A 1AA", "A+9A 9A+"),
        (
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit sed",
            "Aa+ a+ a+ a+ a+, a+ a+ a…",
        ),
    ],
)
def test_shapes(value: str, shape: str) -> None:
    assert pl.select(shape_expr(pl.lit(value))).item() == shape


def frame_of(name: str, values: Sequence[str | None]) -> pl.DataFrame:
    ids = [str(i) for i in range(1, len(values) + 1)]
    return pl.DataFrame(
        {"record_id": ids, name: values}, schema={"record_id": pl.String, name: pl.String}
    )


@pytest.mark.parametrize(
    ("name", "values", "semantic"),
    [
        ("contact", ["a@b.de", "x.y@z.com", "q@w.org"], "email"),
        ("signup", ["2024-01-31", "2023-12-01", "2024-02-29T10:00:00"], "date"),
        ("x", ["2024-01-31 08:00", "2023-12-01T23:59:59Z", "2024-02-29T10:00:00"], "datetime"),
        ("signup", ["31.01.2024", "1.12.2023", "29/02/24"], "date"),
        ("flag", ["yes", "no", "Ja", "FALSE"], "boolean"),
        ("contact", ["+49 30 123456", "+1 212 555 0100", "0049 89 1234567"], "phone"),
        ("tel", ["0301234567", "089123456", "0171 2345678"], "phone"),
        ("n", ["1", "-42", "0", "1000000"], "integer"),
        ("amount", ["1.50", "2,75", "-0.01"], "decimal"),
        ("code", ["01067", "10115", "80331"], "postcode"),
        ("zip", ["SW1A 1AA", "EC1A 1BB", "1012 AB"], "postcode"),
        ("x", ["DE", "AT", "CH", "Germany"], "country"),
        ("city", ["Berlin", "München", "Köln"], None),
        ("mixed", ["a@b.de", "Berlin", "Köln", "x"], None),
    ],
)
def test_semantic_types(name: str, values: list[str], semantic: str | None) -> None:
    column = profile_frame(frame_of(name, values)).columns[0]
    assert column.semantic_type == semantic
    assert (column.type_share >= 0.8) is (semantic is not None)


def test_figures_are_exact_and_nulls_counted() -> None:
    values = ["b", "a", None, "b", "ccc", None, "b", "a"]
    column = profile_frame(frame_of("status", values), top=2).columns[0]
    assert (column.nulls, column.null_share, column.distinct) == (2, 0.25, 3)
    assert (column.min_length, column.max_length) == (1, 3)
    assert [(v.value, v.count, v.share) for v in column.top_values] == [
        ("b", 3, 0.375),
        ("a", 2, 0.25),
    ]
    assert [(s.value, s.count) for s in column.shapes] == [("a", 5), ("a+", 1)]


def test_all_null_column() -> None:
    profile = profile_frame(frame_of("empty", [None, None]))
    column = profile.columns[0]
    assert (column.nulls, column.distinct, column.top_values, column.shapes) == (2, 0, [], [])
    assert column.semantic_type is None and column.min_length is None
    assert profile.suggested_rules["columns"]["empty"] == {}


def test_pii_guess_and_rule_file_decision() -> None:
    frame = frame_of("email", ["anna@example.de", "ben@example.de"]).with_columns(
        nachname=pl.Series(["Schmidt", "Meyer"]), segment=pl.Series(["A", "B"])
    )
    guessed = {c.name: c for c in profile_frame(frame).columns}
    assert guessed["email"].masked and guessed["nachname"].masked
    assert not guessed["segment"].masked
    assert guessed["nachname"].top_values[0].value in ("M***", "S***")
    told = {c.name: c for c in profile_frame(frame, pii_columns=frozenset({"segment"})).columns}
    assert told["segment"].masked and not told["email"].masked
    shown = profile_frame(frame, show_values=True).columns[0]
    assert shown.pii and not shown.masked and shown.top_values[0].value == "anna@example.de"


def test_sample_is_seeded_and_figures_use_all_rows() -> None:
    values = [f"{i:05d}" for i in range(5000)]
    first = profile_frame(frame_of("plz", values), sample_rows=500)
    again = profile_frame(frame_of("plz", values), sample_rows=500)
    assert first == again
    assert first.sampled_rows == 500 and first.rows == 5000
    assert first.columns[0].distinct == 5000


def test_suggested_rules_are_a_valid_rule_file() -> None:
    frame = pl.DataFrame(
        {
            "record_id": [str(i) for i in range(1, 41)],
            "customer_id": [f"C{i:03d}" for i in range(40)],
            "email": [f"p{i}@example.de" for i in range(40)],
            "status": ["active", "inactive", "active", "lead"] * 10,
            "country": ["DE", "AT"] * 20,
            "note": [None] * 39 + ["call back"],
        }
    )
    profile = profile_frame(frame)
    rules = RuleFile.model_validate(profile.suggested_rules)
    assert rules.dataset.id_column == "customer_id"
    assert rules.columns["email"].type == "email" and rules.columns["email"].pii
    kinds = {name: [c.type for c in spec.checks] for name, spec in rules.columns.items()}
    assert kinds["customer_id"] == ["not_null", "unique", "length"]
    assert kinds["email"] == ["not_null", "unique", "email_valid"]
    assert kinds["status"] == ["not_null", "allowed_values"]
    assert kinds["country"] == ["not_null", "country_valid", "allowed_values"]
    assert kinds["note"] == ["length"]


def test_frame_without_data_columns() -> None:
    profile = profile_frame(pl.DataFrame({"record_id": ["1"]}))
    assert profile.columns == [] and profile.rows == 1
