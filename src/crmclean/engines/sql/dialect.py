"""Where DuckDB's SQL and Spark SQL differ, in one place: quoting (identifiers and literals are
quoted here and nowhere else, so a column name or value from a rule file can never become SQL
of its own), text casts, regular expressions, dates and the metrics each has built in. Level,
comparison and scoring SQL (levels.py, scoring.py) is written once against this."""

from __future__ import annotations

from dataclasses import dataclass, field

# polars' str.strip_chars() strips Unicode White_Space; trim() only spaces: a regular
# expression (RE2 and Java both read \s, \p{Z}, \x0b and \x85)
_EDGE_SPACE = r"^[\s\p{Z}\x0b\x85]+|[\s\p{Z}\x0b\x85]+$"


@dataclass(frozen=True)
class Dialect:
    name: str
    quote: str  # around identifiers
    string_type: str  # what CAST(... AS ?) makes text
    backslash_escapes: bool  # string literals read \\ and \' (Spark) or are verbatim (DuckDB)
    int_div: str  # integer division: `//` (DuckDB) or `DIV` (Spark)
    semi_join: str  # `SEMI JOIN` (DuckDB) or `LEFT SEMI JOIN` (Spark)
    # rapidfuzz metric name -> the SQL function computing the same score, where built in
    built_in: dict[str, str] = field(default_factory=dict)

    def ident(self, name: str) -> str:
        q = self.quote
        return q + name.replace(q, q + q) + q

    def text(self, value: str) -> str:
        if self.backslash_escapes:
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + value.replace("'", "''") + "'"

    @staticmethod
    def number(value: float) -> str:
        """A float literal that reads back as exactly `value`."""
        return f"CAST({float(value)!r} AS DOUBLE)"

    def string(self, expression: str) -> str:
        return f"CAST({expression} AS {self.string_type})"

    def is_text(self, sql_type: str) -> bool:
        return sql_type.upper() in ("VARCHAR", "STRING")

    def replace_all(self, expression: str, pattern: str, replacement: str = "") -> str:
        flags = ", 'g'" if self.name == "duckdb" else ""  # Spark's regexp_replace replaces all
        quoted = f"{self.text(pattern)}, {self.text(replacement)}"
        return f"regexp_replace({expression}, {quoted}{flags})"

    def strip(self, expression: str) -> str:
        return self.replace_all(expression, _EDGE_SPACE)

    def key(self, column: str, table: str | None = None) -> str:
        """The blocking key of a column: text, trimmed, lower-cased (core/matching/blocking.py)."""
        source = f"{table}.{self.ident(column)}" if table else self.ident(column)
        return f"lower({self.strip(self.string(source))})"

    def iso_date(self, text: str) -> str:
        """A `YYYY-MM-DD` text as a date; NULL when it is none."""
        if self.name == "duckdb":
            return f"CAST(try_strptime({text}, '%Y-%m-%d') AS DATE)"
        return f"CAST(try_to_timestamp({text}, 'yyyy-MM-dd') AS DATE)"

    def days_apart(self, a: str, b: str) -> str:
        if self.name == "duckdb":
            return f"abs(date_diff('day', {a}, {b}))"
        return f"abs(datediff({b}, {a}))"

    def array(self, items: str) -> str:
        """An array of comma-separated expressions."""
        return f"[{items}]" if self.name == "duckdb" else f"array({items})"

    def words(self, expression: str, alias: str, i: int) -> tuple[str, str]:
        """One row per space-separated word of `expression`, named `alias`: what goes into the
        SELECT list and what follows FROM (DuckDB unnests in the list, Spark in a LATERAL VIEW)."""
        if self.name == "duckdb":
            return f"unnest(string_split({expression}, ' ')) AS {alias}", ""
        return alias, f"LATERAL VIEW explode(split({expression}, ' ')) _w{i} AS {alias}"

    def metric_function(self, metric: str) -> str:
        """The SQL function of a rapidfuzz metric: built in, else `rapidfuzz_<name>` (a UDF the
        engine registers over metrics.metric_scores)."""
        return self.built_in.get(metric, f"rapidfuzz_{metric}")


DUCKDB = Dialect(
    "duckdb",
    quote='"',
    string_type="VARCHAR",
    backslash_escapes=False,
    int_div="//",
    semi_join="SEMI JOIN",
    built_in={
        "jaro_winkler": "jaro_winkler_similarity",
        "jaro": "jaro_similarity",
        "levenshtein": "levenshtein",
        "damerau_levenshtein": "damerau_levenshtein",
    },
)

SPARK = Dialect(
    "spark",
    quote="`",
    string_type="STRING",
    backslash_escapes=True,
    int_div="DIV",
    semi_join="LEFT SEMI JOIN",
    built_in={"levenshtein": "levenshtein"},
)
