"""Placeholder: filled in by the branch that owns it."""
__all__ = []
