"""`rules init` on a small German customer file as a new user writes it: `kundennr` is the id,
a repeated id fails `validate`, the country column keeps its country check, `review` has a
decisions file and a birth date in the future is an error."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.core.profile import profile_frame
from crmclean.core.profile.rules_init import init_rules

runner = CliRunner()
HEADER = [
    "kundennr",
    "vorname",
    "nachname",
    "mail",
    "telefon",
    "strasse",
    "plz",
    "ort",
    "land",
    "geburtsdatum",
]
FIRST = ["Anna", "Uwe", "Jan", "Lea", "Max", "Eva", "Tim", "Ida", "Ole", "Mia", "Paul", "Lena"]
LAST = ["Maier", "Huber", "Gruber", "Wolf", "Schmidt", "Fischer", "Weber", "Becker", "Koch"]
PLACES = [("10115", "Berlin"), ("80331", "München"), ("20095", "Hamburg"), ("50667", "Köln")]
FUTURE_BIRTH = "2099-05-04"


def kunden_rows(repeat_id: bool = False) -> list[list[str]]:
    """34 customers; K012 is K011 with a new e-mail; one country each spelt once; K021 is born
    in the future. `repeat_id`: K012's row carries K011's id."""
    rows = []
    for i in range(1, 35):
        first, last = FIRST[i % len(FIRST)], LAST[i % len(LAST)]
        plz, ort = PLACES[i % len(PLACES)]
        land = {5: "Deutschland", 9: "Germany", 13: "Atlantis"}.get(i, "DE")
        rows.append(
            [
                f"K{i:03d}",
                first,
                last,
                f"{first.lower()}.{last.lower()}{i}@web.de",
                f"030 {1000000 + i * 7919}",
                f"Hauptstraße {i}",
                plz,
                ort,
                land,
                f"{1950 + i}-0{1 + i % 9}-1{i % 10}",
            ]
        )
    rows[11] = [rows[11][0], *rows[10][1:3], "neu." + rows[10][3], *rows[10][4:]]
    rows[20][9] = FUTURE_BIRTH
    if repeat_id:
        rows[11][0] = rows[10][0]
    return rows


def write_kunden(folder: Path, repeat_id: bool = False) -> Path:
    path = folder / "kunden.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(kunden_rows(repeat_id))
    return path


def init(data: Path) -> tuple[dict[str, Any], str]:
    rules = data.parent / "kunden.yaml"
    result = runner.invoke(app, ["rules", "init", str(data), "--out", str(rules)])
    assert result.exit_code == 0, result.output
    return yaml.safe_load(rules.read_text(encoding="utf-8")), result.stderr


ID_CHECKS = [{"type": "not_null", "severity": "error"}, {"type": "unique", "severity": "error"}]


def test_kundennr_is_the_id_so_explain_finds_customers_by_it(tmp_path: Path) -> None:
    data = write_kunden(tmp_path)
    document, _ = init(data)
    assert document["dataset"]["id_column"] == "kundennr"
    assert document["columns"]["kundennr"]["checks"] == ID_CHECKS
    out = tmp_path / "out"
    ran = runner.invoke(
        app, ["run", str(data), "--rules", str(tmp_path / "kunden.yaml"), "--out", str(out)]
    )
    assert ran.exit_code == 1, ran.output  # the birth date in the future is an error
    explained = runner.invoke(app, ["explain", str(out), "K011", "K012"])
    assert explained.exit_code == 0, explained.output
    assert "merged" in explained.stdout


def test_a_repeated_id_is_written_and_fails_validate_not_only_run(tmp_path: Path) -> None:
    data = write_kunden(tmp_path, repeat_id=True)
    document, stderr = init(data)
    assert document["dataset"]["id_column"] == "kundennr"
    assert document["columns"]["kundennr"]["checks"] == ID_CHECKS
    assert "id column kundennr: 1 id repeats (in 2 rows)" in stderr
    rules = str(tmp_path / "kunden.yaml")
    validated = runner.invoke(app, ["validate", str(data), "--rules", rules, "--format", "json"])
    assert validated.exit_code == 1, validated.output
    failed = {
        r["rule_id"] for r in json.loads(validated.stdout)["results"] if r["status"] == "fail"
    }
    assert "kundennr.unique" in failed and "kundennr.not_null" not in failed
    ran = runner.invoke(app, ["run", str(data), "--rules", rules, "--out", str(tmp_path / "o")])
    assert ran.exit_code == 3, ran.output


def test_the_country_column_keeps_its_check_not_the_spellings_seen_once(tmp_path: Path) -> None:
    data = write_kunden(tmp_path)
    document, _ = init(data)
    assert document["columns"]["land"]["checks"] == [{"type": "country_valid", "severity": "warn"}]
    profiled = runner.invoke(app, ["profile", str(data), "--format", "json"])
    assert profiled.exit_code == 0, profiled.output
    land = json.loads(profiled.stdout)["suggested_rules"]["columns"]["land"]["checks"]
    assert land == ["not_null", "country_valid"]  # Atlantis, Germany ... occur once each


def test_review_exports_its_queue_from_a_generated_rule_file(tmp_path: Path) -> None:
    data = write_kunden(tmp_path)
    document, _ = init(data)
    assert document["matching"]["decisions"] == "decisions.csv"
    out = tmp_path / "out"
    rules = str(tmp_path / "kunden.yaml")
    ran = runner.invoke(app, ["run", str(data), "--rules", rules, "--out", str(out)])
    assert ran.exit_code == 1, ran.output
    queue = tmp_path / "r.csv"
    reviewed = runner.invoke(app, ["review", str(out), "--format", "csv", "--out", str(queue)])
    assert reviewed.exit_code == 0, reviewed.output
    header = queue.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("\ufeffrecord_id_l,record_id_r,match_probability")  # Excel: UTF-8


def test_a_birth_date_in_the_future_is_an_error(tmp_path: Path) -> None:
    data = write_kunden(tmp_path)
    document, _ = init(data)
    assert {"type": "not_in_future", "severity": "error"} in document["columns"]["geburtsdatum"][
        "checks"
    ]
    rules = str(tmp_path / "kunden.yaml")
    validated = runner.invoke(app, ["validate", str(data), "--rules", rules, "--format", "json"])
    assert validated.exit_code == 1, validated.output
    report = json.loads(validated.stdout)
    failed = {r["rule_id"]: r["violations"] for r in report["results"] if r["status"] == "fail"}
    assert failed == {"geburtsdatum.not_in_future": 1}


def frame_with(**columns: list[str | None]) -> pl.DataFrame:
    """Names, e-mails (so there is something to match on) and the columns under test."""
    rows = len(next(iter(columns.values())))
    base = {
        "vorname": [FIRST[i % len(FIRST)] for i in range(rows)],
        "nachname": [LAST[i % len(LAST)] for i in range(rows)],
        "mail": [f"p{i}@web.de" for i in range(rows)],
    }
    return pl.DataFrame(base | columns)


IDS = [f"K{i:03d}" for i in range(34)]
REPEATED = [*IDS[:33], IDS[0]]
PHONES = [f"030 {1000000 + i * 7919}" for i in range(34)]
HOUSES = [str(i + 1) for i in range(34)]


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"kundennr": IDS}, "kundennr"),
        ({"kundennummer": IDS}, "kundennummer"),
        ({"customerid": IDS}, "customerid"),
        ({"custno": IDS}, "custno"),
        ({"clientid": IDS}, "clientid"),
        ({"kdnr": IDS}, "kdnr"),
        ({"Kunden-Nr.": IDS}, "Kunden-Nr."),
        ({"id": IDS}, "id"),
        # numbers that are no ids, all different as they may be
        ({"phone_number": PHONES}, None),
        ({"telefonnummer": PHONES}, None),
        ({"hausnummer": HOUSES}, None),
        ({"house_number": HOUSES}, None),
        ({"postcode": [f"{10000 + i}" for i in range(34)]}, None),
        ({"telefonnummer": PHONES, "kundennr": IDS}, "kundennr"),
        ({"house_number": HOUSES, "customer_no": IDS}, "customer_no"),
        # the unique and complete column wins, whatever its place
        ({"kundennr": REPEATED, "id": IDS}, "id"),
        ({"nr": [None, *IDS[1:]], "kundennr": IDS}, "kundennr"),
        # reading refuses a record without an id: a column with gaps is none
        ({"kundennr": [None, *IDS[1:]]}, None),
        # both clean: a customer's number before a bare id
        ({"id": IDS, "kundennr": IDS}, "kundennr"),
        # repeats: still the id (validate reports them), but a repeated code is none
        ({"kundennr": REPEATED}, "kundennr"),
        ({"segment_key": ["a", "b", "c"] * 11 + ["a"]}, None),
    ],
)
def test_id_column_by_name_and_values(
    columns: dict[str, list[str | None]], expected: str | None
) -> None:
    frame = frame_with(**columns)
    made = init_rules(frame, profile_frame(frame))
    assert made.document["dataset"].get("id_column") == expected
