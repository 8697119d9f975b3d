"""target_rest_api package."""
