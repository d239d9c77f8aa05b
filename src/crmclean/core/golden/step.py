"""The golden step: golden ids (stable against the previous run), golden records and lineage
(survivorship), the crosswalk, and the review queue of pairs a steward still has to decide."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from crmclean.core.contracts import CROSSWALK_SCHEMA, PAIR_KEYS, RECORD_ID
from crmclean.core.golden.ids import IdState, assign_golden_ids, describe_changes
from crmclean.core.golden.survivorship import SurvivorshipSpec, build_golden


@dataclass(frozen=True)
class PreviousRun:
    """What the golden step needs from the previous night's outputs."""

    crosswalk: pl.DataFrame  # record_id, golden_id
    golden: pl.DataFrame | None
    id_state: IdState


@dataclass(frozen=True)
class GoldenStep:
    golden: pl.DataFrame
    crosswalk: pl.DataFrame
    lineage: pl.DataFrame
    changes: pl.DataFrame  # changes since the previous run (every id "created" on a first run)
    id_state: IdState


def crosswalk(
    members: pl.DataFrame, pairs: pl.DataFrame | None, steward: pl.DataFrame | None = None
) -> pl.DataFrame:
    """record_id -> golden_id, with the best probability linking it inside its golden record
    and how it joined: alone, by the model, or by a steward's `match` decision (a must-link
    pair need not have been scored at all)."""
    size = pl.len().over("golden_id")
    base = members.select(RECORD_ID, "golden_id")
    links = [
        pl.DataFrame(
            schema={
                "record_id_l": pl.String,
                "record_id_r": pl.String,
                "match_probability": pl.Float64,
                "__s": pl.Boolean,
            }
        )
    ]
    if pairs is not None and pairs.height:
        links.append(
            pairs.select(*PAIR_KEYS, "match_probability").with_columns(pl.lit(False).alias("__s"))
        )
    if steward is not None and steward.height:
        links.append(
            steward.select(
                *PAIR_KEYS, pl.lit(None, pl.Float64).alias("match_probability")
            ).with_columns(pl.lit(True).alias("__s"))
        )
    gid = base.rename({RECORD_ID: "__rid"})
    edges = (
        pl.concat(links, how="vertical_relaxed")
        .join(gid.rename({"__rid": "record_id_l", "golden_id": "__gl"}), on="record_id_l")
        .join(gid.rename({"__rid": "record_id_r", "golden_id": "__gr"}), on="record_id_r")
        .filter(pl.col("__gl") == pl.col("__gr"))
    )
    ends = pl.concat(
        [
            edges.select(pl.col(side).alias(RECORD_ID), "match_probability", "__s")
            for side in PAIR_KEYS
        ]
    )
    best = ends.group_by(RECORD_ID).agg(
        pl.col("match_probability").max(), pl.col("__s").any().alias("__steward")
    )
    return (
        base.join(best, on=RECORD_ID, how="left")
        .with_columns(
            pl.when(size == 1)
            .then(pl.lit("singleton"))
            .when(pl.col("__steward").fill_null(False))
            .then(pl.lit("steward"))
            .otherwise(pl.lit("matched"))
            .alias("how"),
            pl.when(size == 1)
            .then(None)
            .otherwise(pl.col("match_probability"))
            .alias("match_probability"),
        )
        .select(list(CROSSWALK_SCHEMA))
        .cast(CROSSWALK_SCHEMA)
        .sort("golden_id", RECORD_ID)
    )


def golden_step(
    records: pl.DataFrame,
    clusters: pl.DataFrame,
    spec: SurvivorshipSpec | None,
    *,
    pairs: pl.DataFrame | None = None,
    steward: pl.DataFrame | None = None,
    invalid: pl.DataFrame | None = None,
    previous: PreviousRun | None = None,
    source_column: str | None = None,
    updated_column: str | None = None,
) -> GoldenStep:
    """Golden ids (stable against `previous`), golden records, lineage, crosswalk, changes."""
    assignment = assign_golden_ids(
        clusters,
        previous.crosswalk if previous else None,
        previous.id_state if previous else None,
    )
    result = build_golden(
        records,
        assignment.members,
        spec,
        invalid=invalid,
        source_column=source_column,
        updated_column=updated_column,
    )
    changes = describe_changes(assignment, previous.golden if previous else None, result.golden)
    return GoldenStep(
        golden=result.golden,
        crosswalk=crosswalk(assignment.members, pairs, steward),
        lineage=result.lineage,
        changes=changes,
        id_state=assignment.state,
    )


def review_queue(
    pairs: pl.DataFrame | None,
    records: pl.DataFrame,
    members: pl.DataFrame,
    *,
    review: float,
    auto_merge: float,
    decided: pl.DataFrame | None = None,
    cut: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Pairs in the review band [review, auto_merge), and merge-level pairs the clustering
    guards `cut`, that no steward has decided yet; with both records' values side by side
    (`<column>_l`, `<column>_r`) and their golden ids."""
    values = [c for c in records.columns if c != RECORD_ID]
    schema = {
        "record_id_l": pl.String,
        "record_id_r": pl.String,
        "match_probability": pl.Float64,
        "match_weight": pl.Float64,
        "blocking_rule": pl.String,
    }
    if pairs is None:
        pairs = pl.DataFrame(schema=schema)
    in_band = (pl.col("match_probability") >= review) & (pl.col("match_probability") < auto_merge)
    band = pairs.filter(in_band).with_columns(pl.lit("review band").alias("reason"))
    if cut is not None and cut.height:
        reasons = cut.select(*PAIR_KEYS, "reason").unique(PAIR_KEYS)
        band = pl.concat(
            [band, pairs.filter(~in_band).join(reasons, on=PAIR_KEYS, how="inner")],
            how="vertical_relaxed",
        )
    if decided is not None and decided.height:
        band = band.join(decided.select(PAIR_KEYS).unique(), on=PAIR_KEYS, how="anti")
    ids = members.select(RECORD_ID, "golden_id")
    for side in ("l", "r"):
        renamed = records.select(
            pl.col(RECORD_ID).alias(f"record_id_{side}"),
            *[pl.col(c).alias(f"{c}_{side}") for c in values],
        )
        band = band.join(renamed, on=f"record_id_{side}", how="left").join(
            ids.rename({RECORD_ID: f"record_id_{side}", "golden_id": f"golden_id_{side}"}),
            on=f"record_id_{side}",
            how="left",
        )
    return band.sort(["match_probability", *PAIR_KEYS], descending=[True, False, False])
