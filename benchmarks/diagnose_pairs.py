"""Where the true pairs of a yardstick are lost: not blocked, scored below `review`, scored
below `auto_merge`, or scored above it and cut by a clustering guard; by kind of difference,
by source and by the levels the lost pairs hold (with how many different people hold the same
levels, so a steward sees whether a group is lost by the model or ambiguous in the data).

It reads one `crmclean dedupe` output folder (clean.parquet, clusters.parquet) and the data
folder bench_accuracy.py wrote (truth.parquet, kinds.parquet), re-runs blocking, comparing and
training in-process with the same rule file and seed (so every candidate pair is scored, not
only those above `review`), and prints a report (or `--json`).

    .venv/bin/python benchmarks/bench_accuracy.py --sizes 10k --sets faker --out-dir /tmp/o \\
        --results /tmp/r.json --markdown /tmp/r.md
    .venv/bin/python benchmarks/diagnose_pairs.py /tmp/o/accuracy/faker/10k/dedupe \\
        benchmarks/data/faker-10k-seed7-*/ --rules /tmp/o/accuracy/faker/10k/rules.yaml
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE)]

import accuracy_metrics as am  # noqa: E402

L, R = am.L, am.R
STAGES = ("not blocked", "below review", "below auto_merge", "cut by a guard")


def scored_candidates(
    out: Path, rules: Path, truth: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, Any, Any]:
    """Every candidate pair with its levels (as labels) and match probability; with `truth`,
    also the true pairs blocking missed (`blocked` false), scored by the same model; the rule
    file's matching spec; the model; and the prepared records (their derived keys)."""
    from crmclean.core.matching import PolarsEngine
    from crmclean.core.matching.comparing import CodeCache, compare, comparison_levels
    from crmclean.core.matching.scoring import score, train

    spec, prepared, blocked = am.reblocked(out, rules)
    codes = CodeCache()
    compared = compare(prepared, blocked.pairs, spec.comparisons, codes)
    # the model dedupe trains: through the polars engine (training reads its aggregates)
    engine = PolarsEngine()
    engine.prepare(prepared, spec)
    engine.block(force=True)
    engine.compare()
    model = train(engine, spec, seed=spec.training.seed)
    engine.close()
    ids = prepared.get_column("record_id").cast(pl.String)
    if truth is not None:  # the true pairs blocking missed, compared with the same model
        rows = prepared.select(
            pl.col("record_id").cast(pl.String),
            pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"),
        )
        missed = (
            am.pairs_within(truth, "record_id", "entity_id")
            .join(rows.rename({"record_id": L, "_row": "row_l"}), on=L)
            .join(rows.rename({"record_id": R, "_row": "row_r"}), on=R)
            .select(
                pl.min_horizontal("row_l", "row_r").alias("row_l"),
                pl.max_horizontal("row_l", "row_r").alias("row_r"),
            )
            .join(blocked.pairs.select("row_l", "row_r"), on=["row_l", "row_r"], how="anti")
        )
        extra = compare(prepared, missed, spec.comparisons, codes).with_columns(
            pl.lit(None, dtype=blocked.pairs.schema["_rule"]).alias("_rule"),
            pl.lit(None, dtype=blocked.pairs.schema["_rules"]).alias("_rules"),
            pl.lit(False).alias("blocked"),
        )
        compared = pl.concat(
            [
                compared.with_columns(pl.lit(True).alias("blocked")),
                extra.select([*compared.columns, "blocked"]),
            ]
        )
    else:
        compared = compared.with_columns(pl.lit(True).alias("blocked"))
    scored = score(compared, model)
    labels = [
        pl.col(f"gamma_{c.name}")
        .replace_strict({lv.gamma: lv.label for lv in comparison_levels(c)}, return_dtype=pl.String)
        .alias(c.name)
        for c in spec.comparisons
    ]
    a = ids.gather(scored.get_column("row_l"))
    b = ids.gather(scored.get_column("row_r"))
    frame = scored.select(
        pl.min_horizontal(pl.lit(a), pl.lit(b)).alias(L),
        pl.max_horizontal(pl.lit(a), pl.lit(b)).alias(R),
        "match_probability",
        "blocked",
        *labels,
    )
    keys = _key_columns(spec, prepared)
    frame = frame.with_columns(
        pl.lit(scored.get_column("row_l")).alias("_row_l"),
        pl.lit(scored.get_column("row_r")).alias("_row_r"),
    )
    return frame, spec, (model, prepared.select(keys))


