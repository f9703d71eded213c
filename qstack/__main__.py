"""``python -m qstack``: the same command line as ``qstack``."""

import sys

from qstack.cli import main

sys.exit(main())
