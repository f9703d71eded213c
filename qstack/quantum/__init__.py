"""The quantum state of a run: one store, one owner, and the oracle that reads it."""
