"""What rules/company.yaml's matching section promises, through the CLI (issue 10)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from crmclean.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "customers.csv"
RULES = ROOT / "rules" / "company.yaml"


def test_swapped_names_score_the_swap_on_both_name_comparisons(tmp_path: Path) -> None:
    # the sample data with one more customer, recorded twice with first and last name swapped
    data = tmp_path / "c.csv"
    data.write_text(
        SAMPLE.read_text(encoding="utf-8").rstrip("\n") + "\n"
        "A1,crm,,Gerhard,Albrecht,,g.albrecht@web.de,,Hauptstr. 1,10115,Berlin,DE,1970-01-02,,\n"
        "A2,erp,,Albrecht,Gerhard,,g.albrecht@web.de,,Hauptstr. 1,10115,Berlin,DE,1970-01-02,,\n",
        encoding="utf-8",
    )
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["dedupe", str(data), "--rules", str(RULES), "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    explained = CliRunner().invoke(app, ["explain", str(out), "A1", "A2", "--format", "json"])
    assert explained.exit_code == 0, explained.stderr
    levels = {c["name"]: c["level"] for c in json.loads(explained.stdout)["comparisons"]}
    assert levels["first_name"].startswith("swapped with last_name_key")
    assert levels["last_name"].startswith("swapped with first_name_key")
