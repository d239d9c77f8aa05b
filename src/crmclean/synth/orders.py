"""Synthetic orders for synthetic customers: movement data keyed by the source records' ids.

Each customer (entity) gets a spending level drawn from a heavy-tailed distribution, so a few
customers bring most of the revenue, as in real books; their orders are spread over the
customer's source records (the ERP bills most of them). A share of orders names an id no
customer file holds, and a few have a bad date, a bad amount or no id: what a rollup must
account for. Deterministic for a seed and vectorised.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

ORDER_COLUMNS = (
    "order_id",
    "customer_id",
    "source_system",
    "order_date",
    "net_amount",
    "product_group",
)
PRODUCT_GROUPS = ("hardware", "software", "services", "spare parts", "training", "licences")
FIRST_DAY = date(2022, 1, 1)
LAST_DAY = date(2026, 11, 30)
# how much more often a record of each source system carries the order (billing is the ERP's)
SOURCE_WEIGHT = {"erp": 6.0, "crm": 2.0, "webshop": 3.0}


def generate_orders(
    customers: pl.DataFrame,
    truth: pl.DataFrame,
    seed: int = 7,
    *,
    per_customer: float = 4.0,
    unknown_share: float = 0.02,
    bad_share: float = 0.004,
) -> pl.DataFrame:
    """About `per_customer` orders per customer on average (many have none or one, a few have
    dozens); `unknown_share` of them name a customer id that does not exist, `bad_share` each
    have a bad date, a bad amount or no customer id. All columns String, as an export is."""
    rng = np.random.default_rng([seed, 17])
    records = customers.select("customer_id", "source_system").join(
        truth.rename({"record_id": "customer_id"}), on="customer_id", how="left"
    )
    entities = records.get_column("entity_id").unique().sort()
    n_entities = entities.len()
    # a spending level per customer: lognormal, so the top 5 % bring a large share of revenue
    level = rng.lognormal(mean=0.0, sigma=1.2, size=n_entities)
    expected = per_customer * level / level.mean()
    counts = rng.poisson(expected)
    total = int(counts.sum())
    entity_of_order = np.repeat(np.arange(n_entities), counts)
    basket = rng.lognormal(mean=5.0, sigma=0.6, size=total) * np.sqrt(level[entity_of_order])
    # which of the customer's records carries each order: weighted by source system
    weighted = records.with_columns(
        pl.col("source_system")
        .str.strip_chars()
        .str.to_lowercase()
        .replace_strict(SOURCE_WEIGHT, default=1.0, return_dtype=pl.Float64)
        .alias("weight")
    ).join(pl.DataFrame({"entity_id": entities, "entity": np.arange(n_entities)}), on="entity_id")
    ordered = weighted.sort("entity", "customer_id")
    flat_ids = ordered.get_column("customer_id").to_numpy().astype(str)
    flat_sources = ordered.get_column("source_system").to_numpy().astype(str)
    flat_weights = ordered.get_column("weight").to_numpy()
    per_entity = np.bincount(ordered.get_column("entity").to_numpy(), minlength=n_entities)
    offsets = np.concatenate([[0], np.cumsum(per_entity)])
    # draw a record per order: cumulative weights inside each entity's slice
    cumulative = np.cumsum(flat_weights)
    start = np.concatenate([[0.0], cumulative])[offsets[:-1]]
    span = cumulative[offsets[1:] - 1] - start
    draw = start[entity_of_order] + rng.random(total) * span[entity_of_order]
    picked = np.searchsorted(cumulative, draw, side="right")
    picked = np.minimum(picked, offsets[1:][entity_of_order] - 1)
    days = (LAST_DAY - FIRST_DAY).days
    order_day = rng.integers(0, days + 1, size=total)
    frame = pl.DataFrame(
        {
            "customer_id": flat_ids[picked],
            "source_system": flat_sources[picked],
            "order_date": pl.Series(order_day + (FIRST_DAY - date(1970, 1, 1)).days)
            .cast(pl.Int32)
            .cast(pl.Date),
            "net_amount": np.round(basket, 2),
            "product_group": np.asarray(PRODUCT_GROUPS, dtype=object)[
                rng.integers(0, len(PRODUCT_GROUPS), size=total)
            ].astype(str),
        }
    ).with_columns(pl.col("order_date").cast(pl.String), pl.col("net_amount").cast(pl.String))
    frame = _plant(frame, rng, unknown_share, bad_share)
    frame = frame.with_row_index("__i").sort("order_date", "__i")
    return frame.select(
        pl.format("O{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(8)).alias(
            "order_id"
        ),
        *ORDER_COLUMNS[1:],
    )


def _plant(
    frame: pl.DataFrame, rng: np.random.Generator, unknown_share: float, bad_share: float
) -> pl.DataFrame:
    """Orders a rollup cannot place: unknown ids, bad dates, bad amounts, no id."""
    n = frame.height
    roll = rng.random(n)
    unknown = roll < unknown_share
    bad_date = (roll >= unknown_share) & (roll < unknown_share + bad_share)
    bad_amount = (roll >= unknown_share + bad_share) & (roll < unknown_share + 2 * bad_share)
    no_id = (roll >= unknown_share + 2 * bad_share) & (roll < unknown_share + 3 * bad_share)
    ghost = np.char.add("C9", np.char.zfill(rng.integers(0, 10**7, size=n).astype(str), 7))
    return frame.with_columns(
        pl.when(pl.Series(unknown))
        .then(pl.Series(ghost))
        .when(pl.Series(no_id))
        .then(pl.lit(None, pl.String))
        .otherwise(pl.col("customer_id"))
        .alias("customer_id"),
        pl.when(pl.Series(bad_date))
        .then(pl.lit("31.02.2024"))
        .otherwise(pl.col("order_date"))
        .alias("order_date"),
        pl.when(pl.Series(bad_amount))
        .then(pl.lit("n/a"))
        .otherwise(pl.col("net_amount"))
        .alias("net_amount"),
    )
