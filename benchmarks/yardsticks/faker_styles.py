"""How each of six source systems writes a record: which fields it keeps and how it formats them.

One record's values (names, phone digits, dates as days) go in; the export's strings come out,
with placeholders where a system or a clerk filled a required field with a dummy value.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from faker_pools import COUNTRIES, SALUTATION

# source: share of records, then the chance that each field is kept
SOURCES: dict[str, tuple[float, dict[str, float]]] = {
    "crm": (0.30, {"title": 0.9, "first": 0.98, "last": 1.0, "email": 0.9, "phone": 0.85,
                   "address": 0.95, "dob": 0.7, "country": 1.0, "company": 1.0}),
    "erp": (0.20, {"title": 0.9, "first": 0.95, "last": 1.0, "email": 0.6, "phone": 0.8,
                   "address": 0.98, "dob": 0.6, "country": 1.0, "company": 1.0}),
    "webshop": (0.18, {"title": 0.6, "first": 1.0, "last": 1.0, "email": 1.0, "phone": 0.6,
                       "address": 0.9, "dob": 0.3, "country": 1.0, "company": 0.5}),
    "newsletter": (0.12, {"title": 0.0, "first": 0.9, "last": 0.6, "email": 1.0, "phone": 0.0,
                          "address": 0.0, "dob": 0.0, "country": 0.3, "company": 0.0}),
    "pos": (0.10, {"title": 0.0, "first": 0.9, "last": 1.0, "email": 0.1, "phone": 1.0,
                   "address": 0.0, "dob": 0.0, "country": 1.0, "company": 0.0}),
    "callcentre": (0.10, {"title": 0.8, "first": 1.0, "last": 1.0, "email": 0.3, "phone": 0.98,
                          "address": 0.6, "dob": 0.5, "country": 1.0, "company": 0.3}),
}  # fmt: skip
PLACEHOLDER_VALUES = {
    "birth_date": "1970-01-01",
    "email_address": "test@test.com",
    "phone_number": "+1 (000) 000-0000",
    "zip_code": "00000",
}
# Share of the records carrying a field whose value is a placeholder instead.
PLACEHOLDER_SHARES = {"birth_date": 0.015, "email_address": 0.01, "phone_number": 0.01,
                      "zip_code": 0.01}  # fmt: skip
ISO3 = {"DE": "DEU", "GB": "GBR", "US": "USA", "FR": "FRA", "IT": "ITA", "ES": "ESP", "NL": "NLD"}
ENGLISH = {"DE": "Germany", "GB": "United Kingdom", "US": "United States", "FR": "France",
           "IT": "Italy", "ES": "Spain", "NL": "Netherlands"}  # fmt: skip
ABBREVIATIONS = (
    ("straße", "str."), ("Straße", "Str."), (" Street", " St"), (" Road", " Rd"),
    (" Avenue", " Ave"), ("Via ", "V. "), ("Calle ", "C/ "), ("avenue ", "av. "),
)  # fmt: skip


def _code(index: pl.Expr, values: list[str]) -> pl.Expr:
    return index.replace_strict(dict(enumerate(values)), return_dtype=pl.String)


def _phone(source: pl.Expr, country: pl.Expr, nsn: pl.Expr) -> pl.Expr:
    cc = _code(country, [c[3] for c in COUNTRIES])
    trunk = _code(country, [c[4] for c in COUNTRIES])
    us = country == 2
    a, b, c = nsn.str.slice(0, 3), nsn.str.slice(3, 3), nsn.str.slice(6)
    national = pl.when(us).then("(" + a + ") " + b + "-" + c).otherwise(trunk + a + " " + b + c)
    return (
        pl.when(source == "crm").then("+" + cc + " " + a + " " + b + " " + c)
        .when(source == "erp").then(pl.when(us).then(a + "-" + b + "-" + c)
                                    .otherwise(trunk + a + "/" + b + c))
        .when(source == "webshop").then("+" + cc + nsn)
        .when(source == "callcentre").then("00" + cc + " " + nsn)
        .otherwise(national)
    )  # fmt: skip


def _date(source: pl.Expr, country: pl.Expr, days: pl.Expr) -> pl.Expr:
    date = days.cast(pl.Date)
    us = country == 2
    return (
        pl.when(source.is_in(["crm", "webshop"])).then(date.dt.strftime("%Y-%m-%d"))
        .when(source == "erp").then(pl.when(us).then(date.dt.strftime("%m/%d/%Y"))
                                    .otherwise(date.dt.strftime("%d.%m.%Y")))
        .otherwise(pl.when(us).then(date.dt.strftime("%m/%d/%Y"))
                   .otherwise(date.dt.strftime("%d/%m/%Y")))
    )  # fmt: skip


def _street(source: pl.Expr, country: pl.Expr, street: pl.Expr, house: pl.Expr) -> pl.Expr:
    after = _code(country, ["1" if c[7] else "0" for c in COUNTRIES]) == "1"
    number = house.cast(pl.String)
    line = pl.when(after).then(street + " " + number).otherwise(number + " " + street)
    short = line.str.replace_many([a for a, _ in ABBREVIATIONS], [b for _, b in ABBREVIATIONS])
    return (
        pl.when(source == "erp").then(short.str.to_uppercase())
        .when(source == "webshop").then(short)
        .when(source == "callcentre").then(line.str.to_lowercase())
        .otherwise(line)
    )  # fmt: skip


def _name(source: pl.Expr, name: pl.Expr, lower: pl.Expr) -> pl.Expr:
    return (
        pl.when(source == "erp").then(name.str.to_uppercase())
        .when(source.is_in(["webshop", "newsletter"]) & lower).then(name.str.to_lowercase())
        .otherwise(name)
    )  # fmt: skip


def render(records: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """The export rows: customer columns as the six systems write them, plus `placeholder`."""
    n = records.height
    names = list(SOURCES)
    shares = np.array([SOURCES[s][0] for s in names])
    source_index = rng.choice(len(names), size=n, p=shares / shares.sum())
    source = np.array(names, dtype=object)[source_index]
    keep = {
        field: rng.random(n) < np.array([SOURCES[s][1][field] for s in names])[source_index]
        for field in SOURCES["crm"][1]
    }
    created = rng.integers(15340, 20400, size=n)  # days since 1970: 2012 to 2025
    frame = records.with_columns(
        src=pl.Series(source.astype(str)),
        lower=pl.Series(rng.random(n) < 0.15),
        created_days=pl.Series(created),
        modified_days=pl.Series(created + rng.integers(0, 400, size=n)),
        seconds=pl.Series(rng.integers(0, 86400, size=n)),
        **{f"keep_{k}": pl.Series(v) for k, v in keep.items()},
    )
    src, country, female = pl.col("src"), pl.col("country"), pl.col("female")
    iso2 = _code(country, [c[0] for c in COUNTRIES])

    def kept(field: str, value: pl.Expr) -> pl.Expr:
        return pl.when(pl.col(f"keep_{field}")).then(value)

    def stamp(days: str) -> pl.Expr:
        moment = (pl.col(days).cast(pl.Int64) * 86_400_000 + pl.col("seconds") * 1000).cast(
            pl.Datetime("ms")
        )
        return (
            pl.when(src == "crm")
            .then(moment.dt.strftime("%Y-%m-%dT%H:%M:%S"))
            .otherwise(moment.dt.strftime("%Y-%m-%d %H:%M:%S"))
        )

    title = pl.when(female).then(_code(country, [SALUTATION[c[0]][1] for c in COUNTRIES]))
    customers = frame.select(
        "record_id",
        src.alias("source"),
        kept("title", title.otherwise(_code(country, [SALUTATION[c[0]][0] for c in COUNTRIES])))
        .alias("title"),
        kept("first", _name(src, pl.col("first"), pl.col("lower"))).alias("given_name"),
        kept("last", _name(src, pl.col("last"), pl.col("lower"))).alias("family_name"),
        kept("company", pl.col("company")).alias("company_name"),
        kept("email", pl.col("email")).alias("email_address"),
        kept("phone", _phone(src, country, pl.col("phone"))).alias("phone_number"),
        kept("address", _street(src, country, pl.col("street"), pl.col("house")))
        .alias("street_address"),
        kept("address", pl.when(src == "erp").then(pl.col("postcode").str.strip_chars_start("0"))
             .otherwise(pl.col("postcode"))).alias("zip_code"),
        kept("address", pl.when(src == "erp").then(pl.col("city").str.to_uppercase())
             .otherwise(pl.col("city"))).alias("town"),
        kept("country", pl.when(src == "erp").then(iso2.replace_strict(ISO3))
             .when(src == "webshop").then(iso2.replace_strict(ENGLISH)).otherwise(iso2))
        .alias("country_code"),
        kept("dob", _date(src, country, pl.col("dob"))).alias("birth_date"),
        stamp("created_days").alias("created"),
        stamp("modified_days").alias("last_modified"),
    )  # fmt: skip
    # A dummy stands in for a value the system has a field for (one per record at most).
    placeholder = np.full(n, None, dtype=object)
    for column, share in PLACEHOLDER_SHARES.items():
        present = customers[column].is_not_null().to_numpy()
        pick = present & (rng.random(n) < share) & (placeholder == None)  # noqa: E711
        placeholder[pick] = f"placeholder_{column}"
    customers = customers.with_columns(placeholder=pl.Series(placeholder.tolist(), dtype=pl.String))
    return customers.with_columns(
        pl.when(pl.col("placeholder") == f"placeholder_{column}").then(pl.lit(value))
        .otherwise(pl.col(column)).alias(column)
        for column, value in PLACEHOLDER_VALUES.items()
    )  # fmt: skip
