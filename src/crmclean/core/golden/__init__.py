"""Golden records: stable golden ids, survivorship (one value per column, with lineage) and the
golden step that joins them into golden records, crosswalk and review queue."""
