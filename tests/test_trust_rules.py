"""A rule file reaches only what it names, and nothing in it can run code, read a file or call a
host (issue 9, items 5-7). Think of the rule file's author as an attacker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmclean.cli.main import app

runner = CliRunner()
SECRET = "s3cr3t-line-that-must-never-show"
TABLE_FUNCTIONS = ["read_csv", "read_parquet", "read_json", "read_ipc", "read_delta", "read_ndjson"]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def check(rules: Path) -> object:
    return runner.invoke(app, ["rules", "check", str(rules)])


def validate(data: Path, rules: Path, *extra: str) -> object:
    return runner.invoke(app, ["validate", str(data), "-r", str(rules), *extra])


def stderr(result: object) -> str:
    text: str = result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    return text


@pytest.fixture(autouse=True)
def _warm_cli(tmp_path: Path) -> None:
    """Load every lazy import once, so that timed checks time the refusal, not the imports."""
    assert (
        check(
            write(tmp_path / "warm.yaml", "checks: [{type: expression, expr: a > 1}]\n")
        ).exit_code
        == 0
    )  # type: ignore[attr-defined]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    return write(tmp_path / "customers.csv", "id,a,country\n1,x,DE\n2,y,NO\n3,z,SE\n")


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file the rule file must not be able to read or show."""
    return write(tmp_path / "secret.csv", f"a\n{SECRET}\n")


def expression_rules(path: Path, expr: str) -> Path:
    return write(
        path,
        "dataset: {id_column: id}\nchecks:\n  - type: expression\n    expr: " + json.dumps(expr),
    )


# --- item 5: expressions ----------------------------------------------------------------------


def _sneaky_expressions(target: str) -> list[str]:
    out = []
    for fn in TABLE_FUNCTIONS:
        out += [
            f"(SELECT count(*) FROM {fn}('{target}')) > 0",
            f"a IN (SELECT a FROM {fn}('{target}'))",
            f"EXISTS (SELECT 1 FROM {fn}('{target}'))",
            f"{fn}('{target}') IS NULL",
        ]
    out += [
        f"a = 'x' /* */ OR (SELECT 1 FROM read_csv('{target}')) = 1",
        f"a = 'x' -- \n OR a IN (SELECT * FROM read_csv('{target}'))",
        f"a = ANY(SELECT a FROM read_csv('{target}'))",
        f"a = 'x'; SELECT * FROM read_csv('{target}')",
    ]
    return out


def test_expression_cannot_read_files(tmp_path: Path, data: Path, secret: Path) -> None:
    for n, expr in enumerate(_sneaky_expressions(str(secret))):
        rules = expression_rules(tmp_path / f"r{n}.yaml", expr)
        for result in (check(rules), validate(data, rules)):
            assert result.exit_code == 2, (expr, result.output)  # type: ignore[attr-defined]
            err = stderr(result)
            assert SECRET not in result.output, expr  # type: ignore[attr-defined]
            assert err.startswith(f"crmclean: error: {rules}:4:5 checks[0].expr: "), err
            assert "not allowed" in err or "not a valid SQL" in err, err
            assert len(err.splitlines()) == 1, err


