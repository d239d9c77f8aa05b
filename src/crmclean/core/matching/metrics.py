"""String metrics for similarity levels, registered by name; all run through
`rapidfuzz.process.cpdist` over aligned value pairs on every core."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
from rapidfuzz import distance, fuzz, process

from crmclean.core.registry import Registry

FloatArray = np.ndarray[Any, np.dtype[np.float64]]


@dataclass(frozen=True)
class Metric:
    """A rapidfuzz scorer; `distance` metrics match at or below the threshold."""

    name: str
    scorer: Callable[..., Any]
    kind: Literal["similarity", "distance"]
    scale: str  # what the threshold means, for docs and errors


metrics: Registry[Metric] = Registry("string metric")
metrics.add(
    "jaro_winkler",
    Metric("jaro_winkler", distance.JaroWinkler.normalized_similarity, "similarity", "0..1"),
    aliases=["jw"],
)
metrics.add("jaro", Metric("jaro", distance.Jaro.normalized_similarity, "similarity", "0..1"))
metrics.add(
    "levenshtein",
    Metric("levenshtein", distance.Levenshtein.distance, "distance", "edits"),
    aliases=["edit_distance"],
)
metrics.add(
    "damerau_levenshtein",
    Metric("damerau_levenshtein", distance.DamerauLevenshtein.distance, "distance", "edits"),
    aliases=["damerau"],
)
metrics.add(
    "token_set_ratio", Metric("token_set_ratio", fuzz.token_set_ratio, "similarity", "0..100")
)
metrics.add(
    "token_sort_ratio", Metric("token_sort_ratio", fuzz.token_sort_ratio, "similarity", "0..100")
)
metrics.add("partial_ratio", Metric("partial_ratio", fuzz.partial_ratio, "similarity", "0..100"))
metrics.add("ratio", Metric("ratio", fuzz.ratio, "similarity", "0..100"))


SMALL_BATCH = 4096  # fewer pairs than this are scored on one thread


def metric_scores(
    metric: str, left: pl.Series, right: pl.Series, *, workers: int | None = None
) -> FloatArray:
    """The metric over aligned value pairs (nulls compare as empty strings), on every core
    unless the batch is small (under SMALL_BATCH pairs: a lookup's few candidates, a SQL
    engine's UDF), where starting threads costs more than it saves; the scores are the same."""
    entry = metrics.get(metric)
    a = left.cast(pl.String).fill_null("").to_list()
    b = right.cast(pl.String).fill_null("").to_list()
    if not a:
        return np.zeros(0, dtype=np.float64)
    if workers is None:
        workers = 1 if len(a) < SMALL_BATCH else -1
    dtype = np.int32 if entry.kind == "distance" else np.float32
    scores = process.cpdist(a, b, scorer=entry.scorer, workers=workers, dtype=dtype)
    return np.asarray(scores, dtype=np.float64).reshape(-1)
