"""``qstack report``: one self-contained HTML page that shows a run.

The page has the topology (links coloured by use, faults marked), each
request's timeline and its pairs' fidelity, latency and rate, QKD's bits
and QBER, teleportation against its closed form, the message sequence chart
of the first pairs (filterable in the page) with every message of the run
counted over time, and each layer's state machines with the transitions the
run took. Figures are SVG drawn in Python; a short script in the page draws
and filters the sequence chart. Nothing is fetched: the file opens from disk.
"""

from qstack.report.cli import report_command
from qstack.report.page import Sources, build_page

__all__ = ["Sources", "build_page", "report_command"]
