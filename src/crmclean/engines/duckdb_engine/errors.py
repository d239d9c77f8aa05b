"""DuckDB's errors in crmclean's terms: a Ctrl-C or SIGTERM that reached a Python UDF comes back
from DuckDB as its own exception, and a memory limit that is too small is the user's setting."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import duckdb

from crmclean.errors import Terminated, UsageError

F = TypeVar("F", bound=Callable[..., Any])


def translate(error: Exception, memory: str | None) -> BaseException:
    """The exception to raise instead of `error` (itself when crmclean has no better word).
    A signal during a query reaches us as "Query interrupted" without saying which one: it is
    taken for Ctrl-C (exit 130)."""
    message = str(error)
    if isinstance(error, RuntimeError) and message.startswith("Query interrupted"):
        return KeyboardInterrupt()
    if "Terminated" in message:
        return Terminated()
    if "KeyboardInterrupt" in message or isinstance(error, duckdb.InterruptException):
        return KeyboardInterrupt()
    if isinstance(error, duckdb.OutOfMemoryException):
        given = f"--memory {memory}" if memory else "DuckDB's default memory limit"
        return UsageError(
            f"{given} is too little for matching this data in DuckDB",
            "give it more (e.g. --memory 2GB), or leave --memory out",
        )
    return error


def translated(method: F) -> F:
    """Wrap an engine method so that DuckDB's errors leave it as `translate` says."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (duckdb.Error, RuntimeError) as exc:
            better = translate(exc, getattr(self, "memory", None))
            if better is exc:
                raise
            raise better from None

    return wrapper  # type: ignore[return-value]
