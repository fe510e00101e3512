"""The stack's constructs, one per concern: find a behaviour by its name."""
