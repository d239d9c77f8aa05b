"""crmclean never reuses a golden id: a run folder that lost or garbled a file stops the next run
(exit 3) instead of minting ids afresh, ids climb above every mark ever recorded, and no other
command replaces a run folder or writes one without the lock (issue 9, item 2)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

from crmclean.io.lock import output_lock
from run_fixtures import crmclean, customers, write_case


def serials(out: Path) -> set[int]:
    ids = pl.read_parquet(out / "crosswalk.parquet")["golden_id"]
    return {int(i[1:]) for i in ids}


@pytest.fixture(scope="module")
def night1(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("night1")
    data, rules = write_case(folder)
    out = folder / "out"
    code, err = crmclean("run", data, "--rules", rules, "--out", out, "-q")
    assert code == 0, err
    return data, rules, out


def copy_run(out: Path, to: Path) -> Path:
    to.mkdir()
    for path in out.iterdir():
        (to / path.name).write_bytes(path.read_bytes())
    return to


def manifest_edit(change: Callable[[dict[str, object]], None]) -> Callable[[Path], None]:
    def edit(out: Path) -> None:
        doc = json.loads((out / "manifest.json").read_text())
        change(doc)
        (out / "manifest.json").write_text(json.dumps(doc))

    return edit


def crosswalk_edit(change: Callable[[pl.DataFrame], pl.DataFrame]) -> Callable[[Path], None]:
    def edit(out: Path) -> None:
        path = out / "crosswalk.parquet"
        change(pl.read_parquet(path)).write_parquet(path)

    return edit


def set_mark(value: object) -> Callable[[dict[str, object]], None]:
    return lambda doc: doc.update(golden_ids={"high_water_mark": value, "prefix": "G"})


def reprefix(out: Path) -> None:
    for name in ("crosswalk", "golden"):
        path = out / f"{name}.parquet"
        frame = pl.read_parquet(path)
        frame.with_columns(pl.col("golden_id").str.replace("^G", "X")).write_parquet(path)


def full_width(out: Path) -> None:
    """G０００００００１４４: full-width digits, which a Unicode-aware \\d would accept."""
    to_wide = str.maketrans("0123456789", "０１２３４５６７８９")
    for name in ("crosswalk", "golden"):
        path = out / f"{name}.parquet"
        frame = pl.read_parquet(path)
        wide = [None if i is None else i.translate(to_wide) for i in frame["golden_id"]]
        frame.with_columns(pl.Series("golden_id", wide, pl.String)).write_parquet(path)


TAMPERED: dict[str, tuple[Callable[[Path], None], str]] = {
    "full_width_digits": (full_width, "not of the form G0000000000"),
    "crosswalk_lost": (lambda out: (out / "crosswalk.parquet").unlink(), "crosswalk.parquet"),
    "manifest_lost": (lambda out: (out / "manifest.json").unlink(), "manifest.json missing"),
    "golden_lost": (lambda out: (out / "golden.parquet").unlink(), "golden.parquet missing"),
    "zero_rows": (crosswalk_edit(lambda f: f.head(0)), "crosswalk.parquet has 0 rows"),
    "null_ids": (
        crosswalk_edit(lambda f: f.with_columns(pl.lit(None, pl.String).alias("golden_id"))),
        "empty golden_id",
    ),
    "all_in_one_id": (
        crosswalk_edit(lambda f: f.with_columns(pl.col("golden_id").first())),
        "not the same ids",
    ),
    "negative_mark": (manifest_edit(set_mark(-5)), "high_water_mark -5"),
    "absurd_mark": (manifest_edit(set_mark(10**15)), "high_water_mark 1000000000000000"),
    "mark_below_ids": (manifest_edit(set_mark(1)), "above the high-water mark 1"),
    "another_prefix": (reprefix, "not of the form G0000000000"),
    "counts_do_not_add_up": (
        manifest_edit(lambda doc: doc["rows"].update(input=1)),  # type: ignore[attr-defined]
        "do not add up",
    ),
}


@pytest.mark.parametrize("damage", list(TAMPERED))
def test_broken_previous_run_stops_the_run_and_reissues_no_id(
    night1: tuple[Path, Path, Path], tmp_path: Path, damage: str
) -> None:
    """The cron recipe on a folder that lost or garbled a file: exit 3 naming the problem,
    and the folder is left exactly as it was (nothing re-issued, nothing replaced)."""
    data, rules, first = night1
    out = copy_run(first, tmp_path / "out")
    spoil, words = TAMPERED[damage]
    spoil(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, err = crmclean("run", data, "--rules", rules, "--out", out, "--previous", out, "-q")
    assert code == 3, err
    assert len(err) == 1 and str(out) in err[0] and words in err[0], err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # the same folder as a separate --previous is refused the same way
    code, err = crmclean("run", data, "-r", rules, "--out", tmp_path / "o2", "--previous", out)
    assert code == 3 and words in err[0], err
    assert not (tmp_path / "o2").exists()


def test_run_without_previous_into_a_run_folder_never_reuses_ids(
    night1: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """Forgetting --previous: the folder's ids were handed out, so new ones start above its mark."""
    _, rules, first = night1
    out = copy_run(first, tmp_path / "out")
    mark = json.loads((out / "manifest.json").read_text())["golden_ids"]["high_water_mark"]
    night2 = tmp_path / "night2.csv"
    customers(40, seed=5).write_csv(night2)
    code, err = crmclean("run", night2, "--rules", rules, "--out", out, "-q")
    assert code == 0, err
    assert min(serials(out)) == mark + 1
    after = json.loads((out / "manifest.json").read_text())["golden_ids"]["high_water_mark"]
    assert after == mark + len(serials(out))


