"""qstack: build, run and conformance-test quantum-internet protocol stacks."""

__version__ = "0.1.0"
