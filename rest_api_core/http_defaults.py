"""The HTTP client's defaults, apart from the client: settings checks and descriptions quote
them without importing requests and urllib3 (the pipeline app validates a YAML file without
the HTTP stack)."""

DEFAULT_TIMEOUT = 60.0
"""Seconds to wait for a connection or for the next bytes of an answer."""
DEFAULT_MAX_RESPONSE_BYTES = 100 * 1024 * 1024
"""The largest answer (or record of a streamed format) read into memory."""
