"""A vectorised E.164 fast path that answers like `phonenumbers` for plain digit strings.

phonenumbers costs ~17 µs a number; a million distinct numbers would take most of the time budget.
This module replays, in polars, the part of `phonenumbers.parse` + `is_valid_number` that plain
inputs go through ("+49301234567", "0049 30 1234567", "030 1234567" in DE, "(212) 555-0100" in
US): international prefix, country code, national prefix, then the region's number-type patterns.
It only ever answers "valid, and this is the E.164 form"; anything else (letters, carrier codes,
ambiguous prefixes, invalid numbers) is left null and goes to phonenumbers. A property test
checks that every answer equals the library's.
"""

from __future__ import annotations

import re
from functools import cache

import phonenumbers
import polars as pl
from phonenumbers import PhoneMetadata

_TYPES = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)
_CC = {str(cc): regions for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()}


def _meta(region: str) -> PhoneMetadata | None:
    return PhoneMetadata.metadata_for_region(region)


def _desc_ok(nsn: pl.Expr, desc: object) -> pl.Expr:
    pattern = getattr(desc, "national_number_pattern", None)
    if not pattern:
        return pl.lit(False)
    lengths = list(getattr(desc, "possible_length", ()) or ())
    ok = nsn.str.contains(f"^(?:{pattern})$")
    return nsn.str.len_chars().is_in(lengths) & ok if lengths else ok


def _type_ok(nsn: pl.Expr, meta: PhoneMetadata) -> pl.Expr:
    """phonenumbers' `_number_type_helper(...) != UNKNOWN`."""
    any_type = pl.lit(False)
    for name in _TYPES:
        any_type = any_type | _desc_ok(nsn, getattr(meta, name, None))
    return _desc_ok(nsn, meta.general_desc) & any_type


def valid_for_cc(nsn: pl.Expr, cc: str) -> pl.Expr:
    """`is_valid_number` for numbers of this country code: the region is chosen as the library
    does (leading digits, else a matching number type), then its patterns decide."""
    valid = pl.lit(False)
    remaining = pl.lit(True)
    for region in _CC.get(cc, ()):
        meta = _meta(region)
        if meta is None:
            continue
        type_ok = _type_ok(nsn, meta)
        hit = nsn.str.contains(f"^(?:{meta.leading_digits})") if meta.leading_digits else type_ok
        valid = valid | (remaining & hit & type_ok)
        remaining = remaining & ~hit
    return valid


@cache
def simple_region(region: str) -> bool:
    """Regions whose national prefix needs no capture groups or transformation."""
    meta = _meta(region)
    if meta is None or region == "001":
        return False
    prefix = meta.national_prefix_for_parsing
    if meta.national_prefix_transform_rule:
        return False
    return not prefix or re.compile(prefix).groups == 0


def _prefix_len(text: pl.Expr, pattern: str | None) -> pl.Expr:
    """Length of the regex match at the start of `text`, 0 when none."""
    if not pattern:
        return pl.lit(0, dtype=pl.UInt32)
    return text.str.extract(f"^({pattern})", 1).str.len_chars().fill_null(0)


def _international(key: pl.Expr, region: str) -> pl.Expr:
    """Digits after "+" or the region's international prefix; null for national numbers."""
    plus = key.str.strip_prefix("+")
    if region == "ZZ":
        return pl.when(key.str.starts_with("+")).then(plus)
    meta = _meta(region)
    assert meta is not None
    idd = _prefix_len(key, meta.international_prefix)
    after = key.str.slice(idd)
    return pl.when(key.str.starts_with("+")).then(plus).when(idd > 0).then(after)


def _split_cc(digits: pl.Expr) -> pl.Expr:
    """The country code: the shortest 1-3 digit prefix that is one (as the library looks)."""
    known = list(_CC)
    cc = pl.lit(None, dtype=pl.String)
    for width in (3, 2, 1):
        head = digits.str.slice(0, width)
        cc = pl.when(head.is_in(known)).then(head).otherwise(cc)
    return pl.when(digits.str.starts_with("0")).then(None).otherwise(cc)


def _candidates(keys: pl.DataFrame) -> pl.DataFrame:
    """Per distinct (key, region): cc, the national part `rest` and the strip region `via`."""
    parts = []
    for (region,), group in keys.group_by("region"):
        region = str(region)
        if region != "ZZ" and not simple_region(region):
            continue
        intl = _international(pl.col("key"), region)
        frame = group.with_columns(intl.alias("intl"))
        international = frame.filter(pl.col("intl").is_not_null()).with_columns(
            _split_cc(pl.col("intl")).alias("cc")
        )
        international = international.with_columns(
            pl.col("intl").str.slice(pl.col("cc").str.len_chars()).alias("rest"),
            pl.col("cc")
            .replace_strict({c: r[0] for c, r in _CC.items()}, default=None)
            .alias("via"),
        )
        parts.append(international.select("key", "region", "cc", "rest", "via"))
        if region != "ZZ":
            cc = str(phonenumbers.country_code_for_region(region))
            national = frame.filter(
                pl.col("intl").is_null() & ~pl.col("key").str.starts_with(cc)
            ).select(
                "key",
                "region",
                pl.lit(cc).alias("cc"),
                pl.col("key").alias("rest"),
                pl.lit(region).alias("via"),
            )
            parts.append(national)
    if not parts:
        return pl.DataFrame(schema=dict.fromkeys(("key", "region", "cc", "rest", "via"), pl.String))
    return pl.concat(parts).filter(pl.col("cc").is_not_null() & pl.col("via").is_not_null())


def fast_e164(keys: pl.DataFrame) -> pl.DataFrame:
    """For distinct `key, region` rows (keys without separators; region "ZZ" for "+" numbers):
    `key, region, e164` where the fast path is sure; rows it is not sure about are absent."""
    plain = keys.filter(pl.col("key").str.contains(r"^\+?\d{2,20}$"))
    found = []
    for (cc, via), group in _candidates(plain).group_by("cc", "via"):
        cc, via = str(cc), str(via)
        if not simple_region(via):
            continue
        meta = _meta(via)
        assert meta is not None
        cut = _prefix_len(pl.col("rest"), meta.national_prefix_for_parsing)
        nsn = pl.col("rest").str.slice(cut)
        checked = group.with_columns(nsn.alias("nsn")).filter(valid_for_cc(pl.col("nsn"), cc))
        found.append(
            checked.select("key", "region", (pl.lit("+" + cc) + pl.col("nsn")).alias("e164"))
        )
    if not found:
        return pl.DataFrame(schema={"key": pl.String, "region": pl.String, "e164": pl.String})
    return pl.concat(found)
