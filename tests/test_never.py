"""README "What crmclean never does": a whole night's work reads its inputs and nothing else
writes to them - every file a run reads is byte for byte and in its mtime what it was."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from typer.testing import CliRunner

from crmclean.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _state(folder: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(folder)): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            os.stat(p).st_mtime_ns,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_a_run_leaves_every_input_byte_for_byte_unchanged(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    shutil.copytree(ROOT / "rules", inputs / "rules")
    # demo.yaml's rollup: reads ../sample_data/orders.csv: an input that must stay as it is too
    (inputs / "sample_data").mkdir()
    shutil.copy(ROOT / "sample_data" / "orders.csv", inputs / "sample_data" / "orders.csv")
    data = inputs / "customers.csv"
    lines = (ROOT / "sample_data" / "customers.csv").read_text(encoding="utf-8").splitlines()
    data.write_text("\n".join(lines[:801]) + "\n", encoding="utf-8")
    # a steward decision, so the decisions file named by the rule file is read too
    ids = [line.split(",", 1)[0] for line in lines[1:3]]
    (inputs / "rules" / "decisions.csv").write_text(
        f"record_id_l,record_id_r,decision,decided_by,decided_at\n{ids[0]},{ids[1]},no_match,"
        "steward,2026-12-01T00:00:00+00:00\n",
        encoding="utf-8",
    )
    # team-emea.yaml (extends company.yaml) with demo.yaml's rollup: of the sample's orders
    demo = (inputs / "rules" / "demo.yaml").read_text(encoding="utf-8")
    rules = inputs / "rules" / "night.yaml"
    rules.write_text("extends: team-emea.yaml\n" + demo[demo.index("rollup:") :], encoding="utf-8")
    before = _state(inputs)
    out = tmp_path / "out"
    for _ in range(2):  # the first night, then the cron recipe with --previous
        args = ["run", str(data), "--rules", str(rules), "--out", str(out), "--previous", str(out)]
        result = runner.invoke(app, [*args, "--quiet"])
        assert result.exit_code in (0, 1), result.output
    for command in ("validate", "clean", "dedupe"):
        result = runner.invoke(
            app, [command, str(data), "--rules", str(rules), "--out", str(tmp_path / command)]
        )
        assert result.exit_code in (0, 1), (command, result.output)
    assert (out / "crosswalk.parquet").is_file()
    assert _state(inputs) == before
