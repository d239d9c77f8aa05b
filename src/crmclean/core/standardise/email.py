"""E-mail addresses: trimmed and normalised by email-validator (domain lower case, IDN), and a
match key (`email_key`, derive only) with the local part case-folded and provider rules.

Plain ASCII addresses take a vectorised fast path that gives email-validator's answer (a property
test holds them equal); the rest runs email-validator once per distinct value.
"""

from __future__ import annotations

from typing import Literal

import polars as pl
from email_validator import EmailNotValidError, validate_email
from pydantic import Field

from crmclean.core.standardise.base import (
    StepContext,
    StepResult,
    StepSpec,
    column_values,
    map_unique_pairs,
    register,
    register_key,
)

_LOCAL = r"[A-Za-z0-9_%+\-]+(?:\.[A-Za-z0-9_%+\-]+)*"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"
_PLAIN = rf"^({_LOCAL})@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})$"
_SPECIAL_USE = r"(?i)(?:^|\.)(?:arpa|invalid|local|localhost|onion|test)$"
_GMAIL = ("gmail.com", "googlemail.com")
_PLUS_PROVIDERS = (
    *_GMAIL,
    "outlook.com",
    "hotmail.com",
    "live.com",
    "icloud.com",
    "me.com",
    "protonmail.com",
    "proton.me",
    "fastmail.com",
    "gmx.de",
    "web.de",
)


class EmailStep(StepSpec):
    """Trim and normalise with email-validator (no DNS lookups)."""

    type: Literal["email"] = "email"
    idn: Literal["unicode", "ascii"] = Field(
        "unicode", description="Internationalised domains as Unicode (bücher.de) or Punycode"
    )


class EmailKeyStep(StepSpec):
    """A match key: lower case, and optionally provider rules (Gmail dots, +tags)."""

    type: Literal["email_key"] = "email_key"
    provider_rules: bool = Field(True, description="Gmail: drop dots; googlemail.com = gmail.com")
    plus_tags: Literal["providers", "all", "none"] = Field(
        "providers", description="Drop '+tag' for providers that support it, all, or none"
    )


def fast_normalise(value: pl.Expr) -> pl.Expr:
    """email-validator's `normalized` for plain ASCII addresses; null where unsure."""
    parts = value.str.extract_groups(_PLAIN)
    local, domain = parts.struct.field("1"), parts.struct.field("2")
    sure = (
        local.is_not_null()
        & (local.str.len_chars() <= 64)
        & (value.str.len_chars() <= 254)
        & ~domain.str.contains("--")
        & ~domain.str.contains(_SPECIAL_USE)
    )
    return pl.when(sure).then(pl.concat_str(local, pl.lit("@"), domain.str.to_lowercase()))


def library_normalise(value: str, idn: str = "unicode") -> tuple[str | None, str | None]:
    """(normalised address, None) or (None, reason)."""
    try:
        found = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        return None, f"not a valid e-mail address: {exc}"
    if idn == "ascii" and found.ascii_email:
        return found.ascii_email, None
    return found.normalized, None


@register("email", EmailStep, "normalise e-mail addresses (email-validator)")
def _email(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    assert isinstance(spec, EmailStep)
    original = column_values(frame, ctx)
    trimmed = original.str.strip_chars().alias("value")
    # Punycode labels contain "--", so IDN addresses never take the fast path.
    fast = trimmed.to_frame().select(fast_normalise(pl.col("value"))).to_series()
    slow = trimmed.filter(fast.is_null() & trimmed.is_not_null())
    out, err, slow_n = map_unique_pairs(slow, lambda v: library_normalise(v, spec.idn), ctx)
    table = pl.DataFrame({"value": slow, "out": out, "error": err}).unique("value")
    joined = pl.DataFrame({"value": trimmed, "fast": fast, "original": original}).join(
        table, on="value", how="left", maintain_order="left"
    )
    values = joined.select(pl.coalesce("fast", "out", "original").alias(ctx.column)).to_series()
    distinct = trimmed.drop_nulls().n_unique()
    return StepResult(values, joined["error"], unique_inputs=distinct, slow_inputs=slow_n)


def email_keys(frame: pl.DataFrame, column: str, spec: EmailKeyStep) -> pl.Series:
    """The e-mail match key of (normalised) addresses; null when there is no '@'. Staged."""
    parts = pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()
    staged = frame.select(
        parts.str.extract_groups(r"^(.+)@([^@]+)$").struct.rename_fields(["local", "domain"])
    ).unnest(column)
    local, domain = pl.col("local"), pl.col("domain")
    if spec.provider_rules:
        gmail = domain.is_in(list(_GMAIL))
        staged = staged.with_columns(
            pl.when(gmail).then(local.str.replace_all(".", "", literal=True)).otherwise(local),
            pl.when(gmail).then(pl.lit("gmail.com")).otherwise(domain).alias("domain"),
        )
    if spec.plus_tags != "none":
        untagged = local.str.replace(r"\+.*$", "")
        strip = pl.lit(True) if spec.plus_tags == "all" else domain.is_in(list(_PLUS_PROVIDERS))
        staged = staged.with_columns(
            pl.when(strip & (untagged != "")).then(untagged).otherwise(local).alias("local")
        )
    return staged.select(pl.concat_str(local, pl.lit("@"), domain).alias(column)).to_series()


@register_key("email_key", EmailKeyStep, "e-mail match key (case-folded, provider rules)")
def _email_key(spec: StepSpec, frame: pl.DataFrame, ctx: StepContext) -> StepResult:
    assert isinstance(spec, EmailKeyStep)
    return StepResult(email_keys(frame, ctx.column, spec))
