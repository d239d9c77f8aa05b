"""rules/company.yaml with only its column names changed, for a yardstick's own column names.

What a new user does first: take the shipped rule file and rename the columns to theirs. Only
references to input columns change (column keys, `from:`, `column:`, `other:`, `columns:`,
`requires_equal:`, blocking keys, dataset.*_column and `expr:` text); derived keys, comparison
names, thresholds and levels stay as they are. The `rollup:` section is left out: the
yardsticks have no orders.

    .venv/bin/python benchmarks/yardsticks/map_rules.py          # rewrite both rule files
    .venv/bin/python benchmarks/yardsticks/map_rules.py --check  # exit 1 when one is stale
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
COMPANY = HERE.parents[1] / "rules" / "company.yaml"

FAKER_COLUMNS = {
    "customer_id": "record_id",
    "source_system": "source",
    "salutation": "title",
    "first_name": "given_name",
    "last_name": "family_name",
    "company": "company_name",
    "email": "email_address",
    "phone": "phone_number",
    "street": "street_address",
    "postcode": "zip_code",
    "city": "town",
    "country": "country_code",
    "date_of_birth": "birth_date",
    "created_at": "created",
    "updated_at": "last_modified",
}
# FEBRL's own names; the columns FEBRL lacks keep company.yaml's names and arrive empty.
FEBRL_COLUMNS = {
    "customer_id": "rec_id",
    "first_name": "given_name",
    "last_name": "surname",
    "street": "address",
    "postcode": "postcode",
    "city": "suburb",
}
RULE_FILES = {
    "faker_rules.yaml": FAKER_COLUMNS,
    "febrl_rules.yaml": FEBRL_COLUMNS,
}
SINGLE_KEYS = {"id_column", "country_column", "source_column", "updated_column", "column",
               "from", "other", "extension_column"}  # fmt: skip
LIST_KEYS = {"columns", "requires_equal", "from"}


def rename(node: Any, names: dict[str, str], key: str | None = None) -> Any:
    """A copy of the parsed rule file with every reference to an input column renamed."""
    if isinstance(node, dict):
        if key == "columns":  # columns: {name: spec} and survivorship.columns
            return {names.get(k, k): rename(v, names) for k, v in node.items()}
        return {k: rename(v, names, k) for k, v in node.items()}
    if isinstance(node, list):
        if key in LIST_KEYS or key == "blocking":
            return [
                rename(v, names, "blocking")
                if isinstance(v, list)
                # a blocking rule written out: {columns: [...], max_block_size: 10}
                else {
                    **v,
                    **{
                        k: [names.get(c, c) for c in v[k]]
                        for k in ("columns", "any_word")
                        if k in v
                    },
                }
                if isinstance(v, dict)
                else names.get(v, v)
                for v in node
            ]
        return [rename(v, names) for v in node]
    if isinstance(node, str):
        if key in SINGLE_KEYS or key == "blocking":
            return names.get(node, node)
        if key == "expr":
            pattern = r"\b(" + "|".join(map(re.escape, names)) + r")\b"
            return re.sub(pattern, lambda m: names[m.group(1)], node)
    return node


def mapped_text(names: dict[str, str], source: Path = COMPANY) -> str:
    document = yaml.safe_load(source.read_text(encoding="utf-8"))
    # the yardsticks measure matching and have no movement data (orders) to roll up
    document.pop("rollup", None)
    header = (
        f"# {'rules/company.yaml' if source == COMPANY else source} with only its column names"
        " changed (written by\n"
        "# benchmarks/yardsticks/map_rules.py; do not edit by hand): "
        + ", ".join(f"{a} -> {b}" for a, b in names.items() if a != b)
        + "\n"
    )
    return header + yaml.safe_dump(rename(document, names), sort_keys=False, allow_unicode=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is out of date")
    args = parser.parse_args()
    stale = []
    for name, names in RULE_FILES.items():
        text = mapped_text(names)
        path = HERE / name
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        sys.exit(f"out of date with rules/company.yaml: {', '.join(stale)} (run map_rules.py)")


if __name__ == "__main__":
    main()
