"""Masking personal values for reports: `j***@example.com`, `+49 *** **67`, `J***`.

Vectorised over a Series for violation samples; mask_value() does one value the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

import polars as pl

if TYPE_CHECKING:
    from crmclean.core.rules.rule_file import RuleFile

MaskKind = Literal["email", "phone", "date", "text"]
_KIND_OF_TYPE: dict[str, MaskKind] = {
    "email": "email",
    "phone": "phone",
    "date": "date",
    "datetime": "date",
}


def kind_for(column: str, column_type: str = "string") -> MaskKind:
    """How to mask a column: by its rule-file type, else by a telling name."""
    if column_type in _KIND_OF_TYPE:
        return _KIND_OF_TYPE[column_type]
    name = column.lower()
    for hint, kind in (("mail", "email"), ("phone", "phone"), ("birth", "date")):
        if hint in name:
            return kind  # type: ignore[return-value]
    return "text"


# A value shown to a person (reports, console tables, messages, review) is cut to this many
# characters, followed by "… (N chars)": a 10 MB CRM note must not be copied into report.html.
# Violation and change files keep the whole value (masked per policy): they are data.
SHOWN_CHARS = 200


def cap_expr(value: pl.Expr, limit: int = SHOWN_CHARS) -> pl.Expr:
    """A String expression cut to `limit` characters, with an ellipsis and the original length."""
    text = value.cast(pl.String)
    length = text.str.len_chars()
    cut = pl.format("{}… ({} chars)", text.str.slice(0, limit), length)
    return pl.when(length > limit).then(cut).otherwise(text)


def cap_value(value: str | None, limit: int = SHOWN_CHARS) -> str | None:
    """One value cut as cap_expr cuts a column."""
    if value is None or len(value) <= limit:
        return value
    return f"{value[:limit]}… ({len(value)} chars)"


def personal_columns(rules: RuleFile) -> dict[str, MaskKind]:
    """Every column whose values are personal, and how to mask it: the one policy every command
    uses. `pii: true` columns; the columns their standardise steps fill (a phone's extension, a
    split first name); and `derive:` columns built from any of these, in the order written, so a
    key built on a key counts too."""
    kinds: dict[str, MaskKind] = {
        name: kind_for(name, c.type) for name, c in rules.columns.items() if c.pii
    }
    for name, column in rules.columns.items():
        if name in kinds:
            for step in column.standardise:
                for filled in step.output_columns():
                    kinds.setdefault(filled, kind_for(filled))
    for name, derived in rules.derive.items():
        inherited = [kinds[source] for source in derived.sources if source in kinds]
        if inherited and name not in kinds:
            kinds[name] = inherited[0] if len(derived.sources) == 1 else "text"
    return kinds


# What an engine error quotes of the data: polars lists failing values as ["a", "b"] and quotes
# them in double quotes; column names it quotes in single quotes or backticks, which stay.
_VALUE_LIST = re.compile(r":?\s*\[[^\]]*\]?")
_QUOTED = re.compile(r'"[^"]*"?')


def redact_engine_message(text: str) -> str:
    """An engine's (polars') error without the data values it quotes: a setup message names the
    rule and the column; the values it failed on may be personal and are not repeated."""
    return _QUOTED.sub('"…"', _VALUE_LIST.sub("", text)).strip()


def mask_expr(value: pl.Expr, kind: MaskKind = "text") -> pl.Expr:
    """The masked form of a String expression; nulls stay null."""
    text = value.cast(pl.String).str.strip_chars()
    return pl.when(text.is_not_null()).then(_masked(text, kind))


def _masked(text: pl.Expr, kind: MaskKind) -> pl.Expr:
    first = text.str.slice(0, 1)
    generic = pl.when(text == "").then(pl.lit("")).otherwise(first + "***")
    if kind == "email":
        domain = text.str.extract(r"@([^@]*)$", 1)
        return pl.when(domain.is_not_null()).then(first + "***@" + domain).otherwise(generic)
    if kind == "phone":
        compact = text.str.replace_all(r"[^0-9+]", "")
        head = compact.str.slice(0, 3)
        tail = compact.str.slice(-2, 2)
        masked = head + " *** **" + tail
        # masking a masked number again keeps it (an incremental run carries masked rows over)
        done = text.str.contains(r"^\+?[0-9]{0,3} \*\*\* \*\*[0-9]{0,2}$") | (text == "***")
        return (
            pl.when(done)
            .then(text)
            .when(compact.str.len_chars() >= 6)
            .then(masked)
            .otherwise(pl.lit("***"))
        )
    if kind == "date":
        return pl.when(text == "").then(pl.lit("")).otherwise(pl.lit("****-**-**"))
    return generic


def mask_series(values: pl.Series, kind: MaskKind = "text") -> pl.Series:
    return pl.select(mask_expr(pl.lit(values), kind)).to_series().alias(values.name)


def mask_value(value: str | None, kind: MaskKind | None = None) -> str | None:
    """One value masked; without a kind, e-mail addresses are still recognised by their @."""
    if value is None:
        return None
    chosen: MaskKind = kind or ("email" if "@" in value else "text")
    return mask_series(pl.Series([value], dtype=pl.String), chosen).item()  # type: ignore[no-any-return]


# Checks whose violation value is a figure about the record (a share, a row count), not its data.
FIGURE_CHECKS = ("completeness", "row_count")


def mask_violations(violations: pl.DataFrame, pii: Mapping[str, MaskKind]) -> pl.DataFrame:
    """Mask the `value` of violations whose column is personal (composite keys included)."""
    if not pii or violations.is_empty():
        return violations
    column = pl.col("column")
    out = pl.col("value")
    for name, kind in pii.items():  # a loop over personal columns, not rows
        own = column == name
        part_of = column.str.contains(rf"(^|, ){_escape(name)}(, |$)") & ~own
        out = pl.when(own).then(mask_expr(pl.col("value"), kind)).otherwise(out)
        out = pl.when(part_of).then(mask_expr(pl.col("value"), "text")).otherwise(out)
    figure = pl.col("check").is_in(FIGURE_CHECKS)
    return violations.with_columns(
        pl.when(figure).then(pl.col("value")).otherwise(out).alias("value")
    )


def _escape(name: str) -> str:
    return "".join("\\" + c if not c.isalnum() and c != "_" else c for c in name)