def test_run_takes_the_higher_mark_of_previous_and_out(
    night1: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """--previous A --out B where B holds a bigger run: B's ids are not handed out again."""
    data, rules, first = night1
    out = copy_run(first, tmp_path / "out")
    night2 = tmp_path / "night2.csv"
    customers(150, seed=5).write_csv(night2)
    assert crmclean("run", night2, "-r", rules, "--out", out, "-q")[0] == 0
    taken = serials(out)
    # night 3 is night 1 plus one new customer, carried forward from night 1's folder
    night3 = tmp_path / "night3.csv"
    source = pl.read_csv(data)
    newcomer = source.tail(1).with_columns(
        pl.lit("C99999").alias("customer_id"),
        pl.lit("Zora").alias("first_name"),
        pl.lit("Neu").alias("last_name"),
        pl.lit("zora.neu@example.com").alias("email"),
    )
    pl.concat([source, newcomer]).write_csv(night3)
    code, err = crmclean("run", night3, "-r", rules, "--out", out, "--previous", first, "-q")
    assert code == 0, err
    kept = pl.read_parquet(first / "crosswalk.parquet").select("record_id", "golden_id")
    now = pl.read_parquet(out / "crosswalk.parquet").select("record_id", "golden_id")
    assert (
        kept.join(now, on="record_id")
        .filter(pl.col("golden_id") != pl.col("golden_id_right"))
        .is_empty()
    )  # stable against --previous
    new_id = now.filter(pl.col("record_id") == "C99999")["golden_id"].item()
    assert int(new_id[1:]) == max(taken) + 1


@pytest.mark.parametrize("command", ["validate", "clean", "dedupe"])
def test_other_commands_never_replace_a_run_folder(
    night1: tuple[Path, Path, Path], tmp_path: Path, command: str
) -> None:
    """`validate --out out/` into a run folder used to replace it, and with it every id."""
    data, rules, first = night1
    out = copy_run(first, tmp_path / "out")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, err = crmclean(command, data, "--rules", rules, "--out", out)
    assert code == 3, err
    assert "holds the outputs of `crmclean run`" in err[-1], err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize("command", ["validate", "clean", "dedupe", "synth"])
def test_every_command_writing_a_folder_takes_the_lock(
    night1: tuple[Path, Path, Path], tmp_path: Path, command: str
) -> None:
    data, rules, _ = night1
    out = tmp_path / "out"
    args = ["--rows", "20"] if command == "synth" else [data, "--rules", rules]
    with output_lock(out):
        code, err = crmclean(command, *args, "--out", out)
    assert code == 3 and "is writing to" in err[-1], err
    assert not out.exists()
    assert crmclean(command, *args, "--out", out)[0] == 0
    assert not (tmp_path / "out.lock").exists()


def test_report_takes_the_lock_of_the_folder_it_rebuilds(
    night1: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    out = copy_run(night1[2], tmp_path / "out")
    with output_lock(out):
        code, err = crmclean("report", out)
    assert code == 3 and "is writing to" in err[-1], err
    assert crmclean("report", out, "-q")[0] == 0
    assert not (tmp_path / "out.lock").exists()


def _lose_id_files(out: Path) -> None:
    """What the review found: only the marker, review, report and model are left."""
    for name in (
        "manifest.json", "crosswalk.parquet", "golden.parquet", "golden.csv",
        "lineage.parquet", "changes-since-previous.parquet",
    ):  # fmt: skip
        (out / name).unlink()


def _empty_consistently(out: Path) -> None:
    """crosswalk, golden and counts emptied to agree with a mark of 0; lineage and review
    still name the ids handed out."""
    for name in ("crosswalk", "golden"):
        path = out / f"{name}.parquet"
        pl.read_parquet(path).head(0).write_parquet(path)
    doc = json.loads((out / "manifest.json").read_text())
    doc["rows"].update(input=0, matched=0, quarantined=0, golden=0)
    doc["golden_ids"]["high_water_mark"] = 0
    (out / "manifest.json").write_text(json.dumps(doc))


@pytest.mark.parametrize(
    ("spoil", "words"),
    [(_lose_id_files, "manifest.json, crosswalk.parquet, golden.parquet missing"),
     (_empty_consistently, "above the high-water mark 0")],
    ids=["id_files_lost", "emptied_with_mark_0"],
)  # fmt: skip
def test_a_run_folder_that_lost_its_id_files_still_stops_the_run(
    night1: tuple[Path, Path, Path],
    tmp_path: Path,
    spoil: Callable[[Path], None],
    words: str,
) -> None:
    """The marker, review.parquet and lineage still say a run wrote the folder: exit 3, no id
    restarts at G0000000001 (review finding 4)."""
    data, rules, first = night1
    out = copy_run(first, tmp_path / "out")
    spoil(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, err = crmclean("run", data, "--rules", rules, "--out", out, "--previous", out, "-q")
    assert code == 3, err
    assert len(err) == 1 and words in err[0], err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    code, err = crmclean("validate", data, "--rules", rules, "--out", out, "-q")
    assert code == 3 and "holds the outputs of `crmclean run`" in err[0], err


def test_high_water_marks_above_32_bits_mint_ids_and_the_last_id_is_a_clear_stop(
    night1: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """A mark of 4,294,967,290 gives new ids above it (no UInt32 row index); a mark at the end
    of the 10-digit range is exit 3 saying ids are exhausted, not a crash (review finding 10)."""
    _, rules, first = night1
    night2 = tmp_path / "night2.csv"
    customers(40, seed=5).write_csv(night2)
    out = copy_run(first, tmp_path / "out")
    manifest_edit(set_mark(4_294_967_290))(out)
    code, err = crmclean("run", night2, "--rules", rules, "--out", out, "--previous", out, "-q")
    assert code == 0, err
    fresh = sorted(s for s in serials(out) if s > 4_294_967_290)
    assert fresh and fresh == list(range(4_294_967_291, 4_294_967_291 + len(fresh)))
    mark = json.loads((out / "manifest.json").read_text())["golden_ids"]["high_water_mark"]
    assert mark == fresh[-1]

    full = copy_run(first, tmp_path / "full")
    manifest_edit(set_mark(9_999_999_999))(full)
    before = {p.name: p.read_bytes() for p in full.iterdir()}
    code, err = crmclean("run", night2, "--rules", rules, "--out", full, "--previous", full, "-q")
    assert code == 3, err
    assert len(err) == 1 and "golden ids exhausted" in err[0] and "bug" not in err[0], err
    assert {p.name: p.read_bytes() for p in full.iterdir()} == before
