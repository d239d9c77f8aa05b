"""The run frees the matching engine as soon as matching is done (DuckDB's buffers are then
the golden step's memory), and closing an engine twice is harmless."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crmclean.config.loader import load_rules
from crmclean.core.matching.engine_polars import PolarsEngine
from crmclean.core.pipeline import RunOptions, run_pipeline
from crmclean.engines import open_engine

ROOT = Path(__file__).parents[1]


class Watched(PolarsEngine):
    """The polars engine, noting the steps it was called for."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def close(self) -> None:
        self.calls.append("close")
        super().close()

    def recall(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self.calls.append("recall")
        return super().recall(*args, **kwargs)


def test_the_run_closes_the_engine_once_matching_is_done() -> None:
    rules = load_rules(ROOT / "rules" / "company.yaml").rules
    frame = pl.read_csv(ROOT / "sample_data" / "customers.csv", infer_schema=False).head(600)
    engine = Watched()
    steps: list[str] = []
    run_pipeline(
        frame,
        rules,
        RunOptions(engine=engine),
        on_step=lambda name: steps.append(f"{name}:{len(engine.calls)}"),
    )
    assert engine.calls == ["recall", "close"]  # closed inside dedupe's step ...
    assert "golden:2" in steps  # ... before the golden records start


@pytest.mark.parametrize("name", ["polars", "duckdb"])
def test_closing_twice_is_harmless(name: str) -> None:
    engine = open_engine(name, memory="1GB" if name == "duckdb" else None)
    engine.close()
    engine.close()
    folder = getattr(engine, "_folder", None)
    assert folder is None or not folder.exists()
