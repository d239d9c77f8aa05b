"""Phonetic codes for blocking keys: Soundex, Metaphone, NYSIIS (jellyfish) and Cologne phonetics.

Each runs in Python, so it runs once per distinct value (names repeat a lot) and is joined back.
"""

from __future__ import annotations

import unicodedata

import jellyfish

_VOWELS = frozenset("AEIJOUY")
_SIMPLE = {"B": "1", "F": "3", "V": "3", "W": "3", "G": "4", "K": "4", "Q": "4", "L": "5"}
_SIMPLE |= {"M": "6", "N": "6", "R": "7", "S": "8", "Z": "8"}
_C_HARD_START = frozenset("AHKLOQRUX")
_C_HARD = frozenset("AHKOQUX")


def _german_letters(value: str) -> str:
    """Upper-case A-Z only: umlauts and accents folded, ß as S, everything else dropped."""
    folded = value.upper().replace("ß", "S").replace("ẞ", "S")
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if "A" <= c <= "Z")


def _cologne_code(prev: str, char: str, nxt: str, first: bool) -> str:
    """The code of one letter given its neighbours (Postel 1969)."""
    if char in _VOWELS:
        return "0"
    if char == "H":
        return ""
    if char == "P":
        return "3" if nxt == "H" else "1"
    if char in "DT":
        return "8" if nxt in ("C", "S", "Z") else "2"
    if char == "C":
        if first:
            return "4" if nxt in _C_HARD_START else "8"
        return "4" if nxt in _C_HARD and prev not in ("S", "Z") else "8"
    if char == "X":
        return "8" if prev in ("C", "K", "Q") else "48"
    return _SIMPLE.get(char, "")


def cologne(value: str) -> str:
    """Kölner Phonetik: German-sounding names that sound alike get the same digits.

    >>> cologne("Müller-Lüdenscheidt")
    '65752682'
    >>> cologne("Meier") == cologne("Mayr")
    True
    """
    letters = _german_letters(value)
    raw = "".join(
        _cologne_code(
            letters[i - 1] if i else "", c, letters[i + 1] if i + 1 < len(letters) else "", i == 0
        )
        for i, c in enumerate(letters)
    )
    collapsed = "".join(d for i, d in enumerate(raw) if i == 0 or d != raw[i - 1])
    return collapsed[:1] + collapsed[1:].replace("0", "")


def soundex(value: str) -> str:
    return str(jellyfish.soundex(value)) if value.strip() else ""


def metaphone(value: str) -> str:
    return str(jellyfish.metaphone(value)).upper()


def nysiis(value: str) -> str:
    return str(jellyfish.nysiis(value)) if value.strip() else ""
