"""The rule file: YAML with positions, `extends:` and `vars:`, validated by pydantic models."""

from crmclean.config.loader import load_rules

__all__ = ["load_rules"]
