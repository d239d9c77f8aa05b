"""A run folder is trusted only once its manifest is complete (issue 12): a run writes its
manifest.json last, so a folder without one, or whose manifest lists outputs the folder lacks,
was never completely published (or lost a file since). Every reader refuses it, in one line,
exit 3: `report`, `review`, `match` and `run --previous`."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from run_fixtures import crmclean, write_case


@pytest.fixture(scope="module")
def night1(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("night1")
    data, rules = write_case(folder)
    out = folder / "out"
    code, err = crmclean("run", data, "--rules", rules, "--out", out, "-q", "--no-report")
    assert code == 0, err
    return data, rules, out


def _no_manifest(out: Path) -> None:
    (out / "manifest.json").unlink()


def _lost_listed_output(out: Path) -> None:
    listed = json.loads((out / "manifest.json").read_text())["outputs"]
    assert "violations.parquet" in listed and "dedupe.json" in listed
    (out / "violations.parquet").unlink()
    (out / "dedupe.json").unlink()


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "no_manifest": (_no_manifest, "manifest.json missing"),
    "listed_output_missing": (
        _lost_listed_output,
        "manifest.json lists outputs that are missing (dedupe.json, violations.parquet)",
    ),
}


def _readers(data: Path, rules: Path, out: Path, tmp: Path) -> dict[str, list[str | Path]]:
    record = json.dumps({"customer_id": "x1", "last_name": "Muster", "email": "a@b.de"})
    return {
        "report": ["report", out, "-q"],
        "review": ["review", out, "-f", "csv", "--out", tmp / "queue.csv"],
        "match": ["match", out, "--record", record, "-f", "json"],
        "previous": ["run", data, "-r", rules, "--out", tmp / "next", "--previous", out, "-q"],
    }


@pytest.mark.parametrize(
    ("reader", "damage"),
    [
        *[(reader, damage) for reader in ("report", "review", "match") for damage in DAMAGE],
        ("previous", "no_manifest"),
    ],
)
def test_a_run_folder_without_a_complete_manifest_is_refused_by_every_reader(
    night1: tuple[Path, Path, Path], tmp_path: Path, damage: str, reader: str
) -> None:
    data, rules, first = night1
    out = tmp_path / "out"
    shutil.copytree(first, out)
    spoil, words = DAMAGE[damage]
    spoil(out)
    code, err = crmclean(*_readers(data, rules, out, tmp_path)[reader])
    assert code == 3, err
    assert len(err) == 1 and str(out) in err[0] and words in err[0], err
    assert not (tmp_path / "next").exists() and not (tmp_path / "queue.csv").exists()


def test_a_complete_run_folder_is_read(night1: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """The same readers on the intact folder: the refusal above is the manifest's doing."""
    data, rules, first = night1
    out = tmp_path / "out"
    shutil.copytree(first, out)
    for reader, args in _readers(data, rules, out, tmp_path).items():
        code, err = crmclean(*args)
        assert code == 0, (reader, err)


def test_a_previous_run_that_lost_a_table_the_night_does_not_need_is_still_read(
    night1: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """`--previous` needs the manifest, the crosswalk and the golden records (golden ids); a
    previous folder that lost another table since (a steward moved violations.parquet away) is
    still read, its golden ids kept; an incremental night falls back to a full one
    (tests/test_run_incremental.py)."""
    data, rules, first = night1
    out = tmp_path / "out"
    shutil.copytree(first, out)
    _lost_listed_output(out)
    args = _readers(data, rules, out, tmp_path)["previous"]
    code, err = crmclean(*args)
    assert code == 0, err
    before = pl.read_parquet(first / "crosswalk.parquet").sort("record_id")
    after = pl.read_parquet(tmp_path / "next" / "crosswalk.parquet").sort("record_id")
    assert before["golden_id"].to_list() == after["golden_id"].to_list()
