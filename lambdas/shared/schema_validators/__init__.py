"""Schema validators generated from schemas/ (shared/validators_codegen.py)."""
