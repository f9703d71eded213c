"""Deliberately broken layers, each breaking one clause of its contract."""
