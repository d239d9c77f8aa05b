"""Properties: the vectorised fast paths agree with the libraries; checks keep record ids."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crmclean.core.checks.email_valid import fast_valid, invalid_reasons, library_reason
from crmclean.core.checks.phone_valid import invalid_reasons as phone_reasons
from crmclean.core.checks.phone_valid import phone_reason
from crmclean.core.rules.rule_file import RuleFile
from crmclean.core.validation import validate

_LOCAL = st.text(alphabet="abcXYZ019._+-!#'\"ü ", min_size=0, max_size=12)
_LABEL = st.text(alphabet="abcxyz019-", min_size=0, max_size=10)
_TLD = st.sampled_from(["com", "de", "co.uk", "test", "localhost", "x1", "c0m", "xn--p1ai", "ab"])
_ADDRESS = st.one_of(
    st.builds(lambda lo, la, t: f"{lo}@{la}.{t}", _LOCAL, _LABEL, _TLD),
    st.builds(lambda lo, la, t: f"{lo}@{la}{t}", _LOCAL, _LABEL, _TLD),
    st.text(alphabet="ab@.-_ ", max_size=20),
    st.builds(lambda n: "a" * n + "@example.com", st.integers(55, 70)),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ADDRESS, min_size=1, max_size=30))
def test_email_fast_path_never_accepts_what_the_library_rejects(values: list[str]) -> None:
    fast = pl.select(fast_valid(pl.lit(pl.Series(values, dtype=pl.String)))).to_series()
    for value, surely_valid in zip(values, fast.to_list(), strict=True):
        if surely_valid:
            assert library_reason(value) is None, value


@settings(max_examples=200, deadline=None)
@given(st.lists(_ADDRESS, min_size=1, max_size=30))
def test_email_check_equals_the_library_on_every_value(values: list[str]) -> None:
    got = invalid_reasons(pl.Series(values, dtype=pl.String)).to_list()
    assert [r is None for r in got] == [library_reason(v) is None for v in values]


_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=13)
_PHONE = st.one_of(
    st.builds(lambda cc, d: f"+{cc} {d}", st.sampled_from(["49", "44", "1", "33", "41"]), _DIGITS),
    st.builds(lambda d: f"0{d}", _DIGITS),
    st.builds(lambda d: f"(0{d[:3]}) {d[3:]}-1", _DIGITS),
    st.builds(lambda a, b: f"0{a} {b}", st.sampled_from(["30", "151", "20", "89"]), _DIGITS),
)


@settings(max_examples=15, deadline=None)  # each example builds the fast path (~0.3 s)
@given(
    st.lists(st.tuples(_PHONE, st.sampled_from(["DE", "GB", "US", "FR"])), min_size=1, max_size=80)
)
def test_phone_check_equals_the_library(pairs: list[tuple[str, str]]) -> None:
    values = pl.Series([v for v, _ in pairs], dtype=pl.String)
    regions = pl.Series([r for _, r in pairs], dtype=pl.String)
    got = phone_reasons(values, regions, fast_from=0).to_list()
    assert [g is None for g in got] == [phone_reason(v, r) is None for v, r in pairs]


_RULES = RuleFile.model_validate(
    {
        "dataset": {"country_column": "country"},
        "columns": {
            "id": {"required": True, "unique": True},
            "email": {"checks": ["email_valid", {"type": "length", "max": 8}]},
            "country": {"checks": ["country_valid"]},
            "postcode": {"checks": ["postcode_valid"]},
        },
        "checks": [{"type": "unique", "columns": ["email", "country"]}],
    }
)
_CELL = st.one_of(st.none(), st.sampled_from(["", "a", "a@b.de", "DE", "x@y", "12345", "n/a"]))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_CELL, _CELL, _CELL, _CELL), min_size=0, max_size=25))
def test_checks_never_lose_or_invent_record_ids(rows: list[tuple[str | None, ...]]) -> None:
    data = pl.DataFrame(
        {
            "record_id": [f"r{i}" for i in range(len(rows))],
            "id": [r[0] for r in rows],
            "email": [r[1] for r in rows],
            "country": [r[2] for r in rows],
            "postcode": [r[3] for r in rows],
        },
        schema=dict.fromkeys(["record_id", "id", "email", "country", "postcode"], pl.String),
    )
    result = validate(data, _RULES, now=datetime(2025, 1, 1, tzinfo=UTC))
    ids = set(data.get_column("record_id"))
    for rule_id, group in result.violations.group_by("rule_id"):
        found = group.get_column("record_id").to_list()
        assert set(found) <= ids
        assert len(found) == len(set(found)), rule_id  # one violation per record and rule
    assert result.rows == len(rows)
