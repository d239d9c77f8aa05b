"""The pure core: polars frames in, polars frames out. No printing, no files, no exits."""
