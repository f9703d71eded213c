"""Lifecycles as data: one table, compiled to a machine, a fast table and diagrams."""

from qstack.fsm.table import FastTable, ProtocolError, StateTable, Transition, fire

__all__ = ["FastTable", "ProtocolError", "StateTable", "Transition", "fire"]
