"""Properties of standardisation, for every standardiser, over generated messy values:

- idempotent: cleaning the cleaned output changes nothing;
- the input frame is never modified and every input record appears once, in order;
- the vectorised fast paths (E.164 phones, plain e-mails) answer exactly like the libraries.
"""

from __future__ import annotations

from typing import Any

import phonenumbers
import polars as pl
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from crmclean.core.cleaning import clean
from crmclean.core.rules.rule_file import RuleFile
from crmclean.core.standardise import key_steps, standardisers
from crmclean.core.standardise.email import fast_normalise
from crmclean.core.standardise.phone_fast import fast_e164

OPTIONS: dict[str, dict[str, Any]] = {
    "case": {"to": "title"},
    "split_name": {"first": "first_name", "last": "last_name"},
    "extract_salutation": {"into": "salutation", "titles_into": "title"},
    "split_house_number": {"into": "house_number"},
    "phone": {"extension_column": "phone_ext"},
}
MESSY = "aAbBcdeEfgimMnoOrsStuUxyzäÄöüÜßéÉçñøØłŁİı'’-.,/()+@# \t\u00a0\u200b\u0000ﬁＡ0123456789"
EXAMPLES = [
    "  mcDONALD ", "o'neil", "VAN DER BERG", "Herr Dr. Hans Müller", "N/A", "n.a.", "-", "",
    "030 1234567 ext. 12", "+44 (0)20 7946 0958", "(212) 555-0100", "0049 30 1234567",
    "John.Doe@Example.COM", "user@xn--bcher-kva.de", "jürgen@müller.de", "a..b@x.com",
    "31.02.2024", "03/04/2020", "45352", "2024-03-01T10:20:30+02:00", "1 March 2024",
    "sw1a1aa", "D-01067", "1234ab", "12 High Street", "Hauptstrasse 12a", "Calle Mayor, 12",
    "Deutschland", "U.S.A.", "Schweiz", "Mrs.", "Signora", "Straße", "Ω", "K.A.",
    "Viale Europa 3", "V.le Europa 3", "Via Roma 1",
]  # fmt: skip
COUNTRIES = ["DE", "GB", "UK", "US", "U.S.A.", "FR", "Italia", "ES", "NL", "CH", "JP", "xx", None]


def _digits(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=lo, max_size=hi)


phones = st.builds(
    lambda pre, a, sep, b: f"{pre}{a}{sep}{b}",
    st.sampled_from(["", "+", "+49 ", "+44 (0)", "00", "0", "(0", "001 ", "+1 "]),
    _digits(1, 5),
    st.sampled_from(["", " ", "-", "/", ") ", " x ", "."]),
    _digits(0, 9),
)
emails = st.builds(
    lambda local, dom, tld: f"{local}@{dom}.{tld}",
    st.text("abcXYZ.+_-ü1", min_size=0, max_size=8),
    st.text("abcDEF-ü.", min_size=0, max_size=8),
    st.sampled_from(["de", "COM", "co.uk", "test", "x", "中国"]),
)
dates = st.builds(
    lambda a, s1, b, s2, c: f"{a}{s1}{b}{s2}{c}",
    _digits(1, 4),
    st.sampled_from([".", "/", "-", " "]),
    _digits(1, 2),
    st.sampled_from([".", "/", "-", ""]),
    _digits(0, 4),
)
messy = st.one_of(
    st.none(),
    st.text(MESSY, max_size=24),
    st.sampled_from(EXAMPLES),
    phones,
    emails,
    dates,
    st.builds(lambda a, b: a + b, st.sampled_from(EXAMPLES), st.text(MESSY, max_size=4)),
)
frames = st.lists(st.tuples(messy, st.sampled_from(COUNTRIES)), min_size=1, max_size=8)


def _rules(name: str) -> RuleFile:
    step = {"type": name, **OPTIONS.get(name, {})}
    return RuleFile.model_validate(
        {"dataset": {"country_column": "country"}, "columns": {"value": {"standardise": [step]}}}
    )


