"""The SQL a rule file may write (`expr:`, `when:`): a row condition over the data's columns.

polars' SQL front end also knows subqueries and table functions (`read_csv('/etc/passwd')`,
`read_parquet('http://...')`) and runs them while it parses. So the text is parsed here first
(sqlglot), every node of the tree is checked against an allow-list of operators and scalar
functions, and polars only ever sees the SQL regenerated from that checked tree: never the rule
file's own text, so comments or quoting the two parsers read differently cannot smuggle anything
past the check.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import SqlglotError
from sqlglot.generators.postgres import PostgresGenerator

# sqlglot warns on stderr, quoting the text, when it falls back to a raw command; the refusal
# below is the one message the user gets.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

MAX_SQL_CHARS = 4_000  # one condition in a rule file; a longer text is refused unparsed
MAX_GROWTH = 64  # how many times longer nested replace() calls may make a text

# Structure: columns, literals, logic, comparisons, arithmetic, CASE and CAST.
_STRUCTURE: tuple[type[exp.Expr], ...] = (
    exp.Column, exp.Identifier, exp.Literal, exp.Boolean, exp.Null, exp.Paren,
    exp.Neg, exp.Not, exp.And, exp.Or,
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Is, exp.NullSafeEQ, exp.NullSafeNEQ,
    exp.Between, exp.In, exp.Like, exp.ILike, exp.RegexpLike, exp.RegexpILike,
    exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.DPipe,
    exp.Case, exp.If, exp.Cast, exp.TryCast, exp.DataType, exp.DataTypeParam,
)  # fmt: skip

# Scalar functions, by the name a rule file writes (sqlglot maps aliases onto these nodes).
ALLOWED_FUNCTIONS: dict[type[exp.Expr], str] = {
    exp.Lower: "lower", exp.Upper: "upper", exp.Length: "length", exp.Trim: "trim",
    exp.Substring: "substr", exp.Left: "left", exp.Right: "right", exp.Replace: "replace",
    exp.Reverse: "reverse", exp.Concat: "concat", exp.StrPosition: "strpos",
    exp.StartsWith: "starts_with", exp.EndsWith: "ends_with",
    exp.Coalesce: "coalesce", exp.Nullif: "nullif", exp.Greatest: "greatest", exp.Least: "least",
    exp.Abs: "abs", exp.Round: "round", exp.Floor: "floor", exp.Ceil: "ceil", exp.Sqrt: "sqrt",
    exp.Sign: "sign", exp.Extract: "extract",
}  # fmt: skip

_EXTRACT_PARTS = {"YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND", "QUARTER", "WEEK", "DOW"}


class _PolarsSql(Postgres):
    """Postgres syntax as polars reads it, keeping TRY_CAST (Postgres would write CAST)."""

    class Generator(PostgresGenerator):
        TRANSFORMS = {  # noqa: RUF012 - sqlglot's own convention for generator tables
            **PostgresGenerator.TRANSFORMS,
            exp.TryCast: lambda self, e: self.cast_sql(e, safe_prefix="TRY_"),
        }


class UnsafeSql(ValueError):
    """The text is not a row condition over columns (names the offending construct only)."""


def allowed_function_names() -> list[str]:
    return sorted(set(ALLOWED_FUNCTIONS.values()))


def canonical_sql(text: str) -> str:
    """The checked condition, regenerated from its tree; raises UnsafeSql or ValueError."""
    if len(text) > MAX_SQL_CHARS:
        raise UnsafeSql(f"is longer than {MAX_SQL_CHARS:,} characters")
    try:
        tree = sqlglot.parse_one(text, dialect=_PolarsSql)
    except (SqlglotError, RecursionError) as exc:
        raise ValueError(f"{text!r} is not a valid SQL expression: {_reason(exc)}") from None
    for node in tree.walk():
        _check_node(node)
    _check_growth(tree)
    try:
        out = tree.sql(dialect=_PolarsSql, comments=False)
        if sqlglot.parse_one(out, dialect=_PolarsSql) != tree:
            raise UnsafeSql("cannot be written back unchanged; simplify it")
    except (SqlglotError, RecursionError):
        raise UnsafeSql("cannot be written back unchanged; simplify it") from None
    return out


def _check_node(node: exp.Expr) -> None:
    if isinstance(node, exp.Column):
        if any(node.args.get(part) is not None for part in ("table", "db", "catalog")):
            raise UnsafeSql(f"names {node.sql()!r}; refer to columns by their plain name")
        if not isinstance(node.this, exp.Identifier):
            raise UnsafeSql(f"{_describe(node.this)} is not allowed in an expression")
        return
    if isinstance(node, exp.Var):  # a keyword such as YEAR, only as EXTRACT's part
        if isinstance(node.parent, exp.Extract) and node.name.upper() in _EXTRACT_PARTS:
            return
        raise UnsafeSql(f"{node.name!r} is not a column or value; quote a text 'like this'")
    if isinstance(node, exp.In) and any(node.args.get(k) for k in ("query", "unnest", "field")):
        raise UnsafeSql("a subquery (SELECT/FROM) is not allowed in an expression")
    if isinstance(node, exp.Replace):
        _check_replace(node)
    if type(node) in ALLOWED_FUNCTIONS or isinstance(node, _STRUCTURE):
        return
    raise UnsafeSql(f"{_describe(node)} is not allowed in an expression")


def _check_replace(node: exp.Replace) -> None:
    """replace(text, 'search', 'replacement') with quoted, non-empty search: an empty search
    matches between every character, so nested calls grow a text exponentially."""
    search, replacement = node.args.get("expression"), node.args.get("replacement")
    for what, arg in (("search", search), ("replacement", replacement)):
        if not (isinstance(arg, exp.Literal) and arg.is_string):
            raise UnsafeSql(f"replace()'s {what} must be a quoted text 'like this'")
    if not str(search.this):  # type: ignore[union-attr]
        raise UnsafeSql("replace() with an empty search text is not allowed")


def _growth(node: exp.Replace) -> int:
    search = str(node.args["expression"].this)
    replacement = str(node.args["replacement"].this)
    return max(1, -(-len(replacement) // len(search)))


def _check_growth(tree: exp.Expr) -> None:
    """Nested replace() calls multiply a text's length: keep the product of their growth small."""
    for node in tree.find_all(exp.Replace):
        total = 1
        current: exp.Expr | None = node
        while current is not None:
            if isinstance(current, exp.Replace):
                total *= _growth(current)
            current = current.parent
        if total > MAX_GROWTH:
            raise UnsafeSql(
                f"nested replace() calls can make a text more than {MAX_GROWTH} times longer; "
                "use fewer or shorter replacements"
            )


def _describe(node: Any) -> str:
    if isinstance(node, exp.Select | exp.Subquery | exp.Query | exp.Exists | exp.From):
        return "a subquery (SELECT/FROM)"
    if isinstance(node, exp.Table):
        return "a table"
    if isinstance(node, exp.Command | exp.Block):
        return "a SQL statement"
    if isinstance(node, exp.Anonymous):
        return f"function {str(node.name).lower()!r}"
    if isinstance(node, exp.Func):
        return f"function {node.sql_name().lower()!r}"
    if isinstance(node, exp.Placeholder | exp.Parameter):
        return "a parameter"
    if isinstance(node, exp.Star):
        return "'*'"
    return f"{type(node).__name__}"


def _reason(exc: BaseException) -> str:
    """sqlglot's description with its column, without the underlined (ANSI) echo of the text."""
    errors = getattr(exc, "errors", None) or []
    if errors and isinstance(errors[0], dict):
        first = errors[0]
        what = str(first.get("description") or "")
        what = "incomplete expression" if not what or "<class" in what else what
        where = f" at column {first['col']}" if first.get("col") else ""
        return f"{what}{where}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return type(exc).__name__
