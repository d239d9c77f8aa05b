"""`crmclean match`: the duplicate check at entry against a finished run (core.matching.lookup,
core.entry_check, cli/match_cmd.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from crmclean.cli.entry_setup import load_entry_check
from crmclean.cli.main import app
from crmclean.core.matching.lookup import (
    MatchIndex,
    Thresholds,
    _scored_one,
    lookup,
    lookup_frames,
    score_candidates,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "customers.csv"
RULES = ROOT / "rules" / "company.yaml"
runner = CliRunner()


def _run(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("entry")
    rules = folder / "rules.yaml"
    rules.write_text(RULES.read_text())  # company.yaml names no other file: a copy runs as is
    out = folder / "out"
    code, _, err = _run("run", SAMPLE, "--rules", rules, "--out", out, "--quiet", "--no-report")
    assert code in (0, 1), err
    return out


def test_a_lookup_scores_pairs_exactly_as_the_run_did(run_dir: Path) -> None:
    """Leave one record out of the index and look it up: its pairs are the run's pairs, found
    by the same blocking, with the same probabilities (term frequencies and skipped blocks
    counted as if it were in the run, which it was)."""
    loaded = load_entry_check(run_dir)
    run = loaded.run
    pairs = pl.read_parquet(run_dir / "pairs.parquet")
    cleaned = pl.read_parquet(run_dir / "clean.parquet")
    review = run.spec.thresholds.review
    some = pairs.get_column("record_id_l").unique().sort().head(12).to_list()
    assert len(some) == 12
    for record_id in some:
        index = MatchIndex.build(
            run.records.filter(pl.col("record_id") != record_id), run.spec, run.model
        )
        query = cleaned.filter(pl.col("record_id") == record_id)
        scored, _ = score_candidates(index, query)
        found = dict(scored.select("record_id", "match_probability").iter_rows())
        one = _scored_one(index, query)  # the entry form's path, pair by pair
        assert one is not None
        assert {pair["record_id"]: pair["match_probability"] for pair in one} == found
        expected = pairs.filter(
            (pl.col("record_id_l") == record_id) | (pl.col("record_id_r") == record_id)
        )
        assert expected.height
        for left, right, probability in expected.select(
            "record_id_l", "record_id_r", "match_probability"
        ).iter_rows():
            other = right if left == record_id else left
            assert found[other] == pytest.approx(probability, rel=1e-9, abs=1e-12)
        run_pairs = set(expected.get_column("record_id_l")) | set(
            expected.get_column("record_id_r")
        )
        above = {r for r, p in found.items() if p >= review}
        assert above <= run_pairs - {record_id}


def _edited(cleaned: pl.DataFrame) -> pl.DataFrame:
    """Records as typed again: names swapped, lower-cased, an e-mail or phone left out, a
    letter dropped from the surname."""
    edits = [
        {"first_name_key": pl.col("last_name_key"), "last_name_key": pl.col("first_name_key")},
        {"last_name_key": pl.col("last_name_key").str.to_uppercase(), "email_key": pl.lit(" ")},
        {"phone_key": pl.lit(None, pl.String), "street": pl.col("street").str.slice(1)},
        {"last_name_key": pl.col("last_name_key").str.slice(0, 5), "dob_iso": pl.lit("")},
    ]
    parts = [cleaned.with_columns(**edit) for edit in edits]
    return pl.concat([cleaned, *parts], how="vertical")


def test_one_record_is_answered_as_a_batch_of_frames_answers_it(run_dir: Path) -> None:
    """The entry form's one record is compared pair by pair (level_scalar); the answer is the
    one the frames give, candidates, probabilities and explanations alike."""
    loaded = load_entry_check(run_dir)
    index = loaded.check.index
    spec = index.spec
    cleaned = pl.read_parquet(run_dir / "clean.parquet").sample(40, seed=3)
    thresholds = Thresholds(spec.thresholds.review, spec.thresholds.auto_merge)
    answered = 0
    for row in range(0, 200):
        query = _edited(cleaned).slice(row, 1)
        one = lookup(index, query, limit=50, min_probability=0.0)
        frames = lookup_frames(index, query, thresholds, 0.0, 50)
        assert one == frames
        assert _scored_one(index, query) is not None  # not the frames again
        answered += bool(one[0]["candidates"])
    assert answered > 150


def test_an_existing_customer_is_found_in_its_golden_record(run_dir: Path) -> None:
    loaded = load_entry_check(run_dir)
    check = loaded.check
    raw = pl.read_csv(SAMPLE, infer_schema=False).head(20)
    crosswalk = pl.read_parquet(run_dir / "crosswalk.parquet")
    golden_of = dict(crosswalk.select("record_id", "golden_id").iter_rows())
    frame = check.records(raw.drop("customer_id").to_dicts())
    answers = check.check(frame)
    assert [a["record"] for a in answers] == [str(i) for i in range(1, 21)]
    for answer, record_id in zip(answers, raw.get_column("customer_id"), strict=True):
        assert answer["decision"] == "same_customer"
        best = answer["candidates"][0]
        assert best["golden_id"] == golden_of[record_id]
        assert best["golden"]["golden_id"] == best["golden_id"]
        assert best["match_probability"] == answer["best_probability"]
        probabilities = [c["match_probability"] for c in answer["candidates"]]
        assert probabilities == sorted(probabilities, reverse=True)
        assert len({c["golden_id"] for c in answer["candidates"]}) == len(probabilities)


def test_a_stranger_is_new_with_no_candidates(run_dir: Path) -> None:
    record = {"first_name": "Quirinus", "last_name": "Zzyzx", "email": "qz@nowhere.invalid"}
    code, out, err = _run("match", run_dir, "--record", json.dumps(record), "-f", "json")
    assert code == 0, err
    (answer,) = json.loads(out)
    assert answer["decision"] == "new"
    assert answer["candidates"] == []


def test_values_are_masked_unless_shown(run_dir: Path) -> None:
    raw = pl.read_csv(SAMPLE, infer_schema=False).row(0, named=True)
    record = json.dumps({k: raw[k] for k in ("first_name", "last_name", "email", "phone")})
    for fmt in ("json", "table", "ndjson"):
        code, out, err = _run("match", run_dir, "--record", record, "-f", fmt)
        assert code == 0, err
        assert raw["email"].lower() not in out.lower()
        assert raw["last_name"].lower() not in out.lower()
    code, out, _ = _run("match", run_dir, "--record", record, "-f", "json", "--show-values")
    assert code == 0
    assert raw["email"].lower() in out.lower()


def test_a_file_of_records_gives_one_answer_line_each(run_dir: Path, tmp_path: Path) -> None:
    leads = tmp_path / "leads.csv"
    pl.read_csv(SAMPLE, infer_schema=False).slice(100, 7).write_csv(leads)
    code, out, err = _run("match", run_dir, leads, "-f", "ndjson", "--limit", "2")
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    ids = pl.read_csv(leads, infer_schema=False).get_column("customer_id").to_list()
    assert [a["record"] for a in lines] == ids  # the id column names each answer
    assert all(len(a["candidates"]) <= 2 for a in lines)
    assert all(a["decision"] in {"same_customer", "review", "new"} for a in lines)


def test_records_from_a_database_table_answer_as_from_a_file(run_dir: Path, tmp_path: Path) -> None:
    from adbc_driver_sqlite import dbapi

    leads = pl.read_csv(SAMPLE, infer_schema=False).slice(200, 5)
    leads.write_csv(tmp_path / "leads.csv")
    with dbapi.connect(str(tmp_path / "leads.db")) as connection, connection.cursor() as cursor:
        cursor.adbc_ingest("leads", leads, mode="create")
        connection.commit()
    url = f"sqlite:///{tmp_path / 'leads.db'}?table=leads"
    code, from_db, err = _run("match", run_dir, url, "-f", "json", "--limit", "2")
    assert code == 0, err
    code, from_file, err = _run(
        "match", run_dir, tmp_path / "leads.csv", "-f", "json", "--limit", "2"
    )
    assert code == 0, err
    answers = json.loads(from_db)
    assert [a["record"] for a in answers] == leads.get_column("customer_id").to_list()
    assert answers == json.loads(from_file)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--record", "{not json"], "--record: not valid JSON"),
        (["--record", '{"shoe_size": 44}'], "unknown column(s) shoe_size"),
        (["--record", '{"first_name": ["a"]}'], "is not a text, number or null"),
        (["--record", "[1]"], "record 1: is not a JSON object"),
        (["--record", '{"first_name": "\\ud800", "last_name": "Koch"}'], "lone surrogate"),
        ([], "give either --record JSON or a file of records"),
    ],
)
def test_bad_records_are_usage_errors(run_dir: Path, args: list[str], message: str) -> None:
    code, _, err = _run("match", run_dir, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def _copy(run_dir: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    return copy


def _unlist(folder: Path, *names: str) -> None:
    """Remove files and their names from the manifest's outputs (a folder whose manifest lists
    a missing output is refused whole: tests/test_trust_manifest.py)."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["outputs"] = [n for n in manifest["outputs"] if n not in names]
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for name in names:
        (folder / name).unlink()


