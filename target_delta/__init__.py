"""target_delta package."""
