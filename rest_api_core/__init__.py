"""The core every plugin shares: HTTP (auth, retries, rate limits, requests in flight), secret
redaction, settings checks, the Arrow mapping of Singer schemas, and the plugins' start-up and
shutdown helpers. It knows nothing of Singer streams, of Delta tables or of the pipeline app."""
