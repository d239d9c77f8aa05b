"""`crmclean run --incremental` on sample_data: what a full run gives, nothing lost, and a full
run instead (said on the console and in the manifest) when building on yesterday is unsafe."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.config import load_rules
from crmclean.io.incremental_state import MATCHING, NEEDED, Asked, digest, why_full
from crmclean.io.run_folder import Previous, read_previous

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules" / "company.yaml"
SAMPLE = ROOT / "sample_data" / "customers.csv"
TABLES = ("golden", "crosswalk", "lineage", "review", "pairs", "clusters", "violations", "clean")
runner = CliRunner()


def run(data: Path, out: Path, *extra: str) -> tuple[int, str]:
    args = ["run", str(data), "-r", str(RULES), "-o", str(out), "--previous", str(out)]
    done = runner.invoke(app, [*args, "--no-report", "-q", *extra])
    return done.exit_code, done.stderr


def manifest(out: Path) -> dict[str, object]:
    data = json.loads((out / "manifest.json").read_text())
    assert isinstance(data, dict)
    return data


def table(out: Path, name: str) -> pl.DataFrame:
    frame = pl.read_parquet(out / f"{name}.parquet")
    if name != "violations":
        return frame
    # "in the future (after <now>)": a full run a minute later says another minute as well
    timed = pl.col("check").is_in(["not_in_future", "freshness"])
    return frame.with_columns(
        pl.when(timed).then(None).otherwise(pl.col("message")).alias("message")
    )


@pytest.fixture(scope="module")
def night1(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full run on sample_data: yesterday's folder (copy it before building on it)."""
    out = tmp_path_factory.mktemp("night1") / "out"
    code, _ = run(SAMPLE, out)
    assert code in (0, 1)
    return out


def copy_of(night: Path, where: Path) -> Path:
    shutil.copytree(night, where)
    return where


def edited(where: Path) -> Path:
    """sample_data with 20 records deleted, 25 edited and 30 added (15 copies of customers)."""
    frame = pl.read_csv(SAMPLE, infer_schema=False)
    frame = frame.filter(~pl.int_range(pl.len()).is_between(100, 119))
    row = pl.int_range(pl.len())
    frame = frame.with_columns(
        pl.when(row.is_between(200, 209))
        .then("x" + pl.col("email").fill_null(""))
        .otherwise(pl.col("email"))
        .alias("email"),
        pl.when(row.is_between(300, 309))
        .then(pl.col("last_name") + "e")
        .otherwise(pl.col("last_name"))
        .alias("last_name"),
        pl.when(row.is_between(400, 404)).then(None).otherwise(pl.col("phone")).alias("phone"),
    )
    copies = frame[1000:1015].with_columns(
        ("N" + pl.col("customer_id")).alias("customer_id"), pl.lit("webshop").alias("source_system")
    )
    others = frame[2000:2015].with_columns(
        ("F" + pl.col("customer_id")).alias("customer_id"), pl.lit(None).alias("email")
    )
    path = where / "customers.csv"
    pl.concat([frame, copies, others]).write_csv(path)
    return path


def test_incremental_gives_the_golden_ids_of_a_full_run(night1: Path, tmp_path: Path) -> None:
    data = edited(tmp_path)
    full = copy_of(night1, tmp_path / "full")
    fast = copy_of(night1, tmp_path / "fast")
    assert run(data, full)[0] == run(data, fast, "--incremental")[0]
    said = manifest(fast)
    assert said["run_mode"] == "incremental" and manifest(full)["run_mode"] == "full"
    counts = said["incremental"]
    assert isinstance(counts, dict)
    assert (counts["new"], counts["deleted"]) == (30, 20)
    assert 0 < counts["changed"] <= 25 and counts["clusters_touched"] > 0
    ids = table(full, "crosswalk").join(table(fast, "crosswalk"), on="record_id", suffix="_i")
    assert ids.height == table(full, "crosswalk").height
    same = (ids["golden_id"] == ids["golden_id_i"]).mean()
    assert same is not None and same >= 0.999
    # clusters and survivorship are exactly a full run's; scores may drift (docs/nightly.md)
    for name in ("golden", "lineage", "clusters", "changes-since-previous", "clean"):
        assert_frame_equal(table(full, name), table(fast, name))
    assert_frame_equal(table(full, "violations"), table(fast, "violations"))
    figures = [json.loads((f / "validate.json").read_text()) for f in (full, fast)]
    assert figures[0]["score"] == figures[1]["score"]
    assert figures[0]["summary"] == figures[1]["summary"]
    # nothing lost: every input row is in the crosswalk once
    given = pl.read_csv(data, infer_schema=False)["customer_id"].sort()
    assert table(fast, "crosswalk")["record_id"].sort().to_list() == given.to_list()
    assert said["rows_add_up"] is True


