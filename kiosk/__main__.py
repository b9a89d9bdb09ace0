"""`python -m kiosk ...`: the same as the `kiosk` command (`wiring/cli/`).

A program, not a module: nothing imports it, so this hand-over to the wiring layer is no edge
of the package graph (tests/test_import_graph.py leaves ``__main__.py`` files out)."""

import sys

from wiring.cli import main

sys.exit(main())
