"""Text steps: trim, collapse whitespace, Unicode NFKC, control characters, case, null tokens."""

from __future__ import annotations

from typing import Literal

import polars as pl
from pydantic import Field

from crmclean.core.standardise.base import StepContext, StepSpec, expr_step, register

# Unicode "Other, control" and "Other, format" (zero-width spaces, BOMs, bidi marks).
_CONTROL = r"[\p{Cc}\p{Cf}]"


class TrimStep(StepSpec):
    """Remove leading and trailing whitespace (Unicode-aware)."""

    type: Literal["trim"] = "trim"


class CollapseWhitespaceStep(StepSpec):
    """Replace every run of whitespace with one space."""

    type: Literal["collapse_whitespace"] = "collapse_whitespace"


class NfkcStep(StepSpec):
    """Unicode NFKC: ligatures, full-width letters and compatibility forms to their plain form."""

    type: Literal["nfkc"] = "nfkc"


class RemoveControlStep(StepSpec):
    """Drop control and invisible format characters (NUL, BOM, zero-width spaces)."""

    type: Literal["remove_control"] = "remove_control"


class CaseStep(StepSpec):
    """Change letter case of the whole value."""

    type: Literal["case"] = "case"
    to: Literal["upper", "lower", "title"]


class UpperStep(StepSpec):
    type: Literal["upper"] = "upper"


class LowerStep(StepSpec):
    type: Literal["lower"] = "lower"


class TitleStep(StepSpec):
    type: Literal["title"] = "title"


class NullTokensStep(StepSpec):
    """Values such as "", "N/A", "n.a.", "-", "unknown" become null (case-insensitive)."""

    type: Literal["null_tokens"] = "null_tokens"
    tokens: list[str] | None = Field(
        None, description="Tokens meaning 'no value'; default: dataset.null_tokens"
    )


def _col(ctx: StepContext) -> pl.Expr:
    return pl.col(ctx.column).cast(pl.String)


def case_expr(value: pl.Expr, to: str) -> pl.Expr:
    if to == "upper":
        return value.str.to_uppercase()
    if to == "lower":
        return value.str.to_lowercase()
    # title: from lower case so that the result does not depend on the input's case
    return value.str.to_lowercase().str.to_titlecase()


def null_tokens_expr(value: pl.Expr, tokens: list[str] | tuple[str, ...]) -> pl.Expr:
    folded = sorted({t.strip().lower() for t in tokens})
    key = value.str.strip_chars().str.to_lowercase()
    return pl.when(key.is_in(folded)).then(pl.lit(None, dtype=pl.String)).otherwise(value)


register("trim", TrimStep, "strip leading/trailing whitespace", aliases=["strip"])(
    expr_step(lambda spec, ctx: _col(ctx).str.strip_chars())
)
register("collapse_whitespace", CollapseWhitespaceStep, "runs of whitespace -> one space")(
    expr_step(lambda spec, ctx: _col(ctx).str.replace_all(r"\s+", " "))
)
# NFKC folds the ordinal indicators º and ª into o and a, which breaks Spanish and Italian
# addresses ("9º", "Pº de Gracia"); they are kept by parking them in private-use characters.
_ORDINALS = {"º": "\ue000", "ª": "\ue001"}


def nfkc_expr(value: pl.Expr) -> pl.Expr:
    parked = value.str.replace_many(list(_ORDINALS), list(_ORDINALS.values()))
    return parked.str.normalize("NFKC").str.replace_many(list(_ORDINALS.values()), list(_ORDINALS))


register("nfkc", NfkcStep, "Unicode NFKC normalisation", aliases=["unicode"])(
    expr_step(lambda spec, ctx: nfkc_expr(_col(ctx)))
)
register("remove_control", RemoveControlStep, "drop control/format characters")(
    expr_step(lambda spec, ctx: _col(ctx).str.replace_all(_CONTROL, ""))
)
register("case", CaseStep, "upper, lower or title case")(
    expr_step(lambda spec, ctx: case_expr(_col(ctx), spec.to))  # type: ignore[attr-defined]
)
register("upper", UpperStep, "UPPER CASE")(
    expr_step(lambda spec, ctx: case_expr(_col(ctx), "upper"))
)
register("lower", LowerStep, "lower case")(
    expr_step(lambda spec, ctx: case_expr(_col(ctx), "lower"))
)
register("title", TitleStep, "Title Case")(
    expr_step(lambda spec, ctx: case_expr(_col(ctx), "title"))
)
register("null_tokens", NullTokensStep, "null tokens -> null", aliases=["nulls"])(
    expr_step(
        lambda spec, ctx: null_tokens_expr(
            _col(ctx),
            spec.tokens if spec.tokens is not None else ctx.null_tokens,  # type: ignore[attr-defined]
        )
    )
)
