"""Training that is stable under small changes and says what it did (issue 10, defect 2)."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from crmclean.cli.main import app
from crmclean.config import load_rules
from crmclean.config.rule_setup import prepare
from crmclean.core.matching import dedupe
from crmclean.core.matching.em import graded_levels, monotone
from crmclean.core.matching.spec import ComparisonSpec

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "customers.csv"
RULES = ROOT / "rules" / "company.yaml"

# m, u and the expected m after pooling, listed by gamma from the strongest level (3) down
MONOTONE_CASES: list[dict[str, Any]] = [
    # already non-increasing m/u (90, 4, 0.5, 0.05): unchanged
    {
        "m": [0.9, 0.08, 0.01, 0.01],
        "u": [0.01, 0.02, 0.02, 0.2],
        "expected": [0.9, 0.08, 0.01, 0.01],
    },
    # the second level's ratio (10) above the first's (5): pooled to (0.5+0.2)/(0.1+0.02)
    {
        "m": [0.5, 0.2, 0.2, 0.1],
        "u": [0.1, 0.02, 0.38, 0.5],
        "expected": [0.5833, 0.1167, 0.2, 0.1],
    },
    # a violation further down pools backwards over several levels
    {
        "m": [0.4, 0.2, 0.3, 0.1],
        "u": [0.1, 0.1, 0.1, 0.7],
        "expected": [0.4, 0.25, 0.25, 0.1],
    },
]


@pytest.mark.parametrize("case", MONOTONE_CASES)
def test_monotone_pools_adjacent_violators(case: dict[str, Any]) -> None:
    gammas = [3, 2, 1, 0]
    m = dict(zip(gammas, case["m"], strict=True))
    u = dict(zip(gammas, case["u"], strict=True))
    out = monotone(m, u, gammas, {})
    assert [out[g] for g in gammas] == pytest.approx(case["expected"], abs=1e-4)
    ratios = [out[g] / u[g] for g in gammas]
    assert all(a >= b - 1e-12 for a, b in itertools.pairwise(ratios))
    assert sum(out.values()) == pytest.approx(sum(m.values()))


def test_a_fixed_m_stays_out_of_the_pooling() -> None:
    m, u = {2: 0.5, 1: 0.4, 0: 0.1}, {2: 0.1, 1: 0.01, 0: 0.89}
    assert monotone(m, u, [2, 1, 0], {1: 0.4}) == m


def test_only_levels_grading_the_own_column_are_kept_monotone() -> None:
    contact = ComparisonSpec(
        name="contact",
        column="street",
        levels=[
            "exact",
            {"type": "similarity", "metric": "token_set_ratio", "threshold": 85},
            {"type": "exact", "requires_equal": ["postcode"]},
            {"type": "exact", "column": "phone"},
            {"type": "different", "column": "phone"},
            "else",
        ],
    )
    # exact (5) and similar (4) grade the street; the rest measure other things; else (0) closes
    assert graded_levels(contact) == [5, 4, 0]


def _trained(data: Path, rules: Path) -> Any:
    loaded = load_rules(rules)
    assert loaded.rules.matching is not None
    prepared = prepare(loaded, data)  # the one setup step every command takes
    return dedupe(prepared.plan.clean(prepared.frame).frame, loaded.rules.matching).model


def test_a_swapped_level_on_last_name_does_not_move_the_email_conditional_u(
    tmp_path: Path,
) -> None:
    # The Faker yardstick (benchmarks/yardsticks), where issue 10 saw the flip: with EM left
    # free per session, the swapped level moved u(exact last name | same e-mail) from 0.0005
    # to 0.83 and the non-match share of e-mail-sharing pairs from 0.06 to 0.16.
    sys.path.insert(0, str(ROOT / "benchmarks" / "yardsticks"))
    import faker_set

    made = faker_set.generate(10_000, seed=7)
    data = tmp_path / "customers.csv"
    made.customers.write_csv(data)
    rules = ROOT / "benchmarks" / "yardsticks" / "faker_rules.yaml"
    document = yaml.safe_load(rules.read_text(encoding="utf-8"))
    for comparison in document["matching"]["comparisons"]:
        if comparison["name"] == "last_name":
            kept = [lv for lv in comparison["levels"] if not _is_swapped(lv)]
            assert len(kept) == len(comparison["levels"]) - 1
            comparison["levels"] = kept
    document["matching"]["decisions"] = str(tmp_path / "none.csv")
    without = tmp_path / "without_swap.yaml"
    without.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")

    def conditional(model: Any) -> tuple[float, float]:
        email = next(c for c in model.comparisons if c.name == "email")
        last = next(c for c in model.comparisons if c.name == "last_name")
        return float(email.given_u["last_name"][last.levels[0].gamma]), float(email.tf_scale)

    (u_with, scale_with), (u_without, scale_without) = (
        conditional(_trained(data, rules)),
        conditional(_trained(data, without)),
    )
    assert abs(u_with - u_without) < 0.1, (u_with, u_without)
    # Without the last name's swap level a swap shows there as a disagreement, and EM hands
    # some swapped true pairs to the non-matches (0.04); with it the swap is one fact, counted
    # on the first name (em.mirrored_swaps), and the share is near the truth.
    assert abs(scale_with - scale_without) < 0.05, (scale_with, scale_without)
    assert abs(scale_with - _non_match_share_of_email_pairs(made)) < 0.01, scale_with


def test_the_email_session_counts_different_people_sharing_an_address_near_the_truth(
    tmp_path: Path,
) -> None:
    # Own generator with the world's differences (moves, new surnames, newsletter sign-ups):
    # 0.6 % of the pairs sharing an e-mail address are different people. With every non-match
    # share free the [email_key] session put 7.5 % there (the unusual records of one customer),
    # which scaled the e-mail's evidence down by 13x; it now learns only the names' shares
    # (the comparisons the e-mail conditions) and keeps random-pair u for the others.
    import polars as pl

    from crmclean.synth import generate_detailed

    made = generate_detailed(10_000, 7, world=True)
    data = tmp_path / "customers.csv"
    made.customers.write_csv(data)
    loaded = load_rules(RULES)
    assert loaded.rules.matching is not None
    prepared = prepare(loaded, data)
    clean = prepared.plan.clean(prepared.frame).frame
    model = dedupe(clean, loaded.rules.matching).model
    email = next(c for c in model.comparisons if c.name == "email")
    keys = clean.select(pl.col("customer_id").alias("record_id"), "email_key")
    truth = _non_match_share(keys.join(made.truth, on="record_id"), "email_key")
    assert truth < 0.01
    assert truth / 3 < email.tf_scale < truth * 3, (email.tf_scale, truth)


def _non_match_share(records: Any, column: str) -> float:
    """Among pairs of `records` (record_id, entity_id, `column`) sharing a value held by at
    most 50 records (company.yaml's max_block_size): the share of different customers."""
    import polars as pl

    kept = records.filter(pl.col(column).is_not_null() & (pl.len().over(column) <= 50))
    pairs = kept.join(kept, on=column, suffix="_r").filter(
        pl.col("record_id") < pl.col("record_id_r")
    )
    return float((pairs["entity_id"] != pairs["entity_id_r"]).mean() or 0.0)


def _non_match_share_of_email_pairs(made: Any) -> float:
    """Among record pairs sharing an e-mail address (trimmed, lower case) that blocking keeps
    (at most 50 records share it: company.yaml's max_block_size skips placeholders such as
    test@test.com): the share of different customers, from the yardstick's truth (0.003 on
    the Faker set at 10k)."""
    import polars as pl

    emails = made.customers.select(
        "record_id", pl.col("email_address").str.strip_chars().str.to_lowercase().alias("e")
    ).join(made.truth, on="record_id")
    pairs = (
        emails.filter(pl.col("e").is_not_null() & (pl.col("e") != "") & (pl.len().over("e") <= 50))
        .join(emails, on="e", suffix="_r")
        .filter(pl.col("record_id") < pl.col("record_id_r"))
    )
    return float((pairs["entity_id"] != pairs["entity_id_r"]).mean() or 0.0)


def _is_swapped(level: Any) -> bool:
    return isinstance(level, dict) and level.get("type") == "swapped"


def test_dedupe_json_reports_what_training_did(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["dedupe", str(SAMPLE), "--rules", str(RULES), "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads((out / "dedupe.json").read_text(encoding="utf-8"))
    sessions = summary["stats"]["training"]["sessions"]
    assert sessions
    for session in sessions:
        assert len(session["starts"]) >= 3
        assert isinstance(session["converged"], bool)
        assert session["iterations"] >= 1
        assert session["log_likelihood"] == session["starts"][0]["log_likelihood"] < 0
        assert session["unstable"] == (session["spread"] > 0.2)
    unstable = [s for s in sessions if s["unstable"]]
    warned = [w for w in summary["warnings"] if w.startswith("training session")]
    assert len(warned) == len(unstable)
    for warning in warned:  # on stderr too, not only in dedupe.json
        assert warning in " ".join(result.stderr.split())


def test_a_session_whose_starts_disagree_is_warned_about(tmp_path: Path) -> None:
    # In these 10k generated records two sessions blocked on the birth date hold few
    # different people: their non-match class is small, and EM starts as likely as the
    # canonical one end far from it. That is worth a warning (it is how the model flipped in
    # issue 10, then in the [email_key] session, which no longer warns since the swapped true
    # pairs stay among the matches, em.mirrored_swaps, and namesakes no longer share mailboxes).
    from crmclean.synth import generate

    customers, _ = generate(10_000, 3)
    data = tmp_path / "customers.csv"
    customers.write_csv(data)
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["dedupe", str(data), "--rules", str(RULES), "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads((out / "dedupe.json").read_text(encoding="utf-8"))
    unstable = [s["rule"] for s in summary["stats"]["training"]["sessions"] if s["unstable"]]
    assert unstable
    stderr = " ".join(result.stderr.split())
    for rule in unstable:
        assert f"warning: training session {rule}: an EM start as likely" in stderr
        assert any(w.startswith(f"training session {rule}") for w in summary["warnings"])
