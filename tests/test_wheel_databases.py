"""`pip install 'crmclean[databases]'` from the wheel, in a fresh virtualenv, with the extra's
newest versions and with each at the lower bound pyproject.toml states: a SQLite file is read
through ADBC and a DuckDB file through DuckDB, so the bounds are true (`make wheel-check`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from test_wheel_install import LOWER_BOUND, PROJECT, _ok, _run, lowest_pins, wheel

pytestmark = pytest.mark.wheel
__all__ = ["wheel"]  # the fixture, shared with test_wheel_install


def extra_pins() -> list[str]:
    pins = []
    for spec in PROJECT["optional-dependencies"]["databases"]:
        match = LOWER_BOUND.match(spec)
        assert match, f"databases extra without a '>=' lower bound: {spec!r}"
        pins.append(f"{match.group(1)}=={match.group(2)}")
    return pins


@pytest.mark.parametrize("versions", ["newest", "lowest"])
def test_the_databases_extra_reads_sqlite_and_duckdb(
    versions: str, wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _ok(_run([__import__("sys").executable, "-m", "venv", venv], tmp_path))
    python, crmclean = venv / "bin" / "python", venv / "bin" / "crmclean"
    install: list[str | Path] = [python, "-m", "pip", "install", "-q", f"{wheel}[databases]"]
    if versions == "lowest":
        pins = tmp_path / "lowest.txt"
        pins.write_text("\n".join([*lowest_pins(), *extra_pins()]) + "\n", encoding="utf-8")
        install += ["-c", pins]
    _ok(_run(install, tmp_path))
    _ok(_run([python, "-m", "pip", "check"], tmp_path))

    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("CREATE TABLE customers (id INTEGER, email TEXT, city TEXT)")
        db.executemany(
            "INSERT INTO customers VALUES (?, ?, ?)",
            [(1, "ada@example.com", "Köln"), (2, "bo@example.com", None)],
        )
    profile = _ok(_run([crmclean, "profile", "sqlite:///shop.db?table=customers"], tmp_path))
    assert "2 rows" in profile.stdout and "email" in profile.stdout
    load = (
        "import duckdb; duckdb.connect('crm.duckdb').execute(\"CREATE TABLE c AS SELECT 1 AS id\")"
    )
    _ok(_run([python, "-c", load], tmp_path))
    profile = _ok(_run([crmclean, "profile", "duckdb:///crm.duckdb?table=c"], tmp_path))
    assert "1 rows" in profile.stdout or "1 row" in profile.stdout