def test_unchanged_input_gives_identical_outputs(night1: Path, tmp_path: Path) -> None:
    again = copy_of(night1, tmp_path / "again")
    run(SAMPLE, again, "--incremental")
    counts = manifest(again)["incremental"]
    assert counts == {
        "requested": True,
        "fallback_reason": None,
        "new": 0,
        "changed": 0,
        "deleted": 0,
        "unchanged": 5000,
        "clusters_touched": 0,
        "golden_rebuilt": 0,
    }
    for name in TABLES:
        assert_frame_equal(table(night1, name), table(again, name))
    assert table(again, "changes-since-previous").is_empty()


def test_an_unsafe_night_is_a_full_run_that_says_why(night1: Path, tmp_path: Path) -> None:
    out = copy_of(night1, tmp_path / "out")
    code, stderr = run(SAMPLE, out, "--incremental", "--retrain")
    said = manifest(out)
    assert said["run_mode"] == "full"
    assert said["incremental"] == {
        "requested": True,
        "fallback_reason": "--retrain: a new model scores every pair again",
    }
    assert "full run instead of incremental: --retrain" in stderr
    assert code in (0, 1)


def test_the_next_night_builds_on_an_incremental_one(night1: Path, tmp_path: Path) -> None:
    out = copy_of(night1, tmp_path / "out")
    data = edited(tmp_path)
    run(data, out, "--incremental")
    run(SAMPLE, out, "--incremental")  # back to the sample: the edits undone
    assert manifest(out)["run_mode"] == "incremental"
    for name in ("golden", "lineage", "clusters", "clean"):
        left = table(night1, name)
        right = table(out, name)
        if name in ("golden", "lineage"):  # ids handed out on the night between stay used
            assert right.height == left.height
            continue
        assert_frame_equal(left, right)


def asked(**changes: object) -> Asked:
    loaded = load_rules(RULES)
    columns = pl.read_csv(SAMPLE, n_rows=1, infer_schema=False).columns
    facts: dict[str, object] = {
        "rules": loaded.rules,
        "rules_sha256": loaded.digest,
        "columns": columns,
        "show_values": False,
        "quarantine": False,
        "retrain": False,
        "decisions": digest(pl.DataFrame()),
        "reference": digest({}),
    }
    return Asked(**{**facts, **changes})  # type: ignore[arg-type]


def previous_of(folder: Path) -> Previous | None:
    return read_previous(None, folder, load_rules(RULES).rules, retrain=False)


def test_the_night_is_safe_as_it_is(night1: Path) -> None:
    assert why_full(asked(), previous_of(night1)) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"rules_sha256": "0" * 64}, "the rule file changed since the previous run"),
        ({"columns": ["customer_id", "email"]}, "the input's columns changed"),
        ({"retrain": True}, "--retrain"),
        ({"quarantine": True}, "--quarantine"),
        ({"show_values": True}, "--show-values: the previous run wrote its violations masked"),
        ({"decisions": "x"}, "the steward decisions changed"),
        ({"reference": "x"}, "a values_from reference table changed"),
    ],
)
def test_what_this_run_asks_can_make_it_a_full_one(
    night1: Path, change: dict[str, object], reason: str
) -> None:
    said = why_full(asked(**change), previous_of(night1))
    assert said is not None and said.startswith(reason)


def _edit_manifest(folder: Path, **values: object) -> None:
    path = folder / "manifest.json"
    data = json.loads(path.read_text())
    for key, value in values.items():
        if "." in key:
            outer, inner = key.split(".")
            data[outer][inner] = value
        else:
            data[key] = value
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ({"crmclean_version": "0.0.1"}, "the previous run was made by crmclean 0.0.1"),
        ({"incremental_state.polars_version": "0.1"}, "record hashes were made with polars 0.1"),
        ({"incremental_state": {}}, "the previous run in"),
        ({"quarantine_enabled": True}, "the previous run set rows aside"),
        ({"incremental_state.pair_totals": [1]}, "the previous run in"),
    ],
)
def test_what_the_previous_run_was_can_make_it_a_full_one(
    night1: Path, tmp_path: Path, edit: dict[str, object], reason: str
) -> None:
    folder = copy_of(night1, tmp_path / "out")
    _edit_manifest(folder, **edit)
    said = why_full(asked(), previous_of(folder))
    assert said is not None and said.startswith(reason)


@pytest.mark.parametrize("missing", [*NEEDED, *MATCHING])
def test_an_incomplete_previous_run_makes_it_a_full_one(
    night1: Path, tmp_path: Path, missing: str
) -> None:
    folder = copy_of(night1, tmp_path / "out")
    (folder / missing).unlink()
    said = why_full(asked(), previous_of(folder))
    assert said is not None and "is incomplete for an incremental run" in said
    assert missing in said


def test_a_model_of_other_comparisons_makes_it_a_full_one(night1: Path, tmp_path: Path) -> None:
    folder = copy_of(night1, tmp_path / "out")
    model = json.loads((folder / "model.json").read_text())
    model["fingerprint"] = "f" * len(str(model.get("fingerprint", "")))
    (folder / "model.json").write_text(json.dumps(model))
    said = why_full(asked(), previous_of(folder))
    assert said == "the previous run's model has a different fingerprint"


def test_no_previous_run_makes_it_a_full_one() -> None:
    assert why_full(asked(), None) == "there is no previous run to build on"
