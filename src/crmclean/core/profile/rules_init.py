"""`rules init`: a complete starting rule file chosen from a profile of the data.

Each column gets a role (first name, e-mail, postcode ...) from its detected type and its name,
in English, German, French, Dutch or Spanish; the role decides its standardisation, its matching
keys and its survivorship, modelled on rules/company.yaml. The matching section is chosen in
rules_init_matching.py from the cleaned keys, so blocking stays within a pairs budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
import polars as pl

from crmclean.core.checks import checks
from crmclean.core.cleaning import clean
from crmclean.core.profile.model import ColumnProfile, Profile
from crmclean.core.profile.roles import ROLES, id_candidates
from crmclean.core.profile.rules_init_matching import BlockingEstimate, matching_section

SPARSE = 0.95  # a column missing in more rows than this identifies nobody: no key, no comparison

SPECIAL = {"email", "phone", "postcode", "country", "date", "datetime", "boolean"}
TYPED_ROLES = {"date_of_birth": "date", "updated": "datetime", "created": "datetime"}
NAME_STEPS = ["nfkc", "remove_control", "trim", "collapse_whitespace", "null_tokens"]
STANDARDISE: dict[str, list[Any]] = {
    "first_name": [*NAME_STEPS, "person_name"],
    "last_name": [*NAME_STEPS, "person_name"],
    "company": NAME_STEPS,
    "city": NAME_STEPS,
    "street": [*NAME_STEPS, {"type": "street", "style": "abbreviate"}],
    "email": ["trim", "null_tokens", "email"],
    "phone": ["trim", "null_tokens", {"type": "phone", "format": "E164"}],
    "postcode": ["trim", "null_tokens", "postcode"],
    "country": ["trim", "null_tokens", "country"],
    "salutation": ["trim", "null_tokens", "salutation"],
    "source": ["trim", "null_tokens", "lower"],
}
TYPE_STEPS: dict[str, list[Any]] = {
    "date": ["trim", "null_tokens", "date"],
    "datetime": ["trim", "null_tokens", "datetime"],
    "email": STANDARDISE["email"],
    "phone": STANDARDISE["phone"],
    "postcode": STANDARDISE["postcode"],
    "country": STANDARDISE["country"],
}
# Matching keys per role, as in company.yaml: (derived name, source role, steps).
DERIVE: list[tuple[str, str, list[str]]] = [
    ("email_key", "email", ["email_key"]),
    ("first_name_key", "first_name", ["nickname", "ascii", "lower"]),
    ("last_name_key", "last_name", ["ascii", "lower"]),
    ("last_name_metaphone", "last_name", ["ascii", "metaphone"]),
    ("last_name_cologne", "last_name", ["cologne"]),
    ("first_name_initial", "first_name", ["initial"]),
    ("dob_iso", "date_of_birth", []),
    ("postcode_key", "postcode", ["alnum"]),
    ("phone_key", "phone", ["digits"]),
    ("city_key", "city", ["ascii", "alnum"]),
]
# Typed checks warn: a starting file reports what it finds; the steward decides what fails.
WARN = "warn"
DECISIONS = "decisions.csv"
ID_CHECKS = ({"type": "not_null", "severity": "error"}, {"type": "unique", "severity": "error"})


@dataclass(frozen=True)
class IdRepeats:
    """An id column whose data already breaks the `unique` check written for it."""

    column: str
    repeated: int  # id values found in more than one row
    rows: int  # the rows holding them


@dataclass(frozen=True)
class RuleInit:
    """The generated rule file as a document, and why it looks as it does."""

    document: dict[str, Any]
    roles: dict[str, str]  # role -> column
    sparse: dict[str, float]  # identifying columns left out of matching: null share
    blocking: list[BlockingEstimate] = field(default_factory=list)
    rows: int = 0
    id_repeats: IdRepeats | None = None  # the id column's repeated values


def detect_roles(columns: list[ColumnProfile], id_column: str | None) -> dict[str, str]:
    """role -> column: each column plays one role, each role is played by its first column."""
    roles: dict[str, str] = {}
    for role, (types, pattern) in ROLES.items():
        for column in columns:
            if column.name == id_column or column.name in roles.values():
                continue
            named = re.search(pattern, column.name.lower()) is not None
            kind = column.semantic_type
            if role in TYPED_ROLES:
                fits = named and kind in ("date", "datetime")
            else:  # the values decide, or the name when the values look like nothing else
                fits = kind in types or (named and kind not in SPECIAL - set(types))
            if fits:
                roles[role] = column.name
                break
    return roles


def init_rules(frame: pl.DataFrame, profile: Profile) -> RuleInit:
    """The rule file for `frame` (as read, record_id optional) from its `profile`."""
    from crmclean.core.rules.rule_file import (
        RuleFile,  # the core builds the file that config checks
    )

    suggested = profile.suggested_rules
    best_id = next(iter(id_candidates(profile.columns, frame.height)), None)
    id_column = best_id.name if best_id else None
    dataset_hint = suggested.get("dataset", {}) | ({"id_column": id_column} if id_column else {})
    roles = detect_roles(profile.columns, id_column)
    by_name = {c.name: c for c in profile.columns}
    sparse = {
        role: by_name[name].null_share
        for role, name in roles.items()
        if role not in ("updated", "created", "source", "salutation", "country")
        and by_name[name].null_share > SPARSE
    }
    present = {role: name for role, name in roles.items() if role not in sparse}
    dates = [c.name for c in profile.columns if c.semantic_type in ("date", "datetime")]
    document: dict[str, Any] = {
        "version": 1,
        "dataset": _dataset(dataset_hint, roles, by_name)
        | {"date_order": _date_order(frame, dates)},
        "columns": _columns(profile, roles, id_column),
        "derive": _derive(present),
    }
    keys = clean(frame, RuleFile.model_validate(document)).frame
    matching, estimates = matching_section(keys, present, frame.height)
    # where `review` writes the steward's decisions, relative to the rule file (company.yaml)
    document["matching"] = matching | {"decisions": DECISIONS}
    document["survivorship"] = _survivorship(roles)
    RuleFile.model_validate(document)  # what is written must load
    repeats = _id_repeats(frame, id_column) if id_column else None
    return RuleInit(document, roles, sparse, estimates, frame.height, repeats)


def _id_repeats(frame: pl.DataFrame, column: str) -> IdRepeats | None:
    """How far the data as read already breaks the id column's `unique` (ids trimmed, as the
    column's standardisation does)."""
    ids = frame.get_column(column).cast(pl.String).str.strip_chars()
    repeated = ids.filter(ids.is_duplicated())
    return IdRepeats(column, repeated.n_unique(), repeated.len()) if repeated.len() else None


