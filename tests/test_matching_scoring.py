"""Fellegi-Sunter: EM recovers known m from unlabelled patterns; scores, TF, model IO."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmclean.core.matching.em import fit_em, mirrored_swaps, run_em
from crmclean.core.matching.model_io import ModelMismatch, model_from_dict, model_to_dict
from crmclean.core.matching.scoring import (
    ComparisonParams,
    LevelParams,
    MatchModel,
    agreeing_gammas,
    fingerprint,
    floor_disagreement,
    score,
)
from crmclean.core.matching.spec import ComparisonSpec, MatchingSpec

SPEC = MatchingSpec.model_validate(
    {
        "blocking": [["a"]],
        "comparisons": [
            {
                "name": "x",
                "column": "x",
                "levels": ["exact", {"type": "similarity", "threshold": 0.9}, "else"],
            },
            {"name": "y", "column": "y", "levels": ["exact", "else"]},
            {"name": "z", "column": "z", "levels": ["exact", "else"]},
        ],
    }
)


def _simulate(
    n: int, prior: float, m: dict[str, list[float]], u: dict[str, list[float]], seed: int
) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    match = rng.random(n) < prior
    columns = {}
    for name, m_values in m.items():
        levels = len(m_values)
        draw_m = rng.choice(levels, size=n, p=m_values[::-1])  # listed by gamma, highest first
        draw_u = rng.choice(levels, size=n, p=u[name][::-1])
        columns[f"gamma_{name}"] = np.where(match, draw_m, draw_u)
    frame = pl.DataFrame(columns).with_columns(pl.all().cast(pl.Int8))
    return frame.group_by(frame.columns).agg(pl.len().alias("_n")).sort(frame.columns)


def test_em_recovers_m_and_prior_without_labels() -> None:
    # listed from the highest gamma down: exact, similar, else
    true_m = {"x": [0.8, 0.15, 0.05], "y": [0.9, 0.1], "z": [0.85, 0.15]}
    true_u = {"x": [0.01, 0.04, 0.95], "y": [0.05, 0.95], "z": [0.1, 0.9]}
    patterns = _simulate(200_000, 0.2, true_m, true_u, seed=1)
    u = {k: {len(v) - 1 - i: p for i, p in enumerate(v)} for k, v in true_u.items()}
    m0 = {k: {g: 1 / len(v) for g in range(len(v))} for k, v in true_m.items()}
    m0 = {"x": {2: 0.6, 1: 0.3, 0: 0.1}, "y": {1: 0.7, 0: 0.3}, "z": {1: 0.7, 0: 0.3}}
    m, prior, iterations = run_em(
        patterns,
        list(SPEC.comparisons),
        u,
        m0,
        0.5,
        estimate_m=True,
        max_iterations=200,
        tolerance=1e-7,
    )
    assert prior == pytest.approx(0.2, abs=0.01)
    for name, values in true_m.items():
        for i, expected in enumerate(values):
            assert m[name][len(values) - 1 - i] == pytest.approx(expected, abs=0.02)
    assert iterations < 200


def test_em_learns_only_the_non_match_shares_it_is_told_to() -> None:
    # The non-matches agree on y far more often than random pairs (different people sharing
    # an address share the surname); learnt for y only, x and z keep their random-pair u.
    true_m = {"x": [0.8, 0.15, 0.05], "y": [0.9, 0.1], "z": [0.85, 0.15]}
    blocked_u = {"x": [0.01, 0.04, 0.95], "y": [0.7, 0.3], "z": [0.1, 0.9]}
    patterns = _simulate(50_000, 0.3, true_m, blocked_u, seed=2)
    u = {"x": {2: 0.01, 1: 0.04, 0: 0.95}, "y": {1: 0.05, 0: 0.95}, "z": {1: 0.1, 0: 0.9}}
    m = {k: {len(v) - 1 - i: p for i, p in enumerate(v)} for k, v in true_m.items()}
    fit = fit_em(
        patterns,
        list(SPEC.comparisons),
        u,
        m,
        0.5,
        estimate_m=False,
        max_iterations=200,
        tolerance=1e-7,
        learn_u=frozenset({"y"}),
    )
    assert fit.non_match["x"] == u["x"]
    assert fit.non_match["z"] == u["z"]
    assert fit.non_match["y"][1] == pytest.approx(0.7, abs=0.03)
    assert fit.prior == pytest.approx(0.3, abs=0.02)
    free = fit_em(
        patterns,
        list(SPEC.comparisons),
        u,
        m,
        0.5,
        estimate_m=False,
        max_iterations=200,
        tolerance=1e-7,
    )
    assert free.non_match["x"] != u["x"]  # without learn_u every share is learnt


def _model(tf: bool = False) -> MatchModel:
    levels = (
        LevelParams(2, "exact", 0.9, 0.01),
        LevelParams(1, "similar", 0.08, 0.04),
        LevelParams(0, "else", 0.02, 0.95),
    )
    return MatchModel(
        1e-3,
        (ComparisonParams("x", "x", levels, tf_gamma=2 if tf else None),),
        fingerprint(SPEC),
    )


def test_score_adds_bayes_factors_and_prior() -> None:
    pairs = pl.DataFrame({"gamma_x": [2, 1, 0, -1]}, schema={"gamma_x": pl.Int8})
    scored = score(pairs, _model())
    bf = scored["bf_x"].to_list()
    assert bf == pytest.approx([math.log2(90), math.log2(2), math.log2(0.02 / 0.95), 0.0])
    prior = math.log2(1e-3 / (1 - 1e-3))
    assert scored["match_weight"].to_list() == pytest.approx([prior + b for b in bf])
    p = scored["match_probability"].to_list()
    assert p[-1] == pytest.approx(1e-3)
    assert p == sorted(p, reverse=True) or p[0] > p[1] > p[2]


def test_term_frequency_makes_common_values_weigh_less() -> None:
    pairs = pl.DataFrame(
        {"gamma_x": [2, 2, 1], "tf_x": [0.2, 0.0001, None]},
        schema={"gamma_x": pl.Int8, "tf_x": pl.Float64},
    )
    bf = score(pairs, _model(tf=True))["bf_x"].to_list()
    assert bf[0] == pytest.approx(math.log2(0.9 / 0.2))  # common: m / tf
    assert bf[1] == pytest.approx(math.log2(0.9 / 0.0001))
    assert bf[2] == pytest.approx(math.log2(2))  # not the exact level: unchanged


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(-1, 2), min_size=1, max_size=30), st.floats(1e-9, 0.5))
def test_probabilities_stay_in_unit_interval(gammas: list[int], prior: float) -> None:
    model = MatchModel(prior, _model().comparisons, "f")
    scored = score(pl.DataFrame({"gamma_x": gammas}, schema={"gamma_x": pl.Int8}), model)
    p = scored["match_probability"]
    assert ((p >= 0) & (p <= 1)).all()


def test_model_round_trip_and_fingerprint_guard() -> None:
    model = _model(tf=True)
    again = model_from_dict(model_to_dict(model), SPEC)
    assert again.comparisons == model.comparisons and again.prior == model.prior
    other = MatchingSpec.model_validate(
        {
            **SPEC.model_dump(),
            "comparisons": [{"name": "x", "column": "x", "levels": ["exact", "else"]}],
        }
    )
    with pytest.raises(ModelMismatch, match="other comparisons"):
        model_from_dict(model_to_dict(model), other)
    with pytest.raises(ModelMismatch, match="not a crmclean match model"):
        model_from_dict({"hello": 1}, SPEC)
    broken = model_to_dict(model)
    broken["comparisons"][0]["levels"][0]["m"] = 0
    with pytest.raises(ModelMismatch, match="outside"):
        model_from_dict(broken, SPEC)


def test_fingerprint_ignores_thresholds_but_not_levels() -> None:
    moved = MatchingSpec.model_validate(
        {**SPEC.model_dump(), "thresholds": {"auto_merge": 0.99, "review": 0.2}}
    )
    assert fingerprint(moved) == fingerprint(SPEC)
    changed = ComparisonSpec(name="y", column="y", levels=["exact", {"type": "phonetic"}, "else"])
    other = MatchingSpec.model_validate(
        {
            **SPEC.model_dump(),
            "comparisons": [SPEC.comparisons[0].model_dump(), changed.model_dump()],
        }
    )
    assert fingerprint(other) != fingerprint(SPEC)


def _conditional_model() -> MatchModel:
    x = ComparisonParams(
        "x",
        "x",
        (LevelParams(2, "exact", 0.9, 0.001), LevelParams(0, "else", 0.1, 0.999)),
        tf_gamma=2,
        given_gamma=2,
        given_u={"y": {1: 0.6, 0: 0.4}},
        tf_scale=0.5,
    )
    y = ComparisonParams(
        "y", "y", (LevelParams(1, "exact", 0.8, 0.01), LevelParams(0, "else", 0.2, 0.99))
    )
    return MatchModel(1e-3, (x, y), fingerprint(SPEC))


def test_conditional_u_weighs_the_listed_comparison_against_sharing_non_matches() -> None:
    pairs = pl.DataFrame(
        {"gamma_x": [2, 0, -1], "gamma_y": [1, 1, 1], "tf_x": [0.002, None, None]},
        schema={"gamma_x": pl.Int8, "gamma_y": pl.Int8, "tf_x": pl.Float64},
    )
    scored = score(pairs, _conditional_model())
    # x shared: y's agreement is judged against non-matches sharing x (0.6), not random (0.01)
    assert scored["bf_y"].to_list() == pytest.approx(
        [math.log2(0.8 / 0.6), math.log2(0.8 / 0.01), math.log2(0.8 / 0.01)]
    )
    # only the non-match share (tf_scale) of a value's frequency is chance agreement
    assert scored["bf_x"][0] == pytest.approx(math.log2(0.9 / (0.002 * 0.5)))
    again = model_from_dict(model_to_dict(_conditional_model()), SPEC)
    assert again.comparisons == _conditional_model().comparisons


def test_training_learns_conditional_u_from_the_session_on_the_field_alone() -> None:
    spec = MatchingSpec.model_validate(
        {
            "blocking": [["email"], ["name"]],
            "comparisons": [
                {"name": "email", "column": "email", "levels": ["exact", "else"],
                 "conditional_u": ["name"]},
                {"name": "name", "column": "name", "levels": ["exact", "else"]},
                {"name": "city", "column": "city", "levels": ["exact", "else"]},
            ],
        }
    )  # fmt: skip
    rng = np.random.default_rng(3)
    n = 4000
    person = rng.integers(0, 1500, n)
    name = (person % 300).astype(str)  # five people per name
    frame = pl.DataFrame(
        {
            "record_id": [f"r{i:05d}" for i in range(n)],
            "email": [f"{v}@x" for v in name],  # made of the name alone: namesakes share it
            "name": name,
            "city": (person % 97).astype(str),
        }
    )
    from crmclean.core.matching import dedupe

    model = dedupe(frame, spec).model
    email = next(c for c in model.comparisons if c.name == "email")
    assert set(email.given_u) == {"name"} and email.given_gamma == 1
    assert email.given_u["name"][1] > 0.5  # people sharing the address share the name
    assert 0 < email.tf_scale < 1


def test_a_rare_later_exact_level_is_capped_by_its_value_count_share() -> None:
    from crmclean.core.matching.u_probabilities import estimate_u

    spec = MatchingSpec.model_validate(
        {
            "blocking": [["phone"]],
            "comparisons": [
                {
                    "name": "contact",
                    "column": "street",
                    "levels": [
                        {"type": "null", "columns": ["street", "phone"]},
                        "exact",
                        {"type": "exact", "column": "phone"},
                        "else",
                    ],
                }
            ],
            "training": {"u_sample_pairs": 1000},
        }
    )
    n = 20_000
    frame = pl.DataFrame(
        {
            "record_id": [f"r{i:05d}" for i in range(n)],
            "street": [f"s{i}" for i in range(n)],
            "phone": [f"p{i // 2}" for i in range(n)],  # pairs of records share a phone
        }
    )
    u = estimate_u(frame, spec, seed=1)["contact"]
    # sampled: never seen in 1000 pairs, the pseudo-count floor; counted: n/2 pairs of n(n-1)/2
    assert u[1] == pytest.approx((n / 2) * 2 / (n * (n - 1.0)))


@pytest.mark.parametrize(
    ("values", "value", "expected"),
    [
        (["a", "a", "b", "c", "d"], "a", 1 / 4),  # one other record of four holds it
        (["a", "A", "a", "b", None], "a", 2 / 3),  # lower-cased, nulls are no records
        (["a", "b", "c"], "a", 0.0),  # nobody else: only the floor tf_minimum_u is left
    ],
)
def test_term_frequency_is_the_chance_another_record_holds_the_value(
    values: list[str | None], value: str, expected: float
) -> None:
    from crmclean.core.matching.comparing import term_frequencies

    tf = term_frequencies(pl.DataFrame({"x": values}, schema={"x": pl.String}), "x")
    assert tf.filter(pl.col("_value") == value).get_column("_tf").item() == pytest.approx(expected)


# floor_disagreement: (m, u, graded gammas) -> m after the floor on outright disagreement
FLOOR_CASES = [
    # else alone below the floor: raised to 0.02 (the old else floor)
    ({2: 0.9, 1: 0.095, 0: 0.005}, {2: 0.01, 1: 0.09, 0: 0.9}, [2, 1, 0], {0: 0.02}),
    # a graded level just above else speaks against (m < u): the floor bounds both together
    ({2: 0.95, 1: 0.045, 0: 0.005}, {2: 0.01, 1: 0.4, 0: 0.59}, [2, 1, 0], {1: 0.045, 0: 0.005}),
    # together below the floor: else takes what is missing, the graded level keeps EM's share
    ({2: 0.985, 1: 0.01, 0: 0.005}, {2: 0.01, 1: 0.4, 0: 0.59}, [2, 1, 0], {1: 0.01, 0: 0.01}),
    # the level above else speaks for a match (m > u): it is no disagreement, else alone counts
    ({2: 0.9, 1: 0.095, 0: 0.005}, {2: 0.001, 1: 0.01, 0: 0.989}, [2, 1, 0], {0: 0.02}),
    # a level on another column (not graded) is never part of the run
    ({2: 0.95, 1: 0.045, 0: 0.005}, {2: 0.01, 1: 0.4, 0: 0.59}, [2, 0], {0: 0.02}),
]


@pytest.mark.parametrize(("m", "u", "graded", "expected"), FLOOR_CASES)
def test_floor_disagreement(
    m: dict[int, float], u: dict[int, float], graded: list[int], expected: dict[int, float]
) -> None:
    out = floor_disagreement(m, u, graded)
    for gamma, value in expected.items():
        assert out[gamma] == pytest.approx(value)
    assert {g: v for g, v in out.items() if g not in expected} == {
        g: v for g, v in m.items() if g not in expected
    }


def _names(first_levels: list[object], last_levels: list[object]) -> list[ComparisonSpec]:
    return [
        ComparisonSpec.model_validate({"name": "first", "column": "f", "levels": first_levels}),
        ComparisonSpec.model_validate({"name": "last", "column": "l", "levels": last_levels}),
    ]


# mirrored_swaps: which swapped levels repeat a swap an earlier comparison counts
SWAP_CASES = [
    # both ways: the later comparison's level is the mirror (gamma 1: exact 2, swapped 1, else 0)
    (
        [
            ["exact", {"type": "swapped", "other": "l"}, "else"],
            ["exact", {"type": "swapped", "other": "f"}, "else"],
        ],
        {"last": {1}},
    ),
    # only one side has the level: it is the only count of the swap
    ([["exact", {"type": "swapped", "other": "l"}, "else"], ["exact", "else"]], {}),
    # swapped with a third column: another fact
    (
        [
            ["exact", {"type": "swapped", "other": "l"}, "else"],
            ["exact", {"type": "swapped", "other": "x"}, "else"],
        ],
        {},
    ),
]


@pytest.mark.parametrize(("levels", "expected"), SWAP_CASES)
def test_mirrored_swaps(levels: list[list[object]], expected: dict[str, set[int]]) -> None:
    assert mirrored_swaps(_names(*levels)) == expected


# agreeing_gammas: the levels of a conditional_u comparison that condition the others
AGREE_CASES = [
    ((2, [(2, 0.8, 1e-5), (1, 0.1, 1e-5), (0, 0.1, 0.99998)]), [2, 1]),  # exact and similar
    ((2, [(2, 0.8, 1e-5), (1, 0.01, 0.05), (0, 0.19, 0.95)]), [2]),  # a level against a match
    ((1, [(2, 0.8, 1e-5), (1, 0.1, 1e-5), (0, 0.1, 0.99998)]), [1]),  # above the exact level
    ((None, [(1, 0.9, 1e-5), (0, 0.1, 0.99999)]), []),  # no conditional
]


@pytest.mark.parametrize(("given", "expected"), AGREE_CASES)
def test_agreeing_gammas(
    given: tuple[int | None, list[tuple[int, float, float]]], expected: list[int]
) -> None:
    gamma, levels = given
    params = ComparisonParams(
        "email", "email", tuple(LevelParams(g, str(g), m, u) for g, m, u in levels),
        given_gamma=gamma,
    )  # fmt: skip
    assert agreeing_gammas(params) == expected
