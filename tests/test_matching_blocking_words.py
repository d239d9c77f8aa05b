"""Token blocking (`any_word:`): a record joins one block per word of a word column, so sparse
records meet their twins through any one shared word: a newsletter sign-up with only a first
name and an e-mail address, a point-of-sale record with swapped names."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.core.matching.blocking import block
from crmclean.core.matching.spec import BlockingRule

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "rules" / "company.yaml"
runner = CliRunner()


def _pairs(frame: pl.DataFrame, rule: BlockingRule, max_block_size: int = 100) -> set[tuple]:
    result = block(frame, [rule], max_pairs_per_rule=1000, max_block_size=max_block_size)
    rows = result.pairs
    return set(zip(rows["row_l"].to_list(), rows["row_r"].to_list(), strict=True))


def test_records_sharing_any_word_are_paired_once() -> None:
    frame = pl.DataFrame({"w": ["anna meier", "meier anna", "anna", "otto", None, "Meier"]})
    found = _pairs(frame, BlockingRule(columns=["w"], any_word=["w"]))
    # 0-1 share two words and are one pair; "otto" and the missing value meet nobody
    assert found == {(0, 1), (0, 2), (1, 2), (0, 5), (1, 5)}


def test_a_record_first_in_two_blocks_keeps_them_apart() -> None:
    # record 0 is the first of the block "a" and of the block "b": the two blocks must not merge
    frame = pl.DataFrame({"w": ["a b", "a", "b"]})
    assert _pairs(frame, BlockingRule(columns=["w"], any_word=["w"])) == {(0, 1), (0, 2)}


def test_word_blocks_combine_with_other_columns_and_respect_the_size_cap() -> None:
    frame = pl.DataFrame(
        {"w": ["anna meier", "anna", "anna", "anna", "meier"], "dob": ["1", "1", "2", "1", "1"]}
    )
    rule = BlockingRule(columns=["w", "dob"], any_word=["w"], max_block_size=2)
    # block anna|1 holds three records (skipped); meier|1 holds 0 and 4
    assert _pairs(frame, rule) == {(0, 4)}


def _run(*args: object) -> tuple[int, str, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


HEADER = (
    "customer_id,source_system,salutation,first_name,last_name,company,email,phone,street,"
    "postcode,city,country,date_of_birth,created_at,updated_at\n"
)
CUSTOMERS = HEADER + (
    "C1,crm,,Jessica,Smith,,,+44 7911 123456,,,,GB,,2024-01-01,2024-01-01\n"
    "C2,newsletter,,Jessica,,,jsmith@sky.com,,,,,GB,,2024-01-02,2024-01-02\n"
    "C3,pos,,Smith,Jessica,,,+44 7911 123456,,,,GB,,2024-01-03,2024-01-03\n"
    "C4,crm,,Otto,Brandt,,otto.brandt@web.de,,,,,DE,,2024-01-04,2024-01-04\n"
)


def test_dedupe_pairs_a_newsletter_record_through_the_surname_its_address_spells(
    tmp_path: Path,
) -> None:
    data = tmp_path / "customers.csv"
    data.write_text(CUSTOMERS, encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"extends: {RULES}\nvars: {{min_customers: 1}}\nmatching:\n"
        "  blocking:\n"
        "    - {columns: [name_pairs], any_word: [name_pairs], name: two name words}\n"
        "  thresholds: {auto_merge: 0.999, review: 0}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    code, _, err = _run("dedupe", data, "--rules", rules, "--out", out, "--quiet")
    assert code == 0, err
    pairs = pl.read_parquet(out / "pairs.parquet")
    found = set(zip(pairs["record_id_l"].to_list(), pairs["record_id_r"].to_list(), strict=True))
    # the swapped POS record and the newsletter record without a surname both meet C1
    assert found == {("C1", "C2"), ("C1", "C3"), ("C2", "C3")}
    summary = json.loads((out / "dedupe.json").read_text())
    assert [r["rule"] for r in summary["blocking"]] == ["two name words"]
    code, stdout, err = _run("explain", out, "C2", "C3", "--format", "json")
    assert code == 0, err
    assert json.loads(stdout)["blocking_rules"] == ["two name words"]


def test_any_word_outside_the_rule_columns_is_a_located_rule_error(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"extends: {RULES}\nmatching:\n  blocking:\n"
        "    - {columns: [email_key], any_word: [name_words]}\n",
        encoding="utf-8",
    )
    code, _, err = _run("dedupe", ROOT / "sample_data" / "customers.csv", "--rules", rules,
                        "--out", tmp_path / "o")  # fmt: skip
    assert code == 2
    assert f"{rules}:" in err and "matching.blocking[0]" in err and "any_word" in err


def test_the_recall_estimate_does_not_pair_on_a_word_column_as_a_whole() -> None:
    import numpy as np

    from crmclean.core.matching.recall import loose_pairs
    from crmclean.core.matching.spec import MatchingSpec

    spec = MatchingSpec.model_validate(
        {
            "blocking": [{"columns": ["w"], "any_word": ["w"]}, ["k"]],
            "comparisons": [{"name": "k", "column": "k", "levels": ["exact", "else"]}],
        }
    )
    # records 0 and 1 hold the same words (namesakes): no key of the blocking pairs them as a
    # whole value; 0 and 2 share the key k
    frame = pl.DataFrame({"w": ["anna meier", "anna meier", "otto"], "k": ["a", "b", "a"]})
    pairs = loose_pairs(frame, spec, np.array([0, 1, 2]))
    assert set(zip(pairs["row_l"].to_list(), pairs["row_r"].to_list(), strict=True)) == {(0, 2)}
