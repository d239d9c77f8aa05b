"""A small rule file and customer table for the `run` and `review` tests, and the two helpers
the trust tests share: `crmclean(...)` in-process and `fingerprint(folder)`."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from crmclean.cli.main import app

RULES = """\
version: 1
dataset:
  id_column: customer_id
  source_column: source_system
  updated_column: updated_at
columns:
  customer_id:
    required: true
  first_name:
    pii: true
    standardise: [trim, title]
  last_name:
    pii: true
    standardise: [trim, title]
  email:
    type: email
    pii: true
    standardise: [trim, lower]
    checks:
      - type: email_valid
        severity: error
        threshold: {threshold}
  city:
    standardise: [trim, title]
derive:
  last_name_key: {{from: last_name, steps: [lower]}}
matching:
  decisions: decisions.csv
  blocking:
    - [last_name_key]
    - [email]
  comparisons:
    - name: first_name
      column: first_name
      levels: [null, exact, {{type: similarity, threshold: 0.85}}, else]
    - name: last_name
      column: last_name
      levels: [null, exact, {{type: similarity, threshold: 0.9}}, else]
    - name: email
      column: email
      levels: [null, exact, else]
    - name: city
      column: city
      levels: [null, exact, else]
  thresholds:
    auto_merge: 0.95
    review: 0.3
  training:
    seed: 7
    u_sample_pairs: 20000
survivorship:
  default: [valid_only, {{source_priority: [erp, crm, webshop]}}, most_recent, most_complete]
  columns:
    first_name: [valid_only, longest]
  keep_together:
    address: [city, updated_at]
"""

FIRST = ["Anna", "Bernd", "Clara", "Dieter", "Eva", "Frank", "Greta", "Hans", "Ines", "Jan"]
LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"]
CITIES = ["Berlin", "Hamburg", "München", "Köln", "Bonn"]
SOURCES = ["erp", "crm", "webshop"]


def customers(n_people: int = 60, seed: int = 1) -> pl.DataFrame:
    """People with one to three records each, in different systems, with typos and case noise."""
    rng = random.Random(seed)
    rows: list[dict[str, str | None]] = []
    for person in range(n_people):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{first.lower()}.{last.lower()}{person}@example.com"
        city = rng.choice(CITIES)
        for copy in range(rng.choice([1, 1, 2, 3])):
            variant = first if copy == 0 else rng.choice([first, first.upper(), first[:-1]])
            rows.append(
                {
                    "customer_id": f"C{len(rows) + 1:05d}",
                    "source_system": SOURCES[(person + copy) % 3],
                    "first_name": f" {variant} ",
                    "last_name": last if copy == 0 else last.lower(),
                    "email": email if rng.random() > 0.1 else "not-an-email",
                    "city": city if rng.random() > 0.2 else None,
                    "updated_at": f"2025-{1 + copy:02d}-{1 + person % 28:02d}T10:00:00",
                }
            )
    return pl.DataFrame(rows)


def write_case(folder: Path, n_people: int = 60, threshold: str = "50%") -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "customers.csv"
    customers(n_people).write_csv(data)
    rules = folder / "rules.yaml"
    rules.write_text(RULES.format(threshold=threshold), encoding="utf-8")
    return data, rules


def crmclean(*args: str | Path) -> tuple[int, list[str]]:
    """Run crmclean in-process: the exit code and the lines of stderr."""
    result = CliRunner().invoke(app, [str(a) for a in args])
    return result.exit_code, result.stderr.strip().splitlines()


def fingerprint(folder: Path, links: bool = True) -> dict[str, str]:
    """Every file under `folder` (hidden ones too) with the sha256 of its bytes; `links=False`
    leaves symbolic links out."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and (links or not p.is_symlink())
    }
