"""`crmclean serve`: the entry check over HTTP, started in a subprocess on a free port and sent a
bounded burst of concurrent requests; malformed requests are 4xx; a newer run is picked up."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from crmclean.cli.entry_setup import load_entry_check
from crmclean.report.match_answers import masked, to_json
from run_fixtures import crmclean, write_case

TOKEN = "s3cret-token-for-tests"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(
    url: str, body: bytes | None = None, token: str | None = TOKEN, method: str = "POST"
) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        payload = exc.read()
        return exc.code, json.loads(payload) if payload.startswith(b"{") else payload


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("serve")
    data, rules = write_case(folder, n_people=80)
    out = folder / "out"
    code, err = crmclean("run", data, "--rules", rules, "--out", out, "-q", "--no-report")
    assert code in (0, 1), err
    return data, rules, out


@pytest.fixture(scope="module")
def service(case: tuple[Path, Path, Path]) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    _, _, out = case
    port = _free_port()
    env = {**os.environ, "CRM_TOKEN": TOKEN}
    argv = [sys.executable, "-m", "crmclean.cli.main", "serve", str(out), "--port", str(port)]
    argv += ["--token-env", "CRM_TOKEN", "--max-body-bytes", "20000", "--max-records", "10"]
    argv += ["--reload-seconds", "0.2"]
    process = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if _call(base + "/health", method="GET", token=None)[0] == 200:
                break
        except OSError:
            pass
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        assert time.monotonic() < deadline, "service did not come up"
        time.sleep(0.2)
    yield base, process
    process.terminate()
    process.wait(timeout=30)


def test_a_burst_of_concurrent_lookups_is_answered_right(
    case: tuple[Path, Path, Path], service: tuple[str, subprocess.Popen[str]]
) -> None:
    data, _, out = case
    base, _ = service
    raw = pl.read_csv(data, infer_schema=False)
    golden_of = dict(
        pl.read_parquet(out / "crosswalk.parquet").select("record_id", "golden_id").iter_rows()
    )
    rows = raw.head(64).to_dicts()

    def ask(row: dict[str, Any]) -> tuple[str, int, Any]:
        status, body = _call(base + "/match", json.dumps(row).encode())
        return row["customer_id"], status, body

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(ask, rows))
    # the same answers `crmclean match --format json` gives, computed here in-process
    loaded = load_entry_check(out)
    check = loaded.check
    expected = masked(check.check(check.records(rows)), loaded.pii, check.id_column)
    assert len(results) == 64
    for (customer_id, status, body), wanted in zip(results, expected, strict=True):
        assert status == 200, body
        (answer,) = body["answers"]
        assert answer == json.loads(to_json(wanted))
        assert answer["record"] == customer_id
        assert golden_of[customer_id] in {c["golden_id"] for c in answer["candidates"]}
        for field in answer["candidates"][0]["fields"]:
            if field["column"] in ("first_name", "last_name", "email") and field["value"]:
                assert "*" in field["value"]  # masked: no --show-values


def test_a_list_of_records_gets_one_answer_each(service: tuple[str, subprocess.Popen[str]]) -> None:
    base, _ = service
    records = [{"first_name": "Anna", "last_name": "Nobody"}, {"email": "zz@nowhere.invalid"}]
    status, body = _call(base + "/match", json.dumps(records).encode())
    assert status == 200
    assert [a["record"] for a in body["answers"]] == ["1", "2"]
    assert body["answers"][1]["decision"] == "new"


@pytest.mark.parametrize(
    ("body", "token", "status", "says"),
    [
        (b'{"first_name": "Anna"}', None, 401, "bearer token"),
        (b'{"first_name": "Anna"}', "wrong", 401, "bearer token"),
        (b"{not json", TOKEN, 400, "not valid JSON"),
        (b"\xff\xfe", TOKEN, 400, "not valid JSON"),
        (b'{"shoe_size": 44}', TOKEN, 422, "unknown column(s) shoe_size"),
        (b'{"first_name": {"a": 1}}', TOKEN, 422, "not a text, number or null"),
        (b'"just text"', TOKEN, 422, "not a JSON object"),
        (b'{"first_name": "\\ud800"}', TOKEN, 422, "lone surrogate"),  # was a 500
        (json.dumps([{"first_name": "A"}] * 11).encode(), TOKEN, 413, "at most 10"),
        (json.dumps({"first_name": "A" * 30000}).encode(), TOKEN, 413, "larger than 20,000"),
        (b"[" * 15000, TOKEN, 400, "nested too deeply"),  # was a RecursionError: 500
        (b'{"first_name": ' + b"9" * 5000 + b"}", TOKEN, 400, "not valid JSON"),  # digit limit
    ],
)
def test_bad_requests_are_4xx_with_one_error_line(
    service: tuple[str, subprocess.Popen[str]],
    body: bytes,
    token: str | None,
    status: int,
    says: str,
) -> None:
    base, process = service
    got, answer = _call(base + "/match", body, token=token)
    assert got == status
    assert says in answer["error"]
    assert process.poll() is None  # still serving


def test_a_newer_run_in_the_folder_is_picked_up(
    case: tuple[Path, Path, Path], service: tuple[str, subprocess.Popen[str]], tmp_path: Path
) -> None:
    data, rules, out = case
    base, _ = service
    before = _call(base + "/health", method="GET", token=None)[1]
    fewer = tmp_path / "fewer.csv"
    pl.read_csv(data, infer_schema=False).head(40).write_csv(fewer)
    code, err = crmclean("run", fewer, "--rules", rules, "--out", out, "-q", "--no-report")
    assert code in (0, 1), err
    deadline = time.monotonic() + 60
    while True:
        now = _call(base + "/health", method="GET", token=None)[1]
        if now["records"] == 40:
            break
        assert time.monotonic() < deadline, f"not reloaded: {now} (before {before})"
        time.sleep(0.2)
    status, body = _call(base + "/match", json.dumps({"first_name": "Anna"}).encode())
    assert status == 200 and body["answers"][0]["decision"] in {"same_customer", "review", "new"}


def test_a_token_variable_that_is_not_set_is_a_usage_error(case: tuple[Path, Path, Path]) -> None:
    _, _, out = case
    os.environ.pop("CRM_TOKEN_UNSET", None)
    code, err = crmclean("serve", out, "--token-env", "CRM_TOKEN_UNSET")
    assert code == 2
    assert "CRM_TOKEN_UNSET" in err[0] and "not set" in err[0]


def test_another_host_without_a_token_is_refused(case: tuple[Path, Path, Path]) -> None:
    _, _, out = case
    code, err = crmclean("serve", out, "--host", "0.0.0.0")
    assert code == 2
    assert "without a token" in err[0] and "--token-env" in "\n".join(err)


def test_a_port_in_use_is_exit_3_at_once(case: tuple[Path, Path, Path]) -> None:
    """uvicorn only logged a failed bind and the process stayed up, serving nothing."""
    _, _, out = case
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        argv = [sys.executable, "-m", "crmclean.cli.main", "serve", str(out), "--port", str(port)]
        done = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr
