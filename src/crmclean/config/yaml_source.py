"""Safe YAML with positions: every value keeps the file, line and column it came from.

`extends:` files are deep-merged under the file that extends them (mappings merge, the rest is
replaced); `${vars.X}` and `${env.X}` are substituted afterwards. Nothing in YAML can run code:
only the safe loader's plain types are built.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crmclean.errors import ConfigError, ConfigIssue, InputError

Path_ = tuple[str | int, ...]
Position = tuple[str, int, int]  # file, line (1-based), column (1-based)

_VAR = re.compile(r"\$\{(vars|env)\.([A-Za-z_][A-Za-z0-9_]*)\}")
_BOOL = "tag:yaml.org,2002:bool"


class RuleFileLoader(yaml.SafeLoader):
    """The safe loader, but a key is the word written: YAML 1.1 reads the keys `on`, `yes` and
    `NO` (Norway) as booleans, and a rule file's keys are names (`on: standardised`)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _BOOL:
                key_node.tag = "tag:yaml.org,2002:str"
        return super().construct_mapping(node, deep)


@dataclass
class Located:
    """Plain data from YAML plus where each key or item stands."""

    data: Any
    positions: dict[Path_, Position] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def where(self, path: Path_) -> Position | None:
        """The position of the path, or of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            pos = self.positions.get(path[:cut])
            if pos is not None:
                return pos
        return None


def format_path(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _read_one(path: Path) -> Located:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(name, None, None, "", "rule file not found")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [ConfigIssue(name, None, None, "", f"cannot read rule file: {exc}")]
        ) from None
    except OSError as exc:  # permissions, a folder: unreadable input, exit 3
        raise InputError(f"{name}: cannot read the rule file: {exc.strerror or exc}") from None
    try:
        node = yaml.compose(text, Loader=RuleFileLoader)
        data = yaml.load(text, Loader=RuleFileLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise ConfigError(
            [ConfigIssue(name, line, col, "", f"YAML syntax error: {problem}", "check indentation")]
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigIssue(name, None, None, "", f"YAML error: {exc}")]) from None
    located = Located(data if data is not None else {}, {}, [name])
    issues: list[ConfigIssue] = []
    if node is not None:
        _walk(node, (), name, located.positions, issues)
    if not isinstance(located.data, dict):
        issues.append(ConfigIssue(name, 1, 1, "", "a rule file must be a mapping of sections"))
    if issues:
        raise ConfigError(issues)
    return located


def _walk(
    node: yaml.Node, path: Path_, name: str, out: dict[Path_, Position], issues: list[ConfigIssue]
) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            mark = key_node.start_mark
            if key in seen:
                issues.append(
                    ConfigIssue(
                        name,
                        mark.line + 1,
                        mark.column + 1,
                        format_path(child),
                        "duplicate key",
                        "keep one",
                    )
                )
            seen.add(key)
            out[child] = (name, mark.line + 1, mark.column + 1)
            _walk(value_node, child, name, out, issues)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            mark = item.start_mark
            out[child] = (name, mark.line + 1, mark.column + 1)
            _walk(item, child, name, out, issues)


def _merge(base: Located, over: Located) -> Located:
    """Deep-merge `over` onto `base`: mappings merge key by key, anything else is replaced."""

    def merge(a: Any, b: Any, path: Path_) -> Any:
        if isinstance(a, dict) and isinstance(b, dict):
            merged = dict(a)
            for key, value in b.items():
                merged[key] = merge(a[key], value, (*path, key)) if key in a else value
                if key not in a or not (isinstance(a[key], dict) and isinstance(value, dict)):
                    _drop_below(positions, (*path, key))
            return merged
        return b

    positions = dict(base.positions)
    data = merge(base.data, over.data, ())
    positions.update(over.positions)
    return Located(data, positions, base.files + over.files)


def _drop_below(positions: dict[Path_, Position], prefix: Path_) -> None:
    for key in [k for k in positions if k[: len(prefix)] == prefix and len(k) > len(prefix)]:
        del positions[key]


def read_with_extends(path: Path, _stack: tuple[Path, ...] = ()) -> Located:
    resolved = path.resolve()
    if resolved in _stack:
        chain = " -> ".join(str(p) for p in (*_stack, resolved))
        raise ConfigError(
            [ConfigIssue(str(path), None, None, "extends", f"extends cycle: {chain}", "remove one")]
        )
    own = _read_one(path)
    parents = own.data.pop("extends", None)
    if parents is None:
        return own
    parent_list = [parents] if isinstance(parents, str) else parents
    if not isinstance(parent_list, list) or not all(isinstance(p, str) for p in parent_list):
        file, line, col = own.where(("extends",)) or (str(path), None, None)
        raise ConfigError(
            [ConfigIssue(file, line, col, "extends", "must be a file path or a list of them")]
        )
    merged: Located | None = None
    for parent in parent_list:
        base = read_with_extends(path.parent / parent, (*_stack, resolved))
        merged = base if merged is None else _merge(merged, base)
    assert merged is not None
    _drop_below(own.positions, ("extends",))
    own.positions.pop(("extends",), None)
    return _merge(merged, own)


def substitute_vars(located: Located, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Replace `${vars.X}` and `${env.X}` in every string, in place; all unknowns reported.

    Returns the environment variables used and their values (crmclean.config.env_values keeps
    them out of every output)."""
    env = dict(os.environ if environ is None else environ)
    raw_vars = located.data.get("vars") or {}
    issues: list[ConfigIssue] = []
    used: dict[str, str] = {}

    def lookup(kind: str, name: str, path: Path_) -> Any:
        table = raw_vars if kind == "vars" else env
        if isinstance(table, dict) and name in table:
            if kind == "env":
                used[name] = str(table[name])
            return table[name]
        file, line, col = located.where(path) or (located.files[-1], None, None)
        hint = "define it under vars:" if kind == "vars" else f"export {name}=... before the run"
        issues.append(
            ConfigIssue(file, line, col, format_path(path), f"${{{kind}.{name}}} is not set", hint)
        )
        return None

    def sub(value: Any, path: Path_) -> Any:
        if isinstance(value, dict):
            return {k: sub(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [sub(v, (*path, i)) for i, v in enumerate(value)]
        if isinstance(value, str) and "${" in value:
            whole = _VAR.fullmatch(value)
            if whole:  # a whole-value reference keeps the variable's type
                return lookup(whole.group(1), whole.group(2), path)
            return _VAR.sub(lambda m: str(lookup(m.group(1), m.group(2), path)), value)
        return value

    if isinstance(raw_vars, dict):
        raw_vars = {k: sub(v, ("vars", k)) if k != "vars" else v for k, v in raw_vars.items()}
    located.data = sub(located.data, ())
    if issues:
        raise ConfigError(issues)
    return used
