"""A trained model as a plain JSON-ready dict and back; the fingerprint guards reuse.

The dict is what `model.json` holds: the prior, per comparison its levels with m, u and the
Bayes factor, and a fingerprint of the comparisons it was trained for. Loading a model for a rule
file whose comparisons changed is refused: its levels would mean something else.
"""

from __future__ import annotations

from typing import Any

from crmclean.core.matching.household import HouseholdParams
from crmclean.core.matching.scoring import (
    ComparisonParams,
    LevelParams,
    MatchModel,
    fingerprint,
)
from crmclean.core.matching.spec import MatchingSpec
from crmclean.errors import UsageError

FORMAT = "crmclean.match_model"
VERSION = 1


class ModelMismatch(UsageError):
    """A model file that does not fit the rule file (exit 2)."""


def model_to_dict(model: MatchModel) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "fingerprint": model.fingerprint,
        "prior": model.prior,
        "prior_weight": model.prior_weight,
        "comparisons": [
            {
                "name": c.name,
                "column": c.column,
                "tf_gamma": c.tf_gamma,
                "tf_minimum_u": c.tf_minimum_u,
                "tf_scale": c.tf_scale,
                "given_gamma": c.given_gamma,
                "given_u": {
                    name: {str(g): u for g, u in levels.items()}
                    for name, levels in c.given_u.items()
                },
                "levels": [
                    {
                        "gamma": lv.gamma,
                        "label": lv.label,
                        "m": lv.m,
                        "u": lv.u,
                        "bayes_factor": lv.bayes_factor,
                    }
                    for lv in c.levels
                ],
            }
            for c in model.comparisons
        ],
        "household": [
            {
                "prior": k.prior,
                "differ": k.differ,
                "allowed": k.allowed,
                "h": _levels(k.h),
                "blocked_share": k.blocked_share,
                "match_share": k.match_share,
                "unrelated_share": k.unrelated_share,
                "match_m": _levels(k.match_m),
                "unrelated": _levels(k.unrelated),
                "mirrored": k.mirrored,
            }
            for k in model.household
        ],
        "training": model.training,
    }


def model_from_dict(document: Any, spec: MatchingSpec) -> MatchModel:
    """The model in `document`, checked against the rule file's matching section."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelMismatch("not a crmclean match model (no 'format': 'crmclean.match_model')")
    if document.get("version") != VERSION:
        raise ModelMismatch(f"model format version {document.get('version')!r} is not {VERSION}")
    expected = fingerprint(spec)
    if document.get("fingerprint") != expected:
        raise ModelMismatch(
            f"model was trained for other comparisons (fingerprint {document.get('fingerprint')}, "
            f"rule file {expected})",
            hint="retrain without --model, or use the rule file the model was trained with",
        )
    try:
        comparisons = tuple(
            ComparisonParams(
                name=str(c["name"]),
                column=str(c["column"]),
                levels=tuple(
                    LevelParams(int(lv["gamma"]), str(lv["label"]), float(lv["m"]), float(lv["u"]))
                    for lv in c["levels"]
                ),
                tf_gamma=None if c.get("tf_gamma") is None else int(c["tf_gamma"]),
                tf_minimum_u=float(c.get("tf_minimum_u", 1e-5)),
                given_gamma=None if c.get("given_gamma") is None else int(c["given_gamma"]),
                given_u={
                    str(name): {int(g): float(u) for g, u in levels.items()}
                    for name, levels in (c.get("given_u") or {}).items()
                },
                tf_scale=float(c.get("tf_scale", 1.0)),
            )
            for c in document["comparisons"]
        )
        prior = float(document["prior"])
        household = tuple(
            HouseholdParams(
                prior=float(stored["prior"]),
                h=_read_levels(stored["h"]),
                blocked_share=float(stored.get("blocked_share", 0.0)),
                match_share=float(stored.get("match_share", 0.0)),
                unrelated_share=float(stored.get("unrelated_share", 0.0)),
                match_m=_read_levels(stored.get("match_m") or {}),
                unrelated=_read_levels(stored.get("unrelated") or {}),
                mirrored={
                    str(name): [int(g) for g in levels]
                    for name, levels in (stored.get("mirrored") or {}).items()
                },
                differ={
                    str(name): [int(g) for g in gammas]
                    for name, gammas in (stored.get("differ") or {}).items()
                },
                allowed=float(stored.get("allowed", 1.0)),
            )
            for stored in document.get("household") or []
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelMismatch(f"model file is malformed: {exc!r}") from None
    if not 0.0 < prior < 1.0:
        raise ModelMismatch(f"model prior {prior} is not a probability")
    for c in comparisons:
        for lv in c.levels:
            if not (0.0 < lv.m <= 1.0 and 0.0 < lv.u <= 1.0):
                raise ModelMismatch(f"model level {c.name}[{lv.gamma}] has m/u outside (0, 1]")
    for k in household:
        if not 0.0 < k.prior < 1.0:
            raise ModelMismatch(f"model household prior {k.prior} is not a probability")
    return MatchModel(prior, comparisons, expected, dict(document.get("training") or {}), household)


def _levels(shares: dict[str, dict[int, float]]) -> dict[str, dict[str, float]]:
    return {name: {str(g): v for g, v in levels.items()} for name, levels in shares.items()}


def _read_levels(stored: Any) -> dict[str, dict[int, float]]:
    return {
        str(name): {int(g): float(v) for g, v in levels.items()} for name, levels in stored.items()
    }
