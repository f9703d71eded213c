"""Read, check, choose and draw message traces (``qstack trace``).

A trace is what :class:`qstack.sim.trace.JsonLinesTracer` writes: one JSON
object a line (``specs/trace.md``). Every stage works line by line, so a
trace of any size is read in flat memory:

- :func:`iter_trace` checks each line (message models where they exist,
  unknown record kinds read as they are, a cut last line skipped with a
  warning);
- :class:`Selection` keeps the lines of some nodes, layers, one request and
  a time window; :class:`Cut` stops after the first pairs or a window's end;
- :func:`match_messages` pairs each receipt with its send on the whole trace;
- :func:`write_text` / :func:`write_mermaid` draw them.

:func:`trace_command` is the command line behind ``qstack trace``.
"""

from qstack.tracing.cli import trace_command, trace_source
from qstack.tracing.match import Delivery, Item, Lost, Note, match_messages
from qstack.tracing.reader import (
    OtherMessage,
    TraceDirection,
    TraceError,
    TraceLine,
    iter_trace,
    lines_from_records,
    parse_line,
    read_trace,
)
from qstack.tracing.render import (
    LAYER_ORDER,
    describe,
    render_mermaid,
    render_text,
    seconds,
    short_seconds,
    write_mermaid,
    write_text,
)
from qstack.tracing.select import (
    Cut,
    RequestId,
    RequestTracker,
    Selection,
    filter_trace,
    link_key,
    parse_window,
)

__all__ = [
    "LAYER_ORDER",
    "Cut",
    "Delivery",
    "Item",
    "Lost",
    "Note",
    "OtherMessage",
    "RequestId",
    "RequestTracker",
    "Selection",
    "TraceDirection",
    "TraceError",
    "TraceLine",
    "describe",
    "filter_trace",
    "iter_trace",
    "lines_from_records",
    "link_key",
    "match_messages",
    "parse_line",
    "parse_window",
    "read_trace",
    "render_mermaid",
    "render_text",
    "seconds",
    "short_seconds",
    "trace_command",
    "trace_source",
    "write_mermaid",
    "write_text",
]
