"""The DuckDB engine: records and pairs are tables of an on-disk database in the run's temp
folder, so a run is bounded by disk rather than memory (`SET memory_limit`; DuckDB spills
joins and aggregates to its temp directory). Blocking, comparing, scoring and components are
SQL; training reads aggregates; only those, the components the clustering guards must see and
the pairs above the review threshold come back to Python.

Pairs refer to records by `_row`, the record's position in record_id order, inside the
database only; everything that leaves is keyed by record_id.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import polars as pl

from crmclean.core.contracts import RECORD_ID
from crmclean.core.matching.blocking import BlockingRuleStats
from crmclean.core.matching.engine import Clustering
from crmclean.core.matching.recall import recall_summary
from crmclean.core.matching.scoring import MatchModel
from crmclean.core.matching.spec import MatchingSpec
from crmclean.core.matching.u_probabilities import random_pairs
from crmclean.engines.duckdb_engine import blocking, distinct, temp_folder, udfs
from crmclean.engines.duckdb_engine.components import cluster_sql
from crmclean.engines.duckdb_engine.errors import translated
from crmclean.engines.duckdb_engine.recall import loose_pairs_sql
from crmclean.engines.duckdb_engine.sql import first, frame, ident, run, text
from crmclean.engines.sql import results
from crmclean.engines.sql.dialect import DUCKDB
from crmclean.engines.sql.recall import sums_sql
from crmclean.engines.sql.scoring import compare_sql, score_sql, term_frequency_sql
from crmclean.errors import UsageError


class DuckDBEngine:
    """Matching in DuckDB, out of core; `memory` caps DuckDB's memory ("4GB")."""

    name = "duckdb"

    def __init__(self, *, memory: str | None = None, temp_root: Path | None = None) -> None:
        # beside --out (the disk the outputs go to), else the system's temp folder
        self.memory = memory
        root = temp_root if temp_root is not None and temp_root.is_dir() else None
        self._folder = temp_folder.make(root)
        self.con = duckdb.connect(str(self._folder / "matching.duckdb"))
        run(self.con, f"SET temp_directory = {text(str(self._folder / 'spill'))}")
        run(self.con, "SET preserve_insertion_order = false")
        if memory:
            try:
                run(self.con, f"SET memory_limit = {text(memory)}")
            except duckdb.Error as exc:
                self.close()
                raise UsageError(f"--memory {memory}: {str(exc).splitlines()[0]}") from None
        udfs.register(self.con)
        self._spec: MatchingSpec | None = None
        self._types: dict[str, str] = {}
        self._columns: list[str] = []

    @property
    def spec(self) -> MatchingSpec:
        if self._spec is None:
            raise RuntimeError("prepare() first")
        return self._spec

    def _one(self, sql: str) -> Any:
        row = first(self.con, sql)
        return row[0] if row else None

    @translated
    def prepare(self, frame: pl.DataFrame, spec: MatchingSpec) -> None:
        self._spec = spec
        self._columns = [c for c in frame.columns if c != RECORD_ID]
        self.con.register("_input", frame)
        run(
            self.con,
            "CREATE OR REPLACE TABLE records AS SELECT "
            "CAST(row_number() OVER (ORDER BY record_id) - 1 AS BIGINT) AS _row, * "
            "FROM _input ORDER BY record_id",
        )
        self.con.unregister("_input")
        self._types = {
            str(row[0]): str(row[1]).upper()
            for row in self.con.execute("DESCRIBE records").fetchall()
        }
        values = results.values_sql(self._columns, self._types, DUCKDB)
        run(self.con, f"CREATE OR REPLACE VIEW vals AS {values}")

    @translated
    def block(self, *, force: bool, across_sources: bool = False) -> list[BlockingRuleStats]:
        stats = blocking.block(self.con, self.spec, force)
        if across_sources:  # link_only: a pair's records from different sources (`crm:4711`)
            run(
                self.con,
                "DELETE FROM pairs USING records l, records r "
                "WHERE l._row = pairs.row_l AND r._row = pairs.row_r "
                "AND split_part(l.record_id, ':', 1) = split_part(r.record_id, ':', 1)",
            )
        return stats

    @translated
    def candidate_pairs(self) -> pl.DataFrame:
        return results.candidate_pairs(
            frame(self.con, results.candidate_pairs_sql(self.spec, DUCKDB))
        )

    @translated
    def compare(self) -> None:
        for table, query in term_frequency_sql(self.spec).items():
            run(self.con, f"CREATE OR REPLACE TABLE {ident(table)} AS {query}")
        distinct.value_ids(self.con, self.spec)  # each distinct pair of values compared once
        keep = ["row_l", "row_r", "_rule", "_rules"]
        rows = distinct.distinct_rows_sql(self.spec, self._types, "pairs", keep)
        run(
            self.con,
            "CREATE OR REPLACE TABLE compared AS "
            + compare_sql(self.spec, self._types, "pairs", keep, rows=rows),
        )

    # --- training aggregates ---------------------------------------------------------------

    @translated
    def records(self) -> int:
        return int(self._one("SELECT count(*) FROM records"))

    @translated
    def pair_count(self) -> int:
        return int(self._one("SELECT count(*) FROM compared"))

    @translated
    def present(self, columns: list[str]) -> int:
        return int(self._one(results.present_sql(columns, DUCKDB)))

    @translated
    def agreement(self, columns: list[str], also_present: str | None) -> tuple[int, float]:
        row = first(self.con, results.agreement_sql(columns, also_present, DUCKDB))
        return int(row[0]), float(row[1])

    @translated
    def random_level_counts(self, n_pairs: int, seed: int) -> dict[str, dict[int, int]]:
        pairs = random_pairs(self.records(), n_pairs, seed).cast(pl.Int64)
        self.con.register("_random_pairs", pairs)
        run(
            self.con,
            "CREATE OR REPLACE TABLE _random AS "
            + compare_sql(self.spec, self._types, "_random_pairs", ["row_l"]),
        )
        self.con.unregister("_random_pairs")
        out: dict[str, dict[int, int]] = {}
        for c in self.spec.comparisons:
            rows = self.con.execute(results.level_counts_sql(c.name, "_random")).fetchall()
            out[c.name] = {int(g): int(n) for g, n in rows}
        run(self.con, "DROP TABLE _random")
        return out

    @translated
    def gamma_patterns(
        self, names: list[str], rule_index: int | None, limit: int, seed: int
    ) -> pl.DataFrame:
        where = f"WHERE (_rules & {1 << rule_index}) <> 0" if rule_index is not None else ""
        gammas = ", ".join(f"gamma_{n}" for n in names)
        count = int(self._one(f"SELECT count(*) FROM compared {where}"))
        source = f"(SELECT {gammas} FROM compared {where})"
        if count > limit:  # the positions core/matching/scoring.sample_pairs draws
            rng = np.random.default_rng(seed)
            keep = np.sort(rng.choice(count, size=limit, replace=False))
            self.con.register("_keep", pl.DataFrame({"_i": keep.astype(np.int64)}))
            source = (
                f"(SELECT {gammas} FROM (SELECT *, row_number() OVER (ORDER BY row_l, row_r) - 1 "
                f"AS _i FROM compared {where}) SEMI JOIN _keep USING (_i))"
            )
        result = frame(
            self.con, f"SELECT {gammas}, count(*) AS _n FROM {source} GROUP BY ALL ORDER BY ALL"
        )
        if count > limit:
            self.con.unregister("_keep")
        return results.patterns(result, names)

    # --- scoring, clustering, results ------------------------------------------------------

    @translated
    def score(self, model: MatchModel) -> None:
        run(self.con, "CREATE OR REPLACE TABLE scored AS " + score_sql(model, "compared"))

    @translated
    def retarget(self, spec: MatchingSpec) -> None:
        self._spec = spec

    def cluster(
        self, model: MatchModel, must_link: pl.DataFrame, cannot_link: pl.DataFrame
    ) -> Clustering:
        return cluster_sql(self.con, self.spec, model, must_link, cannot_link, self._columns)

    @translated
    def pairs_above(self, model: MatchModel, threshold: float) -> pl.DataFrame:
        above = results.above_sql(self.spec, model, threshold, DUCKDB)
        return results.pairs_above(frame(self.con, above), model)

    @translated
    def recall(self, model: MatchModel, seed: int) -> dict[str, Any]:
        n = self.records()
        loose, size = loose_pairs_sql(self.con, self.spec, n, seed)
        compared = compare_sql(self.spec, self._types, "_loose", ["row_l", "row_r", "_in"])
        found, missed = first(self.con, sums_sql(score_sql(model, f"({compared})"))) or (0, 0)
        run(self.con, "DROP TABLE IF EXISTS _loose")
        return recall_summary(n, size, loose, float(found), float(missed))

    def close(self) -> None:
        try:
            self.con.close()
        finally:
            shutil.rmtree(self._folder, ignore_errors=True)
