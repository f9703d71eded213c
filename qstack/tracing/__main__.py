"""``python -m qstack.tracing``: the same as ``qstack trace``."""

import sys

from qstack.tracing.cli import trace_command

sys.exit(trace_command(sys.argv[1:]))
