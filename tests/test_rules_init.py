"""`crmclean rules init DATA`: a complete starting rule file that loads, runs end to end and
matches about as well as rules/company.yaml, whatever the columns are called."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.config import load_rules

runner = CliRunner()
ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "customers.csv"
TRUTH = ROOT / "sample_data" / "truth.csv"
GERMAN = {
    "first_name": "vorname",
    "last_name": "nachname",
    "email": "mail",
    "phone": "telefon",
    "date_of_birth": "geburtsdatum",
    "street": "strasse",
    "postcode": "plz",
    "city": "ort",
    "country": "land",
}


def init(data: Path, out: Path, *extra: str) -> None:
    result = runner.invoke(app, ["rules", "init", str(data), "--out", str(out), *extra])
    assert result.exit_code == 0, result.output
    assert f"{out}: rule file for 5,000 rows" in result.stderr


def run_and_score(data: Path, rules: Path, out: Path) -> float:
    checked = runner.invoke(app, ["rules", "check", str(rules)])
    assert checked.exit_code == 0, checked.output
    ran = runner.invoke(app, ["run", str(data), "--rules", str(rules), "--out", str(out)])
    assert ran.exit_code in (0, 1), ran.output
    scored = runner.invoke(
        app,
        ["evaluate", str(out / "clusters.parquet"), "--truth", str(TRUTH), "--format", "json"],
    )
    assert scored.exit_code == 0, scored.output
    f1: float = json.loads(scored.stdout)["pairwise"]["f1"]
    return f1


@pytest.mark.parametrize("renamed", [False, True], ids=["sample", "german-columns"])
def test_generated_rules_run_end_to_end_and_match_well(tmp_path: Path, renamed: bool) -> None:
    data = SAMPLE
    if renamed:
        data = tmp_path / "kunden.csv"
        pl.read_csv(SAMPLE, infer_schema=False).rename(GERMAN).write_csv(data)
    rules = tmp_path / "rules.yaml"
    init(data, rules)
    document = yaml.safe_load(rules.read_text(encoding="utf-8"))
    loaded = load_rules(rules).rules
    assert loaded.matching is not None and loaded.survivorship is not None
    names = GERMAN if renamed else {k: k for k in GERMAN}
    assert loaded.dataset.id_column == "customer_id"
    assert loaded.dataset.country_column == names["country"]
    for placeholder in ["00000", "1900-01-01", "00.00.0000"]:
        assert placeholder in loaded.dataset.null_tokens
    assert document["derive"]["email_key"] == {"from": names["email"], "steps": ["email_key"]}
    assert document["derive"]["dob_iso"] == {"from": names["date_of_birth"]}
    blocking = [rule.columns for rule in loaded.matching.blocking]
    assert ["email_key"] in blocking and [names["phone"]] in blocking
    # beside a first name, the last name alone only adds pairs other rules find
    assert not any(rule[0] == "last_name_key" for rule in blocking)
    # token blocking on the name's words, as company.yaml: from both names and the e-mail
    assert document["derive"]["name_words"] == {
        "from": ["first_name_key", "last_name_key", names["email"]],
        "steps": ["name_words"],
    }
    words = {r.label: r.any_word for r in loaded.matching.blocking if r.any_word}
    assert words == {
        "two name words": ["name_pairs"],
        "name word + birth date": ["name_words"],
        "name word + postcode": ["name_words"],
    }
    assert [c.name for c in loaded.matching.comparisons] == [
        "first_name",
        "last_name",
        "date_of_birth",
        "email",
        "contact",
    ]
    contact = {c.name: c for c in loaded.matching.comparisons}["contact"]
    labels = [lv.label for lv in contact.levels if not isinstance(lv, str)]
    # as in company.yaml: a household's other phone at the same address is its own level
    assert labels.index("same address and other phone") < labels.index("same address")
    assert "pairs per record" in rules.read_text(encoding="utf-8")
    # rules/company.yaml scores 0.9707 on the sample; the generated file must be as good
    assert run_and_score(data, rules, tmp_path / "out") >= 0.96


def test_an_existing_out_file_is_kept_without_force(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text("# mine\n", encoding="utf-8")
    result = runner.invoke(app, ["rules", "init", str(SAMPLE), "--out", str(rules)])
    assert result.exit_code == 2
    assert "already exists" in result.stderr and "--force" in result.stderr
    assert rules.read_text(encoding="utf-8") == "# mine\n"
    init(SAMPLE, rules, "--force")
    assert load_rules(rules).rules.matching is not None


def test_without_out_the_rule_file_goes_to_stdout(tmp_path: Path) -> None:
    result = runner.invoke(app, ["rules", "init", str(SAMPLE)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "printed.yaml"
    path.write_text(result.stdout, encoding="utf-8")
    assert load_rules(path).rules.matching is not None
    assert "stdout: rule file" in result.stderr


def crowded(tmp_path: Path, rows: int = 2000) -> Path:
    """Few names in one city: name + city blocks are huge, postcodes tell people apart."""
    rng = random.Random(3)
    frame = pl.DataFrame(
        {
            "id": [f"K{i:05d}" for i in range(rows)],
            "vorname": [rng.choice(["Anna", "Uwe", "Jan", "Lea", "Max"]) for _ in range(rows)],
            "nachname": [rng.choice(["Maier", "Huber", "Gruber", "Wolf"]) for _ in range(rows)],
            "plz": [f"{10000 + rng.randrange(60000):05d}" for _ in range(rows)],
            "ort": ["Berlin"] * rows,
            "geburtsdatum": [f"19{70 + i % 3}-02-03" for i in range(rows)],  # three birthdays
            # 98% missing: identifies nobody, so neither a key nor a comparison
            "telefon": [None if i % 50 else f"+49 30 {1000 + i}" for i in range(rows)],
        }
    )
    path = tmp_path / "crowded.csv"
    frame.write_csv(path)
    return path


def test_blocking_rules_over_the_budget_are_tightened_or_dropped(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    result = runner.invoke(app, ["rules", "init", str(crowded(tmp_path)), "--out", str(rules)])
    assert result.exit_code == 0, result.output
    blocking = [r.columns for r in load_rules(rules).rules.matching.blocking]  # type: ignore[union-attr]
    # alone, [first, last, city] pairs ~100 records per block (~50 pairs per record); with the
    # postcode it would fit, but then its pairs are all in [first, last, postcode]
    assert ["first_name_key", "last_name_key", "ort"] not in blocking
    assert ["first_name_key", "last_name_key", "postcode_key"] in blocking
    assert not any(rule[:3] == ["first_name_key", "last_name_key", "ort"] for rule in blocking)
    lines = {line.split(":")[0].strip(): line for line in result.stderr.splitlines()}
    assert (
        "dropped (its pairs are all in ["
        in lines["blocking [first_name_key, last_name_key, ort, postcode_key]"]
    )
    # first name + last-name metaphone + postcode: the same first name has the same initial
    assert (
        "dropped (its pairs are all in [last_name_metaphone, postcode_key, first_name_initial])"
        in (lines["blocking [first_name_key, last_name_metaphone, postcode_key]"])
    )
    assert ["first_name_key", "last_name_metaphone", "postcode_key"] not in blocking
    # birthday + last name: three birthdays and four names, tightened by the postcode and kept
    assert ["dob_iso", "last_name_cologne", "postcode_key"] in blocking
    text = rules.read_text(encoding="utf-8")
    assert "- [dob_iso, last_name_cologne, postcode_key]  # " in text
    assert "tightened (alone" in text and "tightened (alone" in result.stderr
    assert "all blocking rules: at most" in result.stderr
    total = float(result.stderr.split("at most ")[1].split(" pairs")[0])
    assert total <= 30
    assert "not matched on phone: 98% missing" in result.stderr
    assert "phone (98% missing)" in text and "phone_key" not in text


def test_a_file_without_identifying_columns_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "codes.csv"
    path.write_text("code,amount\nA,1\nB,2\nC,3\n", encoding="utf-8")
    result = runner.invoke(app, ["rules", "init", str(path)])
    assert result.exit_code == 3
    assert "no identifying columns to match on" in result.stderr
    assert "Traceback" not in result.output


def test_month_first_dates_set_the_date_order(tmp_path: Path) -> None:
    """12/25/1980 can only be month-first: the file says mdy, and 03/04/1980 is read so."""
    rng = random.Random(5)
    lines = ["kunden_nr,vorname,nachname,email,birthday"]
    iso = {}
    for i in range(120):
        month, day, year = 1 + i % 12, 1 + rng.randrange(28), 1950 + i % 40
        lines.append(f"K{i},Anna{i},Wolf{i},a{i}@web.de,{month:02d}/{day:02d}/{year}")
        iso[f"K{i}"] = f"{year}-{month:02d}-{day:02d}"
    path = tmp_path / "us.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    result = runner.invoke(app, ["rules", "init", str(path), "--out", str(rules)])
    assert result.exit_code == 0, result.output
    loaded = load_rules(rules).rules
    assert loaded.dataset.date_order == "mdy"
    out = tmp_path / "out"
    ran = runner.invoke(app, ["clean", str(path), "--rules", str(rules), "--out", str(out)])
    assert ran.exit_code in (0, 1), ran.output
    cleaned = pl.read_parquet(out / "clean.parquet")
    found = dict(zip(cleaned["record_id"].to_list(), cleaned["birthday"].to_list(), strict=True))
    assert found == iso


def test_a_name_and_email_file_blocks_on_the_name_too(tmp_path: Path) -> None:
    """A newsletter export: one name column and an e-mail; a changed address must still meet."""
    lines = ["name,email"] + [
        f"Anna Wolf{i % 150},{'anna' if i < 150 else 'a.wolf'}{i % 150}@web.de" for i in range(300)
    ]
    path = tmp_path / "newsletter.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    result = runner.invoke(app, ["rules", "init", str(path), "--out", str(rules)])
    assert result.exit_code == 0, result.output
    loaded = load_rules(rules).rules
    assert loaded.matching is not None
    blocking = loaded.matching.blocking
    assert [r.columns for r in blocking] == [["email_key"], ["last_name_key"], ["name_pairs"]]
    # the name's words and those its address spells, any two of them: token blocking
    assert blocking[2].any_word == ["name_pairs"] and blocking[2].max_block_size == 10
    assert [c.name for c in loaded.matching.comparisons] == ["last_name", "email"]
    out = tmp_path / "out"
    ran = runner.invoke(app, ["dedupe", str(path), "--rules", str(rules), "--out", str(out)])
    assert ran.exit_code == 0, ran.output
    clusters = pl.read_parquet(out / "clusters.parquet")
    assert clusters.height == 300


def test_rules_init_never_replaces_its_input_even_with_force(tmp_path: Path) -> None:
    data = tmp_path / "customers.csv"
    shutil.copy(SAMPLE, data)
    before = data.read_bytes()
    for spelling in (data, tmp_path / "x" / ".." / "customers.csv"):
        result = runner.invoke(app, ["rules", "init", str(data), "--out", str(spelling), "--force"])
        assert result.exit_code == 3, result.output
        assert "never replaces an input" in result.stderr
    assert data.read_bytes() == before
