"""crmclean never deletes or modifies an input: an --out that holds anything a command reads is
refused (exit 3), however the paths are spelled (issue 9, item 1)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.io.writers import MARKER
from run_fixtures import crmclean, fingerprint, write_case

runner = CliRunner()
CLI = shutil.which("crmclean", path=str(Path(sys.executable).parent)) or "crmclean"
COMMANDS = ["run", "validate", "clean", "dedupe"]


@pytest.fixture
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`data/` as `crmclean synth --out data` leaves it: customers, rules and crmclean's marker,
    so only the path check stands between a wrong --out and the input's deletion."""
    monkeypatch.chdir(tmp_path)
    data, _ = write_case(tmp_path / "data")
    (data.parent / MARKER).write_text("written by crmclean synth\n")
    (tmp_path / "x").mkdir()
    os.symlink(tmp_path / "data", tmp_path / "data-link")
    return tmp_path / "data"


SPELLINGS = {
    # (input as given, --out as given): the same folder either way
    "dotdot": ("data/customers.csv", "x/../data"),
    "absolute_vs_relative": ("data/customers.csv", "{tmp}/data"),
    "symlinked_input": ("data-link/customers.csv", "data"),
    "symlinked_out": ("data/customers.csv", "data-link"),
    "out_is_the_input_file": ("data/customers.csv", "data/../data/customers.csv"),
    "out_contains_the_input_folder": ("data/customers.csv", "."),
}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_out_inside_input_folder_is_refused(
    data_folder: Path, tmp_path: Path, command: str, spelling: str
) -> None:
    """`--out` naming the input's folder by another spelling: exit 3, one line naming both
    paths, and not one byte of the input folder changed."""
    given, out = (s.format(tmp=tmp_path) for s in SPELLINGS[spelling])
    if spelling == "out_contains_the_input_folder":
        (tmp_path / MARKER).write_text("written by crmclean\n")
    before = fingerprint(data_folder)
    code, err = crmclean(command, given, "--rules", "data/rules.yaml", "--out", out)
    assert code == 3, err
    assert len(err) == 1, err
    assert out in err[0] and given in err[0], err
    assert fingerprint(data_folder) == before
    assert not list(tmp_path.glob(".*.tmp-*")) and not list(tmp_path.glob("*.lock"))


@pytest.mark.parametrize("command", COMMANDS)
def test_out_holding_a_file_the_rule_file_extends_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """The rule file's `extends:` target lives in `shared/`; `--out shared-link` is refused."""
    monkeypatch.chdir(tmp_path)
    data, rules = write_case(tmp_path / "case")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / MARKER).write_text("written by crmclean\n")
    (shared / "base.yaml").write_text(rules.read_text(), encoding="utf-8")
    (tmp_path / "case" / "main.yaml").write_text("extends: ../shared/base.yaml\n")
    os.symlink(shared, tmp_path / "shared-link")
    before = fingerprint(shared)
    code, err = crmclean(command, data, "--rules", "case/main.yaml", "--out", "shared-link")
    assert code == 3 and len(err) == 1, err
    assert "shared-link" in err[0] and "base.yaml" in err[0], err
    assert fingerprint(shared) == before


@pytest.mark.parametrize("command", ["run", "validate"])
def test_out_holding_a_reference_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    """A `values_from:` reference file is an input too."""
    monkeypatch.chdir(tmp_path)
    data, rules = write_case(tmp_path / "case")
    ref = tmp_path / "ref"
    ref.mkdir()
    (ref / MARKER).write_text("written by crmclean\n")
    (ref / "cities.csv").write_text("city\nBerlin\nHamburg\nMünchen\nKöln\nBonn\n")
    text = rules.read_text().replace(
        "  city:\n    standardise: [trim, title]\n",
        "  city:\n    standardise: [trim, title]\n    checks:\n      - type: allowed_values\n"
        "        values_from: ../ref/cities.csv\n        column: city\n",
    )
    rules.write_text(text, encoding="utf-8")
    before = fingerprint(ref)
    code, err = crmclean(command, data, "--rules", rules, "--out", "case/../ref")
    assert code == 3 and len(err) == 1, err
    assert "cities.csv" in err[0]
    assert fingerprint(ref) == before


