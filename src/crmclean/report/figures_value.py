"""The customer-value figures of the report: how value is spread over golden records, the key
accounts, and duplicates among them (merged, or still waiting in the review queue).

Only aggregates and the top key accounts (capped) are collected; golden ids and measures are
not personal data, names are not shown.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl

from crmclean.core.value import REASONS
from crmclean.io.run_outputs import RunOutputs
from crmclean.report.report_model import Count, CustomerValue, KeyAccount

MAX_KEY_ACCOUNTS = 25


def _bands(values: pl.Series) -> list[Count]:
    """Golden records per value band: none, then decades (1-10, 10-100, ...)."""
    positive = values.filter(values > 0)
    counts = [Count("none (0 or less)", int(values.len() - positive.len()))]
    if positive.len():
        low = math.floor(math.log10(max(float(positive.min()), 1e-9)))  # type: ignore[arg-type]
        high = math.floor(math.log10(float(positive.max())))  # type: ignore[arg-type]
        for k in range(low, high + 1):
            lo, hi = 10.0**k, 10.0 ** (k + 1)
            n = int(((positive >= lo) & (positive < hi)).sum())
            counts.append(Count(f"{_short(lo)} – {_short(hi)}", n))
    return counts


def _short(value: float) -> str:
    for size, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if value >= size:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def value_section(outputs: RunOutputs, movements: dict[str, Any] | None) -> CustomerValue | None:
    golden = outputs.table("golden")
    if golden is None or not movements:
        return None
    measure = movements.get("value_measure")
    names = outputs.schemas["golden"].names()
    if not isinstance(measure, str) or measure not in names:
        return None
    has_key = "key_account" in names
    frame = golden.select(
        "golden_id",
        pl.col(measure).cast(pl.Float64).fill_null(0.0).alias("__v"),
        (pl.col("key_account") if has_key else pl.lit(False)).alias("__k"),
    )
    values = frame.select("__v").collect().get_column("__v")
    total = float(values.sum())
    sizes = None
    crosswalk = outputs.table("crosswalk")
    if crosswalk is not None:
        sizes = crosswalk.group_by("golden_id").agg(pl.len().alias("__n"))
    keys = frame.filter(pl.col("__k"))
    if sizes is not None:
        keys = keys.join(sizes, on="golden_id", how="left")
    else:
        keys = keys.with_columns(pl.lit(None, pl.UInt32).alias("__n"))
    waiting = _review_pairs_per_golden(outputs)
    if waiting is not None:
        keys = keys.join(waiting, on="golden_id", how="left")
    else:
        keys = keys.with_columns(pl.lit(None, pl.UInt32).alias("__w"))
    collected = keys.sort(["__v", "golden_id"], descending=[True, False]).collect()
    key_value = float(collected.get_column("__v").sum())
    top = [
        KeyAccount(str(g), round(float(v), 2), int(n) if n is not None else None, int(w or 0))
        for g, v, n, w in collected.select("golden_id", "__v", "__n", "__w")
        .head(MAX_KEY_ACCOUNTS)
        .iter_rows()
    ]
    merged = int(collected.filter(pl.col("__n") > 1).height) if sizes is not None else None
    in_review = int(collected.filter(pl.col("__w") > 0).height) if waiting is not None else None
    tables = movements.get("tables") or {}
    reasons: dict[str, int] = {}
    for counts in tables.values():
        for reason in REASONS:
            reasons[reason] = reasons.get(reason, 0) + int(counts.get(reason, 0))
    return CustomerValue(
        measure=measure,
        as_of=movements.get("as_of"),
        golden_records=int(values.len()),
        with_value=int((values > 0).sum()),
        total=round(total, 2),
        bands=_bands(values),
        key_accounts=int(collected.height) if has_key else None,
        key_account_share=round(key_value / total, 4) if has_key and total > 0 else None,
        key_accounts_merged=merged if has_key else None,
        key_accounts_in_review=in_review if has_key else None,
        top_key_accounts=top,
        movements=int(movements.get("rows", 0)),
        movements_matched=int(movements.get("matched", 0)),
        unmatched=[Count(r, n) for r, n in reasons.items() if n],
    )


def _review_pairs_per_golden(outputs: RunOutputs) -> pl.LazyFrame | None:
    review = outputs.table("review")
    if review is None:
        return None
    names = outputs.schemas["review"].names()
    if "golden_id_l" not in names or "golden_id_r" not in names:
        return None
    ends = pl.concat(
        [review.select(pl.col(c).alias("golden_id")) for c in ("golden_id_l", "golden_id_r")]
    )
    return ends.group_by("golden_id").agg(pl.len().alias("__w"))