def test_folders_crmclean_did_not_write_or_incomplete_runs_are_refused(
    run_dir: Path, tmp_path: Path
) -> None:
    record = '{"first_name": "Anna"}'
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "golden.parquet").write_text("x")
    code, _, err = _run("match", foreign, "--record", record)
    assert code == 3 and "is not a folder crmclean wrote" in err

    broken = _copy(run_dir, tmp_path)
    (broken / "crosswalk.parquet").unlink()
    code, _, err = _run("match", broken, "--record", record)
    assert code == 3 and "crosswalk.parquet" in err and "missing" in err

    no_model = _copy(run_dir, tmp_path / "m")
    (no_model / "model.json").unlink()
    code, _, err = _run("match", no_model, "--record", record)
    # the manifest lists model.json: the folder is refused as an incomplete run
    assert code == 3 and "model.json" in err and "missing" in err
    assert len(err.strip().splitlines()) <= 2  # one line and its hint, no traceback


def test_a_rule_file_changed_since_the_run_is_refused(run_dir: Path, tmp_path: Path) -> None:
    manifest = json.loads((run_dir / "manifest.json").read_text())
    rules = Path(manifest["rule_file"])
    copy = _copy(run_dir, tmp_path)
    changed = tmp_path / "changed.yaml"
    changed.write_text(rules.read_text().replace("auto_merge: 0.997", "auto_merge: 0.998"), "utf-8")
    text = (copy / "manifest.json").read_text().replace(str(rules), str(changed))
    (copy / "manifest.json").write_text(text)
    code, _, err = _run("match", copy, "--record", '{"first_name": "Anna"}')
    assert code == 3 and "changed since the run" in err


