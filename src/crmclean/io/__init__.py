"""Readers and atomic writers: the only code that touches the file system."""
