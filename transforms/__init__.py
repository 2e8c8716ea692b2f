"""Pure transforms: text in, values out. No Prefect, no Elasticsearch, no environment, no network."""

from newsdex import __version__

# Every document carries the version of the pipeline that made it; batch keys include it.
PIPELINE_VERSION = __version__