def _key_columns(spec: Any, prepared: pl.DataFrame) -> list[str]:
    """The single-value columns the blocking rules join on (word lists left out)."""
    keys = dict.fromkeys(
        c for rule in spec.blocking for c in rule.columns if c not in rule.any_word
    )
    return [c for c in keys if c in prepared.columns and not prepared.schema[c].is_nested()]


def classify(
    truth: pl.DataFrame, clusters: pl.DataFrame, candidates: pl.DataFrame, spec: Any
) -> pl.DataFrame:
    """Every true pair with its stage: merged, or where it was lost."""
    true_pairs = am.pairs_within(truth, "record_id", "entity_id")
    merged = am.pairs_within(clusters, "record_id", "cluster_id").with_columns(
        pl.lit(True).alias("_merged")
    )
    t = spec.thresholds
    joined = true_pairs.join(candidates, on=[L, R], how="left").join(merged, on=[L, R], how="left")
    p = pl.col("match_probability")
    stage = (
        pl.when(pl.col("_merged").fill_null(False))
        .then(pl.lit("merged"))
        .when(p.is_null())
        .then(pl.lit(STAGES[0]))
        .when(p < t.review)
        .then(pl.lit(STAGES[1]))
        .when(p < t.auto_merge)
        .then(pl.lit(STAGES[2]))
        .otherwise(pl.lit(STAGES[3]))
    )
    return joined.with_columns(stage.alias("stage")).drop("_merged")


def _shares(frame: pl.DataFrame) -> dict[str, Any]:
    n = frame.height
    counts = dict(frame.group_by("stage").len().iter_rows())
    return {
        "true_pairs": n,
        **{s: round(counts.get(s, 0) / max(n, 1), 4) for s in ("merged", *STAGES)},
    }


def by_label(pairs: pl.DataFrame, labels: pl.DataFrame) -> dict[str, dict[str, Any]]:
    labels = labels.select(pl.col("record_id").cast(pl.String), pl.col("label").cast(pl.String))
    tagged = pl.concat(
        [pairs.join(labels.rename({"record_id": side}), on=side) for side in (L, R)]
    ).unique(subset=[L, R, "label"])
    return {
        str(name): _shares(group)
        for (name,), group in sorted(tagged.group_by(["label"]), key=lambda g: str(g[0][0]))
    }


def lost_patterns(
    pairs: pl.DataFrame,
    candidates: pl.DataFrame,
    truth: pl.DataFrame,
    comparisons: list[str],
    auto_merge: float,
    top: int,
) -> list[dict[str, Any]]:
    """The level patterns of true pairs scored below auto_merge, the largest first, with the
    number of candidate pairs of different people holding the same pattern."""
    lost = pairs.filter(pl.col("stage").is_in([STAGES[1], STAGES[2]]))
    entity = truth.select(pl.col("record_id").cast(pl.String), pl.col("entity_id").cast(pl.String))
    false = (
        candidates.join(entity.rename({"record_id": L, "entity_id": "_el"}), on=L)
        .join(entity.rename({"record_id": R, "entity_id": "_er"}), on=R)
        .filter(pl.col("_el") != pl.col("_er"))
    )
    false_counts = false.group_by(comparisons).agg(
        pl.len().alias("false_pairs"),
        (pl.col("match_probability") >= auto_merge).sum().alias("false_above_auto_merge"),
    )
    groups = (
        lost.group_by(comparisons)
        .agg(pl.len().alias("lost_true_pairs"), pl.col("match_probability").median().alias("p"))
        .join(false_counts, on=comparisons, how="left")
        .with_columns(pl.col("false_pairs", "false_above_auto_merge").fill_null(0))
        .sort("lost_true_pairs", descending=True)
        .head(top)
    )
    return groups.to_dicts()


def false_merges(
    clusters: pl.DataFrame,
    candidates: pl.DataFrame,
    truth: pl.DataFrame,
    comparisons: list[str],
    top: int,
) -> list[dict[str, Any]]:
    """Pairs of different people put into one cluster, grouped by their levels (a pair merged
    only through other records, never compared or scored low, shows its own levels or nulls)."""
    merged = am.pairs_within(clusters, "record_id", "cluster_id")
    entity = truth.select(pl.col("record_id").cast(pl.String), pl.col("entity_id").cast(pl.String))
    false = (
        merged.join(entity.rename({"record_id": L, "entity_id": "_el"}), on=L)
        .join(entity.rename({"record_id": R, "entity_id": "_er"}), on=R)
        .filter(pl.col("_el") != pl.col("_er"))
        .join(candidates, on=[L, R], how="left")
    )
    return (
        false.group_by(comparisons)
        .agg(pl.len().alias("false_pairs"), pl.col("match_probability").median().alias("p"))
        .sort("false_pairs", descending=True)
        .head(top)
        .to_dicts()
    )


