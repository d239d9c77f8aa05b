"""The publish guard's reading of a `?query=` input, without a server: what a query may read
is judged on its text with comments removed, and on libpq's defaults for a URL that leaves the
database or the user out (the attacker review got past each of these)."""

from __future__ import annotations

import getpass

import pytest

from crmclean.errors import UsageError
from crmclean.io.database_url import parse_database_url, parse_publish_url
from crmclean.io.publish_guard import refuse_input_tables

TARGET = "postgresql://crm@db/crm?schema=public"


@pytest.mark.parametrize(
    "source",
    [
        "postgresql://crm@db/crm?query=select * from public/**/.golden",
        "postgresql://crm@db/crm?query=select * from public/* a /* nested */ b */.golden",
        "postgresql://crm@db/crm?query=select * from public--x\n.golden",
        'postgresql://crm@db/crm?query=select * from U&"g\\006Flden"',
        "postgresql://crm@db/crm?query=select * from query_to_xml('select 1',true,true,'') x",
        "postgresql://crm@db/?query=select * from public.golden",  # database: the user's name
        "postgresql://crm@db?query=select * from golden",
    ],
)
def test_a_query_that_may_read_a_published_table_is_refused(source: str) -> None:
    with pytest.raises(UsageError):
        refuse_input_tables(parse_publish_url(TARGET), [parse_database_url(source)])


def test_without_a_user_the_search_path_is_the_operating_system_users(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PGUSER", raising=False)
    me = getpass.getuser()
    target = parse_publish_url(f"postgresql://db/crm?schema={me}")
    with pytest.raises(UsageError):
        refuse_input_tables(
            target, [parse_database_url("postgresql://db/crm?query=select * from golden")]
        )


@pytest.mark.parametrize(
    "source",
    [
        "postgresql://crm@db/crm?query=select * from customers",
        "postgresql://crm@db/other?query=select * from public.golden",  # another database
        "postgresql://crm@db/crm?query=select * from shop.golden",  # another schema
    ],
)
def test_a_query_that_cannot_read_a_published_table_goes_on(source: str) -> None:
    refuse_input_tables(parse_publish_url(TARGET), [parse_database_url(source)])
