"""refs package."""
