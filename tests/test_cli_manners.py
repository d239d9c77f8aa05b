"""One option vocabulary and the same manners on every command: examples and a docs page at the
end of --help, shell completion, full-width tables off a terminal, hints that name the real fix,
`-` for standard input, and the whole command's time in dedupe.json."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from crmclean.cli.main import app
from run_fixtures import write_case

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def commands() -> dict[str, Any]:
    """Every command (`rules check` for subcommands) by name, as click builds it."""
    group: Any = typer.main.get_command(app)
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found.update({f"{name} {sub}": c for sub, c in command.commands.items()})
        else:
            found[name] = command
    return found


def option_names(command: Any) -> set[str]:
    return {name for p in command.params for name in (*p.opts, *p.secondary_opts)}


@pytest.mark.parametrize("name", sorted(commands()))
def test_help_ends_with_examples_that_the_command_accepts_and_a_docs_page(name: str) -> None:
    command = commands()[name]
    done = runner.invoke(app, [*name.split(), "--help"])
    assert done.exit_code == 0
    tail = done.stdout[done.stdout.index("Examples:") :]
    page = re.search(r"More: (docs/\S+\.md)", tail)
    assert page and (ROOT / page.group(1)).is_file(), tail
    lines = [line.strip() for line in tail.splitlines() if line.strip().startswith("crmclean ")]
    assert 2 <= len(lines) <= 3, tail
    for line in lines:
        words = shlex.split(line.split("|")[0].split(">")[0].split("<")[0])
        assert words[: 1 + len(name.split())] == ["crmclean", *name.split()], line
        used = {w.split("=")[0] for w in words if w.startswith("-") and w != "-"}
        assert used <= option_names(command), (line, used - option_names(command))


# every command that prints a result for people takes -f and -q, and every command that
# reads a CSV of data takes --encoding and --delimiter
PRINTS = [
    "validate",
    "clean",
    "dedupe",
    "run",
    "profile",
    "explain",
    "evaluate",
    "review",
    "rules check",
]
READS_CSV = [
    "validate",
    "clean",
    "dedupe",
    "run",
    "profile",
    "evaluate",
    "review",
    "match",
    "rules init",
]


@pytest.mark.parametrize("name", PRINTS)
def test_format_and_quiet_are_the_same_everywhere(name: str) -> None:
    assert {"--format", "-f", "--quiet", "-q"} <= option_names(commands()[name])


@pytest.mark.parametrize("name", READS_CSV)
def test_encoding_and_delimiter_wherever_a_csv_is_read(name: str) -> None:
    assert {"--encoding", "--delimiter"} <= option_names(commands()[name])


def test_an_unknown_format_is_a_usage_error_everywhere() -> None:
    for name in PRINTS:
        done = runner.invoke(app, [*name.split(), "x", "-f", "yaml"])
        assert done.exit_code == 2, (name, done.output)
        assert "yaml" in done.stderr


def test_shell_completion_is_offered() -> None:
    done = runner.invoke(app, ["--help"])
    assert "--install-completion" in done.stdout and "--show-completion" in done.stdout


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("manners")
    data, rules = write_case(folder)
    out = folder / "out"
    done = runner.invoke(app, ["dedupe", str(data), "-r", str(rules), "--out", str(out), "-q"])
    assert done.exit_code == 0, done.output
    return data, rules, out


def test_dedupe_json_times_the_whole_command_beside_the_matching(
    case: tuple[Path, Path, Path],
) -> None:
    seconds = json.loads((case[2] / "dedupe.json").read_text())["stats"]["seconds"]
    assert seconds["command"] >= seconds["total"] > 0


def test_tables_off_a_terminal_are_not_cut_at_80_columns(case: tuple[Path, Path, Path]) -> None:
    _, _, out = case
    pairs = pl.read_parquet(out / "pairs.parquet").sort("match_weight", descending=True)
    a, b = pairs.select("record_id_l", "record_id_r").row(0)
    done = runner.invoke(app, ["explain", str(out), a, b], env={"COLUMNS": None})
    assert done.exit_code == 0, done.output
    assert "…" not in done.stdout, done.stdout  # rich cut cells to fit 80 columns
    widest = max(len(line) for line in done.stdout.splitlines())
    assert widest > 80, done.stdout


def test_quiet_prints_nothing_and_json_still_prints(case: tuple[Path, Path, Path]) -> None:
    _, _, out = case
    pairs = pl.read_parquet(out / "pairs.parquet")
    a, b = pairs.select("record_id_l", "record_id_r").row(0)
    quiet = runner.invoke(app, ["explain", str(out), a, b, "-q"])
    assert quiet.exit_code == 0 and quiet.stdout == ""
    shown = runner.invoke(app, ["explain", str(out), a, b, "-q", "-f", "json"])
    assert json.loads(shown.stdout)["record_id_l"] == min(a, b)


def test_evaluate_without_truth_id_points_at_the_option_not_a_rule_file(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("customer_no,entity_id\n1,a\n2,a\n", encoding="utf-8")
    done = runner.invoke(
        app, ["evaluate", str(case[2] / "clusters.parquet"), "--truth", str(truth)]
    )
    assert done.exit_code == 2  # the fix is an option: a usage error, not an unreadable file
    assert "--truth-id" in done.stderr and "rule file" not in done.stderr, done.stderr


def test_evaluate_reads_a_semicolon_truth_file_with_delimiter(
    case: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    clusters = pl.read_parquet(case[2] / "clusters.parquet")
    truth = tmp_path / "truth.csv"
    truth.write_text(
        "record_id;entity_id\n"
        + "".join(f"{r};{c}\n" for r, c in clusters.select("record_id", "cluster_id").rows()),
        encoding="utf-8",
    )
    args = ["evaluate", str(case[2] / "clusters.parquet"), "--truth", str(truth), "-f", "json"]
    done = runner.invoke(app, [*args, "--delimiter", "semicolon"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["pairwise"]["f1"] == 1.0


def test_clean_reads_standard_input_and_prints_json(case: tuple[Path, Path, Path]) -> None:
    data, rules, _ = case
    args = ["clean", "-", "-r", str(rules), "--dry-run", "-f", "json"]
    done = runner.invoke(app, args, input=data.read_bytes())
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert document["input"]["path"] == "-" and document["rows"] == pl.read_csv(data).height


def test_rules_check_prints_json_on_stdout_and_nothing_with_quiet() -> None:
    rules = ROOT / "rules" / "team-emea.yaml"
    done = runner.invoke(app, ["rules", "check", str(rules), "-f", "json"])
    assert done.exit_code == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["ok"] and len(document["files"]) == 2 and document["columns"] > 0
    quiet = runner.invoke(app, ["rules", "check", str(rules), "-q"])
    assert quiet.exit_code == 0 and not quiet.stdout and not quiet.stderr


def test_rules_init_and_match_read_a_semicolon_csv_with_delimiter(tmp_path: Path) -> None:
    data = tmp_path / "kunden.csv"
    source = pl.read_csv(ROOT / "sample_data" / "customers.csv", infer_schema_length=0).head(300)
    source.write_csv(data, separator=";")
    done = runner.invoke(app, ["rules", "init", str(data), "--delimiter", ";", "-q"])
    assert done.exit_code == 0, done.stderr
    assert "first_name:" in done.stdout and not done.stderr  # columns found, no summary
    assert "customer_id;" not in done.stdout


def test_a_wrong_delimiter_is_named_when_the_file_reads_as_one_column() -> None:
    done = runner.invoke(
        app,
        [
            "validate",
            str(ROOT / "sample_data" / "customers.csv"),
            "-r",
            str(ROOT / "rules" / "company.yaml"),
            "--delimiter",
            ";",
        ],
    )
    assert done.exit_code == 3, done.stderr
    assert "is the delimiter ','?" in done.stderr and "--delimiter ','" in done.stderr


def test_a_column_the_data_lacks_is_reported_once(tmp_path: Path) -> None:
    data = tmp_path / "customers.csv"
    frame = pl.read_csv(ROOT / "sample_data" / "customers.csv", infer_schema_length=0).head(200)
    frame.drop("salutation").write_csv(data)
    done = runner.invoke(app, ["validate", str(data), "-r", str(ROOT / "rules" / "company.yaml")])
    assert done.exit_code == 2, done.stderr
    said = [line for line in done.stderr.splitlines() if "column 'salutation' is not in" in line]
    assert len(said) == 1, said