def test_out_holding_the_decisions_file_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`matching.decisions` (the steward's work) lives beside the rule file."""
    monkeypatch.chdir(tmp_path)
    data, rules = write_case(tmp_path / "case")
    steward = tmp_path / "steward"
    steward.mkdir()
    (steward / MARKER).write_text("written by crmclean\n")
    decisions = steward / "decisions.csv"
    decisions.write_text("record_id_l,record_id_r,decision,steward,decided_at\n")
    rules.write_text(
        rules.read_text().replace(
            "decisions: decisions.csv", "decisions: ../steward/decisions.csv"
        ),
        encoding="utf-8",
    )
    data.rename(tmp_path / "customers.csv")
    code, err = crmclean("run", "customers.csv", "--rules", rules, "--out", "./steward/")
    assert code == 3 and len(err) == 1, err
    assert "decisions.csv" in err[0]
    assert decisions.is_file()


def test_previous_equal_to_out_by_another_spelling_stays_allowed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented cron recipe `--out out/ --previous out/`, spelled two ways."""
    monkeypatch.chdir(tmp_path)
    data, rules = write_case(tmp_path)
    (tmp_path / "x").mkdir()
    assert crmclean("run", data, "-r", rules, "--out", "out", "-q")[0] == 0
    code, err = crmclean(
        "run", data, "-r", rules, "--out", "out/", "--previous", f"{tmp_path}/x/../out", "-q"
    )
    assert code == 0, err
    code, err = crmclean("run", data, "-r", rules, "--out", "out/sub", "--previous", "out", "-q")
    assert code == 3 and "nested" in err[0], err


@pytest.mark.parametrize(
    "target", ["the_input", "the_rule_file", "the_decisions_file", "previous_manifest", "in_out"]
)
def test_log_json_never_writes_into_what_the_run_reads_or_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target: str
) -> None:
    """`--log-json` naming the input, the rule file, the decisions file or a file of --previous
    or --out: exit 3 before a byte is appended (issue 9 review, finding 1)."""
    monkeypatch.chdir(tmp_path)
    data, rules = write_case(tmp_path / "case")
    (tmp_path / "case" / "decisions.csv").write_text(
        "record_id_l,record_id_r,decision,steward,decided_at\n"
    )
    assert crmclean("run", data, "-r", rules, "--out", "pv", "-q")[0] == 0
    log = {
        "the_input": data,
        "the_rule_file": rules,
        "the_decisions_file": tmp_path / "case" / "decisions.csv",
        "previous_manifest": tmp_path / "pv" / "manifest.json",
        "in_out": tmp_path / "o" / "run.jsonl",
    }[target]
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / MARKER).write_text("written by crmclean run\n")
    (tmp_path / "o" / "run.jsonl").write_text("")
    watched = [tmp_path / "case", tmp_path / "pv", tmp_path / "o"]
    before = [fingerprint(folder) for folder in watched]
    code, err = crmclean(
        "run", data, "-r", rules, "--out", "o", "--previous", "pv", "--log-json", log, "-q"
    )
    assert code == 3, err
    assert len(err) == 1 and ("--log-json" in err[0] or log.name in err[0]), err
    assert [fingerprint(folder) for folder in watched] == before


def test_log_json_refuses_a_file_that_is_not_a_crmclean_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file of something else (here a poetry.lock) is never appended to; a log is."""
    monkeypatch.chdir(tmp_path)
    data, rules = write_case(tmp_path / "case")
    other = tmp_path / "notes.txt"
    other.write_text("my notes\n")
    code, err = crmclean("run", data, "-r", rules, "--out", "o", "--log-json", other, "-q")
    assert code == 3 and len(err) == 1 and "notes.txt" in err[0], err
    assert other.read_text() == "my notes\n"
    log = tmp_path / "run.jsonl"
    for _ in range(2):  # the second night appends to the first night's log
        code, err = crmclean("run", data, "-r", rules, "--out", "o", "--log-json", log, "-q")
        assert code == 0, err
    events = [json.loads(line)["event"] for line in log.read_text().splitlines()]
    assert events.count("run_started") == 2 and events[-1] == "run_finished"


def test_log_json_on_a_fifo_or_device_is_refused_at_once(tmp_path: Path) -> None:
    """A FIFO would block the open for append; /dev/zero is no log: exit 3, no hang."""
    data, rules = write_case(tmp_path / "case")
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    for target in (fifo, Path("/dev/zero")):
        proc = subprocess.run(
            [CLI, "run", data, "-r", rules, "--out", tmp_path / "o", "--log-json", target, "-q"],
            check=False, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert proc.returncode == 3, proc.stderr
        assert "not a regular file" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "o").exists()


def test_log_json_dash_writes_the_log_to_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--log-json -` is standard output (documented), never a file named `-`."""
    monkeypatch.chdir(tmp_path)
    data, rules = write_case(tmp_path / "case")
    result = runner.invoke(
        app, ["run", str(data), "-r", str(rules), "--out", "o", "--log-json", "-", "-q"]
    )
    assert result.exit_code == 0, result.stderr
    events = [json.loads(line)["event"] for line in result.stdout.splitlines()]
    assert events[0] == "run_started" and events[-1] == "run_finished"
    assert not (tmp_path / "-").exists()
