"""The true customers (entities) of a synthetic data set, including the hard non-duplicates.

Entities are drawn as integer indices into the lookup tables (numpy arrays), so deriving a
household member or a namesake from another entity is plain index copying; strings are looked
up once at the end.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crmclean.synth.tables import (
    COUNTRIES,
    LEGAL_FORMS,
    TRADES,
    Tables,
    by_country,
    country_index,
    fill_templates,
)

Columns = dict[str, np.ndarray]

# Kinds of entities; all but "unique" are hard non-duplicates of their `related` entity.
KINDS = ("unique", "household", "jr_sr", "twin", "namesake")
_HARD_KIND_SHARES = (0.50, 0.12, 0.08, 0.30)
_DAY = 365.25
_EPOCH_YEAR = 1970
_LATEST_DOB = int((2007 - _EPOCH_YEAR) * _DAY)  # customers are adults
_EARLIEST_DOB = int((1928 - _EPOCH_YEAR) * _DAY)


def draw_address(
    country: np.ndarray, rng: np.random.Generator, t: Tables, place: np.ndarray | None = None
) -> Columns:
    """A fresh address per entry: place (city, postcode, landline area), street and number."""
    n = len(country)
    if place is None:
        place = t.places.pick(country, rng, skew=1.7)
    return {
        "place": place,
        "street": t.streets.pick(country, rng, skew=1.3),
        "house": np.minimum(rng.geometric(0.045, n), 280),
        "suffix": rng.choice(3, size=n, p=[0.88, 0.06, 0.06]),
        "postcode": fill_templates(t.places.rows["postcode"], place, rng),
        "land_local": fill_templates(t.places.rows["local"], place, rng),
    }


def _draw_dob(rng: np.random.Generator, n: int) -> np.ndarray:
    years = np.clip(rng.normal(1974, 16, n), 1930, 2006)
    days = (years - _EPOCH_YEAR) * _DAY + rng.random(n) * _DAY
    return np.clip(days.astype(np.int64), _EARLIEST_DOB, _LATEST_DOB)


def draw_people(n: int, rng: np.random.Generator, t: Tables) -> Columns:
    """n independent people; every column is an index, a number or a fixed-width string array."""
    country = country_index(rng, n)
    sex = rng.integers(0, 2, n)
    first = t.first_names.pick(country * 2 + sex, rng, skew=1.6)
    mobile = t.mobiles.pick(country, rng)
    columns: Columns = {
        "country": country,
        "sex": sex,
        "first": first,
        "last": t.last_names.pick(country, rng, skew=1.8),
        "mobile": mobile,
        "mob_local": fill_templates(t.mobiles.rows["local"], mobile, rng),
        "landline": rng.random(n) < 0.4,
        "doctor": (rng.random(n) < 0.06) & (country < 3),  # 'Dr.' in German-speaking countries
        "generation": np.zeros(n, dtype=np.int64),  # 1 junior, 2 senior of a jr_sr pair
        "dob": _draw_dob(rng, n),
        "email_first": first.copy(),  # its own array: shared e-mails overwrite it
        "email_style": rng.integers(0, 8, n),
        "provider": t.providers.pick(country, rng, skew=1.5),
        "email_num": rng.integers(1, 100, n),
        "mailbox": np.arange(n, dtype=np.int64),  # whose mailbox: a household may share one
        "company_kind": rng.choice(4, size=n, p=[0.8, 0.1, 0.04, 0.06]),
        "last2": t.last_names.pick(country, rng),
        "legal": rng.integers(0, 60, n),
        "trade": rng.integers(0, 60, n),
        "kind": np.zeros(n, dtype=np.int64),
        "related": np.full(n, -1, dtype=np.int64),
    }
    columns.update(draw_address(country, rng, t))
    return columns


_ADDRESS = ("country", "place", "street", "house", "suffix", "postcode", "land_local")


def _copy(c: Columns, names: tuple[str, ...], to: np.ndarray, base: np.ndarray) -> None:
    for name in names:
        c[name][to] = c[name][base]


def _new_first_name(
    c: Columns, to: np.ndarray, base: np.ndarray, rng: np.random.Generator, t: Tables
) -> None:
    """A first name from the (possibly copied) country that differs from the base's."""
    group = c["country"][to] * 2 + c["sex"][to]
    first = t.first_names.pick(group, rng, skew=1.6)
    same = first == c["first"][base]
    first[same] = t.first_names.other(group[same], first[same], rng)
    c["first"][to] = first
    c["email_first"][to] = first


def _shift_years(days: np.ndarray, years: np.ndarray) -> np.ndarray:
    shifted: np.ndarray = np.clip(
        days + (years * _DAY).astype(np.int64), _EARLIEST_DOB, _LATEST_DOB
    )
    return shifted


def _household(c: Columns, to: np.ndarray, base: np.ndarray, rng: np.random.Generator) -> None:
    """Partner or grown-up child at the same address; often the same landline, sometimes e-mail."""
    n = len(to)
    child = (rng.random(n) < 0.35) & (c["dob"][base] < _LATEST_DOB - int(30 * _DAY))
    partner = rng.normal(0, 3.5, n)
    # Partners of the youngest customers are older than them, not born after 2007.
    young = c["dob"][base] > _LATEST_DOB - int(6 * _DAY)
    partner = np.where(young, -np.abs(partner), partner)
    offset = np.where(child, rng.uniform(22, 34, n), partner)
    c["dob"][to] = _shift_years(c["dob"][base], offset)
    share_phone = rng.random(n) < 0.6
    c["landline"][to] = share_phone
    c["landline"][base[share_phone]] = True
    share_mail = rng.random(n) < 0.15
    for name in ("email_first", "email_style", "provider", "email_num", "mailbox"):
        c[name][to[share_mail]] = c[name][base[share_mail]]
    c["company_kind"][to] = 0


