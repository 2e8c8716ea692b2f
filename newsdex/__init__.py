"""newsdex: batch ETL from messy scraped news to a clean, deduplicated, faceted full-text index.

One importable package. In the repository its parts keep their own top-level folders (flows/,
transforms/, connectors/, mappings/); pyproject.toml maps them to newsdex.flows,
newsdex.transforms, newsdex.connectors and newsdex.mappings.
"""

# The version of the package and of the documents it writes (`pipeline_version`): change it when
# the output changes (a new cleaner model, new fields), so finished batches are redone.
__version__ = "0.2.0"
