"""A database location given where a file path is accepted: `postgresql://user@host:port/db`,
`sqlite:///relative/file.db` or `duckdb:////absolute/file.duckdb` (as SQLAlchemy writes them),
each with `?table=schema.table` or
`?query=SELECT ...` (the query last: everything after `query=` is the query).

A password never appears in a URL crmclean accepts: it would be in the shell history, the
process list and the cron file. PostgreSQL's own ways (PGPASSWORD, ~/.pgpass, a service file
`?service=name`) give it to libpq; crmclean never sees it. What is shown, logged and written is
`DatabaseUrl.shown`: the URL with the table, or with a hash of the query instead of its text (a
query can quote customer values).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from crmclean.errors import UsageError

SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql", "sqlite": "sqlite"}
SCHEMES["duckdb"] = "duckdb"
# table=: how many dotted parts each kind resolves (DuckDB also takes database.schema.table)
_TABLE_PARTS = {"postgresql": 2, "sqlite": 2, "duckdb": 3}
OWN_KEYS = ("table", "query")  # crmclean's keys; the others go to the driver (sslmode, service)
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_PASSWORD_HINT = (
    "leave the password out of the URL: set PGPASSWORD, or put it in ~/.pgpass or a "
    "service file (?service=name)"
)


@dataclass(frozen=True)
class DatabaseUrl:
    kind: str  # postgresql, sqlite, duckdb
    connect: str  # what the driver is given: a libpq URI without crmclean's keys, or a file
    shown: str  # for messages, logs and the manifest: no password, no query text
    table: str | None  # as given, `schema.table` or `table`
    query: str | None
    server: str | None = None  # postgresql: where libpq connects, for "cannot connect" messages

    @property
    def file(self) -> Path | None:
        """The database file of SQLite and DuckDB; None for a server."""
        return Path(self.connect) if self.kind != "postgresql" else None

    @property
    def query_sha256(self) -> str | None:
        return hashlib.sha256(self.query.encode()).hexdigest() if self.query else None

    @property
    def sql(self) -> str:
        """The statement that reads the rows: every column of the table, or the query inside a
        subquery, so that only something that gives rows can run (no DELETE, COPY, ATTACH,
        PRAGMA or second statement: they are syntax errors there)."""
        if self.query is not None:
            body = self.query.strip().rstrip(";").rstrip()
            # on lines of their own: a `--` comment at the query's end cannot hide the `)`
            return f"SELECT * FROM (\n{body}\n) AS crmclean_query"
        assert self.table is not None
        return "SELECT * FROM " + ".".join(f'"{part}"' for part in self.table.split("."))

    def __str__(self) -> str:
        return self.shown


@dataclass(frozen=True)
class PublishTarget:
    """Where `run --publish` writes its tables: a PostgreSQL database and schema
    (`postgresql://mdm@db/mdm?schema=golden`; `public` when none is given)."""

    connect: str
    shown: str
    schema: str
    server: str  # where libpq connects, for "cannot connect" messages

    def __str__(self) -> str:
        return self.shown


def parse_publish_url(text: str) -> PublishTarget:
    """The target, or a UsageError (exit 2): PostgreSQL only, no password, a plain schema."""
    scheme = text.partition(":")[0].lower()
    if SCHEMES.get(scheme) != "postgresql":
        raise UsageError(
            f"{_cut(text)}: --publish writes to PostgreSQL only",
            "give postgresql://user@host/database?schema=name",
        )
    before, _, params_text = text.partition(":")[2].partition("?")
    params = parse_qsl(params_text, keep_blank_values=True)
    if any(key.lower() == "password" for key, _ in params):
        raise UsageError(f"{scheme}: the URL has a password= parameter", _PASSWORD_HINT)
    schema = dict(params).get("schema") or "public"
    if not _IDENT.match(schema):
        raise UsageError(
            f"{scheme}: schema={schema!r} is not a schema name", "letters, digits and _ only"
        )
    if any(key in OWN_KEYS for key, _ in params):
        raise UsageError(f"{scheme}: --publish takes ?schema=, not table= or query=")
    driver = [(k, v) for k, v in params if k != "schema"]
    connect, base, server = _server(before, driver)
    return PublishTarget(connect, f"{base}?schema={schema}", schema, server)


def looks_like_url(text: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text) is not None and (
        text.split(":", 1)[0].lower() in SCHEMES or "://" in text
    )


def parse_database_url(text: str) -> DatabaseUrl:
    """The location, or a UsageError (exit 2) saying what is wrong with the URL."""
    scheme, _, rest = text.partition(":")
    kind = SCHEMES.get(scheme.lower())
    if kind is None:
        raise UsageError(
            f"{_cut(text)}: crmclean reads files and postgresql://, sqlite:// and duckdb:// URLs",
            "give a file path or one of those URLs",
        )
    before, query = _split_query(rest)
    if "?" in before:
        before, _, params_text = before.partition("?")
    else:
        params_text = ""
    params = parse_qsl(params_text, keep_blank_values=True)
    if any(key.lower() == "password" for key, _ in params):
        raise UsageError(f"{scheme}: the URL has a password= parameter", _PASSWORD_HINT)
    own = {k: v for k, v in params if k in OWN_KEYS}
    table = own.get("table") or None
    if table is not None and query is not None:
        raise UsageError(f"{scheme}: the URL has both table= and query=", "give one of them")
    if table is None and query is None:
        raise UsageError(
            f"{scheme}: the URL names no table",
            "add ?table=schema.table or ?query=SELECT ... (query last)",
        )
    if table is not None and not all(_IDENT.match(p) for p in table.split(".")):
        raise UsageError(
            f"{scheme}: table={table!r} is not a table name",
            "use table=schema.table (letters, digits, _), or query= for anything else",
        )
    most = _TABLE_PARTS[kind]
    if table is not None and len(table.split(".")) > most:
        form = "schema.table" if most == 2 else "database.schema.table"
        raise UsageError(
            f"{scheme}: table={table!r} has {len(table.split('.'))} parts; {kind} takes {form} "
            "at most",
            f"use table={form}, or query= for anything else",
        )
    if query is not None and not query.strip():
        raise UsageError(f"{scheme}: query= is empty", "write the SELECT after query=")
    driver = [(k, v) for k, v in params if k not in OWN_KEYS]
    if kind == "postgresql":
        return _postgresql(before, driver, table, query)
    path = _file_path(before)
    if not path:
        raise UsageError(f"{scheme}: the URL names no database file", f"{scheme}:///path/file")
    shown = f"{kind}:///{quote(path)}" + _shown_source(table, query)
    return DatabaseUrl(kind, path, shown, table, query)


def _postgresql(
    before: str, driver: list[tuple[str, str]], table: str | None, query: str | None
) -> DatabaseUrl:
    connect, base, server = _server(before, driver)
    shown = base + _shown_source(table, query)
    return DatabaseUrl("postgresql", connect, shown, table, query, server)


def _server(before: str, driver: list[tuple[str, str]]) -> tuple[str, str, str]:
    """(the libpq URI, the URL shown without parameters, where it connects) of a PostgreSQL URL.
    A URL without a host (`postgresql:///crm`, `postgresql:///?service=name`) keeps its `//`:
    libpq then takes the host from the service file, PGHOST or the local socket."""
    parts = urlsplit("postgresql:" + before, allow_fragments=False)
    if parts.password is not None:
        raise UsageError("postgresql: the URL has a password", _PASSWORD_HINT)
    try:
        port = parts.port
    except ValueError:
        raise UsageError(
            f"postgresql://{parts.netloc}: the port is not a number", "host:5432"
        ) from None
    server = _server_named(parts.hostname, port, dict(driver))
    if not any(k == "connect_timeout" for k, _ in driver):
        driver = [*driver, ("connect_timeout", "10")]  # an unreachable host answers in time
    encoded = "&".join(f"{quote(k)}={quote(v)}" for k, v in driver)
    shown = f"postgresql://{parts.netloc}{parts.path}"  # urlunsplit drops `//` without a host
    return f"{shown}?{encoded}", shown, server


def _server_named(host: str | None, port: int | None, params: dict[str, str]) -> str:
    """Where libpq will connect, as a message names it: the URL's host, else the service, else
    PGHOST, else the local socket; the port from the URL, else PGPORT, else 5432."""
    host = host or params.get("host")
    service = params.get("service") or os.environ.get("PGSERVICE")
    port_text = str(port) if port else params.get("port") or os.environ.get("PGPORT") or "5432"
    if not host and service:
        return f"the server of the service {service!r} (pg_service.conf)"
    host = host or os.environ.get("PGHOST")
    if not host:
        return f"the local server's socket, port {port_text} (no host in the URL, no PGHOST)"
    if host.startswith("/"):
        return f"the socket in {host}, port {port_text}"
    return f"{host}:{port_text}"


def _file_path(before: str) -> str:
    """As SQLAlchemy writes them: `sqlite:///relative.db`, `sqlite:////absolute/file.db`;
    `sqlite:file.db` too."""
    if not before.startswith("//"):
        return unquote(before)
    path = before[2:]
    return unquote(path[1:] if path.startswith("/") else path)


def _split_query(rest: str) -> tuple[str, str | None]:
    """(the URL before `query=`, the query): a query keeps its `&`, `#` and `?` as written."""
    match = re.search(r"[?&]query=", rest)
    if match is None:
        return rest, None
    return rest[: match.start() + 1].rstrip("?&"), unquote(rest[match.end() :])


def _shown_source(table: str | None, query: str | None) -> str:
    if table is not None:
        return f"?table={table}"
    digest = hashlib.sha256((query or "").encode()).hexdigest()
    return f"?query=sha256:{digest[:12]}"


def _cut(text: str) -> str:
    """A URL that is not ours, shown without anything after the host (it may hold secrets)."""
    parts = urlsplit(text)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" if parts.scheme else text.split(":", 1)[0] + ":"