def test_the_cut_rule_file_cleans_what_matching_reads_as_the_whole_one_does() -> None:
    from crmclean.config import load_rules
    from crmclean.core.cleaning import clean
    from crmclean.core.entry_check import matching_rules
    from crmclean.core.matching.lookup import needed_columns

    rules = load_rules(RULES).rules
    assert rules.matching is not None
    cut = matching_rules(rules, rules.matching)
    assert sum(len(c.standardise) for c in cut.columns.values()) < sum(
        len(c.standardise) for c in rules.columns.values()
    )
    raw = pl.read_csv(SAMPLE, infer_schema=False).head(500)
    needed = ["record_id", *needed_columns(rules.matching)]
    whole = clean(raw, rules, changes=False).frame.select(needed)
    assert_frame_equal(clean(raw, cut, changes=False).frame.select(needed), whole)


def test_the_run_writes_the_index_a_lookup_loads_and_it_is_the_one_built_on_load(
    run_dir: Path,
) -> None:
    """match_index.parquet and term_counts.parquet are in the manifest, and the index read
    from them holds the same block keys, rows and term counts as one hashed and counted from
    the records (as a folder without them is loaded)."""
    from crmclean.io.match_tables import FILES

    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert set(FILES) <= set(manifest["outputs"])
    loaded = load_entry_check(run_dir)
    assert loaded.note is None and loaded.run.tables is not None
    read = loaded.check.index
    built = MatchIndex.build(loaded.run.records, loaded.run.spec, loaded.run.model)
    assert len(read.rules) == len(built.rules) == len(loaded.run.spec.blocking)
    for mine, theirs in zip(read.rules, built.rules, strict=True):
        assert (mine.keys[1:] >= mine.keys[:-1]).all()  # sorted: binary search works
        ours = sorted(zip(mine.keys.tolist(), mine.rows.tolist(), strict=True))
        assert ours == sorted(zip(theirs.keys.tolist(), theirs.rows.tolist(), strict=True))
        assert mine.largest == theirs.largest
    assert read.term_counts.keys() == built.term_counts.keys() and read.term_counts
    for column, counts in read.term_counts.items():
        assert counts.values.to_list() == built.term_counts[column].values.to_list()
        assert counts.counts.tolist() == built.term_counts[column].counts.tolist()
        assert counts.total == built.term_counts[column].total > 0


