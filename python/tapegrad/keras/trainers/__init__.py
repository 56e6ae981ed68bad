"""Placeholder: filled in by the branch that owns it (compile, fit, evaluate, predict)."""
