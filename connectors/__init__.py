"""I/O connectors: input readers, the embedded index, the Elasticsearch sink, run state."""