def _jr_sr(c: Columns, to: np.ndarray, base: np.ndarray, rng: np.random.Generator) -> None:
    """Same name and address, born a generation apart (junior or senior of the base)."""
    n = len(to)
    gap = rng.uniform(25, 35, n)
    junior_fits = c["dob"][base] + (gap * _DAY).astype(np.int64) <= _LATEST_DOB
    c["dob"][to] = _shift_years(c["dob"][base], np.where(junior_fits, gap, -gap))
    c["generation"][to] = np.where(junior_fits, 1, 2)
    c["generation"][base] = np.where(junior_fits, 2, 1)
    share_phone = rng.random(n) < 0.5
    c["landline"][to] = share_phone
    c["landline"][base[share_phone]] = True


def _twin(c: Columns, to: np.ndarray, base: np.ndarray, rng: np.random.Generator) -> None:
    """Same last name, address and birthday; another first name."""
    c["dob"][to] = c["dob"][base]
    share_phone = rng.random(len(to)) < 0.7
    c["landline"][to] = share_phone
    c["landline"][base[share_phone]] = True


def _clustered(bases: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n picks from bases where 30 % repeat the previous pick: the same common name in one
    town several times over (cluster sizes 1, 2, 3+ about 70/21/9 %)."""
    if n == 0:
        return bases[:0]
    new_cluster = rng.random(n) >= 0.3
    new_cluster[0] = True
    heads = bases[rng.integers(0, len(bases), int(new_cluster.sum()))]
    picked: np.ndarray = heads[np.cumsum(new_cluster) - 1]
    return picked


def derive_hard_cases(c: Columns, share: float, rng: np.random.Generator, t: Tables) -> None:
    """Turn `share` of the entities into hard non-duplicates of other (base) entities."""
    n = len(c["kind"])
    n_hard = min(round(n * share), n // 2)
    if n_hard == 0:
        return
    order = rng.permutation(n)
    derived, bases = order[:n_hard], order[n_hard:]
    base = bases[rng.integers(0, len(bases), n_hard)]
    kind = 1 + rng.choice(len(_HARD_KIND_SHARES), size=n_hard, p=_HARD_KIND_SHARES)
    namesakes = np.flatnonzero(kind == KINDS.index("namesake"))
    base[namesakes] = _clustered(bases, len(namesakes), rng)
    c["kind"][derived] = kind
    c["related"][derived] = base
    for k, name in enumerate(KINDS[1:], start=1):
        to, frm = derived[kind == k], base[kind == k]
        if name == "namesake":
            _copy(c, ("country", "place", "sex", "first", "last", "email_first"), to, frm)
            fresh = draw_address(c["country"][to], rng, t, place=c["place"][to])
            for key, values in fresh.items():
                c[key][to] = values
            continue
        _copy(c, (*_ADDRESS, "last"), to, frm)
        if name == "jr_sr":
            _copy(c, ("sex", "first", "email_first"), to, frm)
            _jr_sr(c, to, frm, rng)
            continue
        _new_first_name(c, to, frm, rng, t)
        (_household if name == "household" else _twin)(c, to, frm, rng)
    # Copied countries need their own mobile numbers and mail providers.
    country = c["country"][derived]
    c["provider"][derived] = t.providers.pick(country, rng, skew=1.5)
    mobile = t.mobiles.pick(country, rng)
    c["mobile"][derived] = mobile
    c["mob_local"][derived] = fill_templates(t.mobiles.rows["local"], mobile, rng)


def entity_frame(c: Columns, t: Tables) -> pl.DataFrame:
    """Look the strings up: one row per entity, clean values plus the parts rows are built from."""
    first = t.first_names.rows["name"]
    last = t.last_names.rows["name"]
    places = t.places.rows
    n = len(c["kind"])
    return pl.DataFrame(
        {
            "entity": np.arange(n, dtype=np.int64),
            "kind": pl.Series(KINDS).gather(c["kind"]),
            "related": pl.Series(c["related"]).replace(-1, None),
            "iso": pl.Series(COUNTRIES).gather(c["country"]),
            "country_i": c["country"],
            "female": c["sex"] == 1,
            "first_name": first.gather(c["first"]),
            "last_name": last.gather(c["last"]),
            "email_first": first.gather(c["email_first"]),
            "email_style": c["email_style"],
            "provider": t.providers.rows["domain"].gather(c["provider"]),
            "email_num": c["email_num"],
            "mailbox": c["mailbox"],
            "company_kind": c["company_kind"],
            "last2": last.gather(c["last2"]),
            "legal_form": by_country(LEGAL_FORMS, c["country"], c["legal"]),
            "trade_word": by_country(TRADES, c["country"], c["trade"]),
            "street_name": t.streets.rows["street"].gather(c["street"]),
            "house": c["house"],
            "suffix": c["suffix"],
            "postcode": c["postcode"],
            "city": places["city"].gather(c["place"]),
            "land_area": places["area"].gather(c["place"]),
            "land_local": c["land_local"],
            "mob_prefix": t.mobiles.rows["prefix"].gather(c["mobile"]),
            "mob_local": c["mob_local"],
            "landline": c["landline"],
            "doctor": c["doctor"],
            "generation": c["generation"],
            "dob": pl.Series(c["dob"]).cast(pl.Int32).cast(pl.Date),
        }
    )
