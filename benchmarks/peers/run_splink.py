"""Deduplicate customers.parquet with Splink 5 (DuckDB), the way its tutorials do.

Run with the benchmark virtualenv: .bench-venv/bin/python benchmarks/peers/run_splink.py
Writes clusters (record_id, cluster_id) as parquet and prints one JSON line with wall time,
peak RSS and stage timings. The model follows the Splink 5 DuckDB examples
(deduplicate_50k_synthetic, febrl3): light cleaning in SQL, the library's named comparisons,
a direct estimate of the prior from deterministic rules, u by random sampling, m by EM on two
blocking rules, predict, connected components at a probability threshold.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from _columns import PLACEHOLDER_FACTOR, PLACEHOLDER_MIN_COUNT, duckdb_source, parse_columns
from _measure import Stopwatch, emit, peak_rss_mb

# The light cleaning a user of the tutorials writes in SQL before linking, after a look at
# profile_columns: placeholder words ("n/a", "NULL", "-") and sentinels (1900-01-01 birthdays,
# 00000 postcodes, e-mails without a user part) to null, and then whatever else the profile
# shows far above chance in e-mail, phone and date of birth (PROFILED, one rule for every set);
# case and whitespace; digits-only phones (last 9 digits, so +49/0049/0 prefixes agree);
# postcodes without blanks; dates of birth parsed from the usual written forms (day first,
# then month first); the forename-surname concatenation the tutorials add for term
# frequencies.
PLACEHOLDER_MACRO = """
create or replace macro present(x) as
    case when lower(trim(x)) in ('', 'null', 'none', 'n/a', 'na', '-', '?', 'xxx', 'k.a.',
                                 'unknown', 'unbekannt')
         then null else trim(x) end
"""

# One cleaning expression per role, over that role's input column `{c}`; a role the data set
# lacks is left out of the prepared table.
CLEAN_SQL = {
    "first_name": "lower(present({c}))",
    "last_name": "lower(present({c}))",
    "company": "lower(present({c}))",
    "email": "lower(present({c}))",
    "phone": "nullif(right(regexp_replace(present({c}), '[^0-9]', '', 'g'), 9), '')",
    "street": "nullif(regexp_replace(lower(present({c})), '\\s+', ' ', 'g'), '')",
    "postcode": "nullif(upper(regexp_replace(present({c}), '\\s', '', 'g')), '')",
    "city": "lower(present({c}))",
    "date_of_birth": """cast(coalesce(
            try_strptime(present({c}), '%Y-%m-%d'),
            try_strptime(present({c}), '%d.%m.%Y'),
            try_strptime(present({c}), '%d/%m/%Y'),
            try_strptime(present({c}), '%m/%d/%Y'),
            try_strptime(present({c}), '%Y/%m/%d'),
            try_strptime(present({c}), '%Y%m%d')
        ) as date)""",
}
# Prepared-table names: the roles', except the date of birth, which the tutorials call dob.
PREPARED = {role: role for role in CLEAN_SQL} | {"date_of_birth": "dob"}
# Second pass: the sentinels to null (e-mails without a user part, all-zero postcodes, the
# 1900-01-01 birthday).
SENTINEL_SQL = {
    "email": "case when regexp_matches(email, '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$') then email end",
    "postcode": "case when not regexp_matches(postcode, '^0+$') then postcode end",
    "date_of_birth": "case when dob > date '1900-01-01' then dob end",
}
# The profile step (_columns.placeholders, the same rule in SQL): in these roles a value far
# more frequent than chance is a placeholder and becomes null.
PROFILED = ("email", "phone", "date_of_birth")
NULL_FREQUENT = f"""
select {{c}}, count(*) from prepared where {{c}} is not null group by {{c}}
having count(*) > greatest({PLACEHOLDER_MIN_COUNT}, {PLACEHOLDER_FACTOR} *
    (select count({{c}}) / count(distinct {{c}}) from prepared))
