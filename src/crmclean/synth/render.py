"""Turns the parts of a synthetic customer into the strings a source system would hold.

Every function returns a polars expression over the row frame, so formatting a million rows
is a handful of vectorised string operations. Format choices (phone style, date style, country
alias ...) are random per row: the same person looks different in every source system.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crmclean.synth.tables import (
    CALLING_CODES,
    COUNTRIES,
    COUNTRY_ALIASES,
    NUMBER_FIRST,
    TRANSLIT_EXPAND,
    TRUNK_PREFIXES,
)

_TLD = {"GB": "co.uk", "US": "com"}
SOURCE_SYSTEMS = ("crm", "erp", "webshop")


def per_row(values: np.ndarray, name: str) -> pl.Expr:
    """A numpy array (one value per row) as an expression."""
    return pl.lit(pl.Series(name, values))


def ascii_slug(expr: pl.Expr) -> pl.Expr:
    """Lower-case ASCII letters and digits only, as people type them into e-mail addresses."""
    return (
        expr.str.replace_many(TRANSLIT_EXPAND).str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")
    )


def email_expr() -> pl.Expr:
    """An address derived from the person's name; company customers often use the firm's domain."""
    first = ascii_slug(pl.col("email_first"))
    last = ascii_slug(pl.col("last_name"))
    initial = first.str.slice(0, 1)
    num = pl.col("email_num").cast(pl.String)
    style = pl.col("email_style")
    local = (
        pl.when(style == 0)
        .then(pl.concat_str(first, pl.lit("."), last))
        .when(style == 1)
        .then(pl.concat_str(initial, last))
        .when(style == 2)
        .then(pl.concat_str(first, last))
        .when(style == 3)
        .then(pl.concat_str(first, pl.lit("_"), last))
        .when(style == 4)
        .then(pl.concat_str(first, pl.lit("."), last, num))
        .when(style == 5)
        .then(pl.concat_str(last, pl.lit("."), first))
        .when(style == 6)
        .then(pl.concat_str(first, num))
        .otherwise(pl.concat_str(initial, pl.lit("."), last))
    )
    tld = pl.col("iso").replace_strict(_TLD, default=pl.col("iso").str.to_lowercase())
    firm = pl.concat_str(ascii_slug(pl.col("last_name")), pl.lit("."), tld)
    use_firm = (pl.col("company_kind") > 0) & (pl.col("email_num") % 2 == 0)
    domain = pl.when(use_firm).then(firm).otherwise(pl.col("provider"))
    return pl.concat_str(local, pl.lit("@"), domain)


def company_expr() -> pl.Expr:
    kind = pl.col("company_kind")
    form = pl.col("legal_form")
    return (
        pl.when(kind == 1)
        .then(pl.concat_str(pl.col("last_name"), pl.lit(" "), form))
        .when(kind == 2)
        .then(pl.concat_str(pl.col("last_name"), pl.lit(" & "), pl.col("last2"), pl.lit(" "), form))
        .when(kind == 3)
        .then(
            pl.concat_str(pl.col("last_name"), pl.lit(" "), pl.col("trade_word"), pl.lit(" "), form)
        )
        .otherwise(None)
    )


def street_expr() -> pl.Expr:
    """Country-style street line: 'Hauptstraße 12a', '12 High Street', 'Calle Mayor, 12, 3º'."""
    country, name, suffix = pl.col("iso"), pl.col("street_name"), pl.col("suffix")
    house = pl.col("house").cast(pl.String)
    letter = pl.when(pl.col("house") % 2 == 0).then(pl.lit("a")).otherwise(pl.lit("b"))
    flat = (pl.col("house") % 9 + 1).cast(pl.String)
    number = (
        pl.when((suffix == 1) & ~country.is_in(["GB", "US", "FR"]))
        .then(pl.concat_str(house, letter))
        .when((suffix == 2) & (country == "FR"))
        .then(pl.concat_str(house, pl.lit(" bis")))
        .otherwise(house)
    )
    line = (
        pl.when(country.is_in(NUMBER_FIRST))
        .then(pl.concat_str(number, pl.lit(" "), name))
        .when(country == "ES")
        .then(pl.concat_str(name, pl.lit(", "), number))
        .otherwise(pl.concat_str(name, pl.lit(" "), number))
    )
    return (
        pl.when((suffix == 2) & (country == "US"))
        .then(pl.concat_str(line, pl.lit(", Apt "), flat))
        .when((suffix == 2) & (country == "GB"))
        .then(pl.concat_str(pl.lit("Flat "), flat, pl.lit(", "), line))
        .when((suffix == 2) & (country == "ES"))
        .then(pl.concat_str(line, pl.lit(", "), flat, pl.lit("º")))
        .otherwise(line)
    )


def by_case(parts: pl.DataFrame, case: np.ndarray, branches: tuple[pl.Expr, ...]) -> pl.Series:
    """Branch k evaluated on the rows whose case is k only: a when/then chain would evaluate
    every branch on every row."""
    out = pl.repeat(None, parts.height, dtype=pl.String, eager=True)
    for k, expr in enumerate(branches):
        idx = np.flatnonzero(case == k)
        if len(idx):
            out.scatter(idx, parts[idx].select(expr).to_series())
    return out


def _phone_styles() -> tuple[pl.Expr, ...]:
    cc, trunk, area, local = pl.col("cc"), pl.col("trunk"), pl.col("area"), pl.col("local")
    l1, l2, national = pl.col("l1"), pl.col("l2"), pl.concat_str(trunk, area)
    plus, blank = pl.lit("+"), pl.lit(" ")
    return (
        pl.concat_str(plus, cc, area, local),
        pl.concat_str(plus, cc, blank, area, blank, local),
        pl.concat_str(pl.lit("00"), cc, blank, area, blank, local),
        pl.concat_str(national, local),
        pl.concat_str(national, blank, l1, blank, l2),
        pl.concat_str(national, pl.lit("-"), local),
        pl.concat_str(pl.lit("("), national, pl.lit(") "), l1, pl.lit("-"), l2),
        pl.concat_str(plus, cc, pl.lit(" ("), trunk, pl.lit(")"), area, local),
        pl.concat_str(national, pl.lit("/"), local),
        pl.concat_str(plus, cc, pl.lit("-"), area, pl.lit("-"), l1, pl.lit("-"), l2),
        # French and Danish habit: the national number in pairs, '06 12 34 56 78'.
        pl.concat_str(
            [pl.concat_str(national, local).str.slice(i, 2) for i in range(0, 12, 2)],
            separator=" ",
        ).str.strip_chars(),
    )


PHONE_STYLE_SHARES = (0.22, 0.18, 0.07, 0.13, 0.10, 0.07, 0.08, 0.05, 0.04, 0.06)
_SPACED_STYLE, _TRUNK_STYLE, _PLAIN_INTERNATIONAL, _PAIRS_STYLE = 4, 7, 1, 10


def phones(frame: pl.DataFrame, style: np.ndarray, extension: np.ndarray) -> pl.Series:
    """One number in ten national and international spellings (E.164, 0049 ..., (089) ...,
    +49 (0)89 ...), landlines sometimes with an extension."""
    landline = pl.col("landline")
    local = pl.when(landline).then(pl.col("land_local")).otherwise(pl.col("mob_local"))
    half = pl.col("local").str.len_chars() // 2
    parts = (
        frame.lazy()
        .select(
            "landline",
            cc=pl.col("iso").replace_strict(dict(zip(COUNTRIES, CALLING_CODES, strict=True))),
            trunk=pl.col("iso").replace_strict(dict(zip(COUNTRIES, TRUNK_PREFIXES, strict=True))),
            area=pl.when(landline).then(pl.col("land_area")).otherwise(pl.col("mob_prefix")),
            local=local,
        )
        .with_columns(l1=pl.col("local").str.slice(0, half), l2=pl.col("local").str.slice(half))
        .collect()
    )
    # Countries without a trunk prefix have no '+49 (0)89' spelling.
    no_trunk = (parts["trunk"] == "").to_numpy()
    style = np.where((style == _TRUNK_STYLE) & no_trunk, _PLAIN_INTERNATIONAL, style)
    in_pairs = np.isin(frame["iso"].to_numpy(), ["FR", "DK"])
    style = np.where((style == _SPACED_STYLE) & in_pairs, _PAIRS_STYLE, style)
    text = by_case(parts, style, _phone_styles())
    return text + pl.Series(np.where(parts["landline"].to_numpy(), extension, ""))


def dob_expr(style: pl.Expr) -> pl.Expr:
    """ISO mostly; German sources write dd.mm.yyyy, US ones mm/dd/yyyy, others dd/mm/yyyy."""
    dob = pl.col("dob")
    d = dob.dt.day().cast(pl.String).str.zfill(2)
    m = dob.dt.month().cast(pl.String).str.zfill(2)
    y = dob.dt.year().cast(pl.String)
    return (
        pl.when(style == 1)
        .then(pl.concat_str(d, pl.lit("."), m, pl.lit("."), y))
        .when(style == 2)
        .then(pl.concat_str(m, pl.lit("/"), d, pl.lit("/"), y))
        .when(style == 3)
        .then(pl.concat_str(d, pl.lit("/"), m, pl.lit("/"), y))
        .otherwise(dob.dt.strftime("%Y-%m-%d"))
    )


def dob_styles(country: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per row: 0 ISO, 1 dd.mm.yyyy, 2 mm/dd/yyyy, 3 dd/mm/yyyy, by the source's country."""
    u = rng.random(len(country))
    german = np.isin(country, ["DE", "AT", "CH"])
    dotted = np.where(german, u < 0.25, u < 0.03)
    us = (country == "US") & (u >= 0.75)
    slashed = np.isin(country, ["GB", "FR", "ES", "IT"]) & (u >= 0.85)
    return np.select([dotted, us, slashed], [1, 2, 3], 0)


