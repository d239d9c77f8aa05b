"""DuckDB's errors in crmclean's terms: a signal inside a query is an interrupt (exit 130, not
"a crmclean bug", exit 3), and a --memory too small for the data is the user's setting (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

duckdb = pytest.importorskip("duckdb")

from crmclean.engines.duckdb_engine.errors import translate  # noqa: E402
from crmclean.errors import Terminated, UsageError  # noqa: E402
from run_fixtures import crmclean, write_case  # noqa: E402


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RuntimeError("Query interrupted"), KeyboardInterrupt),
        (
            duckdb.InvalidInputException(
                "Python exception occurred while executing the UDF: KeyboardInterrupt: "
            ),
            KeyboardInterrupt,
        ),
        (
            duckdb.InvalidInputException(
                "Python exception occurred while executing the UDF: Terminated: "
            ),
            Terminated,
        ),
        (duckdb.OutOfMemoryException("could not allocate block"), UsageError),
    ],
)
def test_duckdb_errors_become_crmclean_ones(error: Exception, expected: type) -> None:
    assert type(translate(error, "1KB")) is expected


def test_other_errors_stay_themselves() -> None:
    error = duckdb.CatalogException("no such table")
    assert translate(error, None) is error
    other = RuntimeError("something else")
    assert translate(other, None) is other


def test_too_little_memory_is_exit_2_naming_the_option(tmp_path: Path) -> None:
    data, rules = write_case(tmp_path / "in", n_people=40)
    argv = ["dedupe", data, "--rules", rules, "--out", tmp_path / "out"]
    code, err = crmclean(*argv, "--engine", "duckdb", "--memory", "1KB")
    assert code == 2, err
    assert "--memory 1KB" in err[0] and "crmclean bug" not in err[0]
