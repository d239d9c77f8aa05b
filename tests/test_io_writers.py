"""Atomic output folders, spreadsheet-safe CSV, stable JSON, and OutputError for what cannot be
written."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crmclean.errors import ExitCode, OutputError
from crmclean.io.spreadsheet import neutralise, neutralise_text
from crmclean.io.writers import (
    MARKER,
    atomic_output_dir,
    write_csv,
    write_json,
    write_parquet,
)


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".tmp-" in p.name or ".old-" in p.name)


def test_success_replaces_previous_output(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with atomic_output_dir(out) as folder:
        (folder / "old.txt").write_text("first run")
    with atomic_output_dir(out) as folder:
        assert folder.parent == tmp_path and folder != out  # same filesystem, beside out
        assert (out / "old.txt").exists()  # readers still see the previous run meanwhile
        (folder / "new.txt").write_text("second run")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "new.txt"]
    assert leftovers(tmp_path) == []


def test_exception_midway_leaves_previous_output_intact(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with atomic_output_dir(out) as folder:
        (folder / "summary.json").write_text('{"run": 1}')
    with pytest.raises(RuntimeError, match="boom"), atomic_output_dir(out) as folder:
        (folder / "summary.json").write_text('{"run": 2}')
        raise RuntimeError("boom")
    assert (out / "summary.json").read_text() == '{"run": 1}'
    assert leftovers(tmp_path) == []


def test_first_run_failure_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(KeyError), atomic_output_dir(tmp_path / "out"):
        raise KeyError("x")
    assert list(tmp_path.iterdir()) == []


def test_creates_missing_parents(tmp_path: Path) -> None:
    with atomic_output_dir(tmp_path / "a" / "b" / "out") as folder:
        (folder / "x").write_text("1")
    assert (tmp_path / "a" / "b" / "out" / "x").read_text() == "1"


def test_refuses_a_folder_crmclean_did_not_write(tmp_path: Path) -> None:
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.docx").write_text("years of work")
    refused = pytest.raises(OutputError, match="crmclean did not write")
    with refused as info, atomic_output_dir(precious):
        pass
    assert info.value.exit_code == ExitCode.UNREADABLE
    assert (precious / "thesis.docx").exists()


def test_refuses_an_out_folder_holding_the_input(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / MARKER).write_text("")
    source = data / "customers.csv"
    source.write_text("a\n1\n")
    with pytest.raises(OutputError, match="holds the input"), atomic_output_dir(data, [source]):
        pass
    assert source.read_text() == "a\n1\n"


def test_out_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "out").write_text("x")
    with pytest.raises(OutputError, match="is a file"), atomic_output_dir(tmp_path / "out"):
        pass


def test_unwritable_parent(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("x")
    refused = pytest.raises(OutputError, match="cannot create the output folder")
    with refused, atomic_output_dir(tmp_path / "blocker" / "out"):
        pass


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("+4930123456", "+4930123456"),  # E.164: kept, the writer quotes it
        ("+49 30 123456", "'+49 30 123456"),
        ("-12.50", "-12.50"),
        ("Müller", "Müller"),
        ("a=b", "a=b"),
    ],
)
def test_neutralise_table(value: str, expected: str) -> None:
    assert neutralise_text(value) == expected
    assert pl.select(neutralise(pl.lit(value))).item() == expected


def test_write_csv_spreadsheet_safe(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"name": ["=cmd()", "Anna, B.", 'say "hi"', None], "phone": ["+4930123456", "x", "", "y"]}
    ).with_columns(n=pl.Series([1, 2, 3, 4]))
    write_csv(frame, tmp_path / "x.csv")
    assert (tmp_path / "x.csv").read_text().splitlines() == [
        "name,phone,n",
        '\'=cmd(),"+4930123456",1',
        '"Anna, B.",x,2',
        '"say ""hi""",,3',
        ",y,4",
    ]


def test_write_csv_unsafe_keeps_values(tmp_path: Path) -> None:
    write_csv(pl.DataFrame({"a": ["=1"]}), tmp_path / "x.csv", spreadsheet_safe=False)
    assert (tmp_path / "x.csv").read_text() == "a\n=1\n"


def test_write_json_is_stable(tmp_path: Path) -> None:
    obj = {"b": 1, "a": {"z": [Path("p"), date(2024, 1, 2)], "y": {"s"}}, "ü": "ö"}
    write_json(obj, tmp_path / "s.json")
    text = (tmp_path / "s.json").read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.index('"a"') < text.index('"b"')
    assert json.loads(text) == {"a": {"y": ["s"], "z": ["p", "2024-01-02"]}, "b": 1, "ü": "ö"}
    write_json(obj, tmp_path / "t.json")
    assert (tmp_path / "t.json").read_text(encoding="utf-8") == text


def test_write_parquet_roundtrip(tmp_path: Path) -> None:
    frame = pl.DataFrame({"record_id": ["1"], "plz": ["01067"]})
    write_parquet(frame, tmp_path / "x.parquet")
    assert_frame_equal(pl.read_parquet(tmp_path / "x.parquet"), frame)


@pytest.mark.parametrize("writer", ["csv", "json", "parquet"])
def test_unwritable_path_is_an_output_error(tmp_path: Path, writer: str) -> None:
    target = tmp_path / "missing-folder" / f"x.{writer}"
    frame = pl.DataFrame({"a": ["1"]})
    with pytest.raises(OutputError, match="missing-folder/x") as info:
        if writer == "csv":
            write_csv(frame, target)
        elif writer == "json":
            write_json({"a": 1}, target)
        else:
            write_parquet(frame, target)
    assert info.value.exit_code == ExitCode.UNREADABLE
