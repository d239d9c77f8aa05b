"""Load a rule file: YAML with positions -> extends/vars -> pydantic models, errors all at once."""

from __future__ import annotations

import hashlib
import json
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import BaseModel, ValidationError

from crmclean.config.yaml_source import Located, Path_, read_with_extends, substitute_vars
from crmclean.core.registry import did_you_mean_hint
from crmclean.core.rules.rule_file import RuleFile, with_sources
from crmclean.errors import ConfigError, ConfigIssue, UsageError
from crmclean.io.database_url import looks_like_url, parse_database_url
from crmclean.io.env_values import remember, scrub, scrub_frame
from crmclean.io.named_files import is_url


@dataclass(frozen=True)
class LoadedRules:
    """A validated rule file and where it came from."""

    rules: RuleFile
    path: Path
    files: tuple[str, ...]
    digest: str  # sha256 of the merged, substituted content, `${env.X}` values left out
    located: Located
    env_values: dict[str, str] = field(default_factory=dict)  # never written to an output

    def scrub(self, obj: Any) -> Any:
        """A summary or report with the rule file's `${env.X}` values put back as `${env.X}`."""
        return scrub(obj, self.env_values)

    def scrub_violations(self, violations: pl.DataFrame) -> pl.DataFrame:
        """Violations whose messages and rule ids carry no `${env.X}` value; the data's own
        cells (`value`, `record_id`) stay as they are: a customer whose country is the value of
        an env variable is data, not the secret."""
        data = {"value", "record_id"}
        text = [n for n in violations.columns if n not in data]
        return scrub_frame(violations, text, self.env_values)

    def where(self, path: Path_) -> str:
        """`file:line:col` of a YAML path, for errors raised after loading (missing columns...)."""
        pos = self.located.where(path)
        if pos is None:
            return str(self.path)
        return f"{pos[0]}:{pos[1]}:{pos[2]}"

    def issue(self, path: Path_, problem: str, hint: str | None = None) -> ConfigIssue:
        pos = self.located.where(path)
        file, line, col = pos if pos else (str(self.path), None, None)
        return ConfigIssue(
            file, line, col, _fmt(path), quoted_safely(problem, file, self.path), hint
        )


def load_rules(path: str | Path, environ: dict[str, str] | None = None) -> LoadedRules:
    path = Path(path)
    located = read_with_extends(path)
    env_values = substitute_vars(located, environ)
    remember(env_values)  # kept out of everything the command prints from here on
    rules = with_sources(_validated(located, path))
    _refuse_url_decisions(rules, located)
    _check_source_urls(rules, located)
    # the digest pins the rules, not the environment: a secret must not be recoverable from it
    plain = scrub(json.loads(json.dumps(located.data, default=str)), env_values)
    digest = hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()
    return LoadedRules(rules, path, tuple(located.files), digest, located, env_values)


def _validated(located: Located, path: Path) -> RuleFile:
    """The rule file's model. Where a text is expected and YAML read `~`, `null`, `10` or
    `true`, the text as written is used (`null_tokens: [~, null]`), then validated again."""
    for _ in range(4):  # each round fixes every such place it reports
        try:
            return RuleFile.model_validate(located.data)
        except ValidationError as exc:
            if not _texts_as_written(exc, located):
                raise ConfigError(_issues(exc, located, path)) from None
    return RuleFile.model_validate(located.data)


def _texts_as_written(exc: ValidationError, located: Located) -> bool:
    changed = False
    for err in exc.errors(include_url=False):
        if err["type"] != "string_type":
            continue
        ypath = _data_path(located.data, tuple(err["loc"]))
        text = located.texts.get(ypath)
        if text is None or not ypath:
            continue
        last = ypath[-1]
        try:
            parent = located.data
            for part in ypath[:-1]:
                parent = parent[part]
            current = parent[last]
        except (KeyError, IndexError, TypeError):
            continue
        if current is None or isinstance(current, bool | int):
            parent[last] = text
            changed = True
    return changed


def _refuse_url_decisions(rules: RuleFile, located: Located) -> None:
    """matching.decisions names a local file: a URL is refused, never taken for "absent"."""
    decisions = rules.matching.decisions if rules.matching is not None else None
    if decisions and is_url(decisions):
        at: Path_ = ("matching", "decisions")
        file, line, col = located.where(at) or (located.files[-1], None, None)
        problem = "decisions file names a URL"
        hint = "name a local .csv file; crmclean reads no host"
        raise ConfigError([ConfigIssue(file, line, col, _fmt(at), problem, hint)])


def _check_source_urls(rules: RuleFile, located: Located) -> None:
    """A source's database URL is checked with the rule file (a password in it, no table=, a
    bad table name: exit 2 at sources.<name>.location), so `rules check` refuses it too."""
    issues = []
    for name, spec in rules.sources.items():
        if not looks_like_url(spec.location):
            continue
        try:
            parse_database_url(spec.location)
        except UsageError as exc:
            at: Path_ = ("sources", name, "location")
            file, line, col = located.where(at) or (located.files[-1], None, None)
            issues.append(
                ConfigIssue(file, line, col, _fmt(at), f"source {name!r}: {exc.message}", exc.hint)
            )
    if issues:
        raise ConfigError(issues)


