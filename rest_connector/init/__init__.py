"""``rest-connector init``: a first pipeline YAML from an OpenAPI document or a sample URL."""
