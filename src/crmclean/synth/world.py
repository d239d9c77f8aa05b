"""The world's differences on top of the classic mix: `generate(..., world=True)`.

Three sparse source systems beside CRM, ERP and webshop (a newsletter sign-up with little more
than name and e-mail, point-of-sale records with name and phone, a call centre), first names
cut to an initial, typos in the e-mail domain, a different phone after most moves, and
placeholder values (1970-01-01, test@test.com, +1 (000) 000-0000, 00000). Off by default, so
the classic data (sample_data/, the benchmark history) stays byte-identical.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crmclean.synth.corrupt import Noise, update_rows, when_rows
from crmclean.synth.tables import Tables
from crmclean.synth.text_noise import SOURCE_GAPS, _typo

WORLD_SOURCES = ("crm", "erp", "webshop", "newsletter", "pos", "callcentre")
WORLD_SOURCE_SHARES = (0.34, 0.20, 0.16, 0.12, 0.10, 0.08)
# The sparse systems keep few fields: a sign-up form asks for a name and an e-mail, a till
# for a name and a phone (for the receipt), a call centre for whatever the caller says.
WORLD_SOURCE_GAPS: dict[str, dict[str, float]] = {
    **SOURCE_GAPS,
    "newsletter": {
        "salutation": 0.8, "last_name": 0.3, "company": 1.0, "phone": 1.0, "street": 1.0,
        "postcode": 1.0, "city": 1.0, "date_of_birth": 1.0,
    },
    "pos": {
        "salutation": 0.9, "company": 1.0, "email": 0.9, "street": 1.0, "postcode": 0.5,
        "city": 0.6, "date_of_birth": 1.0,
    },
    "callcentre": {
        "email": 0.6, "date_of_birth": 0.5, "street": 0.3, "postcode": 0.3, "city": 0.3,
        "company": 0.5,
    },
}  # fmt: skip
# Share of a moved customer's later records that also carry the other phone number.
PHONE_AFTER_MOVE = 0.6
# column: (placeholder, share of the filled values replaced by it)
PLACEHOLDERS = {
    "date_of_birth": ("1970-01-01", 0.015),
    "email": ("test@test.com", 0.01),
    "phone": ("+1 (000) 000-0000", 0.01),
    "postcode": ("00000", 0.01),
}


def initial(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """Florian -> F. (forms with a short first-name field, clerks in a hurry)."""
    first = pl.col("first_name")
    return frame.with_columns(when_rows(mask, first.str.slice(0, 1) + ".", "first_name"))


def email_domain_typo(
    frame: pl.DataFrame, mask: np.ndarray, rng: np.random.Generator, t: Tables
) -> pl.DataFrame:
    """gmial.com, outlok.com: one slip in the provider's name, the rest of the address intact."""
    email = pl.col("email")

    def slipped(n: int) -> dict[str, pl.Expr]:
        user, label = email.str.extract(r"^(.*@)"), email.str.extract(r"@([^.]+)\.")
        tld = email.str.extract(r"@[^.]+(\..*)$")
        changed = pl.concat_str(user, _typo(label, rng, n), tld)
        return {"email": pl.when(label.str.len_chars() >= 3).then(changed).otherwise(email)}

    return update_rows(frame, mask & frame["email"].is_not_null().to_numpy(), slipped)


WORLD_NOISE = (
    Noise("initial", initial, 0.05, 0.0),
    Noise("email_domain_typo", email_domain_typo, 0.03, 0.0),
)


def phone_follows_moves(
    masks: list[np.ndarray], names: list[str], rng: np.random.Generator
) -> None:
    """Most people who move are reached on another number afterwards (in place)."""
    moved, other = masks[names.index("moved")], masks[names.index("other_phone")]
    other |= moved & (rng.random(len(moved)) < PHONE_AFTER_MOVE)


def add_placeholders(
    frame: pl.DataFrame, defects: pl.DataFrame, rng: np.random.Generator
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Dummy values where a system demanded a field; logged as `placeholder` defects. A value
    that already holds a planted defect keeps it."""
    n = frame.height
    logs = [defects]
    for column, (value, share) in PLACEHOLDERS.items():
        planted = np.zeros(n, dtype=bool)
        planted[defects.filter(pl.col("column") == column)["row"].to_numpy()] = True
        hit = (rng.random(n) < share) & frame[column].is_not_null().to_numpy() & ~planted
        frame = frame.with_columns(when_rows(hit, pl.lit(value), column))
        rows = np.flatnonzero(hit)
        logs.append(
            pl.DataFrame(
                {
                    "row": pl.Series(rows, dtype=pl.Int64),
                    "column": pl.repeat(column, len(rows), dtype=pl.String, eager=True),
                    "kind": pl.repeat("placeholder", len(rows), dtype=pl.String, eager=True),
                }
            )
        )
    return frame, pl.concat(logs)
