"""Outputs folders for the report tests, written by the contracts in docs/architecture.md.

`write_validate_run` is what `crmclean validate --out` leaves; `write_full_run` adds what
`crmclean run` leaves (standardisation, matching, golden records, review queue).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

import summary_data
from crmclean.core.masking import kind_for

ROWS = 10
# Personal values that must never appear in a masked report.
SECRET_EMAILS = [f"person{i}.secret@example.org" for i in range(1, ROWS + 1)]
NAMES = [
    "Anna Schmidt",
    "Anna Schmidt",
    "Ben Müller",
    "Ben Mueller",
    "Ben Muller",
    "Clara Weiß",
    "Dieter Roth",
    "Eva Roth",
    "Eva <script>alert(1)</script>",
    "Frank Graf",
]
CITIES = ["Berlin", "Berlin", "Köln", "Koeln", "Köln", "Hamburg", "Bonn", "Essen", "Essen", "Ulm"]


def _violations() -> pl.DataFrame:
    bad_email = ("email.email_valid", "email_valid", "email")
    rows = [
        (*bad_email, "2", SECRET_EMAILS[1], "not an e-mail", "error"),
        (*bad_email, "5", SECRET_EMAILS[4], "not an e-mail", "error"),
        (*bad_email, "7", SECRET_EMAILS[6], "not an e-mail", "error"),
        ("name.not_null", "not_null", "name", "4", None, "missing", "warn"),
        ("city.in_set", "in_set", "city", "4", "Koeln", "not a known city", "warn"),
    ]  # fmt: skip
    schema = ["rule_id", "check", "column", "record_id", "value", "message", "severity"]
    return pl.DataFrame(rows, schema=schema, orient="row")


RESULTS = [
    summary_data.rule("email.email_valid", violations=3, share=0.3, status="fail"),
    summary_data.rule("name.not_null", severity="warn", violations=1, share=0.1, status="warn"),
    summary_data.rule("city.in_set", check="in_set", severity="warn", violations=1, share=0.1,
                      status="warn"),
]  # fmt: skip
SCORE = round(100 * (3 * 0.7 + 0.9 + 0.9) / 5, 1)  # the validate step's formula


def write_validate_run(out: Path, *, pii_columns: list[str] | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    # what `validate --out` writes first: `crmclean report` rebuilds only folders crmclean wrote
    (out / ".crmclean-output").write_text("written by crmclean validate\n", encoding="utf-8")
    _violations().write_parquet(out / "violations.parquet")
    pii = {c: kind_for(c) for c in (pii_columns if pii_columns is not None else ["email", "name"])}
    summary = summary_data.validate(ROWS, RESULTS, pii=pii, score=SCORE)
    (out / "validate.json").write_text(json.dumps(summary), encoding="utf-8")
    return out


def _records() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "record_id": [str(i) for i in range(1, ROWS + 1)],
            "name": NAMES,
            "email": SECRET_EMAILS,
            "city": CITIES,
            "source_system": ["crm", "shop"] * (ROWS // 2),
        }
    )


def _pairs() -> pl.DataFrame:
    pairs = [("1", "2", 9.5), ("3", "4", 6.0), ("3", "5", 4.2), ("4", "5", 2.9),
             ("8", "9", 7.7), ("6", "7", -3.0), ("1", "10", -8.4)]  # fmt: skip
    frame = pl.DataFrame(pairs, schema=["record_id_l", "record_id_r", "match_weight"], orient="row")
    prior = -4.0
    return frame.with_columns(
        (2 ** pl.col("match_weight") / (1 + 2 ** pl.col("match_weight"))).alias(
            "match_probability"
        ),
        pl.when(pl.col("record_id_l") == "1")
        .then(pl.lit("l.email = r.email"))
        .otherwise(pl.lit("l.city = r.city"))
        .alias("blocking_rule"),
        pl.lit(2, dtype=pl.Int8).alias("gamma_name"),
        pl.lit(1, dtype=pl.Int8).alias("gamma_city"),
        ((pl.col("match_weight") - prior) * 0.7).alias("bf_name"),
        ((pl.col("match_weight") - prior) * 0.3).alias("bf_city"),
    )


def write_full_run(out: Path) -> Path:
    write_validate_run(out)
    records = _records()
    records.write_parquet(out / "clean.parquet")
    changes = pl.DataFrame(
        {
            "record_id": ["1", "2", "3", "4", "4", "6"],
            "column": ["name", "name", "city", "city", "email", "email"],
            "before": [" anna", "ANNA", "koln", "koeln", "x@", "y"],
            "after": ["Anna", "Anna", "Köln", "Köln", None, None],
            "step": ["trim", "title_case", "title_case", "title_case", "email", "email"],
            "error": [None, None, None, None, "invalid e-mail", "invalid e-mail"],
        }
    )
    changes.write_parquet(out / "changes.parquet")
    (out / "clean.json").write_text(json.dumps(summary_data.clean(ROWS)), encoding="utf-8")
    _pairs().write_parquet(out / "pairs.parquet")
    clusters = pl.DataFrame(
        {
            "record_id": [str(i) for i in range(1, ROWS + 1)],
            "cluster_id": ["c1", "c1", "c3", "c3", "c3", "c6", "c7", "c8", "c8", "c10"],
        }
    )
    clusters.write_parquet(out / "clusters.parquet")
    pii = {c: kind_for(c) for c in ("email", "name")}  # as validate.json says
    dedupe = summary_data.dedupe(thresholds={"auto_merge": 0.95, "review": 0.5}, pii=pii)
    (out / "dedupe.json").write_text(json.dumps(dedupe), encoding="utf-8")
    golden_ids = ["g1", "g3", "g6", "g7", "g8", "g10"]
    pl.DataFrame({"golden_id": golden_ids, "name": ["Anna Schmidt"] * 6}).write_parquet(
        out / "golden.parquet"
    )
    crosswalk = clusters.with_columns(
        pl.col("cluster_id").str.replace("c", "g").alias("golden_id"),
        pl.lit(1.0).alias("match_probability"),
        pl.lit("cluster").alias("how"),
    ).select("record_id", "golden_id", "match_probability", "how")
    crosswalk.write_parquet(out / "crosswalk.parquet")
    lineage = pl.DataFrame(
        {
            "golden_id": ["g1", "g1", "g3", "g3", "g6", "g8"],
            "column": ["name", "email", "name", "email", "name", "name"],
            "record_id": ["1", "2", "3", "4", "6", "8"],
            "source_system": ["crm", "shop", "crm", "crm", "shop", None],
            "strategy": ["most_complete", "most_recent", "most_complete", "most_recent"]
            + ["most_complete"] * 2,
        }
    )
    lineage.write_parquet(out / "lineage.parquet")
    pairs = _pairs()
    pairs.filter(pl.col("match_weight").is_between(0, 4.3)).write_parquet(out / "review.parquet")
    since = {"golden_id": ["g1", "g3", "g11"], "change": ["changed", "new", "removed"]}
    pl.DataFrame(since).write_parquet(out / "changes-since-previous.parquet")
    manifest = summary_data.run(ROWS, rows={"input": ROWS, "matched": ROWS}, pii_columns=list(pii))
    manifest["source_column"] = "source_system"  # run records dataset.source_column
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return out
