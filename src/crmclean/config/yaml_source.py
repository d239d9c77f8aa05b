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
from crmclean.io.env_values import ENV_PREFIX, readable
from crmclean.io.named_files import RULE_FILE, NamedFileProblem, read_bounded_text, resolve_named

Path_ = tuple[str | int, ...]
Position = tuple[str, int, int]  # file, line (1-based), column (1-based)

_VAR = re.compile(r"\$\{(vars|env)\.([A-Za-z_][A-Za-z0-9_]*)\}")
_BOOL = "tag:yaml.org,2002:bool"
MAX_NODES = 100_000  # values in one rule file after aliases are expanded
MAX_DEPTH = 64  # levels of nesting (a rule file needs about eight)
MAX_FILES = 32  # rule files one load may read through extends:
MAX_SUBSTITUTED = 2 * 2**20  # characters ${vars.X}/${env.X} may add to one load's document


class RuleFileLoader(yaml.SafeLoader):
    """The safe loader, reading plain words as written.

    YAML 1.1 reads `NO` (Norway), `ON`, `YES`, `off`, `y` and `n` as booleans, `010` as octal 8
    and `12:30` as 750. A rule file lists country codes, postcodes and tokens, so here only
    `true`/`false` are booleans and only plain decimals are integers (YAML 1.2's core schema,
    without leading zeros): everything else is the string written. Keys too: `on: standardised`.
    """

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        # refused at the first level too deep, before Python's own recursion limit is near
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise ConfigError(
                    [
                        ConfigIssue(
                            mark.name,
                            mark.line + 1,
                            mark.column + 1,
                            "",
                            f"nests more than {MAX_DEPTH} levels deep",
                        )
                    ]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _BOOL:
                key_node.tag = "tag:yaml.org,2002:str"
        return super().construct_mapping(node, deep)


_INT = "tag:yaml.org,2002:int"
_NULL = "tag:yaml.org,2002:null"
# YAML 1.1 floats (`1.10` -> 1.1, `1:30.5` -> 90.5, `.inf`), timestamps and `Null`/`NULL` are
# not resolved: a decimal stays the text written (a number field reads "0.5" as 0.5, a list of
# values keeps "1.10"), a date stays its text until a date field reads it.
_DROPPED = (_BOOL, _INT, _NULL, "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")
RuleFileLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _DROPPED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
RuleFileLoader.add_implicit_resolver(_NULL, re.compile(r"^(?:~|null|)$"), ["~", "n", ""])
RuleFileLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
RuleFileLoader.add_implicit_resolver(
    _INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)


@dataclass
class Located:
    """Plain data from YAML plus where each key or item stands."""

    data: Any
    positions: dict[Path_, Position] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    texts: dict[Path_, str] = field(default_factory=dict)  # as written, of non-text scalars

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
        text = read_bounded_text(path, RULE_FILE, "rule file")
    except NamedFileProblem as exc:
        if exc.unreadable:  # permissions, a folder: unreadable input, exit 3
            raise InputError(f"{name}: {exc.problem}", exc.hint) from None
        raise ConfigError([ConfigIssue(name, None, None, "", exc.problem, exc.hint)]) from None
    loader = RuleFileLoader(text)
    loader.name = name  # marks name the file (the depth refusal reads it)
    try:
        node = loader.get_single_node()
        _check_expanded_size(node, name)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        if isinstance(exc, yaml.constructor.ConstructorError):  # the tag's text is not shown
            problem = "YAML syntax error: a tag (!name) that crmclean does not read"
            hint = "remove the tag"
        else:
            problem = " ".join(_no_quotes(p) for p in (exc.context, exc.problem) if p)
            problem, hint = f"YAML syntax error: {problem or 'invalid'}", "check indentation"
        raise ConfigError([ConfigIssue(name, line, col, "", problem, hint)]) from None
    except yaml.YAMLError:
        raise ConfigError([ConfigIssue(name, None, None, "", "not valid YAML")]) from None
    except RecursionError:
        raise ConfigError([ConfigIssue(name, None, None, "", "nested too deeply")]) from None
    finally:
        loader.dispose()
    located = Located(data if data is not None else {}, {}, [name])
    issues: list[ConfigIssue] = []
    if node is not None:
        _walk(node, (), name, located.positions, issues, located.texts)
    if not isinstance(located.data, dict):
        issues.append(ConfigIssue(name, 1, 1, "", "a rule file must be a mapping of sections"))
    if issues:
        raise ConfigError(issues)
    return located


def _no_quotes(text: str) -> str:
    """PyYAML's message without the characters it quotes from the file (`found 'xyz'`)."""
    text = re.sub(r"'(<[a-z ]+>)'", r"\1", text)  # PyYAML's token names: '<stream end>'
    text = re.sub(r"\s*'[^']*'|\s*\"[^\"]*\"", "", text)
    return re.split(r"['\"]", text, maxsplit=1)[0].strip()  # an unbalanced quote: cut there


def _check_expanded_size(node: yaml.Node | None, name: str) -> None:
    """Refuse a document whose aliases expand past MAX_NODES ("billion laughs"), that nests
    deeper than MAX_DEPTH, or whose alias refers to itself.

    Counted on the node graph with one memo per node, so the check itself stays linear.
    """
    if node is None:
        return
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    busy: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    while stack:
        current, done = stack.pop()
        key = id(current)
        children = _children(current)
        if done:
            busy.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            if size[key] > MAX_NODES:
                _refuse(name, current, f"YAML aliases expand to more than {MAX_NODES:,} values",
                        "write the values out, or use fewer aliases (*name)")  # fmt: skip
            if depth[key] > MAX_DEPTH:
                _refuse(name, current, f"nests more than {MAX_DEPTH} levels deep", None)
            continue
        if key in size:
            continue
        if key in busy:
            _refuse(name, current, "YAML alias refers to itself", None)
        busy.add(key)
        stack.append((current, True))
        stack.extend((c, False) for c in children if id(c) not in size)


def _refuse(name: str, node: yaml.Node, problem: str, hint: str | None) -> None:
    mark = node.start_mark
    raise ConfigError([ConfigIssue(name, mark.line + 1, mark.column + 1, "", problem, hint)])


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _walk(
    node: yaml.Node,
    path: Path_,
    name: str,
    out: dict[Path_, Position],
    issues: list[ConfigIssue],
    texts: dict[Path_, str],
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
            _walk(value_node, child, name, out, issues, texts)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            mark = item.start_mark
            out[child] = (name, mark.line + 1, mark.column + 1)
            _walk(item, child, name, out, issues, texts)
    elif isinstance(node, yaml.ScalarNode) and node.tag in (_BOOL, _INT, _NULL):
        texts[path] = str(node.value)  # `~` or `10` where a text is expected: the text written


def _merge(base: Located, over: Located) -> Located:
    """Deep-merge `over` onto `base`: mappings merge key by key, anything else is replaced."""

    replaced: set[Path_] = set()  # paths whose value `over` replaced: base positions below go

    def merge(a: Any, b: Any, path: Path_) -> Any:
        if isinstance(a, dict) and isinstance(b, dict):
            merged = dict(a)
            for key, value in b.items():
                merged[key] = merge(a[key], value, (*path, key)) if key in a else value
                if key not in a or not (isinstance(a[key], dict) and isinstance(value, dict)):
                    replaced.add((*path, key))
            return merged
        return b

    data = merge(base.data, over.data, ())
    # one pass over the positions, each checked against its own prefixes: linear, not
    # positions x merged keys (20,000 vars over 20,000 took 30 s)
    positions = {
        path: pos
        for path, pos in base.positions.items()
        if not any(path[:cut] in replaced for cut in range(1, len(path)))
    }
    positions.update(over.positions)
    texts = {
        path: text
        for path, text in base.texts.items()
        if not any(path[:cut] in replaced for cut in range(1, len(path) + 1))
    }
    texts.update(over.texts)
    return Located(data, positions, base.files + over.files, texts)


def _drop_below(positions: dict[Path_, Position], prefix: Path_) -> None:
    for key in [k for k in positions if k[: len(prefix)] == prefix and len(k) > len(prefix)]:
        del positions[key]


def read_with_extends(path: Path) -> Located:
    """The rule file at `path` merged over the files it extends (each checked before it is read)."""
    try:
        return _read_tree(path, (), [0, 0])  # files read, values read
    except _TooMuch as exc:  # the rule file alone
        raise ConfigError([ConfigIssue(str(path), None, None, "", exc.problem, exc.hint)]) from None


class _TooMuch(Exception):
    """A load reads too many files or values; reported at the extends: key that led there."""

    def __init__(self, problem: str, hint: str) -> None:
        super().__init__(problem)
        self.problem, self.hint = problem, hint


def _read_tree(path: Path, stack: tuple[Path, ...], count: list[int]) -> Located:
    resolved = Path(os.path.realpath(path))  # a link loop is reported when it is read
    if resolved in stack:
        chain = " -> ".join(str(p) for p in (*stack, resolved))
        raise ConfigError(
            [ConfigIssue(str(path), None, None, "extends", f"extends cycle: {chain}", "remove one")]
        )
    count[0] += 1
    if count[0] > MAX_FILES:
        raise _TooMuch(f"extends reaches more than {MAX_FILES} rule files", "flatten the chain")
    own = _read_one(path)
    count[1] += len(own.positions)  # the alias cap per file is also a cap per load
    if count[1] > MAX_NODES:
        raise _TooMuch(
            f"the rule files of one load hold more than {MAX_NODES:,} values",
            "flatten the rule files",
        )
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
    for index, parent in enumerate(parent_list):
        at: Path_ = ("extends", index) if isinstance(parents, list) else ("extends",)
        try:
            resolve_named(path.parent, parent, RULE_FILE)  # kind, type and size, before reading
        except NamedFileProblem as exc:
            file, line, col = own.where(at) or (str(path), None, None)
            raise ConfigError(
                [ConfigIssue(file, line, col, format_path(at), exc.problem, exc.hint)]
            ) from None
        # read by the name written (relative to this file), so messages show the user's spelling
        try:
            base = _read_tree(path.parent / parent, (*stack, resolved), count)
        except _TooMuch as exc:  # named at the extends: key that reached too far
            file, line, col = own.where(at) or (str(path), None, None)
            issue = ConfigIssue(file, line, col, format_path(at), exc.problem, exc.hint)
            raise ConfigError([issue]) from None
        merged = base if merged is None else _merge(merged, base)
    assert merged is not None
    _drop_below(own.positions, ("extends",))
    own.positions.pop(("extends",), None)
    return _merge(merged, own)


def substitute_vars(located: Located, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Replace `${vars.X}` and `${env.X}` in every string, in place; all unknowns reported.

    Returns the environment variables used and their values (crmclean.io.env_values keeps
    them out of every output)."""
    env = dict(os.environ if environ is None else environ)
    raw_vars = located.data.get("vars") or {}
    issues: list[ConfigIssue] = []
    used: dict[str, str] = {}

    def lookup(kind: str, name: str, path: Path_) -> Any:
        if kind == "env" and not readable(name):
            file, line, col = located.where(path) or (located.files[-1], None, None)
            issues.append(
                ConfigIssue(
                    file,
                    line,
                    col,
                    format_path(path),
                    f"${{env.{name}}}: a rule file may read only variables named {ENV_PREFIX}*",
                    f"export {ENV_PREFIX}{name}=... and write ${{env.{ENV_PREFIX}{name}}}",
                )
            )
            return None
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

    added = [0]  # characters (and values) substitution has added to the document so far

    def grow(amount: int, path: Path_) -> None:
        added[0] += amount
        if added[0] > MAX_SUBSTITUTED:
            file, line, col = located.where(path) or (located.files[-1], None, None)
            problem = f"${{...}} substitutions add more than {MAX_SUBSTITUTED // 2**20} MiB of text"
            hint = "a variable is used too often or is too long"
            raise ConfigError([ConfigIssue(file, line, col, format_path(path), problem, hint)])

    def sub(value: Any, path: Path_) -> Any:
        if isinstance(value, dict):
            return {k: sub(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [sub(v, (*path, i)) for i, v in enumerate(value)]
        if isinstance(value, str) and "${" in value:
            whole = _VAR.fullmatch(value)
            if whole:  # a whole-value reference keeps the variable's type
                found = lookup(whole.group(1), whole.group(2), path)
                grow(_size(found), path)
                return found
            pieces: list[str] = []
            last = 0
            for match in _VAR.finditer(value):  # sized before it is joined: no 6 GB string
                text = as_text(lookup(match.group(1), match.group(2), path))
                grow(len(text), path)
                pieces += [value[last : match.start()], text]
                last = match.end()
            return "".join([*pieces, value[last:]])
        return value

    if isinstance(raw_vars, dict):
        raw_vars = {k: sub(v, ("vars", k)) if k != "vars" else v for k, v in raw_vars.items()}
    located.data = sub(located.data, ())
    if issues:  # vars: is walked twice (as the table, then as part of the document)
        raise ConfigError(list(dict.fromkeys(issues)))
    return used


def _size(value: Any) -> int:
    """Characters and values a substituted value adds (a list or mapping counts all it holds)."""
    stack, total = [value], 0
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
            total += len(item)
        elif isinstance(item, list):
            stack.extend(item)
            total += 1
        else:
            total += len(item) if isinstance(item, str) else 1
        if total > MAX_SUBSTITUTED:
            break
    return total


def as_text(value: Any) -> str:
    """A value as it is put into a longer text (`${vars.v}` of 1.10 is "1.10")."""
    return str(value)