def test_an_older_run_folder_without_the_index_is_built_on_load_and_said(
    run_dir: Path, tmp_path: Path
) -> None:
    record = json.dumps({"first_name": "Anna", "last_name": "Schmidt"})
    code, out, err = _run("match", run_dir, "--record", record, "-f", "json")
    assert code == 0 and "note" not in err
    older = _copy(run_dir, tmp_path)
    _unlist(older, "match_index.parquet", "term_counts.parquet")  # as an older run wrote it
    code, older_out, err = _run("match", older, "--record", record, "-f", "json")
    assert code == 0, err
    assert "note:" in err and "built while loading" in err
    assert json.loads(older_out) == json.loads(out)
    code, quiet_out, err = _run("match", older, "--record", record, "-f", "json", "-q")
    assert code == 0 and err == "" and json.loads(quiet_out) == json.loads(out)  # -q: no note

    half = _copy(run_dir, tmp_path / "half")
    _unlist(half, "term_counts.parquet")
    code, _, err = _run("match", half, "--record", record)
    assert code == 3 and "term_counts.parquet missing" in err

    foreign = _copy(run_dir, tmp_path / "foreign")
    pl.DataFrame({"_rule": [99], "_key": [1], "_row": [0]}).write_parquet(
        foreign / "match_index.parquet"
    )
    code, _, err = _run("match", foreign, "--record", record)
    assert code == 3 and "does not fit the run" in err and "Traceback" not in err


def _tampered(frame: pl.DataFrame, how: str) -> pl.DataFrame:
    n = pl.col("n") if "n" in frame.columns else None
    return {
        "reversed": frame.reverse,
        "shuffled": lambda: frame.sample(fraction=1.0, shuffle=True, seed=3),
        "empty": lambda: frame.head(0),
        "huge": lambda: frame.with_columns(pl.lit(2**62).alias("n")),
        "zero": lambda: frame.with_columns(pl.lit(0).alias("n")),
        "doubled": lambda: frame.with_columns(n * 2) if n is not None else frame,
        "null": lambda: frame.with_columns(pl.lit(None, pl.Int64).alias("n")),
        "values as counts": lambda: frame.with_columns(pl.col("value").alias("n")),
    }[how]()


