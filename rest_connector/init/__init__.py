"""``rest-connector init``: a first pipeline YAML from an OpenAPI document or a sample URL."""

DEFAULT_DELTA_PATH = "./lake/{stream}"
"""Where the written pipeline's Delta output goes: one table per input."""
