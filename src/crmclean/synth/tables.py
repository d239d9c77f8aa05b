"""Lookup tables for the synthetic data generator: name, place and street lists per country.

The lists live as small CSV files under synth/data/ (package data, read once and cached).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import polars as pl

COUNTRIES = ("DE", "AT", "CH", "GB", "FR", "NL", "US", "ES", "IT", "DK")
COUNTRY_WEIGHTS = (0.30, 0.08, 0.07, 0.12, 0.10, 0.08, 0.11, 0.06, 0.06, 0.02)
CALLING_CODES = ("49", "43", "41", "44", "33", "31", "1", "34", "39", "45")
# The national trunk prefix dialled before the area code; Italy keeps its 0 in the number.
TRUNK_PREFIXES = ("0", "0", "0", "0", "0", "0", "", "", "", "")
# Number written before the street name ("12 High Street") rather than after it.
NUMBER_FIRST = ("GB", "FR", "US")

COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "DE": ("Deutschland", "Germany", "GER", "D", "de"),
    "AT": ("Österreich", "Austria", "AUT", "at"),
    "CH": ("Schweiz", "Switzerland", "Suisse", "CH "),
    "GB": ("UK", "United Kingdom", "England", "Great Britain", "U.K."),
    "FR": ("France", "FRA", "fr"),
    "NL": ("Nederland", "Netherlands", "Holland", "NLD"),
    "US": ("USA", "U.S.A.", "United States", "US of A", "U.S."),
    "ES": ("España", "Spain", "ESP", "es"),
    "IT": ("Italia", "Italy", "ITA", "it"),
    "DK": ("Danmark", "Denmark", "DNK"),
}
# (male, female) salutations; the second of each is the variant some sources use.
SALUTATIONS: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "DE": (("Herr", "Hr."), ("Frau", "Fr.")),
    "AT": (("Herr", "Hr."), ("Frau", "Fr.")),
    "CH": (("Herr", "Hr."), ("Frau", "Fr.")),
    "GB": (("Mr", "Mr."), ("Mrs", "Ms")),
    "FR": (("M.", "Monsieur"), ("Mme", "Madame")),
    "NL": (("Dhr.", "De heer"), ("Mevr.", "Mevrouw")),
    "US": (("Mr.", "Mr"), ("Ms.", "Mrs.")),
    "ES": (("Sr.", "Don"), ("Sra.", "Doña")),
    "IT": (("Sig.", "Signor"), ("Sig.ra", "Signora")),
    "DK": (("Hr.", "Herr"), ("Fru", "Fr.")),
}
LEGAL_FORMS: dict[str, tuple[str, ...]] = {
    "DE": ("GmbH", "GmbH & Co. KG", "AG", "KG", "e.K."),
    "AT": ("GmbH", "KG", "OG", "AG"),
    "CH": ("AG", "GmbH", "Sàrl", "SA"),
    "GB": ("Ltd", "Limited", "PLC", "LLP"),
    "FR": ("SARL", "SAS", "SA", "EURL"),
    "NL": ("B.V.", "N.V.", "V.O.F."),
    "US": ("Inc.", "LLC", "Corp."),
    "ES": ("S.L.", "S.A.", "S.L.U."),
    "IT": ("S.r.l.", "S.p.A.", "S.n.c."),
    "DK": ("ApS", "A/S", "I/S"),
}
TRADES: dict[str, tuple[str, ...]] = {
    "DE": ("Bau", "Elektrotechnik", "Logistik", "Immobilien", "Consulting", "Metallbau"),
    "AT": ("Bau", "Holzbau", "Logistik", "Immobilien", "Tischlerei"),
    "CH": ("Treuhand", "Bau", "Immobilien", "Informatik", "Uhren"),
    "GB": ("Construction", "Consulting", "Holdings", "Logistics", "Trading"),
    "FR": ("Bâtiment", "Conseil", "Transports", "Immobilier", "Électricité"),
    "NL": ("Bouw", "Installatietechniek", "Transport", "Advies"),
    "US": ("Construction", "Solutions", "Holdings", "Logistics", "Realty"),
    "ES": ("Construcciones", "Consultoría", "Transportes", "Inmobiliaria"),
    "IT": ("Costruzioni", "Consulenze", "Trasporti", "Immobiliare"),
    "DK": ("Byg", "Transport", "Rådgivning", "Tømrer"),
}

_DE_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
_NORDIC = {"ø": "oe", "Ø": "Oe", "å": "aa", "Å": "Aa", "æ": "ae", "Æ": "Ae"}
_ACCENTS = dict(
    zip(
        "áàâãéèêëíìîïóòôõúùûçñýÿıÁÀÂÉÈÊËÍÌÎÓÒÔÚÙÛÇÑ",
        "aaaaeeeeiiiioooouuucnyyiAAAEEEEIIIOOOUUUCN",
        strict=True,
    )
)
# Two ways people write names without their special letters: Müller -> Mueller / Muller.
TRANSLIT_EXPAND: dict[str, str] = {**_DE_UMLAUTS, **_NORDIC, **_ACCENTS}
TRANSLIT_STRIP: dict[str, str] = {
    **{k: v[0] for k, v in _DE_UMLAUTS.items() if k != "ß"},
    "ß": "ss",
    **{k: v[0] for k, v in _NORDIC.items()},
    **_ACCENTS,
}

# Abbreviations that clerks type for street types and legal forms.
STREET_ABBREVIATIONS: dict[str, str] = {
    "straße": "str.",
    "Straße": "Str.",
    "strasse": "str.",
    "Strasse": "Str.",
    "gasse": "g.",
    "straat": "str.",
    " Street": " St",
    " Road": " Rd",
    " Avenue": " Ave",
    " Lane": " Ln",
    " Drive": " Dr",
    " Boulevard": " Blvd",
    "avenue ": "av. ",
    "boulevard ": "bd ",
    "Calle ": "C/ ",
    "Avenida ": "Avda. ",
    "Plaza ": "Pza. ",
    "Via ": "V. ",
    "Corso ": "C.so ",
    "Piazza ": "P.za ",
    "vej ": "v. ",
    "gade ": "g. ",
}


@dataclass(frozen=True)
class Pool:
    """Table rows grouped by an integer key: group g owns rows start[g] .. start[g]+size[g]-1."""

    rows: pl.DataFrame
    start: np.ndarray
    size: np.ndarray

    def pick(self, group: np.ndarray, rng: np.random.Generator, skew: float = 1.0) -> np.ndarray:
        """One row index per entry of `group`; skew > 1 favours the first (most common) rows."""
        u = rng.random(len(group)) ** skew
        size = self.size[group]
        picked: np.ndarray = self.start[group] + np.minimum((u * size).astype(np.int64), size - 1)
        return picked

    def other(self, group: np.ndarray, index: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A row of the same group that differs from `index` (groups have at least 2 rows)."""
        size = self.size[group]
        step = 1 + (rng.random(len(group)) * (size - 1)).astype(np.int64)
        moved: np.ndarray = self.start[group] + (index - self.start[group] + step) % size
        return moved


