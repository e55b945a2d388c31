"""The command line's output layer: where tables and messages go, and how wide they are.

On a terminal, rich sizes output to the window. Piped to a file or another program there is no
window, and rich would fall back to 80 columns, wrapping a wide table one word a line; here a
table piped anywhere is printed at its own natural width instead (``COLUMNS`` still wins when
set), so ``workbench ... > report.txt`` reads like the screen.
"""

from __future__ import annotations

import os
from typing import Any

from rich.console import Console
from rich.measure import Measurement
from rich.table import Table


class Output(Console):
    """A rich console that never squeezes a table when nobody is looking at a window."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        if (
            "width" not in kwargs
            and not self.is_terminal
            and "COLUMNS" not in os.environ
            and len(objects) == 1
            and isinstance(objects[0], Table)
        ):
            natural = Measurement.get(self, self.options.update(width=10_000), objects[0])
            if natural.maximum > self.width:
                saved = self.width
                self.width = natural.maximum
                try:
                    super().print(*objects, **kwargs)
                finally:
                    self.width = saved
                return
        super().print(*objects, **kwargs)


out = Output(highlight=False, soft_wrap=True)
"""Standard output: results and tables."""

err = Output(stderr=True, highlight=False, soft_wrap=True)
"""Standard error: one-line errors and progress."""
