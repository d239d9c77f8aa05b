"""One small registry used by checks, standardisers, comparators and survivorship strategies."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class UnknownName(LookupError):
    """A name that is not registered; carries the "did you mean" suggestions."""

    def __init__(self, kind: str, name: str, suggestions: list[str], known: list[str]) -> None:
        self.kind = kind
        self.name = name
        self.suggestions = suggestions
        self.known = known
        super().__init__(self.describe())

    def describe(self) -> str:
        return f"unknown {self.kind} {self.name!r}"

    def hint(self) -> str:
        if self.suggestions:
            return "did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        return "known: " + ", ".join(self.known)


def did_you_mean(name: str, known: list[str]) -> list[str]:
    return difflib.get_close_matches(name, known, n=2, cutoff=0.6)


def did_you_mean_hint(name: str, known: list[str]) -> str | None:
    """`did you mean 'a' or 'b'?`, or None when nothing is close."""
    close = did_you_mean(name, known)
    return ("did you mean " + " or ".join(repr(c) for c in close) + "?") if close else None


class Registry(Generic[T]):
    """Name -> entry, with aliases. Registering a name twice fails at import time."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}

    def register(self, name: str, aliases: list[str] | None = None) -> Callable[[T], T]:
        def decorator(entry: T) -> T:
            self.add(name, entry, aliases)
            return entry

        return decorator

    def add(self, name: str, entry: T, aliases: list[str] | None = None) -> None:
        for key in [name, *(aliases or [])]:
            if key in self._entries or key in self._aliases:
                raise ValueError(f"{self.kind} {key!r} is registered twice")
        self._entries[name] = entry
        for alias in aliases or []:
            self._aliases[alias] = name

    def canonical(self, name: str) -> str:
        """The registered name for a name or alias; raises UnknownName with suggestions."""
        if name in self._entries:
            return name
        if name in self._aliases:
            return self._aliases[name]
        known = sorted(self._entries)
        raise UnknownName(self.kind, name, did_you_mean(name, known + sorted(self._aliases)), known)

    def get(self, name: str) -> T:
        return self._entries[self.canonical(name)]

    def names(self) -> list[str]:
        return sorted(self._entries)

    def aliases(self) -> dict[str, str]:
        return dict(self._aliases)

    def __contains__(self, name: object) -> bool:
        return name in self._entries or name in self._aliases

    def __iter__(self) -> Iterator[tuple[str, T]]:
        return iter(sorted(self._entries.items()))

    def __len__(self) -> int:
        return len(self._entries)
