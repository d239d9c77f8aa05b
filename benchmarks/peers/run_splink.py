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

from _measure import Stopwatch, emit, peak_rss_mb

# The light cleaning a user of the tutorials writes in SQL before linking, after a look at
# profile_columns: placeholder values ("n/a", "NULL", "-") and sentinels the profile shows
# at the top (1900-01-01 birthdays, 00000 postcodes, e-mails without a user part) to null;
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

PREPARE_SQL = """
with cleaned as (
    select
        {record_id} as record_id,
        lower(present(first_name)) as first_name,
        lower(present(last_name)) as last_name,
        lower(present(company)) as company,
        lower(present(email)) as email,
        nullif(right(regexp_replace(present(phone), '[^0-9]', '', 'g'), 9), '') as phone,
        nullif(regexp_replace(lower(present(street)), '\\s+', ' ', 'g'), '') as street,
        nullif(upper(regexp_replace(present(postcode), '\\s', '', 'g')), '') as postcode,
        lower(present(city)) as city,
        cast(coalesce(
            try_strptime(present(date_of_birth), '%Y-%m-%d'),
            try_strptime(present(date_of_birth), '%d.%m.%Y'),
            try_strptime(present(date_of_birth), '%d/%m/%Y'),
            try_strptime(present(date_of_birth), '%m/%d/%Y'),
            try_strptime(present(date_of_birth), '%Y/%m/%d'),
            try_strptime(present(date_of_birth), '%Y%m%d')
        ) as date) as dob
    from read_parquet('{path}')
)
select
    * replace (
        case when regexp_matches(email, '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$') then email end as email,
        case when not regexp_matches(postcode, '^0+$') then postcode end as postcode,
        case when dob > date '1900-01-01' then dob end as dob
    ),
    first_name || ' ' || last_name as first_name_surname_concat
from cleaned
"""


def build_settings(block_on, cl, settings_creator):  # type: ignore[no-untyped-def]
    blocking_rules = [
        block_on("email"),
        block_on("phone"),
        block_on("last_name", "dob"),
        block_on("first_name", "dob"),
        block_on("postcode", "last_name"),
        block_on("postcode", "first_name"),
        block_on("substr(first_name,1,3)", "substr(last_name,1,3)", "city"),
    ]
    comparisons = [
        cl.ForenameSurnameComparison(
            "first_name",
            "last_name",
            forename_surname_concat_col_name="first_name_surname_concat",
        ),
        cl.DateOfBirthComparison("dob", input_is_string=False),
        cl.EmailComparison("email"),
        cl.LevenshteinAtThresholds("phone", [1, 2]),
        cl.LevenshteinAtThresholds("postcode", [1]).configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("street", [0.95, 0.88]),
        cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("company", [0.95, 0.88]),
    ]
    return settings_creator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        blocking_rules_to_generate_predictions=blocking_rules,
        comparisons=comparisons,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="customers.parquet")
    parser.add_argument("--out", type=Path, required=True, help="clusters parquet to write")
    parser.add_argument("--id-column", default="customer_id")
    parser.add_argument(
        "--threshold", type=float, default=0.95, help="cluster at this match_probability"
    )
    parser.add_argument("--u-max-pairs", type=float, default=1e7)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

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
        else f"cast({args.id_column} as varchar)"
    )
    prepared = con.sql(PREPARE_SQL.format(record_id=record_id, path=args.input))
    db_api = DuckDBAPI(connection=con)
    records = db_api.register(prepared)
    linker = Linker(
        records, build_settings(block_on, cl, SettingsCreator), log_level=logging.WARNING
    )
    clock.lap("prepare")

    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("first_name", "last_name", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=args.u_max_pairs, seed=args.seed)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("last_name", "dob"), estimate_without_term_frequencies=True
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("email"), estimate_without_term_frequencies=True
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
            "pairs_scored_above_0_5": n_pairs,
            "wall_s": clock.total(),
            "peak_rss_mb": peak_rss_mb(),
            "stages": clock.stages,
        }
    )


if __name__ == "__main__":
    main()
