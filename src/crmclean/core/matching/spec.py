"""The `matching:` section of the rule file: blocking rules, comparisons, training, thresholds,
clustering and steward decisions. Specs describe; blocking.py, comparing.py, scoring.py and
clustering.py run them.
"""

from __future__ import annotations

from typing import Annotated, Any

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


class ThresholdSpec(Spec):
    """Match probabilities. The defaults are rules/company.yaml's (docs/matching.md, "Choosing
    thresholds"): merging needs overwhelming evidence, because at a million records the prior
    is one in a million and a wrong merge is harder to undo than a missed one."""

    auto_merge: float = Field(0.997, gt=0, lt=1, description="Merged without review from here")
    review: float = Field(
        0.5,
        ge=0,
        lt=1,
        description="Kept as a candidate pair from here (0: every candidate pair, to inspect)",
    )

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdSpec:
        if self.review > self.auto_merge:
            raise ValueError("review must not exceed auto_merge")
        return self


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
        return self