"""
# Blocking rules for predictions and the rules of the prior and of EM, each with the roles it
# needs; a rule whose roles are not all present is dropped.
PREDICTION_RULES = (
    (("email",), ("email",)),
    (("phone",), ("phone",)),
    (("last_name", "date_of_birth"), ("last_name", "dob")),
    (("first_name", "date_of_birth"), ("first_name", "dob")),
    (("postcode", "last_name"), ("postcode", "last_name")),
    (("postcode", "first_name"), ("postcode", "first_name")),
    (
        ("first_name", "last_name", "city"),
        ("substr(first_name,1,3)", "substr(last_name,1,3)", "city"),
    ),
)
PRIOR_RULES = (
    (("email",), ("email",)),
    (("first_name", "last_name", "date_of_birth"), ("first_name", "last_name", "dob")),
)
# EM: one session blocked on surname and date of birth, one on the e-mail address; where there
# is no e-mail, on the phone, else the postcode: the docs' advice is that every comparison is
# estimated in at least one session, so the second session must not block on names or dob.
EM_FIRST = (("last_name", "date_of_birth"), ("last_name", "dob"))
EM_SECOND = ((("email",), ("email",)), (("phone",), ("phone",)), (("postcode",), ("postcode",)))


def prepare_sql(columns: dict[str, str], record_id: str, source: str) -> str:
    """The cleaning query for the roles present (columns: role -> input column)."""
    selects = [f"{record_id} as record_id"]
    for role, expression in CLEAN_SQL.items():
        if role in columns:
            quoted = '"' + columns[role].replace('"', '""') + '"'
            selects.append(f"{expression.format(c=quoted)} as {PREPARED[role]}")
    replaced = [
        f"{sql} as {PREPARED[role]}" for role, sql in SENTINEL_SQL.items() if role in columns
    ]
    star = f"* replace ({', '.join(replaced)})" if replaced else "*"
    concat = (
        ",\n    first_name || ' ' || last_name as first_name_surname_concat"
        if {"first_name", "last_name"} <= set(columns)
        else ""
    )
    body = ",\n        ".join(selects)
    cleaned = f"with cleaned as (\n    select\n        {body}\n    from {source}\n)"
    return f"{cleaned}\nselect {star}{concat}\nfrom cleaned"


def rules_for(rules, columns, block_on):  # type: ignore[no-untyped-def]
    return [block_on(*args) for needs, args in rules if set(needs) <= set(columns)]


def build_settings(block_on, cl, settings_creator, columns):  # type: ignore[no-untyped-def]
    present = set(columns)
    comparisons = []
    if {"first_name", "last_name"} <= present:
        comparisons.append(
            cl.ForenameSurnameComparison(
                "first_name",
                "last_name",
                forename_surname_concat_col_name="first_name_surname_concat",
            )
        )
    optional = {
        "date_of_birth": lambda: cl.DateOfBirthComparison("dob", input_is_string=False),
        "email": lambda: cl.EmailComparison("email"),
        "phone": lambda: cl.LevenshteinAtThresholds("phone", [1, 2]),
        "postcode": lambda: cl.LevenshteinAtThresholds("postcode", [1]).configure(
            term_frequency_adjustments=True
        ),
        "street": lambda: cl.JaroWinklerAtThresholds("street", [0.95, 0.88]),
        "city": lambda: cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        "company": lambda: cl.JaroWinklerAtThresholds("company", [0.95, 0.88]),
    }
    comparisons += [make() for role, make in optional.items() if role in present]
    return settings_creator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        blocking_rules_to_generate_predictions=rules_for(PREDICTION_RULES, columns, block_on),
        comparisons=comparisons,
    )


def describe(columns: dict[str, str]) -> dict[str, list[str]]:
    """The model as configured for these roles, for the results (what ran, not what could)."""
    present = set(columns)

    def shown(rules: Any) -> list[str]:
        return [" & ".join(args) for needs, args in rules if set(needs) <= present]

    second = next((rule for rule in EM_SECOND if set(rule[0]) <= present), None)
    comparisons = (
        ["ForenameSurname(first_name, last_name; tf)"]
        if {
            "first_name",
            "last_name",
        }
        <= present
        else []
    )
    comparisons += [text for role, text in COMPARISON_NAMES.items() if role in present]
    return {
        "comparisons": comparisons,
        "prediction_blocking": shown(PREDICTION_RULES),
        "prior_rules": shown(PRIOR_RULES),
        "em_sessions": shown([EM_FIRST, *([second] if second else [])]),
    }


COMPARISON_NAMES = {
    "date_of_birth": "DateOfBirth(dob)",
    "email": "Email(email)",
    "phone": "Levenshtein(phone; 1, 2)",
    "postcode": "Levenshtein(postcode; 1; tf)",
    "street": "JaroWinkler(street; 0.95, 0.88)",
    "city": "Exact(city; tf)",
    "company": "JaroWinkler(company; 0.95, 0.88)",
}


def em_rules(columns, block_on):  # type: ignore[no-untyped-def]
    second = next(([rule] for rule in EM_SECOND if set(rule[0]) <= set(columns)), [])
    return rules_for([EM_FIRST, *second], columns, block_on)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="customers.parquet or .csv (read as text)")
    parser.add_argument("--out", type=Path, required=True, help="clusters parquet to write")
    parser.add_argument("--id-column", default="customer_id")
    parser.add_argument(
        "--threshold", type=float, default=0.95, help="cluster at this match_probability"
    )
    parser.add_argument("--u-max-pairs", type=float, default=1e7)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--columns", help="JSON role -> column; roles left out are absent")
    args = parser.parse_args()
    columns = parse_columns(args.columns)

    clock = Stopwatch()
    import duckdb
    import splink
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    clock.lap("import")
    con = duckdb.connect()
    con.sql(PLACEHOLDER_MACRO)
    record_id = (
        "cast(row_number() over () as varchar)"  # truth ids are 1-based row numbers
        if args.id_column == "__row_number__"
        else f'cast("{args.id_column}" as varchar)'
    )
    con.execute(
        f"create table prepared as {prepare_sql(columns, record_id, duckdb_source(args.input))}"
    )
    nulled = {}
    for column in (PREPARED[r] for r in PROFILED if r in columns):
        frequent = NULL_FREQUENT.format(c=column)
        nulled[column] = [str(value) for value, _ in con.execute(frequent).fetchall()]
        con.execute(
            f"update prepared set {column} = null where {column} in "
            f"(select {column} from ({frequent}))"
        )
    db_api = DuckDBAPI(connection=con)
    records = db_api.register(con.table("prepared"))
    linker = Linker(
        records, build_settings(block_on, cl, SettingsCreator, columns), log_level=logging.WARNING
    )
    clock.lap("prepare")

    linker.training.estimate_probability_two_random_records_match(
        rules_for(PRIOR_RULES, columns, block_on), recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=args.u_max_pairs, seed=args.seed)
    for rule in em_rules(columns, block_on):
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    clock.lap("train")

    predictions = linker.inference.predict(threshold_match_probability=min(args.threshold, 0.5))
    clock.lap("predict")
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=args.threshold
    )
    relation = clusters.as_duckdbpyrelation()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    relation.select("record_id, cast(cluster_id as varchar) as cluster_id").write_parquet(
        str(args.out)
    )
    n_pairs = predictions.as_duckdbpyrelation().count("*").fetchall()[0][0]
    clock.lap("cluster")

    emit(
        {
            "tool": "splink",
            "version": splink.__version__,
            "duckdb": duckdb.__version__,
            "threshold": args.threshold,
            "columns": columns,
            "config": describe(columns),
            "placeholders_nulled": {c: [str(v) for v in vs] for c, vs in nulled.items()},
            "pairs_scored_above_0_5": n_pairs,
            "wall_s": clock.total(),
            "peak_rss_mb": peak_rss_mb(),
            "stages": clock.stages,
        }
    )


if __name__ == "__main__":
    main()
