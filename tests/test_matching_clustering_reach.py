"""The chain guard counts only pairs that could be merge edges (`reach.py`): a customer whose
sparse records (newsletter: name + e-mail; point of sale: name + phone) each link only to the
complete record is a star, not a chain, and stays one cluster; real chains are still split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from crmclean.core.matching.clustering import cluster
from crmclean.core.matching.reach import Reach
from crmclean.core.matching.spec import ClusteringSpec

SPEC = ClusteringSpec(max_cluster_size=25, min_density=0.6, bridge_probability=0.99)
# comparisons: name (10 bits at best), e-mail, phone, address (15 each); merging needs 20 bits:
# a newsletter and a point-of-sale record (name only in common) cannot reach it
BEST = np.array([10.0, 15.0, 15.0, 15.0])
NEEDED = 20.0


def _edges(pairs: list[tuple[int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "row_l": [a for a, _ in pairs],
            "row_r": [b for _, b in pairs],
            "match_probability": [0.9999] * len(pairs),
        }
    )


def _labels(n: int, pairs: list[tuple[int, int]], fields: list[list[bool]] | None) -> list[int]:
    reach = None if fields is None else Reach(np.array(fields), BEST, NEEDED)
    labels, _, _ = cluster(n, _edges(pairs), SPEC, 0.999, reach=reach)
    return [int(x) for x in labels]


STAR = [(0, 1), (0, 2), (0, 3)]  # a complete record and three sparse ones: density 0.5


def test_a_star_of_sparse_records_stays_one_customer() -> None:
    fields = [
        [True, True, True, True],  # crm: everything
        [True, True, False, False],  # newsletter: name and e-mail
        [True, False, True, False],  # point of sale: name and phone
        [True, False, True, False],  # point of sale: name and phone (another phone)
    ]
    assert _labels(4, STAR, fields) == [0, 0, 0, 0]


def test_without_reach_the_same_star_counts_as_a_chain() -> None:
    assert len(set(_labels(4, STAR, None))) > 1


def test_a_chain_of_complete_records_is_still_split() -> None:
    chain = [(0, 1), (1, 2), (2, 3), (3, 4)]
    fields = [[True, True, True, True]] * 5  # every pair could have been an edge
    assert len(set(_labels(5, chain, fields))) > 1


# --- through the CLI, with a fixed model: a star of sparse records is one customer ------------

HEADER = (
    "customer_id,source_system,salutation,first_name,last_name,company,email,phone,street,"
    "postcode,city,country,date_of_birth,created_at,updated_at\n"
)
STAR_CSV = HEADER + (
    "C1,crm,,Anna,Wolf,,anna.wolf@web.de,+49 30 1234567,Hauptstr. 1,,,DE,,2024-01-01,\n"
    "C2,newsletter,,Anna,,,anna.wolf@web.de,,,,,DE,,2024-01-02,\n"
    "C3,pos,,Anna,,,,+49 30 1234567,,,,DE,,2024-01-03,\n"
    "C4,erp,,Anna,,,,,Hauptstr. 1,,,DE,,2024-01-04,\n"
    "C5,crm,,Otto,Brandt,,otto@brandt.de,+49 89 7654321,Ringweg 2,,,DE,,2024-01-05,\n"
)
STAR_MATCHING = """matching:
  blocking: [[country]]
  comparisons:
    - {name: first_name, column: first_name_key, levels: [exact, else]}
    - {name: email, column: email_key, levels: [exact, else]}
    - {name: phone, column: phone_key, levels: [exact, else]}
    - {name: street, column: street, levels: [exact, else]}
  thresholds: {auto_merge: 0.999, review: 0}
  clustering: {max_cluster_size: 25, min_density: 0.6, bridge_probability: 0.99}
"""


def _fixed_model(rules: Path) -> dict[str, object]:
    """The first name agreeing weighs 10 bits, e-mail, phone or street 15; the prior -12: the
    name and one contact field reach auto_merge (13 bits), the name alone (-2) does not."""
    from crmclean.config import load_rules
    from crmclean.core.matching.scoring import fingerprint

    spec = load_rules(rules).rules.matching
    assert spec is not None
    bits = {"first_name": 10.0, "email": 15.0, "phone": 15.0, "street": 15.0}
    comparisons = [
        {
            "name": c.name,
            "column": c.column,
            "levels": [
                {"gamma": 1, "label": "exact", "m": 0.9, "u": 0.9 / 2 ** bits[c.name]},
                {"gamma": 0, "label": "else", "m": 0.1, "u": 0.99},
            ],
        }
        for c in spec.comparisons
    ]
    prior = 2.0**-12 / (1 + 2.0**-12)
    return {
        "format": "crmclean.match_model",
        "version": 1,
        "fingerprint": fingerprint(spec),
        "prior": prior,
        "comparisons": comparisons,
    }


def test_dedupe_keeps_a_customers_sparse_records_together(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from crmclean.cli.main import app

    root = Path(__file__).resolve().parents[1]
    data = tmp_path / "customers.csv"
    data.write_text(STAR_CSV, encoding="utf-8")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        f"extends: {root / 'rules' / 'company.yaml'}\nvars: {{min_customers: 1}}\n" + STAR_MATCHING,
        encoding="utf-8",
    )
    model = tmp_path / "model.json"
    model.write_text(json.dumps(_fixed_model(rules)), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["dedupe", str(data), "--rules", str(rules), "--out", str(out), "--model", str(model)]
    )
    assert result.exit_code == 0, result.stderr
    clusters = dict(pl.read_parquet(out / "clusters.parquet").iter_rows())
    # the CRM record links the newsletter (e-mail), POS (phone) and ERP (street) records: a
    # star of density 0.5 whose missing links could never reach auto_merge (the name alone)
    assert clusters == {"C1": "C1", "C2": "C1", "C3": "C1", "C4": "C1", "C5": "C5"}
    assert pl.read_parquet(out / "review.parquet").height == 0
