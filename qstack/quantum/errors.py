"""The store's one error type, in a module of its own so that every record type can raise it."""

from __future__ import annotations


class QubitError(Exception):
    """A quantum operation named a qubit that cannot take it (no state there,
    or not one of the caller's)."""
