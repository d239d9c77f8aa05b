"""What a column is for, read from its name: the roles `rules init` gives columns (first name,
phone, postcode ...) and which column identifies the record.

Names in English, German, French, Dutch and Spanish. An id is named like one (`id`, `kunden_nr`,
`kundennummer`, `customerid`, `custno`, `kdnr`) and is no other role: `phone_number`,
`telefonnummer`, `house_number` and `postcode` are numbers, not ids.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crmclean.core.profile.model import ColumnProfile

_W = r"(?:^|[_ .-])"  # word boundaries inside a column name
_E = r"(?:$|[_ .-])"
# Role -> (semantic types that qualify a column alone, column-name pattern). Checked in this
# order; a name match needs a compatible type (a `mail_date` column is no e-mail address).
ROLES: dict[str, tuple[tuple[str, ...], str]] = {
    "email": (("email",), r"e.?mail|courriel|correo|mail"),
    "phone": (("phone",), rf"phone|{_W}tel|mobil|handy|portable|movil|móvil"),
    "date_of_birth": ((), r"birth|geburt|dob|born|naissance|nacimiento|geboorte"),
    "updated": ((), r"updated|modified|changed|geändert|geaendert|aktualisiert"),
    "created": ((), r"created|erstellt|angelegt|crée|registered"),
    "first_name": ((), r"first|vorname|given|fore|pr[ée]nom|nombre|voornaam|fname"),
    "company": ((), r"company|firma|organi[sz]ation|employer|unternehmen|soci[ée]t[ée]"),
    "last_name": (
        (),
        r"last|surname|nachname|family|familienname|lname|achternaam|apellido|"
        rf"{_W}nom{_E}|{_W}name{_E}",
    ),
    "salutation": ((), r"salutation|anrede|title|civilit|aanhef|tratamiento"),
    "street": ((), rf"street|stra(?:ss|ß)e|address|adresse|addr|{_W}rue|straat|calle|{_W}via{_E}"),
    "postcode": (("postcode",), rf"plz|zip|post.?code|postal|postleitzahl|{_W}cp{_E}"),
    "city": ((), rf"city|{_W}ort{_E}|stadt|town|ville|plaats|ciudad|citt|wohnort"),
    "country": (("country",), r"country|land|pays|pais|país|nation"),
    "source": ((), r"source|system|quelle|herkunft|origin"),
}

# Who a record is about, run together with its number: kundennr, customerid, custno, kdnr.
_PARTY = (
    r"kunden?|kd|customer|cust|client|cli|klant|cliente?|member|mitglieds?|account|acct|konto|"
    r"debitor|debtor|debitoren|partner|contact|kontakt|person|personen|user|lead|record|datensatz|"
    r"relatie|adressen?|interessent"
)
_NUMBER = r"id|nr|no|num|number|nummer|key|numero|número"
# A compound or a separate id word: `kunden_nr`, `customer-id`, `id`, `key`, `Kunden-Nr.`.
ID_NAME = re.compile(rf"^(?:(?:{_PARTY})[_ .-]?)?(?:{_NUMBER})\.?$|{_W}(?:{_NUMBER})\.?$")
STRONG_ID_NAME = re.compile(rf"^(?:{_PARTY})[_ .-]?(?:{_NUMBER})\.?$")
# Numbers that are part of an address or an account, not of the customer.
NOT_ID = re.compile(
    rf"haus|house|hnr|steuer|iban|invoice|rechnung|order|bestell|{_W}(?:tax|vat|ust|bic|fax)"
)
_NOT_ID_ROLES = [role for role in ROLES if role != "source"]  # source_id may well be the id
NOT_ID_TYPES = ("email", "phone", "date", "datetime", "boolean", "decimal")


def named_like_id(name: str) -> bool:
    """An id word alone or run into a party word, and no other role's name."""
    lowered = name.lower().strip()
    if not ID_NAME.search(lowered) or NOT_ID.search(lowered):
        return False
    return not any(re.search(ROLES[role][1], lowered) for role in _NOT_ID_ROLES)


def id_candidates(columns: list[ColumnProfile], rows: int) -> list[ColumnProfile]:
    """Columns named like an id, always present (the reader refuses a record without an id)
    and mostly different (a repeated code is no id), best first: all different, then the fewest
    repeats, then a party's number (kundennr) before a bare `id`."""
    named = [
        c
        for c in columns
        if named_like_id(c.name)
        and c.semantic_type not in NOT_ID_TYPES
        and c.nulls == 0
        and 2 * c.distinct > rows > 0
    ]

    def rank(column: ColumnProfile) -> tuple[int, bool]:
        strong = STRONG_ID_NAME.search(column.name.lower()) is not None
        return (rows - column.distinct, not strong)

    return sorted(named, key=rank)  # stable: the first column wins a tie


def unique_id_column(columns: list[ColumnProfile], rows: int) -> str | None:
    """The best column named like an id whose values are all present and all different."""
    best = next(iter(id_candidates(columns, rows)), None)
    return best.name if best and best.distinct == rows else None
