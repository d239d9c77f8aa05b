"""A second synthetic yardstick, independent of crmclean's own generator (crmclean/synth/).

People come from Faker pools in seven locales; each is recorded by one to four of six source
systems (CRM, ERP, web shop, newsletter sign-up, point of sale, call centre), each with its own
formatting and its own gaps. Between a person's records the world's differences appear in set
shares (marriage, moves, swaps, initials, nicknames, e-mail changes and typos, typos in names,
missing fields) and placeholders are scattered over all records; households, Jr/Sr pairs and
twins are different people who share most of what identifies them.

    .venv/bin/python benchmarks/yardsticks/faker_set.py --rows 10000 --seed 7 --out DIR

writes DIR/customers.csv and .parquet, DIR/truth.parquet and truth.csv (record_id, entity_id,
the format `crmclean evaluate --truth` and benchmarks/evaluate.py read) and DIR/differences.csv
(record_id, kind: which differences each record carries). Deterministic for a seed and a Faker
version. Never shares code with crmclean's generator.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))

from faker_pools import COUNTRIES, GLOBAL_PROVIDERS, LOCAL_PROVIDERS, Pools, build_pools
from faker_styles import render
from faker_text import ascii_folded, familiar_names, typo

RECORDS_PER_ENTITY = ((1, 0.58), (2, 0.27), (3, 0.10), (4, 0.05))
# Share of entities that are a hard negative of another entity (different people).
RELATED = (("household", 0.06), ("jr_sr", 0.02), ("twin", 0.01))
# Share of a person's second and later records carrying each difference.
DIFFERENCES = {
    "married": 0.12,  # of women's records: about 6% of all duplicate records
    "moved": 0.12,
    "swapped": 0.03,
    "initial": 0.05,
    "nickname": 0.07,
    "email_provider": 0.08,
    "email_typo": 0.03,
    "name_typo": 0.08,
    "fields_missing": 0.08,
}
INVALID_PHONE_SHARE = 0.2
EMAIL_STYLES = 7


@dataclass(frozen=True)
class FakerSet:
    customers: pl.DataFrame
    truth: pl.DataFrame  # record_id, entity_id
    differences: pl.DataFrame  # record_id, kind
    entities: pl.DataFrame  # entity_id, relation (unique/household/jr_sr/twin), related_entity_id


def _phones(country: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """National significant numbers: a mobile prefix and random digits, or (one in five)
    random digits that are mostly invalid for the region."""
    prefix = np.empty(len(country), dtype=object)
    length = np.zeros(len(country), dtype=np.int64)
    for c, (_, _, _, _, _, prefixes, nsn_length, _) in enumerate(COUNTRIES):
        rows = np.flatnonzero(country == c)
        prefix[rows] = np.array(prefixes, dtype=object)[rng.integers(len(prefixes), size=len(rows))]
        length[rows] = nsn_length
    # US area codes 4xx are mostly unassigned; elsewhere no mobile number starts with 4
    prefix[rng.random(len(country)) < INVALID_PHONE_SHARE] = "4"
    rest = length - pl.Series(prefix.astype(str)).str.len_chars().to_numpy()
    number = (rng.random(len(country)) * 10.0**rest).astype(np.int64)
    frame = pl.DataFrame({"p": prefix.astype(str), "n": number, "k": rest})
    digits = frame.select(pl.col("p") + pl.col("n").cast(pl.String).str.zfill(pl.col("k")))
    return digits.to_series().to_numpy().astype(object)


def _emails(
    first: pl.Expr, last: pl.Expr, year: pl.Expr, style: pl.Expr, domain: pl.Expr
) -> pl.Expr:
    local = (
        pl.when(style == 0).then(first + "." + last)
        .when(style == 1).then(first + last)
        .when(style == 2).then(first.str.slice(0, 1) + "." + last)
        .when(style == 3).then(last + "." + first)
        .when(style == 4).then(first + "_" + last + (year % 97).cast(pl.String))
        .when(style == 5).then(first + (year % 100).cast(pl.String).str.zfill(2))
        .otherwise(last + first.str.slice(0, 1))
    )  # fmt: skip
    return local + "@" + domain


def _providers(country: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    local = np.array([LOCAL_PROVIDERS[c[0]] for c in COUNTRIES], dtype=object)
    pick_local = local[country, rng.integers(4, size=len(country))]
    pick_global = np.array(GLOBAL_PROVIDERS, dtype=object)[
        rng.integers(len(GLOBAL_PROVIDERS), size=len(country))
    ]
    return np.where(rng.random(len(country)) < 0.45, pick_local, pick_global)


def _entities(n: int, pools: Pools, rng: np.random.Generator) -> pl.DataFrame:
    shares = np.array([c[2] for c in COUNTRIES])
    country = rng.choice(len(COUNTRIES), size=n, p=shares / shares.sum())
    relation = np.full(n, "unique", dtype=object)
    partner = np.full(n, -1)
    draw = rng.random(n)
    edge = 0.0
    for kind, share in RELATED:
        hit = (draw >= edge) & (draw < edge + share) & (np.arange(n) > 0)
        relation[hit] = kind
        partner[hit] = (rng.random(hit.sum()) * np.flatnonzero(hit)).astype(int)  # earlier one
        edge += share
    related = partner >= 0
    partner[related] = np.where(relation[partner[related]] == "unique", partner[related], 0)
    country[related] = country[partner[related]]
    female = rng.random(n) < 0.5
    first = np.where(
        female, pools.female[pools.draw("female", country, rng)],
        pools.male[pools.draw("male", country, rng)],
    )  # fmt: skip
    last = pools.last[pools.draw("last", country, rng)]
    dob = rng.integers(-25 * 365, 36 * 365, size=n)  # days since 1970: born 1945-2005
    street = pools.draw("street", country, rng)
    house = rng.integers(1, 160, size=n)
    town = pools.draw("town", country, rng)
    phone = _phones(country, rng)
    p, r = partner[related], np.flatnonzero(related)
    last[r], street[r], house[r], town[r] = last[p], street[p], house[p], town[p]
    jr = r[relation[r] == "jr_sr"]
    female[jr] = female[partner[jr]]
    first[jr] = first[partner[jr]]
    gap = rng.integers(24 * 365, 36 * 365, size=len(jr))  # a senior born 1945-75, else a junior
    dob[jr] = np.where(dob[partner[jr]] > 5 * 365, dob[partner[jr]] - gap, dob[partner[jr]] + gap)
    twin = r[relation[r] == "twin"]
    dob[twin] = dob[partner[twin]]
    landline = r[(relation[r] == "household") & (rng.random(len(r)) < 0.3)]
    phone[landline] = phone[partner[landline]]  # a household shares the home phone
    company = np.where(
        rng.random(n) < 0.08, pools.company[pools.draw("company", country, rng)], None
    )
    frame = pl.DataFrame(
        {
            "entity": np.arange(n),
            "country": country,
            "female": female,
            "first": first.astype(str),
            "last": last.astype(str),
            "dob": dob,
            "street": pools.street[street].astype(str),
            "house": house,
            "postcode": pools.postcode[town].astype(str),
            "city": pools.city[town].astype(str),
            "phone": phone.astype(str),
            "company": pl.Series(company.tolist(), dtype=pl.String),
            "email_style": rng.integers(EMAIL_STYLES, size=n),
            "provider": _providers(country, rng).astype(str),
            "relation": relation.astype(str),
            "partner": partner,
        }
    )
    year = pl.col("dob").cast(pl.Date).dt.year()
    return frame.with_columns(
        _emails(
            ascii_folded(pl.col("first")), ascii_folded(pl.col("last")), year,
            pl.col("email_style"), pl.col("provider"),
        ).alias("email")
    )  # fmt: skip


def _differences(
    records: pl.DataFrame, pools: Pools, rng: np.random.Generator
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """Apply each difference to its share of the second and later records of a person."""
    n = records.height
    dup = records["rank"].to_numpy() > 0
    country = records["country"].to_numpy()
    hit = {k: dup & (rng.random(n) < share) for k, share in DIFFERENCES.items()}
    hit["married"] &= records["female"].to_numpy()
    # Only some names have a familiar form: those carry the whole share of nicknames.
    has_nickname = records.select(familiar_names(pl.col("first")) != pl.col("first"))
    has_nickname = has_nickname.to_series().fill_null(False).to_numpy()
    boost = 1 / max(has_nickname.mean(), 0.05)
    hit["nickname"] = dup & has_nickname & (rng.random(n) < DIFFERENCES["nickname"] * boost)
    new_last = pools.last[pools.draw("last", country, rng)].astype(str)
    new_street = pools.street[pools.draw("street", country, rng)].astype(str)
    new_town = pools.draw("town", country, rng)
    new_phone = _phones(country, rng).astype(str)
    new_provider = _providers(country, rng).astype(str)
    rewrite_email = rng.random(n) < 0.5  # half of the married write a new address too
    phone_moves = rng.random(n) < 0.7

    def when(mask: np.ndarray, new: pl.Expr | pl.Series, column: str) -> pl.Expr:
        return pl.when(pl.Series(mask)).then(new).otherwise(pl.col(column)).alias(column)

    remarried_email = _emails(
        ascii_folded(pl.col("first")), ascii_folded(pl.lit(pl.Series(new_last))),
        pl.col("dob").cast(pl.Date).dt.year(), pl.col("email_style"), pl.col("provider"),
    )  # fmt: skip
    records = records.with_columns(
        when(hit["married"], pl.Series(new_last), "last"),
        when(hit["married"] & rewrite_email, remarried_email, "email"),
        when(hit["moved"], pl.Series(new_street), "street"),
        when(hit["moved"], pl.Series(rng.integers(1, 160, size=n)), "house"),
        when(hit["moved"], pl.Series(pools.postcode[new_town].astype(str)), "postcode"),
        when(hit["moved"], pl.Series(pools.city[new_town].astype(str)), "city"),
        when(hit["moved"] & phone_moves, pl.Series(new_phone), "phone"),
    )  # fmt: skip
    first, last = pl.col("first"), pl.col("last")
    records = records.with_columns(
        when(hit["swapped"], last, "first"), when(hit["swapped"], first, "last")
    ).with_columns(
        when(hit["initial"], first.str.slice(0, 1) + ".", "first"),
    )
    records = records.with_columns(when(hit["nickname"], familiar_names(first), "first"))
    which = rng.random(n) < 0.5
    email = pl.col("email")
    records = records.with_columns(
        when(hit["name_typo"] & which, typo(first, rng, n), "first"),
        when(hit["name_typo"] & ~which, typo(last, rng, n), "last"),
        when(hit["email_provider"], email.str.replace(r"@.*$", "@") + pl.Series(new_provider),
             "email"),
    ).with_columns(
        when(hit["email_typo"],
             email.str.extract(r"^(.*@)") + typo(email.str.extract(r"@([^.]+)\."), rng, n)
             + email.str.extract(r"@[^.]+(\..*)$"), "email"),
    )  # fmt: skip
    # Several fields missing: two of five identifying groups, a third one time in three.
    order = np.argsort(rng.random((n, 5)), axis=1)
    third = rng.random(n) < 0.3
    gone = {
        group: hit["fields_missing"]
        & ((order[:, 0] == g) | (order[:, 1] == g) | ((order[:, 2] == g) & third))
        for g, group in enumerate(("email", "phone", "address", "dob", "first"))
    }
    null = pl.lit(None)
    records = records.with_columns(
        when(gone["email"], null, "email"),
        when(gone["phone"], null, "phone"),
        *(when(gone["address"], null, c) for c in ("street", "house", "postcode", "city")),
        when(gone["dob"], null, "dob"),
        when(gone["first"], null, "first"),
    )
    return records, hit


def _records_per_entity(rows: int, rng: np.random.Generator) -> np.ndarray:
    counts, shares = zip(*RECORDS_PER_ENTITY, strict=True)
    mean = sum(c * s for c, s in RECORDS_PER_ENTITY)
    drawn = rng.choice(counts, size=int(rows / mean) + 50, p=shares)
    keep = np.searchsorted(np.cumsum(drawn), rows)
    drawn = drawn[: keep + 1]
    drawn[-1] -= int(drawn.sum()) - rows
    return drawn


def generate(rows: int, seed: int = 7) -> FakerSet:
    """`rows` customer records of about rows / 1.6 people, deterministic for the seed."""
    if rows < 10:
        raise ValueError("the Faker yardstick needs at least 10 rows")
    rng = np.random.default_rng(seed)
    pools = build_pools(seed)
    counts = _records_per_entity(rows, rng)
    entities = _entities(len(counts), pools, rng)
    index = np.repeat(np.arange(len(counts)), counts)
    rank = np.arange(rows) - np.repeat(np.cumsum(counts) - counts, counts)
    records = entities[index].with_columns(rank=pl.Series(rank))
    records, hit = _differences(records, pools, rng)
    order = rng.permutation(rows)  # a person's records are spread over the file
    records = records[order]
    hit = {k: v[order] for k, v in hit.items()}
    record_id = "R" + pl.int_range(1, rows + 1, eager=True).cast(pl.String).str.zfill(7)
    record_id = record_id.alias("record_id")
    records = records.with_columns(record_id)
    customers = render(records, rng)
    truth = records.select("record_id", pl.format("P{}", pl.col("entity")).alias("entity_id"))
    changed = _actually_changed(records, entities, index[order])
    kinds = [
        pl.DataFrame({"record_id": record_id.filter(pl.Series(mask & changed[k])), "kind": k})
        for k, mask in hit.items()
    ]
    kinds.append(customers.select("record_id", "placeholder").drop_nulls().rename(
        {"placeholder": "kind"}))  # fmt: skip
    return FakerSet(
        customers=customers.drop("placeholder"),
        truth=truth,
        differences=pl.concat(kinds).sort("record_id", "kind"),
        entities=entities.select(
            pl.format("P{}", "entity").alias("entity_id"),
            "relation",
            pl.when(pl.col("partner") >= 0)
            .then(pl.format("P{}", "partner"))
            .alias("related_entity_id"),
        ),
    )


def _actually_changed(
    records: pl.DataFrame, entities: pl.DataFrame, index: np.ndarray
) -> dict[str, np.ndarray]:
    """A difference counts only where it changed something (a nickname needs a long name)."""
    base = entities[index]

    def differs(column: str) -> np.ndarray:
        return (records[column] != base[column]).fill_null(True).to_numpy()

    names = differs("first") | differs("last")
    return {
        "married": differs("last"),
        "moved": differs("street") | differs("city") | differs("house"),
        "swapped": names,
        "initial": differs("first"),
        "nickname": differs("first"),
        "email_provider": differs("email"),
        "email_typo": differs("email"),
        "name_typo": names,
        "fields_missing": np.ones(records.height, dtype=bool),
    }


def write(result: FakerSet, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    result.customers.write_csv(out / "customers.csv")
    result.customers.write_parquet(out / "customers.parquet")
    result.truth.write_parquet(out / "truth.parquet")
    result.truth.write_csv(out / "truth.csv")
    result.differences.write_csv(out / "differences.csv")
    result.entities.write_csv(out / "entities.csv")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write(generate(args.rows, args.seed), args.out)


if __name__ == "__main__":
    main()
