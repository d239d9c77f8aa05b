"""INPUT and `--previous` at a URI Spark reaches (issue 12): the input is read by Spark, a
previous run at a URI without a complete manifest is refused (exit 3), and `--out` at a URI is
refused (exit 2) until publishing there keeps the local guarantees. Tested with file:// URIs:
there is no object store or HDFS here, and Spark reaches those through the same FileSystem
API."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from run_fixtures import crmclean, write_case
from spark_session import spark_session


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The rule file's case and its run on the polars engine, in local folders."""
    folder = tmp_path_factory.mktemp("uris")
    data, rules = write_case(folder)
    code, err = crmclean("run", data, "-r", rules, "--out", folder / "polars", "-q", "--no-report")
    assert code == 0, err
    return data, rules, folder / "polars"


def _uri(path: Path) -> str:
    return path.absolute().as_uri()


@pytest.mark.parametrize(
    ("where", "args"),
    [
        ("input", ["file:///nowhere/customers.csv", "--out", "OUT"]),
        ("--previous", ["DATA", "--out", "OUT", "--previous", "file:///nowhere/out/"]),
    ],
)
def test_a_uri_needs_the_spark_engine(
    case: tuple[Path, Path, Path], tmp_path: Path, where: str, args: list[str]
) -> None:
    data, rules, _ = case
    given = [{"DATA": str(data), "OUT": str(tmp_path / "out")}.get(a, a) for a in args]
    code, err = crmclean("run", *given, "-r", rules, "-q")
    assert code == 2, err
    assert len(err) == 1 and "only Spark" in err[0] and "--engine spark" in err[0], err
    assert not (tmp_path / "out").exists()


def test_other_commands_refuse_a_uri_input_off_spark(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, rules, _ = case
    for command in ("validate", "clean", "dedupe", "profile"):
        extra = {"clean": ["--dry-run"], "dedupe": ["--out", str(tmp_path / "d")]}.get(command, [])
        code, err = crmclean(command, "file:///nowhere/c.csv", "-r", rules, *extra)
        assert code == 2 and "only Spark reads" in err[0], (command, err)


@pytest.mark.parametrize("engine", ["polars", "spark"])
def test_run_publishes_to_no_uri(case: tuple[Path, Path, Path], engine: str) -> None:
    """Copying a run up to a URI lost a steward's files saved meanwhile and, killed while
    copying, the previous run (an attacker's review): refused on every engine, before Spark."""
    data, rules, _ = case
    code, err = crmclean("run", data, "-r", rules, "--out", "file:///nowhere/out/", "-q",
                         "--engine", engine)  # fmt: skip
    assert code == 2, err
    assert len(err) == 1 and "does not publish a run to a URI" in err[0], err
    assert "local --out" in err[0]


def test_other_commands_write_no_uri_out(case: tuple[Path, Path, Path], tmp_path: Path) -> None:
    data, rules, _ = case
    for command in ("validate", "clean", "dedupe"):
        code, err = crmclean(command, data, "-r", rules, "--out", "s3a://lake/out/")
        assert code == 2 and "writes a local folder" in err[0], (command, err)
    assert not Path("s3a:").exists()


@pytest.mark.spark
def test_a_run_between_uris_equals_the_local_run_and_keeps_ids_next_night(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    spark_session()
    data, rules, polars = case
    out = tmp_path / "lake" / "run"
    code, err = crmclean("run", _uri(data), "-r", rules, "--out", out, "--engine", "spark", "-q")
    assert code == 0, err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["inputs"][0]["path"] == _uri(data) and manifest["inputs"][0]["format"] == "csv"
    assert all((out / name).is_file() for name in manifest["outputs"])
    for name in ("crosswalk", "golden", "clusters", "clean", "violations"):
        mine, theirs = (
            pl.read_parquet(out / f"{name}.parquet"),
            pl.read_parquet(polars / f"{name}.parquet"),
        )
        assert mine.equals(theirs), name
    # the second night reads the first at its URI: ids stay, nothing is new
    uri = _uri(out) + "/"
    night2 = tmp_path / "lake" / "run2"
    code, err = crmclean(
        "run", _uri(data), "-r", rules, "--out", night2, "--previous", uri, "--engine", "spark",
        "-q",
    )  # fmt: skip
    assert code == 0, err
    second = json.loads((night2 / "manifest.json").read_text())
    assert second["previous"] == uri and second["changes_since_previous"].get("created", 0) == 0
    crosswalk = pl.read_parquet(night2 / "crosswalk.parquet").select("record_id", "golden_id")
    before = pl.read_parquet(polars / "crosswalk.parquet").select("record_id", "golden_id")
    assert crosswalk.sort("record_id").equals(before.sort("record_id"))


@pytest.mark.spark
def test_a_uri_folder_without_a_complete_manifest_is_refused(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """A run that died while copying up leaves the folder without its manifest (removed first,
    written last) or with listed outputs missing: both are refused in one line, exit 3, and the
    folder is left as it is; so is an --out URI holding files crmclean did not write."""
    spark_session()
    data, rules, polars = case
    lost = tmp_path / "lost"
    shutil.copytree(polars, lost)
    (lost / "golden.parquet").unlink()
    half = tmp_path / "half"
    shutil.copytree(polars, half)
    (half / "manifest.json").unlink()
    expected = {
        lost: "manifest.json lists outputs that are missing (golden.parquet)",
        half: "holds files but no manifest.json",
    }
    for folder, words in expected.items():
        before = sorted(p.name for p in folder.iterdir())
        target = ["--out", str(tmp_path / "new"), "--previous", _uri(folder)]
        code, err = crmclean("run", data, "-r", rules, *target, "--engine", "spark", "-q")
        assert code == 3, err
        assert len(err) == 1 and words in err[0] and _uri(folder) in err[0], err
        assert sorted(p.name for p in folder.iterdir()) == before
    assert not (tmp_path / "new").exists()
