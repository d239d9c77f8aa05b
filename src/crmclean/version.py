"""The package version, in a module of its own: `crmclean/__init__.py` names the Python API,
which the layers below it must not import (pyproject.toml's import-linter contracts)."""

__version__ = "0.1.0"