def _dataset(
    hint: dict[str, Any], roles: dict[str, str], by_name: dict[str, ColumnProfile]
) -> dict[str, Any]:
    dataset: dict[str, Any] = {}
    if hint.get("id_column"):
        dataset["id_column"] = hint["id_column"]
    for key, role in [
        ("country_column", "country"),
        ("source_column", "source"),
        ("updated_column", "updated"),
    ]:
        if role in roles:
            dataset[key] = roles[role]
    dataset["default_region"] = _region(by_name.get(roles.get("country", "")))
    if "null_tokens" in hint:
        dataset["null_tokens"] = hint["null_tokens"]
    return dataset


# 25/12/1980 can only be day-first, 12/25/1980 only month-first; 03/04/1980 tells nothing.
_DAY_FIRST = r"^\s*(?:1[3-9]|2[0-9]|3[01])/(?:0?[1-9]|1[0-2])/[0-9]{2,4}"
_MONTH_FIRST = r"^\s*(?:0?[1-9]|1[0-2])/(?:1[3-9]|2[0-9]|3[01])/[0-9]{2,4}"


def _date_order(frame: pl.DataFrame, columns: list[str]) -> str:
    """mdy when slashed dates that can only be month-first outnumber day-first ones."""
    if not columns:
        return "dmy"
    text = [pl.col(c).cast(pl.String) for c in columns]
    counts = frame.select(
        pl.sum_horizontal(v.str.contains(_DAY_FIRST).sum() for v in text).alias("dmy"),
        pl.sum_horizontal(v.str.contains(_MONTH_FIRST).sum() for v in text).alias("mdy"),
    ).row(0, named=True)
    return "mdy" if (counts["mdy"] or 0) > (counts["dmy"] or 0) else "dmy"


