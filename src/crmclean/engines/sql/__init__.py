"""The SQL both SQL engines run (DuckDB on one machine, Spark on a cluster), written once:
comparison levels as CASE expressions (levels.py), comparing and scoring (scoring.py), and
where the two dialects differ (dialect.py)."""
