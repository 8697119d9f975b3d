"""tap_rest_api package."""