_SERVER = """
import http.server, sys
log = open(sys.argv[1], "a", buffering=1)
class Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        log.write(self.command + " " + self.path + "\\n")
        body = b"a\\nfrom-the-network\\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(body)
    do_GET = do_HEAD = _answer
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTP server on 127.0.0.1 that logs every request it receives (in its own process:
    polars holds the GIL while it fetches, so a server thread here could never answer)."""
    log = tmp_path / "requests.log"
    log.touch()
    server = subprocess.Popen(
        [sys.executable, "-c", _SERVER, str(log)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        yield f"http://127.0.0.1:{port}/customers.csv", log
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_expression_makes_no_network_request(
    tmp_path: Path, data: Path, local_server: tuple[str, Path]
) -> None:
    url, log = local_server
    for n, expr in enumerate(_sneaky_expressions(url)):
        rules = expression_rules(tmp_path / f"r{n}.yaml", expr)
        for result in (check(rules), validate(data, rules)):
            assert result.exit_code == 2, (expr, result.output)  # type: ignore[attr-defined]
            assert "from-the-network" not in result.output  # type: ignore[attr-defined]
    when = write(
        tmp_path / "when.yaml",
        "dataset: {id_column: id}\ncolumns:\n  a:\n    checks:\n      - type: not_null\n"
        f"        when: \"a IN (SELECT a FROM read_csv('{url}'))\"\n",
    )
    assert validate(data, when).exit_code == 2  # type: ignore[attr-defined]
    assert log.read_text() == ""  # the server on 127.0.0.1 received zero requests
    with urllib.request.urlopen(url, timeout=10) as answer:  # and it does log what it gets
        assert answer.read() == b"a\nfrom-the-network\n"
    assert log.read_text() == "GET /customers.csv\n"


def test_expression_refusal_names_only_the_offending_function(tmp_path: Path) -> None:
    rules = expression_rules(tmp_path / "r.yaml", "lower(a) = 'x' AND pg_read_file('x') = ''")
    err = stderr(check(rules))
    assert "function 'pg_read_file' is not allowed in an expression" in err
    assert "allowed functions: abs, " in err


ALLOWED = {  # expression -> record ids that violate it, over the `data` fixture
    "a <> 'y'": ["2"],
    "lower(country) IN ('de', 'se')": ["2"],
    "length(trim(a)) = 1 AND country LIKE '_E'": ["2"],
    "CAST(id AS INTEGER) < 3 OR country = 'SE'": [],
    "TRY_CAST(a AS INTEGER) IS NULL": [],
    "CASE WHEN country = 'NO' THEN a = 'y' ELSE TRUE END": [],
    "coalesce(nullif(a, 'x'), 'q') <> 'q'": ["1"],
    "substr(country, 1, 1) <> 'N' AND starts_with(a, 'x') = (id = '1')": ["2"],
    "country ~ '^(DE|SE)$'": ["2"],
}


@pytest.mark.parametrize("expr", list(ALLOWED))
def test_expression_allow_list_keeps_row_conditions_working(
    tmp_path: Path, data: Path, expr: str
) -> None:
    rules = expression_rules(tmp_path / "r.yaml", expr)
    assert check(rules).exit_code == 0, check(rules).output  # type: ignore[attr-defined]
    result = validate(data, rules, "-f", "json", "--show-values")
    (rule,) = json.loads(result.stdout)["results"]  # type: ignore[attr-defined]
    assert sorted(s["record_id"] for s in rule["samples"]) == ALLOWED[expr], result.output  # type: ignore[attr-defined]


# --- item 5: files a rule file names ----------------------------------------------------------


def test_extends_a_system_file_is_refused_without_echo(tmp_path: Path) -> None:
    for target in ("/etc/passwd", "/dev/zero", "/proc/self/environ", str(tmp_path)):
        rules = write(tmp_path / "r.yaml", f"extends: {target}\n")
        result = check(rules)
        assert result.exit_code == 2  # type: ignore[attr-defined]
        err = stderr(result)
        assert err.startswith(f"crmclean: error: {rules}:1:1 extends: {target} is not a rule file")
        assert "root:" not in result.output  # type: ignore[attr-defined]
    # a link with a .yaml name is judged by what it points at
    (tmp_path / "base.yaml").symlink_to("/etc/passwd")
    rules = write(tmp_path / "r.yaml", "extends: [company.yaml, base.yaml]\n")
    write(tmp_path / "company.yaml", "columns: {}\n")
    err = stderr(check(rules))
    assert err.startswith(f"crmclean: error: {rules}:1:25 extends[1]: base.yaml is not a rule file")
    # a link loop is a located refusal, not a crash
    (tmp_path / "loop1.yaml").symlink_to("loop2.yaml")
    (tmp_path / "loop2.yaml").symlink_to("loop1.yaml")
    rules = write(tmp_path / "r.yaml", "extends: loop1.yaml\n")
    result = check(rules)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert stderr(result).startswith(f"crmclean: error: {rules}:1:1 extends: loop1.yaml cannot be")


def test_parse_errors_in_an_extended_file_quote_no_content(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", f"token: *{SECRET.replace('-', '_')}\n")
    rules = write(tmp_path / "r.yaml", "extends: base.yaml\n")
    result = check(rules)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    err = stderr(result)
    assert err.startswith(f"crmclean: error: {tmp_path / 'base.yaml'}:1:8: YAML syntax error")
    assert SECRET.replace("-", "_") not in err
    write(tmp_path / "base.yaml", f"unknown_section: {SECRET}\n")
    err = stderr(check(rules))
    assert "unknown_section: unknown key" in err  # the key is in its path; no value quoted
    assert SECRET not in err


def test_values_from_a_system_file_is_refused(tmp_path: Path, data: Path) -> None:
    (tmp_path / "link.csv").symlink_to("/etc/passwd")
    os.mkfifo(tmp_path / "pipe.csv")
    for target, problem in (
        ("/etc/passwd", "is not a reference file"),
        ("link.csv", "is not a reference file"),
        ("pipe.csv", "is a named pipe (FIFO), not a regular file"),
        ("/dev/zero", "is not a reference file"),
    ):
        rules = write(
            tmp_path / "r.yaml",
            "dataset: {id_column: id}\ncolumns:\n  country:\n    checks:\n"
            f"      - {{type: allowed_values, values_from: '{target}', column: root}}\n",
        )
        started = time.process_time()  # CPU of this process: a busy machine does not fail it
        result = validate(data, rules)
        assert time.process_time() - started < 5
        assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
        err = stderr(result)
        assert f":5:32 columns.country.checks[0].values_from: cannot use {target}: " in err
        assert problem in err
        assert "root:" not in result.output  # type: ignore[attr-defined]


def test_values_from_content_never_in_messages(tmp_path: Path, data: Path) -> None:
    write(tmp_path / "codes.csv", f"code,note\nDE,{SECRET}\nSE,x\n")
    rules = write(
        tmp_path / "r.yaml",
        "dataset: {id_column: id}\ncolumns:\n  country:\n    checks:\n"
        "      - {type: allowed_values, values_from: codes.csv, column: code}\n",
    )
    result = validate(data, rules, "-f", "json")
    (rule,) = json.loads(result.stdout)["results"]  # type: ignore[attr-defined]
    assert (
        rule["samples"][0]["message"]
        == "not one of the allowed values (2 values of codes.csv, column code)"
    )
    wrong = write(
        tmp_path / "w.yaml",
        "columns:\n  country:\n    checks:\n"
        "      - {type: allowed_values, values_from: codes.csv, column: nope}\n",
    )
    err = stderr(validate(data, wrong))
    assert "codes.csv has no column 'nope'" in err
    assert "note" not in err and SECRET not in err


# --- item 6: aliases, devices, FIFOs ----------------------------------------------------------


def billion_laughs(path: Path, levels: int) -> Path:
    lines = ["vars:", '  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"  l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return write(path, "\n".join(lines) + "\n")


def test_billion_laughs_is_refused_in_under_a_second(tmp_path: Path) -> None:
    rules = billion_laughs(tmp_path / "lol.yaml", 9)
    assert rules.stat().st_size < 500
    started = time.process_time()  # CPU of this process: a busy machine does not fail it
    result = check(rules)
    assert time.process_time() - started < 1.0
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "YAML aliases expand to more than 100,000 values" in stderr(result)


def test_billion_laughs_stays_within_bounded_memory(tmp_path: Path) -> None:
    """In a child limited to 1 GiB of address space: the old loader needed more than 4 GB."""
    rules = billion_laughs(tmp_path / "lol.yaml", 9)
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "from crmclean.cli.main import run\n"
        "sys.argv = ['crmclean', 'rules', 'check', sys.argv[1]]\n"
        "run()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(rules)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "YAML aliases expand" in done.stderr


def test_deep_nesting_and_self_referring_aliases_are_refused(tmp_path: Path) -> None:
    cases = {
        "deep.yaml": ("vars:\n  x: " + "[" * 70 + "]" * 70 + "\n", "nests more than 64 levels"),
        "deeper.yaml": (
            "vars:\n  x: " + "[" * 100_000 + "]" * 100_000 + "\n",
            "nests more than 64",
        ),
        "loop.yaml": ("vars:\n  x: &me [*me]\n", "YAML alias refers to itself"),
    }
    for name, (text, problem) in cases.items():
        started = time.process_time()  # CPU of this process: a busy machine does not fail it
        result = check(write(tmp_path / name, text))
        assert time.process_time() - started < 1.0
        assert result.exit_code == 2  # type: ignore[attr-defined]
        assert problem in stderr(result)


def test_a_few_aliases_still_work(tmp_path: Path) -> None:
    rules = write(
        tmp_path / "r.yaml",
        "columns:\n  email: &strict {required: true, checks: [not_null]}\n  phone: *strict\n",
    )
    assert check(rules).exit_code == 0  # type: ignore[attr-defined]


def _in_thread(args: list[str]) -> tuple[threading.Thread, list[object]]:
    box: list[object] = []
    thread = threading.Thread(target=lambda: box.append(runner.invoke(app, args)), daemon=True)
    thread.start()
    return thread, box


def test_a_fifo_or_device_as_rule_file_exits_2_in_under_a_second(tmp_path: Path) -> None:
    fifo = tmp_path / "rules.yaml"
    os.mkfifo(fifo)
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    write(tmp_path / "r.yaml", "extends: rules.yaml\n")
    for target in (fifo, tmp_path / "zero.yaml", tmp_path / "r.yaml"):
        started = time.process_time()  # CPU: a hang is caught by the join below
        thread, box = _in_thread(["rules", "check", str(target)])
        thread.join(timeout=5)
        if thread.is_alive():  # unblock the reader so the test run does not hang
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            pytest.fail(f"rules check {target} hangs")
        assert time.process_time() - started < 1.0
        (result,) = box
        assert result.exit_code == 2  # type: ignore[attr-defined]
        assert "not a regular file" in stderr(result)


def test_an_oversized_rule_file_is_refused(tmp_path: Path) -> None:
    rules = write(tmp_path / "r.yaml", "# " + "x" * (1 << 20) + "\ncolumns: {}\n")
    result = check(rules)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "is larger than 1 MiB" in stderr(result)


def test_extends_reaches_a_bounded_number_of_files(tmp_path: Path) -> None:
    write(tmp_path / "leaf.yaml", "columns: {}\n")
    write(tmp_path / "mid.yaml", "extends: [" + ", ".join(["leaf.yaml"] * 8) + "]\n")
    rules = write(tmp_path / "r.yaml", "extends: [" + ", ".join(["mid.yaml"] * 8) + "]\n")
    result = check(rules)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "extends reaches more than 32 rule files" in stderr(result)


# --- item 7: YAML 1.1 booleans ----------------------------------------------------------------


def test_norway_is_a_country_not_false(tmp_path: Path, data: Path) -> None:
    rules = write(
        tmp_path / "r.yaml",
        "vars:\n  north: NO\ndataset:\n  id_column: id\n  null_tokens: [n/a, n, off]\n"
        "columns:\n  country:\n    checks:\n"
        "      - {type: allowed_values, values: [DE, NO, SE]}\n"
        "      - {type: allowed_values, values: [DE, '${vars.north}', SE], id: via_vars}\n"
        "      - {type: allowed_values, values: [DE, NO, SE, ON, YES, off, y, n], id: words}\n",
    )
    assert check(rules).exit_code == 0, check(rules).output  # type: ignore[attr-defined]
    result = validate(data, rules, "-f", "json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    statuses = {r["rule_id"]: r["status"] for r in json.loads(result.stdout)["results"]}  # type: ignore[attr-defined]
    assert set(statuses.values()) == {"pass"}, statuses


def test_plain_words_and_codes_load_as_written(tmp_path: Path) -> None:
    from crmclean.config import load_rules

    rules = write(
        tmp_path / "r.yaml",
        "dataset: {null_tokens: [NO, ON, YES, off, y, n, '-']}\n"
        "columns:\n  postcode:\n    required: yes\n    checks:\n"
        "      - {type: allowed_values, values: [01067, 10115, 12:30, NO], case_sensitive: off}\n",
    )
    loaded = load_rules(rules).rules
    assert loaded.dataset.null_tokens == ["NO", "ON", "YES", "off", "y", "n", "-"]
    column = loaded.columns["postcode"]
    assert column.required is True  # a yes/no field still reads yes as true
    (spec,) = column.checks
    assert spec.values == ["01067", 10115, "12:30", "NO"]  # type: ignore[union-attr]
    assert spec.case_sensitive is False  # type: ignore[union-attr]


def test_decisions_named_by_the_rule_file_must_be_a_regular_csv(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[1]
    text = (repo / "rules" / "company.yaml").read_text()
    rules = write(tmp_path / "company.yaml", text)  # names no other file: a copy runs as is
    (tmp_path / "decisions.csv").symlink_to("/etc/passwd")
    data = str(repo / "sample_data" / "customers.csv")
    for command in ("run", "dedupe"):
        started = time.process_time()  # CPU of this process: a busy machine does not fail it
        out = str(tmp_path / command)
        result = runner.invoke(app, [command, data, "-r", str(rules), "--out", out])
        assert time.process_time() - started < 60
        assert result.exit_code == 2, result.output  # a wrong kind, as docs/validate.md says
        assert f"{tmp_path / 'decisions.csv'} is not a decisions file (.csv)" in stderr(result)
        assert "root:" not in result.output
        assert not (tmp_path / command).exists()


def test_nothing_in_a_rule_file_runs_code(tmp_path: Path, data: Path) -> None:
    marker = tmp_path / "pwned"
    tag = f"!!python/object/apply:os.system ['touch {marker}']"
    write(tmp_path / "base.yaml", f"vars:\n  x: {tag}\n")
    attempts = {
        "tag.yaml": f"vars:\n  x: {tag}\n",
        "extends.yaml": "extends: base.yaml\n",
        "eval.yaml": "checks:\n  - type: expression\n"
        f"    expr: \"__import__('os').system('touch {marker}') = 0\"\n",
        "when.yaml": "columns:\n  a:\n    checks:\n      - type: not_null\n"
        f"        when: \"exec('open(\\\\'{marker}\\\\', \\\\'w\\\\')') IS NULL\"\n",
    }
    for name, text in attempts.items():
        rules = write(tmp_path / name, text)
        for result in (check(rules), validate(data, rules)):
            assert result.exit_code == 2, (name, result.output)  # type: ignore[attr-defined]
            assert len(stderr(result).splitlines()) == 1, result.output  # type: ignore[attr-defined]
    assert not marker.exists()


def test_named_files_are_never_urls(
    tmp_path: Path, data: Path, local_server: tuple[str, Path]
) -> None:
    url, log = local_server
    extends = write(tmp_path / "e.yaml", f"extends: {url.replace('.csv', '.yaml')}\n")
    assert check(extends).exit_code == 2  # type: ignore[attr-defined]
    values = write(
        tmp_path / "v.yaml",
        "dataset: {id_column: id}\ncolumns:\n  country:\n    checks:\n"
        f"      - {{type: allowed_values, values_from: '{url}', column: a}}\n",
    )
    result = validate(data, values)
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert "not found" in stderr(result)
    assert log.read_text() == ""


def test_quoting_tricks_stay_inside_their_quotes(
    tmp_path: Path, data: Path, local_server: tuple[str, Path]
) -> None:
    """What sqlglot reads as one name or one text, polars reads the same: no smuggled query."""
    url, log = local_server
    tricks = [
        f'"a"" = 1 OR a IN (SELECT a FROM read_csv(\'{url}\')) OR ""b" = 1',
        f"a = 'x'' OR (SELECT 1 FROM read_csv(''{url}'')) = 1 OR '''",
        f"a = '\\' OR (SELECT 1 FROM read_csv('{url}')) = 1 --'",
        f"a = $$x$$ OR (SELECT 1 FROM read_csv('{url}')) = 1",
    ]
    for n, expr in enumerate(tricks):
        rules = expression_rules(tmp_path / f"t{n}.yaml", expr)
        for result in (check(rules), validate(data, rules)):
            assert result.exit_code in (0, 1, 2), result.output  # type: ignore[attr-defined]
            assert "from-the-network" not in result.output  # type: ignore[attr-defined]
    assert log.read_text() == ""


@pytest.mark.parametrize(
    "check_yaml",
    [
        "{type: pattern, column: a, pattern: '(?<=x)y'}",
        "{type: expression, expr: \"a ~ '(?<=x)y'\"}",
    ],
    ids=["pattern", "expression"],
)
def test_a_regex_the_engine_refuses_says_why(tmp_path: Path, check_yaml: str) -> None:
    """The engine's multi-line parse error keeps its `error:` line, not just `regex parse
    error:` (review finding 12)."""
    rules = write(tmp_path / "rx.yaml", f"version: 1\nchecks: [{check_yaml}]\n")
    result = check(rules)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    err = stderr(result)
    assert "look-around" in err and "not supported" in err, err
    assert not err.rstrip().endswith("regex parse error:"), err
