"""`crmclean profile` flags placeholder values (far more frequent than chance and filler-shaped),
suggests them as null tokens, and counts neither blanks nor null tokens as values."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.config import load_rules

runner = CliRunner()

FIRST = ["Anna", "Thomas", "Maria", "Peter", "Sabine", "Michael", "Julia", "Jan", "Lea", "Uwe"]
CITIES = ["Berlin", "Hamburg", "München", "Köln", "Essen", "Bonn", "Kiel", "Ulm"]


def messy(tmp_path: Path, rows: int = 800) -> Path:
    """Zipf-like names and cities (legitimately frequent), near-unique contacts with fillers."""
    rng = random.Random(7)
    fillers = {
        "email": ("test@test.com", 14),
        "phone": ("+1 (000) 000-0000", 11),
        "date_of_birth": ("1970-01-01", 9),
        "postcode": ("00000", 8),
    }
    records = []
    for i in range(rows):
        records.append(
            {
                "customer_id": f"C{i:05d}",
                # rank r drawn with weight 1/r: Anna about 35% of rows, a legitimate head
                "first_name": rng.choices(FIRST, weights=[1 / (r + 1) for r in range(10)])[0],
                "city": "Berlin" if i % 2 else rng.choice(CITIES),
                "email": f"person{i}@mail{i % 97}.de",
                "phone": f"+49 30 {1000000 + i * 7919 % 8999999}",
                "date_of_birth": f"19{40 + i % 60:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                "postcode": f"{10000 + (i * 37) % 89999:05d}",
                "company": ["  ", "n/a", "kein", "ACME GmbH", "Beta AG"][i % 5],
                # legitimately frequent: an initial for a first name, no orders yet
                "given": "A" if i % 50 == 0 else f"Name{i}",
                "orders": "0" if i % 8 == 0 else str(i % 300),
            }
        )
    at = 0
    for column, (value, count) in fillers.items():
        for k in range(count):
            records[(at + k * 31) % rows][column] = value
        at += 5
    path = tmp_path / "messy.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    return path


def profile(*args: str) -> dict[str, Any]:
    result = runner.invoke(app, ["profile", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def columns(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in document["columns"]}


def test_placeholders_are_flagged_and_suggested_as_null_tokens(tmp_path: Path) -> None:
    found = columns(profile(str(messy(tmp_path))))
    flagged = {
        name: [(p["value"], p["count"], p["reason"]) for p in column["placeholders"]]
        for name, column in found.items()
    }
    assert flagged["email"] == [("test@test.com", 14, "test e-mail")]
    assert flagged["phone"] == [("+1 (000) 000-0000", 11, "one digit repeated")]
    assert flagged["date_of_birth"] == [("1970-01-01", 9, "filler date")]
    assert flagged["postcode"] == [("00000", 8, "one digit repeated")]
    # frequent by nature: a common first name, a big city
    assert found["first_name"]["top_values"][0]["value"] == "A***"
    assert found["first_name"]["top_values"][0]["count"] > 200
    assert found["city"]["top_values"][0]["value"] == "Berlin"
    assert found["city"]["top_values"][0]["count"] >= 400
    assert flagged["first_name"] == [] and flagged["city"] == []
    assert flagged["customer_id"] == [] and flagged["company"] == []
    assert flagged["given"] == [] and flagged["orders"] == []


def test_suggested_rules_carry_the_placeholders_and_load(tmp_path: Path) -> None:
    document = profile(str(messy(tmp_path)))
    tokens = document["suggested_rules"]["dataset"]["null_tokens"]
    assert tokens[:3] == ["", "n/a", "na"]  # the defaults stay
    for value in ["test@test.com", "+1 (000) 000-0000", "1970-01-01", "00000"]:
        assert value in tokens
    table = runner.invoke(app, ["profile", str(messy(tmp_path))])
    assert table.exit_code == 0, table.output
    assert "Placeholders" in table.stdout and "test@test.com (14 rows" in table.stdout
    yaml_text = table.stdout.split("Suggested rules (review before use):\n", 1)[1]
    rule_file = tmp_path / "suggested.yaml"
    rule_file.write_text(yaml_text, encoding="utf-8")
    assert "1970-01-01" in load_rules(rule_file).rules.dataset.null_tokens


def test_blanks_and_null_tokens_are_not_values(tmp_path: Path) -> None:
    company = columns(profile(str(messy(tmp_path))))["company"]
    # "  " and "n/a" (default null tokens) are missing; "kein" is a value without a rule file
    assert company["nulls"] == 320 and company["distinct"] == 3
    assert {v["value"] for v in company["top_values"]} == {"ACME GmbH", "Beta AG", "kein"}
    assert company["min_length"] == 4
    assert all(s["value"] != " " for s in company["shapes"])
    rules = tmp_path / "rules.yaml"
    rules.write_text("dataset:\n  null_tokens: ['', n/a, KEIN]\n", encoding="utf-8")
    company = columns(profile(str(messy(tmp_path)), "--rules", str(rules)))["company"]
    assert company["nulls"] == 480 and company["distinct"] == 2
    assert company["min_length"] == 7


def test_an_ordinary_value_far_above_chance_stays_masked_and_unsuggested(tmp_path: Path) -> None:
    """One shared real address (no filler shape) in a column of mostly different e-mails."""
    lines = ["id,email,city"]
    for i in range(600):
        email = "info@mueller-bau.de" if i % 15 == 0 else f"p{i}@web.de"
        lines.append(f"{i},{email},{['Berlin', 'Bonn', 'Ulm'][i % 3]}")
    path = tmp_path / "shared.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    document = profile(str(path))
    [found] = columns(document)["email"]["placeholders"]
    assert found["value"] == "***" and found["count"] == 40 and found["suggested"] is False
    assert found["reason"] == "far more frequent than chance"
    assert "null_tokens" not in document["suggested_rules"].get("dataset", {})
    assert columns(document)["city"]["placeholders"] == []
    shown = profile(str(path), "--show-values")
    [found] = columns(shown)["email"]["placeholders"]
    assert found["value"] == "info@mueller-bau.de" and found["suggested"] is True
    assert "info@mueller-bau.de" in shown["suggested_rules"]["dataset"]["null_tokens"]
