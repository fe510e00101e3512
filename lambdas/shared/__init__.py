"""Helpers shared by every function in the asset: validation, event envelope, settings, clock."""