def country_expr(use_alias: pl.Expr, pick: pl.Expr) -> pl.Expr:
    """ISO-2 mostly; sometimes a name or alias ('Deutschland', 'UK', 'U.S.A.')."""
    aliases = {c: list(a) for c, a in COUNTRY_ALIASES.items()}
    options = pl.col("iso").replace_strict(aliases, return_dtype=pl.List(pl.String))
    alias = options.list.get(pick % options.list.len())
    return pl.when(use_alias).then(alias).otherwise(pl.col("iso"))


def timestamps(rng: np.random.Generator, source: np.ndarray) -> tuple[pl.Series, pl.Series]:
    """created_at and updated_at; each source system writes timestamps its own way."""
    n = len(source)
    start, end = (
        np.datetime64("2012-01-01T00:00:00", "s"),
        np.datetime64("2025-11-20T00:00:00", "s"),
    )
    span = int((end - start).astype(np.int64))
    created = rng.integers(0, span - 86_400, n)
    updated = np.minimum(created + rng.exponential(400 * 86_400, n).astype(np.int64), span)
    updated = np.where(rng.random(n) < 0.3, created, updated)
    formats = {
        "crm": "%Y-%m-%dT%H:%M:%S",
        "erp": "%Y-%m-%d %H:%M:%S",
        "webshop": "%Y-%m-%dT%H:%M:%SZ",
        # the sparse systems of generate(world=True)
        "newsletter": "%Y-%m-%dT%H:%M:%SZ",
        "pos": "%Y-%m-%d %H:%M",
        "callcentre": "%Y-%m-%d %H:%M:%S",
    }
    out = []
    for offsets in (created, updated):
        moments = pl.Series((start + offsets.astype("timedelta64[s]")).astype("datetime64[us]"))
        frame = pl.DataFrame({"t": moments, "source": source})
        text = pl.coalesce(
            [
                pl.when(pl.col("source") == name).then(pl.col("t").dt.strftime(fmt))
                for name, fmt in formats.items()
            ]
        )
        out.append(frame.select(text.alias("t")).to_series())
    return out[0], out[1]
