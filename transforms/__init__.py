"""Pure transforms: text in, values out. No Prefect, no Elasticsearch, no environment, no network."""

PIPELINE_VERSION = "0.1.0"
