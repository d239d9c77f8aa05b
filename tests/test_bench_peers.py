"""The peers on the yardsticks: how a data set's columns configure them, what a budget overrun
is recorded as, and the side-by-side table; one slow end-to-end run with the real peers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(ROOT / "benchmarks"),
    str(ROOT / "benchmarks" / "yardsticks"),
    str(ROOT / "benchmarks" / "peers"),
]

import bench_accuracy  # noqa: E402
import bench_peers_yardsticks as bpy  # noqa: E402
import faker_set  # noqa: E402
import map_rules  # noqa: E402
import run_goldenmatch  # noqa: E402  (imports goldenmatch only when run)
import run_splink  # noqa: E402  (imports splink and duckdb only when run)
from _columns import placeholders  # noqa: E402
from measure import Outcome  # noqa: E402
from peers_md import peers_section, rows_by_set  # noqa: E402

BENCH_PYTHON = ROOT / ".bench-venv" / "bin" / "python"
# FEBRL as febrl_set.py writes it: company.yaml's columns FEBRL lacks arrive empty.
FEBRL_COLUMNS = {
    "first_name": "given_name",
    "last_name": "surname",
    "street": "address",
    "postcode": "postcode",
    "city": "suburb",
    "date_of_birth": "date_of_birth",
}


def test_peer_columns_keep_the_roles_a_set_has_under_its_own_names() -> None:
    columns = {
        "rec_id": pl.Series(["a", "b"]),
        "given_name": pl.Series(["ann", None]),
        "surname": pl.Series(["lee", "kim"]),
        "email": pl.Series([None, "  "]),  # only blanks: absent
        "phone": pl.Series([None, None], dtype=pl.String),  # only nulls: absent
        "postcode": pl.Series([2000, None]),  # not text: still present
    }
    got = bpy.peer_columns(columns, map_rules.FEBRL_COLUMNS)
    assert got == {"first_name": "given_name", "last_name": "surname", "postcode": "postcode"}
    # the own set: every role under its own name
    own = {role: pl.Series(["x"]) for role in bpy.ROLES}
    assert bpy.peer_columns(own, {}) == {role: role for role in bpy.ROLES}


def test_a_budget_overrun_is_a_timeout_and_a_memory_overrun_is_named_too() -> None:
    timed_out = Outcome("splink", "over_budget", error="stopped after the 600 s time budget")
    too_big = Outcome("splink", "over_budget", error="stopped above the 14336 MB memory limit")
    assert bpy.status_of(timed_out) == "timeout"
    assert bpy.status_of(too_big) == "over_memory"
    assert bpy.status_of(Outcome("splink", "failed", error="exit 1")) == "failed"
    assert bpy.status_of(Outcome("splink", "ok")) == "ok"


def test_splink_on_the_own_columns_is_the_model_run_all_always_ran() -> None:
    config = run_splink.describe({role: role for role in bpy.ROLES})
    assert config["prediction_blocking"] == [
        "email", "phone", "last_name & dob", "first_name & dob", "postcode & last_name",
        "postcode & first_name", "substr(first_name,1,3) & substr(last_name,1,3) & city",
    ]  # fmt: skip
    assert config["prior_rules"] == ["email", "first_name & last_name & dob"]
    assert config["em_sessions"] == ["last_name & dob", "email"]
    assert len(config["comparisons"]) == 8


def test_splink_without_email_and_phone_drops_their_rules_and_trains_on_postcode() -> None:
    config = run_splink.describe(FEBRL_COLUMNS)
    assert "email" not in config["prediction_blocking"]
    assert "phone" not in config["prediction_blocking"]
    assert config["prior_rules"] == ["first_name & last_name & dob"]
    assert config["em_sessions"] == ["last_name & dob", "postcode"]
    assert not any("Email" in c or "phone" in c or "company" in c for c in config["comparisons"])
    sql = run_splink.prepare_sql(FEBRL_COLUMNS, "cast(rec_id as varchar)", "read_csv('x.csv')")
    assert 'present("given_name")) as first_name' in sql
    assert "as email" not in sql and "as phone" not in sql
    assert "first_name_surname_concat" in sql


def test_goldenmatch_template_renamed_to_a_sets_columns_and_absent_fields_dropped() -> None:
    template = yaml.safe_load((ROOT / "benchmarks" / "peers" / "goldenmatch.yaml").read_text())
    adapted = run_goldenmatch.adapt_config(template, FEBRL_COLUMNS)
    assert [key["name"] for key in adapted["matchkeys"]] == ["fuzzy_name"]  # no e-mail
    fields = adapted["matchkeys"][0]["fields"]
    assert [(f["field"], f["weight"]) for f in fields] == [
        ("given_name", 0.5), ("surname", 0.3), ("postcode", 0.2)
    ]  # fmt: skip
    assert adapted["matchkeys"][0]["threshold"] == 0.85
    assert adapted["blocking"]["keys"] == [{"fields": ["postcode"]}]
    assert set(adapted["standardization"]) == {"given_name", "surname", "postcode"}
    # the own columns give the template back as written
    own = run_goldenmatch.adapt_config(template, {role: role for role in bpy.ROLES})
    assert own["matchkeys"] == template["matchkeys"]


def test_placeholders_are_values_far_more_frequent_than_chance() -> None:
    # 60 records share test@test.com, the other 200 values are one or two records each
    values = ["test@test.com"] * 60 + [f"p{i}@x.org" for i in range(200)] * 2 + [None] * 50
    assert placeholders(values) == {"test@test.com"}
    # 50 records are not enough, however rare the rest
    assert placeholders(["a"] * 50 + [f"v{i}" for i in range(500)]) == set()
    # 60 is not far above chance when every value is held by about 30 records (dates at 1M)
    common = [f"d{i}" for i in range(100) for _ in range(30)]
    assert placeholders(["1970-01-01"] * 600 + common) == set()  # 20 x mean: 20 x 35.6
    assert placeholders(["1970-01-01"] * 2000 + common) == {"1970-01-01"}
    assert placeholders([None, None]) == set()


def _entry(tool: str, data: str, f1: float) -> dict[str, object]:
    return {"set": "faker", "size": "10k", "tool": tool, "data": data, "status": "ok",
            "wall_s": 1.0, "peak_rss_mb": 100.0, "run": "cmd", "date": "2026-12-07 05:00 UTC",
            "scores": {"pairwise_precision": 1.0, "pairwise_recall": f1, "pairwise_f1": f1,
                       "bcubed_f1": f1}}  # fmt: skip


def test_crmclean_sits_beside_the_peers_only_when_measured_on_the_same_data() -> None:
    peers = {"faker 10k splink": _entry("splink", "data/faker-10k-a", 0.8)}
    same = {"faker 10k": {**_entry("crmclean", "data/faker-10k-a", 0.9), "set": "faker"}}
    other = {"faker 10k": {**_entry("crmclean", "data/faker-10k-OLD", 0.9), "set": "faker"}}
    assert set(rows_by_set(peers, same)[("faker", "10k")]) == {"splink", "crmclean"}
    assert set(rows_by_set(peers, other)[("faker", "10k")]) == {"splink"}
    # the same content under another folder name (a generator's code hash changed) is the same
    renamed = {"faker 10k": {**other["faker 10k"], "data_digest": "d1"}}
    digested = {"faker 10k splink": {**peers["faker 10k splink"], "data_digest": "d1"}}
    assert set(rows_by_set(digested, renamed)[("faker", "10k")]) == {"splink", "crmclean"}
    changed = {"faker 10k": {**same["faker 10k"], "data_digest": "d2"}}
    assert set(rows_by_set(digested, changed)[("faker", "10k")]) == {"splink"}
    text = "\n".join(peers_section({"peers_yardsticks": peers, "accuracy": other}))
    assert "| faker | 10k | `crmclean` | not measured on this data |" in text
    assert "| faker | 10k | `splink` | ok | 1.0 | 100 | 1.000 | 0.800 | 0.800 | 0.800 |" in text
    assert "| faker | 10k | `goldenmatch` | not measured on this data |" in text


@pytest.mark.slow
@pytest.mark.skipif(not BENCH_PYTHON.exists(), reason="needs .bench-venv (make bench)")
def test_both_peers_end_to_end_on_a_tiny_faker_set(tmp_path: Path) -> None:
    made = faker_set.generate(2000, seed=5)  # EM needs a few hundred true pairs
    folder = tmp_path / "data"
    bench_accuracy._write(folder, made.customers, made.truth)
    for peer in bpy.PEERS:
        entry = bpy.measure_peer(
            peer, folder, map_rules.FAKER_COLUMNS, tmp_path / peer, 300, BENCH_PYTHON
        )
        assert entry["status"] == "ok", entry.get("error")
        assert entry["columns"]["email"] == "email_address"
        assert 0.0 < entry["scores"]["pairwise_f1"] <= 1.0
        assert entry["scores"]["records_missing"] == 0
        assert entry["config"], json.dumps(entry)
        assert "placeholders_nulled" in entry
    # a budget too small to start a peer is recorded as a timeout with its budget
    late = bpy.measure_peer(
        "splink", folder, map_rules.FAKER_COLUMNS, tmp_path / "late", 0.01, BENCH_PYTHON
    )
    assert late["status"] == "timeout"
    assert "scores" not in late
