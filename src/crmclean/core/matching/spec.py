"""The `matching:` section of the rule file: blocking rules, comparisons, training, thresholds,
clustering and steward decisions. Specs describe; blocking.py, comparing.py, scoring.py and
clustering.py run them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from crmclean.core.matching.comparators import LevelUnion
from crmclean.core.spec import Spec


def _null_level(value: Any) -> Any:
    # `- null` (and `type: null`) in YAML is None; it means the null level, not "no level".
    if value is None:
        return "null"
    if isinstance(value, dict) and "type" in value and value["type"] is None:
        return {**value, "type": "null"}
    return value


Level = Annotated[LevelUnion, BeforeValidator(_null_level)]


class BlockingRule(Spec):
    """Pairs of records whose listed (derived) columns are all equal and non-empty."""

    columns: list[str] = Field(min_length=1)
    name: str | None = Field(None, description="Shown in reports; defaults to the column list")
    max_pairs: int | None = Field(
        None, gt=0, description="Refuse the rule above this many pairs (overrides the default)"
    )
    max_block_size: int | None = Field(
        None,
        gt=1,
        description="Skip this rule's blocks above this many records (overrides the default): "
        "a key of names alone is evidence only while few records share it",
    )

    any_word: list[str] = Field(
        default_factory=list,
        description="Columns holding words (name_words, word_pairs): a record joins one block "
        "per word, so records meet when they share any one word (token blocking)",
    )

    @model_validator(mode="after")
    def _words_listed(self) -> BlockingRule:
        unknown = [c for c in self.any_word if c not in self.columns]
        if unknown:
            raise ValueError(
                "any_word names columns that are not in the rule's columns: " + ", ".join(unknown)
            )
        return self

    @property
    def label(self) -> str:
        return self.name or "[" + ", ".join(self.columns) + "]"


def _blocking_shorthand(value: Any) -> Any:
    # `- [email_key]` and `- email_key` are the short forms of `- {columns: [email_key]}`.
    if isinstance(value, str):
        return {"columns": [value]}
    if isinstance(value, list):
        return {"columns": value}
    return value


class ComparisonSpec(Spec):
    """One field compared between the two records of a pair, as an ordered list of levels.

    Levels go from strongest agreement to weakest; the first that holds wins. A `null` level
    (either side missing) is implied first when not listed; `else` is implied last.
    """

    name: str
    column: str
    levels: list[Level] = Field(min_length=1)
    term_frequency: bool = Field(
        False, description="Common values weigh less on an exact match (e.g. common surnames)"
    )
    tf_minimum_u: float = Field(
        1e-5, gt=0, le=1, description="Floor on a value's frequency in the adjustment"
    )
    blocked_by: list[str] = Field(
        default_factory=list,
        description="Blocking columns derived from this field (training ignores it on them)",
    )
    conditional_u: list[str] = Field(
        default_factory=list,
        description="Comparisons derived from the same facts (an e-mail address made of the "
        "name): where this field agrees exactly, they are weighed against non-matching pairs "
        "that share its value (learned in the training session of the blocking rule on this "
        "field alone) instead of against random pairs",
    )

    @field_validator("name")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not value.replace("_", "a").isalnum():
            raise ValueError("a comparison name may hold only letters, digits and '_'")
        return value

    @model_validator(mode="after")
    def _levels_in_order(self) -> ComparisonSpec:
        types = [level.type for level in self.levels]
        if "null" in types[1:]:
            raise ValueError("the null level must come first")
        if "else" in types[:-1]:
            raise ValueError("the else level must come last")
        return self


class HouseholdSpec(Spec):
    """A third class of pairs, different people of one household (docs/matching.md)."""

    shared: list[str] = Field(
        min_length=1,
        description="Comparisons a household's members agree on (last name, address or phone)",
    )
    differ: list[str] = Field(
        min_length=1,
        description="Comparisons on which at least one disagrees (first name, birth date)",
    )


class TrainingSpec(Spec):
    """How the model learns without labels."""

    seed: int = 42
    u_sample_pairs: int = Field(
        300_000, gt=0, description="Random record pairs sampled to estimate u probabilities"
    )
    em_max_pairs: int = Field(
        1_000_000, gt=0, description="Blocked pairs sampled per training session"
    )
    em_max_iterations: int = Field(50, gt=0)
    em_tolerance: float = Field(1e-5, gt=0)
    blocking: list[str] | None = Field(
        None, description="Blocking rules (by label) to train on; all of them by default"
    )
    prior: float | None = Field(
        None, gt=0, lt=1, description="Fix the probability that two random records match"
    )
    household: HouseholdSpec | None = Field(
        None, description="Learn a household class beside match and unrelated (three classes)"
    )


class AutoMergeTarget(Spec):
    """`auto_merge: {precision: 0.98}`: the threshold chosen per data set from the model's own
    estimate of precision (threshold_choice.py, docs/matching.md "Choosing thresholds")."""

    precision: float = Field(
        gt=0.5, lt=1, description="Expected share of merged pairs that are one customer"
    )
    floor: float = Field(0.5, gt=0, lt=1, description="Never merge below this probability")
    ceiling: float = Field(
        0.999, gt=0, lt=1, description="Merge from here when the target is never reached"
    )

    @model_validator(mode="after")
    def _bounded(self) -> AutoMergeTarget:
        if self.floor > self.ceiling:
            raise ValueError("floor must not exceed ceiling")
        return self


class ThresholdSpec(Spec):
    """Match probabilities. The defaults are rules/company.yaml's (docs/matching.md, "Choosing
    thresholds"): merging needs overwhelming evidence, because at a million records the prior
    is one in a million and a wrong merge is harder to undo than a missed one."""

    auto_merge: float | AutoMergeTarget = Field(
        0.997,
        description="Merged without review from here: a probability in (0, 1), or "
        "{precision: 0.98} to choose it from the model's estimate of precision",
    )
    review: float = Field(
        0.5,
        ge=0,
        lt=1,
        description="Kept as a candidate pair from here (0: every candidate pair, to inspect)",
    )

    @field_validator("auto_merge")
    @classmethod
    def _probability(cls, value: float | AutoMergeTarget) -> float | AutoMergeTarget:
        if isinstance(value, float) and not 0.0 < value < 1.0:
            raise ValueError("must be a probability between 0 and 1 (exclusive)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdSpec:
        if self.review > self.merge_at:
            where = (
                "auto_merge.floor" if isinstance(self.auto_merge, AutoMergeTarget) else "auto_merge"
            )
            raise ValueError(f"review must not exceed {where}")
        return self

    @property
    def merge_at(self) -> float:
        """The merge threshold: the fixed number, or (until dedupe chose one) the target's floor."""
        if isinstance(self.auto_merge, AutoMergeTarget):
            return self.auto_merge.floor
        return self.auto_merge


