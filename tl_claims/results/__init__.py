"""Results: the row schema, its files, tables, figures, replication, reports and diffs."""