MAX_QUOTED = 80  # characters of a rule file's value an error quotes
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.)*'" + r'|"(?:[^"\\\n]|\\.)*"')


def quoted_safely(problem: str, file: str, top: Path) -> str:
    """An error's text as it may be shown: values quoted from the rule file itself cut to
    MAX_QUOTED characters; from a file that `extends:` names, no value at all (only the
    position and the problem), and only its first line."""
    if file == str(top):
        return _QUOTED.sub(lambda m: _cut(m.group(0)), problem)
    first = problem.splitlines()[0] if problem else problem
    text = _QUOTED.sub("", first)
    text = re.split(r"['\"]", text, maxsplit=1)[0]  # an unbalanced quote: nothing after it
    return re.sub(r"\s+", " ", text).replace(" :", ":").strip(" :") or "invalid value"


def _cut(quoted: str) -> str:
    if len(quoted) <= MAX_QUOTED + 2:
        return quoted
    return quoted[: MAX_QUOTED + 1] + "…" + quoted[-1]


def _fmt(path: Path_) -> str:
    from crmclean.config.yaml_source import format_path

    return format_path(path)


def _data_path(data: Any, loc: tuple[str | int, ...]) -> Path_:
    """Follow pydantic's loc through the data, dropping union tags and validator names."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part in node:
            out.append(part)
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            out.append(part)
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str):
            # a union tag such as 'pattern' is skipped; a missing key is named under its parent
            if part.isidentifier() and not _is_tag(node, part):
                out.append(part)
                node = None
    return tuple(out)


def _is_tag(node: dict[str, Any], part: str) -> bool:
    tag = node.get("type")
    return isinstance(tag, str) and (part == tag or part.startswith(tag))


def _issues(exc: ValidationError, located: Located, path: Path) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    seen: set[tuple[str, str]] = set()
    for err in exc.errors(include_url=False):
        ypath = _data_path(located.data, tuple(err["loc"]))
        pos = located.where(ypath)
        file, line, col = pos if pos else (str(path), None, None)
        problem, hint = _describe(err, located.data, ypath)
        problem = quoted_safely(problem, file, path)
        key = (_fmt(ypath), problem)
        if key in seen:  # unions repeat one problem per member
            continue
        seen.add(key)
        issues.append(ConfigIssue(file, line, col, _fmt(ypath), problem, hint))
    return sorted(issues, key=lambda i: (i.file, i.line or 0, i.col or 0))


def _describe(err: Any, data: Any, ypath: Path_) -> tuple[str, str | None]:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = _allowed_keys(data, ypath[:-1])
        name = str(ypath[-1]) if ypath else ""
        hint = did_you_mean_hint(name, allowed)
        if hint is None and allowed:
            hint = "allowed: " + ", ".join(allowed)
        return f"unknown key {name!r}", hint
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = str(ctx.get("tag", ""))
        expected = [t.strip().strip("'") for t in str(ctx.get("expected_tags", "")).split(",")]
        expected = [t for t in expected if t]
        if kind == "union_tag_not_found":
            listed = "one of: " + ", ".join(expected) if expected else None
            return "needs a 'type'", listed or "`crmclean rules schema` lists the types"
        hint = did_you_mean_hint(tag, expected)
        return f"unknown type {tag!r}", hint or ("known: " + ", ".join(expected))
    if kind == "literal_error" and ypath and ypath[-1] == "type":
        tag = str(err.get("input", ""))
        expected = re.findall(r"'([^']+)'", str(ctx.get("expected", "")))
        hint = did_you_mean_hint(tag, expected)
        return f"unknown type {tag!r}", hint or ("known: " + ", ".join(expected))
    if kind == "missing":
        return "is required", None
    message = str(err["msg"])
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return message[:1].lower() + message[1:], None


def _allowed_keys(data: Any, parent: Path_) -> list[str]:
    """Field names of the model that validates the mapping at `parent` (for 'did you mean')."""
    model: Any = RuleFile
    node = data
    for part in parent:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
        model = _child_type(model, part, node)
        if model is None:
            return []
    if isinstance(model, type) and issubclass(model, BaseModel):
        return sorted(f.alias or n for n, f in model.model_fields.items())
    return []


def _child_type(model: Any, part: str | int, node: Any) -> Any:
    model = _pick(model, node)
    if isinstance(model, type) and issubclass(model, BaseModel):
        field = model.model_fields.get(str(part))
        return _pick(field.annotation, node) if field else None
    origin = typing.get_origin(model)
    args = typing.get_args(model)
    if origin in (list, tuple) and args:
        return _pick(args[0], node)
    if origin is dict and len(args) == 2:
        return _pick(args[1], node)
    return None


def _pick(tp: Any, node: Any) -> Any:
    """Unwrap Optional/Annotated/unions, choosing the union member whose `type` tag matches."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            tag = node.get("type") if isinstance(node, dict) else None
            chosen = None
            for member in members:
                inner = _pick(member, node)
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    field = inner.model_fields.get("type")
                    if tag is None or (field and tag in typing.get_args(field.annotation)):
                        chosen = inner
                        if tag is not None:
                            break
                elif chosen is None and typing.get_origin(inner) in (list, dict):
                    chosen = inner
            return chosen
        return tp