class ClusteringSpec(Spec):
    max_cluster_size: int = Field(
        25, ge=2, description="Larger clusters are split at rising thresholds and reported"
    )
    min_density: float = Field(
        0.6,
        ge=0,
        le=1,
        description="A cluster of 4+ records linked by fewer of its possible pairs is split",
    )
    bridge_probability: float = Field(
        0.99,
        gt=0,
        le=1,
        description="A single edge below this joining two groups is cut and sent to review",
    )


class MatchingSpec(Spec):
    """The whole `matching:` section."""

    blocking: list[Annotated[BlockingRule, BeforeValidator(_blocking_shorthand)]] = Field(
        min_length=1, max_length=32
    )
    comparisons: list[ComparisonSpec] = Field(min_length=1)
    max_pairs_per_rule: int = Field(
        20_000_000, gt=0, description="A blocking rule above this is refused unless --force"
    )
    max_block_size: int = Field(
        2_000, gt=1, description="Blocks with more records are skipped and reported"
    )
    thresholds: ThresholdSpec = Field(default_factory=ThresholdSpec)
    training: TrainingSpec = Field(default_factory=TrainingSpec)
    clustering: ClusteringSpec = Field(default_factory=ClusteringSpec)
    decisions: str | None = Field(
        None, description="CSV of steward decisions (record_id_l, record_id_r, decision)"
    )
    mode: Literal["dedupe", "link_only", "link_and_dedupe"] = Field(
        "dedupe",
        description="With sources: link_only compares records of different sources only",
    )

    @model_validator(mode="after")
    def _unique_names(self) -> MatchingSpec:
        names = [c.name for c in self.comparisons]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError("comparison names must be unique: " + ", ".join(twice))
        labels = [b.label for b in self.blocking]
        twice = sorted({n for n in labels if labels.count(n) > 1})
        if twice:
            raise ValueError("blocking rules must be distinct: " + ", ".join(twice))
        if self.training.blocking is not None:
            unknown = [b for b in self.training.blocking if b not in labels]
            if unknown:
                raise ValueError(
                    "training.blocking names unknown rules: "
                    + ", ".join(unknown)
                    + " (known: "
                    + ", ".join(labels)
                    + ")"
                )
        household = self.training.household
        if household is not None:
            unknown = [n for n in household.shared + household.differ if n not in names]
            if unknown:
                raise ValueError(
                    "training.household names unknown comparisons: "
                    + ", ".join(unknown)
                    + " (known: "
                    + ", ".join(names)
                    + "; name yours, or `household: null` to train without the class)"
                )
        return self