def _read(name: str, package: str = "crmclean.synth") -> pl.DataFrame:
    raw = resources.files(package).joinpath("data", name).read_bytes()
    return pl.read_csv(io.BytesIO(raw), infer_schema_length=0)


def _pool(frame: pl.DataFrame, with_sex: bool = False) -> Pool:
    key = pl.col("country").replace_strict(list(COUNTRIES), list(range(len(COUNTRIES))))
    if with_sex:
        key = key * 2 + (pl.col("sex") == "f").cast(pl.Int64)
    keyed = frame.with_columns(_key=key).sort("_key", maintain_order=True)
    n_groups = len(COUNTRIES) * (2 if with_sex else 1)
    counts = np.bincount(keyed["_key"].to_numpy(), minlength=n_groups).astype(np.int64)
    if (counts < 2).any():
        raise ValueError(f"every country needs at least two rows in its list (counts {counts})")
    start = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    return Pool(keyed.drop("_key"), start, counts)


@dataclass(frozen=True)
class Tables:
    first_names: Pool
    last_names: Pool
    places: Pool
    streets: Pool
    mobiles: Pool
    providers: Pool
    nicknames: pl.DataFrame


@cache
def tables() -> Tables:
    return Tables(
        first_names=_pool(_read("first_names.csv"), with_sex=True),
        last_names=_pool(_read("last_names.csv")),
        places=_pool(_read("places.csv")),
        streets=_pool(_read("streets.csv")),
        mobiles=_pool(_read("mobiles.csv")),
        providers=_pool(_read("providers.csv")),
        nicknames=_read("nicknames.csv", "crmclean.core"),  # shared with the core
    )


def fill_templates(templates: pl.Series, index: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fill templates[index]: '#' a digit, '%' a digit 2-9, '@' a capital letter (vectorised)."""
    table = templates.to_numpy().astype(str)
    width = table.dtype.itemsize // 4
    codes = table.view(np.uint32).reshape(len(table), width)[index].copy()
    any_digit = rng.integers(48, 58, size=codes.shape, dtype=np.uint32)
    high_digit = rng.integers(50, 58, size=codes.shape, dtype=np.uint32)
    letters = np.frombuffer("ABDEFGHJLNPQRSTUWXYZ".encode("utf-32-le"), dtype=np.uint32)
    letter = letters[rng.integers(0, len(letters), size=codes.shape)]
    codes = np.where(codes == ord("#"), any_digit, codes)
    codes = np.where(codes == ord("%"), high_digit, codes)
    codes = np.where(codes == ord("@"), letter, codes)
    filled: np.ndarray = codes.view(f"<U{width}").ravel()
    return filled


def country_index(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.choice(len(COUNTRIES), size=n, p=np.array(COUNTRY_WEIGHTS) / sum(COUNTRY_WEIGHTS))


def by_country(
    mapping: Mapping[str, tuple[str, ...]], country: np.ndarray, pick: np.ndarray
) -> pl.Series:
    """mapping[COUNTRIES[country]][pick % len] per entry, without a Python loop over entries."""
    values = [v for c in COUNTRIES for v in mapping[c]]
    size = np.array([len(mapping[c]) for c in COUNTRIES], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(size)[:-1]])
    return pl.Series(values, dtype=pl.String).gather(start[country] + pick % size[country])
