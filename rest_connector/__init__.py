"""Shared core of the REST API connector: HTTP layer, secret redaction, config checks."""