def missed_by_blocking(
    missed: pl.DataFrame, comparisons: list[str], auto_merge: float, top: int
) -> dict[str, Any]:
    """The true pairs no blocking rule found, scored as if they had been: how many would
    have reached auto_merge directly, and their largest level patterns."""
    groups = (
        missed.group_by(comparisons)
        .agg(pl.len().alias("missed_true_pairs"), pl.col("match_probability").median().alias("p"))
        .sort("missed_true_pairs", descending=True)
        .head(top)
    )
    return {
        "true_pairs": missed.height,
        "would_reach_auto_merge": int((missed.get_column("match_probability") >= auto_merge).sum()),
        "patterns": groups.to_dicts(),
    }


def levels_against_truth(
    candidates: pl.DataFrame, truth: pl.DataFrame, model: Any
) -> list[dict[str, Any]]:
    """Per comparison level: m as learnt beside its share among the true candidate pairs that
    hold the comparison (not null: what m would be if EM were right), and u beside its share
    among the candidate pairs of different people (blocked non-matches: households and
    namesakes, not random pairs). A level whose m is far below its true share weighs one
    customer's records too little."""
    entity = truth.select("record_id", "entity_id")
    flagged = (
        candidates.join(entity.rename({"record_id": L, "entity_id": "_el"}), on=L)
        .join(entity.rename({"record_id": R, "entity_id": "_er"}), on=R)
        .with_columns((pl.col("_el") == pl.col("_er")).alias("_true"))
    )
    rows = []
    for c in model.comparisons:
        labels = [lv.label for lv in c.levels]  # the null level is not among them
        counts = flagged.group_by(c.name, "_true").len().filter(pl.col(c.name).is_in(labels))
        n = {
            flag: int(counts.filter(pl.col("_true") == flag)["len"].sum()) for flag in (True, False)
        }
        for lv in c.levels:
            here = counts.filter(pl.col(c.name) == lv.label)
            true = int(here.filter(pl.col("_true"))["len"].sum())
            false = int(here.filter(~pl.col("_true"))["len"].sum())
            rows.append({
                "comparison": c.name, "level": lv.label, "m": lv.m,
                "true_share": true / n[True] if n[True] else None, "true_pairs": true,
                "u": lv.u, "false_share": false / n[False] if n[False] else None,
                "false_pairs": false,
            })  # fmt: skip
    return rows


def keys_shared_by_missed(missed: pl.DataFrame, keys: pl.DataFrame, top: int) -> dict[str, Any]:
    """The true pairs no rule compared: per blocking key, the share whose two records both hold
    it and the share that agree on it; and the largest sets of keys they agree on. A pair that
    agrees on no key, or only on a name many records share, cannot be found at bounded cost."""
    if missed.height == 0 or not keys.columns:
        return {"true_pairs": missed.height, "keys": {}, "agreeing": []}
    rows = keys.with_row_index("_row")
    both = (
        missed.select("_row_l", "_row_r")
        .join(rows, left_on="_row_l", right_on="_row")
        .join(rows, left_on="_row_r", right_on="_row", suffix="_b")
    )
    agree = both.select(
        (pl.col(k) == pl.col(f"{k}_b")).fill_null(False).alias(k) for k in keys.columns
    )
    held = both.select(
        (pl.col(k).is_not_null() & pl.col(f"{k}_b").is_not_null()).alias(k) for k in keys.columns
    )
    combos = (
        agree.select(
            pl.concat_list(pl.when(pl.col(k)).then(pl.lit(k)) for k in keys.columns)
            .list.drop_nulls()
            .list.join(", ")
            .alias("keys")
        )
        .group_by("keys")
        .len()
        .sort(["len", "keys"], descending=[True, False])
        .head(top)
    )
    return {
        "true_pairs": missed.height,
        "keys": {
            k: {
                "both_hold": round(held[k].mean() or 0.0, 4),
                "agree": round(agree[k].mean() or 0.0, 4),
            }
            for k in keys.columns
        },
        "agreeing": [
            {"keys": keys_ or "(none)", "true_pairs": n} for keys_, n in combos.iter_rows()
        ],
    }


