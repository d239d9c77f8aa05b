"""generate(world=True): sparse sources, initials, e-mail domain typos, phones after moves and
placeholders in their shares; the classic mix stays as it was."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from crmclean.synth import SynthResult, generate, generate_detailed
from crmclean.synth.tables import tables
from crmclean.synth.world import (
    PHONE_AFTER_MOVE,
    PLACEHOLDERS,
    WORLD_SOURCE_SHARES,
    WORLD_SOURCES,
    email_domain_typo,
    phone_follows_moves,
)

ROWS = 12_000


@pytest.fixture(scope="module")
def world() -> SynthResult:
    return generate_detailed(ROWS, seed=5, world=True)


def test_world_is_deterministic_and_other_than_classic(world: SynthResult) -> None:
    again = generate_detailed(ROWS, seed=5, world=True)
    assert_frame_equal(world.customers, again.customers)
    assert_frame_equal(world.defects, again.defects)
    classic, _ = generate(ROWS, seed=5)
    assert not classic.equals(world.customers)
    assert set(classic["source_system"]) == {"crm", "erp", "webshop"}


def test_six_sources_in_their_shares(world: SynthResult) -> None:
    shares = dict(world.customers["source_system"].value_counts(normalize=True).iter_rows())
    for source, share in zip(WORLD_SOURCES, WORLD_SOURCE_SHARES, strict=True):
        assert abs(shares[source] - share) < 0.02, source


def test_sparse_sources_carry_little_more_than_name_and_one_channel(world: SynthResult) -> None:
    c = world.customers
    newsletter = c.filter(pl.col("source_system") == "newsletter")
    for column in ("phone", "street", "postcode", "city", "date_of_birth"):
        # empty, but for planted 'N/A'-style tokens (logged as defects)
        filled = newsletter.filter(pl.col(column).is_not_null())["customer_id"]
        planted = world.defects.filter(pl.col("column") == column)["record_id"]
        assert filled.is_in(planted.implode()).all(), column
        assert filled.len() < 0.02 * newsletter.height, column
    assert newsletter["email"].is_not_null().mean() > 0.8  # type: ignore[operator]
    pos = c.filter(pl.col("source_system") == "pos")
    assert pos["street"].null_count() > 0.98 * pos.height
    assert pos["date_of_birth"].null_count() > 0.98 * pos.height
    assert pos["phone"].is_not_null().mean() > 0.8  # type: ignore[operator]
    assert pos["email"].is_not_null().mean() < 0.2  # type: ignore[operator]


def test_initials_appear_in_about_five_percent_of_duplicates(world: SynthResult) -> None:
    later = ROWS - world.entities.height  # second and later records of a customer
    initials = world.customers.filter(pl.col("first_name").str.contains(r"^\w\.$")).height
    assert 0.035 * later < initials < 0.07 * later


def test_placeholders_in_their_shares_and_logged(world: SynthResult) -> None:
    logged = world.defects.filter(pl.col("kind") == "placeholder")
    for column, (value, share) in PLACEHOLDERS.items():
        rows = logged.filter(pl.col("column") == column)["record_id"]
        filled = world.customers[column].drop_nulls().len()
        assert 0.5 * share * filled < rows.len() < 1.6 * share * filled, column
        values = world.customers.filter(pl.col("customer_id").is_in(rows.implode()))[column]
        assert (values == value).all(), column


def test_email_domain_typo_changes_the_provider_only() -> None:
    frame = pl.DataFrame({"email": ["anna.berg@gmail.com", "bo@web.de", None, "x@ab.co.uk"]})
    mask = np.array([True, True, True, False])
    out = email_domain_typo(frame, mask, np.random.default_rng(1), tables())["email"]
    assert out[0] != "anna.berg@gmail.com" and out[0].startswith("anna.berg@")
    assert out[0].endswith(".com")
    assert out[1] != "bo@web.de" and out[1].startswith("bo@") and out[1].endswith(".de")
    assert out[2] is None and out[3] == "x@ab.co.uk"


def test_most_movers_get_the_other_phone() -> None:
    n = 20_000
    moved = np.zeros(n, dtype=bool)
    moved[: n // 2] = True
    masks = [moved.copy(), np.zeros(n, dtype=bool)]
    phone_follows_moves(masks, ["moved", "other_phone"], np.random.default_rng(0))
    assert abs(masks[1][: n // 2].mean() - PHONE_AFTER_MOVE) < 0.02
    assert not masks[1][n // 2 :].any()


def test_differences_name_what_was_drawn_for_each_record(world: SynthResult) -> None:
    differences = world.differences
    assert differences["record_id"].is_in(world.customers["customer_id"].implode()).all()
    kinds = set(differences["kind"])
    assert {"initial", "email_domain_typo", "moved", "married", "nickname", "typo"} <= kinds
    initials = differences.filter(pl.col("kind") == "initial")["record_id"]
    first = world.customers.filter(pl.col("customer_id").is_in(initials.implode()))["first_name"]
    assert first.str.contains(r"^\w\.$").mean() > 0.95  # type: ignore[operator]
    married = differences.filter(pl.col("kind") == "married")["record_id"]
    salutations = world.customers.filter(pl.col("customer_id").is_in(married.implode()))
    assert not salutations["salutation"].is_in(["Herr", "Mr", "M.", "Dhr."]).any()
    classic = generate_detailed(3000, seed=5).differences
    assert "initial" not in set(classic["kind"]) and "typo" in set(classic["kind"])