def _frame(rows: list[tuple[str | None, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": [str(i) for i in range(len(rows))],
            "value": [v for v, _ in rows],
            "country": [c for _, c in rows],
        },
        schema=dict.fromkeys(("record_id", "value", "country"), pl.String),
    )


@pytest.mark.parametrize("name", standardisers.names())
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=frames)
def test_cleaning_is_idempotent_and_keeps_records(name: str, rows: list[Any]) -> None:
    rules = _rules(name)
    frame = _frame(rows)
    before = frame.clone()
    once = clean(frame, rules)
    assert_frame_equal(frame, before)  # the input is never modified
    assert once.frame.get_column("record_id").to_list() == frame["record_id"].to_list()
    twice = clean(once.frame, rules)
    assert_frame_equal(twice.frame, once.frame)
    moved = twice.changes.filter(pl.col("before").ne_missing(pl.col("after")))
    assert moved.is_empty(), moved.rows()


def _library_e164(key: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(key, None if region == "ZZ" else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


phone_keys = st.builds(
    lambda pre, cc, body: pre + cc + body,
    st.sampled_from(["+", "00", "0", "", "011", "1"]),
    st.sampled_from(["", "1", "7", "30", "33", "39", "41", "43", "44", "49", "55", "81", "353"]),
    _digits(2, 12),
)
regions = st.sampled_from(["DE", "GB", "US", "CA", "FR", "IT", "ES", "NL", "CH", "AT", "JP", "BR"])


# Each call compiles the number patterns of every region it meets: few calls, many keys each.
@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(phone_keys, regions), min_size=1, max_size=120))
def test_phone_fast_path_agrees_with_phonenumbers(pairs: list[tuple[str, str]]) -> None:
    keys = pl.DataFrame(
        {"key": [k for k, _ in pairs], "region": ["ZZ" if k[0] == "+" else r for k, r in pairs]}
    ).unique()
    for key, region, e164 in fast_e164(keys).iter_rows():
        assert e164 == _library_e164(key, region), (key, region)


def test_phone_fast_path_answers_the_common_shapes() -> None:
    keys = pl.DataFrame(
        {
            "key": ["+49301234567", "0301234567", "0049301234567", "2125550100", "02079460958"],
            "region": ["ZZ", "DE", "DE", "US", "GB"],
        }
    )
    assert fast_e164(keys).height == 5


def _library_email(value: str) -> str | None:
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


plain_emails = st.builds(
    lambda local, dom, tld: f"{local}@{dom}.{tld}",
    st.text("abzAZ09._%+-", min_size=0, max_size=10),
    st.text("abzAZ09.-", min_size=0, max_size=10),
    st.sampled_from(["de", "COM", "co.uk", "test", "local", "x", "museum", "123"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(plain_emails, min_size=1, max_size=20))
def test_email_fast_path_agrees_with_email_validator(values: list[str]) -> None:
    frame = pl.DataFrame({"value": values}, schema={"value": pl.String})
    fast = frame.select(fast_normalise(pl.col("value"))).to_series()
    for value, answer in zip(values, fast.to_list(), strict=True):
        if answer is not None:
            assert answer == _library_email(value), value


@pytest.mark.parametrize("name", key_steps.names())
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=frames)
def test_derived_keys_are_stable_when_cleaning_again(name: str, rows: list[Any]) -> None:
    step = {"type": name, **({"n": 3} if name == "prefix" else {})}
    rules = RuleFile.model_validate(
        {
            "columns": {"value": {"standardise": ["trim", "null_tokens"]}},
            "derive": {"key": {"from": ["value", "country"], "steps": [step]}},
        }
    )
    once = clean(_frame(rows), rules)
    assert once.frame.columns[-1] == "key"
    assert_frame_equal(clean(once.frame, rules).frame, once.frame)
