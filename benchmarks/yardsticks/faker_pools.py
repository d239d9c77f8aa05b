"""Value pools for the Faker yardstick: names, streets, towns, companies per country, from Faker.

Faker is called only here, a few thousand times per locale; the records are then drawn from
these pools with numpy, so 100k rows take seconds. Pools are deterministic for a seed and a
Faker version (Faker's own word lists change between releases: the version is part of the
data folder's fingerprint).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from faker import Faker

# country code, Faker locale, share of entities, calling code, trunk prefix, mobile prefixes
# (national significant number starts), NSN length, house number after the street?
COUNTRIES: tuple[tuple[str, str, float, str, str, tuple[str, ...], int, bool], ...] = (
    ("DE", "de_DE", 0.24, "49", "0", ("151", "160", "170", "171", "176"), 11, True),
    ("GB", "en_GB", 0.16, "44", "0", ("74", "75", "77", "78", "79"), 10, False),
    ("US", "en_US", 0.18, "1", "", ("212", "305", "415", "617", "713", "917"), 10, False),
    ("FR", "fr_FR", 0.14, "33", "0", ("6", "7"), 9, False),
    ("IT", "it_IT", 0.10, "39", "", ("320", "333", "347", "348"), 10, True),
    ("ES", "es_ES", 0.10, "34", "", ("6", "7"), 9, True),
    ("NL", "nl_NL", 0.08, "31", "0", ("6",), 9, True),
)

# A record's e-mail provider when the person has none of their country's own.
GLOBAL_PROVIDERS = ("gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com")
LOCAL_PROVIDERS = {
    "DE": ("web.de", "gmx.de", "t-online.de", "freenet.de"),
    "GB": ("btinternet.com", "sky.com", "hotmail.co.uk", "yahoo.co.uk"),
    "US": ("aol.com", "comcast.net", "att.net", "verizon.net"),
    "FR": ("orange.fr", "free.fr", "laposte.net", "sfr.fr"),
    "IT": ("libero.it", "virgilio.it", "alice.it", "tiscali.it"),
    "ES": ("telefonica.net", "yahoo.es", "hotmail.es", "terra.es"),
    "NL": ("ziggo.nl", "kpnmail.nl", "planet.nl", "home.nl"),
}
SALUTATION = {  # (male, female)
    "DE": ("Herr", "Frau"),
    "GB": ("Mr", "Mrs"),
    "US": ("Mr.", "Ms."),
    "FR": ("M.", "Mme"),
    "IT": ("Sig.", "Sig.ra"),
    "ES": ("Sr.", "Sra."),
    "NL": ("Dhr.", "Mevr."),
}
# Familiar forms written instead of the given name; names without one are shortened instead.
NICKNAMES = {
    "William": "Bill",
    "Robert": "Bob",
    "Richard": "Dick",
    "James": "Jim",
    "Thomas": "Tom",
    "Michael": "Mike",
    "Christopher": "Chris",
    "Elizabeth": "Liz",
    "Katherine": "Kate",
    "Margaret": "Maggie",
    "Jennifer": "Jenny",
    "Rebecca": "Becky",
    "Joseph": "Joe",
    "Daniel": "Dan",
    "Matthew": "Matt",
    "Anthony": "Tony",
    "Patricia": "Pat",
    "Susan": "Sue",
    "Johannes": "Hans",
    "Wolfgang": "Wolf",
    "Alexander": "Alex",
    "Katharina": "Kathi",
    "Christian": "Chris",
    "Stefan": "Steffi",
    "Franziska": "Franzi",
    "Maximilian": "Max",
    "Giuseppe": "Peppe",
    "Francesco": "Checco",
    "Giovanni": "Gianni",
    "Antonio": "Toni",
    "Francisco": "Paco",
    "José": "Pepe",
    "Manuel": "Manolo",
    "Dolores": "Lola",
    "Guillaume": "Guigui",
    "Nicolas": "Nico",
    "Frédéric": "Fred",
    "Dominique": "Dom",
    "Hendrik": "Henk",
    "Johanna": "Anneke",
    "Cornelis": "Kees",
    "Jacobus": "Koos",
}


@dataclass(frozen=True)
class Pools:
    """Flat arrays over all countries; `<kind>_range[c]` is (start, stop) of country c."""

    male: np.ndarray
    female: np.ndarray
    last: np.ndarray
    street: np.ndarray
    postcode: np.ndarray
    city: np.ndarray
    company: np.ndarray
    male_range: np.ndarray
    female_range: np.ndarray
    last_range: np.ndarray
    street_range: np.ndarray
    town_range: np.ndarray
    company_range: np.ndarray

    def draw(self, kind: str, country: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Indices into pool `kind`, uniform within each record's country."""
        ranges = getattr(self, f"{kind}_range")
        start, stop = ranges[country, 0], ranges[country, 1]
        return start + (rng.random(len(country)) * (stop - start)).astype(np.int64)


def _unique(values: list[str], limit: int) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))[:limit]


def _stable_word_lists(fake: Faker) -> None:
    """Sort the word lists Faker builds from a set (it_IT's cities), whose order follows the
    process's string hashing: without this the same seed gives other towns in each run."""
    for provider in fake.get_providers():
        cities = getattr(provider, "cities", None)
        if isinstance(cities, list):
            provider.cities = sorted(cities)


@functools.cache
def build_pools(seed: int, size: int = 1500) -> Pools:
    parts: dict[str, list[list[str]]] = {
        k: [] for k in ("male", "female", "last", "street", "postcode", "city", "company")
    }
    for index, (_, locale, *_rest) in enumerate(COUNTRIES):
        fake = Faker(locale)
        fake.seed_instance(seed * 1000 + index)
        _stable_word_lists(fake)
        parts["male"].append(_unique([fake.first_name_male() for _ in range(size)], size))
        parts["female"].append(_unique([fake.first_name_female() for _ in range(size)], size))
        parts["last"].append(_unique([fake.last_name() for _ in range(size * 2)], size * 2))
        parts["street"].append(_unique([fake.street_name() for _ in range(size)], size))
        towns = [(fake.postcode(), fake.city()) for _ in range(size // 2)]
        parts["postcode"].append([p for p, _ in towns])
        parts["city"].append([c for _, c in towns])
        parts["company"].append(_unique([fake.company() for _ in range(size // 4)], size))

    def flat(kind: str) -> tuple[np.ndarray, np.ndarray]:
        lists = parts[kind]
        stops = np.cumsum([len(x) for x in lists])
        ranges = np.stack([stops - [len(x) for x in lists], stops], axis=1)
        return np.array([v for x in lists for v in x], dtype=object), ranges

    male, male_range = flat("male")
    female, female_range = flat("female")
    last, last_range = flat("last")
    street, street_range = flat("street")
    postcode, town_range = flat("postcode")
    city, _ = flat("city")
    company, company_range = flat("company")
    return Pools(
        male, female, last, street, postcode, city, company,
        male_range, female_range, last_range, street_range, town_range, company_range,
    )  # fmt: skip
