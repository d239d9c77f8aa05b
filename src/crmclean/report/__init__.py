"""Console tables, JSON, JUnit and HTML from result objects: the only place that styles output."""
