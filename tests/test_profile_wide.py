"""`crmclean profile` on a wide file (issue 9, item 10): every column profiled correctly.

Memory and speed of 5,000 columns are measured by benchmarks/bench_profile_wide.py, not timed
here; this file checks that the batched (column, value) path gives the same figures as one query
per column, and that a 2,000-column file is profiled through the CLI with the right figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.core import profile as profile_module
from crmclean.core.profile import profile_frame

runner = CliRunner()


def wide(columns: int, rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(3)
    data: dict[str, list[str | None]] = {}
    for i in range(columns):
        if i % 3 == 0:
            data[f"c{i}"] = [str(n) for n in rng.integers(0, 7, rows)]
        elif i % 3 == 1:
            data[f"c{i}"] = [f"u{n}@example.de" for n in rng.integers(0, 5, rows)]
        else:
            data[f"c{i}"] = [None] * rows
    return pl.DataFrame(data, schema=dict.fromkeys(data, pl.String))


def test_wide_file_of_2000_columns_is_profiled_column_by_column(tmp_path: Path) -> None:
    frame = wide(2_000, 40)
    path = tmp_path / "wide.csv"
    frame.write_csv(path)
    result = runner.invoke(app, ["profile", str(path), "--format", "json", "--show-values"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["rows"] == 40
    assert [c["name"] for c in document["columns"]] == frame.columns
    for column in document["columns"]:
        values = frame.get_column(column["name"])
        assert column["nulls"] == values.null_count()
        assert column["distinct"] == values.drop_nulls().n_unique()
        counts = values.drop_nulls().value_counts(name="count")
        expected = counts.sort(["count", column["name"]], descending=[True, False]).head(5)
        assert [(v["value"], v["count"]) for v in column["top_values"]] == expected.rows()
        index = int(column["name"][1:])
        assert column["semantic_type"] == ("integer", "email", None)[index % 3]
        if index % 3 == 1:
            assert column["shapes"][0]["value"] == "a9@a+.a+"


def test_batched_value_counts_equal_one_query_per_column() -> None:
    frame = wide(60, 25)
    names = frame.columns
    batched = profile_module._value_counts(frame, names, 3)
    single = profile_module._counts_each(frame, names, 3)
    for name in names:
        assert batched[name][0] == single[name][0]
        assert batched[name][1].rows() == single[name][1].select(name, "count").rows()


def test_tall_and_wide_paths_give_the_same_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    frame = wide(30, 50).with_row_index("record_id").cast({"record_id": pl.String})
    wide_profile = profile_frame(frame, show_values=True)
    # one column per chunk, and the tall path (one query per column) for the value counts
    monkeypatch.setattr(profile_module, "CHUNK_CELLS", 1)
    monkeypatch.setattr(profile_module, "TALL_ROWS", 10)
    assert profile_frame(frame, show_values=True).to_dict() == wide_profile.to_dict()


_CAPPED = """
import resource, sys
cap = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from crmclean.cli.main import run
sys.argv = ["crmclean", "profile", sys.argv[2], "--format", "json"]
run()
"""


def test_profile_of_5000_columns_fits_in_a_capped_address_space(tmp_path: Path) -> None:
    """A bound, not a timing: 5,000 columns x 100 rows profile within 2.5 GiB of address space
    (the old one-query-per-column profile aborted there, at 2,000 columns already)."""
    path = tmp_path / "wide.csv"
    wide(5_000, 100).write_csv(path)
    env = {**os.environ, "POLARS_MAX_THREADS": "2"}  # address space grows with thread count
    cap = str(int(2.5 * 1024**3))
    done = subprocess.run(
        [sys.executable, "-c", _CAPPED, cap, str(path)],
        capture_output=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-500:]
    assert len(json.loads(done.stdout)["columns"]) == 5_000
