"""crmclean: trustworthy customer master data (rules, standardisation, matching, golden records)."""

__version__ = "0.1.0"