def _region(country: ColumnProfile | None) -> str:
    """The commonest country when it is an ISO code phonenumbers knows; DE otherwise."""
    for value in country.top_values if country else []:
        code = (value.value or "").strip().upper()
        if code in phonenumbers.SUPPORTED_REGIONS:
            return code
    return "DE"


def _columns(profile: Profile, roles: dict[str, str], id_column: str | None) -> dict[str, Any]:
    role_of = {name: role for role, name in roles.items()}
    suggested = profile.suggested_rules.get("columns", {})
    out: dict[str, Any] = {}
    for column in profile.columns:
        spec: dict[str, Any] = {}
        kind = column.semantic_type
        role = role_of.get(column.name)
        if kind in TYPE_STEPS or kind in ("integer", "decimal", "boolean"):
            spec["type"] = kind
        if column.name == id_column:
            # errors, not warnings: a missing or repeated id stops `run`, so validate says so
            spec.update(standardise=["trim"], checks=[*ID_CHECKS])
        elif role in STANDARDISE:
            spec["standardise"] = STANDARDISE[role]
        elif kind == "date" and "country" in roles:  # US rows are month-first whatever the file
            spec["standardise"] = [
                "trim",
                "null_tokens",
                {"type": "date", "country_order": {"US": "mdy"}},
            ]
        elif kind in TYPE_STEPS:
            spec["standardise"] = TYPE_STEPS[kind]
        else:
            spec["standardise"] = ["trim", "null_tokens"]
        if column.pii or role in ("first_name", "last_name", "street", "date_of_birth"):
            spec["pii"] = True
        found = [
            _warn(c)
            for c in suggested.get(column.name, {}).get("checks", [])
            if column.name != id_column and _name(c) not in ("not_null", "unique")
        ]
        found = _role_checks(role, found)
        if found:
            spec["checks"] = spec.get("checks", []) + found
        out[column.name] = spec
    return out


def _role_checks(role: str | None, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a column's role adds to or takes from the checks its values suggested."""
    names = {c["type"] for c in found}
    if role == "country":  # the country standardiser's own check, not the spellings seen
        found = [c for c in found if c["type"] != "allowed_values"]
        if "country_valid" not in names and "country_valid" in checks:
            found.append({"type": "country_valid", "severity": WARN})
    if role == "date_of_birth" and "not_in_future" in checks and "not_in_future" not in names:
        # nobody is born tomorrow: an error, as in company.yaml, so no golden record keeps it
        found.append({"type": "not_in_future", "severity": "error"})
    return found


def _name(check: str | dict[str, Any]) -> str:
    return check if isinstance(check, str) else str(check["type"])


def _warn(check: str | dict[str, Any]) -> dict[str, Any]:
    spec = {"type": check} if isinstance(check, str) else dict(check)
    return {**spec, "severity": WARN}


def _derive(roles: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, role, steps in DERIVE:
        if role in roles:
            out[name] = {"from": roles[role], **({"steps": steps} if steps else {})}
    # the words of the name and the names the e-mail spells, for token blocking
    words = [k for k in ("first_name_key", "last_name_key") if k in out]
    if words:
        sources = words + ([roles["email"]] if "email" in roles else [])
        out["name_words"] = {"from": sources, "steps": ["name_words"]}
        out["name_pairs"] = {"from": "name_words", "steps": ["word_pairs"]}
    return out


def _survivorship(roles: dict[str, str]) -> dict[str, Any]:
    """As company.yaml, minus source priorities: only the steward knows which system to trust."""
    recent = ["most_recent"] if "updated" in roles else []
    default = ["valid_only", *recent, "most_complete"]
    columns: dict[str, Any] = {}
    if "first_name" in roles:
        columns[roles["first_name"]] = ["valid_only", "longest"]
    for role in ("email", "phone"):
        if role in roles:
            columns[roles[role]] = ["valid_only", *recent, "most_frequent"]
    if "created" in roles:
        columns[roles["created"]] = ["min"]
    if "updated" in roles:
        columns[roles["updated"]] = ["max"]
    address = [roles[r] for r in ("street", "postcode", "city", "country") if r in roles]
    section: dict[str, Any] = {"default": default, "columns": columns}
    if len(address) > 1:
        section["keep_together"] = {
            "address": {
                "columns": address,
                "strategies": ["valid_only", "most_complete", *recent],
            }
        }
    return section
