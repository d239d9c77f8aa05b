"""The ways a duplicate record drifts from its twin: typos, nicknames, moves, reformatting ...

Each corruption takes the row frame and a boolean mask of the rows it hits, and returns the
frame with those rows changed: polars expressions evaluated on the hit rows only (update_rows)
or, where they are cheap, over whole columns (when_rows); never a Python loop over rows.
Corruptions that act on parts (address, phone kind, birthday) run before the strings are
rendered; the rest act on the rendered strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from crmclean.synth.entities import draw_address
from crmclean.synth.render import per_row
from crmclean.synth.tables import Tables

Corrupt = Callable[[pl.DataFrame, np.ndarray, np.random.Generator, Tables], pl.DataFrame]


def when_rows(mask: np.ndarray, new: pl.Expr, column: str) -> pl.Expr:
    """`column` replaced by `new` where mask is set."""
    return pl.when(per_row(mask, "_mask")).then(new).otherwise(pl.col(column)).alias(column)


def _scatter(
    frame: pl.DataFrame, idx: np.ndarray, values: dict[str, pl.Series | np.ndarray]
) -> pl.DataFrame:
    columns = []
    for name, new in values.items():
        column = frame[name].clone()
        column.scatter(idx, pl.Series(new, dtype=column.dtype))
        columns.append(column)
    return frame.with_columns(columns)


def update_rows(
    frame: pl.DataFrame, mask: np.ndarray, make: Callable[[int], dict[str, pl.Expr]]
) -> pl.DataFrame:
    """Evaluate make(n_hit)'s expressions on the hit rows only and write them back there.

    Cheaper than a whole-column when/then when few rows are hit and the expression is costly;
    random inputs inside `make` must have one value per hit row.
    """
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return frame
    exprs = make(len(idx))
    needed = sorted({name for expr in exprs.values() for name in expr.meta.root_names()})
    new = frame.select(needed or frame.columns[:1])[idx].select(**exprs)
    return _scatter(frame, idx, {name: new[name] for name in new.columns})


def moved(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """A new street and house number; half of the movers also change town (and landline)."""
    idx = np.flatnonzero(mask)
    country = frame["country_i"].to_numpy()[idx]
    fresh = draw_address(country, rng, t)
    same_town = rng.random(len(idx)) < 0.5
    changes: dict[str, pl.Series | np.ndarray] = {
        "street_name": t.streets.rows["street"].gather(fresh["street"]),
        "house": fresh["house"],
        "suffix": fresh["suffix"],
    }
    town = np.where(same_town, -1, fresh["place"])
    moving = town >= 0
    if moving.any():
        far = idx[moving]
        frame = _scatter(
            frame,
            far,
            {
                "city": t.places.rows["city"].gather(town[moving]),
                "postcode": fresh["postcode"][moving],
                "land_area": t.places.rows["area"].gather(town[moving]),
                "land_local": fresh["land_local"][moving],
            },
        )
    return _scatter(frame, idx, changes)


def married(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """A woman's new last name; in German-speaking countries often double-barrelled."""
    mask = mask & frame["female"].to_numpy()
    idx = np.flatnonzero(mask)
    country = frame["country_i"].to_numpy()[idx]
    new = t.last_names.rows["name"].gather(t.last_names.pick(country, rng, skew=1.5))
    old = frame["last_name"].gather(idx)
    double = (rng.random(len(idx)) < 0.35) & (country < 3)
    joined = pl.select(pl.when(pl.lit(double)).then(old + "-" + new).otherwise(new)).to_series()
    return _scatter(frame, idx, {"last_name": joined})


def other_phone(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """The mobile where the other record has the landline, or the other way round."""
    return frame.with_columns(when_rows(mask, ~pl.col("landline"), "landline"))


def dob_swap(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """Day and month swapped, where the swap still gives a valid date."""
    dob = pl.col("dob")
    ok = (dob.dt.day() <= 12) & (dob.dt.day() != dob.dt.month())
    swapped = pl.date(dob.dt.year(), dob.dt.day(), dob.dt.month())
    return frame.with_columns(when_rows(mask, pl.when(ok).then(swapped).otherwise(dob), "dob"))


def nickname(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """Robert -> Bob, Katharina -> Kathi, Johannes -> Hans (names without a nickname stay)."""
    table = t.nicknames.group_by("name", maintain_order=True).agg("nickname")
    mapping = dict(zip(table["name"].to_list(), table["nickname"].to_list(), strict=True))
    options = pl.col("first_name").replace_strict(
        mapping, default=None, return_dtype=pl.List(pl.String)
    )
    pick = per_row(rng.integers(0, 1000, frame.height), "_pick")
    nick = options.list.get(pick % options.list.len().clip(1), null_on_oob=True)
    return frame.with_columns(
        when_rows(mask, pl.coalesce(nick, pl.col("first_name")), "first_name")
    )


def email_variant(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """Upper case, dots dropped from the local part, or the same local part at another provider."""
    country = frame["country_i"].to_numpy()[mask]
    provider = t.providers.rows["domain"].gather(t.providers.pick(country, rng))
    how = per_row(rng.integers(0, 4, len(country)), "_how")
    email = pl.col("email")
    local, domain = email.str.extract(r"^([^@]*)@"), email.str.extract(r"@(.*)$")
    new = (
        pl.when(how == 0)
        .then(email.str.to_uppercase())
        .when(how == 1)
        .then(pl.concat_str(local.str.slice(0, 1).str.to_uppercase(), email.str.slice(1)))
        .when(how == 2)
        .then(pl.concat_str(local.str.replace_all(".", "", literal=True), pl.lit("@"), domain))
        .otherwise(pl.concat_str(local, pl.lit("@"), pl.lit(provider)))
    )
    return update_rows(frame, mask, lambda _: {"email": new})


@dataclass(frozen=True)
class Noise:
    """A corruption with its chance of hitting a duplicate record and any record."""

    name: str
    apply: Corrupt
    on_duplicate: float
    on_any: float


PART_NOISE = (
    Noise("moved", moved, 0.08, 0.0),
    Noise("married", married, 0.05, 0.0),
    Noise("other_phone", other_phone, 0.12, 0.0),
    Noise("dob_swap", dob_swap, 0.05, 0.002),
    Noise("nickname", nickname, 0.18, 0.02),
    Noise("email_variant", email_variant, 0.2, 0.01),
)


def choose(noise: tuple[Noise, ...], dup: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """Per noise, the rows it hits: duplicates with odds `on_duplicate`, any row with `on_any`."""
    u = rng.random((len(dup), len(noise)))
    on_dup = np.array([x.on_duplicate for x in noise])
    on_any = np.array([x.on_any for x in noise])
    hit = np.where(dup[:, None], u < on_dup, u < on_any)
    return [hit[:, k] for k in range(len(noise))]


def apply_all(
    frame: pl.DataFrame,
    noise: tuple[Noise, ...],
    masks: list[np.ndarray],
    rng: np.random.Generator,
    t: Tables,
) -> pl.DataFrame:
    for item, mask in zip(noise, masks, strict=True):
        if mask.any():
            frame = item.apply(frame, mask, rng, t)
    return frame
