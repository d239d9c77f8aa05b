"""The shared registry: aliases, duplicates fail at import, did-you-mean."""

from __future__ import annotations

import pytest

from crmclean.core.registry import Registry, UnknownName


def test_aliases_resolve_to_the_registered_name() -> None:
    reg: Registry[int] = Registry("thing")
    reg.add("email_valid", 1, aliases=["email"])
    assert reg.canonical("email") == "email_valid"
    assert reg.get("email") == 1
    assert "email" in reg and "email_valid" in reg
    assert reg.names() == ["email_valid"]


def test_registering_a_name_twice_fails() -> None:
    reg: Registry[int] = Registry("thing")
    reg.add("a", 1, aliases=["b"])
    with pytest.raises(ValueError, match="registered twice"):
        reg.add("b", 2)


def test_unknown_name_suggests_close_names() -> None:
    reg: Registry[int] = Registry("check type")
    reg.add("not_null", 1, aliases=["required"])
    with pytest.raises(UnknownName) as caught:
        reg.canonical("requird")
    assert caught.value.suggestions == ["required"]
    assert "did you mean 'required'?" in caught.value.hint()


def test_decorator_returns_the_entry() -> None:
    reg: Registry[object] = Registry("thing")

    @reg.register("f")
    def f() -> None: ...

    assert reg.get("f") is f