@pytest.mark.parametrize(
    ("table", "how"),
    [
        ("match_index.parquet", "reversed"),
        ("match_index.parquet", "shuffled"),
        ("match_index.parquet", "empty"),
        ("term_counts.parquet", "reversed"),
        ("term_counts.parquet", "empty"),
        ("term_counts.parquet", "huge"),
        ("term_counts.parquet", "zero"),
        ("term_counts.parquet", "doubled"),
        ("term_counts.parquet", "null"),
        ("term_counts.parquet", "values as counts"),
    ],
)
def test_lookup_tables_not_as_the_run_wrote_them_are_refused(
    run_dir: Path, tmp_path: Path, table: str, how: str
) -> None:
    """A lookup table is searched by bisection and weighs every exact agreement: unsorted,
    emptied or recounted, it would answer wrongly with exit 0; it is refused, naming the file,
    and never quoting the values it holds."""
    folder = _copy(run_dir, tmp_path)
    path = folder / table
    frame = pl.read_parquet(path)
    _tampered(frame, how).write_parquet(path)
    code, out, err = _run("match", folder, "--record", json.dumps({"last_name": "Schmidt"}))
    assert code == 3, (out, err)
    assert f"{table}:" in err and "Traceback" not in err
    if table == "term_counts.parquet":
        values = frame.get_column("value").to_list()
        assert not [v for v in values if len(v) > 4 and v in err]  # no value quoted


def test_answers_are_masked_value_by_value_as_mask_value_masks() -> None:
    """`masked` masks the values of a kind in one call: each as mask_value masks it alone."""
    from crmclean.core.masking import mask_value
    from crmclean.report.match_answers import masked

    field = {"column": "email", "value": "a.b@x.de", "candidate_value": " ", "name": "email"}
    phone = {"column": "phone", "value": "+49 151 2345", "candidate_value": None, "name": "p"}
    city = {"column": "city", "value": "x" * 300, "candidate_value": "Köln", "name": "c"}
    golden = {"golden_id": "G1", "email": "q@y.org", "first_name": "Özlem", "date_of_birth": 1}
    answers = [
        {
            "record": "C1",
            "candidates": [{"record_id": "C7", "fields": [field, phone, city], "golden": golden}],
        }
    ]
    pii = {"email": "email", "phone": "phone", "first_name": "text", "date_of_birth": "date",
           "customer_id": "text"}  # fmt: skip
    shown = masked(answers, pii, "customer_id")  # type: ignore[arg-type]
    candidate = shown[0]["candidates"][0]
    assert shown[0]["record"] == mask_value("C1", "text")
    assert candidate["record_id"] == mask_value("C7", "text")
    assert candidate["fields"][0]["value"] == mask_value("a.b@x.de", "email")
    assert candidate["fields"][0]["candidate_value"] == mask_value(" ", "email")
    assert candidate["fields"][1]["value"] == mask_value("+49 151 2345", "phone")
    assert candidate["fields"][1]["candidate_value"] is None
    assert candidate["fields"][2]["value"] != "x" * 300  # capped, not masked
    assert candidate["fields"][2]["candidate_value"] == "Köln"
    assert candidate["golden"] == {
        "golden_id": "G1",
        "email": mask_value("q@y.org", "email"),
        "first_name": mask_value("Özlem", "text"),
        "date_of_birth": mask_value("1", "date"),
    }
    assert golden["email"] == "q@y.org"  # the run's golden record is not changed


def test_a_dedupe_folder_is_named_as_no_run_not_as_a_broken_one(
    run_dir: Path, tmp_path: Path
) -> None:
    """`dedupe` writes no golden ids: `match` says the folder holds no run and what to pass,
    not "incomplete ... restore from a backup" (a newcomer's finding)."""
    folder = tmp_path / "dedupe-out"
    folder.mkdir()
    for name in ("pairs.parquet", "clusters.parquet", "model.json", "dedupe.json"):
        shutil.copy(run_dir / name, folder / name)
    (folder / ".crmclean-output").write_text("written by crmclean dedupe\n")
    record = json.dumps({"first_name": "Jon", "last_name": "Smith"})
    code, _, err = _run("match", folder, "--record", record)
    assert code == 3, err
    assert "holds no `crmclean run`" in err and "backup" not in err, err