def diagnose(out: Path, data: Path, rules: Path, top: int) -> dict[str, Any]:
    truth = pl.read_parquet(data / "truth.parquet").select(
        pl.col("record_id").cast(pl.String), pl.col("entity_id").cast(pl.String)
    )
    scored, spec, (model, keys) = scored_candidates(out, rules, truth)
    candidates = scored.filter(pl.col("blocked"))
    clusters = pl.read_parquet(out / "clusters.parquet")
    pairs = classify(truth, clusters, candidates, spec)
    report: dict[str, Any] = {"all": _shares(pairs)}
    kinds = data / "kinds.parquet"
    if kinds.exists():
        report["by_kind"] = by_label(pairs, pl.read_parquet(kinds))
    source = spec_source_column(rules)
    if source:
        read = pl.read_parquet(out / "clean.parquet", columns=["record_id", source])
        report["by_source"] = by_label(pairs, read.rename({source: "label"}))
    names = [c.name for c in spec.comparisons]
    report["lost_patterns"] = lost_patterns(
        pairs, candidates, truth, names, spec.thresholds.auto_merge, top
    )
    report["false_merges"] = false_merges(clusters, candidates, truth, names, top)
    report["missed_by_blocking"] = missed_by_blocking(
        scored.filter(~pl.col("blocked")), names, spec.thresholds.auto_merge, top
    )
    report["missed_by_blocking"]["shared_keys"] = keys_shared_by_missed(
        scored.filter(~pl.col("blocked")), keys, top
    )
    report["levels"] = levels_against_truth(candidates, truth, model)
    return report


def spec_source_column(rules: Path) -> str | None:
    from crmclean.config import load_rules

    return load_rules(rules).rules.dataset.source_column


def render(report: dict[str, Any]) -> str:
    lines = ["share of true pairs per stage (merged, " + ", ".join(STAGES) + ")"]

    def row(name: str, s: dict[str, Any]) -> str:
        cells = " ".join(f"{s[k]:>7.3f}" for k in ("merged", *STAGES))
        return f"  {name:<28} {s['true_pairs']:>7} {cells}"

    lines.append(row("all", report["all"]))
    for section in ("by_kind", "by_source"):
        if section in report:
            lines.append(section)
            lines += [row(k, v) for k, v in report[section].items()]
    lines.append("largest groups of true pairs scored below auto_merge (levels | lost | p | false)")
    for g in report["lost_patterns"]:
        levels = " | ".join(
            str(v)
            for k, v in g.items()
            if k not in ("lost_true_pairs", "p", "false_pairs", "false_above_auto_merge")
        )
        lines.append(
            f"  {g['lost_true_pairs']:>5} p={g['p']:.4f} false={g['false_pairs']}"
            f" (>=auto {g['false_above_auto_merge']}): {levels}"
        )
    missed = report["missed_by_blocking"]
    lines.append(
        f"true pairs never compared: {missed['true_pairs']}, of which "
        f"{missed['would_reach_auto_merge']} would reach auto_merge directly; largest patterns:"
    )
    for g in missed["patterns"]:
        levels = " | ".join(str(v) for k, v in g.items() if k not in ("missed_true_pairs", "p"))
        lines.append(f"  {g['missed_true_pairs']:>5} p={g['p']:.4f}: {levels}")
    shared = missed["shared_keys"]
    lines.append("never-compared true pairs: blocking keys both records hold / agree on")
    for k, v in shared["keys"].items():
        lines.append(f"  {k:<28} {v['both_hold']:>7.3f} {v['agree']:>7.3f}")
    lines.append("never-compared true pairs by the keys they agree on (pairs | keys)")
    lines += [f"  {g['true_pairs']:>5} {g['keys']}" for g in shared["agreeing"]]
    lines.append("levels: m learnt / share among true candidate pairs, u / share among false ones")
    for lv in report["levels"]:
        share = ("-" if lv[k] is None else f"{lv[k]:.4f}" for k in ("true_share", "false_share"))
        t, f = share
        lines.append(
            f"  {lv['comparison']:<14} {lv['level'][:34]:<34} m {lv['m']:.4f} / {t}"
            f" ({lv['true_pairs']})   u {lv['u']:.2e} / {f} ({lv['false_pairs']})"
        )
    lines.append(
        "largest groups of falsely merged pairs (false | p | levels; p None: not compared)"
    )
    for g in report["false_merges"]:
        levels = " | ".join(str(v) for k, v in g.items() if k not in ("false_pairs", "p"))
        p = "None" if g["p"] is None else f"{g['p']:.4f}"
        lines.append(f"  {g['false_pairs']:>5} p={p}: {levels}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="a crmclean dedupe output folder")
    parser.add_argument("data", type=Path, help="the data folder (truth.parquet, kinds.parquet)")
    parser.add_argument("--rules", type=Path, required=True, help="the rule file dedupe ran with")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--json", type=Path, help="also write the report here")
    args = parser.parse_args()
    report = diagnose(args.out, args.data, args.rules, args.top)
    print(render(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
