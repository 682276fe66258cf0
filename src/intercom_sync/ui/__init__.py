"""Terminal presentation."""
